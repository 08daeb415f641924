// Word-level features against the fixtures (ctx1024 and ctx8): each word's context, token ids,
// word-token count and features, both grids; the prefix-sharing path against the per-word
// loop; the feature cache; errors for bad words.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/features/text/text_grid.hpp"
#include "tribev2/features/text/word_features.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::text;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fixture("text_features/tiny-llama");

struct Case {
  const char* dir;
  std::size_t max_context_len;
};
constexpr Case kCases[] = {{"ctx1024", 1024}, {"ctx8", 8}};

fs::path case_dir(const Case& c) { return fixture(std::string("text_features/") + c.dir); }

// Words with their contexts rebuilt by events::add_context (the fixture's expected values are
// compared separately).
std::vector<events::Word> words_of(const Case& c) {
  auto words = events::read_words_json(case_dir(c) / "words.json");
  for (auto& w : words) w.context.clear();
  events::add_context(words, c.max_context_len);
  return words;
}

const LlamaModel& model() {
  static const LlamaModel m = LlamaModel::load(kDir);
  return m;
}

// max|got - want| / max|want| for each slice along axis `axis` of [a, b, c] tensors (per layer group).
double worst_group_rel(const Tensor& got, const Tensor& want, int axis) {
  EXPECT_EQ(got.shape(), want.shape());
  const auto& s = want.shape();
  double worst = 0;
  for (std::int64_t g = 0; g < s[static_cast<std::size_t>(axis)]; ++g) {
    MaxDiff d;
    for (std::int64_t i = 0; i < s[0]; ++i)
      for (std::int64_t j = 0; j < s[1]; ++j)
        for (std::int64_t k = 0; k < s[2]; ++k) {
          const std::int64_t idx[3] = {i, j, k};
          if (idx[axis] != g) continue;
          const std::int64_t o = (i * s[1] + j) * s[2] + k;
          d.add(got.data<float>()[o], want.data<float>()[o]);
        }
    worst = std::max(worst, d.rel());
  }
  return worst;
}

}  // namespace

TEST(WordFeatures, LayerSubSelectionAndGroups) {
  const LayerGroups g = upstream_layer_groups(29);
  EXPECT_EQ(g.selected, (std::vector<int>{0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 24, 25, 27, 28}));
  ASSERT_EQ(g.groups.size(), 2u);
  EXPECT_EQ(g.groups[0], (std::pair<int, int>{9, 14}));   // h13, h15, h16, h18, h19
  EXPECT_EQ(g.groups[1], (std::pair<int, int>{14, 20}));  // h21, h22, h24, h25, h27, h28
  // The video/audio depths give the groups documented in reference-semantics 3 and 4.
  EXPECT_EQ(upstream_layer_groups(41).selected[5], 11);
  EXPECT_THROW_MSG(upstream_layer_groups(29, 30), "cache_n_layers 30 must be in [2, 29]");
}

TEST(WordFeatures, ContextsTokenIdsAndWordTokenCounts) {
  for (const auto& c : kCases) {
    const json j = json::parse(io::read_text_file(case_dir(c) / "words.json"));
    const auto words = words_of(c);
    ASSERT_EQ(words.size(), j["words"].size());
    for (std::size_t i = 0; i < words.size(); ++i) {
      const auto& e = j["words"][i];
      EXPECT_EQ(words[i].context, e["context"].get<std::string>()) << c.dir << " word " << i;
      const WordTokens wt = word_tokens(model().tokenizer(), words[i]);
      EXPECT_EQ(wt.context_ids, e["token_ids"].get<std::vector<std::int32_t>>()) << c.dir << " word " << i;
      EXPECT_EQ(wt.n_word_tokens, e["n_word_tokens"].get<std::int64_t>()) << c.dir << " word " << i << " '" << words[i].text << "'";
    }
  }
}

TEST(WordFeatures, FeaturesAndGridsMatchTheFixtures) {
  const Context ctx(2);
  for (const auto& c : kCases) {
    const auto words = words_of(c);
    for (const bool share : {true, false}) {
      WordFeatureOptions o;
      o.share_prefixes = share;
      const WordFeatures f = compute_word_features(ctx, model(), words, o);
      const Tensor want = io::read_npy(case_dir(c) / "word_features.npy");
      const double rel = worst_group_rel(f.features, want, 1);
      EXPECT_LE(rel, 1e-4) << c.dir << (share ? " shared" : " per-word");
      std::cout << "[ " << c.dir << (share ? " shared   " : " per-word ") << "] features max rel diff " << rel
                << ", tokens computed " << f.stats.tokens_computed << " (per-word loop " << f.stats.tokens_naive << "), "
                << f.stats.forward_calls << " forward calls\n";
      for (const auto h : f.has_features) EXPECT_EQ(h, 1);
      if (!share) {
        EXPECT_EQ(f.stats.tokens_computed, f.stats.tokens_naive);
      }
      // Both grids, from the same features.
      for (const auto& [start, dur, file] : {std::tuple{0.0, 100.0, "grid_start0_dur100.npy"},
                                             std::tuple{10.25, 12.0, "grid_start10.25_dur12.npy"}}) {
        const Tensor grid = text_grid(words, f.features, f.has_features, start, dur);
        const Tensor gw = io::read_npy(case_dir(c) / file);
        EXPECT_LE(worst_group_rel(grid, gw, 0), 1e-4) << c.dir << " " << file;
        // Bins that are empty in the golden are exactly zero here.
        for (std::int64_t i = 0; i < gw.numel(); ++i)
          if (gw.data<float>()[i] == 0.0f) {
            ASSERT_EQ(grid.data<float>()[i], 0.0f) << file << " element " << i;
          }
      }
    }
  }
}

TEST(WordFeatures, PrefixSharingEqualsPerWordLoopWhenTheWindowSlides) {
  // ctx8 slides after 8 words, ctx1024 never does: the shared path must equal the per-word
  // path in both, and compute far fewer tokens in the second.
  const Context ctx(2);
  for (const auto& c : kCases) {
    const auto words = words_of(c);
    WordFeatureOptions fast, slow;
    slow.share_prefixes = false;
    fast.chunk_tokens = 5;  // also exercise pieces that split a long context
    const WordFeatures a = compute_word_features(ctx, model(), words, fast);
    const WordFeatures b = compute_word_features(ctx, model(), words, slow);
    EXPECT_LE(worst_group_rel(a.features, b.features, 1), 1e-4) << c.dir;
    EXPECT_LT(a.stats.tokens_computed, b.stats.tokens_computed) << c.dir;
    const WordFeatureStats plan = plan_word_features(model().tokenizer(), words);
    EXPECT_EQ(plan.tokens_naive, b.stats.tokens_naive);
    EXPECT_EQ(plan.tokens_computed, a.stats.tokens_computed);
  }
  // ctx1024: every context is a token prefix of the next, so the whole transcript is one pass.
  const WordFeatureStats plan = plan_word_features(model().tokenizer(), words_of(kCases[0]));
  EXPECT_EQ(plan.tokens_computed, 62);
}

TEST(WordFeatures, WordsWithoutContextGetNoFeatures) {
  const Context ctx(2);
  auto words = events::read_words_json(case_dir(kCases[0]) / "words.json");
  words[5].sentence_char.reset();  // unmatched word: upstream drops it (RemoveMissing)
  events::add_context(words, 1024);
  const WordFeatures f = compute_word_features(ctx, model(), words);
  EXPECT_EQ(f.has_features[5], 0);
  EXPECT_EQ(f.stats.words_with_context, 45);
  for (std::int64_t i = 0; i < 2 * 64; ++i) EXPECT_EQ(f.features.data<float>()[5 * 128 + i], 0.0f);
  const Tensor grid = text_grid(words, f.features, f.has_features, 0, 100);
  EXPECT_EQ(grid.shape(), (Shape{2, 64, 200}));
}

TEST(WordFeatures, BadWordsGiveClearErrors) {
  const Context ctx(2);
  auto words = words_of(kCases[0]);
  {
    auto w = words;
    w[2].text.clear();
    EXPECT_THROW_MSG(compute_word_features(ctx, model(), w), "word 2 has empty text");
  }
  {
    auto w = words;
    w[1].duration = std::nan("");
    EXPECT_THROW_MSG(compute_word_features(ctx, model(), w), "word 1 'brings': start and duration must be finite");
  }
  EXPECT_NO_THROW(check_words_within(words, 30.0));
  EXPECT_THROW_MSG(check_words_within(words, 20.0), "outside the media duration [0, 20] s");
  EXPECT_THROW_MSG(text_grid(words, Tensor::zeros(DType::F32, {3, 2, 64}), {}, 0, 10), "features must be float32 [n_words = 46");
  EXPECT_DOUBLE_EQ(words_end(words), words.back().stop());
  // No words at all: an empty result, and an all-zero grid.
  const WordFeatures none = compute_word_features(ctx, model(), {});
  EXPECT_EQ(none.features.shape(), (Shape{0, 2, 64}));
}

TEST(WordFeatures, PartialPrefixReuseWhenTheLastTokenIsRetokenised) {
  // A word split inside a BPE token ("t" + "he", as a transcript may do): the third context
  // ends with " t", the fourth with " the", so they are not token prefixes of one another, yet
  // they share "I see". The shared path must reuse that much of the cache and still equal the
  // per-word loop.
  const std::string s = "I see the end. ";
  std::vector<events::Word> words = {{"I", 0.1, 0.2, s, 0, 0, ""},
                                     {"see", 0.4, 0.2, s, 2, 0, ""},
                                     {"t", 0.7, 0.1, s, 6, 0, ""},
                                     {"he", 0.8, 0.1, s, 7, 0, ""}};
  events::add_context(words, 1024);
  ASSERT_EQ(words[3].context, "I see the");
  const auto a = word_tokens(model().tokenizer(), words[2]).context_ids;
  const auto b = word_tokens(model().tokenizer(), words[3]).context_ids;
  ASSERT_FALSE(a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin()));  // not a token prefix
  const Context ctx(2);
  WordFeatureOptions fast, slow;
  slow.share_prefixes = false;
  const WordFeatures f = compute_word_features(ctx, model(), words, fast);
  const WordFeatures g = compute_word_features(ctx, model(), words, slow);
  EXPECT_LE(worst_group_rel(f.features, g.features, 1), 1e-4);
  EXPECT_EQ(f.stats.forward_calls, 2);  // one chain (words 0-2), then word 3 after the reused "I see"
  EXPECT_LT(f.stats.tokens_computed, static_cast<std::int64_t>(a.size() + b.size()));
}

#include "tribev2/features/text/word_features.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/core/utf8.hpp"
#include "tribev2/io/cache_key.hpp"
#include "weight_ops.hpp"

namespace tribev2::text {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void validate_word(const events::Word& w, std::size_t i) {
  if (!std::isfinite(w.start) || !std::isfinite(w.duration) || w.duration < 0)
    fail("word ", i, " '", w.text, "': start and duration must be finite and duration >= 0 (got ", w.start, ", ",
         w.duration, ")");
  if (w.text.empty()) fail("word ", i, " has empty text (at ", w.start, " s): every Word event needs its text");
}

// A word to compute: its context ids and the span [begin, end) of its tokens.
struct Job {
  std::size_t word;
  std::vector<std::int32_t> ids;
  std::int64_t begin, end;
};

bool is_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::int64_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<std::int64_t>(i);
}

}  // namespace

WordTokens word_tokens(const Tokenizer& tok, const events::Word& w) {
  WordTokens out;
  out.context_ids = tok.encode(w.context);
  // upstream: prefix = context[:-len(word.text)].rstrip(), in code points.
  const std::string_view prefix = utf8::py_rstrip(utf8::py_drop_last(w.context, utf8::length(w.text)));
  const auto n_prefix = prefix.empty() ? 0 : static_cast<std::int64_t>(tok.encode(prefix).size());
  const auto L = static_cast<std::int64_t>(out.context_ids.size());
  out.n_word_tokens = std::max<std::int64_t>(1, L - n_prefix);
  return out;
}

WordFeatureStats plan_word_features(const Tokenizer& tok, const std::vector<events::Word>& words) {
  WordFeatureStats st;
  st.words = static_cast<std::int64_t>(words.size());
  std::vector<std::int32_t> cached;  // tokens held in the key/value cache
  std::vector<Job> chain;
  auto flush = [&] {
    if (chain.empty()) return;
    const auto& target = chain.back().ids;
    std::int64_t reuse = common_prefix(cached, target);
    for (const auto& j : chain) reuse = std::min(reuse, j.begin);
    st.tokens_computed += static_cast<std::int64_t>(target.size()) - reuse;
    st.max_sequence = std::max<std::int64_t>(st.max_sequence, static_cast<std::int64_t>(target.size()));
    cached = target;
    chain.clear();
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].context.empty()) continue;
    ++st.words_with_context;
    WordTokens wt = word_tokens(tok, words[i]);
    const auto L = static_cast<std::int64_t>(wt.context_ids.size());
    st.tokens_naive += L;
    if (!chain.empty() && !is_prefix(chain.back().ids, wt.context_ids)) flush();
    chain.push_back({i, std::move(wt.context_ids), L - wt.n_word_tokens, L});
  }
  flush();
  return st;
}

WordFeatures compute_word_features(const Context& ctx, const LlamaModel& model, const std::vector<events::Word>& words,
                                   const WordFeatureOptions& opt) {
  const double t_start = now_s();
  const LayerGroups layers = upstream_layer_groups(model.n_states());
  const auto G = static_cast<std::int64_t>(layers.groups.size());
  const std::int64_t H = model.hidden_size();
  const auto N = static_cast<std::int64_t>(words.size());
  const bool bf16 = model.compute() == LlamaCompute::BF16;
  TRIBEV2_CHECK(opt.chunk_tokens > 0, "chunk_tokens must be positive");

  WordFeatures out;
  out.features = Tensor::zeros(DType::F32, {N, G, H});
  out.has_features.assign(words.size(), 0);
  out.stats.words = N;
  float* feat = out.features.data<float>();

  // State index -> group (or -1 when the state is not used).
  std::vector<int> state_group(static_cast<std::size_t>(model.n_states()), -1);
  std::vector<int> group_size(static_cast<std::size_t>(G), 0);
  for (std::int64_t g = 0; g < G; ++g)
    for (int k = layers.groups[static_cast<std::size_t>(g)].first; k < layers.groups[static_cast<std::size_t>(g)].second; ++k) {
      state_group[static_cast<std::size_t>(layers.selected[static_cast<std::size_t>(k)])] = static_cast<int>(g);
      ++group_size[static_cast<std::size_t>(g)];
    }

  // Tokenise every context.
  std::vector<Job> jobs;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    validate_word(w, i);
    if (w.context.empty()) continue;
    ++out.stats.words_with_context;
    WordTokens wt = word_tokens(model.tokenizer(), w);
    const auto L = static_cast<std::int64_t>(wt.context_ids.size());
    if (L == 0) fail("word ", i, " '", w.text, "': its context '", w.context, "' tokenizes to nothing");
    out.stats.tokens_naive += L;
    jobs.push_back({i, std::move(wt.context_ids), L - wt.n_word_tokens, L});
  }

  const auto total = static_cast<std::int64_t>(jobs.size());
  std::int64_t done = 0;
  if (opt.progress) opt.progress(0, total);
  KvCache kv;
  std::vector<float> mean(static_cast<std::size_t>(H));
  std::vector<double> sum(static_cast<std::size_t>(H));

  std::size_t next = 0;
  while (next < jobs.size()) {
    // A chain: consecutive contexts, each a token prefix of the next (only one with share off).
    std::size_t last = next;
    if (opt.share_prefixes)
      while (last + 1 < jobs.size() && is_prefix(jobs[last].ids, jobs[last + 1].ids)) ++last;
    const std::vector<std::int32_t>& target = jobs[last].ids;
    const auto Lt = static_cast<std::int64_t>(target.size());
    std::int64_t reuse = opt.share_prefixes ? common_prefix(kv.tokens(), target) : 0;
    for (std::size_t j = next; j <= last; ++j) reuse = std::min(reuse, jobs[j].begin);
    kv.truncate(reuse);

    // Feed [reuse, Lt) in pieces whose boundaries never cut a word's span.
    auto valid_boundary = [&](std::int64_t x) {
      for (std::size_t j = next; j <= last; ++j)
        if (jobs[j].begin < x && x < jobs[j].end) return false;
      return true;
    };
    std::vector<std::int64_t> candidates;
    for (std::size_t j = next; j <= last; ++j) candidates.push_back(jobs[j].end);
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::int64_t pos = reuse;
    while (pos < Lt) {
      std::int64_t stop = -1;
      for (const auto x : candidates)
        if (x > pos && valid_boundary(x)) {
          if (x - pos <= opt.chunk_tokens || stop < 0) stop = x;
          if (x - pos >= opt.chunk_tokens) break;
        }
      if (stop < 0) stop = Lt;
      // Words whose spans end in (pos, stop] are complete after this piece.
      std::vector<std::size_t> finishing;
      for (std::size_t j = next; j <= last; ++j)
        if (jobs[j].end > pos && jobs[j].end <= stop) finishing.push_back(j);
      std::vector<float> acc(finishing.size() * static_cast<std::size_t>(G * H), 0.0f);
      const std::span<const std::int32_t> piece(target.data() + pos, static_cast<std::size_t>(stop - pos));
      model.forward(ctx, piece, kv, [&](int state, std::int64_t pos0, const float* rows, std::int64_t) {
        const int g = state_group[static_cast<std::size_t>(state)];
        if (g < 0) return;
        for (std::size_t f = 0; f < finishing.size(); ++f) {
          const Job& jb = jobs[finishing[f]];
          std::fill(sum.begin(), sum.end(), 0.0);
          for (std::int64_t t = jb.begin; t < jb.end; ++t) {
            const float* r = rows + (t - pos0) * H;
            for (std::int64_t h = 0; h < H; ++h) sum[static_cast<std::size_t>(h)] += r[h];
          }
          const auto n = static_cast<double>(jb.end - jb.begin);
          float* a = acc.data() + (f * static_cast<std::size_t>(G) + static_cast<std::size_t>(g)) * static_cast<std::size_t>(H);
          for (std::int64_t h = 0; h < H; ++h) {
            // Token mean in the model's dtype (upstream: hidden[...].mean(axis=1) before .float()).
            float m = static_cast<float>(sum[static_cast<std::size_t>(h)] / n);
            if (bf16) m = bf16_round(m);
            a[h] += m;
          }
        }
      });
      ++out.stats.forward_calls;
      out.stats.tokens_computed += stop - pos;
      for (std::size_t f = 0; f < finishing.size(); ++f) {
        const std::size_t wi = jobs[finishing[f]].word;
        float* dst = feat + static_cast<std::int64_t>(wi) * G * H;
        for (std::int64_t g = 0; g < G; ++g)
          for (std::int64_t h = 0; h < H; ++h) {
            const float v = acc[(f * static_cast<std::size_t>(G) + static_cast<std::size_t>(g)) * static_cast<std::size_t>(H) +
                                static_cast<std::size_t>(h)] /
                            static_cast<float>(group_size[static_cast<std::size_t>(g)]);
            if (!std::isfinite(v))
              fail("word ", wi, " '", words[wi].text, "': non-finite text feature (the model produced NaN/Inf)");
            dst[g * H + h] = v;
          }
        out.has_features[wi] = 1;
        ++done;
      }
      if (opt.progress) opt.progress(done, total);
      pos = stop;
    }
    out.stats.max_sequence = std::max(out.stats.max_sequence, kv.size());
    if (!opt.share_prefixes) kv.clear();
    next = last + 1;
  }
  out.stats.seconds = now_s() - t_start;
  return out;
}

}  // namespace tribev2::text

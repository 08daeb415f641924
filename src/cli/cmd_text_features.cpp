// `tribev2 text-features`: word events -> Llama 3 word features -> the [2, hidden, T] 2 Hz grid
// of one segment that `tribev2 predict` reads as its text input.
#include <cmath>
#include <optional>
#include <sstream>

#include "common.hpp"
#include "feature_store_arg.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/sentences.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/features/text/text_grid.hpp"
#include "tribev2/features/text/word_features.hpp"
#include "tribev2/io/hash.hpp"
#include "tribev2/pipeline/feature_store.hpp"
#include "tribev2/pipeline/stages.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::cli {

namespace {

struct TextFeaturesArgs {
  std::string llama;
  std::string tokenizer;
  std::string words;
  std::string output;
  std::string word_features;
  std::optional<double> start;
  std::optional<double> duration;
  std::optional<double> media_duration;
  std::size_t max_context_len = 1024;
  std::string llama_precision = "f32";
  std::string cache_dir;
  bool no_cache = false;
  bool per_word = false;
  std::string sentences = "auto";
  std::string text_case = "capitalize";
  std::size_t text_unit_words = pipeline::kTextUnitWords;
};

}  // namespace

void register_text_features(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<TextFeaturesArgs>();
  auto* cmd = app.add_subcommand("text-features", "Llama 3 word features on the 2 Hz grid of a segment (upstream HuggingFaceText)");
  cmd->add_option("--llama", a->llama, "Llama checkpoint folder (config.json, tokenizer.json, *.safetensors), a .gguf file, or a Hub repo id (meta-llama/Llama-3.2-3B)")->required();
  cmd->add_option("--words", a->words, "Word events: words.json ({\"words\": [{text, start, duration, sentence, sentence_char}]}) or words.tsv")->required();
  cmd->add_option("--output", a->output, "Output .npy: float32 [2, hidden, round(2*D)] (the text input of `tribev2 predict`)")->required();
  cmd->add_option("--start", a->start, "Segment start S in seconds (default 0)");
  cmd->add_option("--duration", a->duration, "Segment duration D in seconds (default: end of the last word - S)");
  cmd->add_option("--word-features", a->word_features, "Also write the per-word features [n_words, 2, hidden] (.npy)");
  cmd->add_option("--max-context-len", a->max_context_len, "Word parts of context per word (upstream AddContextToWords; default 1024)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--media-duration", a->media_duration, "Duration of the media the words belong to: words outside it are an error");
  cmd->add_option("--sentences", a->sentences,
                  "When the words carry no sentence/sentence_char (e.g. words.tsv): auto (recogniser segments when "
                  "sequence_id varies, else rules) | segments | rules | given (require them in the file)")
      ->capture_default_str();
  cmd->add_option("--text-case", a->text_case, "Sentence rewrite of AddText for computed sentences: capitalize | upper-first")
      ->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json to use instead of the checkpoint's (or the GGUF vocabulary)");
  cmd->add_option("--llama-precision", a->llama_precision, "f32 (default: float32 compute, bf16 weights widened) or bf16 (emulates a bf16 run)");
  cmd->add_option("--cache-dir", a->cache_dir, kFeatureCacheHelp);
  cmd->add_flag("--no-cache", a->no_cache, "Do not read or write the stage cache");
  cmd->add_option("--text-unit-words", a->text_unit_words,
                  "Words per unit: the features are computed in ranges of this many words (`run --text-unit-words`; "
                  "the same value shares the cache entries)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--per-word", a->per_word, "Run upstream's per-word loop (one forward per word) instead of sharing context prefixes");
  cmd->callback([a, &g] {
    const Context ctx = g.make_context();
    text::LlamaLoadOptions lo;
    if (a->llama_precision == "bf16") lo.compute = text::LlamaCompute::BF16;
    else if (a->llama_precision != "f32") fail("--llama-precision must be f32 or bf16, got '", a->llama_precision, "'");
    if (!a->tokenizer.empty()) lo.tokenizer = a->tokenizer;
    lo.warn = [&g](const std::string& s) { log(g, "warning: " + s); };

    // Option values are checked before any work.
    if (a->sentences != "given") events::parse_sentence_source(a->sentences);
    events::parse_text_case(a->text_case);
    auto words = events::read_words(a->words);
    if (words.empty()) fail(a->words, ": no words");
    bool any_sentence = false;
    for (const auto& w : words) any_sentence |= !w.sentence.empty() && w.sentence_char.has_value();
    if (!any_sentence) {
      // Upstream gives words their sentence with AddText + AddSentenceToWords (spaCy); run our
      // spaCy-free version of those steps, as `tribev2 run` does (docs/pipeline.md).
      if (a->sentences == "given")
        fail(a->words, ": no word has a sentence and sentence_char (--sentences given); give words.json with sentence and "
                       "sentence_char, or let this command compute them with --sentences auto");
      auto source = events::parse_sentence_source(a->sentences);
      bool has_segments = false;
      for (const auto& w : words) has_segments |= w.sequence_id != words.front().sequence_id;
      if (source == events::SentenceSource::Auto)
        source = has_segments ? events::SentenceSource::Segments : events::SentenceSource::Rules;
      events::sort_words(words);
      const auto starts = source == events::SentenceSource::Segments ? events::sentence_starts_from_segments(words)
                                                                    : events::sentence_starts_by_rules(words);
      events::add_text_and_sentences(words, starts, events::parse_text_case(a->text_case));
      log(g, "sentences: " + std::to_string(starts.size()) + " from " + events::to_string(source) +
                 " (the words carry none; AddText + AddSentenceToWords without spaCy, see docs/pipeline.md)");
    }
    if (a->media_duration) {
      if (!(*a->media_duration > 0) || !std::isfinite(*a->media_duration)) fail("--media-duration must be positive");
      text::check_words_within(words, *a->media_duration);
    }
    events::add_context(words, a->max_context_len);

    const double start = a->start.value_or(0.0);
    const double duration = a->duration ? *a->duration : text::words_end(words) - start;
    if (!std::isfinite(start) || !(duration > 0) || !std::isfinite(duration)) {
      std::ostringstream s;
      s << "the segment needs a positive duration: start " << start << " s, duration " << duration
        << " s (the words end at " << text::words_end(words) << " s)";
      fail(s.str());
    }

    const std::filesystem::path model_dir = resolve_model_arg(g, a->llama, hub::llama_files());
    // The word list's features go through the stage cache under `tribev2 run`'s key (the
    // (text, context) list, the model, the extractor and the options that change values), so
    // the model is loaded only when they are not there.
    CommandFeatureStore cache(ctx, a->cache_dir, a->no_cache);
    std::string extractor = pipeline::available_stages().text_id;
    if (a->llama_precision != "f32") extractor += " llama-precision=" + a->llama_precision;
    if (!a->tokenizer.empty()) extractor += " tokenizer=" + io::sha256_file(a->tokenizer);
    if (a->per_word) extractor += " per-word";
    // The model is loaded once, and only when a range is not in the cache.
    std::optional<text::LlamaModel> model;
    std::optional<text::WordFeatureStats> stats;
    Progress progress(g, "text features");
    const auto compute = [&](const std::vector<events::Word>& range, const pipeline::WordProgressFn& on_range) {
      if (!model) {
        model.emplace(text::LlamaModel::load(model_dir, lo));
        log(g, "text-features: " + model->weights().description + ", " + std::to_string(model->n_states()) +
                   " hidden states, " + (model->compute() == text::LlamaCompute::BF16 ? "bf16" : "float32") + " compute");
      }
      text::WordFeatureOptions wo;
      wo.share_prefixes = !a->per_word;
      wo.progress = on_range;
      wo.warn = lo.warn;
      text::WordFeatures f = text::compute_word_features(ctx, *model, range, wo);
      if (!stats) stats.emplace();
      stats->tokens_computed += f.stats.tokens_computed;
      stats->tokens_naive += f.stats.tokens_naive;
      stats->seconds += f.stats.seconds;
      return std::move(f.features);
    };
    const auto on_words = [&progress](std::int64_t done, std::int64_t total) { progress.update(done, total); };
    const Tensor features =
        cache.store() ? cache.store()->text_in_ranges(model_dir, extractor, words, a->text_unit_words, compute, on_words).data
                      : pipeline::compute_in_ranges(words, a->text_unit_words, compute, on_words);
    progress.finish();
    std::vector<std::uint8_t> has_features(words.size(), 0);
    std::size_t with_context = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
      has_features[i] = words[i].context.empty() ? 0 : 1;
      with_context += has_features[i];
    }
    std::ostringstream s;
    s << "text-features: " << words.size() << " words (" << with_context << " with context)";
    if (stats)
      s << ", " << stats->tokens_computed << " tokens through the model (per-word loop: " << stats->tokens_naive << "), "
        << stats->seconds << " s";
    else
      s << ", all from the stage cache " << cache.root().string() << ", 0 tokens through the model";
    log(g, s.str());
    if (with_context < words.size())
      log(g, "warning: " + std::to_string(words.size() - with_context) +
                 " word(s) have no sentence/sentence_char and no context: they get no features (upstream drops them)");

    const Tensor grid = text::text_grid(words, features, has_features, start, duration);
    io::write_npy(a->output, grid);
    log(g, "wrote " + a->output + " " + shape_str(grid.shape()));
    if (!a->word_features.empty()) {
      io::write_npy(a->word_features, features);
      log(g, "wrote " + a->word_features + " " + shape_str(features.shape()));
    }
  });
}

}  // namespace tribev2::cli

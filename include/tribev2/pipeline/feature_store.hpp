// The extractors' entries in the stage cache, for `tribev2 run` AND the extractor commands
// (text-features, audio-features, video-features): one key rule and one entry layout, so that
// features computed by one are found by the other when both use the same cache folder.
//
// Entries (StageCache layout, atomic and verified):
//   text-features/<key>/word_features.npy    [n_words, L, D] for one range of the word list
//                                            (text_ranges: at most `range_words` words each)
//   audio-features/<key>/features.npy        [L, D, round(2 * duration)] for one Audio chunk
//   video-features/<key>/features.npy        the same for one Video chunk
// Keys (io::CacheKey: canonical JSON, SHA-256, the Context's precision stated) hold the
// pipeline format, the content of the input (SHA-256 of the media file; of the (text, context)
// list for text), the chunk's offset and duration, the model folder's fingerprint and the
// extractor's identity: Stages::*_id for run's extractors, plus the options of a command that
// computes something else (e.g. `audio-features --layers`), so those never share an entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/pipeline/cache.hpp"

namespace tribev2::pipeline {

// Words per text unit by default: the text stage is computed in ranges of this many words,
// each its own entry and its own shard unit (docs/cluster.md). A range recomputes at most one
// full context that a single pass would have shared (<= ~3 % more tokens at 128 words).
inline constexpr std::size_t kTextUnitWords = 128;

// [begin, end) word ranges of at most `range_words` words covering n_words (none for 0).
std::vector<std::pair<std::size_t, std::size_t>> text_ranges(std::size_t n_words, std::size_t range_words);

// The ranges' arrays [words_i, L, D] stacked into [n_words, L, D] (clear errors on a mismatch).
Tensor concat_word_features(const std::vector<Tensor>& parts, std::size_t n_words);

// The words of one range.
std::vector<events::Word> range_of(const std::vector<events::Word>& words, std::pair<std::size_t, std::size_t> range);

// (words done, words in total) over the whole list.
using WordProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;
// Computes one range's [range words, L, D]; `progress` sees (done, total) within the range.
using TextRangeFn = std::function<Tensor(const std::vector<events::Word>& range, const WordProgressFn& progress)>;
// The word list range by range (text_ranges), stacked: how `run` and `text-features` compute
// text features, with or without the cache.
Tensor compute_in_ranges(const std::vector<events::Word>& words, std::size_t range_words, const TextRangeFn& compute,
                         const WordProgressFn& progress = {});

class FeatureStore {
 public:
  FeatureStore(const Context& ctx, StageCache& cache) : ctx_(ctx), cache_(cache) {}

  // The stage of a modality's entries: "<modality>-features".
  static std::string stage_of(const std::string& modality) { return modality + "-features"; }

  std::string media_key(const std::string& modality, const std::filesystem::path& model_dir,
                        const std::string& extractor_id, const events::MediaEvent& chunk);
  std::string text_key(const std::filesystem::path& model_dir, const std::string& extractor_id,
                       const std::vector<events::Word>& words);

  // Records a file's SHA-256 already computed elsewhere (the stimulus), so it is not hashed again.
  void know_sha256(const std::filesystem::path& file, const std::string& sha) { file_sha_[file] = sha; }

  std::optional<std::filesystem::path> find(const std::string& modality, const std::string& key) const {
    return cache_.find(stage_of(modality), key);
  }
  // Writes an entry (checks the array's shape first) and returns its folder.
  std::filesystem::path store_media(const std::string& modality, const std::string& key,
                                    const events::MediaEvent& chunk, const Tensor& features);
  std::filesystem::path store_text(const std::string& key, const Tensor& word_features);
  static Tensor read_media(const std::filesystem::path& entry);
  static Tensor read_text(const std::filesystem::path& entry);

  // Find-or-compute: the entry's array and whether it was computed now.
  struct Got {
    Tensor data;
    bool computed = false;
    std::string key;
  };
  Got media_chunk(const std::string& modality, const std::filesystem::path& model_dir, const std::string& extractor_id,
                  const events::MediaEvent& chunk, const std::function<Tensor()>& compute);
  Got text_words(const std::filesystem::path& model_dir, const std::string& extractor_id,
                 const std::vector<events::Word>& words, const std::function<Tensor()>& compute);
  // The whole word list through its ranges (compute_in_ranges), each range's entry found or
  // computed by `compute`.
  struct TextResult {
    Tensor data;  // [n_words, L, D]
    std::size_t ranges = 0, computed = 0;
    std::vector<std::string> keys;  // one per range
  };
  TextResult text_in_ranges(const std::filesystem::path& model_dir, const std::string& extractor_id,
                            const std::vector<events::Word>& words, std::size_t range_words, const TextRangeFn& compute,
                            const WordProgressFn& progress = {});

 private:
  const Context& ctx_;
  StageCache& cache_;
  std::map<std::filesystem::path, std::string> file_sha_, model_fp_;  // memo: hashing is not free
};

}  // namespace tribev2::pipeline

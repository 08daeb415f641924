// On-disk cache of per-word text features, keyed like upstream's (per word text and context)
// plus everything else the value depends on: the model (fingerprint of weights + tokenizer),
// the compute precision and the layer grouping. One .npy [n_groups, hidden] per word, written
// atomically (temporary file + rename), so a rerun costs no model evaluation at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tribev2::text {

class FeatureCache {
 public:
  // `model_key` identifies everything but the word (see word_features.hpp: feature_cache_key).
  FeatureCache(std::filesystem::path dir, std::string model_key);

  // The cached vector of a word, or nullopt (missing, unreadable or of another size; a
  // damaged entry is treated as missing and rewritten on put).
  std::optional<std::vector<float>> get(const std::string& text, const std::string& context, std::int64_t n_groups,
                                        std::int64_t hidden) const;
  void put(const std::string& text, const std::string& context, std::int64_t n_groups, std::int64_t hidden,
           std::span<const float> values) const;
  std::filesystem::path entry_path(const std::string& text, const std::string& context) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string model_key_;
};

}  // namespace tribev2::text

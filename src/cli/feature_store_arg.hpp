// The extractor commands' cache: the pipeline's stage cache and its FeatureStore, the same
// entries and keys `tribev2 run` uses, so `audio-features ... --cache-dir C` followed by
// `run ... --cache-dir C` computes the audio once (and the other way round).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tribev2/core/context.hpp"
#include "tribev2/pipeline/cache.hpp"
#include "tribev2/pipeline/feature_store.hpp"
#include "tribev2/pipeline/interrupt.hpp"

namespace tribev2::cli {

class CommandFeatureStore {
 public:
  // `cache_dir` empty: the user cache root (io::user_cache_dir: $TRIBEV2_CACHE_DIR, else
  // $XDG_CACHE_HOME/tribev2, else ~/.cache/tribev2). `disabled` (--no-cache): no store.
  CommandFeatureStore(const Context& ctx, const std::string& cache_dir, bool disabled);
  pipeline::FeatureStore* store() { return store_ ? &*store_ : nullptr; }
  pipeline::StageCache* cache() { return cache_ ? &*cache_ : nullptr; }
  std::filesystem::path root() const { return cache_ ? cache_->root() : std::filesystem::path(); }

 private:
  pipeline::Cleanup cleanup_;
  std::optional<pipeline::StageCache> cache_;
  std::optional<pipeline::FeatureStore> store_;
};

// The help text of the commands' --cache-dir.
inline constexpr const char* kFeatureCacheHelp =
    "Stage cache folder, shared with `tribev2 run --cache-dir` (default: $TRIBEV2_CACHE_DIR, else "
    "$XDG_CACHE_HOME/tribev2, else ~/.cache/tribev2)";

}  // namespace tribev2::cli

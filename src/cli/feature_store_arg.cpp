#include "feature_store_arg.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/io/cache_key.hpp"

namespace tribev2::cli {

CommandFeatureStore::CommandFeatureStore(const Context& ctx, const std::string& cache_dir, bool disabled) {
  if (disabled) return;
  const std::filesystem::path root = cache_dir.empty() ? io::user_cache_dir("") : std::filesystem::path(cache_dir);
  if (root.empty()) fail("no cache folder: HOME is not set; pass --cache-dir DIR or --no-cache");
  cache_.emplace(root, cleanup_);
  store_.emplace(ctx, *cache_);
}

}  // namespace tribev2::cli

#include "tribev2/features/text/feature_cache.hpp"

#include <cstdlib>

#include "tribev2/io/cache_key.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::text {


namespace fs = std::filesystem;

FeatureCache::FeatureCache(fs::path dir, std::string model_key) : dir_(std::move(dir)), model_key_(std::move(model_key)) {}

fs::path FeatureCache::entry_path(const std::string& text, const std::string& context) const {
  // model_key_ is itself a CacheKey (feature_cache_key) stating the precision.
  const std::string hex =
      io::CacheKey("text-word/2").precision_independent().set("model_key", model_key_).set("text", text).set("context", context).hex();
  return dir_ / hex.substr(0, 2) / (hex.substr(2) + ".npy");
}

std::optional<std::vector<float>> FeatureCache::get(const std::string& text, const std::string& context, std::int64_t n_groups,
                                                    std::int64_t hidden) const {
  const fs::path p = entry_path(text, context);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  try {
    const Tensor t = io::read_npy(p);
    if (t.dtype() != DType::F32 || t.shape() != Shape{n_groups, hidden}) return std::nullopt;
    const auto v = t.f32();
    return std::vector<float>(v.begin(), v.end());
  } catch (const Error&) {
    return std::nullopt;  // damaged entry: recompute (put() replaces it)
  }
}

void FeatureCache::put(const std::string& text, const std::string& context, std::int64_t n_groups, std::int64_t hidden,
                       std::span<const float> values) const {
  TRIBEV2_CHECK(static_cast<std::int64_t>(values.size()) == n_groups * hidden, "FeatureCache::put: ", values.size(),
                " values for [", n_groups, ", ", hidden, "]");
  const Tensor t = Tensor::from<float>({n_groups, hidden}, values);
  const auto bytes = io::encode_npy(t);
  io::write_file_atomic(entry_path(text, context), bytes);
}

}  // namespace tribev2::text

#include "tribev2/io/cache_key.hpp"

#include <cstdlib>

#include "tribev2/core/error.hpp"
#include "tribev2/io/hash.hpp"

namespace tribev2::io {

const char* precision_name(Precision p) { return p == Precision::BF16 ? "bf16" : "f32"; }

CacheKey::CacheKey(std::string_view stage) : description_(nlohmann::json::object()) {
  TRIBEV2_CHECK(!stage.empty(), "CacheKey: empty stage name");
  description_["stage"] = std::string(stage);
}

CacheKey& CacheKey::precision(Precision p) {
  TRIBEV2_CHECK(!precision_stated_, "CacheKey(", description_["stage"].get<std::string>(), "): precision stated twice");
  description_["precision"] = precision_name(p);
  precision_stated_ = true;
  return *this;
}

CacheKey& CacheKey::precision_independent() {
  TRIBEV2_CHECK(!precision_stated_, "CacheKey(", description_["stage"].get<std::string>(), "): precision stated twice");
  description_["precision"] = "independent";
  precision_stated_ = true;
  return *this;
}

CacheKey& CacheKey::set(const std::string& name, nlohmann::json value) {
  TRIBEV2_CHECK(name != "stage" && name != "precision" && !description_.contains(name), "CacheKey(",
                description_["stage"].get<std::string>(), "): field '", name, "' set twice or reserved");
  description_[name] = std::move(value);
  return *this;
}

std::string CacheKey::hex() const {
  TRIBEV2_CHECK(precision_stated_, "CacheKey(", description_["stage"].get<std::string>(),
                "): the key states neither a compute precision nor that the stage has none");
  // nlohmann::json (not ordered_json) keeps object keys sorted: the dump is canonical.
  return sha256_hex(description_.dump());
}

std::filesystem::path user_cache_dir(const std::string& sub) {
  if (const char* d = std::getenv("TRIBEV2_CACHE_DIR"); d && *d) return std::filesystem::path(d) / sub;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return std::filesystem::path(d) / "tribev2" / sub;
  if (const char* d = std::getenv("HOME"); d && *d) return std::filesystem::path(d) / ".cache" / "tribev2" / sub;
  return {};
}

}  // namespace tribev2::io

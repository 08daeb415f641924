// The one builder of cache keys. Every cache of the project (the per-stage entries of
// `tribev2 run`, the extractors' own per-word / per-chunk caches) names its entries with a
// CacheKey, so that the rules hold everywhere:
//  - the key is the SHA-256 of a canonical JSON object (sorted keys, compact dump), so field
//    order never matters and fields cannot run into each other;
//  - every key states the compute precision (`--precision f32|bf16` changes the GEMMs, hence
//    the results) or says explicitly that its stage does not compute with it; hex() fails on a
//    key that did neither, so a new stage cannot forget it;
//  - everything else that changes results is added with set(): content hashes of the inputs,
//    model fingerprints, options, implementation ids.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tribev2/core/context.hpp"

namespace tribev2::io {

class CacheKey {
 public:
  // `stage` names the cache and the version of its entry format ("text-features/2").
  explicit CacheKey(std::string_view stage);

  // The compute precision the results depend on.
  CacheKey& precision(Precision p);
  CacheKey& precision(const Context& ctx) { return precision(ctx.precision()); }
  // The stage computes nothing with the Context's GEMMs (decoding, TTS, ASR, events): its
  // results are the same under --precision bf16 and f32.
  CacheKey& precision_independent();

  // A field of the description (any value nlohmann::json holds; doubles are written with
  // round-trip precision). Setting a name twice is an internal error.
  CacheKey& set(const std::string& name, nlohmann::json value);

  const nlohmann::json& description() const { return description_; }
  // 64 lowercase hex digits.
  std::string hex() const;

 private:
  nlohmann::json description_;
  bool precision_stated_ = false;
};

// The precision as it appears in keys and entry metadata: "f32" or "bf16".
const char* precision_name(Precision p);

// The per-user cache folder of the extractor commands, `sub` under the one root
// $TRIBEV2_CACHE_DIR, else $XDG_CACHE_HOME/tribev2, else ~/.cache/tribev2; empty when none of
// them is set (the caller then caches nothing).
std::filesystem::path user_cache_dir(const std::string& sub);

}  // namespace tribev2::io

#include "tribev2/pipeline/feature_store.hpp"

#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/hash.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

std::string FeatureStore::media_key(const std::string& modality, const fs::path& model_dir,
                                    const std::string& extractor_id, const events::MediaEvent& c) {
  auto& fp = model_fp_[model_dir];
  if (fp.empty()) fp = fingerprint_path(model_dir);
  auto& sha = file_sha_[c.filepath];
  if (sha.empty()) sha = sha256_file(c.filepath);
  return CacheKey(stage_of(modality))
      .precision(ctx_)
      .set("format", kPipelineFormat)
      .set("media_sha256", sha)
      .set("offset", c.offset)
      .set("duration", c.duration)
      .set("model", fp)
      .set("extractor", extractor_id)
      .hex();
}

std::string FeatureStore::text_key(const fs::path& model_dir, const std::string& extractor_id,
                                   const std::vector<events::Word>& words) {
  json ctx_list = json::array();
  for (const auto& w : words) ctx_list.push_back({w.text, w.context});
  auto& fp = model_fp_[model_dir];
  if (fp.empty()) fp = fingerprint_path(model_dir);
  return CacheKey(stage_of("text"))
      .precision(ctx_)
      .set("format", kPipelineFormat)
      .set("words_sha256", sha256_hex(ctx_list.dump()))
      .set("model", fp)
      .set("extractor", extractor_id)
      .hex();
}

fs::path FeatureStore::store_media(const std::string& modality, const std::string& key, const events::MediaEvent& c,
                                   const Tensor& a) {
  TRIBEV2_CHECK(a.dtype() == DType::F32 && a.ndim() == 3, modality, " extractor returned ", shape_str(a.shape()),
                " for the chunk [", c.offset, ", +", c.duration, ") s of ", c.filepath.string(),
                " (expected float32 [layer groups, hidden, bins])");
  return cache_.store(stage_of(modality), key, {{"offset", c.offset}, {"duration", c.duration}, {"shape", a.shape()}},
                      [&](const fs::path& d) { io::write_npy(d / "features.npy", a); });
}

fs::path FeatureStore::store_text(const std::string& key, const Tensor& wf) {
  TRIBEV2_CHECK(wf.dtype() == DType::F32 && wf.ndim() == 3, "text extractor returned ", shape_str(wf.shape()),
                " (expected float32 [words, layer groups, hidden])");
  return cache_.store(stage_of("text"), key, {{"words", wf.dim(0)}, {"shape", wf.shape()}},
                      [&](const fs::path& d) { io::write_npy(d / "word_features.npy", wf); });
}

Tensor FeatureStore::read_media(const fs::path& entry) { return io::read_npy(entry / "features.npy"); }
Tensor FeatureStore::read_text(const fs::path& entry) { return io::read_npy(entry / "word_features.npy"); }

FeatureStore::Got FeatureStore::media_chunk(const std::string& modality, const fs::path& model_dir,
                                            const std::string& extractor_id, const events::MediaEvent& chunk,
                                            const std::function<Tensor()>& compute) {
  Got g;
  g.key = media_key(modality, model_dir, extractor_id, chunk);
  auto dir = find(modality, g.key);
  if (!dir) {
    g.computed = true;
    dir = store_media(modality, g.key, chunk, compute());
  }
  g.data = read_media(*dir);
  return g;
}

FeatureStore::Got FeatureStore::text_words(const fs::path& model_dir, const std::string& extractor_id,
                                           const std::vector<events::Word>& words,
                                           const std::function<Tensor()>& compute) {
  Got g;
  g.key = text_key(model_dir, extractor_id, words);
  auto dir = find("text", g.key);
  if (!dir) {
    g.computed = true;
    const Tensor wf = compute();
    TRIBEV2_CHECK(wf.ndim() == 3 && wf.dim(0) == static_cast<std::int64_t>(words.size()), "text extractor returned ",
                  shape_str(wf.shape()), " for ", words.size(), " words");
    dir = store_text(g.key, wf);
  }
  g.data = read_text(*dir);
  return g;
}

}  // namespace tribev2::pipeline

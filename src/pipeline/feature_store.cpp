#include "tribev2/pipeline/feature_store.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/hash.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::pair<std::size_t, std::size_t>> text_ranges(std::size_t n_words, std::size_t range_words) {
  TRIBEV2_CHECK(range_words >= 1, "text ranges: the number of words per unit must be at least 1");
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t a = 0; a < n_words; a += range_words) out.emplace_back(a, std::min(n_words, a + range_words));
  return out;
}

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

std::vector<events::Word> range_of(const std::vector<events::Word>& words, std::pair<std::size_t, std::size_t> r) {
  return {words.begin() + static_cast<std::ptrdiff_t>(r.first), words.begin() + static_cast<std::ptrdiff_t>(r.second)};
}

Tensor compute_in_ranges(const std::vector<events::Word>& words, std::size_t range_words, const TextRangeFn& compute,
                         const WordProgressFn& progress) {
  const auto n = static_cast<std::int64_t>(words.size());
  std::vector<Tensor> parts;
  for (const auto& r : text_ranges(words.size(), range_words)) {
    const auto base = static_cast<std::int64_t>(r.first);
    parts.push_back(compute(range_of(words, r), [&](std::int64_t done, std::int64_t) {
      if (progress) progress(base + done, n);
    }));
    if (progress) progress(static_cast<std::int64_t>(r.second), n);
  }
  return concat_word_features(parts, words.size());
}

FeatureStore::TextResult FeatureStore::text_in_ranges(const fs::path& model_dir, const std::string& extractor_id,
                                                     const std::vector<events::Word>& words, std::size_t range_words,
                                                     const TextRangeFn& compute, const WordProgressFn& progress) {
  TextResult r;
  r.data = compute_in_ranges(
      words, range_words,
      [&](const std::vector<events::Word>& range, const WordProgressFn& on_range) {
        Got g = text_words(model_dir, extractor_id, range, [&] { return compute(range, on_range); });
        ++r.ranges;
        r.computed += g.computed ? 1 : 0;
        r.keys.push_back(g.key);
        return std::move(g.data);
      },
      progress);
  return r;
}

Tensor concat_word_features(const std::vector<Tensor>& parts, std::size_t n_words) {
  TRIBEV2_CHECK(!parts.empty(), "text features: no word ranges for ", n_words, " words");
  const Tensor& p0 = parts.front();
  TRIBEV2_CHECK(p0.ndim() == 3, "text features: a range is ", shape_str(p0.shape()), ", expected [words, L, D]");
  const std::int64_t L = p0.dim(1), D = p0.dim(2);
  Tensor out = Tensor::zeros(DType::F32, {static_cast<std::int64_t>(n_words), L, D});
  std::int64_t row = 0;
  for (const auto& p : parts) {
    TRIBEV2_CHECK(p.dtype() == DType::F32 && p.ndim() == 3 && p.dim(1) == L && p.dim(2) == D &&
                      row + p.dim(0) <= static_cast<std::int64_t>(n_words),
                  "text features: word ranges disagree in shape (", shape_str(p.shape()), " after ", shape_str(p0.shape()),
                  ")");
    std::copy_n(p.data<float>(), p.numel(), out.data<float>() + row * L * D);
    row += p.dim(0);
  }
  TRIBEV2_CHECK(row == static_cast<std::int64_t>(n_words), "text features: the ranges hold ", row, " words, expected ",
                n_words);
  return out;
}

}  // namespace tribev2::pipeline

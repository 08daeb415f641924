// The C API: a thin shell over model_io + model::predict that turns exceptions into codes.
// Each model handle owns its Context, so the thread pool is built once per model, not per call.
#include "tribev2/tribev2.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "tribev2/core/context.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/model_io/load.hpp"
#include "tribev2/roi/atlas.hpp"
#include "tribev2/roi/summary.hpp"
#include "tribev2/viz/fsaverage.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <map>
#include <optional>
#include <vector>

struct tribev2_model {
  tribev2::model_io::LoadedModel loaded;
  std::unique_ptr<tribev2::Context> ctx;
  // One prediction at a time per handle: the pool and the model's lazily packed weights are shared.
  mutable std::mutex busy;
};

// An atlas with one precomputed Summarizer per hemisphere choice (names stay valid while it lives).
struct tribev2_atlas {
  tribev2::roi::Atlas atlas;
  std::array<std::optional<tribev2::roi::Summarizer>, 4> summarizers;
};

struct tribev2_prediction {
  tribev2::model::Prediction p;
};

namespace {
int report(char* err, std::size_t len, const char* msg) {
  if (err && len > 0) {
    std::strncpy(err, msg, len - 1);
    err[len - 1] = '\0';
  }
  return 1;
}

template <class Fn>
int guarded(char* err, std::size_t len, Fn fn) {
  try {
    fn();
    if (err && len > 0) err[0] = '\0';
    return 0;
  } catch (const std::bad_alloc&) {
    return report(err, len, "out of memory");
  } catch (const std::exception& e) {
    return report(err, len, e.what());
  } catch (...) {
    return report(err, len, "unknown error");
  }
}

tribev2::model::Prediction run_predict(const tribev2_model& m, const tribev2_features* features, int n_features,
                                       const tribev2_predict_options& po) {
  std::vector<tribev2::model::FeatureSeries> series;
  for (int i = 0; i < n_features; ++i) {
    const auto& f = features[i];
    TRIBEV2_CHECK(f.modality && f.data && f.n_layers > 0 && f.dim > 0 && f.n_steps > 0, "tribev2_predict: features[", i,
                  "] is incomplete (modality, data and positive n_layers, dim, n_steps are required)");
    series.push_back({f.modality, tribev2::Tensor::view(tribev2::DType::F32, {f.n_layers, f.dim, f.n_steps}, f.data, nullptr)});
  }
  tribev2::model::PredictOptions o;
  if (po.duration_s > 0) o.duration = po.duration_s;
  o.overlap_trs = po.overlap_trs;
  if (po.subject >= 0) o.subject = po.subject;
  o.batch_size = po.batch_size > 0 ? po.batch_size : 8;
  o.pad = po.pad != 0;
  o.release_consumed_inputs = false;  // the caller's memory, not a file mapping
  std::lock_guard lock(m.busy);
  return tribev2::model::predict(*m.ctx, *m.loaded.model, m.loaded.data, series, o);
}
}  // namespace

extern "C" {

const char* tribev2_version(void) { return TRIBEV2_C_VERSION; }

tribev2_open_options tribev2_open_options_default(void) { return {0, "f32", "auto"}; }

int tribev2_model_open(const char* path, const tribev2_open_options* options, tribev2_model** out, char* err,
                       size_t err_len) {
  if (!path || !out) return report(err, err_len, "tribev2_model_open: null argument");
  *out = nullptr;
  const tribev2_open_options o = options ? *options : tribev2_open_options_default();
  return guarded(err, err_len, [&] {
    const std::string precision = o.precision ? o.precision : "f32";
    const std::string mode = o.subject_mode ? o.subject_mode : "auto";
    tribev2::Precision p = tribev2::Precision::F32;
    if (precision == "bf16") p = tribev2::Precision::BF16;
    else if (precision != "f32") tribev2::fail("tribev2_model_open: precision must be \"f32\" or \"bf16\", got '", precision, "'");
    tribev2::model_io::LoadOptions lo;
    if (mode == "config") lo.subject_mode = tribev2::model_io::SubjectMode::Config;
    else if (mode == "average") lo.subject_mode = tribev2::model_io::SubjectMode::Average;
    else if (mode != "auto")
      tribev2::fail("tribev2_model_open: subject_mode must be \"auto\", \"config\" or \"average\", got '", mode, "'");
    auto m = std::make_unique<tribev2_model>();
    tribev2::hub::ResolveOptions ro;
    ro.include = tribev2::hub::brain_model_files();
    m->loaded = tribev2::model_io::load_brain_model(tribev2::hub::resolve_model(path, ro), lo);
    m->ctx = std::make_unique<tribev2::Context>(o.n_threads, p);
    *out = m.release();
  });
}

int tribev2_model_load(const char* path, tribev2_model** out, char* err, size_t err_len) {
  return tribev2_model_open(path, nullptr, out, err, err_len);
}

void tribev2_model_free(tribev2_model* model) { std::unique_ptr<tribev2_model> owned(model); }

int64_t tribev2_model_n_outputs(const tribev2_model* model) { return model ? model->loaded.model->n_outputs() : 0; }

int tribev2_model_n_modalities(const tribev2_model* model) {
  return model ? static_cast<int>(model->loaded.model->build_args().feature_dims.size()) : 0;
}

const char* tribev2_model_modality(const tribev2_model* model, int i) {
  if (!model || i < 0 || i >= tribev2_model_n_modalities(model)) return nullptr;
  return model->loaded.model->build_args().feature_dims[static_cast<std::size_t>(i)].modality.c_str();
}

int64_t tribev2_model_n_subjects(const tribev2_model* model) { return model ? model->loaded.model->n_subject_rows() : 0; }

int tribev2_model_needs_subject(const tribev2_model* model) { return model && model->loaded.model->needs_subject_ids() ? 1 : 0; }

const char* tribev2_model_subject_mode(const tribev2_model* model) {
  if (!model) return nullptr;
  return model->loaded.model->needs_subject_ids() ? "per-subject" : "average";
}

const char* tribev2_model_precision(const tribev2_model* model) {
  if (!model) return nullptr;
  return model->ctx->precision() == tribev2::Precision::BF16 ? "bf16" : "f32";
}

int tribev2_model_n_threads(const tribev2_model* model) { return model ? model->ctx->threads() : 0; }

int64_t tribev2_model_segment_trs(const tribev2_model* model) { return model ? model->loaded.data.duration_trs : 0; }

double tribev2_model_tr_seconds(const tribev2_model* model) { return model ? model->loaded.data.tr() : 0.0; }

tribev2_predict_options tribev2_predict_options_default(void) { return {0.0, 0, -1, 8, 0}; }

int tribev2_predict_ex(const tribev2_model* model, const tribev2_features* features, int n_features,
                       const tribev2_predict_options* options, tribev2_prediction** out, char* err, size_t err_len) {
  if (!model || !features || n_features <= 0 || !out)
    return report(err, err_len, "tribev2_predict_ex: null argument or no features");
  *out = nullptr;
  const tribev2_predict_options po = options ? *options : tribev2_predict_options_default();
  return guarded(err, err_len, [&] {
    auto r = std::make_unique<tribev2_prediction>();
    r->p = run_predict(*model, features, n_features, po);
    *out = r.release();
  });
}

int64_t tribev2_prediction_n_rows(const tribev2_prediction* p) { return p ? p->p.preds.dim(0) : 0; }
int64_t tribev2_prediction_n_outputs(const tribev2_prediction* p) { return p ? p->p.preds.dim(1) : 0; }
int64_t tribev2_prediction_n_segments(const tribev2_prediction* p) {
  return p ? static_cast<int64_t>(p->p.segments.size()) : 0;
}
const float* tribev2_prediction_data(const tribev2_prediction* p) { return p ? p->p.preds.data<float>() : nullptr; }

double tribev2_prediction_row_start(const tribev2_prediction* p, int64_t i) {
  if (!p || i < 0 || i >= static_cast<int64_t>(p->p.rows.size())) return std::numeric_limits<double>::quiet_NaN();
  return p->p.rows[static_cast<std::size_t>(i)].start;
}

double tribev2_prediction_row_end(const tribev2_prediction* p, int64_t i) {
  if (!p || i < 0 || i >= static_cast<int64_t>(p->p.rows.size())) return std::numeric_limits<double>::quiet_NaN();
  return p->p.rows[static_cast<std::size_t>(i)].end;
}

void tribev2_prediction_free(tribev2_prediction* p) { std::unique_ptr<tribev2_prediction> owned(p); }

int tribev2_predict(const tribev2_model* model, const tribev2_features* features, int n_features, double duration_s,
                    int n_threads, float** out_preds, int64_t* out_rows, char* err, size_t err_len) {
  (void)n_threads;  // the model's pool is used (see tribev2.h)
  if (!model || !features || n_features <= 0 || !out_preds || !out_rows)
    return report(err, err_len, "tribev2_predict: null argument or no features");
  *out_preds = nullptr;
  *out_rows = 0;
  return guarded(err, err_len, [&] {
    tribev2_predict_options po = tribev2_predict_options_default();
    po.duration_s = duration_s;
    const auto p = run_predict(*model, features, n_features, po);
    auto* buf = static_cast<float*>(std::malloc(p.preds.nbytes() ? p.preds.nbytes() : 1));
    if (!buf) throw std::bad_alloc();
    std::memcpy(buf, p.preds.raw(), p.preds.nbytes());
    *out_preds = buf;
    *out_rows = p.preds.dim(0);
  });
}

void tribev2_free_floats(float* p) { std::free(p); }

}  // extern "C"

namespace {

std::optional<tribev2::roi::HemiSel> hemi_of(const char* hemi) {
  const std::string h = hemi ? hemi : "both";
  if (h == "left") return tribev2::roi::HemiSel::Left;
  if (h == "right") return tribev2::roi::HemiSel::Right;
  if (h == "both") return tribev2::roi::HemiSel::Both;
  if (h == "both_separate") return tribev2::roi::HemiSel::BothSeparate;
  return std::nullopt;
}

tribev2::roi::HemiSel checked_hemi(const char* hemi) {
  if (auto h = hemi_of(hemi)) return *h;
  return tribev2::roi::parse_hemi(hemi);  // throws with the list of choices
}

const tribev2::roi::Summarizer* summarizer(const tribev2_atlas* a, const char* hemi) {
  const auto h = hemi_of(hemi);
  if (!a || !h || !a->summarizers[static_cast<std::size_t>(*h)]) return nullptr;
  return &*a->summarizers[static_cast<std::size_t>(*h)];
}

// The summarizer of `hemi`, or the error that building it gives.
const tribev2::roi::Summarizer& checked_summarizer(const tribev2_atlas* a, const char* hemi) {
  const tribev2::roi::HemiSel h = checked_hemi(hemi);
  if (const auto* s = summarizer(a, hemi)) return *s;
  (void)tribev2::roi::Summarizer(a->atlas, h);  // throws with the reason
  tribev2::fail("atlas: no summaries for hemi '", hemi, "'");
}

}  // namespace

extern "C" {

int tribev2_atlas_load(const char* spec, const char* data_dir, tribev2_atlas** out, char* err, size_t err_len) {
  if (out) *out = nullptr;
  return guarded(err, err_len, [&] {
    TRIBEV2_CHECK(spec != nullptr && out != nullptr, "tribev2_atlas_load: spec and out must not be NULL");
    auto a = std::make_unique<tribev2_atlas>();
    a->atlas = tribev2::roi::load_atlas(spec, tribev2::viz::resolve_mesh_dir(data_dir ? data_dir : ""));
    using H = tribev2::roi::HemiSel;
    for (H h : {H::Left, H::Right, H::Both, H::BothSeparate}) {
      try {  // "both" needs every left key on the right too (upstream's KeyError otherwise)
        a->summarizers[static_cast<std::size_t>(h)].emplace(a->atlas, h);
      } catch (const tribev2::Error&) {
      }
    }
    *out = a.release();
  });
}

void tribev2_atlas_free(tribev2_atlas* atlas) { delete atlas; }

int64_t tribev2_atlas_n_rois(const tribev2_atlas* atlas, const char* hemi) {
  const auto* s = summarizer(atlas, hemi);
  return s ? static_cast<int64_t>(s->names().size()) : -1;
}

const char* tribev2_atlas_roi_name(const tribev2_atlas* atlas, const char* hemi, int64_t i) {
  const auto* s = summarizer(atlas, hemi);
  if (!s || i < 0 || i >= static_cast<int64_t>(s->names().size())) return nullptr;
  return s->names()[static_cast<std::size_t>(i)].c_str();
}

int tribev2_atlas_summarize(const tribev2_atlas* atlas, const char* hemi, const float* values, int64_t n_rows,
                            double* out, char* err, size_t err_len) {
  return guarded(err, err_len, [&] {
    TRIBEV2_CHECK(atlas && values && out, "tribev2_atlas_summarize: atlas, values and out must not be NULL");
    TRIBEV2_CHECK(n_rows >= 0, "tribev2_atlas_summarize: n_rows must be >= 0, got ", n_rows);
    const auto* s = &checked_summarizer(atlas, hemi);
    const auto rows = s->summarize_rows(
        std::span<const float>(values, static_cast<std::size_t>(n_rows) * tribev2::viz::kFsaverage5Outputs), n_rows);
    for (const auto& r : rows) out = std::copy(r.begin(), r.end(), out);
  });
}

int tribev2_atlas_topk(const tribev2_atlas* atlas, const char* hemi, const float* map, int k, int64_t* out_idx,
                       int* n_out, char* err, size_t err_len) {
  return guarded(err, err_len, [&] {
    TRIBEV2_CHECK(atlas && map && out_idx && n_out, "tribev2_atlas_topk: atlas, map, out_idx and n_out must not be NULL");
    TRIBEV2_CHECK(k >= 0, "tribev2_atlas_topk: k must be >= 0, got ", k);
    const auto* s = &checked_summarizer(atlas, hemi);
    const auto values = s->summarize(std::span<const float>(map, tribev2::viz::kFsaverage5Outputs));
    const auto top = tribev2::roi::topk_names(s->names(), values, k);
    std::map<std::string, int64_t> index;
    for (std::size_t i = 0; i < s->names().size(); ++i) index.emplace(s->names()[i], static_cast<int64_t>(i));
    for (std::size_t i = 0; i < top.size(); ++i) out_idx[i] = index.at(top[i]);
    *n_out = static_cast<int>(top.size());
  });
}

int tribev2_atlas_roi_indices(const tribev2_atlas* atlas, const char* const* rois, int n_rois, const char* hemi,
                              int32_t** out, int64_t* n_out, char* err, size_t err_len) {
  if (out) *out = nullptr;
  return guarded(err, err_len, [&] {
    TRIBEV2_CHECK(atlas && rois && out && n_out, "tribev2_atlas_roi_indices: atlas, rois, out and n_out must not be NULL");
    TRIBEV2_CHECK(n_rois > 0, "tribev2_atlas_roi_indices: n_rois must be > 0, got ", n_rois);
    std::vector<std::string> pats;
    for (int i = 0; i < n_rois; ++i) {
      TRIBEV2_CHECK(rois[i] != nullptr, "tribev2_atlas_roi_indices: rois[", i, "] is NULL");
      pats.emplace_back(rois[i]);
    }
    const auto idx = tribev2::roi::roi_indices(atlas->atlas, pats, checked_hemi(hemi));
    auto* p = static_cast<int32_t*>(std::malloc(std::max<std::size_t>(1, idx.size()) * sizeof(int32_t)));
    if (!p) throw std::bad_alloc();
    std::copy(idx.begin(), idx.end(), p);
    *out = p;
    *n_out = static_cast<int64_t>(idx.size());
  });
}

void tribev2_free_indices(int32_t* p) { std::free(p); }

}  // extern "C"

// The C API: a thin shell over model_io + model::predict that turns exceptions into codes.
#include "tribev2/tribev2.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "tribev2/core/error.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/model_io/load.hpp"

struct tribev2_model {
  tribev2::model_io::LoadedModel loaded;
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
}  // namespace

extern "C" {

int tribev2_model_load(const char* path, tribev2_model** out, char* err, size_t err_len) {
  if (!path || !out) return report(err, err_len, "tribev2_model_load: null argument");
  *out = nullptr;
  return guarded(err, err_len, [&] {
    auto m = std::make_unique<tribev2_model>();
    m->loaded = tribev2::model_io::load_brain_model(tribev2::hub::resolve_model(path, {.include = tribev2::hub::brain_model_files()}));
    *out = m.release();
  });
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

int tribev2_predict(const tribev2_model* model, const tribev2_features* features, int n_features, double duration_s,
                    int n_threads, float** out_preds, int64_t* out_rows, char* err, size_t err_len) {
  if (!model || !features || n_features <= 0 || !out_preds || !out_rows)
    return report(err, err_len, "tribev2_predict: null argument or no features");
  *out_preds = nullptr;
  *out_rows = 0;
  return guarded(err, err_len, [&] {
    std::vector<tribev2::model::FeatureSeries> series;
    for (int i = 0; i < n_features; ++i) {
      const auto& f = features[i];
      TRIBEV2_CHECK(f.modality && f.data && f.n_layers > 0 && f.dim > 0 && f.n_steps > 0, "tribev2_predict: features[", i,
                    "] is incomplete");
      series.push_back({f.modality, tribev2::Tensor::view(tribev2::DType::F32, {f.n_layers, f.dim, f.n_steps}, f.data, nullptr)});
    }
    tribev2::model::PredictOptions o;
    if (duration_s > 0) o.duration = duration_s;
    const tribev2::Context ctx(n_threads);
    const auto p = tribev2::model::predict(ctx, *model->loaded.model, model->loaded.data, series, o);
    auto* buf = static_cast<float*>(std::malloc(p.preds.nbytes() ? p.preds.nbytes() : 1));
    if (!buf) throw std::bad_alloc();
    std::memcpy(buf, p.preds.raw(), p.preds.nbytes());
    *out_preds = buf;
    *out_rows = p.preds.dim(0);
  });
}

void tribev2_free_floats(float* p) { std::free(p); }

}  // extern "C"

/* tribev2 C API: load the TRIBE v2 brain model and predict brain maps from 2 Hz feature time
 * series, from any language with a C FFI. Every function returns 0 on success and a non-zero
 * code on failure, with a one-line message written into `err` (when err_len > 0). Buffers the
 * library returns are freed with tribev2_free_floats. */
#ifndef TRIBEV2_H
#define TRIBEV2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tribev2_model tribev2_model;

/* path: a model folder, model.safetensors or best.ckpt (config.yaml beside it). */
int tribev2_model_load(const char* path, tribev2_model** out, char* err, size_t err_len);
void tribev2_model_free(tribev2_model* model);

/* Number of output vertices (20484 for the released model) and the model's modalities. */
int64_t tribev2_model_n_outputs(const tribev2_model* model);
int tribev2_model_n_modalities(const tribev2_model* model);
const char* tribev2_model_modality(const tribev2_model* model, int i); /* NULL if out of range */

/* One modality's features: float32 [n_layers, dim, n_steps] in C order at 2 Hz. */
typedef struct {
  const char* modality;
  const float* data;
  int64_t n_layers;
  int64_t dim;
  int64_t n_steps;
} tribev2_features;

/* TribeModel.predict: *out_preds receives float32 [*out_rows, n_outputs] (free with
 * tribev2_free_floats). duration_s <= 0 means n_steps / 2. n_threads <= 0 uses all cores. */
int tribev2_predict(const tribev2_model* model, const tribev2_features* features, int n_features,
                    double duration_s, int n_threads, float** out_preds, int64_t* out_rows,
                    char* err, size_t err_len);

void tribev2_free_floats(float* p);

#ifdef __cplusplus
}
#endif

#endif /* TRIBEV2_H */

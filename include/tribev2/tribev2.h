/* tribev2 C API: load the TRIBE v2 brain model and predict brain maps from 2 Hz feature time
 * series, from any language with a C FFI. Every function that can fail returns 0 on success and
 * a non-zero code on failure, with a one-line message written into `err` (when err_len > 0).
 *
 * A model handle owns its execution context: the thread pool is created once, when the model is
 * opened, and reused by every prediction. Predictions on one handle are serialised (a handle may
 * be shared between threads; open one handle per thread for parallel work). */
#ifndef TRIBEV2_H
#define TRIBEV2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library version ("MAJOR.MINOR.PATCH"); a static string. */
const char* tribev2_version(void);

typedef struct tribev2_model tribev2_model;

/* How the model is opened. Zero-initialise (or use tribev2_open_options_default) and set what
 * differs. */
typedef struct {
  int n_threads;          /* threads of the model's pool; <= 0: all cores */
  const char* precision;  /* "f32" (default when NULL) or "bf16" */
  const char* subject_mode; /* "auto" (default when NULL), "config" or "average" (see docs/models) */
} tribev2_open_options;

tribev2_open_options tribev2_open_options_default(void);

/* path: a model folder, model.safetensors or best.ckpt (config.yaml beside it). options may be
 * NULL (defaults). */
int tribev2_model_open(const char* path, const tribev2_open_options* options, tribev2_model** out, char* err,
                       size_t err_len);
/* tribev2_model_open with default options (all cores, f32, auto subject mode). */
int tribev2_model_load(const char* path, tribev2_model** out, char* err, size_t err_len);
void tribev2_model_free(tribev2_model* model);

/* Number of output vertices (20484 for the released model) and the model's modalities. */
int64_t tribev2_model_n_outputs(const tribev2_model* model);
int tribev2_model_n_modalities(const tribev2_model* model);
const char* tribev2_model_modality(const tribev2_model* model, int i); /* NULL if out of range */
/* Rows of the subject-layer weights (per-subject models: one per subject, the valid range of
 * tribev2_predict_options.subject; average-subject models: the rows stored, averaged or the
 * average row), whether a subject must be chosen, and the resulting mode: "average" (one map for
 * the average subject) or "per-subject". */
int64_t tribev2_model_n_subjects(const tribev2_model* model);
int tribev2_model_needs_subject(const tribev2_model* model);
const char* tribev2_model_subject_mode(const tribev2_model* model);
/* "f32" or "bf16"; threads of the model's pool. */
const char* tribev2_model_precision(const tribev2_model* model);
int tribev2_model_n_threads(const tribev2_model* model);
/* Segment length in TRs (the model's pooled output timesteps); overlap_trs must be below it.
 * TR in seconds. */
int64_t tribev2_model_segment_trs(const tribev2_model* model);
double tribev2_model_tr_seconds(const tribev2_model* model);

/* One modality's features: float32 [n_layers, dim, n_steps] in C order at 2 Hz. */
typedef struct {
  const char* modality;
  const float* data;
  int64_t n_layers;
  int64_t dim;
  int64_t n_steps;
} tribev2_features;

typedef struct {
  double duration_s;   /* stimulus length; <= 0 means n_steps / 2 */
  int64_t overlap_trs; /* overlapping segments (predict --overlap-trs); 0 = back to back */
  int64_t subject;     /* subject row for per-subject models; < 0 = none */
  int batch_size;      /* segments per forward pass; <= 0 means 8 */
  int pad;             /* non-zero: zero-pad modalities shorter than the longest */
} tribev2_predict_options;

tribev2_predict_options tribev2_predict_options_default(void);

/* The result of one prediction: rows [n_rows, n_outputs] and each row's time window. */
typedef struct tribev2_prediction tribev2_prediction;

/* TribeModel.predict. options may be NULL (defaults). Free *out with tribev2_prediction_free. */
int tribev2_predict_ex(const tribev2_model* model, const tribev2_features* features, int n_features,
                       const tribev2_predict_options* options, tribev2_prediction** out, char* err, size_t err_len);
int64_t tribev2_prediction_n_rows(const tribev2_prediction* p);
int64_t tribev2_prediction_n_outputs(const tribev2_prediction* p);
int64_t tribev2_prediction_n_segments(const tribev2_prediction* p);
const float* tribev2_prediction_data(const tribev2_prediction* p); /* row-major [n_rows, n_outputs] */
/* Start and end (seconds) of row i's 1-TR window; NaN when i is out of range. */
double tribev2_prediction_row_start(const tribev2_prediction* p, int64_t i);
double tribev2_prediction_row_end(const tribev2_prediction* p, int64_t i);
void tribev2_prediction_free(tribev2_prediction* p);

/* Shorthand: *out_preds receives float32 [*out_rows, n_outputs] (free with tribev2_free_floats).
 * duration_s <= 0 means n_steps / 2. n_threads is ignored: the model's pool (opened with
 * tribev2_model_open's n_threads) is used; it is kept for source compatibility. */
int tribev2_predict(const tribev2_model* model, const tribev2_features* features, int n_features,
                    double duration_s, int n_threads, float** out_preds, int64_t* out_rows,
                    char* err, size_t err_len);

void tribev2_free_floats(float* p);

/* ---- Regions of interest (docs/roi.md): upstream's tribev2/utils.py helpers on a surface atlas
 * in TRIBE's output space (fsaverage5: 10,242 left then 10,242 right vertices = 20,484 values).
 * `hemi` is "left", "right", "both" or "both_separate" (NULL: "both"); both_separate is for
 * summaries only (left keys named "<key>-lh", then right keys "<key>-rh"). */
typedef struct tribev2_atlas tribev2_atlas;

/* spec: "hcp-mmp1", "hcp-mmp1-combined", "desikan", "destrieux" (their files in data_dir, NULL or
 * "": the fetch-mesh folder; `tribev2 fetch-atlas NAME` installs them) or "LH.annot,RH.annot"
 * (any FreeSurfer annotation pair on fsaverage or fsaverage5). */
int tribev2_atlas_load(const char* spec, const char* data_dir, tribev2_atlas** out, char* err, size_t err_len);
void tribev2_atlas_free(tribev2_atlas* atlas);

/* The number of ROIs (summary columns) for `hemi`, or -1 for a bad hemi. */
int64_t tribev2_atlas_n_rois(const tribev2_atlas* atlas, const char* hemi);
/* The name of ROI i for `hemi` (valid while the atlas lives); NULL when out of range. */
const char* tribev2_atlas_roi_name(const tribev2_atlas* atlas, const char* hemi, int64_t i);

/* summarize_by_roi: the mean of each ROI for each of n_rows maps (values: row-major
 * [n_rows, 20484] float32) into out (caller-allocated [n_rows, n_rois] doubles). A ROI with no
 * vertex gives NaN (numpy's mean of nothing). */
int tribev2_atlas_summarize(const tribev2_atlas* atlas, const char* hemi, const float* values, int64_t n_rows,
                            double* out, char* err, size_t err_len);

/* get_topk_rois for one map [20484]: the indices (into tribev2_atlas_roi_name) of the k ROIs with
 * the largest means, largest first, into out_idx (caller-allocated [k]); *n_out = min(k, n_rois). */
int tribev2_atlas_topk(const tribev2_atlas* atlas, const char* hemi, const float* map, int k, int64_t* out_idx,
                       int* n_out, char* err, size_t err_len);

/* get_hcp_roi_indices: the vertices (output space) of the ROIs matching each of the n_rois
 * patterns (exact name, "V1*" prefix or "*_v" suffix), concatenated in key order. *out is
 * allocated (free with tribev2_free_indices); no match is an error. hemi: not both_separate. */
int tribev2_atlas_roi_indices(const tribev2_atlas* atlas, const char* const* rois, int n_rois, const char* hemi,
                              int32_t** out, int64_t* n_out, char* err, size_t err_len);
void tribev2_free_indices(int32_t* p);

#ifdef __cplusplus
}
#endif

#endif /* TRIBEV2_H */

/* The C API used from C: load a fixture model, predict, check shapes, errors, accessors, and
 * the predicted VALUES against the Python goldens (tests/fixtures/brain_model/text64_pipeline:
 * expected.npy = FmriEncoderModel.forward on input_*.npy). That case's input is exactly one
 * segment (30 steps at 2 Hz = the 15 TRs the model pools to), so TribeModel.predict's rows are
 * forward()'s output transposed. Tolerance as the fixtures' README: max |got - expected| <=
 * 1e-4 * max |expected|, any NaN fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tribev2/tribev2.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)

/* A float32 little-endian C-order .npy: data and up to 4 dims (fails on anything else). */
static float* read_npy_f32(const char* path, long long dims[4], int* ndim) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) { fclose(f); return NULL; }
  const size_t hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
  char* h = calloc(hlen + 1, 1);
  if (!h || fread(h, 1, hlen, f) != hlen || !strstr(h, "'<f4'") || !strstr(h, "'fortran_order': False")) { free(h); fclose(f); return NULL; }
  const char* s = strstr(h, "'shape': (");
  *ndim = 0;
  long long n = 1;
  for (s = s ? s + 10 : NULL; s && *s && *s != ')' && *ndim < 4;) {
    char* e;
    const long long d = strtoll(s, &e, 10);
    if (e == s) break;
    dims[(*ndim)++] = d;
    n *= d;
    s = e;
    while (*s == ',' || *s == ' ') ++s;
  }
  free(h);
  float* data = malloc((size_t)n * sizeof(float));
  if (!data || fread(data, sizeof(float), (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
  fclose(f);
  return data;
}

static int value_test(const char* dir) {
  char err[512], path[1024];
  tribev2_open_options oo = tribev2_open_options_default();
  oo.n_threads = 2;
  tribev2_model* m = NULL;
  CHECK(tribev2_model_open(dir, &oo, &m, err, sizeof err) == 0);
  CHECK(tribev2_model_n_threads(m) == 2);
  CHECK(strcmp(tribev2_model_precision(m), "f32") == 0);
  CHECK(strcmp(tribev2_model_subject_mode(m), "average") == 0);
  CHECK(tribev2_model_needs_subject(m) == 0);
  CHECK(tribev2_model_n_subjects(m) >= 1); /* the subject-layer weight rows (the average row here) */
  CHECK(tribev2_model_segment_trs(m) == 15);
  CHECK(tribev2_model_tr_seconds(m) == 1.0);
  const char* mods[3] = {"text", "audio", "video"};
  float* in[3];
  tribev2_features f[3];
  for (int i = 0; i < 3; ++i) {
    long long d[4];
    int nd = 0;
    snprintf(path, sizeof path, "%s/input_%s.npy", dir, mods[i]);
    in[i] = read_npy_f32(path, d, &nd);
    CHECK(in[i] != NULL && nd == 4 && d[0] == 1 && d[3] == 30);
    f[i] = (tribev2_features){mods[i], in[i], d[1], d[2], d[3]};
  }
  long long ed[4];
  int en = 0;
  snprintf(path, sizeof path, "%s/expected.npy", dir);
  float* expected = read_npy_f32(path, ed, &en);
  CHECK(expected != NULL && en == 3 && ed[0] == 1 && ed[1] == 57 && ed[2] == 15);
  double scale = 0;
  for (long long i = 0; i < 57 * 15; ++i) scale = fmax(scale, fabs(expected[i]));
  CHECK(scale > 0);
  for (int call = 0; call < 2; ++call) { /* the second call reuses the model's pool */
    tribev2_prediction* p = NULL;
    CHECK(tribev2_predict_ex(m, f, 3, NULL, &p, err, sizeof err) == 0);
    CHECK(tribev2_prediction_n_rows(p) == 15 && tribev2_prediction_n_outputs(p) == 57);
    CHECK(tribev2_prediction_n_segments(p) == 1);
    const float* y = tribev2_prediction_data(p);
    double worst = 0;
    for (int r = 0; r < 15; ++r) {
      CHECK(tribev2_prediction_row_start(p, r) == (double)r && tribev2_prediction_row_end(p, r) == (double)r + 1.0);
      for (int v = 0; v < 57; ++v) {
        const double e = fabs((double)y[r * 57 + v] - (double)expected[v * 15 + r]);
        worst = isnan(e) ? INFINITY : fmax(worst, e);
      }
    }
    CHECK(isnan(tribev2_prediction_row_start(p, 15)));
    printf("C API values vs golden (call %d): max |diff| = %.3g (tolerance %.3g)\n", call, worst, 1e-4 * scale);
    CHECK(worst <= 1e-4 * scale);
    tribev2_prediction_free(p);
  }
  /* Overlap: 40 steps (20 s) with K = 5: segments every 10 TRs, 20 rows as without it; the
   * first 15 rows are the plain prediction's. K >= 15 is an error naming the option. */
  float* longer[3];
  for (int i = 0; i < 3; ++i) {
    const long long ch = f[i].n_layers * f[i].dim;
    longer[i] = malloc((size_t)(ch * 40) * sizeof(float));
    for (long long c = 0; c < ch; ++c)
      for (int t = 0; t < 40; ++t) longer[i][c * 40 + t] = in[i][c * 30 + t % 30];
  }
  tribev2_features g[3];
  for (int i = 0; i < 3; ++i) g[i] = (tribev2_features){mods[i], longer[i], f[i].n_layers, f[i].dim, 40};
  tribev2_predict_options po = tribev2_predict_options_default();
  tribev2_prediction *p0 = NULL, *p5 = NULL;
  CHECK(tribev2_predict_ex(m, g, 3, &po, &p0, err, sizeof err) == 0);
  po.overlap_trs = 5;
  CHECK(tribev2_predict_ex(m, g, 3, &po, &p5, err, sizeof err) == 0);
  CHECK(tribev2_prediction_n_rows(p0) == 20 && tribev2_prediction_n_rows(p5) == 20);
  CHECK(tribev2_prediction_n_segments(p0) == 2 && tribev2_prediction_n_segments(p5) == 2);
  CHECK(memcmp(tribev2_prediction_data(p0), tribev2_prediction_data(p5), 15 * 57 * sizeof(float)) == 0);
  CHECK(tribev2_prediction_row_start(p5, 19) == 19.0);
  tribev2_prediction_free(p0);
  tribev2_prediction_free(p5);
  po.overlap_trs = 15;
  tribev2_prediction* bad = NULL;
  CHECK(tribev2_predict_ex(m, g, 3, &po, &bad, err, sizeof err) != 0 && bad == NULL);
  CHECK(strstr(err, "--overlap-trs must be in [0, 15)") != NULL);
  for (int i = 0; i < 3; ++i) {
    free(in[i]);
    free(longer[i]);
  }
  free(expected);
  tribev2_model_free(m);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char err[512];
  CHECK(strlen(tribev2_version()) >= 5 && strchr(tribev2_version(), '.') != NULL);
  tribev2_model* m = NULL;
  CHECK(tribev2_model_load("/nonexistent/model", &m, err, sizeof err) != 0);
  CHECK(strstr(err, "no such file or folder") != NULL);
  tribev2_open_options bad_o = tribev2_open_options_default();
  bad_o.precision = "fp8";
  CHECK(tribev2_model_open(argv[1], &bad_o, &m, err, sizeof err) != 0 && m == NULL);
  CHECK(strstr(err, "precision") != NULL);
  CHECK(tribev2_model_load(argv[1], &m, err, sizeof err) == 0);
  CHECK(tribev2_model_n_outputs(m) == 57);
  CHECK(tribev2_model_n_modalities(m) == 3);
  CHECK(strcmp(tribev2_model_modality(m, 0), "text") == 0);
  CHECK(tribev2_model_modality(m, 3) == NULL);
  enum { L = 2, D = 64, N = 9 };
  float* x = calloc(L * D * N, sizeof(float));
  for (int i = 0; i < L * D * N; ++i) x[i] = (float)(i % 5) * 0.1f;
  tribev2_features f = {"text", x, L, D, N};
  float* preds = NULL;
  int64_t rows = 0;
  CHECK(tribev2_predict(m, &f, 1, 0.0, 1, &preds, &rows, err, sizeof err) == 0);
  CHECK(rows == 5);
  CHECK(preds != NULL);
  tribev2_free_floats(preds);
  tribev2_features bad = {"smell", x, L, D, N};
  CHECK(tribev2_predict(m, &bad, 1, 0.0, 1, &preds, &rows, err, sizeof err) != 0);
  CHECK(strstr(err, "smell") != NULL);
  free(x);
  tribev2_model_free(m);
  if (value_test(argv[1]) != 0) return 1;
  printf("C API ok\n");
  return 0;
}

/* The C API used from C: load a fixture model, predict, check shapes and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tribev2/tribev2.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); return 1; } } while (0)

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char err[512];
  tribev2_model* m = NULL;
  CHECK(tribev2_model_load("/nonexistent/model", &m, err, sizeof err) != 0);
  CHECK(strstr(err, "no such file or folder") != NULL);
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
  printf("C API ok\n");
  return 0;
}

/* The C API's ROI functions on an atlas written by nibabel (tests/capi/capi_roi_check.py writes
 * the annotations and data.f32, runs this program and compares what it prints with upstream's
 * formulas in numpy). This program also checks the error paths itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tribev2/tribev2.h"

#define CHECK(c)                                                   \
  do {                                                             \
    if (!(c)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
      return 1;                                                    \
    }                                                              \
  } while (0)

enum { V = 20484, ROWS = 2 };

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  char err[512], path[4096];
  tribev2_atlas* a = NULL;
  CHECK(tribev2_atlas_load("hcp-mmp1", "/nonexistent/dir", &a, err, sizeof err) != 0 && a == NULL);
  CHECK(strstr(err, "fetch-atlas") != NULL);
  CHECK(tribev2_atlas_load("hcp-mmp1", argv[1], &a, err, sizeof err) == 0);
  snprintf(path, sizeof path, "%s/data.f32", argv[1]);
  FILE* f = fopen(path, "rb");
  CHECK(f != NULL);
  float* x = malloc(sizeof(float) * V * ROWS);
  CHECK(fread(x, sizeof(float), V * ROWS, f) == V * ROWS);
  fclose(f);
  const char* hemis[] = {"left", "right", "both", "both_separate"};
  for (int h = 0; h < 4; ++h) {
    const int64_t n = tribev2_atlas_n_rois(a, hemis[h]);
    CHECK(n > 0);
    CHECK(tribev2_atlas_roi_name(a, hemis[h], n) == NULL && tribev2_atlas_roi_name(a, hemis[h], -1) == NULL);
    double* s = malloc(sizeof(double) * (size_t)n * ROWS);
    CHECK(tribev2_atlas_summarize(a, hemis[h], x, ROWS, s, err, sizeof err) == 0);
    for (int64_t i = 0; i < n; ++i) {
      printf("summary %s %s", hemis[h], tribev2_atlas_roi_name(a, hemis[h], i));
      for (int r = 0; r < ROWS; ++r) printf(" %.17g", s[r * n + i]);
      printf("\n");
    }
    int64_t top[10];
    int nt = 0;
    CHECK(tribev2_atlas_topk(a, hemis[h], x, 10, top, &nt, err, sizeof err) == 0 && nt == 10);
    printf("top %s", hemis[h]);
    for (int i = 0; i < nt; ++i) printf(" %s", tribev2_atlas_roi_name(a, hemis[h], top[i]));
    printf("\n");
    free(s);
    if (h < 3) {
      const char* rois[] = {"V*", "*2", "MT"};
      int32_t* idx = NULL;
      int64_t ni = 0;
      CHECK(tribev2_atlas_roi_indices(a, rois, 3, hemis[h], &idx, &ni, err, sizeof err) == 0 && ni > 0);
      printf("indices %s", hemis[h]);
      for (int64_t i = 0; i < ni; ++i) printf(" %d", idx[i]);
      printf("\n");
      tribev2_free_indices(idx);
    }
  }
  /* errors */
  double out[400];
  CHECK(tribev2_atlas_n_rois(a, "top") == -1);
  CHECK(tribev2_atlas_summarize(a, "top", x, 1, out, err, sizeof err) != 0);
  CHECK(strstr(err, "both_separate") != NULL);
  const char* none[] = {"NotAnArea*"};
  int32_t* idx = NULL;
  int64_t ni = 0;
  CHECK(tribev2_atlas_roi_indices(a, none, 1, "both", &idx, &ni, err, sizeof err) != 0 && idx == NULL);
  CHECK(strstr(err, "NotAnArea*") != NULL);
  CHECK(tribev2_atlas_summarize(a, "both", NULL, 1, out, err, sizeof err) != 0);
  free(x);
  tribev2_atlas_free(a);
  fprintf(stderr, "C API ROI ok\n");
  return 0;
}

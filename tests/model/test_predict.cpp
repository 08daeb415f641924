// Segmentation and whole-stimulus prediction (TribeModel.predict).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "support/test_support.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/model/random_model.hpp"

using namespace tribev2;
using namespace tribev2::model;
using namespace tribev2::test;

namespace {

// A small model with the real segment geometry: 200 steps pooled to 100 TRs.
BrainModel small_model() {
  BrainConfig c;
  c.hidden = 64;
  c.max_seq_len = 256;
  c.combiner.reset();
  EncoderConfig e;
  e.heads = 2;
  e.depth = 1;
  c.encoder = e;
  c.low_rank_head = 16;
  c.subject_layers.n_subjects = 0;
  c.subject_layers.subject_dropout = 0.1;
  c.subject_layers.average_subjects = true;
  BuildArgs a;
  a.feature_dims = {{"text", std::pair<std::int64_t, std::int64_t>{2, 8}}, {"audio", std::pair<std::int64_t, std::int64_t>{2, 4}}};
  a.n_outputs = 11;
  a.n_output_timesteps = 100;
  return BrainModel(c, a, random_weights(c, a, 5));
}

Tensor random_series(std::int64_t L, std::int64_t D, std::int64_t N, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  Tensor t = Tensor::empty(DType::F32, {L, D, N});
  for (auto& v : t.f32()) v = d(g);
  return t;
}

}  // namespace

TEST(Segments, RowCountsAndBoundaries) {
  const DataConfig data;
  struct Case {
    std::int64_t steps;
    std::size_t segments, rows;
  };
  for (const Case& c : {Case{1, 1, 1}, Case{199, 1, 100}, Case{200, 1, 100}, Case{201, 2, 101}, Case{1000, 5, 500}}) {
    const double dur = static_cast<double>(c.steps) / data.frequency;
    const auto segs = plan_segments(dur, data);
    const auto rows = plan_rows(segs, dur, data);
    EXPECT_EQ(segs.size(), c.segments) << c.steps;
    EXPECT_EQ(rows.size(), c.rows) << c.steps;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_DOUBLE_EQ(rows[i].start, static_cast<double>(i));
      EXPECT_DOUBLE_EQ(rows[i].end, static_cast<double>(i) + 1.0);
      EXPECT_EQ(rows[i].index, static_cast<std::int64_t>(i));
    }
    for (std::size_t s = 0; s < segs.size(); ++s) {
      EXPECT_DOUBLE_EQ(segs[s].start, 100.0 * static_cast<double>(s));
      EXPECT_EQ(segs[s].step0, 200 * static_cast<std::int64_t>(s));
      EXPECT_EQ(segs[s].steps, 200);
    }
  }
  // The upstream notebook: a 52.21 s video gives 53 rows.
  EXPECT_EQ(plan_rows(plan_segments(52.21, data), 52.21, data).size(), 53u);
  // Exactly 100 s: one segment (no empty window starting at t_stop).
  EXPECT_EQ(plan_segments(100.0, data).size(), 1u);
}

TEST(Predict, EqualsStitchedForwardOnPaddedSegments) {
  const BrainModel m = small_model();
  const DataConfig data;
  const std::int64_t N = 250;
  const Tensor text = random_series(2, 8, N, 1), audio = random_series(2, 4, N, 2);
  Context ctx(2);
  PredictOptions o;
  const auto p = predict(ctx, m, data, {{"text", text}, {"audio", audio}}, o);
  ASSERT_EQ(p.preds.dim(0), 125);  // 125 s
  ASSERT_EQ(p.preds.dim(1), 11);

  // Build the two segments by hand: steps [0, 200) and [200, 400) with zeros past 250.
  for (int seg = 0; seg < 2; ++seg) {
    Batch b;
    for (const auto& [name, src] : {std::pair<std::string, const Tensor*>{"text", &text}, {"audio", &audio}}) {
      const std::int64_t D = src->dim(1);
      Tensor x = Tensor::zeros(DType::F32, {1, 2, D, 200});
      for (std::int64_t c = 0; c < 2 * D; ++c)
        for (std::int64_t t = 0; t < 200; ++t) {
          const std::int64_t s = seg * 200 + t;
          if (s < N) x.data<float>()[c * 200 + t] = src->data<float>()[c * N + s];
        }
      b.inputs.emplace_back(name, x);
    }
    const Tensor y = m.forward(ctx, b, true);  // [1, 11, 100]
    const std::int64_t rows = seg == 0 ? 100 : 25;
    MaxDiff maxdiff;
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t v = 0; v < 11; ++v) maxdiff.add(p.preds.data<float>()[(seg * 100 + r) * 11 + v], y.data<float>()[v * 100 + r]);
    EXPECT_EQ(maxdiff.abs(), 0.0) << "segment " << seg;
  }
}

TEST(Predict, BatchSizeDoesNotChangeResultsAndLatents) {
  const BrainModel m = small_model();
  const DataConfig data;
  const Tensor text = random_series(2, 8, 1000, 3);
  Context ctx(2);
  PredictOptions a, b;
  a.batch_size = 8;
  b.batch_size = 3;
  b.emit_latents = true;
  const auto pa = predict(ctx, m, data, {{"text", text}}, a);
  const auto pb = predict(ctx, m, data, {{"text", text}}, b);
  EXPECT_EQ(max_abs_diff(pa.preds, pb.preds), 0.0);
  EXPECT_EQ(shape_str(pb.latents.shape()), "[1000, 64]");
}

TEST(Predict, MappedInputsGiveBackConsumedPagesAndRowsStream) {
  // Inputs read from .npy are memory maps; predict() releases the pages of steps it has
  // consumed (one batch of 1 segment at a time here). The series stays readable (pages come
  // back from the file) and the results are those of a heap copy, streamed or not.
  const BrainModel m = small_model();
  const DataConfig data;
  TempDir tmp;
  const Tensor text = random_series(2, 8, 5000, 4);  // 25 segments; rows of 20 KB
  io::write_npy(tmp / "text.npy", text);
  const Tensor mapped = io::read_npy(tmp / "text.npy");
  Context ctx(2);
  PredictOptions heap, mapped_o;
  heap.release_consumed_inputs = false;
  mapped_o.batch_size = 1;
  std::vector<float> streamed;
  std::int64_t next_row = 0;
  mapped_o.on_rows = [&](std::int64_t first, const float* rows, std::int64_t n) {
    EXPECT_EQ(first, next_row);
    next_row += n;
    streamed.insert(streamed.end(), rows, rows + n * 11);
  };
  const auto a = predict(ctx, m, data, {{"text", text}}, heap);
  const auto b = predict(ctx, m, data, {{"text", mapped}}, mapped_o);
  // Read window by window (pread) instead: the same numbers.
  io::FeatureFile ff = io::open_feature_file(tmp / "text.npy", "text");
  ASSERT_TRUE(ff.read_window);
  const auto c = predict(ctx, m, data, {{"text", ff.data, ff.read_window}}, heap);
  EXPECT_EQ(max_abs_diff(c.preds, a.preds), 0.0);
  EXPECT_EQ(b.preds.numel(), 0) << "streamed rows are not kept";
  ASSERT_EQ(static_cast<std::int64_t>(streamed.size()), a.preds.numel());
  EXPECT_EQ(max_abs_diff(streamed, a.preds.f32()), 0.0);
  EXPECT_EQ(max_abs_diff(mapped, text), 0.0) << "released pages read back from the file";
}

TEST(Predict, DurationOptionAndPadding) {
  const BrainModel m = small_model();
  const DataConfig data;
  Context ctx(1);
  PredictOptions o;
  o.duration = 52.21;
  const auto p = predict(ctx, m, data, {{"text", random_series(2, 8, 105, 4)}}, o);
  EXPECT_EQ(p.preds.dim(0), 53);
  PredictOptions q;
  EXPECT_THROW_MSG(predict(ctx, m, data, {{"text", random_series(2, 8, 100, 4)}, {"audio", random_series(2, 4, 90, 5)}}, q),
                   "modalities have different lengths (text 100, audio 90 steps");
  q.pad = true;
  EXPECT_EQ(predict(ctx, m, data, {{"text", random_series(2, 8, 100, 4)}, {"audio", random_series(2, 4, 90, 5)}}, q).preds.dim(0), 50);
}

namespace {

// forward() on one segment window of the series: steps [step0, step0 + 200), zeros past the
// end (what TribeModel.predict feeds the model), rows [100, n_outputs] as y[v * 100 + r].
Tensor forward_window(const Context& ctx, const BrainModel& m, const std::vector<std::pair<std::string, const Tensor*>>& series,
                      std::int64_t step0) {
  Batch b;
  for (const auto& [name, src] : series) {
    const std::int64_t L = src->dim(0), D = src->dim(1), N = src->dim(2);
    Tensor x = Tensor::zeros(DType::F32, {1, L, D, 200});
    for (std::int64_t c = 0; c < L * D; ++c)
      for (std::int64_t t = 0; t < 200; ++t)
        if (step0 + t < N) x.data<float>()[c * 200 + t] = src->data<float>()[c * N + step0 + t];
    b.inputs.emplace_back(name, x);
  }
  return m.forward(ctx, b, true);  // [1, n_outputs, 100]
}

// Largest |preds[row] - y[:, r]| (NaN counts as a mismatch).
double row_diff(const Tensor& preds, std::int64_t row, const Tensor& y, std::int64_t r) {
  const std::int64_t V = preds.dim(1);
  double d = 0;
  for (std::int64_t v = 0; v < V; ++v) {
    const double e = std::abs(static_cast<double>(preds.data<float>()[row * V + v]) - y.data<float>()[v * 100 + r]);
    d = std::isnan(e) ? INFINITY : std::max(d, e);
  }
  return d;
}

}  // namespace

// Issue 11 point 2: the segmentation of predict() on a long input against the upstream
// TribeModel.predict rules of docs/reference-semantics.md section 5, derived here from those
// rules (not from plan_segments): list_segments n = ceil(span / stride - 1e-9) windows of 100 TRs
// from t0 = 0; each cut into np.arange(0, 100 - 1e-2, 1) one-TR sub-windows, flattened
// "(b t)"; rows kept when the window overlaps [0, duration) strictly; the last segment
// zero-padded past the end of the features.
TEST(PredictGolden, LongInputSegmentationFollowsUpstreamRules) {
  const BrainModel m = small_model();
  const DataConfig data;  // 2 Hz, TR 1 s, 100 TRs per segment
  const std::int64_t N = 501;  // 250.5 s: three segments, the last one partial
  const Tensor text = random_series(2, 8, N, 21), audio = random_series(2, 4, N, 22);
  Context ctx(2);
  const auto p = predict(ctx, m, data, {{"text", text}, {"audio", audio}}, PredictOptions{});

  const double span = static_cast<double>(N) / 2.0, stride = 100.0;
  const auto n_seg = static_cast<std::int64_t>(std::ceil(span / stride - 1e-9));
  ASSERT_EQ(n_seg, 3);
  struct Expected { std::int64_t seg, sub; double start; };
  std::vector<Expected> expected;
  for (std::int64_t b = 0; b < n_seg; ++b)
    for (double t = 0; t < 100.0 - 1e-2; t += 1.0) {
      const double a = static_cast<double>(b) * stride + t;
      if (a < span && a + 1.0 > 0.0) expected.push_back({b, static_cast<std::int64_t>(t), a});
    }
  ASSERT_EQ(expected.size(), 251u);  // 100 + 100 + 51 (the window [250, 251) overlaps [0, 250.5))
  ASSERT_EQ(p.segments.size(), 3u);
  ASSERT_EQ(p.rows.size(), expected.size());
  ASSERT_EQ(p.preds.dim(0), static_cast<std::int64_t>(expected.size()));
  std::vector<Tensor> ys;
  for (std::int64_t b = 0; b < n_seg; ++b)
    ys.push_back(forward_window(ctx, m, {{"text", &text}, {"audio", &audio}}, b * 200));
  double worst = 0;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    EXPECT_DOUBLE_EQ(p.rows[r].start, expected[r].start);
    EXPECT_DOUBLE_EQ(p.rows[r].end, expected[r].start + 1.0);
    EXPECT_EQ(p.rows[r].index, expected[r].seg * 100 + expected[r].sub);
    worst = std::max(worst, row_diff(p.preds, static_cast<std::int64_t>(r), ys[static_cast<std::size_t>(expected[r].seg)], expected[r].sub));
  }
  // Same kernels, same batch layout per segment: predict() is forward() on each window, exactly.
  EXPECT_EQ(worst, 0.0);
  // Empty-row removal: duration 250 s exactly drops the window [250, 251).
  PredictOptions o;
  o.duration = 250.0;
  EXPECT_EQ(predict(ctx, m, data, {{"text", text}, {"audio", audio}}, o).preds.dim(0), 250);
}

// Issue 13: overlapping segments. Segments every 100 - K TRs; the first gives all its rows,
// later ones the rows after their first K; each row equals forward() on its shifted window.
TEST(PredictOverlap, RowsComeFromShiftedWindowsAfterTheOverlap) {
  const BrainModel m = small_model();
  const DataConfig data;
  const std::int64_t N = 500;  // 250 s
  const Tensor text = random_series(2, 8, N, 31), audio = random_series(2, 4, N, 32);
  Context ctx(2);
  const auto plain = predict(ctx, m, data, {{"text", text}, {"audio", audio}}, PredictOptions{});
  for (const std::int64_t K : {20, 50, 99}) {
    for (const int batch : {8, 1}) {
      PredictOptions o;
      o.overlap_trs = K;
      o.batch_size = batch;
      o.emit_latents = true;
      const auto p = predict(ctx, m, data, {{"text", text}, {"audio", audio}}, o);
      const std::int64_t stride = 100 - K;
      const auto n_seg = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((250.0 - K) / static_cast<double>(stride))));
      ASSERT_EQ(static_cast<std::int64_t>(p.segments.size()), n_seg) << K;
      // Row count and times unchanged.
      ASSERT_EQ(p.preds.dim(0), plain.preds.dim(0)) << K;
      ASSERT_EQ(p.rows.size(), plain.rows.size());
      for (std::size_t r = 0; r < p.rows.size(); ++r) {
        EXPECT_DOUBLE_EQ(p.rows[r].start, plain.rows[r].start);
        EXPECT_DOUBLE_EQ(p.rows[r].end, plain.rows[r].end);
      }
      EXPECT_EQ(shape_str(p.latents.shape()), "[500, 64]");
      // First segment: the plain prediction's rows.
      const Tensor y0 = forward_window(ctx, m, {{"text", &text}, {"audio", &audio}}, 0);
      for (std::int64_t r = 0; r < 100; ++r) EXPECT_EQ(row_diff(p.preds, r, y0, r), 0.0) << r;
      for (std::int64_t r = 0; r < 100; ++r) EXPECT_EQ(row_diff(p.preds, r, y0, r), row_diff(plain.preds, r, y0, r));
      // Later rows: row t (t >= 100) comes from the segment k >= 1 with
      // k * stride + K <= t < k * stride + 100, its sub-row t - k * stride (>= K).
      double worst = 0;
      for (std::int64_t k = 1; k < n_seg; ++k) {
        const Tensor y = forward_window(ctx, m, {{"text", &text}, {"audio", &audio}}, k * stride * 2);
        for (std::int64_t t = k * stride + K; t < std::min<std::int64_t>(k * stride + 100, 250); ++t) {
          worst = std::max(worst, row_diff(p.preds, t, y, t - k * stride));
          EXPECT_GE(t - k * stride, K) << "every later row has at least K TRs of left context";
        }
      }
      EXPECT_EQ(worst, 0.0) << "K=" << K << " batch " << batch;
    }
  }
}

TEST(PredictOverlap, ZeroIsTodayShortInputsUnaffectedAndBadValuesFail) {
  const BrainModel m = small_model();
  const DataConfig data;
  Context ctx(2);
  const Tensor text = random_series(2, 8, 1000, 41);
  PredictOptions a, b;
  b.overlap_trs = 0;
  EXPECT_EQ(max_abs_diff(predict(ctx, m, data, {{"text", text}}, a).preds, predict(ctx, m, data, {{"text", text}}, b).preds), 0.0);
  // Shorter than one segment: one segment, whatever K.
  const Tensor shortx = random_series(2, 8, 150, 42);
  PredictOptions k30;
  k30.overlap_trs = 30;
  const auto s0 = predict(ctx, m, data, {{"text", shortx}}, a), s30 = predict(ctx, m, data, {{"text", shortx}}, k30);
  EXPECT_EQ(s30.segments.size(), 1u);
  EXPECT_EQ(max_abs_diff(s0.preds, s30.preds), 0.0);
  // Exactly one segment plus less than the overlap: still one segment (its rows cover it).
  EXPECT_EQ(plan_segments(100.0, data, 0.0, 30).size(), 1u);
  EXPECT_EQ(plan_segments(100.5, data, 0.0, 30).size(), 2u);
  PredictOptions bad;
  bad.overlap_trs = 100;
  EXPECT_THROW_MSG(predict(ctx, m, data, {{"text", text}}, bad), "--overlap-trs must be in [0, 100)");
  bad.overlap_trs = -1;
  EXPECT_THROW_MSG(predict(ctx, m, data, {{"text", text}}, bad), "--overlap-trs must be in [0, 100)");
}

// The pipeline's layout: each segment's own T steps back to back.
TEST(PredictOverlap, SegmentMajorInputReadsEachSegmentsOwnSteps) {
  const BrainModel m = small_model();
  const DataConfig data;
  Context ctx(2);
  const Tensor text = random_series(2, 8, 500, 51);
  PredictOptions o;
  o.overlap_trs = 20;
  const auto cont = predict(ctx, m, data, {{"text", text}}, o);
  const auto segs = plan_segments(250.0, data, 0.0, 20);
  Tensor sm = Tensor::zeros(DType::F32, {2, 8, static_cast<std::int64_t>(segs.size()) * 200});
  const std::int64_t W = sm.dim(2);
  for (std::size_t k = 0; k < segs.size(); ++k)
    for (std::int64_t c = 0; c < 16; ++c)
      for (std::int64_t t = 0; t < 200; ++t)
        if (segs[k].step0 + t < 500)
          sm.data<float>()[c * W + static_cast<std::int64_t>(k) * 200 + t] = text.data<float>()[c * 500 + segs[k].step0 + t];
  o.segment_major_input = true;
  o.duration = 250.0;
  EXPECT_EQ(max_abs_diff(predict(ctx, m, data, {{"text", sm}}, o).preds, cont.preds), 0.0);
}

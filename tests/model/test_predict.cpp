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

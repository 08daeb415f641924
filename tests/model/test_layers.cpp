// Layer-by-layer checks on tiny models whose expected outputs are derived in the test
// (by hand or with an independent double-precision evaluation written here).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "support/test_support.hpp"
#include "tribev2/model/brain_model.hpp"
#include "tribev2/model/random_model.hpp"

using namespace tribev2;
using namespace tribev2::model;
using namespace tribev2::test;

namespace {

Tensor vals(Shape s, std::vector<float> v) { return Tensor::from<float>(std::move(s), v); }
Tensor fill(Shape s, float x) {
  Tensor t = Tensor::empty(DType::F32, std::move(s));
  for (auto& v : t.f32()) v = x;
  return t;
}

// A linear-baseline model: projector Linear, no encoder; predictor with given weights.
struct Tiny {
  BrainConfig c;
  BuildArgs a;
  Tiny() {
    c.hidden = 4;
    c.linear_baseline = true;
    c.encoder.reset();
    c.combiner.reset();
    c.subject_layers.n_subjects = 0;
    c.subject_layers.subject_dropout = 0.1;
    c.subject_layers.average_subjects = true;
    a.feature_dims = {{"text", std::pair<std::int64_t, std::int64_t>{2, 3}}, {"audio", std::pair<std::int64_t, std::int64_t>{1, 2}}};
    a.n_outputs = 2;
    a.n_output_timesteps = 2;
  }
};

}  // namespace

TEST(Layers, CatProjectionOfLayersIsLayerMajor) {
  Tiny t;
  WeightStore w("test");
  // text projector [2, 6]: output 0 reads channel 4 (layer 1, feature 1); output 1 sums all.
  w.add("projectors.text.weight", vals({2, 6}, {0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1}));
  w.add("projectors.text.bias", vals({2}, {0.5f, 0}));
  w.add("projectors.audio.weight", vals({2, 2}, {1, 0, 0, 1}));
  w.add("projectors.audio.bias", vals({2}, {0, 0}));
  // predictor [1, 4, 2]: output n = x[n] (identity on the text half), bias 0.
  w.add("predictor.weights", vals({1, 4, 2}, {1, 0, 0, 1, 0, 0, 0, 0}));
  w.add("predictor.bias", vals({1, 2}, {0, 0}));
  BrainModel m(t.c, t.a, std::move(w));
  Batch b;
  // text [1, 2, 3, T=2]: value = 100*l + 10*d + t
  std::vector<float> tx;
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 3; ++d)
      for (int tt = 0; tt < 2; ++tt) tx.push_back(static_cast<float>(100 * l + 10 * d + tt));
  b.inputs.emplace_back("text", vals({1, 2, 3, 2}, tx));
  Context ctx(1);
  const Tensor y = m.forward(ctx, b, false);  // [1, 2, 2]
  // output 0 at t: channel 4 = layer 1, d 1 -> 110 + t, plus bias 0.5
  EXPECT_FLOAT_EQ(y.data<float>()[0], 110.5f);
  EXPECT_FLOAT_EQ(y.data<float>()[1], 111.5f);
  // output 1: sum over all six channels = 0+10+20+100+110+120 + 6t
  EXPECT_FLOAT_EQ(y.data<float>()[2], 360.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[3], 366.0f);
}

TEST(Layers, MissingModalityIsZeroAfterProjectorEvenForSum) {
  Tiny t;
  t.c.extractor_aggregation = ExtractorAggregation::Sum;  // upstream crashes here; we use width hidden
  WeightStore w("test");
  w.add("projectors.text.weight", fill({4, 6}, 0.0f));
  w.add("projectors.text.bias", vals({4}, {1, 2, 3, 4}));
  w.add("projectors.audio.weight", fill({4, 2}, 1.0f));
  w.add("projectors.audio.bias", vals({4}, {10, 10, 10, 10}));
  w.add("predictor.weights", vals({1, 4, 2}, {1, 0, 0, 1, 0, 0, 0, 0}));
  w.add("predictor.bias", vals({1, 2}, {0, 0}));
  BrainModel m(t.c, t.a, std::move(w));
  Batch b;
  b.inputs.emplace_back("text", fill({1, 2, 3, 3}, 7.0f));
  Context ctx(1);
  const Tensor y = m.forward(ctx, b, false);
  // audio absent: contributes 0 (not its bias 10); text contributes its bias.
  EXPECT_FLOAT_EQ(y.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[3], 2.0f);
  // present but all-zero audio: its bias is added (upstream case (b)).
  b.inputs.emplace_back("audio", fill({1, 1, 2, 3}, 0.0f));
  const Tensor z = m.forward(ctx, b, false);
  EXPECT_FLOAT_EQ(z.data<float>()[0], 11.0f);
}

TEST(Layers, LayerMeanAggregation) {
  Tiny t;
  t.c.layer_aggregation = LayerAggregation::Mean;
  WeightStore w("test");
  w.add("projectors.text.weight", vals({2, 3}, {1, 0, 0, 0, 0, 1}));
  w.add("projectors.text.bias", vals({2}, {0, 0}));
  w.add("projectors.audio.weight", fill({2, 2}, 0.0f));
  w.add("projectors.audio.bias", vals({2}, {0, 0}));
  w.add("predictor.weights", vals({1, 4, 2}, {1, 0, 0, 1, 0, 0, 0, 0}));
  w.add("predictor.bias", vals({1, 2}, {0, 0}));
  BrainModel m(t.c, t.a, std::move(w));
  Batch b;
  // layers 0 and 1 of feature d are d and d+10 -> mean d + 5
  std::vector<float> tx;
  for (int l = 0; l < 2; ++l)
    for (int d = 0; d < 3; ++d) tx.push_back(static_cast<float>(d + 10 * l));
  b.inputs.emplace_back("text", vals({1, 2, 3, 1}, tx));
  Context ctx(1);
  const Tensor y = m.forward(ctx, b, false);
  EXPECT_FLOAT_EQ(y.data<float>()[0], 5.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[1], 7.0f);
}

TEST(Layers, SubjectRowsAndPooling) {
  Tiny t;
  t.c.subject_layers.n_subjects = 2;
  t.c.subject_layers.subject_dropout.reset();
  t.c.subject_layers.average_subjects = false;
  t.a.n_output_timesteps = 2;
  WeightStore w("test");
  w.add("projectors.text.weight", fill({2, 6}, 0.0f));
  w.add("projectors.text.bias", vals({2}, {1, 1}));
  w.add("projectors.audio.weight", fill({2, 2}, 0.0f));
  w.add("projectors.audio.bias", vals({2}, {0, 0}));
  // subject 0 multiplies x0 by 1, subject 1 by 3; biases 0 / 100
  w.add("predictor.weights", vals({2, 4, 2}, {1, 1, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0}));
  w.add("predictor.bias", vals({2, 2}, {0, 0, 100, 100}));
  BrainModel m(t.c, t.a, std::move(w));
  Batch b;
  b.inputs.emplace_back("text", fill({2, 2, 3, 3}, 0.0f));
  b.subject_ids = {1, 0};
  Context ctx(1);
  const Tensor y = m.forward(ctx, b, true);  // [2, 2, 2]
  EXPECT_FLOAT_EQ(y.data<float>()[0], 103.0f);
  EXPECT_FLOAT_EQ(y.data<float>()[4], 1.0f);
  b.subject_ids = {2, 0};
  EXPECT_THROW_MSG(m.forward(ctx, b), "subject id 2 is out of range for 2");
  b.subject_ids = {};
  EXPECT_THROW_MSG(m.forward(ctx, b), "give one subject id per example");
}

TEST(Layers, FixedGaussianSmoothing) {
  Tiny t;
  t.c.temporal_smoothing = TemporalSmoothingConfig{3, 1.0};
  t.c.extractor_aggregation = ExtractorAggregation::Sum;
  WeightStore w("test");
  w.add("projectors.text.weight", fill({4, 6}, 0.0f));
  w.add("projectors.text.bias", vals({4}, {0, 0, 0, 0}));
  w.add("projectors.audio.weight", vals({4, 2}, {1, 0, 0, 0, 0, 0, 0, 0}));
  w.add("projectors.audio.bias", vals({4}, {0, 0, 0, 0}));
  const float e = std::exp(-0.5f), s = 1 + 2 * e;
  std::vector<float> k;
  for (int c = 0; c < 4; ++c) k.insert(k.end(), {e / s, 1 / s, e / s});
  w.add("temporal_smoothing.weight", vals({4, 1, 3}, k));
  w.add("predictor.weights", vals({1, 4, 2}, {1, 0, 0, 0, 0, 0, 0, 0}));
  w.add("predictor.bias", vals({1, 2}, {0, 0}));
  BrainModel m(t.c, t.a, std::move(w));
  Batch b;
  b.inputs.emplace_back("audio", vals({1, 1, 2, 4}, {0, 1, 0, 0, 0, 0, 0, 0}));  // impulse at t=1 on feature 0
  Context ctx(1);
  const Tensor y = m.forward(ctx, b, false);  // output 0 over t: [e, 1, e, 0] / s
  EXPECT_NEAR(y.data<float>()[0], e / s, 1e-7);
  EXPECT_NEAR(y.data<float>()[1], 1 / s, 1e-7);
  EXPECT_NEAR(y.data<float>()[2], e / s, 1e-7);
  EXPECT_NEAR(y.data<float>()[3], 0.0f, 1e-7);
}

// An independent double-precision evaluation of one encoder (ScaleNorm, partial rotary,
// bidirectional attention, GELU FF, scaled residuals) on random weights.
TEST(Layers, EncoderMatchesDoublePrecisionDerivation) {
  BrainConfig c;
  c.hidden = 72;
  c.max_seq_len = 16;
  c.combiner.reset();
  EncoderConfig e;
  e.heads = 1;  // dh 72 -> rot_dim 36 (half rotated)
  e.depth = 1;
  c.encoder = e;
  c.time_pos_embedding = false;
  c.subject_layers.n_subjects = 0;
  c.subject_layers.subject_dropout = 0.1;
  c.subject_layers.average_subjects = true;
  BuildArgs a;
  a.feature_dims = {{"x", std::pair<std::int64_t, std::int64_t>{1, 72}}};
  a.n_outputs = 72;
  a.n_output_timesteps = 5;
  WeightStore w = random_weights(c, a, 7);
  // Make the projector and predictor identities so the output is the encoder output.
  WeightStore w2("test");
  for (const auto& n : w.names()) {
    Tensor t = w.find(n)->clone();
    if (n == "projectors.x.weight" || n == "predictor.weights") {
      for (auto& v : t.f32()) v = 0;
      for (int i = 0; i < 72; ++i) t.f32()[static_cast<std::size_t>(i * 72 + i)] = 1;
    }
    if (n == "projectors.x.bias" || n == "predictor.bias") for (auto& v : t.f32()) v = 0;
    w2.add(n, t);
  }
  BrainModel m(c, a, std::move(w2));
  auto get = [&](const std::string& n) { return m.weights().find(n)->f32(); };
  const int T = 5, H = 72, rot = 36;
  std::mt19937 g(3);
  std::normal_distribution<float> d;
  std::vector<float> xin(static_cast<std::size_t>(H * T));
  for (auto& v : xin) v = d(g);
  Batch b;
  b.inputs.emplace_back("x", vals({1, 1, H, T}, xin));
  Context ctx(2);
  const Tensor y = m.forward(ctx, b, false);  // [1, H, T]

  std::vector<std::vector<double>> x(T, std::vector<double>(H));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < H; ++i) x[t][i] = xin[static_cast<std::size_t>(i * T + t)];
  auto snorm = [&](const std::vector<double>& v, double gg) {
    double n = 0;
    for (double z : v) n += z * z;
    n = std::max(std::sqrt(n), 1e-12);
    std::vector<double> o(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) o[i] = v[i] / n * std::sqrt(72.0) * gg;
    return o;
  };
  auto matvec = [&](std::span<const float> W, const std::vector<double>& v, int out, int in) {
    std::vector<double> o(static_cast<std::size_t>(out), 0.0);
    for (int r = 0; r < out; ++r)
      for (int k = 0; k < in; ++k) o[r] += W[static_cast<std::size_t>(r * in + k)] * v[k];
    return o;
  };
  const auto inv = get("encoder.rotary_pos_emb.inv_freq");
  auto rope = [&](std::vector<double> u, int t) {
    for (int i = 0; i < rot / 2; ++i) {
      const double ang = static_cast<double>(static_cast<float>(t) * inv[i]);
      const double a0 = u[i], b0 = u[i + rot / 2];
      u[i] = a0 * std::cos(ang) - b0 * std::sin(ang);
      u[i + rot / 2] = b0 * std::cos(ang) + a0 * std::sin(ang);
    }
    return u;
  };
  // attention layer 0
  {
    std::vector<std::vector<double>> q(T), k(T), v(T), o(T);
    for (int t = 0; t < T; ++t) {
      const auto h = snorm(x[t], get("encoder.layers.0.0.0.g")[0]);
      q[t] = rope(matvec(get("encoder.layers.0.1.to_q.weight"), h, H, H), t);
      k[t] = rope(matvec(get("encoder.layers.0.1.to_k.weight"), h, H, H), t);
      v[t] = matvec(get("encoder.layers.0.1.to_v.weight"), h, H, H);
    }
    for (int t = 0; t < T; ++t) {
      std::vector<double> s(T);
      double mx = -1e300, sum = 0;
      for (int u = 0; u < T; ++u) {
        for (int i = 0; i < H; ++i) s[u] += q[t][i] * k[u][i];
        s[u] /= std::sqrt(72.0);
        mx = std::max(mx, s[u]);
      }
      for (auto& z : s) sum += (z = std::exp(z - mx));
      o[t].assign(H, 0.0);
      for (int u = 0; u < T; ++u)
        for (int i = 0; i < H; ++i) o[t][i] += s[u] / sum * v[u][i];
    }
    const auto rs = get("encoder.layers.0.2.residual_scale");
    for (int t = 0; t < T; ++t) {
      const auto out = matvec(get("encoder.layers.0.1.to_out.weight"), o[t], H, H);
      for (int i = 0; i < H; ++i) x[t][i] = out[i] + x[t][i] * rs[i];
    }
  }
  // feed-forward layer 1
  {
    const auto b1 = get("encoder.layers.1.1.ff.0.0.bias"), b2 = get("encoder.layers.1.1.ff.2.bias");
    const auto rs = get("encoder.layers.1.2.residual_scale");
    for (int t = 0; t < T; ++t) {
      const auto h = snorm(x[t], get("encoder.layers.1.0.0.g")[0]);
      auto f = matvec(get("encoder.layers.1.1.ff.0.0.weight"), h, 4 * H, H);
      for (int i = 0; i < 4 * H; ++i) {
        const double z = f[i] + b1[i];
        f[i] = 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
      }
      auto out = matvec(get("encoder.layers.1.1.ff.2.weight"), f, H, 4 * H);
      for (int i = 0; i < H; ++i) x[t][i] = out[i] + b2[i] + x[t][i] * rs[i];
    }
  }
  MaxDiff diff;
  for (int t = 0; t < T; ++t) {
    const auto f = snorm(x[t], get("encoder.final_norm.g")[0]);
    for (int i = 0; i < H; ++i) {
      diff.add(y.data<float>()[i * T + t], f[i]);
    }
  }
  EXPECT_LE(diff.rel(), 1e-5);
}

TEST(Layers, ExpectedWeightsOfPublishedArchitecture) {
  const auto list = BrainModel::expected_weights(published_brain_config(), published_build_args());
  std::int64_t n = 0;
  for (const auto& [name, shape] : list) n += shape_numel(shape);
  EXPECT_EQ(list.size(), 8u * 4 + 8u * 4 + 16u * 2 + 6 + 1 + 1 + 1 + 1 + 2);  // matches reference section 0.9
  EXPECT_NEAR(static_cast<double>(n) / 1e6, 177.2, 0.1);
}

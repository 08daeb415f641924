// Every case of the brain-model fixtures (computed by the original Python code) through
// safetensors and, where present, best.ckpt: pooled and unpooled outputs within
// max|diff| <= 1e-4 * max|expected|.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model_io/load.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fixture("brain_model")))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

model::Batch load_batch(const fs::path& dir) {
  model::Batch b;
  // Batch order as the fixture generator built it: text, audio, video.
  for (const char* m : {"text", "audio", "video"}) {
    const auto p = dir / (std::string("input_") + m + ".npy");
    if (fs::exists(p)) b.inputs.emplace_back(m, io::read_npy(p));
  }
  if (fs::exists(dir / "input_subject_id.npy")) {
    const Tensor s = io::read_npy(dir / "input_subject_id.npy").to(DType::I64);
    b.subject_ids.assign(s.data<std::int64_t>(), s.data<std::int64_t>() + s.numel());
  }
  return b;
}

class Golden : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Golden, MatchesPythonOriginal) {
  const fs::path dir = fixture("brain_model/" + GetParam());
  const Tensor expected = io::read_npy(dir / "expected.npy");
  const Tensor expected_unpooled = io::read_npy(dir / "expected_unpooled.npy");
  const model::Batch batch = load_batch(dir);
  int formats = 0;
  for (const char* weights : {"model.safetensors", "best.ckpt"}) {
    if (!fs::exists(dir / weights)) continue;
    ++formats;
    SCOPED_TRACE(weights);
    const auto loaded = model_io::load_brain_model(dir / weights);
    for (int threads : {1, 2}) {
      Context ctx(threads);
      const Tensor y = loaded.model->forward(ctx, batch, true);
      EXPECT_LE(max_rel_diff(y, expected), 1e-4) << "pooled, threads " << threads;
      const Tensor u = loaded.model->forward(ctx, batch, false);
      EXPECT_LE(max_rel_diff(u, expected_unpooled), 1e-4) << "unpooled, threads " << threads;
    }
  }
  EXPECT_GE(formats, 1);
}

INSTANTIATE_TEST_SUITE_P(BrainModelFixtures, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(GoldenCoverage, AllNineCasesAndThreeCheckpoints) {
  EXPECT_EQ(cases().size(), 9u);
  int ckpts = 0;
  for (const auto& c : cases()) ckpts += fs::exists(fixture("brain_model/" + c + "/best.ckpt"));
  EXPECT_EQ(ckpts, 3);
}

// --precision bf16: bf16 products with float32 accumulation. Not exact, but every output row
// (one brain map) must stay correlated with the Python float32 result.
TEST_P(Golden, Bf16StaysCorrelatedWithFloat32) {
  const fs::path dir = fixture("brain_model/" + GetParam());
  const Tensor expected = io::read_npy(dir / "expected.npy");  // [B, N, To]
  const auto loaded = model_io::load_brain_model(dir / "model.safetensors");
  Context ctx(2, Precision::BF16);
  const Tensor y = loaded.model->forward(ctx, load_batch(dir), true);
  const std::int64_t B = y.dim(0), N = y.dim(1), To = y.dim(2);
  double worst_r = 1.0;
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t t = 0; t < To; ++t) {
      double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (std::int64_t n = 0; n < N; ++n) {
        const double u = y.data<float>()[(b * N + n) * To + t], v = expected.data<float>()[(b * N + n) * To + t];
        sx += u, sy += v, sxx += u * u, syy += v * v, sxy += u * v;
      }
      const double cov = sxy - sx * sy / N, vx = sxx - sx * sx / N, vy = syy - sy * sy / N;
      if (vx > 0 && vy > 0) worst_r = std::min(worst_r, cov / std::sqrt(vx * vy));
    }
  const double rel = max_rel_diff(y, expected);
  std::cout << GetParam() << ": bf16 worst row Pearson r " << worst_r << ", max rel diff " << rel << "\n";
  EXPECT_GE(worst_r, 0.999);
  EXPECT_LE(rel, 5e-2);
}

// The layouts predict() uses: time-major batches in, [B, T_out, N] out (same numbers).
TEST_P(Golden, TimeMajorLayoutsGiveTheSameNumbers) {
  const fs::path dir = fixture("brain_model/" + GetParam());
  const auto loaded = model_io::load_brain_model(dir / "model.safetensors");
  const auto& m = *loaded.model;
  const model::Batch batch = load_batch(dir);
  Context ctx(2);
  const Tensor y = m.forward(ctx, batch, true);  // [B, N, To]
  const std::int64_t B = y.dim(0), N = y.dim(1), To = y.dim(2);
  const Tensor ytm = m.forward_time_major(ctx, batch, true);  // [B, To, N]
  model::Batch tm;
  tm.time_major = true;
  tm.subject_ids = batch.subject_ids;
  for (const auto& [name, t] : batch.inputs) {  // [B, L, D, T] -> [B, T, L*D]
    const std::int64_t T = t.dim(-1), ch = t.numel() / (t.dim(0) * T);
    Tensor u = Tensor::empty(DType::F32, {t.dim(0), T, ch});
    for (std::int64_t b = 0; b < t.dim(0); ++b)
      for (std::int64_t c = 0; c < ch; ++c)
        for (std::int64_t s = 0; s < T; ++s)
          u.data<float>()[(b * T + s) * ch + c] = t.data<float>()[(b * ch + c) * T + s];
    tm.inputs.emplace_back(name, u);
  }
  std::vector<float> into(static_cast<std::size_t>(B * To * N));
  m.forward_time_major_into(ctx, tm, into.data());
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t t = 0; t < To; ++t) {
        const float want = y.data<float>()[(b * N + n) * To + t];
        ASSERT_EQ(ytm.data<float>()[(b * To + t) * N + n], want);
        ASSERT_NEAR(into[static_cast<std::size_t>((b * To + t) * N + n)], want, 1e-6f * (1.0f + std::abs(want)));
      }
}

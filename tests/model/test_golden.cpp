// Every case of the brain-model fixtures (computed by the original Python code) through
// safetensors and, where present, best.ckpt: pooled and unpooled outputs within
// max|diff| <= 1e-4 * max|expected|.
#include <gtest/gtest.h>

#include <filesystem>

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

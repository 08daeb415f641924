// The tribev2 command: parity through `forward`, `predict` outputs, `inspect`, and one-line
// errors with a non-zero exit for bad input.
#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/zip.hpp"

#include <cstring>
#include <limits>

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {
bool one_line_error(const CliResult& r) {
  return r.code != 0 && r.output.rfind("tribev2: error: ", 0) == 0 && r.output.find('\n') == r.output.size() - 1;
}
}  // namespace

TEST(Cli, ForwardMatchesGoldensForEveryCaseAndFormat) {
  TempDir tmp;
  for (const auto& e : fs::directory_iterator(fixture("brain_model"))) {
    const fs::path dir = e.path();
    for (const char* w : {"model.safetensors", "best.ckpt"}) {
      if (!fs::exists(dir / w)) continue;
      std::vector<std::string> args = {"-q", "--threads", "2", "forward", "--model", (dir / w).string()};
      for (const char* m : {"text", "audio", "video"})
        if (fs::exists(dir / (std::string("input_") + m + ".npy")))
          args.insert(args.end(), {"--input", std::string(m) + "=" + (dir / (std::string("input_") + m + ".npy")).string()});
      if (fs::exists(dir / "input_subject_id.npy")) args.insert(args.end(), {"--subjects", (dir / "input_subject_id.npy").string()});
      auto pooled = args, unpooled = args;
      pooled.insert(pooled.end(), {"--output", (tmp / "p.npy").string()});
      unpooled.insert(unpooled.end(), {"--output", (tmp / "u.npy").string(), "--no-pool"});
      const auto r1 = run_cli(pooled);
      ASSERT_EQ(r1.code, 0) << r1.output;
      EXPECT_LE(max_rel_diff(io::read_npy(tmp / "p.npy"), io::read_npy(dir / "expected.npy")), 1e-4) << dir << " " << w;
      const auto r2 = run_cli(unpooled);
      ASSERT_EQ(r2.code, 0) << r2.output;
      EXPECT_LE(max_rel_diff(io::read_npy(tmp / "u.npy"), io::read_npy(dir / "expected_unpooled.npy")), 1e-4) << dir << " " << w;
    }
  }
}

TEST(Cli, ForwardAcceptsUnbatchedAndFlatLayouts) {
  TempDir tmp;
  const fs::path dir = fixture("brain_model/tribe_like");
  std::vector<std::string> args = {"-q", "forward", "--model", dir.string(), "--output", (tmp / "o.npy").string()};
  for (const char* m : {"text", "audio", "video"}) {
    const Tensor t = io::read_npy(dir / (std::string("input_") + m + ".npy"));  // [1, L, D, T]
    const std::string f3 = (tmp / (std::string(m) + "3.npy")).string();
    io::write_npy(f3, m == std::string("audio") ? t.reshape({t.dim(1), t.dim(2), t.dim(3)}) : t.reshape({1, t.dim(1) * t.dim(2), t.dim(3)}));
    args.insert(args.end(), {"--input", std::string(m) + "=" + f3});
  }
  const auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "o.npy"), io::read_npy(dir / "expected.npy")), 1e-4);
}

TEST(Cli, PredictWritesRowsAndSegments) {
  TempDir tmp;
  const fs::path dir = fixture("brain_model/text64_pipeline");
  // text features [2, 64, 7] at 2 Hz -> 3.5 s -> 4 rows. This model pools to 15 TRs, so its
  // segments are 15 s (30 steps) although its config.yaml says duration_trs 100.
  Tensor t = Tensor::zeros(DType::F32, {2, 64, 7});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i % 13) * 0.1f;
  io::write_npy(tmp / "text.npy", t);
  const auto r = run_cli({"-q", "predict", "--model", dir.string(), "--features", "text=" + (tmp / "text.npy").string(),
                          "--output", (tmp / "preds.npy").string(), "--emit-latents"});
  ASSERT_EQ(r.code, 0) << r.output;
  const Tensor p = io::read_npy(tmp / "preds.npy");
  EXPECT_EQ(p.dim(0), 4);
  EXPECT_EQ(p.dim(1), 57);
  const auto j = nlohmann::json::parse(read_bytes(tmp / "preds_segments.json"));
  EXPECT_EQ(j["n_rows"].get<int>(), p.dim(0));
  EXPECT_TRUE(fs::exists(tmp / "preds_latents.npy"));
}

TEST(Cli, PredictReadsNpzAndRawBinFeatures) {
  TempDir tmp;
  const fs::path dir = fixture("brain_model/text64_pipeline");
  Tensor t = Tensor::zeros(DType::F32, {2, 64, 9});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i % 7) * 0.25f;
  io::write_npy(tmp / "text.npy", t);
  io::write_npz(tmp / "feats.npz", {{"text", t}, {"audio", Tensor::zeros(DType::F32, {2, 12, 9})}});
  write_bytes(tmp / "text.bin", std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  auto run = [&](const std::vector<std::string>& extra, const std::string& out) {
    std::vector<std::string> a = {"-q", "predict", "--model", dir.string(), "--output", (tmp / out).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    const auto r = run_cli(a);
    EXPECT_EQ(r.code, 0) << r.output;
    return io::read_npy(tmp / out);
  };
  const Tensor a = run({"--features", "text=" + (tmp / "text.npy").string()}, "a.npy");
  const Tensor b = run({"--features", "text=" + (tmp / "feats.npz").string()}, "b.npy");
  const Tensor c = run({"--features", "text=" + (tmp / "text.bin").string(), "--shape", "2,64,9"}, "c.npy");
  EXPECT_EQ(max_abs_diff(a, b), 0.0);
  EXPECT_EQ(max_abs_diff(a, c), 0.0);
  EXPECT_EQ(a.dim(0), 5);  // 4.5 s -> 5 rows
  const auto r = run_cli({"predict", "--model", dir.string(), "--features", "text=" + (tmp / "text.bin").string(), "--shape", "2,64,10",
                          "--output", (tmp / "d.npy").string()});
  EXPECT_TRUE(one_line_error(r)) << r.output;
  EXPECT_NE(r.output.find("--shape [2, 64, 10] of float32 needs 5120"), std::string::npos) << r.output;
}

TEST(Cli, InspectListsEverything) {
  const auto r = run_cli({"inspect", fixture("brain_model/tribe_like/best.ckpt").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* s : {"PyTorch checkpoint", "encoder: depth 2", "rotary on 32 dims", "predictor.weights  [1, 40, 57]  F32",
                        "low-rank head 40", "parameters:", "feature frequency 2 Hz"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
}

TEST(Cli, BadInputsGiveOneLineErrors) {
  TempDir tmp;
  const fs::path dir = fixture("brain_model/tribe_like");
  const std::string text = "text=" + (dir / "input_text.npy").string();
  const std::string out = (tmp / "o.npy").string();
  {
    std::string h = "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }";
    std::string bad = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(h.size()) + std::string(1, '\0') + h + std::string(16, '\0');
    write_bytes(tmp / "bad.npy", bad);
  }
  write_bytes(tmp / "trunc.npy", read_bytes(dir / "input_text.npy").substr(0, 200));
  io::write_npy(tmp / "i8.npy", Tensor::zeros(DType::I64, {1, 2, 24, 20}));
  io::write_npy(tmp / "long.npy", Tensor::zeros(DType::F32, {1, 2, 24, 65}));
  {
    Tensor n = Tensor::zeros(DType::F32, {1, 2, 24, 20});
    n.data<float>()[3] = std::numeric_limits<float>::infinity();
    io::write_npy(tmp / "nan.npy", n);
    const std::int64_t ids[] = {3};
    io::write_npy(tmp / "subj.npy", Tensor::from<std::int64_t>({1}, ids));
  }
  // safetensors with overlapping offsets, next to a valid config and build_args.
  {
    const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    std::string len(8, '\0');
    len[0] = static_cast<char>(h.size());
    write_bytes(tmp / "corrupt.safetensors", len + h + std::string(12, '\0'));
  }
  fs::copy_file(dir / "config.yaml", tmp / "config.yaml");
  fs::copy_file(dir / "build_args.json", tmp / "build_args.json");
  // A checkpoint whose pickle uses INST (old-style class instantiation): refused.
  fs::create_directories(tmp / "inst");
  fs::copy_file(dir / "config.yaml", tmp / "inst" / "config.yaml");
  {
    const std::string pkl = "\x80\x02(i__main__\nEvil\n.";
    std::vector<std::byte> b(pkl.size());
    std::memcpy(b.data(), pkl.data(), pkl.size());
    io::write_zip_stored(tmp / "inst" / "best.ckpt", {{"archive/data.pkl", b}});
  }
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"forward", "--model", (tmp / "none").string(), "--input", text, "--output", out}, "no such file or folder"},
      {{"forward", "--model", dir.string(), "--input", "text=" + (tmp / "bad.npy").string(), "--output", out}, "unsupported .npy dtype"},
      {{"forward", "--model", dir.string(), "--input", "text=" + (tmp / "trunc.npy").string(), "--output", out}, "truncated data"},
      {{"forward", "--model", dir.string(), "--input", "text=" + (tmp / "i8.npy").string(), "--output", out}, "must be float32 or float16"},
      {{"forward", "--model", dir.string(), "--input", "audio=" + (dir / "input_text.npy").string(), "--output", out}, "expected [B, 2, 12, T]"},
      {{"forward", "--model", dir.string(), "--input", "smell=" + (dir / "input_text.npy").string(), "--output", out}, "not a modality of this model"},
      {{"forward", "--model", dir.string(), "--input", "text", "--output", out}, "expects MODALITY=FILE"},
      {{"forward", "--model", fixture("brain_model/linear_baseline_multisubject").string(), "--input", text, "--output", out}, "pass --subjects"},
      {{"predict", "--model", dir.string(), "--features", "text=" + (dir / "input_text.npy").string()}, "features for 'text' must be [2, 24, N]"},
      {{"forward", "--model", dir.string(), "--input", "text=" + (tmp / "long.npy").string(), "--output", out}, "longer than the model's max_seq_len (64)"},
      {{"forward", "--model", dir.string(), "--input", "text=" + (tmp / "nan.npy").string(), "--output", out}, "contains NaN or Inf"},
      {{"forward", "--model", fixture("brain_model/linear_baseline_multisubject").string(), "--input", text, "--subjects",
        (tmp / "subj.npy").string(), "--output", out}, "subject id 3 is out of range for 3"},
      {{"forward", "--model", (tmp / "corrupt.safetensors").string(), "--input", text, "--output", out}, "overlapping data_offsets"},
      {{"forward", "--model", (tmp / "inst" / "best.ckpt").string(), "--input", text, "--output", out}, "opcode INST is not supported"},
      {{"predict", "--model", dir.string(), "--features", "text=" + (tmp / "missing.npy").string()}, "missing.npy: cannot open"},
      {{"--precision", "fp8", "forward", "--model", dir.string(), "--input", text, "--output", out}, "--precision must be f32 or bf16"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_TRUE(one_line_error(r)) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << "expected '" << c.expect << "' in: " << r.output;
  }
}

TEST(Cli, PortableKernelLevelsMatchGoldens) {
  // The same binary on a CPU without AVX-512 (or AVX2): TRIBEV2_CPU caps the kernels used.
  TempDir tmp;
  for (const char* level : {"generic", "avx2", "avx512"}) {
    ::setenv("TRIBEV2_CPU", level, 1);
    for (const char* c : {"tribe_like", "deep_long"}) {
      const fs::path dir = fixture(std::string("brain_model/") + c);
      std::vector<std::string> args = {"-q", "forward", "--model", dir.string(), "--output", (tmp / "o.npy").string()};
      for (const char* m : {"text", "audio", "video"})
        if (fs::exists(dir / (std::string("input_") + m + ".npy")))
          args.insert(args.end(), {"--input", std::string(m) + "=" + (dir / (std::string("input_") + m + ".npy")).string()});
      const auto r = run_cli(args);
      ASSERT_EQ(r.code, 0) << r.output;
      EXPECT_LE(max_rel_diff(io::read_npy(tmp / "o.npy"), io::read_npy(dir / "expected.npy")), 1e-4) << level << " " << c;
    }
  }
  ::unsetenv("TRIBEV2_CPU");
}

TEST(Cli, Bf16PrecisionRuns) {
  TempDir tmp;
  const fs::path dir = fixture("brain_model/tribe_like");
  std::vector<std::string> args = {"-q", "--precision", "bf16", "forward", "--model", dir.string(), "--output",
                                   (tmp / "o.npy").string()};
  for (const char* m : {"text", "audio", "video"})
    args.insert(args.end(), {"--input", std::string(m) + "=" + (dir / (std::string("input_") + m + ".npy")).string()});
  const auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  const double rel = max_rel_diff(io::read_npy(tmp / "o.npy"), io::read_npy(dir / "expected.npy"));
  EXPECT_GT(rel, 0.0);   // really bf16 products
  EXPECT_LE(rel, 5e-2);  // and still the same maps (see Golden.Bf16StaysCorrelatedWithFloat32)
}

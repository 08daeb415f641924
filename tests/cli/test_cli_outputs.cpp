// predict's side files (<stem>_segments.json, <stem>_latents.npy), --overlap-trs from the
// command line, plot/to-gifti reading the segments back, the GIFTI time step as Workbench reads
// it, the convert round trip and a demo smoke test.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/viz/gifti.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {
// text64_pipeline text features [2, 64, n] (the model pools to 15 TRs: 30-step segments).
fs::path write_text_features(const fs::path& dir, std::int64_t n) {
  Tensor t = Tensor::zeros(DType::F32, {2, 64, n});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>((i * 7) % 23) * 0.05f - 0.5f;
  io::write_npy(dir / "text.npy", t);
  return dir / "text.npy";
}

std::string shell_output(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}
}  // namespace

TEST(CliOutputs, PredictSideFilesAreNamedAfterTheOutputAndRecordTheOverlap) {
  TempDir tmp;
  const fs::path model = fixture("brain_model/text64_pipeline");
  const fs::path text = write_text_features(tmp.path(), 80);  // 40 s: 3 segments, or 4 with K = 5
  auto predict = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a = {"-q", "--threads", "2", "predict", "--model", model.string(), "--features",
                                  "text=" + text.string(), "--output", (tmp / out).string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_cli(a);
  };
  auto r = predict("a.npy", {"--emit-latents"});
  ASSERT_EQ(r.code, 0) << r.output;
  r = predict("b.npy", {"--overlap-trs", "5", "--emit-latents"});
  ASSERT_EQ(r.code, 0) << r.output;
  // Two predictions in one folder: nothing shared, nothing overwritten.
  for (const char* f : {"a_segments.json", "a_latents.npy", "b_segments.json", "b_latents.npy"}) EXPECT_TRUE(fs::exists(tmp / f)) << f;
  EXPECT_FALSE(fs::exists(tmp / "segments.json"));
  EXPECT_FALSE(fs::exists(tmp / "latents.npy"));
  const auto ja = nlohmann::json::parse(read_bytes(tmp / "a_segments.json"));
  const auto jb = nlohmann::json::parse(read_bytes(tmp / "b_segments.json"));
  EXPECT_EQ(ja["overlap_trs"].get<int>(), 0);
  EXPECT_EQ(jb["overlap_trs"].get<int>(), 5);
  EXPECT_EQ(ja["segments"].size(), 3u);
  EXPECT_EQ(jb["segments"].size(), 4u);  // every 10 TRs; rows [0, 15), [15, 25), [25, 35), [35, 40)
  EXPECT_EQ(jb["segments"][1]["start"].get<double>(), 10.0);
  EXPECT_EQ(jb["segments"][1]["first_row_used"].get<int>(), 5);
  EXPECT_EQ(ja["rows"], jb["rows"]) << "row count and times do not depend on the overlap";
  const Tensor pa = io::read_npy(tmp / "a.npy"), pb = io::read_npy(tmp / "b.npy");
  ASSERT_EQ(pa.dim(0), 40);
  ASSERT_EQ(pb.dim(0), 40);
  EXPECT_EQ(std::memcmp(pa.raw(), pb.raw(), 15 * 57 * sizeof(float)), 0) << "first segment: the plain rows";
  EXPECT_GT(max_abs_diff(pa, pb), 0.0) << "later rows come from the shifted windows";
  EXPECT_EQ(shape_str(io::read_npy(tmp / "b_latents.npy").shape()), shape_str(io::read_npy(tmp / "a_latents.npy").shape()));
  // --overlap-trs 0 is today's predict, byte for byte.
  r = predict("c.npy", {"--overlap-trs", "0"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(read_bytes(tmp / "c.npy"), read_bytes(tmp / "a.npy"));
  // K >= the segment length: a one-line error naming the option.
  r = predict("d.npy", {"--overlap-trs", "15"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--overlap-trs must be in [0, 15)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "d.npy"));
}

TEST(CliOutputs, ToGiftiReadsStemSegmentsThenPlainSegmentsAndStoresTheTimeStep) {
  TempDir tmp;
  Tensor p = Tensor::zeros(DType::F32, {3, 20484});
  for (std::int64_t i = 0; i < p.numel(); ++i) p.data<float>()[i] = static_cast<float>(i % 101) * 0.01f;
  io::write_npy(tmp / "x.npy", p);
  write_bytes(tmp / "x_segments.json", R"({"tr_s": 1.0, "rows": [{"start": 0.5}, {"start": 1.5}, {"start": 2.5}]})");
  write_bytes(tmp / "segments.json", R"({"rows": [{"start": 7}, {"start": 8}, {"start": 9}]})");
  auto r = run_cli({"-q", "to-gifti", (tmp / "x.npy").string(), "--out-dir", (tmp / "g").string(), "--tr", "1.5"});
  ASSERT_EQ(r.code, 0) << r.output;
  const fs::path lh = tmp / "g" / "x_hemi-L_space-fsaverage5_bold.func.gii";
  auto img = viz::read_gifti(lh);
  ASSERT_EQ(img.arrays.size(), 3u);
  EXPECT_EQ(img.arrays[1].meta_value("Name"), "t=1.500000") << "x_segments.json is preferred";
  EXPECT_EQ(img.meta_value("TimeStep"), "1.500000");
  // Old outputs (a run/demo folder, or predictions written before the stem naming): segments.json.
  fs::remove(tmp / "x_segments.json");
  r = run_cli({"-q", "to-gifti", (tmp / "x.npy").string(), "--out-dir", (tmp / "g").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  img = viz::read_gifti(lh);
  EXPECT_EQ(img.arrays[1].meta_value("Name"), "t=8.000000");

  // What Workbench shows: `wb_command -file-information -only-metadata` lists the file metadata
  // TimeStep (seconds) and TimeStepUnits. (Workbench 1.5 derives "Map Interval Units" only for
  // CIFTI series and volumes; for a GIFTI metric it prints NIFTI_UNITS_UNKNOWN whatever the
  // metadata says: checked with file and per-array TimeStep/TimeStepUnits = NIFTI_UNITS_SEC.)
  if (std::system("command -v wb_command >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "wb_command (Debian connectome-workbench) not installed: Workbench's reading of the time step not checked";
  r = run_cli({"-q", "to-gifti", (tmp / "x.npy").string(), "--out-dir", (tmp / "g").string(), "--tr", "1.5"});
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string info = shell_output("wb_command -file-information " + lh.string() + " -only-metadata 2>&1");
  EXPECT_NE(info.find("TimeStep:\n1.5"), std::string::npos) << info;  // Workbench prints 1.500000
  EXPECT_NE(info.find("TimeStepUnits:\nseconds\n"), std::string::npos) << info;
  const std::string maps = shell_output("wb_command -file-information " + lh.string() + " 2>&1");
  EXPECT_NE(maps.find("Number of Maps:           3"), std::string::npos) << maps;
}

// ckpt -> convert -> model.safetensors gives the same forward() outputs on the golden inputs.
TEST(CliOutputs, ConvertRoundTripGivesIdenticalOutputs) {
  TempDir tmp;
  int cases = 0;
  for (const auto& e : fs::directory_iterator(fixture("brain_model"))) {
    const fs::path dir = e.path();
    if (!fs::exists(dir / "best.ckpt")) continue;
    ++cases;
    const fs::path conv = tmp / dir.filename();
    auto r = run_cli({"-q", "convert", "--model", (dir / "best.ckpt").string(), "--out", conv.string()});
    ASSERT_EQ(r.code, 0) << r.output;
    ASSERT_TRUE(fs::exists(conv / "model.safetensors")) << conv;
    ASSERT_TRUE(fs::exists(conv / "build_args.json")) << conv;
    std::vector<Tensor> outs;
    for (const fs::path& w : {dir / "best.ckpt", conv}) {
      std::vector<std::string> a = {"-q", "--threads", "2", "forward", "--model", w.string()};
      for (const char* m : {"text", "audio", "video"})
        if (fs::exists(dir / (std::string("input_") + m + ".npy")))
          a.insert(a.end(), {"--input", std::string(m) + "=" + (dir / (std::string("input_") + m + ".npy")).string()});
      if (fs::exists(dir / "input_subject_id.npy")) a.insert(a.end(), {"--subjects", (dir / "input_subject_id.npy").string()});
      a.insert(a.end(), {"--output", (tmp / "o.npy").string()});
      r = run_cli(a);
      ASSERT_EQ(r.code, 0) << r.output;
      outs.push_back(io::read_npy(tmp / "o.npy"));
    }
    EXPECT_EQ(max_abs_diff(outs[1], outs[0]), 0.0) << dir.filename() << ": converted weights give other outputs";
    EXPECT_LE(max_rel_diff(outs[1], io::read_npy(dir / "expected.npy")), 1e-4) << dir.filename();
  }
  EXPECT_GE(cases, 3);
}

TEST(CliOutputs, DemoSmoke) {
  TempDir tmp;
  // Real (fixture) weights: fast; every file the demo announces is there and consistent.
  auto r = run_cli({"-q", "--threads", "2", "demo", "--model", fixture("brain_model/text64_pipeline").string(), "--out",
                    (tmp / "d").string(), "--seconds", "40"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("real TRIBE v2 weights"), std::string::npos) << r.output;
  const Tensor p = io::read_npy(tmp / "d" / "preds.npy");
  EXPECT_EQ(shape_str(p.shape()), "[40, 57]");
  const auto j = nlohmann::json::parse(read_bytes(tmp / "d" / "segments.json"));
  EXPECT_EQ(j["n_rows"].get<int>(), 40);
  EXPECT_TRUE(fs::exists(tmp / "d" / "features.npz"));
  for (float v : p.f32()) ASSERT_TRUE(std::isfinite(v));
  // The random-weight published architecture (no model given): one short segment.
  r = run_cli({"-q", "--threads", "2", "demo", "--out", (tmp / "r").string(), "--seconds", "3"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("RANDOM-WEIGHT model"), std::string::npos) << r.output;
  EXPECT_EQ(shape_str(io::read_npy(tmp / "r" / "preds.npy").shape()), "[3, 20484]");
  r = run_cli({"-q", "demo", "--out", (tmp / "e").string(), "--seconds", "0"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--seconds must be positive"), std::string::npos) << r.output;
}

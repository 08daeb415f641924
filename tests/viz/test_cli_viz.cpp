// The visualisation subcommands end to end: plot, movie, to-gifti, fetch-mesh, predict --plot.
#include <gtest/gtest.h>

#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/gifti.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
namespace fs = std::filesystem;
using tribev2::test::run_cli;

namespace {

class VizCli : public ::testing::Test {
 protected:
  void SetUp() override {
    mesh_ = viz::vtest::any_fsaverage5_dir(tmp_.path()).string();
    Tensor t = Tensor::empty(DType::F32, {6, viz::kFsaverage5Outputs});
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
    preds_ = (tmp_ / "preds.npy").string();
    io::write_npy(preds_, t);
  }
  bool is_png(const fs::path& p) { return tribev2::test::read_bytes(p).substr(1, 3) == "PNG"; }
  tribev2::test::TempDir tmp_;
  std::string mesh_, preds_;
};

std::string run_env(const std::string& env, const std::string& args) {
  const std::string cmd = "env " + env + " '" + std::string(TRIBEV2_CLI) + "' " + args + " 2>&1; echo \"rc=$?\"";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  if (p) pclose(p);
  return out;
}

}  // namespace

TEST_F(VizCli, PlotTheIssueExample) {
  const auto r = run_cli({"plot", preds_, "--rows", "0,2,4", "--view", "lateral", "--surface", "inflated", "--cmap", "RdBu_r",
                          "--out", (tmp_ / "figure.png").string(), "--mesh-dir", mesh_, "--dpi", "60"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(is_png(tmp_ / "figure.png"));
  const auto img = viz::vtest::read_png(tmp_ / "figure.png");
  EXPECT_GT(img.width, 3 * 144);  // three panels of 2.4 in at 60 dpi
}

TEST_F(VizCli, PlotStatsFormatsAndRgb) {
  for (const char* out : {"mean.svg", "std.pdf"}) {
    const auto r = run_cli({"-q", "plot", preds_, "--stat", std::string(out).substr(0, 3) == "std" ? "std" : "mean", "--layout", "6view",
                            "--out", (tmp_ / out).string(), "--mesh-dir", mesh_, "--dpi", "50", "--title", "T", "--threshold", "0.2"});
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_GT(fs::file_size(tmp_ / out), 1000u);
  }
  const auto r = run_cli({"-q", "plot", "--rgb", preds_ + "," + preds_ + "," + preds_, "--out", (tmp_ / "rgb.png").string(),
                          "--mesh-dir", mesh_, "--dpi", "50", "--layout", "lateral"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(is_png(tmp_ / "rgb.png"));
}

TEST_F(VizCli, PlotErrorsAreOneLine) {
  const std::string out = (tmp_ / "x.png").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"plot", preds_, "--out", out, "--mesh-dir", mesh_, "--cmap", "jet"}, "unknown colormap 'jet'"},
      {{"plot", preds_, "--out", out, "--mesh-dir", mesh_, "--rows", "0,99"}, "row 99 is out of range (the predictions have 6 rows)"},
      {{"plot", preds_, "--out", out, "--mesh-dir", (tmp_ / "none").string()}, "tribev2 fetch-mesh"},
      {{"plot", preds_, "--out", (tmp_ / "x.gif").string(), "--mesh-dir", mesh_}, "unknown figure format '.gif'"},
      {{"plot", preds_, "--out", out, "--mesh-dir", mesh_, "--view", "medial", "--hemi", "both"}, "needs one hemisphere"},
      {{"plot", preds_, "--out", out, "--mesh-dir", mesh_, "--size", "big"}, "--size expects WxH"},
      {{"plot", (tmp_ / "missing.npy").string(), "--out", out, "--mesh-dir", mesh_}, "missing.npy: cannot open"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_NE(r.code, 0) << c.message;
    EXPECT_EQ(r.output.rfind("tribev2: error: ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
  }
  io::write_npy(tmp_ / "small.npy", Tensor::zeros(DType::F32, {2, 57}));
  const auto r = run_cli({"plot", (tmp_ / "small.npy").string(), "--out", out, "--mesh-dir", mesh_});
  EXPECT_NE(r.output.find("the last dimension must be 20484"), std::string::npos) << r.output;
}

TEST_F(VizCli, MovieAndGifti) {
  const auto r = run_cli({"-q", "movie", preds_, "--out", (tmp_ / "brain.mp4").string(), "--mesh-dir", mesh_, "--dpi", "30",
                          "--layout", "lateral", "--fps", "2"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(tribev2::test::read_bytes(tmp_ / "brain.mp4").substr(4, 4).find("ftyp"), std::string::npos);
  const auto g = run_cli({"to-gifti", preds_, "--out-dir", (tmp_ / "gii").string(), "--maps"});
  ASSERT_EQ(g.code, 0) << g.output;
  const auto img = viz::read_gifti(tmp_ / "gii" / "preds_hemi-R_space-fsaverage5_bold.func.gii");
  EXPECT_EQ(img.arrays.size(), 6u);
  EXPECT_TRUE(fs::exists(tmp_ / "gii" / "preds_stat-mean_hemi-L_space-fsaverage5.shape.gii"));
}

// `tribev2 movie` is a function of its inputs: the same command writes the same bytes whatever
// the process's heap held before. glibc's MALLOC_PERTURB_ fills fresh and freed heap blocks with
// a byte (1, 2), standing in for the random tcache keys and pointers found there in the wild.
// libx264's AVX-512 MB-tree code read such bytes when the width in macroblocks was not a multiple
// of 8 (here 210 px = 14 macroblocks): the MP4 changed in about one run in eight, a few pixels of
// the labels a few levels each. On CPUs without AVX-512 this passes either way.
TEST_F(VizCli, MovieIsTheSameBytesWhateverTheHeapHeld) {
  const fs::path events = tmp_ / "events.tsv";
  std::string tsv = "type\tstart\tduration\tfilepath\toffset\ttext\n";
  const char* words[] = {"A", "short", "story", "about", "a", "cat.", "The", "cat", "sleeps", "all", "day"};
  for (int i = 0; i < 11; ++i) tsv += "Word\t" + std::to_string(0.5 * i) + "\t0.4\t\t0\t" + words[i] + "\n";
  tribev2::test::write_bytes(events, tsv);
  std::string first;
  for (const std::string perturb : {"", "MALLOC_PERTURB_=1", "MALLOC_PERTURB_=2"}) {
    const fs::path out = tmp_ / ("same" + std::to_string(perturb.size()) + ".mp4");
    const std::string args = "-q --threads 1 movie '" + preds_ + "' --events '" + events.string() + "' --out '" + out.string() +
                             "' --mesh-dir '" + mesh_ + "' --view lateral --hemi left --dpi 60 --panel-width 2.4";
    const std::string r = run_env(perturb, args);
    ASSERT_NE(r.find("rc=0"), std::string::npos) << r;
    const std::string bytes = tribev2::test::read_bytes(out);
    ASSERT_GT(bytes.size(), 1000u);
    if (first.empty()) first = bytes;
    else EXPECT_TRUE(bytes == first) << "with " << perturb << " the movie differs from the first run";
  }
}

TEST_F(VizCli, FetchMeshFromFileUrl) {
  const fs::path real = viz::vtest::real_fsaverage5_dir();
  if (real.empty()) GTEST_SKIP() << "needs ../shared/data/fsaverage5 (the pinned hashes are those files')";
  const auto r = run_cli({"fetch-mesh", "--dir", (tmp_ / "m").string(), "--base-url", "file://" + real.string()});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("12 downloaded"), std::string::npos) << r.output;
  const auto c = run_cli({"fetch-mesh", "--dir", (tmp_ / "m").string(), "--check"});
  EXPECT_EQ(c.code, 0) << c.output;
  tribev2::test::write_bytes(tmp_ / "m" / "curv_right.gii.gz", "x");
  const auto bad = run_cli({"fetch-mesh", "--dir", (tmp_ / "m").string(), "--check"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.output.find("missing or corrupt: curv_right.gii.gz"), std::string::npos) << bad.output;
}

TEST_F(VizCli, PredictPlotNeedsMeshesAndFsaverage5Outputs) {
  const fs::path model = tribev2::test::fixture("brain_model/text64_pipeline");
  Tensor t = Tensor::zeros(DType::F32, {2, 64, 7});
  io::write_npy(tmp_ / "text.npy", t);
  const std::string args = "predict --model '" + model.string() + "' --features text='" + (tmp_ / "text.npy").string() +
                           "' --output '" + (tmp_ / "p.npy").string() + "' --plot '" + (tmp_ / "figs").string() + "'";
  // No meshes: fails before predicting, with the fetch-mesh hint.
  const std::string none = run_env("TRIBEV2_MESH_DIR=" + (tmp_ / "none").string(), args);
  EXPECT_NE(none.find("tribev2 fetch-mesh"), std::string::npos) << none;
  EXPECT_NE(none.find("rc=1"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_ / "p.npy"));
  // Meshes present, but this test model has 57 outputs, not fsaverage5's 20484.
  const std::string small = run_env("TRIBEV2_MESH_DIR=" + mesh_, args);
  EXPECT_NE(small.find("the last dimension must be 20484"), std::string::npos) << small;
}

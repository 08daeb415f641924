#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/gifti.hpp"
#include "tribev2/viz/outputs.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {
Tensor random_preds(std::int64_t rows) {
  Tensor t = Tensor::empty(DType::F32, {rows, kFsaverage5Outputs});
  float* p = t.data<float>();
  std::uint64_t s = 42;
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    p[i] = static_cast<float>(static_cast<double>(s >> 11) * 0x1.0p-53 * 4.0 - 2.0);
  }
  return t;
}
}  // namespace

TEST(Outputs, TimeSeriesGiftiStructure) {
  tribev2::test::TempDir tmp;
  const Tensor preds = random_preds(3);
  TimeSeriesOptions o;
  o.row_times = {0.0, 1.0, 2.5};
  const auto files = write_time_series_gifti(preds, tmp.path(), "preds", o);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "preds_hemi-L_space-fsaverage5_bold.func.gii");
  EXPECT_EQ(files[1].filename(), "preds_hemi-R_space-fsaverage5_bold.func.gii");
  for (int h = 0; h < 2; ++h) {
    const GiftiImage img = read_gifti(files[static_cast<std::size_t>(h)]);
    EXPECT_EQ(img.meta_value("AnatomicalStructurePrimary"), h == 0 ? "CortexLeft" : "CortexRight");
    EXPECT_EQ(img.meta_value("TimeStep"), "1.000000");
    ASSERT_EQ(img.arrays.size(), 3u);
    for (std::size_t r = 0; r < 3; ++r) {
      const auto& a = img.arrays[r];
      EXPECT_EQ(a.intent, "NIFTI_INTENT_TIME_SERIES");
      EXPECT_EQ(a.data_type, "NIFTI_TYPE_FLOAT32");
      ASSERT_EQ(a.dims, (std::vector<std::int64_t>{kFsaverage5Vertices}));
      const float* want = std::as_const(preds).data<float>() + r * static_cast<std::size_t>(kFsaverage5Outputs) +
                          static_cast<std::size_t>(h) * static_cast<std::size_t>(kFsaverage5Vertices);
      EXPECT_TRUE(std::equal(a.floats.begin(), a.floats.end(), want));
    }
    EXPECT_EQ(img.arrays[2].meta_value("Name"), "t=2.500000");
  }
  EXPECT_THROW_MSG(write_time_series_gifti(Tensor::zeros(DType::F32, {2, 100}), tmp.path(), "x", {}), "last dimension must be 20484");
  EXPECT_THROW_MSG(write_time_series_gifti(preds, tmp.path(), "a/b", {}), "plain file name");
}

TEST(Outputs, MeanStdAndRowTimes) {
  Tensor t = Tensor::empty(DType::F32, {2, 3});
  float* p = t.data<float>();
  const float v[6] = {1, 2, 3, 3, 6, 3};
  std::copy(v, v + 6, p);
  EXPECT_EQ(row_mean(t), (std::vector<float>{2, 4, 3}));
  EXPECT_EQ(row_std(t), (std::vector<float>{1, 2, 0}));
  tribev2::test::TempDir tmp;
  tribev2::test::write_bytes(tmp / "segments.json", R"({"rows": [{"row": 0, "start": 0.5}, {"row": 1, "start": 1.5}]})");
  EXPECT_EQ(read_row_times(tmp / "segments.json", 2), (std::vector<double>{0.5, 1.5}));
  EXPECT_EQ(read_row_times({}, 3), (std::vector<double>{0, 1, 2}));
  EXPECT_THROW_MSG(read_row_times(tmp / "segments.json", 3), "2 rows, but the predictions have 3");
  tribev2::test::write_bytes(tmp / "bad.json", R"({"rows": 7})");
  EXPECT_THROW_MSG(read_row_times(tmp / "bad.json", 3), "cannot read row times");
}

// nibabel (Debian python3-nibabel) loads our files and gets the same numbers; and we read a
// big-endian file the same way nibabel does.
TEST(Outputs, NibabelRoundTrip) {
  if (!vtest::have_nibabel()) GTEST_SKIP() << "needs /usr/bin/python3 with nibabel (scripts/install-deps.sh --test)";
  tribev2::test::TempDir tmp;
  const Tensor preds = random_preds(4);
  io::write_npy(tmp / "preds.npy", preds);
  write_time_series_gifti(preds, tmp.path(), "gz", {});
  TimeSeriesOptions ascii;
  ascii.encoding = GiftiEncoding::Ascii;
  write_time_series_gifti(preds, tmp.path(), "ascii", ascii);
  TimeSeriesOptions b64;
  b64.encoding = GiftiEncoding::Base64Binary;
  write_time_series_gifti(preds, tmp.path(), "b64", b64);
  const auto mean = row_mean(preds);
  write_map_gifti(mean, tmp.path(), "mean", "mean over rows");
  write_gifti(tmp / "ico.surf.gii", make_surface_gifti(make_icosphere(2, 30.0f), "CortexLeft"));
  const std::string d = tmp.path().string();
  const auto r = vtest::run_python(
      "import numpy as np, nibabel as nib, struct, base64\n"
      "d = '" + d + "'\n"
      "p = np.load(d + '/preds.npy')\n"
      "for stem in ('gz', 'ascii', 'b64'):\n"
      "    parts = []\n"
      "    for h in 'LR':\n"
      "        g = nib.load(f'{d}/{stem}_hemi-{h}_space-fsaverage5_bold.func.gii')\n"
      "        assert len(g.darrays) == 4, len(g.darrays)\n"
      "        for a in g.darrays:\n"
      "            assert nib.nifti1.intent_codes.niistring[a.intent] == 'NIFTI_INTENT_TIME_SERIES'\n"
      "            assert a.data.dtype == np.float32 and a.data.shape == (10242,), (a.data.dtype, a.data.shape)\n"
      "        assert g.meta['TimeStep'] == '1.000000'\n"
      "        parts.append(np.stack([a.data for a in g.darrays]))\n"
      "    got = np.concatenate(parts, axis=1)\n"
      "    err = float(np.abs(got - p).max())\n"
      "    assert err == 0.0, (stem, err)\n"
      "m = np.concatenate([nib.load(f'{d}/mean_hemi-{h}_space-fsaverage5.shape.gii').darrays[0].data for h in 'LR'])\n"
      "assert np.abs(m - p.astype(np.float64).mean(0)).max() < 1e-6\n"
      "s = nib.load(d + '/ico.surf.gii')\n"
      "assert s.darrays[0].data.shape == (162, 3) and s.darrays[1].data.shape == (320, 3)\n"
      "vals = np.array([1.5, -2.25, 3e-3], '>f4')\n"
      "xml = ('<?xml version=\"1.0\"?><GIFTI Version=\"1.0\" NumberOfDataArrays=\"1\"><DataArray Intent=\"NIFTI_INTENT_SHAPE\" '\n"
      "       'DataType=\"NIFTI_TYPE_FLOAT32\" ArrayIndexingOrder=\"RowMajorOrder\" Dimensionality=\"1\" Dim0=\"3\" '\n"
      "       'Encoding=\"Base64Binary\" Endian=\"BigEndian\" ExternalFileName=\"\" ExternalFileOffset=\"\"><Data>'\n"
      "       + base64.b64encode(vals.tobytes()).decode() + '</Data></DataArray></GIFTI>')\n"
      "open(d + '/be.shape.gii', 'w').write(xml)\n"
      "print(' '.join(repr(float(v)) for v in nib.load(d + '/be.shape.gii').darrays[0].data))\n");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto be = gifti_map(read_gifti(tmp / "be.shape.gii"), "be");
  std::ostringstream ours;
  for (std::size_t i = 0; i < be.size(); ++i) ours << (i ? " " : "") << static_cast<double>(be[i]);
  // nibabel prints repr(float): compare numerically.
  std::istringstream nib_out(r.output);
  for (float v : be) {
    double x = 0;
    nib_out >> x;
    EXPECT_EQ(static_cast<float>(x), v);
  }
}

TEST(Outputs, DefaultFigureSet) {
  tribev2::test::TempDir tmp;
  const fs::path mesh = vtest::any_fsaverage5_dir(tmp.path());
  const Tensor preds = random_preds(5);
  const Context ctx(2);
  const std::vector<double> times = {0, 1, 2, 3, 4};
  const auto files = write_default_figures(ctx, preds, times, tmp / "figs", mesh.string());
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"mean.png", "std.png", "timesteps.png", "preds_hemi-L_space-fsaverage5_bold.func.gii",
                                             "preds_hemi-R_space-fsaverage5_bold.func.gii"}));
  for (const auto& f : files) EXPECT_GT(fs::file_size(f), 1000u) << f;
  EXPECT_THROW_MSG(check_default_figures((tmp / "nowhere").string()), "tribev2 fetch-mesh");
}

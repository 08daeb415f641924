// V-JEPA2 video features against tests/fixtures/video_features (tolerances of its README):
// frame sampling, the processor, the encoder's hidden states, the extractor, the grids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <cstring>

#include "support/test_support.hpp"
#include "tribev2/core/context.hpp"
#include "tribev2/features/video/extractor.hpp"
#include "tribev2/features/video/preprocess.hpp"
#include "tribev2/features/video/rope3d.hpp"
#include "tribev2/features/video/sampling.hpp"
#include "tribev2/features/video/vjepa2.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/media/video_timing.hpp"

namespace tribev2 {
namespace {

namespace fs = std::filesystem;
namespace fv = features::video;
using nlohmann::json;

fs::path vf(const std::string& rel) { return test::fixture("video_features/" + rel); }
json load_json(const std::string& rel) { return json::parse(io::read_text_file(vf(rel))); }

// max |got - expected| / max |expected| over slice `i` of the leading axis.
double rel_diff_slice(const Tensor& got, const Tensor& expected, std::int64_t i) {
  const std::int64_t n = expected.numel() / expected.dim(0);
  const auto off = static_cast<std::size_t>(i * n), len = static_cast<std::size_t>(n);
  return test::max_rel_diff(got.f32().subspan(off, len), expected.f32().subspan(off, len));
}

// Zero bins of the golden [G, D, n] must be exactly zero in ours.
void expect_zero_bins_match(const Tensor& got, const Tensor& expected, const std::string& what) {
  const std::int64_t G = expected.dim(0), D = expected.dim(1), n = expected.dim(2);
  for (std::int64_t t = 0; t < n; ++t) {
    bool zero = true;
    for (std::int64_t g = 0; g < G && zero; ++g)
      for (std::int64_t d = 0; d < D && zero; ++d) zero = expected.data<float>()[(g * D + d) * n + t] == 0.0f;
    if (!zero) continue;
    for (std::int64_t g = 0; g < G; ++g)
      for (std::int64_t d = 0; d < D; ++d) ASSERT_EQ(got.data<float>()[(g * D + d) * n + t], 0.0f) << what << " bin " << t;
  }
}

void expect_close_per_slice(const Tensor& got, const Tensor& expected, double tol, const std::string& what) {
  ASSERT_EQ(shape_str(got.shape()), shape_str(expected.shape())) << what;
  double worst = 0.0;
  for (std::int64_t i = 0; i < expected.dim(0); ++i) {
    const double r = rel_diff_slice(got, expected, i);
    worst = std::max(worst, r);
    EXPECT_LE(r, tol) << what << " slice " << i;
  }
  ::testing::Test::RecordProperty(what, std::to_string(worst));
  std::printf("[ measured ] %s: max rel diff %.3g (tolerance %.0e)\n", what.c_str(), worst, tol);
}

// Frames of the fixture clip from frames.npy, with moviepy's index rule.
class VideoFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    frames_ = new Tensor(io::read_npy(vf("video/frames.npy")));
    model_ = new fv::VJEPA2Model(fv::VJEPA2Model::load(vf("tiny-vjepa2")));
  }
  static void TearDownTestSuite() {
    delete frames_;
    delete model_;
    frames_ = nullptr;
    model_ = nullptr;
  }
  static fv::FrameSource source() {
    const json cases = load_json("cases.json");
    const double fps = cases["fps"].get<double>();
    const std::int64_t n = frames_->dim(0);
    return {[fps, n](double t) { return media::moviepy_frame_index(fps, t, n); },
            [](std::int64_t i) {
              const std::int64_t per = frames_->dim(1) * frames_->dim(2) * 3;
              Tensor f = Tensor::empty(DType::U8, {frames_->dim(1), frames_->dim(2), 3});
              std::memcpy(f.data<std::uint8_t>(), static_cast<const Tensor&>(*frames_).data<std::uint8_t>() + i * per, static_cast<std::size_t>(per));
              return f;
            }};
  }
  static const Tensor& frames() { return *frames_; }
  static const fv::VJEPA2Model& model() { return *model_; }
  Context ctx{2};

 private:
  static Tensor* frames_;
  static fv::VJEPA2Model* model_;
};
Tensor* VideoFixture::frames_ = nullptr;
fv::VJEPA2Model* VideoFixture::model_ = nullptr;

// ---- stage 1: sampling ---------------------------------------------------------------------

TEST(VideoSampling, FrameIndicesOfEveryBin) {
  const json s = load_json("sampling.json");
  const json cases = load_json("cases.json");
  const double fps = cases["fps"].get<double>();
  const auto n_frames = static_cast<std::int64_t>(io::read_npy(vf("video/frames.npy")).dim(0));
  int events = 0;
  for (const auto& [name, ev] : s.items()) {
    const double offset = ev["offset"].get<double>(), duration = ev["duration"].get<double>();
    EXPECT_EQ(fv::n_bins(duration), ev["n_bins"].get<std::int64_t>()) << name;
    const auto ends = fv::bin_end_times(offset, duration);
    const auto want_ends = ev["bin_end_times"].get<std::vector<double>>();
    ASSERT_EQ(ends.size(), want_ends.size()) << name;
    for (std::size_t k = 0; k < ends.size(); ++k) EXPECT_EQ(ends[k], want_ends[k]) << name << " bin " << k;
    const auto idx = fv::frame_indices(offset, duration, fps, n_frames);
    const auto want = ev["frame_indices"].get<std::vector<std::vector<std::int64_t>>>();
    ASSERT_EQ(idx.size(), want.size()) << name;
    for (std::size_t k = 0; k < idx.size(); ++k) EXPECT_EQ(idx[k], want[k]) << name << " bin " << k;
    ++events;
  }
  EXPECT_GE(events, 3);
}

TEST(VideoSampling, ReaderIndicesMatchOnTheMkv) {
  const json s = load_json("sampling.json");
  media::VideoReader reader(vf("video/clip.mkv"), 4);
  for (const auto& [name, ev] : s.items()) {
    const auto idx = fv::frame_indices(ev["offset"].get<double>(), ev["duration"].get<double>(),
                                       [&](double t) { return reader.frame_index_at(t); });
    EXPECT_EQ(idx, (ev["frame_indices"].get<std::vector<std::vector<std::int64_t>>>())) << name;
  }
}

TEST(VideoSampling, ShortAndEmptyEvents) {
  EXPECT_EQ(fv::n_bins(0.2), 0);       // round(0.4) = 0: no bins
  EXPECT_EQ(fv::n_bins(0.25), 0);      // round(0.5) = 0 (half to even)
  EXPECT_EQ(fv::n_bins(0.75), 2);      // round(1.5) = 2
  EXPECT_TRUE(fv::frame_times(0.0, 0.2).empty());
  const auto t = fv::frame_times(10.0, 1.0);  // a clip shorter than 4 s: windows clamp at its start
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].front(), 10.0);
  EXPECT_EQ(t[1].back(), 11.0);
  EXPECT_THROW(fv::n_bins(-1.0), Error);
  EXPECT_THROW(fv::n_bins(NAN), Error);
}

// ---- unit cases ----------------------------------------------------------------------------

TEST(VideoUnit, RopeCasesIncludingTheRealHeadDim) {
  const json u = load_json("unit_cases.json");
  for (const auto& c : u["rope"]) {
    const int hd = c["head_dim"].get<int>(), grid = c["grid_size"].get<int>();
    const auto split = c["split"].get<std::vector<int>>();
    const fv::Rope3D rope(hd, grid, 64LL * grid * grid);
    for (int s : split) EXPECT_EQ(rope.block_dim(), s);
    const auto ids = c["token_ids"].get<std::vector<std::int64_t>>();
    for (std::size_t r = 0; r < ids.size(); ++r) {
      auto x = c["input"][r].get<std::vector<float>>();
      auto y = x;
      const auto want = c["expected"][r].get<std::vector<float>>();
      rope.apply_token(x.data(), 1, ids[r]);
      fv::reference::rope3d_apply_token(y.data(), 1, hd, grid, ids[r]);
      for (int j = 0; j < hd; ++j) {
        EXPECT_NEAR(x[static_cast<std::size_t>(j)], want[static_cast<std::size_t>(j)], 1e-5) << "head_dim " << hd << " token " << ids[r] << " dim " << j;
        EXPECT_NEAR(y[static_cast<std::size_t>(j)], want[static_cast<std::size_t>(j)], 1e-5);
      }
      // The unrotated tail passes through.
      for (int j = 3 * rope.block_dim(); j < hd; ++j) EXPECT_EQ(x[static_cast<std::size_t>(j)], c["input"][r][static_cast<std::size_t>(j)].get<float>());
    }
  }
}

TEST(VideoUnit, RopeTableMatchesReferenceOnOddSizes) {
  Context ctx(2);
  for (int hd : {6, 7, 16, 33, 64, 88}) {
    const int grid = 3, heads = 2;
    const std::int64_t tokens = 2 * grid * grid + 5;
    fv::Rope3D rope(hd, grid, tokens);
    std::vector<float> x(static_cast<std::size_t>(tokens * heads * hd));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
    auto y = x;
    rope.apply(ctx, x.data(), tokens, heads * hd, heads);
    for (std::int64_t t = 0; t < tokens; ++t) fv::reference::rope3d_apply_token(y.data() + t * heads * hd, heads, hd, grid, t);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], 1e-6) << hd << " " << i;
  }
}

TEST(VideoUnit, LayerSelectionAndGroups) {
  const json u = load_json("unit_cases.json")["layer_selection"];
  EXPECT_EQ(fv::layer_selection(u["n_hidden_states"].get<int>(), u["cache_n_layers"].get<int>()),
            u["sel"].get<std::vector<int>>());
  EXPECT_EQ(fv::group_bounds(u["cache_n_layers"].get<int>(), {0.5, 0.75, 1.0}), u["group_bounds"].get<std::vector<int>>());
  EXPECT_EQ(fv::group_bounds(25, {0.5, 0.75, 1.0}), (std::vector<int>{12, 18, 25}));  // audio's
}

TEST(VideoUnit, FusedNormalisationConstants) {
  const json u = load_json("unit_cases.json")["fused_normalize"];
  const auto cfg = fv::ProcessorConfig::load(vf("tiny-vjepa2"));
  const auto m = cfg.fused_mean(), s = cfg.fused_std();
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(m[c], u["mean_x255"][c].get<float>());
    EXPECT_EQ(s[c], u["std_x255"][c].get<float>());
  }
  EXPECT_EQ(cfg.shortest_edge, 36);  // int(32 * 256 / 224), recomputed from the crop
  EXPECT_EQ(cfg.crop_height, 32);
}

TEST(VideoUnit, ConstantColourClip) {
  const json u = load_json("unit_cases.json")["constant_colour"];
  const auto shape = u["frames_shape"].get<std::vector<std::int64_t>>();
  const auto colour = u["colour"].get<std::vector<int>>();
  const auto cfg = fv::ProcessorConfig::load(vf("tiny-vjepa2"));
  Tensor frame = Tensor::empty(DType::U8, {shape[1], shape[2], 3});
  for (std::int64_t i = 0; i < frame.numel(); ++i) frame.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(colour[static_cast<std::size_t>(i % 3)]);
  for (auto kernel : {fv::ResizeKernel::Float, fv::ResizeKernel::Uint8}) {
    const Tensor crop = fv::resize_crop(frame, cfg, kernel);
    std::vector<float> px(static_cast<std::size_t>(crop.numel()));
    fv::normalize_into(crop, cfg, px.data());
    const std::int64_t plane = crop.dim(1) * crop.dim(2);
    for (int c = 0; c < 3; ++c)
      for (std::int64_t i = 0; i < plane; ++i)
        ASSERT_NEAR(px[static_cast<std::size_t>(c * plane + i)], u["pixel_value_per_channel"][static_cast<std::size_t>(c)].get<float>(), 1e-6);
  }
}

TEST(VideoUnit, ResizeAndCropGeometry) {
  const json u = load_json("unit_cases.json");
  for (const auto& e : u["resize_examples"]) {
    fv::ProcessorConfig cfg;
    cfg.crop_height = cfg.crop_width = e["crop"].get<int>();
    cfg.shortest_edge = e["shortest_edge"].get<int>();
    EXPECT_EQ(static_cast<int>(cfg.crop_height * 256.0 / 224), cfg.shortest_edge);
    const auto in = e["in_hw"].get<std::vector<int>>();
    const auto g = fv::crop_geometry(in[0], in[1], cfg);
    EXPECT_EQ(g.resized_height, e["out_hw"][0].get<int>()) << e.dump();
    EXPECT_EQ(g.resized_width, e["out_hw"][1].get<int>()) << e.dump();
    EXPECT_EQ(g.top, e["crop_top_left"][0].get<int>()) << e.dump();
    EXPECT_EQ(g.left, e["crop_top_left"][1].get<int>()) << e.dump();
  }
}

TEST(VideoUnit, ProcessorConfigErrors) {
  test::TempDir dir;
  test::write_bytes(dir / "video_preprocessor_config.json", "{\"crop_size\": {\"height\": 0, \"width\": 0}}");
  EXPECT_THROW_MSG(fv::ProcessorConfig::load(dir.path()), "crop_size");
  test::write_bytes(dir / "video_preprocessor_config.json", "{\"resample\": 3}");
  EXPECT_THROW_MSG(fv::ProcessorConfig::load(dir.path()), "resample");
  test::write_bytes(dir / "video_preprocessor_config.json", "{\"image_mean\": [1, 2]}");
  EXPECT_THROW_MSG(fv::ProcessorConfig::load(dir.path()), "image_mean");
  test::write_bytes(dir / "video_preprocessor_config.json", "not json");
  EXPECT_THROW_MSG(fv::ProcessorConfig::load(dir.path()), "not valid JSON");
  fs::remove(dir / "video_preprocessor_config.json");
  EXPECT_THROW_MSG(fv::ProcessorConfig::load(dir.path()), "preprocessor_config.json");
}

// ---- stage 2: processor --------------------------------------------------------------------

TEST_F(VideoFixture, ResizedCropAndPixelValuesOfBinZero) {
  const json s = load_json("sampling.json");
  const auto idx = s["whole"]["frame_indices"][0].get<std::vector<std::int64_t>>();
  Tensor crops;
  const Tensor pv = fv::bin_pixel_values(model(), source(), idx, {}, &crops);
  const Tensor want_crops = io::read_npy(vf("resized_cropped_bin0.npy"));
  ASSERT_EQ(shape_str(crops.shape()), shape_str(want_crops.shape()));
  EXPECT_EQ(std::memcmp(crops.data<std::uint8_t>(), want_crops.data<std::uint8_t>(), static_cast<std::size_t>(crops.numel())), 0);
  Tensor want_pv = io::read_npy(vf("pixel_values_bin0.npy"));
  want_pv = want_pv.reshape({want_pv.dim(1), want_pv.dim(2), want_pv.dim(3), want_pv.dim(4)});
  const double d = test::max_abs_diff(pv, want_pv);
  std::printf("[ measured ] pixel_values_bin0 max abs diff %.3g (tolerance 1e-6)\n", d);
  EXPECT_LE(d, 1e-6);
}

TEST_F(VideoFixture, CropOnlyResizeEqualsFullResizeThenCrop) {
  const auto cfg = model().processor();
  for (std::int64_t i : {0, 33, 101}) {
    const Tensor f = source().frame(i);
    for (auto k : {fv::ResizeKernel::Float, fv::ResizeKernel::Uint8}) {
      const Tensor a = fv::resize_crop(f, cfg, k), b = fv::reference::resize_crop(f, cfg, k);
      ASSERT_EQ(std::memcmp(a.data<std::uint8_t>(), b.data<std::uint8_t>(), static_cast<std::size_t>(a.numel())), 0);
    }
  }
  // Real sizes: 1080p landscape and portrait to 292 -> 256, odd sizes.
  fv::ProcessorConfig real;
  for (auto [h, w] : std::vector<std::pair<int, int>>{{1080, 1920}, {1920, 1080}, {301, 333}, {292, 300}}) {
    Tensor f = Tensor::empty(DType::U8, {h, w, 3});
    for (std::int64_t i = 0; i < f.numel(); ++i) f.data<std::uint8_t>()[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
    for (auto k : {fv::ResizeKernel::Float, fv::ResizeKernel::Uint8}) {
      const Tensor a = fv::resize_crop(f, real, k), b = fv::reference::resize_crop(f, real, k);
      ASSERT_EQ(a.dim(1), 256);
      ASSERT_EQ(std::memcmp(a.data<std::uint8_t>(), b.data<std::uint8_t>(), static_cast<std::size_t>(a.numel())), 0) << h << "x" << w;
    }
  }
}

TEST_F(VideoFixture, Uint8KernelDiffersByAtMostOne) {
  const auto cfg = model().processor();
  std::int64_t differ = 0, total = 0;
  for (std::int64_t i = 0; i < frames().dim(0); ++i) {
    const Tensor f = source().frame(i);
    const Tensor a = fv::resize_crop(f, cfg, fv::ResizeKernel::Float), b = fv::resize_crop(f, cfg, fv::ResizeKernel::Uint8);
    for (std::int64_t k = 0; k < a.numel(); ++k) {
      const int d = std::abs(int(a.data<std::uint8_t>()[k]) - int(b.data<std::uint8_t>()[k]));
      ASSERT_LE(d, 1);
      differ += d;
      ++total;
    }
  }
  std::printf("[ measured ] uint8 kernel: %.2f%% of resized bytes differ by 1 from the float path\n",
              100.0 * static_cast<double>(differ) / static_cast<double>(total));
  EXPECT_GT(differ, 0);
}

// ---- stage 3: encoder ----------------------------------------------------------------------

TEST_F(VideoFixture, HiddenStatesOfBinZero) {
  const Tensor pv = io::read_npy(vf("pixel_values_bin0.npy"));
  const Tensor want = io::read_npy(vf("hidden_states_bin0.npy"));
  const Tensor got = model().hidden_states(ctx, pv);
  ASSERT_EQ(got.dim(0), 41);
  expect_close_per_slice(got, want, 1e-4, "hidden_states_bin0 (F32)");
}

TEST_F(VideoFixture, HiddenStatesBf16) {
  // BF16 is not upstream's precision: a sanity bound, not a parity test.
  const Tensor pv = io::read_npy(vf("pixel_values_bin0.npy"));
  const Tensor want = io::read_npy(vf("hidden_states_bin0.npy"));
  const auto m = fv::VJEPA2Model::load(vf("tiny-vjepa2"), {Precision::BF16});
  const Tensor got = m.hidden_states(ctx, pv);
  double worst = 0.0;
  for (std::int64_t i = 0; i < want.dim(0); ++i) worst = std::max(worst, rel_diff_slice(got, want, i));
  std::printf("[ measured ] hidden_states_bin0 (BF16): max rel diff %.3g\n", worst);
  EXPECT_LT(worst, 0.1);
}

TEST(VideoModel, LoadErrors) {
  test::TempDir dir;
  const fs::path src = vf("tiny-vjepa2");
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir / "nope"), "not a folder");
  for (const char* f : {"config.json", "video_preprocessor_config.json"}) fs::copy_file(src / f, dir / f);
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "model.safetensors");
  // A checkpoint missing a layer: config says 40 layers, weights have 39 after renaming.
  auto j = json::parse(io::read_text_file(src / "config.json"));
  j["num_hidden_layers"] = 41;
  test::write_bytes(dir / "config.json", j.dump());
  fs::create_symlink(fs::absolute(src / "model.safetensors"), dir / "model.safetensors");
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "missing 'encoder.layer.40.norm1.weight'");
  j["num_hidden_layers"] = 40;
  j["hidden_size"] = 36;
  j["num_attention_heads"] = 2;
  test::write_bytes(dir / "config.json", j.dump());
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "expected [36");
  j["hidden_size"] = 32;
  j["hidden_act"] = "gelu_new";
  test::write_bytes(dir / "config.json", j.dump());
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "hidden_act");
  j["hidden_act"] = "gelu";
  j["num_attention_heads"] = 3;
  test::write_bytes(dir / "config.json", j.dump());
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "multiple of num_attention_heads");
  test::write_bytes(dir / "config.json", "[1, 2");
  EXPECT_THROW_MSG(fv::VJEPA2Model::load(dir.path()), "not valid JSON");
}

// ---- stage 4: extractor and grids ----------------------------------------------------------

TEST_F(VideoFixture, FeaturesOfTheWholeClipAndOfBothChunks) {
  const json cases = load_json("cases.json");
  struct Case {
    std::string prefix;
    json event;
  };
  std::vector<Case> all{{"", cases["whole_event"]}};
  for (const auto& c : cases["chunks"]) all.push_back({c["name"].get<std::string>() + "_", c});
  for (const auto& c : all) {
    const double offset = c.event["offset"].get<double>(), duration = c.event["duration"].get<double>();
    const Tensor layers = fv::extract_event_layers(ctx, model(), source(), offset, duration);
    const Tensor want20 = io::read_npy(vf(c.prefix + "features_20layers.npy"));
    expect_close_per_slice(layers, want20, 1e-4, c.prefix + "features_20layers");
    const Tensor grouped = fv::group_mean(layers, {0.5, 0.75, 1.0});
    const Tensor want = io::read_npy(vf(c.prefix + "features.npy"));
    expect_close_per_slice(grouped, want, 1e-4, c.prefix + "features");
  }
}

TEST_F(VideoFixture, EveryGrid) {
  const json cases = load_json("cases.json");
  for (const auto& g : cases["grids"]) {
    std::vector<fv::ChunkFeatures> chunks;
    for (const auto& e : g["events"]) {
      fv::ChunkFeatures cf;
      cf.chunk = {e["start"].get<double>(), e["offset"].get<double>(), e["duration"].get<double>()};
      cf.layers = fv::extract_event_layers(ctx, model(), source(), cf.chunk.offset, cf.chunk.duration);
      cf.grouped = fv::group_mean(cf.layers, {0.5, 0.75, 1.0});
      chunks.push_back(cf);
    }
    const Tensor got = fv::segment_features(chunks, g["segment_start"].get<double>(), g["segment_duration"].get<double>());
    const Tensor want = io::read_npy(vf(g["file"].get<std::string>()));
    EXPECT_EQ(shape_str(want.shape()), shape_str(Shape(g["shape"].get<std::vector<std::int64_t>>())));
    expect_close_per_slice(got, want, 1e-4, g["file"].get<std::string>());
    expect_zero_bins_match(got, want, g["file"].get<std::string>());
    // The non-zero bins are the ones cases.json lists.
    const auto nz = g["nonzero_bins"].get<std::vector<std::int64_t>>();
    for (std::int64_t t = 0; t < got.dim(2); ++t) {
      bool any = false;
      for (std::int64_t i = 0; i < got.dim(0) * got.dim(1) && !any; ++i) any = got.data<float>()[i * got.dim(2) + t] != 0.0f;
      EXPECT_EQ(any, std::find(nz.begin(), nz.end(), t) != nz.end()) << g["file"] << " bin " << t;
    }
  }
}

TEST_F(VideoFixture, EndToEndFromTheMkvWithAChunkStore) {
  // The decoded file gives the frames of frames.npy, so the whole-clip features match too.
  // The ChunkStore (here a map; the commands pass the pipeline's stage cache) is asked once
  // per chunk and keeps the group means.
  test::MemoryChunkStore mem;
  fv::VideoFeatureOptions o;
  o.store = mem.store();
  std::int64_t last_done = -1, last_total = -1;
  o.progress = [&](std::int64_t d, std::int64_t t) {
    if (d > 0) {  // each run starts at 0, then never goes back
      EXPECT_GE(d, last_done);
    }
    last_done = d;
    last_total = t;
  };
  double duration = 0.0;
  const Tensor tl = fv::extract_timeline(ctx, model(), vf("video/clip.mkv"), o, &duration);
  EXPECT_EQ(duration, 4.25);
  EXPECT_EQ(last_done, 8);
  EXPECT_EQ(last_total, 8);
  const Tensor want = io::read_npy(vf("features.npy"));
  expect_close_per_slice(tl, want, 1e-4, "timeline from clip.mkv");
  // One chunk, computed once; a second run takes it from the store (bit-identical, no layers).
  EXPECT_EQ(mem.computed, 1);
  ASSERT_EQ(mem.kept.size(), 1u);
  EXPECT_EQ(mem.kept.begin()->second.dim(0), 2);
  const auto chunks = fv::extract_chunks(ctx, model(), vf("video/clip.mkv"), o);
  EXPECT_EQ(mem.computed, 1);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].from_store);
  EXPECT_EQ(chunks[0].layers.numel(), 0);
  const Tensor again = fv::extract_timeline(ctx, model(), vf("video/clip.mkv"), o);
  EXPECT_EQ(test::max_abs_diff(again, tl), 0.0);
  // A store that returns the wrong shape is a clear error, not garbage on the grid.
  o.store = [](const events::Chunk&, const std::function<Tensor()>&) {
    return features::StoredChunk{Tensor::zeros(DType::F32, {2, 3, 4}), false};
  };
  try {
    (void)fv::extract_timeline(ctx, model(), vf("video/clip.mkv"), o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the feature store returned [2, 3, 4]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tribev2

#include "tribev2/features/video/preprocess.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"

namespace tribev2::features::video {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- processor config ----------------------------------------------------------------------

ProcessorConfig ProcessorConfig::load(const fs::path& model_dir) {
  // AutoVideoProcessor reads video_preprocessor_config.json, else preprocessor_config.json.
  for (const char* name : {"video_preprocessor_config.json", "preprocessor_config.json"})
    if (fs::exists(model_dir / name)) return from_json_file(model_dir / name);
  fail(model_dir.string(), ": no video_preprocessor_config.json or preprocessor_config.json");
}

ProcessorConfig ProcessorConfig::from_json_file(const fs::path& file) {
  const json j = io::read_json_object(file);
  ProcessorConfig c;
  auto bad = [&](const char* key, const std::string& what) -> void { fail(file.string(), ": '", key, "' ", what); };
  try {
    if (j.contains("crop_size") && !j["crop_size"].is_null()) {
      const json& cs = j["crop_size"];
      if (cs.is_number_integer()) {
        c.crop_height = c.crop_width = cs.get<int>();
      } else if (cs.is_object() && cs.contains("height")) {
        c.crop_height = cs["height"].get<int>();
        c.crop_width = cs.contains("width") ? cs["width"].get<int>() : c.crop_height;
      } else {
        bad("crop_size", "must be an integer or {height, width}");
      }
    }
    if (c.crop_height <= 0 || c.crop_width <= 0 || c.crop_height > 4096 || c.crop_width > 4096)
      bad("crop_size", "must be in 1..4096, got " + std::to_string(c.crop_height) + "x" + std::to_string(c.crop_width));
    // VJEPA2VideoProcessor.__init__: size = {"shortest_edge": int(crop_height * 256 / 224)}.
    c.shortest_edge = static_cast<int>(static_cast<double>(c.crop_height) * 256 / 224);
    auto triple = [&](const char* key, std::array<double, 3>& out) {
      if (!j.contains(key) || j[key].is_null()) return;
      const json& v = j[key];
      if (!v.is_array() || v.size() != 3) bad(key, "must be a list of 3 numbers");
      for (int i = 0; i < 3; ++i) out[static_cast<std::size_t>(i)] = v[static_cast<std::size_t>(i)].get<double>();
    };
    triple("image_mean", c.image_mean);
    triple("image_std", c.image_std);
    for (double s : c.image_std)
      if (!(s > 0)) bad("image_std", "must be positive");
    if (j.contains("rescale_factor") && !j["rescale_factor"].is_null()) c.rescale_factor = j["rescale_factor"].get<double>();
    if (!(c.rescale_factor > 0)) bad("rescale_factor", "must be positive");
    if (j.contains("do_normalize") && j["do_normalize"].is_boolean()) c.do_normalize = j["do_normalize"].get<bool>();
    // What this port implements: bilinear (resample 2), resize + centre crop. neuralset passes
    // do_rescale=True whatever the file says, so do_rescale is not read.
    if (j.contains("resample") && !j["resample"].is_null() && j["resample"].get<int>() != 2)
      bad("resample", "must be 2 (bilinear); got " + j["resample"].dump());
    for (const char* key : {"do_resize", "do_center_crop"})
      if (j.contains(key) && j[key].is_boolean() && !j[key].get<bool>())
        bad(key, "false is not supported (V-JEPA2 resizes and centre-crops)");
  } catch (const json::exception& e) {
    fail(file.string(), ": bad value: ", e.what());
  }
  return c;
}

// HF _fuse_mean_std_and_rescale_factor: torch.tensor(mean) * (1.0 / rescale_factor), i.e. a
// float32 tensor times a Python float: float32(mean) * float32(1 / rescale_factor) in float32.
namespace {
std::array<float, 3> fuse(const std::array<double, 3>& v, double rescale_factor) {
  const auto inv = static_cast<float>(1.0 / rescale_factor);
  std::array<float, 3> out{};
  for (std::size_t i = 0; i < 3; ++i) out[i] = static_cast<float>(v[i]) * inv;
  return out;
}
}  // namespace

std::array<float, 3> ProcessorConfig::fused_mean() const { return fuse(image_mean, rescale_factor); }
std::array<float, 3> ProcessorConfig::fused_std() const { return fuse(image_std, rescale_factor); }

// ---- geometry ------------------------------------------------------------------------------

CropGeometry crop_geometry(int in_height, int in_width, const ProcessorConfig& cfg) {
  TRIBEV2_CHECK(in_height > 0 && in_width > 0, "video frame has size ", in_width, "x", in_height);
  CropGeometry g;
  g.in_height = in_height;
  g.in_width = in_width;
  const int shorter = std::min(in_height, in_width), longer = std::max(in_height, in_width);
  const int new_short = cfg.shortest_edge;
  const int new_long = static_cast<int>(static_cast<double>(new_short) * longer / shorter);
  if (in_width <= in_height) {
    g.resized_width = new_short;
    g.resized_height = new_long;
  } else {
    g.resized_height = new_short;
    g.resized_width = new_long;
  }
  g.crop_height = cfg.crop_height;
  g.crop_width = cfg.crop_width;
  TRIBEV2_CHECK(g.resized_height >= g.crop_height && g.resized_width >= g.crop_width, "resized frame ",
                g.resized_width, "x", g.resized_height, " is smaller than the crop ", g.crop_width, "x", g.crop_height);
  g.top = static_cast<int>(py_round((g.resized_height - g.crop_height) / 2.0));
  g.left = static_cast<int>(py_round((g.resized_width - g.crop_width) / 2.0));
  return g;
}

// ---- antialiased bilinear taps -------------------------------------------------------------

namespace {

struct AxisTaps {
  std::int64_t max_size = 0;
  std::vector<std::int64_t> xmin, xsize;
  std::vector<float> wf;           // float path: [out, max_size]
  std::vector<std::int16_t> wi;    // uint8 path: int16 taps [out, max_size]
  int precision = 0;
};

// ATen _compute_indices_min_size_weights_aa with scalar_t = float (the float path).
AxisTaps float_taps(std::int64_t in, std::int64_t out) {
  AxisTaps t;
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? static_cast<float>((2 * 0.5) * scale) : 1.0f;
  t.max_size = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  t.xmin.resize(static_cast<std::size_t>(out));
  t.xsize.resize(static_cast<std::size_t>(out));
  t.wf.assign(static_cast<std::size_t>(out * t.max_size), 0.0f);
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  for (std::int64_t i = 0; i < out; ++i) {
    const float center = static_cast<float>(scale * (static_cast<double>(i) + 0.5));
    const std::int64_t xmin = std::max<std::int64_t>(static_cast<std::int64_t>((center - support) + 0.5), 0);
    const std::int64_t xsize =
        std::min<std::int64_t>(static_cast<std::int64_t>((center + support) + 0.5), in) - xmin;
    float* w = t.wf.data() + i * t.max_size;
    float total = 0.0f;
    for (std::int64_t j = 0; j < xsize && j < t.max_size; ++j) {
      float x = static_cast<float>((static_cast<float>(j + xmin) - center + 0.5) * invscale);
      if (x < 0.0f) x = -x;
      const float v = x < 1.0f ? static_cast<float>(1.0 - x) : 0.0f;
      w[j] = v;
      total += v;
    }
    for (std::int64_t j = 0; j < xsize && j < t.max_size; ++j)
      if (total != 0.0f) w[j] /= total;
    t.xmin[static_cast<std::size_t>(i)] = xmin;
    t.xsize[static_cast<std::size_t>(i)] = std::min(xsize, t.max_size);
  }
  return t;
}

// ATen's uint8 antialias path: the same taps in float64, then int16 with a common precision
// (the largest that keeps max_weight * 2^(p+1) below 2^15), rounded half away from zero.
AxisTaps int16_taps(std::int64_t in, std::int64_t out) {
  AxisTaps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double support = scale >= 1.0 ? (2 * 0.5) * scale : 1.0;
  t.max_size = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  t.xmin.resize(static_cast<std::size_t>(out));
  t.xsize.resize(static_cast<std::size_t>(out));
  std::vector<double> wd(static_cast<std::size_t>(out * t.max_size), 0.0);
  const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
  double wmax = 0.0;
  for (std::int64_t i = 0; i < out; ++i) {
    const double center = scale * (static_cast<double>(i) + 0.5);
    const std::int64_t xmin = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
    const std::int64_t xsize = std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in) - xmin;
    double* w = wd.data() + i * t.max_size;
    double total = 0.0;
    for (std::int64_t j = 0; j < xsize && j < t.max_size; ++j) {
      double x = (static_cast<double>(j + xmin) - center + 0.5) * invscale;
      if (x < 0.0) x = -x;
      w[j] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[j];
    }
    for (std::int64_t j = 0; j < xsize && j < t.max_size; ++j) {
      if (total != 0.0) w[j] /= total;
      wmax = std::max(wmax, w[j]);
    }
    t.xmin[static_cast<std::size_t>(i)] = xmin;
    t.xsize[static_cast<std::size_t>(i)] = std::min(xsize, t.max_size);
  }
  int p = 0;
  for (; p < 22; ++p) {
    const int next = static_cast<int>(0.5 + wmax * static_cast<double>(1 << (p + 1)));
    if (next >= (1 << 15)) break;
  }
  t.precision = p;
  t.wi.resize(wd.size());
  for (std::size_t k = 0; k < wd.size(); ++k) {
    const double v = wd[k] * static_cast<double>(1 << p);
    t.wi[k] = static_cast<std::int16_t>(v < 0 ? -0.5 + v : 0.5 + v);
  }
  return t;
}

std::uint8_t clamp_u8(std::int64_t v) { return static_cast<std::uint8_t>(std::clamp<std::int64_t>(v, 0, 255)); }

// Resizes rows [r0, r1) x columns [c0, c1) of the output (out_h x out_w) from an HWC uint8
// image, writing CHW uint8 [3, r1 - r0, c1 - c0].
void resize_region(const std::uint8_t* src, int H, int W, int out_h, int out_w, int r0, int r1, int c0, int c1,
                   ResizeKernel kernel, std::uint8_t* dst) {
  const bool h_resize = out_w != W, v_resize = out_h != H;
  const int rows = r1 - r0, cols = c1 - c0;
  // Input rows the vertical pass reads.
  int in_r0 = r0, in_r1 = r1;
  AxisTaps ht, vt;
  if (kernel == ResizeKernel::Float) {
    if (h_resize) ht = float_taps(W, out_w);
    if (v_resize) vt = float_taps(H, out_h);
  } else {
    if (h_resize) ht = int16_taps(W, out_w);
    if (v_resize) vt = int16_taps(H, out_h);
  }
  if (v_resize) {
    in_r0 = static_cast<int>(vt.xmin[static_cast<std::size_t>(r0)]);
    in_r1 = 0;
    for (int r = r0; r < r1; ++r)
      in_r1 = std::max<int>(in_r1, static_cast<int>(vt.xmin[static_cast<std::size_t>(r)] + vt.xsize[static_cast<std::size_t>(r)]));
  }
  const int mid_rows = in_r1 - in_r0;
  const std::size_t plane = static_cast<std::size_t>(rows) * cols;

  if (kernel == ResizeKernel::Float) {
    // Width pass (float32) on the needed input rows, then height pass, then round.
    std::vector<float> mid(static_cast<std::size_t>(3) * mid_rows * cols);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < mid_rows; ++y) {
        const std::uint8_t* srow = src + static_cast<std::size_t>(in_r0 + y) * W * 3 + c;
        float* m = mid.data() + (static_cast<std::size_t>(c) * mid_rows + y) * cols;
        for (int x = 0; x < cols; ++x) {
          if (!h_resize) {
            m[x] = static_cast<float>(srow[static_cast<std::size_t>(c0 + x) * 3]);
            continue;
          }
          const auto o = static_cast<std::size_t>(c0 + x);
          const std::int64_t xmin = ht.xmin[o], n = ht.xsize[o];
          const float* w = ht.wf.data() + static_cast<std::int64_t>(o) * ht.max_size;
          float acc = static_cast<float>(srow[static_cast<std::size_t>(xmin) * 3]) * w[0];
          for (std::int64_t j = 1; j < n; ++j) acc += static_cast<float>(srow[static_cast<std::size_t>(xmin + j) * 3]) * w[j];
          m[x] = acc;
        }
      }
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < rows; ++y) {
        std::uint8_t* d = dst + c * plane + static_cast<std::size_t>(y) * cols;
        const float* mc = mid.data() + static_cast<std::size_t>(c) * mid_rows * cols;
        if (!v_resize) {
          for (int x = 0; x < cols; ++x) d[x] = clamp_u8(static_cast<std::int64_t>(std::nearbyint(mc[static_cast<std::size_t>(y) * cols + x])));
          continue;
        }
        const auto o = static_cast<std::size_t>(r0 + y);
        const std::int64_t ymin = vt.xmin[o] - in_r0, n = vt.xsize[o];
        const float* w = vt.wf.data() + static_cast<std::int64_t>(o) * vt.max_size;
        for (int x = 0; x < cols; ++x) {
          float acc = mc[static_cast<std::size_t>(ymin) * cols + x] * w[0];
          for (std::int64_t j = 1; j < n; ++j) acc += mc[static_cast<std::size_t>(ymin + j) * cols + x] * w[j];
          d[x] = clamp_u8(static_cast<std::int64_t>(std::nearbyint(acc)));
        }
      }
    return;
  }

  // uint8 path: width pass into uint8, then height pass, each (sum + 2^(p-1)) >> p, clamped.
  std::vector<std::uint8_t> mid(static_cast<std::size_t>(3) * mid_rows * cols);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < mid_rows; ++y) {
      const std::uint8_t* srow = src + static_cast<std::size_t>(in_r0 + y) * W * 3 + c;
      std::uint8_t* m = mid.data() + (static_cast<std::size_t>(c) * mid_rows + y) * cols;
      for (int x = 0; x < cols; ++x) {
        if (!h_resize) {
          m[x] = srow[static_cast<std::size_t>(c0 + x) * 3];
          continue;
        }
        const auto o = static_cast<std::size_t>(c0 + x);
        const std::int64_t xmin = ht.xmin[o], n = ht.xsize[o];
        const std::int16_t* w = ht.wi.data() + static_cast<std::int64_t>(o) * ht.max_size;
        std::int64_t acc = ht.precision > 0 ? (std::int64_t{1} << (ht.precision - 1)) : 0;
        for (std::int64_t j = 0; j < n; ++j) acc += static_cast<std::int64_t>(srow[static_cast<std::size_t>(xmin + j) * 3]) * w[j];
        m[x] = clamp_u8(acc >> ht.precision);
      }
    }
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < rows; ++y) {
      std::uint8_t* d = dst + c * plane + static_cast<std::size_t>(y) * cols;
      const std::uint8_t* mc = mid.data() + static_cast<std::size_t>(c) * mid_rows * cols;
      if (!v_resize) {
        std::copy_n(mc + static_cast<std::size_t>(y) * cols, cols, d);
        continue;
      }
      const auto o = static_cast<std::size_t>(r0 + y);
      const std::int64_t ymin = vt.xmin[o] - in_r0, n = vt.xsize[o];
      const std::int16_t* w = vt.wi.data() + static_cast<std::int64_t>(o) * vt.max_size;
      for (int x = 0; x < cols; ++x) {
        std::int64_t acc = vt.precision > 0 ? (std::int64_t{1} << (vt.precision - 1)) : 0;
        for (std::int64_t j = 0; j < n; ++j) acc += static_cast<std::int64_t>(mc[static_cast<std::size_t>(ymin + j) * cols + x]) * w[j];
        d[x] = clamp_u8(acc >> vt.precision);
      }
    }
}

void check_frame(const Tensor& frame) {
  TRIBEV2_CHECK(frame.dtype() == DType::U8 && frame.ndim() == 3 && frame.dim(2) == 3,
                "video frame must be uint8 [H, W, 3], got ", dtype_name(frame.dtype()), " ", shape_str(frame.shape()));
}

}  // namespace

Tensor resize_crop(const Tensor& frame, const ProcessorConfig& cfg, ResizeKernel kernel) {
  check_frame(frame);
  const int H = static_cast<int>(frame.dim(0)), W = static_cast<int>(frame.dim(1));
  const CropGeometry g = crop_geometry(H, W, cfg);
  Tensor out = Tensor::empty(DType::U8, {3, g.crop_height, g.crop_width});
  resize_region(frame.data<std::uint8_t>(), H, W, g.resized_height, g.resized_width, g.top, g.top + g.crop_height,
                g.left, g.left + g.crop_width, kernel, out.data<std::uint8_t>());
  return out;
}

void normalize_into(const Tensor& crop, const ProcessorConfig& cfg, float* out) {
  TRIBEV2_CHECK(crop.dtype() == DType::U8 && crop.ndim() == 3 && crop.dim(0) == 3, "normalize: expected uint8 [3, H, W], got ",
                shape_str(crop.shape()));
  const std::int64_t plane = crop.dim(1) * crop.dim(2);
  const auto m = cfg.fused_mean();
  const auto s = cfg.fused_std();
  const auto scale = static_cast<float>(cfg.rescale_factor);
  const std::uint8_t* px = crop.data<std::uint8_t>();
  for (int c = 0; c < 3; ++c) {
    const auto ci = static_cast<std::size_t>(c);
    for (std::int64_t i = 0; i < plane; ++i) {
      const float x = static_cast<float>(px[c * plane + i]);
      out[c * plane + i] = cfg.do_normalize ? (x - m[ci]) / s[ci] : x * scale;
    }
  }
}

namespace reference {

Tensor resize_crop(const Tensor& frame, const ProcessorConfig& cfg, ResizeKernel kernel) {
  check_frame(frame);
  const int H = static_cast<int>(frame.dim(0)), W = static_cast<int>(frame.dim(1));
  const CropGeometry g = crop_geometry(H, W, cfg);
  std::vector<std::uint8_t> full(static_cast<std::size_t>(3) * g.resized_height * g.resized_width);
  resize_region(frame.data<std::uint8_t>(), H, W, g.resized_height, g.resized_width, 0, g.resized_height, 0,
                g.resized_width, kernel, full.data());
  Tensor out = Tensor::empty(DType::U8, {3, g.crop_height, g.crop_width});
  std::uint8_t* o = out.data<std::uint8_t>();
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < g.crop_height; ++y)
      for (int x = 0; x < g.crop_width; ++x)
        o[(static_cast<std::size_t>(c) * g.crop_height + y) * g.crop_width + x] =
            full[(static_cast<std::size_t>(c) * g.resized_height + g.top + y) * g.resized_width + g.left + x];
  return out;
}

}  // namespace reference

}  // namespace tribev2::features::video

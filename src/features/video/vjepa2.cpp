// V-JEPA2 encoder: config, weights (safetensors, memory-mapped), forward pass.
#include "tribev2/features/video/vjepa2.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "tribev2/core/attention.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/kernels.hpp"
#include "tribev2/features/video/rope3d.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "vjepa2_impl.hpp"

namespace tribev2::features::video {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- config --------------------------------------------------------------------------------

VJEPA2Config VJEPA2Config::from_json_file(const fs::path& file) {
  const json j = io::read_json_object(file);
  VJEPA2Config c;
  try {
    if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "vjepa2")
      fail(file.string(), ": model_type is '", j["model_type"].get<std::string>(), "', expected 'vjepa2'");
    auto get_int = [&](const char* key, int& out, int lo, int hi) {
      if (!j.contains(key) || j[key].is_null()) return;
      const auto v = j[key].get<long long>();
      if (v < lo || v > hi) fail(file.string(), ": '", key, "' = ", v, " is out of range [", lo, ", ", hi, "]");
      out = static_cast<int>(v);
    };
    get_int("hidden_size", c.hidden_size, 1, 1 << 16);
    get_int("num_attention_heads", c.num_attention_heads, 1, 1 << 12);
    get_int("num_hidden_layers", c.num_hidden_layers, 0, 1 << 12);
    get_int("patch_size", c.patch_size, 1, 1 << 10);
    get_int("tubelet_size", c.tubelet_size, 1, 64);
    get_int("in_chans", c.in_chans, 1, 3);
    get_int("crop_size", c.crop_size, 1, 1 << 13);
    get_int("frames_per_clip", c.frames_per_clip, 1, 1 << 12);
    if (j.contains("mlp_ratio") && !j["mlp_ratio"].is_null()) c.mlp_ratio = j["mlp_ratio"].get<double>();
    if (j.contains("layer_norm_eps") && !j["layer_norm_eps"].is_null()) c.layer_norm_eps = j["layer_norm_eps"].get<double>();
    if (j.contains("qkv_bias") && !j["qkv_bias"].is_null()) c.qkv_bias = j["qkv_bias"].get<bool>();
    if (j.contains("hidden_act") && !j["hidden_act"].is_null()) c.hidden_act = j["hidden_act"].get<std::string>();
  } catch (const json::exception& e) {
    fail(file.string(), ": bad value: ", e.what());
  }
  if (c.hidden_size % c.num_attention_heads != 0)
    fail(file.string(), ": hidden_size ", c.hidden_size, " is not a multiple of num_attention_heads ",
         c.num_attention_heads);
  if (!(c.mlp_ratio > 0 && c.mlp_ratio < 1024)) fail(file.string(), ": mlp_ratio ", c.mlp_ratio, " out of range");
  if (!(c.layer_norm_eps > 0)) fail(file.string(), ": layer_norm_eps must be positive");
  if (c.hidden_act != "gelu")
    fail(file.string(), ": hidden_act '", c.hidden_act, "' is not supported (V-JEPA2 uses \"gelu\", the exact erf form)");
  if (c.in_chans != 3) fail(file.string(), ": in_chans ", c.in_chans, " is not supported (RGB video has 3)");
  return c;
}

int VJEPA2Config::mlp_hidden() const { return static_cast<int>(static_cast<double>(hidden_size) * mlp_ratio); }

std::int64_t VJEPA2Config::tokens(std::int64_t frames, std::int64_t size) const {
  const std::int64_t t = std::max<std::int64_t>(frames, tubelet_size) / tubelet_size;
  const std::int64_t g = size / patch_size;
  return t * g * g;
}

// ---- loading -------------------------------------------------------------------------------

namespace {

std::vector<float> to_f32_vector(const Tensor& t) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  convert_to_f32(t, v);
  return v;
}

// All tensors of a folder: model.safetensors, or the shards of model.safetensors.index.json.
std::map<std::string, Tensor> read_weights(const fs::path& dir, std::vector<io::SafetensorsFile>& files,
                                           std::string& fingerprint) {
  std::vector<fs::path> paths;
  if (fs::exists(dir / "model.safetensors")) {
    paths.push_back(dir / "model.safetensors");
  } else if (fs::exists(dir / "model.safetensors.index.json")) {
    const fs::path index = dir / "model.safetensors.index.json";
    std::set<std::string> shards;
    const json j = io::read_json_object(index);
    try {
      for (const auto& [name, file] : j.at("weight_map").items()) shards.insert(file.get<std::string>());
    } catch (const json::exception& e) {
      fail(index.string(), ": bad index: ", e.what());
    }
    for (const auto& s : shards) {
      if (s.find('/') != std::string::npos || s.find("..") != std::string::npos)
        fail(index.string(), ": shard name '", s, "' must be a file name in the same folder");
      paths.push_back(dir / s);
    }
  } else {
    fail(dir.string(), ": no model.safetensors (or model.safetensors.index.json) in this folder");
  }
  std::map<std::string, Tensor> out;
  for (const auto& p : paths) {
    files.push_back(io::SafetensorsFile::open(p));
    const auto& f = files.back();
    fingerprint += p.filename().string() + ":" + std::to_string(fs::file_size(p)) + ";";
    for (const auto& name : f.names()) {
      if (name.rfind("encoder.", 0) != 0) continue;  // predictor.* and anything else: not needed
      const Tensor& t = f.get(name);
      fingerprint += name + "=" + std::string(dtype_name(t.dtype())) + shape_str(t.shape()) + ";";
      if (!out.emplace(name, t).second) fail(p.string(), ": tensor '", name, "' appears in two shards");
    }
  }
  return out;
}

class WeightTaker {
 public:
  WeightTaker(std::map<std::string, Tensor> all, std::string source) : all_(std::move(all)), source_(std::move(source)) {}
  const Tensor& take(const std::string& name, const Shape& shape) {
    auto it = all_.find(name);
    if (it == all_.end()) {
      problems_.push_back("missing '" + name + "' (expected " + shape_str(shape) + ")");
      return empty_;
    }
    used_.insert(name);
    const Tensor& t = it->second;
    if (t.shape() != shape) {
      problems_.push_back("'" + name + "' has shape " + shape_str(t.shape()) + ", expected " + shape_str(shape));
      return empty_;
    }
    if (!(t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16)) {
      problems_.push_back("'" + name + "' has dtype " + std::string(dtype_name(t.dtype())) + ", expected F32/F16/BF16");
      return empty_;
    }
    return t;
  }
  void finish() {
    for (const auto& [name, t] : all_)
      if (!used_.count(name)) problems_.push_back("unexpected '" + name + "' " + shape_str(t.shape()));
    if (problems_.empty()) return;
    std::ostringstream msg;
    msg << source_ << ": encoder weights do not match config.json (" << problems_.size() << " problem"
        << (problems_.size() > 1 ? "s" : "") << "): ";
    for (std::size_t i = 0; i < problems_.size() && i < 8; ++i) msg << (i ? "; " : "") << problems_[i];
    if (problems_.size() > 8) msg << "; ... and " << problems_.size() - 8 << " more";
    throw Error(msg.str());
  }
  bool ok() const { return problems_.empty(); }

 private:
  std::map<std::string, Tensor> all_;
  std::string source_;
  std::set<std::string> used_;
  std::vector<std::string> problems_;
  Tensor empty_;
};

// `pack`: the BF16 context that packs the weight for bf16 compute, or null (not packed).
Linear make_linear(WeightTaker& w, const std::string& prefix, std::int64_t out, std::int64_t in, bool bias,
                   const Context* pack) {
  const Tensor& wt = w.take(prefix + ".weight", {out, in});
  std::vector<float> b;
  if (bias) {
    const Tensor& bt = w.take(prefix + ".bias", {out});
    if (bt.numel() == out) b = to_f32_vector(bt);
  }
  if (wt.numel() != out * in || out * in == 0) return {};  // reported by WeightTaker::finish
  Linear l(mat_view(wt), std::move(b));
  if (pack) l.pack(*pack);
  return l;
}

std::vector<float> take_vec(WeightTaker& w, const std::string& name, std::int64_t n) {
  const Tensor& t = w.take(name, {n});
  return t.numel() == n ? to_f32_vector(t) : std::vector<float>();
}

}  // namespace

VJEPA2Model::VJEPA2Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VJEPA2Model::~VJEPA2Model() = default;
VJEPA2Model::VJEPA2Model(VJEPA2Model&&) noexcept = default;
VJEPA2Model& VJEPA2Model::operator=(VJEPA2Model&&) noexcept = default;

VJEPA2Model VJEPA2Model::load(const fs::path& dir, const Options& options) {
  auto m = std::make_unique<Impl>();
  m->dir = dir;
  m->precision = options.precision;
  TRIBEV2_CHECK(fs::is_directory(dir), dir.string(), ": not a folder (expected a V-JEPA2 model folder with config.json, ",
                "video_preprocessor_config.json and model.safetensors)");
  const fs::path cfg_file = dir / "config.json";
  TRIBEV2_CHECK(fs::exists(cfg_file), dir.string(), ": no config.json");
  m->cfg = VJEPA2Config::from_json_file(cfg_file);
  m->proc = ProcessorConfig::load(dir);
  const VJEPA2Config& c = m->cfg;
  m->fingerprint = "vjepa2-v1;" + io::read_text_file(cfg_file) + ";";
  m->fingerprint += std::string("precision=") + (options.precision == Precision::BF16 ? "bf16" : "f32") + ";";
  WeightTaker w(read_weights(dir, m->files, m->fingerprint), dir.string());

  const std::int64_t H = c.hidden_size, F = c.mlp_hidden();
  // bf16 mode packs every weight once, here, on one thread: the model owns no pool (the
  // forward's Context does).
  std::optional<Context> pack;
  if (options.precision == Precision::BF16) pack.emplace(1, Precision::BF16);
  const Context* pack_ctx = pack ? &*pack : nullptr;
  const Tensor& pw = w.take("encoder.embeddings.patch_embeddings.proj.weight",
                            {H, c.in_chans, c.tubelet_size, c.patch_size, c.patch_size});
  std::vector<float> patch_bias = take_vec(w, "encoder.embeddings.patch_embeddings.proj.bias", H);
  if (pw.numel() > 0) {
    m->patch = Linear(mat_view(pw.reshape({H, c.patch_dim()})), std::move(patch_bias));
    if (pack) m->patch.pack(*pack);
  }
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    EncoderBlock b;
    b.norm1_w = take_vec(w, p + "norm1.weight", H);
    b.norm1_b = take_vec(w, p + "norm1.bias", H);
    b.norm2_w = take_vec(w, p + "norm2.weight", H);
    b.norm2_b = take_vec(w, p + "norm2.bias", H);
    b.query = make_linear(w, p + "attention.query", H, H, c.qkv_bias, nullptr);
    b.key = make_linear(w, p + "attention.key", H, H, c.qkv_bias, nullptr);
    b.value = make_linear(w, p + "attention.value", H, H, c.qkv_bias, nullptr);
    b.proj = make_linear(w, p + "attention.proj", H, H, true, pack_ctx);
    b.fc1 = make_linear(w, p + "mlp.fc1", F, H, true, pack_ctx);
    b.fc2 = make_linear(w, p + "mlp.fc2", H, F, true, pack_ctx);
    if (pack && w.ok()) {
      // One [3H, H] product for q, k and v.
      const Linear* parts[3] = {&b.query, &b.key, &b.value};
      b.qkv = Linear::stack(*pack, parts);
    }
    m->blocks.push_back(std::move(b));
  }
  m->norm_w = take_vec(w, "encoder.layernorm.weight", H);
  m->norm_b = take_vec(w, "encoder.layernorm.bias", H);
  w.finish();
  return VJEPA2Model(std::move(m));
}

const VJEPA2Config& VJEPA2Model::config() const { return impl_->cfg; }
const ProcessorConfig& VJEPA2Model::processor() const { return impl_->proc; }
Precision VJEPA2Model::precision() const { return impl_->precision; }
const std::string& VJEPA2Model::fingerprint() const { return impl_->fingerprint; }
const fs::path& VJEPA2Model::directory() const { return impl_->dir; }

// ---- forward -------------------------------------------------------------------------------

namespace {

// Patches of a clip as rows: token n = t*g*g + r*g + c covers frames tubelet*t.., rows
// patch*r.., columns patch*c..; within a row the order is (channel, frame, y, x) like the
// Conv3d weight [hidden, C, tubelet, patch, patch].
void gather_patches(const VJEPA2Config& c, const float* pixels, std::int64_t frames, std::int64_t size, float* out) {
  const std::int64_t p = c.patch_size, tub = c.tubelet_size, C = c.in_chans;
  const std::int64_t g = size / p, T = std::max<std::int64_t>(frames, tub) / tub;
  const std::int64_t K = c.patch_dim();
  const std::int64_t frame_stride = C * size * size;
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t r = 0; r < g; ++r)
      for (std::int64_t col = 0; col < g; ++col) {
        float* row = out + ((t * g + r) * g + col) * K;
        for (std::int64_t ch = 0; ch < C; ++ch)
          for (std::int64_t dt = 0; dt < tub; ++dt) {
            // HF repeats the frames when a clip is shorter than one tubelet.
            const std::int64_t f = frames < tub ? (t * tub + dt) % frames : t * tub + dt;
            const float* img = pixels + f * frame_stride + ch * size * size;
            for (std::int64_t y = 0; y < p; ++y) {
              const float* src = img + (r * p + y) * size + col * p;
              std::copy(src, src + p, row + ((ch * tub + dt) * p + y) * p);
            }
          }
      }
}

}  // namespace

void VJEPA2Model::forward(const Context& ctx, const float* pixels, std::int64_t frames, std::int64_t size,
                          const StateFn& on_state) const {
  const Impl& m = *impl_;
  const VJEPA2Config& c = m.cfg;
  TRIBEV2_CHECK(frames > 0 && size >= c.patch_size, "V-JEPA2 input must have frames > 0 and size >= patch (",
                c.patch_size, "), got ", frames, " frames of ", size, "x", size);
  const std::int64_t H = c.hidden_size, F = c.mlp_hidden(), T = c.tokens(frames, size);
  const int heads = c.num_attention_heads, dh = c.head_dim();
  const auto eps = static_cast<float>(c.layer_norm_eps);
  const Precision prec = m.precision;
  // The weights were packed for the model's precision at load: its products use that one.
  const Context mc = ctx.with_precision(prec);
  // RoPE positions come from the config's grid (crop_size // patch_size), as upstream.
  const Rope3D rope(dh, c.grid_size(), T);

  std::vector<float> x(static_cast<std::size_t>(T * H));
  {
    std::vector<float> patches(static_cast<std::size_t>(T * c.patch_dim()));
    gather_patches(c, pixels, frames, size, patches.data());
    m.patch.forward(mc, patches.data(), T, c.patch_dim(), x.data(), H);
  }
  if (on_state) on_state(0, x.data(), T, H);

  std::vector<float> xn(static_cast<std::size_t>(T * H));
  std::vector<float> qkv(static_cast<std::size_t>(T * 3 * H));
  std::vector<float> ctxv(static_cast<std::size_t>(T * H));
  const std::int64_t mlp_rows = std::min<std::int64_t>(T, 1024);
  std::vector<float> hidden(static_cast<std::size_t>(mlp_rows * F));
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));

  for (int li = 0; li < c.num_hidden_layers; ++li) {
    const EncoderBlock& b = m.blocks[static_cast<std::size_t>(li)];
    kernels::layer_norm(ctx, x.data(), xn.data(), T, H, b.norm1_w.data(), b.norm1_b.data(), eps);
    float* q = qkv.data();
    float* k = q + H;
    float* v = q + 2 * H;
    const std::int64_t ld = 3 * H;
    if (!b.qkv.empty()) {
      b.qkv.forward(mc, xn.data(), T, H, q, ld);
    } else {
      b.query.forward(mc, xn.data(), T, H, q, ld);
      b.key.forward(mc, xn.data(), T, H, k, ld);
      b.value.forward(mc, xn.data(), T, H, v, ld);
    }
    rope.apply(ctx, q, T, ld, heads);
    rope.apply(ctx, k, T, ld, heads);
    AttentionParams ap;
    ap.tq = ap.tk = T;
    ap.heads = ap.kv_heads = heads;
    ap.head_dim = dh;
    ap.scale = scale;
    ap.bf16_products = prec == Precision::BF16;
    attention(ctx, ap, q, ld, k, ld, v, ld, ctxv.data(), H);
    // x += proj(attention)
    GemmEpilogue add_x;  // y = x W^T + b + x, fused
    add_x.residual = x.data();
    add_x.ldr = H;
    b.proj.forward(mc, ctxv.data(), T, H, x.data(), H, add_x);
    // x += fc2(gelu(fc1(norm2(x)))), in row blocks so the [rows, mlp] buffer stays bounded.
    kernels::layer_norm(ctx, x.data(), xn.data(), T, H, b.norm2_w.data(), b.norm2_b.data(), eps);
    for (std::int64_t r0 = 0; r0 < T; r0 += mlp_rows) {
      const std::int64_t rows = std::min(mlp_rows, T - r0);
      b.fc1.forward(mc, xn.data() + r0 * H, rows, H, hidden.data(), F);
      kernels::gelu_erf(ctx, hidden.data(), rows * F);
      add_x.residual = x.data() + r0 * H;
      b.fc2.forward(mc, hidden.data(), rows, F, x.data() + r0 * H, H, add_x);
      add_x.residual = x.data();
    }
    if (li + 1 < c.num_hidden_layers && on_state) on_state(li + 1, x.data(), T, H);
  }
  kernels::layer_norm(ctx, x.data(), x.data(), T, H, m.norm_w.data(), m.norm_b.data(), eps);
  if (on_state) on_state(c.num_hidden_layers, x.data(), T, H);
}

Tensor VJEPA2Model::hidden_states(const Context& ctx, const Tensor& pixel_values) const {
  Tensor pv = pixel_values.to_f32();
  if (pv.ndim() == 5) {
    TRIBEV2_CHECK(pv.dim(0) == 1, "hidden_states: batch of ", pv.dim(0), " clips; pass one clip at a time");
    pv = pv.reshape({pv.dim(1), pv.dim(2), pv.dim(3), pv.dim(4)});
  }
  TRIBEV2_CHECK(pv.ndim() == 4 && pv.dim(1) == config().in_chans && pv.dim(2) == pv.dim(3),
                "pixel_values must be [frames, ", config().in_chans, ", S, S], got ", shape_str(pixel_values.shape()));
  const std::int64_t T = config().tokens(pv.dim(0), pv.dim(2)), H = config().hidden_size;
  Tensor out = Tensor::empty(DType::F32, {num_hidden_states(), T, H});
  float* o = out.data<float>();
  const Tensor& input = pv;
  forward(ctx, input.data<float>(), pv.dim(0), pv.dim(2), [&](int i, const float* h, std::int64_t, std::int64_t) {
    std::copy(h, h + T * H, o + static_cast<std::int64_t>(i) * T * H);
  });
  return out;
}

}  // namespace tribev2::features::video

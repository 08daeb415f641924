#include "tribev2/features/audio/w2v_bert.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "tribev2/core/attention.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/kernels.hpp"
#include "tribev2/core/linear.hpp"
#include "tribev2/features/audio/conformer_kernels.hpp"
#include "tribev2/io/hash.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/io/safetensors.hpp"

namespace tribev2::features::audio {

namespace fs = std::filesystem;

// ---- config.json ---------------------------------------------------------------------

W2vBertConfig W2vBertConfig::from_json_file(const fs::path& path) {
  const std::string name = path.string();
  const nlohmann::json j = io::read_json_object(path);
  auto integer = [&](const char* key, int& dst, bool required) {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) fail(name, ": missing key '", key, "'");
      return;
    }
    TRIBEV2_CHECK(j[key].is_number_integer(), name, ": ", key, ": expected an integer, got ", j[key].dump());
    const auto v = j[key].get<std::int64_t>();
    TRIBEV2_CHECK(v >= 0 && v <= 1'000'000, name, ": ", key, ": value ", v, " out of range");
    dst = static_cast<int>(v);
  };
  auto text = [&](const char* key) -> std::string {
    if (!j.contains(key) || j[key].is_null()) return {};
    TRIBEV2_CHECK(j[key].is_string(), name, ": ", key, ": expected a string, got ", j[key].dump());
    return j[key].get<std::string>();
  };
  auto flag = [&](const char* key) {
    if (!j.contains(key) || j[key].is_null()) return false;
    TRIBEV2_CHECK(j[key].is_boolean(), name, ": ", key, ": expected true/false, got ", j[key].dump());
    return j[key].get<bool>();
  };
  W2vBertConfig c;
  if (const auto mt = text("model_type"); !mt.empty())
    TRIBEV2_CHECK(mt == "wav2vec2-bert", name, ": model_type: expected \"wav2vec2-bert\", got \"", mt, "\"");
  integer("hidden_size", c.hidden, true);
  integer("num_attention_heads", c.heads, true);
  integer("intermediate_size", c.intermediate, true);
  integer("num_hidden_layers", c.layers, true);
  integer("feature_projection_input_dim", c.input_dim, false);
  integer("conv_depthwise_kernel_size", c.conv_kernel, false);
  integer("left_max_position_embeddings", c.left_max, false);
  integer("right_max_position_embeddings", c.right_max, false);
  if (j.contains("layer_norm_eps")) {
    TRIBEV2_CHECK(j["layer_norm_eps"].is_number(), name, ": layer_norm_eps: expected a number");
    c.layer_norm_eps = j["layer_norm_eps"].get<float>();
  }
  const std::string pos = text("position_embeddings_type");
  TRIBEV2_CHECK(pos == "relative_key", name, ": position_embeddings_type: only \"relative_key\" (w2v-BERT 2.0) is ",
                "implemented, got \"", pos.empty() ? "null" : pos, "\"");
  const std::string act = text("hidden_act");
  TRIBEV2_CHECK(act.empty() || act == "swish" || act == "silu", name, ": hidden_act: only \"swish\" is implemented, got \"",
                act, "\"");
  TRIBEV2_CHECK(!flag("add_adapter"), name, ": add_adapter: the adapter is not part of the bare w2v-BERT 2.0 encoder");
  TRIBEV2_CHECK(c.hidden > 0 && c.heads > 0 && c.hidden % c.heads == 0, name, ": hidden_size (", c.hidden,
                ") must be a positive multiple of num_attention_heads (", c.heads, ")");
  TRIBEV2_CHECK(c.intermediate > 0 && c.layers > 0 && c.input_dim > 0 && c.conv_kernel > 0, name,
                ": intermediate_size, num_hidden_layers, feature_projection_input_dim and conv_depthwise_kernel_size ",
                "must be positive");
  TRIBEV2_CHECK(c.layer_norm_eps > 0.0f && std::isfinite(c.layer_norm_eps), name, ": layer_norm_eps must be > 0");
  return c;
}

// ---- weights --------------------------------------------------------------------------

namespace {

struct Norm {
  std::vector<float> g, b;
};
struct FfnW {
  Norm ln;
  Linear w1, w2;
};
struct LayerW {
  FfnW ffn1, ffn2;
  Norm attn_ln;
  Linear q, k, v, o;
  std::vector<float> dist;  // [left + right + 1, head_dim]
  Norm conv_ln;
  Linear pw1, pw2;
  std::vector<float> dw;  // [K, hidden] (tap-major)
  Norm dw_ln;
  Norm final_ln;
};

std::vector<float> as_f32(const Tensor& t) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  convert_to_f32(t, v);
  return v;
}

}  // namespace

struct W2vBertModel::Weights {
  W2vBertConfig cfg;
  FbankConfig pre;
  std::string fingerprint;
  io::SafetensorsFile file;
  Norm proj_ln;
  // Not packed: each forward multiplies thousands of rows (~50 per second of audio) by every
  // weight, where packing per call is amortised and the packed layout measured slower
  // (docs/performance.md, "Which weights are packed").
  Linear proj;
  std::vector<LayerW> layers;
};

namespace {

// The key list of facebook/w2v-bert-2.0's model.safetensors for this config.
std::vector<std::pair<std::string, Shape>> expected_keys(const W2vBertConfig& c) {
  const std::int64_t H = c.hidden, I = c.intermediate, D = c.head_dim();
  std::vector<std::pair<std::string, Shape>> k = {
      {"feature_projection.layer_norm.weight", {c.input_dim}},
      {"feature_projection.layer_norm.bias", {c.input_dim}},
      {"feature_projection.projection.weight", {H, c.input_dim}},
      {"feature_projection.projection.bias", {H}},
  };
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    for (const char* f : {"ffn1", "ffn2"}) {
      k.push_back({p + f + "_layer_norm.weight", {H}});
      k.push_back({p + f + "_layer_norm.bias", {H}});
      k.push_back({p + f + ".intermediate_dense.weight", {I, H}});
      k.push_back({p + f + ".intermediate_dense.bias", {I}});
      k.push_back({p + f + ".output_dense.weight", {H, I}});
      k.push_back({p + f + ".output_dense.bias", {H}});
    }
    k.push_back({p + "self_attn_layer_norm.weight", {H}});
    k.push_back({p + "self_attn_layer_norm.bias", {H}});
    for (const char* m : {"q", "k", "v", "out"}) {
      k.push_back({p + "self_attn.linear_" + m + ".weight", {H, H}});
      k.push_back({p + "self_attn.linear_" + m + ".bias", {H}});
    }
    k.push_back({p + "self_attn.distance_embedding.weight", {c.left_max + c.right_max + 1, D}});
    k.push_back({p + "conv_module.layer_norm.weight", {H}});
    k.push_back({p + "conv_module.layer_norm.bias", {H}});
    k.push_back({p + "conv_module.pointwise_conv1.weight", {2 * H, H, 1}});
    k.push_back({p + "conv_module.depthwise_conv.weight", {H, 1, c.conv_kernel}});
    k.push_back({p + "conv_module.depthwise_layer_norm.weight", {H}});
    k.push_back({p + "conv_module.depthwise_layer_norm.bias", {H}});
    k.push_back({p + "conv_module.pointwise_conv2.weight", {H, H, 1}});
    k.push_back({p + "final_layer_norm.weight", {H}});
    k.push_back({p + "final_layer_norm.bias", {H}});
  }
  return k;
}

void check_keys(const io::SafetensorsFile& f, const std::vector<std::pair<std::string, Shape>>& expected) {
  std::set<std::string> known;
  std::vector<std::string> problems;
  for (const auto& [name, shape] : expected) {
    known.insert(name);
    if (!f.contains(name)) {
      problems.push_back("missing " + name + " " + shape_str(shape));
      continue;
    }
    const Tensor& t = f.get(name);
    if (t.shape() != shape)
      problems.push_back(name + ": expected " + shape_str(shape) + ", got " + shape_str(t.shape()));
    else if (!(t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16))
      problems.push_back(name + ": dtype " + std::string(dtype_name(t.dtype())) + " (expected F32, F16 or BF16)");
  }
  known.insert("masked_spec_embed");  // present in the release, unused at inference
  std::size_t prefixed = 0;
  for (const auto& n : f.names()) {
    if (n.rfind("wav2vec2_bert.", 0) == 0) ++prefixed;
    if (!known.count(n)) problems.push_back("unexpected " + n);
  }
  if (prefixed > 0)
    fail(f.path(), ": keys carry the 'wav2vec2_bert.' prefix of a task model (e.g. Wav2Vec2BertForCTC); ",
         "expected the bare Wav2Vec2BertModel of facebook/w2v-bert-2.0");
  if (problems.empty()) return;
  std::string msg;
  const std::size_t shown = std::min<std::size_t>(problems.size(), 12);
  for (std::size_t i = 0; i < shown; ++i) msg += "\n  " + problems[i];
  if (problems.size() > shown) msg += "\n  ... and " + std::to_string(problems.size() - shown) + " more";
  fail(f.path(), ": does not match the Wav2Vec2BertModel of config.json (", problems.size(), " problems):", msg);
}

}  // namespace

W2vBertModel W2vBertModel::load(const fs::path& dir) {
  std::error_code ec;
  TRIBEV2_CHECK(fs::is_directory(dir, ec), dir.string(),
                ": expected a w2v-BERT checkpoint folder (config.json, preprocessor_config.json, model.safetensors)");
  const fs::path cfg_path = dir / "config.json", pre_path = dir / "preprocessor_config.json",
                 st_path = dir / "model.safetensors";
  for (const auto& p : {cfg_path, pre_path})
    TRIBEV2_CHECK(fs::exists(p, ec), p.string(), ": missing (the checkpoint folder needs config.json, ",
                  "preprocessor_config.json and model.safetensors)");
  if (!fs::exists(st_path, ec)) {
    if (fs::exists(dir / "model.safetensors.index.json", ec))
      fail(st_path.string(), ": missing; sharded checkpoints (model.safetensors.index.json) are not supported, ",
           "the facebook/w2v-bert-2.0 release is a single model.safetensors");
    fail(st_path.string(), ": missing (a pytorch_model.bin cannot be read; use the safetensors file of the release)");
  }
  auto w = std::make_shared<Weights>();
  w->cfg = W2vBertConfig::from_json_file(cfg_path);
  w->pre = FbankConfig::from_json_file(pre_path);
  const auto& c = w->cfg;
  TRIBEV2_CHECK(w->pre.stride * w->pre.num_mel_bins == c.input_dim, pre_path.string(), ": stride (", w->pre.stride,
                ") x num_mel_bins (", w->pre.num_mel_bins, ") must equal config.json feature_projection_input_dim (",
                c.input_dim, ")");
  auto map = io::MappedFile::open(st_path);
  const auto bytes = map->bytes();
  w->file = io::SafetensorsFile::parse(bytes, st_path.string(), map);
  check_keys(w->file, expected_keys(c));

  // Fingerprint: both JSON files, the safetensors header and 256 sampled 4 KiB blocks.
  io::Sha256 h;
  h.update(io::read_text_file(cfg_path)).update(io::read_text_file(pre_path));
  h.update_u64(bytes.size());
  std::uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  h.update(bytes.subspan(0, static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), 8 + header))));
  constexpr std::size_t kBlock = 4096, kSamples = 256;
  for (std::size_t s = 0; s < kSamples && bytes.size() > kBlock; ++s) {
    const std::size_t off = (bytes.size() - kBlock) / (kSamples - 1) * s;
    h.update(bytes.subspan(off, kBlock));
  }
  w->fingerprint = h.hex();

  const auto& f = w->file;
  auto norm = [&](const std::string& p) { return Norm{as_f32(f.get(p + ".weight")), as_f32(f.get(p + ".bias"))}; };
  auto mat = [&](const std::string& key, std::int64_t rows, std::int64_t cols) {
    return mat_view(f.get(key).reshape({rows, cols}));
  };
  auto lin = [&](const std::string& key, std::int64_t rows, std::int64_t cols, bool bias = true) {
    return Linear(mat(key + ".weight", rows, cols), bias ? as_f32(f.get(key + ".bias")) : std::vector<float>());
  };
  const std::int64_t H = c.hidden, I = c.intermediate;
  w->proj_ln = norm("feature_projection.layer_norm");
  w->proj = lin("feature_projection.projection", H, c.input_dim);
  w->layers.resize(static_cast<std::size_t>(c.layers));
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    LayerW& L = w->layers[static_cast<std::size_t>(l)];
    auto ffn = [&](const std::string& n) {
      FfnW r;
      r.ln = norm(p + n + "_layer_norm");
      r.w1 = lin(p + n + ".intermediate_dense", I, H);
      r.w2 = lin(p + n + ".output_dense", H, I);
      return r;
    };
    L.ffn1 = ffn("ffn1");
    L.ffn2 = ffn("ffn2");
    L.attn_ln = norm(p + "self_attn_layer_norm");
    L.q = lin(p + "self_attn.linear_q", H, H);
    L.k = lin(p + "self_attn.linear_k", H, H);
    L.v = lin(p + "self_attn.linear_v", H, H);
    L.o = lin(p + "self_attn.linear_out", H, H);
    L.dist = as_f32(f.get(p + "self_attn.distance_embedding.weight"));
    L.conv_ln = norm(p + "conv_module.layer_norm");
    L.pw1 = lin(p + "conv_module.pointwise_conv1", 2 * H, H, false);
    L.pw2 = lin(p + "conv_module.pointwise_conv2", H, H, false);
    const auto dw = as_f32(f.get(p + "conv_module.depthwise_conv.weight"));  // [H, 1, K]
    L.dw.resize(dw.size());
    for (std::int64_t ch = 0; ch < H; ++ch)
      for (int j = 0; j < c.conv_kernel; ++j)
        L.dw[static_cast<std::size_t>(j * H + ch)] = dw[static_cast<std::size_t>(ch * c.conv_kernel + j)];
    L.dw_ln = norm(p + "conv_module.depthwise_layer_norm");
    L.final_ln = norm(p + "final_layer_norm");
  }
  W2vBertModel m;
  m.w_ = std::move(w);
  return m;
}

const W2vBertConfig& W2vBertModel::config() const { return w_->cfg; }
const FbankConfig& W2vBertModel::preprocessor() const { return w_->pre; }
const std::string& W2vBertModel::fingerprint() const { return w_->fingerprint; }

// ---- forward --------------------------------------------------------------------------

namespace {

// Work buffers of one forward pass, sized once for T frames.
struct Scratch {
  std::vector<float> ln, inter, q, k, v, att, tmp, wide, glu, conv;
  Scratch(std::int64_t T, const W2vBertConfig& c) {
    const auto H = static_cast<std::size_t>(T * c.hidden);
    ln.resize(std::max<std::size_t>(H, static_cast<std::size_t>(T * c.input_dim)));
    inter.resize(static_cast<std::size_t>(T * c.intermediate));
    q.resize(H);
    k.resize(H);
    v.resize(H);
    att.resize(H);
    tmp.resize(H);
    wide.resize(2 * H);
    glu.resize(H);
    conv.resize(H);
  }
};

void layer_norm(const Context& ctx, const float* x, float* out, std::int64_t T, std::int64_t dim, const Norm& n,
                float eps) {
  tribev2::kernels::layer_norm(ctx, x, out, T, dim, n.g.data(), n.b.data(), eps);
}

// x += 0.5 * FFN(LN(x))
void half_ffn(const Context& ctx, const W2vBertConfig& c, const FfnW& f, float* x, std::int64_t T, Scratch& s) {
  const std::int64_t H = c.hidden, I = c.intermediate;
  layer_norm(ctx, x, s.ln.data(), T, H, f.ln, c.layer_norm_eps);
  f.w1.forward(ctx, s.ln.data(), T, s.inter.data());
  tribev2::kernels::silu(ctx, s.inter.data(), T * I);
  f.w2.forward(ctx, s.inter.data(), T, s.tmp.data());
  const std::int64_t n = T * H;
  for (std::int64_t i = 0; i < n; ++i) x[i] = s.tmp[static_cast<std::size_t>(i)] * 0.5f + x[i];
}

// out = linear_out(attention(q, k, v) with the relative_key bias), x being the module input.
void attention_block(const Context& ctx, const W2vBertConfig& c, const LayerW& L, const float* x, std::int64_t T,
                     Scratch& s, float* out) {
  const std::int64_t H = c.hidden;
  const int D = c.head_dim();
  L.q.forward(ctx, x, T, s.q.data());
  L.k.forward(ctx, x, T, s.k.data());
  L.v.forward(ctx, x, T, s.v.data());
  const int left = c.left_max, right = c.right_max;
  const std::int64_t width = static_cast<std::int64_t>(left) + right + 1;
  const MatView E{DType::F32, L.dist.data(), width, D, D};
  ScoreBias bias;
  // P[i, r] = q_i . E[r] for the 73 distances, once per block of queries; then scattered onto
  // the score rows of all keys (add) or of one block of keys (block: the fused attention).
  auto distances = [&](std::int64_t nq, const float* q, std::int64_t ldq) {
    std::vector<float> P(static_cast<std::size_t>(nq * width));
    gemm(ctx, true, nq, width, D, q, ldq, E, 0.0f, P.data(), width);
    return P;
  };
  bias.add = [&](int, std::int64_t q0, std::int64_t nq, const float* q, std::int64_t ldq, float* scores,
                 std::int64_t n_keys) {
    const std::vector<float> P = distances(nq, q, ldq);
    kernels::add_relative_key_bias(P.data(), q0, nq, 0, n_keys, n_keys, left, right, scores);
  };
  bias.block = [&](int, std::int64_t q0, std::int64_t nq, const float* q, std::int64_t ldq) {
    auto P = std::make_shared<const std::vector<float>>(distances(nq, q, ldq));
    return ScoreBias::KeyBlockAdder([P, q0, nq, left, right](std::int64_t k0, std::int64_t n_keys, float* scores,
                                                              std::int64_t lds) {
      kernels::add_relative_key_bias(P->data(), q0, nq, k0, n_keys, lds, left, right, scores);
    });
  };
  AttentionParams p;
  p.tq = T;
  p.tk = T;
  p.heads = c.heads;
  p.kv_heads = c.heads;
  p.head_dim = D;
  p.scale = 1.0f / std::sqrt(static_cast<float>(D));
  // --precision bf16: q.k and p.v as bf16 products too (what a bf16 PyTorch run does), the
  // relative_key term added to the float32 scores in between.
  p.bf16_products = ctx.precision() == Precision::BF16;
  attention(ctx, p, s.q.data(), H, s.k.data(), H, s.v.data(), H, s.att.data(), H, &bias);
  L.o.forward(ctx, s.att.data(), T, out);
}

// out = Conv(x) (the convolution module including its LayerNorm, without the residual).
void conv_block(const Context& ctx, const W2vBertConfig& c, const LayerW& L, const float* x, std::int64_t T, Scratch& s,
                float* out) {
  const std::int64_t H = c.hidden;
  layer_norm(ctx, x, s.ln.data(), T, H, L.conv_ln, c.layer_norm_eps);
  L.pw1.forward(ctx, s.ln.data(), T, s.wide.data());
  kernels::glu(ctx, s.wide.data(), T, H, s.glu.data());
  kernels::depthwise_causal_conv(ctx, s.glu.data(), T, H, L.dw.data(), c.conv_kernel, s.conv.data());
  layer_norm(ctx, s.conv.data(), s.conv.data(), T, H, L.dw_ln, c.layer_norm_eps);
  tribev2::kernels::silu(ctx, s.conv.data(), T * H);
  L.pw2.forward(ctx, s.conv.data(), T, out);
}

void layer_forward(const Context& ctx, const W2vBertConfig& c, const LayerW& L, float* x, std::int64_t T, Scratch& s) {
  const std::int64_t n = T * c.hidden;
  half_ffn(ctx, c, L.ffn1, x, T, s);
  layer_norm(ctx, x, s.ln.data(), T, c.hidden, L.attn_ln, c.layer_norm_eps);
  attention_block(ctx, c, L, s.ln.data(), T, s, s.tmp.data());
  for (std::int64_t i = 0; i < n; ++i) x[i] += s.tmp[static_cast<std::size_t>(i)];
  conv_block(ctx, c, L, x, T, s, s.tmp.data());
  for (std::int64_t i = 0; i < n; ++i) x[i] += s.tmp[static_cast<std::size_t>(i)];
  half_ffn(ctx, c, L.ffn2, x, T, s);
  layer_norm(ctx, x, x, T, c.hidden, L.final_ln, c.layer_norm_eps);
}

}  // namespace

void W2vBertModel::forward(const Context& ctx, const Tensor& features, const HiddenSink& sink,
                           const LayerProgress& progress) const {
  const auto& c = w_->cfg;
  TRIBEV2_CHECK(features.dtype() == DType::F32 && features.ndim() == 2 && features.dim(1) == c.input_dim,
                "w2v-BERT: input_features must be float32 [T, ", c.input_dim, "], got ", dtype_name(features.dtype()),
                " ", shape_str(features.shape()));
  const std::int64_t T = features.dim(0);
  TRIBEV2_CHECK(T >= 1, "w2v-BERT: no input frames");
  Scratch s(T, c);
  std::vector<float> x(static_cast<std::size_t>(T * c.hidden));
  layer_norm(ctx, features.data<float>(), s.ln.data(), T, c.input_dim, w_->proj_ln, c.layer_norm_eps);
  w_->proj.forward(ctx, s.ln.data(), T, x.data());
  if (sink) sink(0, x.data(), T);
  for (int l = 0; l < c.layers; ++l) {
    layer_forward(ctx, c, w_->layers[static_cast<std::size_t>(l)], x.data(), T, s);
    if (sink) sink(l + 1, x.data(), T);
    if (progress) progress(l + 1, c.layers);
  }
}

Tensor W2vBertModel::forward_all(const Context& ctx, const Tensor& features) const {
  const auto& c = w_->cfg;
  const std::int64_t T = features.ndim() == 2 ? features.dim(0) : 0;
  Tensor out = Tensor::empty(DType::F32, {c.layers + 1, T, c.hidden});
  float* o = out.data<float>();
  forward(ctx, features, [&](int i, const float* h, std::int64_t n) {
    std::copy_n(h, n * c.hidden, o + static_cast<std::int64_t>(i) * T * c.hidden);
  });
  return out;
}

void W2vBertModel::self_attention(const Context& ctx, int layer, const float* x, std::int64_t T, float* out) const {
  TRIBEV2_CHECK(layer >= 0 && layer < w_->cfg.layers, "w2v-BERT: no layer ", layer);
  Scratch s(T, w_->cfg);
  attention_block(ctx, w_->cfg, w_->layers[static_cast<std::size_t>(layer)], x, T, s, out);
}

void W2vBertModel::conv_module(const Context& ctx, int layer, const float* x, std::int64_t T, float* out) const {
  TRIBEV2_CHECK(layer >= 0 && layer < w_->cfg.layers, "w2v-BERT: no layer ", layer);
  Scratch s(T, w_->cfg);
  conv_block(ctx, w_->cfg, w_->layers[static_cast<std::size_t>(layer)], x, T, s, out);
}

void W2vBertModel::conformer_layer(const Context& ctx, int layer, float* x, std::int64_t T) const {
  TRIBEV2_CHECK(layer >= 0 && layer < w_->cfg.layers, "w2v-BERT: no layer ", layer);
  Scratch s(T, w_->cfg);
  layer_forward(ctx, w_->cfg, w_->layers[static_cast<std::size_t>(layer)], x, T, s);
}

}  // namespace tribev2::features::audio

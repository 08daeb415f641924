#include "tribev2/features/text/llama_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>

#include "tribev2/core/attention.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/kernels.hpp"
#include "tribev2/core/linear.hpp"
#include "tribev2/io/hash.hpp"
#include "tribev2/io/file.hpp"
#include "weight_ops.hpp"

namespace tribev2::text {

using io::Sha256;
using io::sha256_hex;

// ---- KvCache --------------------------------------------------------------------------------

void KvCache::truncate(std::int64_t n) {
  TRIBEV2_CHECK(n >= 0, "KvCache::truncate: negative size");
  if (n < size()) tokens_.resize(static_cast<std::size_t>(n));
}

std::size_t KvCache::bytes() const {
  std::size_t b = 0;
  for (const auto& k : k_) b += k.size() * sizeof(float);
  for (const auto& v : v_) b += v.size() * sizeof(float);
  return b;
}

void KvCache::ensure(int layers, std::int64_t kv_dim, std::int64_t needed) {
  if (static_cast<int>(k_.size()) != layers || kv_dim_ != kv_dim) {
    TRIBEV2_CHECK(tokens_.empty(), "KvCache: used with a model of another shape");
    k_.assign(static_cast<std::size_t>(layers), {});
    v_.assign(static_cast<std::size_t>(layers), {});
    kv_dim_ = kv_dim;
    capacity_ = 0;
  }
  if (needed <= capacity_) return;
  const std::int64_t cap = std::max<std::int64_t>(needed, capacity_ + capacity_ / 2);
  for (auto* store : {&k_, &v_})
    for (auto& buf : *store) buf.resize(static_cast<std::size_t>(cap * kv_dim));
  capacity_ = cap;
}

// ---- model ----------------------------------------------------------------------------------

// A decoder layer's products, on core's one Linear type (viewing LlamaWeights' matrices).
struct LayerLinears {
  Linear q, k, v, o, gate, up, down;
};

struct LlamaModel::Impl {
  LlamaWeights w;
  Tokenizer tokenizer;
  LlamaCompute compute = LlamaCompute::F32;
  // Not packed (per-call packing inside the GEMM): packing the 3B model's weights for bf16
  // once cost ~14 s up front for the same forward speed (docs/performance.md, "Which weights
  // are packed"); its F32 weights gain nothing measurable from it.
  std::vector<LayerLinears> linears;
};

namespace {

// Keeps owned bf16 copies of matrices stored in another type, for the bf16 compute mode.
WeightMatrix to_bf16(const WeightMatrix& m, std::vector<std::shared_ptr<const void>>& keep) {
  if (m.type == WeightType::BF16) return m;
  TRIBEV2_CHECK(m.type != WeightType::Q8_0, "bf16 compute needs F32/F16/BF16 weights, not Q8_0");
  auto buf = std::make_shared<std::vector<std::uint16_t>>(static_cast<std::size_t>(m.rows * m.cols));
  std::vector<float> row(static_cast<std::size_t>(m.cols));
  for (std::int64_t r = 0; r < m.rows; ++r) {
    m.row_to_f32(r, row.data());
    for (std::int64_t c = 0; c < m.cols; ++c)
      (*buf)[static_cast<std::size_t>(r * m.cols + c)] = f32_to_bf16(row[static_cast<std::size_t>(c)]);
  }
  WeightMatrix out{WeightType::BF16, buf->data(), m.rows, m.cols};
  keep.push_back(std::move(buf));
  return out;
}

void round_vec(std::vector<float>& v) { round_bf16(v.data(), static_cast<std::int64_t>(v.size())); }

// x[T, ld] heads of q or k, rotated in place; c/s [T, half].
void rope_apply(const Context& ctx, float* x, std::int64_t T, std::int64_t ld, int heads, int head_dim, RopeLayout layout,
                bool bf16, const float* c, const float* s) {
  const int half = head_dim / 2;
  if (layout == RopeLayout::RotateHalf && !bf16) {
    kernels::rope_rotate_half(ctx, x, T, ld, heads, head_dim, head_dim, c, s);
    return;
  }
  ctx.pool().parallel_for(T, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      const float* cr = c + r * half;
      const float* sr = s + r * half;
      for (int h = 0; h < heads; ++h) {
        float* u = x + r * ld + static_cast<std::int64_t>(h) * head_dim;
        for (int i = 0; i < half; ++i) {
          float& ua = layout == RopeLayout::RotateHalf ? u[i] : u[2 * i];
          float& ub = layout == RopeLayout::RotateHalf ? u[i + half] : u[2 * i + 1];
          const float a = ua, b = ub;
          if (bf16) {  // (q * cos) + (rotate_half(q) * sin), every product and sum stored as bf16
            ua = bf16_round(bf16_round(a * cr[i]) + bf16_round(-b * sr[i]));
            ub = bf16_round(bf16_round(b * cr[i]) + bf16_round(a * sr[i]));
          } else {
            ua = a * cr[i] - b * sr[i];
            ub = b * cr[i] + a * sr[i];
          }
        }
      }
    }
  }, 8);
}

// LlamaRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)); in bf16 mode the normalised value is
// stored as bf16 before the (bf16) product with the weight.
void rms_norm(const Context& ctx, const float* x, float* out, std::int64_t T, std::int64_t H, const std::vector<float>& w,
              float eps, bool bf16) {
  if (!bf16) {
    kernels::rms_norm(ctx, x, out, T, H, w.data(), eps);
    return;
  }
  kernels::rms_norm(ctx, x, out, T, H, nullptr, eps);
  ctx.pool().parallel_for(T, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t i = 0; i < H; ++i) {
        float& v = out[r * H + i];
        v = bf16_round(w[static_cast<std::size_t>(i)] * bf16_round(v));
      }
  }, 8);
}

}  // namespace

LlamaModel LlamaModel::from_weights(LlamaWeights w, Tokenizer tokenizer, LlamaCompute compute) {
  const LlamaConfig& c = w.config;
  c.validate(w.description);
  TRIBEV2_CHECK(static_cast<std::int64_t>(w.layers.size()) == c.n_layers, w.description, ": ", w.layers.size(),
                " layers of weights for num_hidden_layers ", c.n_layers);
  TRIBEV2_CHECK(static_cast<int>(w.inv_freq.size()) == c.head_dim / 2, w.description, ": rope frequencies [",
                w.inv_freq.size(), "], expected [", c.head_dim / 2, "]");
  TRIBEV2_CHECK(tokenizer.id_limit() <= w.embed.rows, w.description, ": the tokenizer has ids up to ",
                tokenizer.id_limit() - 1, " but the embedding has only ", w.embed.rows, " rows");
  if (compute == LlamaCompute::BF16) {
    // transformers' bf16 run holds every parameter as bf16.
    auto& keep = w.keep_alive;
    w.embed = to_bf16(w.embed, keep);
    for (auto& l : w.layers) {
      for (WeightMatrix* m : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) *m = to_bf16(*m, keep);
      round_vec(l.attn_norm);
      round_vec(l.mlp_norm);
    }
    round_vec(w.final_norm);
  }
  auto impl = std::make_shared<Impl>();
  impl->w = std::move(w);
  impl->tokenizer = std::move(tokenizer);
  impl->compute = compute;
  for (const auto& l : impl->w.layers)
    impl->linears.push_back({Linear(l.q), Linear(l.k), Linear(l.v), Linear(l.o), Linear(l.gate), Linear(l.up),
                             Linear(l.down)});
  LlamaModel m;
  m.impl_ = std::move(impl);
  return m;
}

const LlamaConfig& LlamaModel::config() const { return impl_->w.config; }
const LlamaWeights& LlamaModel::weights() const { return impl_->w; }
const Tokenizer& LlamaModel::tokenizer() const { return impl_->tokenizer; }
LlamaCompute LlamaModel::compute() const { return impl_->compute; }

void LlamaModel::forward(const Context& ctx, std::span<const std::int32_t> ids, KvCache& cache,
                         const StateFn& on_state) const {
  const LlamaWeights& w = impl_->w;
  const LlamaConfig& c = w.config;
  const bool bf16 = impl_->compute == LlamaCompute::BF16;
  const auto T = static_cast<std::int64_t>(ids.size());
  if (T == 0) return;
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, QD = c.q_dim(), KD = c.kv_dim();
  const int hd = c.head_dim, half = hd / 2;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  for (std::int64_t t = 0; t < T; ++t)
    TRIBEV2_CHECK(ids[static_cast<std::size_t>(t)] >= 0 && ids[static_cast<std::size_t>(t)] < w.embed.rows,
                  "token id ", ids[static_cast<std::size_t>(t)], " is outside the embedding [0, ", w.embed.rows, ")");
  const std::int64_t p0 = cache.size();
  cache.ensure(c.n_layers, KD, p0 + T);

  std::vector<float> x(static_cast<std::size_t>(T * H)), xn(x.size()), q(static_cast<std::size_t>(T * QD)),
      att(q.size()), g(static_cast<std::size_t>(T * I)), u(g.size());
  for (std::int64_t t = 0; t < T; ++t) w.embed.row_to_f32(ids[static_cast<std::size_t>(t)], x.data() + t * H);
  if (on_state) on_state(0, p0, x.data(), T);

  // cos/sin of position * inv_freq (float32 product, as transformers' rotary embedding).
  std::vector<float> cs(static_cast<std::size_t>(T * half)), sn(cs.size());
  for (std::int64_t t = 0; t < T; ++t)
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p0 + t) * w.inv_freq[static_cast<std::size_t>(i)];
      float cv = static_cast<float>(std::cos(static_cast<double>(angle)));
      float sv = static_cast<float>(std::sin(static_cast<double>(angle)));
      if (bf16) cv = bf16_round(cv), sv = bf16_round(sv);
      cs[static_cast<std::size_t>(t * half + i)] = cv;
      sn[static_cast<std::size_t>(t * half + i)] = sv;
    }

  AttentionParams ap;
  ap.tq = T;
  ap.tk = p0 + T;
  ap.heads = c.n_heads;
  ap.kv_heads = c.n_kv_heads;
  ap.head_dim = hd;
  ap.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  ap.causal = true;
  ap.causal_offset = p0;

  auto add_into = [&](float* dst, const float* src, std::int64_t n) {
    ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) {
      for (std::int64_t i = i0; i < i1; ++i) dst[i] = bf16 ? bf16_round(dst[i] + src[i]) : dst[i] + src[i];
    }, 4096);
  };
  auto maybe_round = [&](float* v, std::int64_t n) {
    if (!bf16) return;
    ctx.pool().parallel_for(n, [&](std::int64_t i0, std::int64_t i1) { round_bf16(v + i0, i1 - i0); }, 4096);
  };

  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayerWeights& L = w.layers[static_cast<std::size_t>(l)];
    const LayerLinears& P = impl_->linears[static_cast<std::size_t>(l)];
    float* kc = cache.k_[static_cast<std::size_t>(l)].data() + p0 * KD;
    float* vc = cache.v_[static_cast<std::size_t>(l)].data() + p0 * KD;
    // Attention block.
    rms_norm(ctx, x.data(), xn.data(), T, H, L.attn_norm, eps, bf16);
    P.q.forward(ctx, xn.data(), T, H, q.data(), QD);
    P.k.forward(ctx, xn.data(), T, H, kc, KD);
    P.v.forward(ctx, xn.data(), T, H, vc, KD);
    maybe_round(q.data(), T * QD);
    maybe_round(kc, T * KD);
    maybe_round(vc, T * KD);
    rope_apply(ctx, q.data(), T, QD, c.n_heads, hd, w.rope_layout, bf16, cs.data(), sn.data());
    rope_apply(ctx, kc, T, KD, c.n_kv_heads, hd, w.rope_layout, bf16, cs.data(), sn.data());
    const float* k_all = cache.k_[static_cast<std::size_t>(l)].data();
    const float* v_all = cache.v_[static_cast<std::size_t>(l)].data();
    attention(ctx, ap, q.data(), QD, k_all, KD, v_all, KD, att.data(), QD);
    maybe_round(att.data(), T * QD);
    P.o.forward(ctx, att.data(), T, QD, xn.data(), H);
    maybe_round(xn.data(), T * H);
    add_into(x.data(), xn.data(), T * H);
    // SwiGLU MLP.
    rms_norm(ctx, x.data(), xn.data(), T, H, L.mlp_norm, eps, bf16);
    P.gate.forward(ctx, xn.data(), T, H, g.data(), I);
    P.up.forward(ctx, xn.data(), T, H, u.data(), I);
    maybe_round(g.data(), T * I);
    maybe_round(u.data(), T * I);
    kernels::silu(ctx, g.data(), T * I);
    ctx.pool().parallel_for(T * I, [&](std::int64_t i0, std::int64_t i1) {
      for (std::int64_t i = i0; i < i1; ++i) {
        const auto k = static_cast<std::size_t>(i);
        g[k] = bf16 ? bf16_round(bf16_round(g[k]) * u[k]) : g[k] * u[k];
      }
    }, 4096);
    P.down.forward(ctx, g.data(), T, I, xn.data(), H);
    maybe_round(xn.data(), T * H);
    add_into(x.data(), xn.data(), T * H);
    if (!on_state) continue;
    if (l + 1 < c.n_layers) {
      on_state(l + 1, p0, x.data(), T);
    } else {
      rms_norm(ctx, x.data(), xn.data(), T, H, w.final_norm, eps, bf16);
      on_state(l + 1, p0, xn.data(), T);
    }
  }
  cache.tokens_.insert(cache.tokens_.end(), ids.begin(), ids.end());
}

Tensor LlamaModel::hidden_states(const Context& ctx, std::span<const std::int32_t> ids) const {
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), H = hidden_size();
  Tensor out = Tensor::zeros(DType::F32, {n_states(), T, H});
  float* o = out.data<float>();
  KvCache cache;
  forward(ctx, ids, cache, [&](int s, std::int64_t, const float* rows, std::int64_t n) {
    std::memcpy(o + static_cast<std::int64_t>(s) * T * H, rows, static_cast<std::size_t>(n * H) * sizeof(float));
  });
  return out;
}

LlamaModel LlamaModel::load(const std::filesystem::path& path, const LlamaLoadOptions& options) {
  namespace fs = std::filesystem;
  auto warn = options.warn ? options.warn : [](const std::string& s) { std::cerr << "tribev2: warning: " << s << "\n"; };
  if (!fs::exists(path)) fail(path.string(), ": no such Llama checkpoint folder or GGUF file");
  if (fs::is_directory(path)) {
    LlamaWeights w = load_hf_llama_weights(path);
    const fs::path tok_path = options.tokenizer ? *options.tokenizer : path / "tokenizer.json";
    if (!fs::exists(tok_path)) fail(tok_path.string(), ": missing (the Llama checkpoint folder needs its tokenizer.json)");
    const std::string tok_text = io::read_text_file(tok_path);
    Tokenizer tok = Tokenizer::from_json(tok_text, tok_path.string());
    w.fingerprint = sha256_hex(w.fingerprint + ":tokenizer:" + sha256_hex(tok_text));
    return from_weights(std::move(w), std::move(tok), options.compute);
  }
  GgufLlama g = load_gguf_llama(path);
  if (g.quantized)
    warn(path.string() + ": Q8_0-quantised weights: the text features will differ from upstream's (which uses the "
         "original bf16 weights); use the HuggingFace checkpoint or an F32/F16/BF16 GGUF for parity");
  std::optional<Tokenizer> tok;
  if (options.tokenizer) {
    const std::string tok_text = io::read_text_file(*options.tokenizer);
    tok = Tokenizer::from_json(tok_text, options.tokenizer->string());
    g.weights.fingerprint = sha256_hex(g.weights.fingerprint + ":tokenizer:" + sha256_hex(tok_text));
  } else {
    tok = std::move(g.tokenizer);
  }
  if (!tok)
    fail(path.string(), ": the GGUF file has no usable vocabulary (", g.tokenizer_note,
         "); pass the model's tokenizer.json (--tokenizer)");
  return from_weights(std::move(g.weights), std::move(*tok), options.compute);
}

}  // namespace tribev2::text

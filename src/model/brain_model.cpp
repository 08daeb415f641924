#include "tribev2/model/brain_model.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>

#include "tribev2/core/attention.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/kernels.hpp"
#include "tribev2/core/memory.hpp"

namespace tribev2::model {

namespace {

std::vector<float> to_vec(const Tensor& t) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  convert_to_f32(t, v);
  return v;
}

// (name, shape) list of an MLP built by neuraltrain's Mlp.build(in, out).
void mlp_weights(std::vector<std::pair<std::string, Shape>>& out, const std::string& prefix,
                 const MlpConfig& cfg, std::int64_t in, std::int64_t width_out) {
  if (cfg.hidden_sizes.empty()) {  // nn.Linear(in, out): always with bias
    out.push_back({prefix + ".weight", {width_out, in}});
    out.push_back({prefix + ".bias", {width_out}});
    return;
  }
  int idx = 0;
  std::int64_t cur = in;
  for (std::int64_t h : cfg.hidden_sizes) {
    out.push_back({prefix + "." + std::to_string(idx) + ".weight", {h, cur}});
    if (cfg.bias) out.push_back({prefix + "." + std::to_string(idx) + ".bias", {h}});
    ++idx;
    if (cfg.norm != Norm::None) {
      if (cfg.norm == Norm::Layer) {
        out.push_back({prefix + "." + std::to_string(idx) + ".weight", {h}});
        out.push_back({prefix + "." + std::to_string(idx) + ".bias", {h}});
      }
      ++idx;
    }
    if (cfg.activation == Activation::PReLU) out.push_back({prefix + "." + std::to_string(idx) + ".weight", {1}});
    ++idx;  // activation
    ++idx;  // dropout
    cur = h;
  }
  out.push_back({prefix + "." + std::to_string(idx) + ".weight", {width_out, cur}});
  if (cfg.bias) out.push_back({prefix + "." + std::to_string(idx) + ".bias", {width_out}});
}

void apply_activation(const Context& ctx, Activation a, float slope, float* x, std::int64_t n) {
  switch (a) {
    case Activation::Identity: return;
    case Activation::ReLU: kernels::relu(ctx, x, n); return;
    case Activation::GELU: kernels::gelu_erf(ctx, x, n); return;
    case Activation::ELU: kernels::elu(ctx, x, n, 1.0f); return;
    case Activation::PReLU: kernels::prelu(ctx, x, n, slope); return;
  }
}

std::int64_t subject_rows(const SubjectLayersConfig& s) {
  return s.n_subjects + (s.subject_dropout && *s.subject_dropout != 0.0 ? 1 : 0);
}

}  // namespace

std::vector<std::pair<std::string, Shape>> BrainModel::expected_weights(const BrainConfig& c,
                                                                        const BuildArgs& a) {
  std::vector<std::pair<std::string, Shape>> out;
  const auto n_mod = static_cast<std::int64_t>(a.feature_dims.size());
  TRIBEV2_CHECK(n_mod > 0, "model_build_args.feature_dims is empty");
  const std::int64_t P = c.extractor_aggregation == ExtractorAggregation::Cat ? c.hidden / n_mod : c.hidden;
  for (const auto& fd : a.feature_dims) {
    if (!fd.layers_dim) continue;
    const auto [L, D] = *fd.layers_dim;
    const std::int64_t in = c.layer_aggregation == LayerAggregation::Cat ? L * D : D;
    mlp_weights(out, "projectors." + fd.modality, c.projector, in, P);
  }
  const std::int64_t comb_in = c.extractor_aggregation == ExtractorAggregation::Cat ? P * n_mod : c.hidden;
  if (c.combiner) mlp_weights(out, "combiner", *c.combiner, comb_in, c.hidden);
  if (c.low_rank_head) out.push_back({"low_rank_head.weight", {*c.low_rank_head, c.hidden}});
  const std::int64_t C = c.low_rank_head ? *c.low_rank_head : c.hidden;
  const std::int64_t S = subject_rows(c.subject_layers);
  out.push_back({"predictor.weights", {S, C, a.n_outputs}});
  if (c.subject_layers.bias) out.push_back({"predictor.bias", {S, a.n_outputs}});
  if (c.temporal_smoothing) out.push_back({"temporal_smoothing.weight", {c.hidden, 1, c.temporal_smoothing->kernel_size}});
  if (!c.linear_baseline) {
    if (c.time_pos_embedding) out.push_back({"time_pos_embed", {1, c.max_seq_len, c.hidden}});
    TRIBEV2_CHECK(c.encoder.has_value(), "brain_model_config.encoder is null but linear_baseline is false");
    const auto& e = *c.encoder;
    const std::int64_t dh = c.hidden / e.heads;
    if (e.rotary_pos_emb) {
      const std::int64_t rot = std::max<std::int64_t>(dh / 2, 32);
      out.push_back({"encoder.rotary_pos_emb.inv_freq", {rot / 2}});
    }
    for (int i = 0; i < 2 * e.depth; ++i) {
      const std::string p = "encoder.layers." + std::to_string(i);
      out.push_back({p + ".0.0.g", {1}});
      if (i % 2 == 0) {
        for (const char* w : {"to_q", "to_k", "to_v", "to_out"}) out.push_back({p + ".1." + w + ".weight", {c.hidden, c.hidden}});
      } else {
        const std::int64_t inner = c.hidden * e.ff_mult;
        out.push_back({p + ".1.ff.0.0.weight", {inner, c.hidden}});
        out.push_back({p + ".1.ff.0.0.bias", {inner}});
        out.push_back({p + ".1.ff.2.weight", {c.hidden, inner}});
        out.push_back({p + ".1.ff.2.bias", {c.hidden}});
      }
      if (e.scale_residual) out.push_back({p + ".2.residual_scale", {c.hidden}});
    }
    out.push_back({"encoder.final_norm.g", {1}});
  }
  return out;
}

BrainModel::BrainModel(BrainConfig config, BuildArgs build_args, WeightStore weights)
    : config_(std::move(config)), args_(std::move(build_args)), weights_(std::move(weights)) {
  const auto& c = config_;
  const std::string& src = weights_.source();
  n_mod_ = static_cast<std::int64_t>(args_.feature_dims.size());
  TRIBEV2_CHECK(n_mod_ > 0, src, ": model_build_args.feature_dims is empty");
  TRIBEV2_CHECK(c.hidden > 0, "brain_model_config.hidden must be positive, got ", c.hidden);
  TRIBEV2_CHECK(args_.n_outputs > 0, "model_build_args.n_outputs must be positive, got ", args_.n_outputs);
  TRIBEV2_CHECK(args_.n_output_timesteps > 0, "model_build_args.n_output_timesteps must be positive, got ",
                args_.n_output_timesteps);
  if (!c.combiner && c.hidden % n_mod_ != 0)
    fail("brain_model_config: hidden (", c.hidden, ") must be divisible by the number of modalities (", n_mod_,
         ") when there is no combiner");
  if (c.subject_layers.average_subjects && !(c.subject_layers.subject_dropout && *c.subject_layers.subject_dropout != 0.0))
    fail("brain_model_config.subject_layers: average_subjects requires subject_dropout to be set (as upstream)");
  if (!c.linear_baseline) {
    TRIBEV2_CHECK(c.encoder.has_value(), "brain_model_config.encoder is null but linear_baseline is false");
    const auto& e = *c.encoder;
    TRIBEV2_CHECK(e.heads > 0 && c.hidden % e.heads == 0, "brain_model_config: hidden (", c.hidden,
                  ") must be divisible by encoder.heads (", e.heads, ")");
    TRIBEV2_CHECK(e.depth >= 0 && e.ff_mult > 0, "brain_model_config.encoder: bad depth/ff_mult");
    if (e.rotary_pos_emb && c.hidden / e.heads < 32)
      fail("brain_model_config.encoder: dim_head (", c.hidden / e.heads,
           ") < 32 with rotary_pos_emb: x-transformers clamps the rotary dimension to 32 (upstream rejects this)");
    if (!e.use_scalenorm)
      fail("brain_model_config.encoder.use_scalenorm=false is not supported (only ScaleNorm encoders are implemented)");
  }
  if (c.temporal_smoothing) {
    TRIBEV2_CHECK(c.temporal_smoothing->kernel_size > 0 && c.temporal_smoothing->kernel_size % 2 == 1,
                  "brain_model_config.temporal_smoothing.kernel_size must be odd (an even kernel changes the length), got ",
                  c.temporal_smoothing->kernel_size);
  }

  weights_.check_exact(expected_weights(c, args_));

  proj_out_ = c.extractor_aggregation == ExtractorAggregation::Cat ? c.hidden / n_mod_ : c.hidden;
  for (const auto& fd : args_.feature_dims) {
    if (!fd.layers_dim) {
      projectors_.emplace_back();
      has_projector_.push_back(false);
      continue;
    }
    const std::int64_t in = projector_input_width(fd.modality);
    projectors_.push_back(build_mlp("projectors." + fd.modality, c.projector, in, proj_out_));
    has_projector_.push_back(true);
  }
  const std::int64_t comb_in = c.extractor_aggregation == ExtractorAggregation::Cat ? proj_out_ * n_mod_ : c.hidden;
  combiner_ = build_mlp("combiner", c.combiner, comb_in, c.hidden);
  if (!c.combiner) combiner_.in = combiner_.out = c.hidden;

  if (c.temporal_smoothing) {
    smoothing_k_ = c.temporal_smoothing->kernel_size;
    smoothing_ = to_vec(weights_.require("temporal_smoothing.weight", {c.hidden, 1, smoothing_k_}));
  }
  if (!c.linear_baseline) {
    const auto& e = *c.encoder;
    if (c.time_pos_embedding) time_pos_ = to_vec(weights_.require("time_pos_embed", {1, c.max_seq_len, c.hidden}));
    heads_ = e.heads;
    head_dim_ = static_cast<int>(c.hidden / e.heads);
    if (e.rotary_pos_emb) {
      rot_dim_ = std::max(head_dim_ / 2, 32);
      inv_freq_ = to_vec(*weights_.find("encoder.rotary_pos_emb.inv_freq"));
    }
    for (int i = 0; i < 2 * e.depth; ++i) {
      const std::string p = "encoder.layers." + std::to_string(i);
      EncoderLayer L;
      L.attention = i % 2 == 0;
      L.g = to_vec(*weights_.find(p + ".0.0.g"))[0];
      if (e.scale_residual) L.residual_scale = to_vec(*weights_.find(p + ".2.residual_scale"));
      if (L.attention) {
        L.wq = Linear(mat_view(*weights_.find(p + ".1.to_q.weight")));
        L.wk = Linear(mat_view(*weights_.find(p + ".1.to_k.weight")));
        L.wv = Linear(mat_view(*weights_.find(p + ".1.to_v.weight")));
        L.wo = Linear(mat_view(*weights_.find(p + ".1.to_out.weight")));
      } else {
        L.w1 = Linear(mat_view(*weights_.find(p + ".1.ff.0.0.weight")), to_vec(*weights_.find(p + ".1.ff.0.0.bias")));
        L.w2 = Linear(mat_view(*weights_.find(p + ".1.ff.2.weight")), to_vec(*weights_.find(p + ".1.ff.2.bias")));
      }
      layers_.push_back(std::move(L));
    }
    final_g_ = to_vec(*weights_.find("encoder.final_norm.g"))[0];
  }
  if (c.low_rank_head) low_rank_ = Linear(mat_view(*weights_.find("low_rank_head.weight")));
  head_in_ = c.low_rank_head ? *c.low_rank_head : c.hidden;
  predictor_w_ = weights_.find("predictor.weights");
  if (c.subject_layers.bias) predictor_b_ = to_vec(*weights_.find("predictor.bias"));
  n_subject_rows_ = predictor_w_->dim(0);
  if (!needs_subject_ids()) {
    // Subject layer [S, C, N]: only the row that average-subject models use.
    const std::int64_t row = c.subject_layers.n_subjects, N = args_.n_outputs;
    std::vector<float> bias;
    if (!predictor_b_.empty()) bias.assign(predictor_b_.begin() + row * N, predictor_b_.begin() + (row + 1) * N);
    subject_average_ = Linear(mat_rows(mat_view(*predictor_w_), row * head_in_, head_in_), std::move(bias),
                              Linear::Layout::InOut);
  }
  pack_once_ = std::make_shared<PackOnce>();
}

const FeatureDims* BrainModel::feature_dims(const std::string& modality) const {
  for (const auto& fd : args_.feature_dims)
    if (fd.modality == modality) return &fd;
  return nullptr;
}

std::int64_t BrainModel::projector_input_width(const std::string& modality) const {
  const FeatureDims* fd = feature_dims(modality);
  if (!fd || !fd->layers_dim) return 0;
  const auto [L, D] = *fd->layers_dim;
  return config_.layer_aggregation == LayerAggregation::Cat ? L * D : D;
}

std::int64_t BrainModel::n_parameters() const {
  std::int64_t n = 0;
  for (const auto& name : weights_.names()) n += weights_.find(name)->numel();
  return n;
}

Mlp BrainModel::build_mlp(const std::string& prefix, const std::optional<MlpConfig>& cfg,
                          std::int64_t in, std::int64_t out) const {
  Mlp m;
  m.in = in;
  m.out = out;
  if (!cfg) return m;  // identity
  auto linear = [&](const std::string& key, std::int64_t i, std::int64_t o, bool bias) {
    MlpOp op;
    op.kind = MlpOp::Kind::Linear;
    op.linear = Linear(mat_view(weights_.require(key + ".weight", {o, i})),
                       bias ? to_vec(weights_.require(key + ".bias", {o})) : std::vector<float>());
    op.in = i;
    op.out = o;
    return op;
  };
  if (cfg->hidden_sizes.empty()) {
    m.ops.push_back(linear(prefix, in, out, true));
    return m;
  }
  int idx = 0;
  std::int64_t cur = in;
  for (std::int64_t h : cfg->hidden_sizes) {
    m.ops.push_back(linear(prefix + "." + std::to_string(idx++), cur, h, cfg->bias));
    if (cfg->norm == Norm::Layer) {
      MlpOp op;
      op.kind = MlpOp::Kind::LayerNorm;
      const std::string k = prefix + "." + std::to_string(idx);
      op.gamma = to_vec(weights_.require(k + ".weight", {h}));
      op.bias = to_vec(weights_.require(k + ".bias", {h}));
      op.in = op.out = h;
      m.ops.push_back(std::move(op));
      ++idx;
    } else if (cfg->norm == Norm::Unit) {
      MlpOp op;
      op.kind = MlpOp::Kind::UnitNorm;
      op.in = op.out = h;
      m.ops.push_back(std::move(op));
      ++idx;
    }
    MlpOp act;
    act.kind = MlpOp::Kind::Act;
    act.act = cfg->activation;
    if (cfg->activation == Activation::PReLU)
      act.slope = to_vec(weights_.require(prefix + "." + std::to_string(idx) + ".weight", {1}))[0];
    act.in = act.out = h;
    m.ops.push_back(std::move(act));
    idx += 2;  // activation, dropout
    cur = h;
  }
  m.ops.push_back(linear(prefix + "." + std::to_string(idx), cur, out, cfg->bias));
  return m;
}

struct BrainModel::PackOnce {
  std::once_flag f32, bf16;
};

std::vector<Linear*> BrainModel::linears() const {
  std::vector<Linear*> ls;
  for (const auto& mlp : projectors_)
    for (const auto& op : mlp.ops)
      if (op.kind == MlpOp::Kind::Linear) ls.push_back(&op.linear);
  for (const auto& op : combiner_.ops)
    if (op.kind == MlpOp::Kind::Linear) ls.push_back(&op.linear);
  for (const auto& L : layers_)
    for (Linear* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2})
      if (!w->empty()) ls.push_back(w);
  if (!low_rank_.empty()) ls.push_back(&low_rank_);
  if (!subject_average_.empty()) ls.push_back(&subject_average_);
  return ls;
}

void BrainModel::prepare(const Context& ctx) const {
  // Linear::pack's policy: BF16 packs every weight; F32 packs the memory-mapped F32 ones
  // (safetensors) and leaves heap (best.ckpt) and F16/BF16 storage to per-call packing.
  // Largest first: while a weight is packed its source pages and its packed copy are both
  // resident, so the peak is (everything packed so far) + (the weight being packed); with the
  // 168 MB subject layer first that is about one feed-forward weight above the final size.
  std::call_once(ctx.precision() == Precision::BF16 ? pack_once_->bf16 : pack_once_->f32, [&] {
    auto ls = linears();
    std::stable_sort(ls.begin(), ls.end(),
                     [](const Linear* a, const Linear* b) { return a->weight().bytes() > b->weight().bytes(); });
    for (Linear* l : ls) l->pack(ctx);
  });
}

void BrainModel::run_mlp(const Context& ctx, const Mlp& mlp, std::vector<float>& x, std::int64_t rows,
                         const float* input) const {
  std::vector<float> tmp;
  if (input && mlp.ops.empty()) x.assign(input, input + rows * mlp.in);
  for (const auto& op : mlp.ops) {
    switch (op.kind) {
      case MlpOp::Kind::Linear:
        tmp.resize(static_cast<std::size_t>(rows * op.out));
        op.linear.forward(ctx, input ? input : x.data(), rows, tmp.data());
        input = nullptr;
        x.swap(tmp);
        break;
      case MlpOp::Kind::LayerNorm:
        kernels::layer_norm(ctx, x.data(), x.data(), rows, op.in, op.gamma.data(), op.bias.data(), 1e-5f);
        break;
      case MlpOp::Kind::UnitNorm:
        kernels::unit_norm(ctx, x.data(), x.data(), rows, op.in);
        break;
      case MlpOp::Kind::Act:
        apply_activation(ctx, op.act, op.slope, x.data(), rows * op.in);
        break;
    }
  }
}

void BrainModel::run_encoder(const Context& ctx, float* x, std::int64_t B, std::int64_t T) const {
  const std::int64_t H = config_.hidden;
  const std::int64_t rows = B * T;
  const auto rsz = static_cast<std::size_t>(rows * H);
  // h: the normed input of a block, reused for the attention output once q, k, v are made.
  std::vector<float> h(rsz), q(rsz), k(rsz), v(rsz);
  std::vector<float> cos_t, sin_t;
  if (rot_dim_ > 0) {
    const int half = rot_dim_ / 2;
    cos_t.resize(static_cast<std::size_t>(T * half));
    sin_t.resize(cos_t.size());
    ctx.pool().parallel_for(T, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t)
        for (int j = 0; j < half; ++j) {
          // float32 product as torch computes freqs = t * inv_freq; cos/sin rounded from double.
          const float a = static_cast<float>(t) * inv_freq_[static_cast<std::size_t>(j)];
          cos_t[static_cast<std::size_t>(t * half + j)] = static_cast<float>(std::cos(static_cast<double>(a)));
          sin_t[static_cast<std::size_t>(t * half + j)] = static_cast<float>(std::sin(static_cast<double>(a)));
        }
    }, 16);
  }
  const std::int64_t inner = H * (config_.encoder ? config_.encoder->ff_mult : 4);
  std::vector<float> ff;
  AttentionParams ap;
  ap.tq = ap.tk = T;
  ap.heads = ap.kv_heads = heads_;
  ap.head_dim = head_dim_;
  ap.scale = 1.0f / std::sqrt(static_cast<float>(head_dim_));
  ap.causal = config_.encoder && config_.encoder->causal;
  for (const auto& L : layers_) {
    kernels::scale_norm(ctx, x, h.data(), rows, H, L.g);
    // x = block(norm(x)) + x * residual_scale: the residual is the last GEMM's epilogue, which
    // writes x in place (each element of x is read just before it is overwritten).
    GemmEpilogue res;
    res.residual = x;
    res.ldr = H;
    res.residual_scale = L.residual_scale.empty() ? nullptr : L.residual_scale.data();
    if (L.attention) {
      L.wq.forward(ctx, h.data(), rows, q.data());
      L.wk.forward(ctx, h.data(), rows, k.data());
      L.wv.forward(ctx, h.data(), rows, v.data());
      if (rot_dim_ > 0) {
        for (std::int64_t b = 0; b < B; ++b) {
          kernels::rope_rotate_half(ctx, q.data() + b * T * H, T, H, heads_, head_dim_, rot_dim_, cos_t.data(), sin_t.data());
          kernels::rope_rotate_half(ctx, k.data() + b * T * H, T, H, heads_, head_dim_, rot_dim_, cos_t.data(), sin_t.data());
        }
      }
      float* att = h.data();
      for (std::int64_t b = 0; b < B; ++b)
        attention(ctx, ap, q.data() + b * T * H, H, k.data() + b * T * H, H, v.data() + b * T * H, H, att + b * T * H, H);
      L.wo.forward(ctx, att, rows, x, res);
    } else {
      ff.resize(static_cast<std::size_t>(rows * inner));
      GemmEpilogue up;
      up.gelu = true;
      L.w1.forward(ctx, h.data(), rows, ff.data(), up);
      L.w2.forward(ctx, ff.data(), rows, x, res);
    }
  }
  kernels::scale_norm(ctx, x, x, rows, H, final_g_);
}

Tensor BrainModel::forward(const Context& ctx, const Batch& batch, bool pool_outputs, Tensor* latents) const {
  return forward_impl(ctx, batch, pool_outputs, latents, false, nullptr);
}

Tensor BrainModel::forward_time_major(const Context& ctx, const Batch& batch, bool pool_outputs,
                                      Tensor* latents) const {
  return forward_impl(ctx, batch, pool_outputs, latents, true, nullptr);
}

void BrainModel::forward_time_major_into(const Context& ctx, const Batch& batch, float* out, Tensor* latents) const {
  TRIBEV2_CHECK(out != nullptr, "forward_time_major_into: null output");
  forward_impl(ctx, batch, true, latents, true, out);
}

Tensor BrainModel::forward_impl(const Context& ctx, const Batch& batch, bool pool_outputs, Tensor* latents,
                                bool time_major, float* out_rows) const {
  const auto& c = config_;
  prepare(ctx);
  // B and T come from the first known modality in batch order; every present modality must
  // agree, and every batch key must be a modality of the model.
  std::int64_t B = -1, T = -1;
  std::vector<const Tensor*> inputs(args_.feature_dims.size(), nullptr);
  for (const auto& [name, t] : batch.inputs) {
    std::size_t m = 0;
    while (m < args_.feature_dims.size() && args_.feature_dims[m].modality != name) ++m;
    if (m == args_.feature_dims.size()) {
      std::string known;
      for (const auto& fd : args_.feature_dims) known += (known.empty() ? "" : ", ") + fd.modality;
      fail("input modality '", name, "' is not a modality of this model (known: ", known, ")");
    }
    if (inputs[m]) fail("input modality '", name, "' given twice");
    TRIBEV2_CHECK(t.dtype() == DType::F32, "input '", name, "' must be float32, got ", dtype_name(t.dtype()));
    if (batch.time_major)
      TRIBEV2_CHECK(t.ndim() == 3, "input '", name, "' must be [B, T, L*D] (time-major batch), got shape ",
                    shape_str(t.shape()));
    else
      TRIBEV2_CHECK(t.ndim() == 3 || t.ndim() == 4, "input '", name,
                    "' must be [B, L, D, T] or [B, L*D, T], got shape ", shape_str(t.shape()));
    const std::int64_t t_steps = batch.time_major ? t.dim(1) : t.dim(-1);
    if (B < 0) {
      B = t.dim(0);
      T = t_steps;
    } else {
      TRIBEV2_CHECK(t.dim(0) == B && t_steps == T, "input '", name, "' has shape ", shape_str(t.shape()),
                    ": batch size and time steps must match the first input (B=", B, ", T=", T, ")");
    }
    if (!args_.feature_dims[m].layers_dim) continue;  // masked modality: upstream ignores the data
    const auto [L, D] = *args_.feature_dims[m].layers_dim;
    const std::int64_t width = projector_input_width(name);
    if (batch.time_major) {
      TRIBEV2_CHECK(t.dim(2) == L * D || t.dim(2) == width, "input '", name, "' has shape ", shape_str(t.shape()),
                    ", expected [B, T, ", L * D, "] (time-major batch)");
    } else if (t.ndim() == 4) {
      TRIBEV2_CHECK(t.dim(1) == L && t.dim(2) == D, "input '", name, "' has shape ", shape_str(t.shape()),
                    ", expected [B, ", L, ", ", D, ", T] (feature_dims of the model)");
    } else {
      TRIBEV2_CHECK(t.dim(1) == width || (c.layer_aggregation == LayerAggregation::Cat && t.dim(1) == L * D),
                    "input '", name, "' has shape ", shape_str(t.shape()), ", expected [B, ", width, ", T] or [B, ", L,
                    ", ", D, ", T]");
    }
    if (batch.check_finite) {
      // Over the pool (a 1-hour batch is ~70 MB); the first bad index is reported.
      const float* v = t.data<float>();
      const std::int64_t n = t.numel();
      const std::int64_t chunk = 1 << 16;
      std::vector<std::int64_t> first_bad(static_cast<std::size_t>((n + chunk - 1) / chunk), -1);
      ctx.pool().parallel_for(static_cast<std::int64_t>(first_bad.size()), [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t blk = b0; blk < b1; ++blk) {
          // Exponent all ones = Inf or NaN; an OR over the block vectorises.
          const std::int64_t e = std::min(n, (blk + 1) * chunk);
          std::uint32_t bad = 0;
          for (std::int64_t i = blk * chunk; i < e; ++i)
            bad |= static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(v[i]) & 0x7f800000u) == 0x7f800000u);
          if (bad)
            for (std::int64_t i = blk * chunk; i < e; ++i)
              if (!std::isfinite(v[i])) {
                first_bad[static_cast<std::size_t>(blk)] = i;
                break;
              }
        }
      });
      for (std::int64_t i : first_bad)
        if (i >= 0) fail("input '", name, "' contains NaN or Inf (first at flat index ", i, ")");
    }
    inputs[m] = &t;
  }
  TRIBEV2_CHECK(B >= 0, "the batch has no inputs: give at least one modality");
  TRIBEV2_CHECK(B > 0 && T > 0, "inputs must have at least one example and one time step (B=", B, ", T=", T, ")");
  if (needs_subject_ids()) {
    TRIBEV2_CHECK(static_cast<std::int64_t>(batch.subject_ids.size()) == B, "this model has per-subject weights (",
                  n_subject_rows_, " rows): give one subject id per example (", B, "), got ", batch.subject_ids.size());
    for (std::int64_t s : batch.subject_ids)
      TRIBEV2_CHECK(s >= 0 && s < n_subject_rows_, "subject id ", s, " is out of range for ", n_subject_rows_,
                    " subject weight rows");
  }

  // Per-modality projection to [B, T, P], assembled into x.
  const std::int64_t H = c.hidden;
  const bool stack = c.extractor_aggregation == ExtractorAggregation::Stack;
  const std::int64_t Tp = stack ? T * n_mod_ : T;
  const std::int64_t xw = c.extractor_aggregation == ExtractorAggregation::Cat ? proj_out_ * n_mod_ : H;
  std::vector<float> x(static_cast<std::size_t>(B * Tp * xw), 0.0f);
  for (std::size_t m = 0; m < args_.feature_dims.size(); ++m) {
    if (!inputs[m] || !has_projector_[m]) continue;  // zeros after the projector
    const Tensor& t = *inputs[m];
    const auto [L, D] = *args_.feature_dims[m].layers_dim;
    const std::int64_t width = projector_input_width(args_.feature_dims[m].modality);
    const std::int64_t in_ch = t.numel() / (B * T);  // L*D, D, or width
    const float* src = t.data<float>();
    std::vector<float> rowsbuf;
    if (batch.time_major && in_ch == width) {
      // Already [B*T, width] rows: the projector reads the batch in place.
      run_mlp(ctx, projectors_[m], rowsbuf, B * T, src);
    } else {
      rowsbuf.resize(static_cast<std::size_t>(B * T * width));
      for (std::int64_t b = 0; b < B; ++b) {
        const float* sb = src + b * in_ch * T;
        float* db = rowsbuf.data() + b * T * width;
        if (batch.time_major) {  // [T, L*D] -> mean over layers [T, D]
          for (std::int64_t tt = 0; tt < T; ++tt)
            for (std::int64_t d = 0; d < D; ++d) {
              float s = 0.0f;
              for (std::int64_t l = 0; l < L; ++l) s += sb[tt * in_ch + l * D + d];
              db[tt * width + d] = s / static_cast<float>(L);
            }
        } else if (c.layer_aggregation == LayerAggregation::Mean && in_ch != width) {
          // mean over layers: [L, D, T] -> [T, D]
          for (std::int64_t tt = 0; tt < T; ++tt)
            for (std::int64_t d = 0; d < D; ++d) {
              float s = 0.0f;
              for (std::int64_t l = 0; l < L; ++l) s += sb[(l * D + d) * T + tt];
              db[tt * width + d] = s / static_cast<float>(L);
            }
        } else {
          // layer-major channels (l*D + d) are already contiguous in memory: transpose [ch, T]
          kernels::transpose(ctx, sb, width, T, T, db, width);
        }
      }
      run_mlp(ctx, projectors_[m], rowsbuf, B * T);
    }
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t tt = 0; tt < T; ++tt) {
        const float* s = rowsbuf.data() + (b * T + tt) * proj_out_;
        float* d = nullptr;
        switch (c.extractor_aggregation) {
          case ExtractorAggregation::Cat:
            d = x.data() + (b * T + tt) * xw + static_cast<std::int64_t>(m) * proj_out_;
            std::copy(s, s + proj_out_, d);
            break;
          case ExtractorAggregation::Sum:
            d = x.data() + (b * T + tt) * xw;
            for (std::int64_t i = 0; i < H; ++i) d[i] += s[i];
            break;
          case ExtractorAggregation::Stack:
            d = x.data() + (b * Tp + static_cast<std::int64_t>(m) * T + tt) * xw;
            std::copy(s, s + H, d);
            break;
        }
      }
  }

  if (smoothing_k_ > 0) {  // depthwise conv over time, zero padding k//2
    std::vector<float> out(x.size(), 0.0f);
    const int half = smoothing_k_ / 2;
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t tt = 0; tt < Tp; ++tt) {
        float* o = out.data() + (b * Tp + tt) * H;
        for (int i = 0; i < smoothing_k_; ++i) {
          const std::int64_t ts = tt + i - half;
          if (ts < 0 || ts >= Tp) continue;
          const float* xs = x.data() + (b * Tp + ts) * H;
          for (std::int64_t ch = 0; ch < H; ++ch) o[ch] += smoothing_[static_cast<std::size_t>(ch * smoothing_k_ + i)] * xs[ch];
        }
      }
    x.swap(out);
  }

  std::int64_t width = c.linear_baseline ? xw : H;
  if (!c.linear_baseline) {
    run_mlp(ctx, combiner_, x, B * Tp);
    if (c.time_pos_embedding) {
      TRIBEV2_CHECK(Tp <= c.max_seq_len, "sequence of ", Tp, " time steps is longer than the model's max_seq_len (",
                    c.max_seq_len, ")");
      for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t tt = 0; tt < Tp; ++tt) {
          float* d = x.data() + (b * Tp + tt) * H;
          const float* pe = time_pos_.data() + tt * H;
          for (std::int64_t i = 0; i < H; ++i) d[i] += pe[i];
        }
    }
    run_encoder(ctx, x.data(), B, Tp);
  }
  if (latents) {
    *latents = Tensor::empty(DType::F32, {B, Tp, width});
    std::copy(x.begin(), x.end(), latents->data<float>());
  }

  // Head: low-rank projection, subject layer, then pooling over time. Both layers are linear
  // (the subject bias is the same at every step), so averaging first gives the same numbers
  // as upstream's order up to float32 rounding, with the head's work divided by T / T_out.
  const std::int64_t To = pool_outputs ? args_.n_output_timesteps : Tp;
  std::vector<float> pooled;
  const float* head_x = x.data();
  if (pool_outputs) {
    pooled.resize(static_cast<std::size_t>(B * To * width));
    kernels::adaptive_avg_pool(x.data(), pooled.data(), B, Tp, To, width);
    head_x = pooled.data();
  }
  std::vector<float> z;
  const float* head_in = head_x;
  if (c.low_rank_head) {
    z.resize(static_cast<std::size_t>(B * To * head_in_));
    low_rank_.forward(ctx, head_x, B * To, width, z.data(), head_in_);
    head_in = z.data();
  }
  const std::int64_t N = args_.n_outputs;
  Tensor ty;
  float* y = out_rows;
  if (!y) {
    ty = Tensor::empty(DType::F32, {B, To, N});
    y = ty.data<float>();
  }
  const std::int64_t S = n_subject_rows_;
  const MatView W = mat_view(*predictor_w_);  // [S*C, N]
  auto subject_layer = [&](std::int64_t row, const float* in, std::int64_t M, float* out) {
    TRIBEV2_CHECK(row >= 0 && row < S, "subject row ", row, " out of range for ", S, " rows");
    if (!subject_average_.empty() && row == c.subject_layers.n_subjects) return subject_average_.forward(ctx, in, M, out);
    // Per-subject rows: a Linear over the row, per call (not packed).
    GemmEpilogue ep;
    ep.bias = predictor_b_.empty() ? nullptr : predictor_b_.data() + row * N;
    Linear(mat_rows(W, row * head_in_, head_in_), {}, Linear::Layout::InOut).forward(ctx, in, M, out, ep);
  };
  if (!needs_subject_ids()) {  // average mode: one product for the whole batch
    subject_layer(c.subject_layers.n_subjects, head_in, B * To, y);
  } else {
    for (std::int64_t b = 0; b < B; ++b)
      subject_layer(batch.subject_ids[static_cast<std::size_t>(b)], head_in + b * To * head_in_, To, y + b * To * N);
  }
  if (time_major) return ty;
  Tensor out = Tensor::empty(DType::F32, {B, N, To});
  float* o = out.data<float>();
  for (std::int64_t b = 0; b < B; ++b) kernels::transpose(ctx, y + b * To * N, To, N, N, o + b * N * To, To);
  return out;
}

std::string BrainModel::describe() const {
  const auto& c = config_;
  std::ostringstream s;
  s << "TRIBE v2 brain model (FmriEncoder)\n";
  s << "  hidden " << c.hidden << ", max_seq_len " << c.max_seq_len << ", outputs " << args_.n_outputs
    << ", output timesteps " << args_.n_output_timesteps << "\n";
  s << "  modalities (processing order):";
  for (const auto& fd : args_.feature_dims) {
    s << " " << fd.modality;
    if (fd.layers_dim) s << " (" << fd.layers_dim->first << " x " << fd.layers_dim->second << ")";
    else s << " (masked)";
  }
  s << "\n  layer_aggregation " << to_string(c.layer_aggregation) << ", extractor_aggregation "
    << to_string(c.extractor_aggregation) << "\n";
  auto mlp_desc = [](const std::optional<MlpConfig>& m) {
    if (!m) return std::string("identity");
    if (m->hidden_sizes.empty()) return std::string("Linear");
    std::string d = "MLP [";
    for (std::size_t i = 0; i < m->hidden_sizes.size(); ++i) d += (i ? ", " : "") + std::to_string(m->hidden_sizes[i]);
    return d + "], norm " + to_string(m->norm) + ", activation " + to_string(m->activation) + (m->bias ? "" : ", no bias");
  };
  s << "  projector " << mlp_desc(c.projector) << " -> " << proj_out_ << " per modality\n";
  if (c.temporal_smoothing)
    s << "  temporal smoothing: kernel " << c.temporal_smoothing->kernel_size
      << (c.temporal_smoothing->sigma ? ", fixed Gaussian sigma " + std::to_string(*c.temporal_smoothing->sigma) : ", learned") << "\n";
  if (c.linear_baseline) {
    s << "  linear baseline (no combiner, positional embedding or encoder)\n";
  } else {
    s << "  combiner " << mlp_desc(c.combiner) << "\n";
    s << "  time positional embedding " << (c.time_pos_embedding ? "yes" : "no") << "\n";
    const auto& e = *c.encoder;
    s << "  encoder: depth " << e.depth << " (" << 2 * e.depth << " layers), heads " << e.heads << ", dim_head "
      << head_dim_ << ", ScaleNorm, " << (rot_dim_ ? "rotary on " + std::to_string(rot_dim_) + " dims" : std::string("no rotary"))
      << ", FF x" << e.ff_mult << " GELU, " << (e.scale_residual ? "scaled residual" : "plain residual")
      << (e.causal ? ", causal" : ", bidirectional") << "\n";
  }
  s << "  low-rank head " << (c.low_rank_head ? std::to_string(*c.low_rank_head) : std::string("none")) << "\n";
  s << "  subject layers: " << n_subject_rows_ << " weight row(s) [" << head_in_ << " -> " << args_.n_outputs << "], "
    << (c.subject_layers.average_subjects ? "average subject (row " + std::to_string(c.subject_layers.n_subjects) + ")"
                                          : std::string("per-example subject ids"))
    << (c.subject_layers.bias ? ", bias" : ", no bias") << "\n";
  return s.str();
}

}  // namespace tribev2::model

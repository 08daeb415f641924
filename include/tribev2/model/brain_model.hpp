// The TRIBE v2 brain model (tribev2 FmriEncoderModel) in inference mode: per-modality
// projectors, extractor aggregation, optional temporal smoothing, combiner, time positional
// embedding, x-transformers encoder, low-rank head, subject layers and output pooling.
// Semantics: docs/reference-semantics.md section 0 (vendored from ../shared/docs).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/linear.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/model/config.hpp"
#include "tribev2/model/weight_store.hpp"

namespace tribev2::model {

// One step of a projector/combiner MLP.
struct MlpOp {
  enum class Kind { Linear, LayerNorm, UnitNorm, Act } kind = Kind::Linear;
  // Linear: weight [out, in] and bias, packed once per precision on first use (prepare()),
  // hence mutable behind the model's const interface.
  mutable tribev2::Linear linear;
  std::vector<float> bias;    // LayerNorm beta
  std::vector<float> gamma;   // LayerNorm
  Activation act = Activation::Identity;
  float slope = 0.25f;        // PReLU
  std::int64_t in = 0, out = 0;
};
struct Mlp {
  std::vector<MlpOp> ops;     // empty = identity
  std::int64_t in = 0, out = 0;
};

struct Batch {
  // (modality, tensor) in batch order; each float32 [B, L, D, T] or [B, width, T], or with
  // time_major [B, T, L*D] (one row of features per step: what the projectors multiply, so
  // no transposed copy is made; predict() builds its batches this way).
  std::vector<std::pair<std::string, Tensor>> inputs;
  bool time_major = false;
  std::vector<std::int64_t> subject_ids;  // one per example; empty when the model averages subjects
  bool check_finite = true;               // NaN/Inf in inputs is an error
};

class BrainModel {
 public:
  BrainModel(BrainConfig config, BuildArgs build_args, WeightStore weights);

  // The state dict the configuration implies: every (name, shape), in module order.
  static std::vector<std::pair<std::string, Shape>> expected_weights(const BrainConfig& config,
                                                                     const BuildArgs& args);

  const BrainConfig& config() const { return config_; }
  const BuildArgs& build_args() const { return args_; }
  const WeightStore& weights() const { return weights_; }
  std::int64_t n_outputs() const { return args_.n_outputs; }
  std::int64_t n_output_timesteps() const { return args_.n_output_timesteps; }
  std::int64_t hidden() const { return config_.hidden; }
  std::int64_t n_parameters() const;
  // Number of subject weight rows S and whether forward() needs subject ids.
  std::int64_t n_subject_rows() const { return n_subject_rows_; }
  bool needs_subject_ids() const { return !config_.subject_layers.average_subjects; }
  // Width a modality's features must have after layer aggregation (L*D for cat, D for mean).
  std::int64_t projector_input_width(const std::string& modality) const;
  const FeatureDims* feature_dims(const std::string& modality) const;

  // FmriEncoderModel.forward(batch, pool_outputs): [B, n_outputs, T_out] float32 with
  // T_out = n_output_timesteps when pooling, else the (stacked) input length.
  // If `latents` is given it receives the encoder output [B, T', hidden] (the input of the
  // low-rank head).
  Tensor forward(const Context& ctx, const Batch& batch, bool pool_outputs = true,
                 Tensor* latents = nullptr) const;
  // The same numbers laid out [B, T_out, n_outputs] (one brain map per row, as predict()
  // writes them), without forward()'s final transpose.
  Tensor forward_time_major(const Context& ctx, const Batch& batch, bool pool_outputs = true,
                            Tensor* latents = nullptr) const;
  // Pooled forward_time_major written to out ([B, n_output_timesteps, n_outputs] floats).
  void forward_time_major_into(const Context& ctx, const Batch& batch, float* out, Tensor* latents = nullptr) const;

  // Readies the weights for ctx's precision (forward() does this on first use if not called).
  // BF16: every linear weight is rounded once to bfloat16 and packed for the bf16 kernels.
  // F32: weights that are memory-mapped F32 (safetensors) are packed once for the float32
  // kernels. Either way the pages of a memory-mapped source are then released from the
  // resident set. Thread-safe; later calls are free.
  void prepare(const Context& ctx) const;

  // Human-readable architecture summary (used by `tribev2 inspect`).
  std::string describe() const;

 private:
  struct EncoderLayer {
    bool attention = true;
    float g = 1.0f;                       // ScaleNorm gain
    std::vector<float> residual_scale;    // empty = 1
    // Packed once per precision on first use (prepare()), hence mutable.
    mutable Linear wq, wk, wv, wo;        // attention
    mutable Linear w1, w2;                // feed-forward (with their biases)
  };

  Tensor forward_impl(const Context& ctx, const Batch& batch, bool pool_outputs, Tensor* latents,
                      bool time_major, float* out_rows) const;

  struct PackOnce;  // one std::once_flag per precision (brain_model.cpp)
  // Every Linear of the model: what prepare() packs.
  std::vector<Linear*> linears() const;

  Mlp build_mlp(const std::string& prefix, const std::optional<MlpConfig>& cfg, std::int64_t in,
                std::int64_t out) const;
  // x <- mlp(input or x) for `rows` rows (input, when given, is read in place).
  void run_mlp(const Context& ctx, const Mlp& mlp, std::vector<float>& x, std::int64_t rows,
               const float* input = nullptr) const;
  void run_encoder(const Context& ctx, float* x, std::int64_t B, std::int64_t T) const;

  BrainConfig config_;
  BuildArgs args_;
  WeightStore weights_;
  std::int64_t n_mod_ = 0;
  std::int64_t proj_out_ = 0;  // P
  std::vector<Mlp> projectors_;         // per feature_dims entry (empty ops + in==0 when masked)
  std::vector<bool> has_projector_;
  Mlp combiner_;
  std::vector<float> smoothing_;        // [hidden, k]
  int smoothing_k_ = 0;
  std::vector<float> time_pos_;         // [max_seq_len, hidden]
  std::vector<EncoderLayer> layers_;
  float final_g_ = 1.0f;
  std::vector<float> inv_freq_;
  int heads_ = 0, head_dim_ = 0, rot_dim_ = 0;
  mutable Linear low_rank_;             // [r, hidden]
  std::int64_t head_in_ = 0;            // C
  const Tensor* predictor_w_ = nullptr; // [S, C, N]
  std::vector<float> predictor_b_;      // [S, N] (empty = no bias)
  std::int64_t n_subject_rows_ = 0;
  // Average-subject models: the one subject row [C, N] with its bias, as a Linear (x W + b).
  mutable Linear subject_average_;
  std::shared_ptr<PackOnce> pack_once_;
};

}  // namespace tribev2::model

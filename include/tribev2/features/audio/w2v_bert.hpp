// HuggingFace Wav2Vec2BertModel (facebook/w2v-bert-2.0) forward pass in eval mode, from the
// published folder: config.json, preprocessor_config.json, model.safetensors (F32/F16/BF16,
// memory-mapped; keys without prefix, as the bare model is released).
//
//   h0 = Linear(LayerNorm(features [T, 160]))                 (feature_projection)
//   per conformer layer:
//     h += 0.5 * FFN1(LN(h));  h += SelfAttn(LN(h));  h += Conv(h);  h += 0.5 * FFN2(LN(h));
//     h = LN_final(h)
//   FFN = Linear -> swish -> Linear; SelfAttn: relative_key scores
//     (q_i . k_j + q_i . E[clamp(j - i, -left, right) + left]) / sqrt(head_dim), softmax, Linear;
//   Conv = LN -> pointwise Linear(H -> 2H, no bias) -> GLU -> causal depthwise conv (K - 1
//     zeros on the left) -> LN -> swish -> pointwise Linear(H -> H, no bias).
// hidden_states = [h0, out(layer 1), ..., out(layer L)]: L + 1 entries, no final encoder norm.
// Activations are float32; weights stay in their stored dtype (core gemm widens them).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/features/audio/fbank.hpp"

namespace tribev2::features::audio {

// The fields of config.json that the forward pass uses (others are ignored; unsupported
// variants such as an adapter or rotary positions are rejected with a message).
struct W2vBertConfig {
  int hidden = 0;
  int heads = 0;
  int intermediate = 0;
  int layers = 0;
  int input_dim = 160;       // feature_projection_input_dim
  int conv_kernel = 31;      // conv_depthwise_kernel_size
  int left_max = 64;         // left_max_position_embeddings
  int right_max = 8;         // right_max_position_embeddings
  float layer_norm_eps = 1e-5f;

  int head_dim() const { return heads ? hidden / heads : 0; }
  static W2vBertConfig from_json_file(const std::filesystem::path& path);
};

class W2vBertModel {
 public:
  // A checkpoint folder with config.json, preprocessor_config.json and model.safetensors.
  static W2vBertModel load(const std::filesystem::path& dir);

  const W2vBertConfig& config() const;
  const FbankConfig& preprocessor() const;
  int num_hidden_states() const { return config().layers + 1; }
  // Identifies the weights and configs (for feature caches): a hash of both JSON files, the
  // safetensors header and a sample of the tensor bytes.
  const std::string& fingerprint() const;

  // Receives hidden state `index` (0 .. layers) as [T, hidden] rows, valid during the call.
  using HiddenSink = std::function<void(int index, const float* hidden, std::int64_t T)>;
  // Called after each conformer layer with (layers done, layers total).
  using LayerProgress = std::function<void(int done, int total)>;

  // features: float32 [T, input_dim] (the input_features of the preprocessor).
  void forward(const Context& ctx, const Tensor& features, const HiddenSink& sink,
               const LayerProgress& progress = {}) const;
  // All hidden states [layers + 1, T, hidden].
  Tensor forward_all(const Context& ctx, const Tensor& features) const;

  // Pieces of layer `layer`, for tests against the unit fixtures. x and out are [T, hidden].
  void self_attention(const Context& ctx, int layer, const float* x, std::int64_t T, float* out) const;
  void conv_module(const Context& ctx, int layer, const float* x, std::int64_t T, float* out) const;
  void conformer_layer(const Context& ctx, int layer, float* x, std::int64_t T) const;  // in place

  struct Weights;

 private:
  std::shared_ptr<const Weights> w_;
};

}  // namespace tribev2::features::audio

// The V-JEPA2 video encoder (HF VJEPA2Model's encoder; fixture README stage 3) from the published
// folder: config.json, (video_)preprocessor_config.json, model.safetensors (or a sharded
// model.safetensors.index.json) in F32, F16 or BF16. Only `encoder.*` tensors are read; the
// predictor (`predictor.*`) is not needed and not loaded.
//
//   pixel_values [frames, 3, S, S] -> tubelet patch embedding (Conv3d, kernel = stride =
//   (tubelet, patch, patch), as one GEMM) -> L pre-norm blocks (3-D RoPE attention, GELU-erf
//   MLP) -> final LayerNorm. Hidden states: [0] = embeddings, [i] = output of block i - 1 for
//   i < L, [L] = LayerNorm(output of the last block): L + 1 states.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/features/video/preprocess.hpp"

namespace tribev2::features::video {

struct VJEPA2Config {
  int hidden_size = 1024;
  int num_attention_heads = 16;
  int num_hidden_layers = 24;
  double mlp_ratio = 4.0;
  int patch_size = 16;
  int tubelet_size = 2;
  int in_chans = 3;
  int crop_size = 256;
  int frames_per_clip = 64;
  double layer_norm_eps = 1e-6;
  bool qkv_bias = true;
  std::string hidden_act = "gelu";

  // Fields missing from the file keep HF's VJEPA2Config defaults (above).
  static VJEPA2Config from_json_file(const std::filesystem::path& file);

  int head_dim() const { return hidden_size / num_attention_heads; }
  int mlp_hidden() const;                      // int(hidden_size * mlp_ratio)
  int grid_size() const { return crop_size / patch_size; }
  std::int64_t patch_dim() const { return static_cast<std::int64_t>(in_chans) * tubelet_size * patch_size * patch_size; }
  // Tokens for `frames` frames of size x size pixels.
  std::int64_t tokens(std::int64_t frames, std::int64_t size) const;
};

// How the encoder multiplies: F32 is float32 throughout (the reference; matches upstream's
// float32 run). BF16 rounds the GEMM and attention inputs to bfloat16 and accumulates in
// float32 (PyTorch's bf16 autocast semantics); norms, softmax, GELU and residuals stay float32.
class VJEPA2Model {
 public:
  struct Options {
    Precision precision = Precision::F32;
  };
  static VJEPA2Model load(const std::filesystem::path& dir, const Options& options);
  static VJEPA2Model load(const std::filesystem::path& dir) { return load(dir, Options{}); }
  ~VJEPA2Model();
  VJEPA2Model(VJEPA2Model&&) noexcept;
  VJEPA2Model& operator=(VJEPA2Model&&) noexcept;

  const VJEPA2Config& config() const;
  const ProcessorConfig& processor() const;
  Precision precision() const;
  int num_hidden_states() const { return config().num_hidden_layers + 1; }
  // Identity of the weights for cache keys (config, safetensors headers, sizes, precision).
  const std::string& fingerprint() const;
  const std::filesystem::path& directory() const;

  // Receives hidden state `index` as [tokens, hidden] (valid during the call only).
  using StateFn = std::function<void(int index, const float* h, std::int64_t tokens, std::int64_t hidden)>;
  // pixels: float32 [frames, in_chans, size, size] (pixel_values_videos without the batch dim).
  void forward(const Context& ctx, const float* pixels, std::int64_t frames, std::int64_t size,
               const StateFn& on_state) const;
  // All hidden states [L + 1, tokens, hidden] of pixel_values [frames, 3, S, S] or [1, frames, 3, S, S].
  Tensor hidden_states(const Context& ctx, const Tensor& pixel_values) const;

  struct Impl;

 private:
  explicit VJEPA2Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tribev2::features::video

// Private to tribev2_video: the loaded V-JEPA2 encoder and its linear layers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tribev2/core/gemm.hpp"
#include "tribev2/features/video/vjepa2.hpp"
#include "tribev2/io/safetensors.hpp"

namespace tribev2::features::video {

// nn.Linear y = x W^T + b. `w` views the stored weight (F32/F16/BF16, memory-mapped); in BF16
// mode `packed` holds the same weight rounded to bfloat16 in core's bf16 kernel layout.
struct LinearLayer {
  MatView w;
  std::vector<float> bias;  // empty: no bias
  std::shared_ptr<const PackedBf16> packed;
  std::int64_t out() const { return w.rows; }
  std::int64_t in() const { return w.cols; }
};

struct EncoderBlock {
  std::vector<float> norm1_w, norm1_b, norm2_w, norm2_b;
  LinearLayer query, key, value, proj, fc1, fc2;
  std::shared_ptr<const PackedBf16> qkv_packed;  // BF16 mode: [3H, H] fused q/k/v
  std::vector<float> qkv_bias;                    // [3H] (zeros where a projection has no bias)
};

struct VJEPA2Model::Impl {
  std::filesystem::path dir;
  VJEPA2Config cfg;
  ProcessorConfig proc;
  Precision precision = Precision::F32;
  std::string fingerprint;
  std::vector<io::SafetensorsFile> files;  // keep the memory maps alive
  LinearLayer patch;                       // [hidden, in_chans * tubelet * patch * patch]
  std::vector<EncoderBlock> blocks;
  std::vector<float> norm_w, norm_b;
};

// y[M, out] (row stride ldy) = x[M, in] W^T + b (+ y when accumulate), with the layer's
// precision. x rows have stride ldx.
void linear_forward(const Context& ctx, Precision precision, const float* x, std::int64_t M, std::int64_t ldx,
                    const LinearLayer& layer, float* y, std::int64_t ldy, bool accumulate);

}  // namespace tribev2::features::video

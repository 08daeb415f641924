// The HuggingFace VJEPA2 video processor (reference-semantics 4.1 "Processor"; fixture README
// video_features stage 2): resize so that the short edge is int(crop * 256 / 224) with
// antialiased bilinear interpolation (uint8 in, uint8 out), centre crop, then the fused
// rescale + ImageNet normalisation (x - mean*255) / (std*255) in float32.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "tribev2/core/tensor.hpp"

namespace tribev2::features::video {

struct ProcessorConfig {
  int crop_height = 256;
  int crop_width = 256;
  // HF's VJEPA2VideoProcessor recomputes the resize from the crop: int(crop_height * 256 / 224),
  // ignoring the `size` stored in the file (292 for the released 256 crop).
  int shortest_edge = 292;
  std::array<double, 3> image_mean{0.485, 0.456, 0.406};
  std::array<double, 3> image_std{0.229, 0.224, 0.225};
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;

  // Reads video_preprocessor_config.json (or preprocessor_config.json) from a model folder.
  static ProcessorConfig load(const std::filesystem::path& model_dir);
  static ProcessorConfig from_json_file(const std::filesystem::path& file);

  // The fused constants: float32(mean / rescale_factor), float32(std / rescale_factor).
  std::array<float, 3> fused_mean() const;
  std::array<float, 3> fused_std() const;
};

// Which antialiased bilinear kernel upstream's torchvision runs (docs/video-features.md):
enum class ResizeKernel {
  Float,  // uint8 -> float32, separable passes (width then height), round half even: torchvision
          // on CPUs without "AVX2" in torch's capability string (AVX-512 machines, ARM); the goldens
  Uint8,  // PyTorch's native uint8 kernel (Pillow-SIMD style int16 taps) used on AVX2-only CPUs
};

struct CropGeometry {
  int in_height = 0, in_width = 0;
  int resized_height = 0, resized_width = 0;
  int top = 0, left = 0;
  int crop_height = 0, crop_width = 0;
};

// HF get_resize_output_image_size(shortest_edge, default_to_square=False) and torchvision's
// center_crop offsets int(round((size - crop) / 2)) with Python rounding.
CropGeometry crop_geometry(int in_height, int in_width, const ProcessorConfig& cfg);

// One RGB frame [H, W, 3] uint8 -> the resized, centre-cropped frame [3, crop_h, crop_w] uint8.
// Only the pixels inside the crop are computed (each output pixel is independent).
Tensor resize_crop(const Tensor& frame_hwc, const ProcessorConfig& cfg, ResizeKernel kernel = ResizeKernel::Float);

// Cropped uint8 frames [3, h, w] -> normalised float32 written to `out` (3*h*w values).
void normalize_into(const Tensor& crop_chw, const ProcessorConfig& cfg, float* out);

namespace reference {
// The same resize computed over the whole image first, then cropped (for the tests).
Tensor resize_crop(const Tensor& frame_hwc, const ProcessorConfig& cfg, ResizeKernel kernel);
}  // namespace reference

}  // namespace tribev2::features::video

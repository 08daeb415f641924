// Private to tribev2_video: the loaded V-JEPA2 encoder and its linear layers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tribev2/core/linear.hpp"
#include "tribev2/features/video/vjepa2.hpp"
#include "tribev2/io/safetensors.hpp"

namespace tribev2::features::video {

struct EncoderBlock {
  std::vector<float> norm1_w, norm1_b, norm2_w, norm2_b;
  Linear query, key, value, proj, fc1, fc2;
  Linear qkv;  // BF16 mode: q, k and v stacked into one [3H, H] product (bf16 panels only)
};

struct VJEPA2Model::Impl {
  std::filesystem::path dir;
  VJEPA2Config cfg;
  ProcessorConfig proc;
  Precision precision = Precision::F32;
  std::string fingerprint;
  std::vector<io::SafetensorsFile> files;  // keep the memory maps alive
  Linear patch;                            // [hidden, in_chans * tubelet * patch * patch]
  std::vector<EncoderBlock> blocks;
  std::vector<float> norm_w, norm_b;
};

}  // namespace tribev2::features::video

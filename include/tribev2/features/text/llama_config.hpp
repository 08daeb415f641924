// The Llama architecture hyper-parameters (HuggingFace LlamaConfig fields used by Llama 3.x)
// and the rotary-embedding frequencies they imply.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tribev2::text {

enum class RopeScalingType { None, Linear, Llama3 };

struct RopeScaling {
  RopeScalingType type = RopeScalingType::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;                     // llama3
  double high_freq_factor = 4.0;                    // llama3
  double original_max_position_embeddings = 8192;   // llama3
};

struct LlamaConfig {
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  std::int64_t vocab_size = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  std::int64_t max_position_embeddings = 0;
  std::optional<std::int64_t> bos_token_id, eos_token_id;

  int n_hidden_states() const { return n_layers + 1; }
  std::int64_t q_dim() const { return static_cast<std::int64_t>(n_heads) * head_dim; }
  std::int64_t kv_dim() const { return static_cast<std::int64_t>(n_kv_heads) * head_dim; }
  // Throws if sizes are not positive or inconsistent (heads vs kv heads, odd head_dim...).
  void validate(const std::string& source) const;
};

// config.json of a HuggingFace Llama checkpoint. Unknown architectures, activation functions,
// rope scaling types, attention/MLP biases and the like fail with a message naming the field.
LlamaConfig parse_llama_config(std::string_view json_text, const std::string& source);
LlamaConfig read_llama_config(const std::filesystem::path& path);

// Rotary inverse frequencies [head_dim / 2] in float32 exactly as transformers computes them
// (`rope_init_fn` of the config's rope type: default, linear or llama3).
std::vector<float> rope_inv_freq(const LlamaConfig& config);

}  // namespace tribev2::text

// The Llama decoder (HuggingFace `LlamaModel`, no LM head) returning every hidden state:
// state 0 = token embeddings, state i = output of decoder layer i (i < n_layers), state
// n_layers = final RMSNorm of the last layer's output (29 states for Llama-3.2-3B).
//
// Weights come memory-mapped from a HuggingFace checkpoint folder (config.json,
// tokenizer.json, model.safetensors or shards + model.safetensors.index.json; F32/F16/BF16)
// or from a GGUF file (F32/F16/BF16/Q8_0). Compute is float32 with the weights widened
// exactly (the default), or a bf16 emulation of transformers' bf16 run (docs/text-features.md).
//
// Attention is causal, so a sequence can be fed in pieces: a KvCache keeps the keys and
// values of the tokens seen so far and `forward` continues after them (positions included).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/weight_matrix.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/features/text/llama_config.hpp"
#include "tribev2/features/text/tokenizer.hpp"

namespace tribev2::text {

namespace gguf {
class File;
}

// WeightType, WeightMatrix and the Q8_0 layout live in core (tribev2/core/weight_matrix.hpp).

// HuggingFace keeps q/k in the rotate-half layout; llama.cpp's GGUF conversion permutes the
// rows of q_proj/k_proj so that rotated pairs are adjacent. Rotating adjacent pairs of the
// permuted projections gives the same attention scores, so GGUF weights are used unpermuted.
enum class RopeLayout : std::uint8_t { RotateHalf, Interleaved };

struct LlamaLayerWeights {
  WeightMatrix q, k, v, o, gate, up, down;
  std::vector<float> attn_norm, mlp_norm;
};

struct LlamaWeights {
  LlamaConfig config;
  std::vector<float> inv_freq;  // [head_dim / 2]
  RopeLayout rope_layout = RopeLayout::RotateHalf;
  WeightMatrix embed;           // [vocab, hidden]
  std::vector<LlamaLayerWeights> layers;
  std::vector<float> final_norm;
  std::vector<std::shared_ptr<const void>> keep_alive;  // memory maps and owned buffers
  std::string description;      // what was loaded, for logs
  std::string fingerprint;      // identifies the weights + tokenizer (feature cache key)
};

enum class LlamaCompute : std::uint8_t { F32, BF16 };

struct LlamaLoadOptions {
  LlamaCompute compute = LlamaCompute::F32;
  std::optional<std::filesystem::path> tokenizer;  // overrides DIR/tokenizer.json or the GGUF vocabulary
  std::function<void(const std::string&)> warn;    // warnings (e.g. quantised weights); default: stderr
};

// Keys and values of the tokens processed so far, per layer (float32, after RoPE).
class KvCache {
 public:
  std::int64_t size() const { return static_cast<std::int64_t>(tokens_.size()); }
  const std::vector<std::int32_t>& tokens() const { return tokens_; }
  void truncate(std::int64_t n);
  void clear() { truncate(0); }
  std::size_t bytes() const;

 private:
  friend class LlamaModel;
  void ensure(int layers, std::int64_t kv_dim, std::int64_t needed);
  std::vector<std::vector<float>> k_, v_;
  std::int64_t capacity_ = 0;
  std::int64_t kv_dim_ = 0;
  std::vector<std::int32_t> tokens_;
};

class LlamaModel {
 public:
  // A checkpoint folder or a .gguf file.
  static LlamaModel load(const std::filesystem::path& path, const LlamaLoadOptions& options = {});
  static LlamaModel from_weights(LlamaWeights weights, Tokenizer tokenizer, LlamaCompute compute);

  const LlamaConfig& config() const;
  const LlamaWeights& weights() const;
  const Tokenizer& tokenizer() const;
  LlamaCompute compute() const;
  int n_states() const { return config().n_hidden_states(); }
  std::int64_t hidden_size() const { return config().hidden_size; }

  // Called once per hidden state with rows [n, hidden] (contiguous) for positions
  // [pos0, pos0 + n). The pointer is valid during the call only.
  using StateFn = std::function<void(int state, std::int64_t pos0, const float* rows, std::int64_t n)>;

  // Runs `ids` after the cache's tokens (positions continue from cache.size()), appends them
  // to the cache and reports every hidden state of the new positions.
  void forward(const Context& ctx, std::span<const std::int32_t> ids, KvCache& cache, const StateFn& on_state) const;
  // All hidden states [n_states, T, hidden] of one sequence from position 0.
  Tensor hidden_states(const Context& ctx, std::span<const std::int32_t> ids) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Loaders (used by LlamaModel::load; public for tests and tools).
LlamaWeights load_hf_llama_weights(const std::filesystem::path& dir);
// The weights of a GGUF file; its vocabulary becomes a Tokenizer when it has one (llama-bpe).
struct GgufLlama {
  LlamaWeights weights;
  std::optional<Tokenizer> tokenizer;
  std::string tokenizer_note;  // why there is no tokenizer
  bool quantized = false;
};
GgufLlama load_gguf_llama(const std::filesystem::path& path);
GgufLlama load_gguf_llama(std::shared_ptr<const gguf::File> file);
// Converts a HuggingFace Llama folder to a GGUF file as llama.cpp's convert_hf_to_gguf.py lays
// it out (tensor names, q/k row permutation, rope_freqs for llama3 scaling, llama-bpe
// vocabulary), with the matrices stored as `type` (norms and rope_freqs stay F32).
void write_llama_gguf(const std::filesystem::path& hf_dir, const std::filesystem::path& out, WeightType type);

}  // namespace tribev2::text

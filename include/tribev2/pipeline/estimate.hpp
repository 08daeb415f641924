// The compute-time estimate `tribev2 run` prints before it extracts features: each network's
// floating-point operations for this stimulus (from its shape, counted below), divided by this
// machine's matrix-multiply throughput (a short timed GEMM through core's gemm) times the
// share of that throughput the network's forward pass reaches (measured, see kEfficiency in
// estimate.cpp). Method and accuracy: docs/pipeline.md, "Compute-time estimate".
//
// FLOPs are 2 x multiply-adds of the matrix products and attention (norms, activations,
// softmax and the small convolutions' elementwise work are left out: < 2 % for these shapes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tribev2/core/context.hpp"

namespace tribev2::pipeline {

// Llama (decoder, SwiGLU MLP, grouped-query attention); hidden states only, no LM head.
struct LlamaShape {
  std::int64_t layers = 0, hidden = 0, q_dim = 0, kv_dim = 0, ffn = 0;
};
// `tokens` fed to the model, each attending to `mean_context` keys on average (causal).
double llama_flops(const LlamaShape& s, double tokens, double mean_context);

// w2v-BERT 2.0 (conformer: two half-step FFNs, self-attention with relative_key position
// scores, a convolution module with a GLU pointwise conv and a depthwise conv).
struct ConformerShape {
  std::int64_t layers = 0, hidden = 0, ffn = 0, conv_kernel = 31, input_dim = 160;
  double frames_per_second = 50.0;  // fbank at 100 Hz, two frames stacked per input vector
};
// One forward pass over `seconds` of audio (attention over the whole chunk).
double conformer_flops(const ConformerShape& s, double seconds);

// V-JEPA2 (ViT encoder over a clip of tubelets).
struct VitShape {
  std::int64_t layers = 0, hidden = 0, mlp = 0, patch_dim = 0, tokens = 0;  // tokens per clip
};
// One clip (one 2 Hz bin).
double vit_clip_flops(const VitShape& s);

enum class Network { Llama, W2vBert, Vjepa2 };
const char* network_name(Network n);
// The share of the calibrated float32 GEMM throughput this network's forward pass reaches at
// `precision` (measured on full-size models: see estimate.cpp).
double network_efficiency(Network n, Precision precision);

// float32 GEMM throughput of this machine with ctx's threads (GFLOP/s): the best of repeated
// 512 x 1024 x 1024 products for about `seconds`.
double calibrate_gemm_gflops(const Context& ctx, double seconds = 0.25);

struct StageEstimate {
  std::string stage;    // "text features", ...
  Network network = Network::Llama;
  double flops = 0.0;   // still to compute (cached parts excluded)
  std::string detail;   // what was counted ("812 tokens", "3 chunks, 120 s", ...)
  double seconds = 0.0; // filled by estimate_seconds
};
// seconds = flops / (gflops * 1e9 * efficiency) for each stage.
void estimate_seconds(std::vector<StageEstimate>& stages, double gflops, Precision precision);
// "1 h 02 min", "3.4 s", "25 min": a duration for people.
std::string human_duration(double seconds);
// The lines printed before extracting (one per stage, then the total).
std::vector<std::string> format_estimate(const std::vector<StageEstimate>& stages, double gflops, int threads);

}  // namespace tribev2::pipeline

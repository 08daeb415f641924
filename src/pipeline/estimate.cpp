#include "tribev2/pipeline/estimate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/core/gemm.hpp"

namespace tribev2::pipeline {

double llama_flops(const LlamaShape& s, double tokens, double mean_context) {
  const double h = static_cast<double>(s.hidden), q = static_cast<double>(s.q_dim), kv = static_cast<double>(s.kv_dim);
  // Per token and layer: q, k, v, o projections; gate, up, down; QK^T and AV over the context.
  const double macs = h * q + 2.0 * h * kv + q * h + 3.0 * h * static_cast<double>(s.ffn) + 2.0 * mean_context * q;
  return 2.0 * macs * static_cast<double>(s.layers) * tokens;
}

double conformer_flops(const ConformerShape& s, double seconds) {
  const double h = static_cast<double>(s.hidden), T = std::round(seconds * s.frames_per_second);
  // Per frame and layer: two FFNs (h -> ffn -> h), q/k/v/out, the convolution module
  // (pointwise h -> 2h for the GLU, depthwise k taps, pointwise h -> h), and the scores QK^T,
  // the relative_key position scores (q against a distance embedding per pair) and AV.
  const double layer = 4.0 * h * static_cast<double>(s.ffn) + 4.0 * h * h + 3.0 * h * h +
                       static_cast<double>(s.conv_kernel) * h + 3.0 * T * h;
  const double macs = T * (static_cast<double>(s.layers) * layer + static_cast<double>(s.input_dim) * h);
  return 2.0 * macs;
}

double vit_clip_flops(const VitShape& s) {
  const double h = static_cast<double>(s.hidden), T = static_cast<double>(s.tokens);
  // Per token and layer: qkv + proj, fc1 + fc2, QK^T + AV (bidirectional); plus the patch embedding.
  const double layer = 4.0 * h * h + 2.0 * h * static_cast<double>(s.mlp) + 2.0 * T * h;
  return 2.0 * T * (static_cast<double>(s.layers) * layer + static_cast<double>(s.patch_dim) * h);
}

const char* network_name(Network n) {
  switch (n) {
    case Network::Llama: return "Llama";
    case Network::W2vBert: return "w2v-BERT";
    case Network::Vjepa2: return "V-JEPA2";
  }
  return "?";
}

double network_efficiency(Network n, Precision precision) {
  // Each network's forward rate (FLOPs as counted above) over calibrate_gemm_gflops()'s, on
  // full-size random models: bench/extractors.sh of 2026-12-07 (BENCHMARKS.md; 2-core AMD EPYC,
  // AVX512-BF16, 2 threads), where the calibration product (our f32 GEMM, 512 x 1024 x 1024,
  // best of repeats) ran at ~490 GFLOP/s:
  //   Llama-3.2-3B, 512 tokens: f32 371 GFLOP/s = 0.76; bf16 786 = 1.6;
  //   w2v-BERT 2.0, 60 s: f32 302 (bench count; x 1.10 for this file's count, which takes the
  //   relative_key term over T x T) = 0.68; bf16 590 x 1.10 = 1.3;
  //   V-JEPA2 ViT-g: f32 349 = 0.71; bf16 567 = 1.15.
  // Re-measure with bench/extractors.sh when the kernels change.
  const bool bf16 = precision == Precision::BF16;
  switch (n) {
    case Network::Llama: return bf16 ? 1.6 : 0.76;
    case Network::W2vBert: return bf16 ? 1.3 : 0.68;
    case Network::Vjepa2: return bf16 ? 1.15 : 0.71;
  }
  return 0.5;
}

double calibrate_gemm_gflops(const Context& ctx, double seconds) {
  constexpr std::int64_t M = 512, N = 1024, K = 1024;
  std::vector<float> a(static_cast<std::size_t>(M * K)), b(static_cast<std::size_t>(N * K)),
      c(static_cast<std::size_t>(M * N));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.125f - 0.25f;
  const MatView B{DType::F32, b.data(), N, K, K};
  // The throughput of float32 products whatever the run's precision (efficiencies are
  // relative to it).
  const Context f32(ctx.threads(), Precision::F32);
  using clock = std::chrono::steady_clock;
  gemm(f32, true, M, N, K, a.data(), K, B, 0.0f, c.data(), N);  // warm-up: packing, pages, threads
  double best = 0.0;
  const auto t_end = clock::now() + std::chrono::duration<double>(seconds);
  int runs = 0;
  while (runs < 3 || clock::now() < t_end) {
    const auto t0 = clock::now();
    gemm(f32, true, M, N, K, a.data(), K, B, 0.0f, c.data(), N);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > 0) best = std::max(best, 2.0 * M * N * K / dt / 1e9);
    if (++runs >= 1000) break;
  }
  return best;
}

void estimate_seconds(std::vector<StageEstimate>& stages, double gflops, Precision precision) {
  TRIBEV2_CHECK(gflops > 0, "calibrated throughput must be positive, got ", gflops, " GFLOP/s");
  for (auto& s : stages) s.seconds = s.flops / (gflops * 1e9 * network_efficiency(s.network, precision));
}

std::string human_duration(double s) {
  char buf[64];
  if (s < 60.0) {
    std::snprintf(buf, sizeof buf, s < 10.0 ? "%.1f s" : "%.0f s", s);
  } else if (s < 3600.0) {
    std::snprintf(buf, sizeof buf, "%.0f min", std::round(s / 60.0));
  } else {
    const auto m = static_cast<long long>(std::round(s / 60.0));
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", m / 60, m % 60);
  }
  return buf;
}

std::vector<std::string> format_estimate(const std::vector<StageEstimate>& stages, double gflops, int threads) {
  std::vector<std::string> out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "estimate: this machine multiplies matrices at %.0f GFLOP/s with %d thread(s)", gflops,
                threads);
  out.emplace_back(buf);
  double total = 0.0;
  for (const auto& s : stages) {
    std::snprintf(buf, sizeof buf, "estimate: %s: %s (%s, %.3g TFLOP, %s)", s.stage.c_str(),
                  human_duration(s.seconds).c_str(), network_name(s.network), s.flops / 1e12, s.detail.c_str());
    out.emplace_back(buf);
    total += s.seconds;
  }
  out.push_back("estimate: total feature extraction: " + human_duration(total) +
                (stages.empty() ? " (nothing to extract: files or cache)" : "") +
                " (--modalities leaves modalities out; --quiet hides this)");
  return out;
}

}  // namespace tribev2::pipeline

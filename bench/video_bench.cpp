// Video encoder benchmark: seconds per 2 Hz bin of V-JEPA2 ViT-g on the real shapes (hidden 1408,
// 22 heads, mlp 6144, 8192 tokens = 64 frames of 256 x 256) with random weights, in F32 and
// BF16; the FLOP count; the GEMM limit measured on the same shapes in the same run; peak memory.
//
// A full bin is 40 layers; by default this times `--layers` layers (2) and extrapolates (the
// per-layer cost is identical across layers), and says so. Build and run: bench/video_bench.sh.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tribev2/core/attention.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/context.hpp"
#include "tribev2/core/dtype.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/features/video/vjepa2.hpp"
#include "tribev2/io/safetensors.hpp"

namespace fs = std::filesystem;
using namespace tribev2;
using namespace tribev2::features::video;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
// Process CPU seconds (user + system): on a shared, loaded machine wall time overstates the
// cost; CPU seconds / threads estimates the wall time of a quiet machine.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}
double peak_rss_gb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);
}

struct Shapes {
  std::int64_t hidden = 1408, heads = 22, mlp = 6144, frames = 64, crop = 256, patch = 16, tubelet = 2;
  std::int64_t tokens() const { return (frames / tubelet) * (crop / patch) * (crop / patch); }
  double layer_flops() const {
    const double T = static_cast<double>(tokens()), H = static_cast<double>(hidden), F = static_cast<double>(mlp);
    return 2 * T * H * 3 * H + 2 * T * H * H + 2 * 2 * T * T * H + 2 * 2 * T * H * F;
  }
  double embed_flops() const { return 2.0 * static_cast<double>(tokens()) * static_cast<double>(hidden) * 3 * tubelet * patch * patch; }
};

// A V-JEPA2 folder with `layers` layers of random weights (dtype F32 or BF16) at ViT-g shapes.
fs::path make_model(const fs::path& root, const Shapes& s, int layers, bool bf16) {
  const fs::path dir = root / ("vjepa2-vitg-" + std::to_string(layers) + "layers-" + (bf16 ? "bf16" : "f32"));
  if (fs::exists(dir / "model.safetensors")) return dir;
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << "{\"model_type\": \"vjepa2\", \"hidden_size\": " << s.hidden
                                     << ", \"num_attention_heads\": " << s.heads << ", \"num_hidden_layers\": " << layers
                                     << ", \"mlp_ratio\": 4.363636363636363, \"patch_size\": 16, \"tubelet_size\": 2,"
                                        " \"in_chans\": 3, \"crop_size\": 256, \"frames_per_clip\": 64,"
                                        " \"layer_norm_eps\": 1e-06, \"qkv_bias\": true, \"hidden_act\": \"gelu\"}";
  std::ofstream(dir / "video_preprocessor_config.json") << "{\"crop_size\": {\"height\": 256, \"width\": 256}}";
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 0.02f);
  auto rand_tensor = [&](Shape shape, float mean, float scale) {
    Tensor t = Tensor::empty(DType::F32, std::move(shape));
    for (float& x : t.f32()) x = mean + scale * nd(rng) / 0.02f;
    return bf16 ? t.to(DType::BF16) : t;
  };
  std::vector<std::pair<std::string, Tensor>> w;
  const std::int64_t H = s.hidden, F = s.mlp;
  w.emplace_back("encoder.embeddings.patch_embeddings.proj.weight", rand_tensor({H, 3, 2, 16, 16}, 0, 0.02f));
  w.emplace_back("encoder.embeddings.patch_embeddings.proj.bias", rand_tensor({H}, 0, 0.02f));
  for (int i = 0; i < layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    for (const char* n : {"norm1", "norm2"}) {
      w.emplace_back(p + n + ".weight", rand_tensor({H}, 1, 0.05f));
      w.emplace_back(p + n + ".bias", rand_tensor({H}, 0, 0.05f));
    }
    for (const char* n : {"query", "key", "value", "proj"}) {
      w.emplace_back(p + "attention." + n + ".weight", rand_tensor({H, H}, 0, 0.02f));
      w.emplace_back(p + "attention." + n + ".bias", rand_tensor({H}, 0, 0.02f));
    }
    w.emplace_back(p + "mlp.fc1.weight", rand_tensor({F, H}, 0, 0.02f));
    w.emplace_back(p + "mlp.fc1.bias", rand_tensor({F}, 0, 0.02f));
    w.emplace_back(p + "mlp.fc2.weight", rand_tensor({H, F}, 0, 0.02f));
    w.emplace_back(p + "mlp.fc2.bias", rand_tensor({H}, 0, 0.02f));
  }
  w.emplace_back("encoder.layernorm.weight", rand_tensor({H}, 1, 0.05f));
  w.emplace_back("encoder.layernorm.bias", rand_tensor({H}, 0, 0.05f));
  io::write_safetensors(dir / "model.safetensors", w, {{"format", "pt"}});
  return dir;
}

// GEMM limit on the encoder's shapes: [T, K] x [K, N] for the four linear shapes, weighted by
// how often each runs per layer.
struct GemmRate {
  double f32 = 0, bf16 = 0;          // FLOP/s (wall)
  double f32_cpu = 0, bf16_cpu = 0;  // CPU seconds spent, then FLOP per CPU-second
};
GemmRate measure_gemm(const Context& ctx, const Shapes& s) {
  const std::int64_t T = s.tokens();
  struct Case {
    std::int64_t N, K;
    double count;
  };
  const std::vector<Case> cases{{3 * s.hidden, s.hidden, 1}, {s.hidden, s.hidden, 1}, {s.mlp, s.hidden, 1}, {s.hidden, s.mlp, 1}};
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(static_cast<std::size_t>(T * s.mlp)), c(static_cast<std::size_t>(T * std::max(3 * s.hidden, s.mlp)));
  for (auto& x : a) x = u(rng);
  GemmRate r;
  double flops = 0, t32 = 0, t16 = 0;
  for (const auto& cs : cases) {
    std::vector<float> b(static_cast<std::size_t>(cs.N * cs.K));
    for (auto& x : b) x = u(rng);
    const MatView bv{DType::F32, b.data(), cs.N, cs.K, cs.K};
    const PackedBf16 pb = PackedBf16::pack(ctx, bv, true);
    gemm(ctx, true, T, cs.N, cs.K, a.data(), cs.K, bv, 0.0f, c.data(), cs.N);  // warm up
    double t0 = now(), k0 = cpu_seconds();
    gemm(ctx, true, T, cs.N, cs.K, a.data(), cs.K, bv, 0.0f, c.data(), cs.N);
    const double d32 = now() - t0;
    r.f32_cpu += cpu_seconds() - k0;
    gemm_packed(ctx, T, a.data(), cs.K, pb, c.data(), cs.N, GemmEpilogue{});
    t0 = now();
    k0 = cpu_seconds();
    gemm_packed(ctx, T, a.data(), cs.K, pb, c.data(), cs.N, GemmEpilogue{});
    const double d16 = now() - t0;
    r.bf16_cpu += cpu_seconds() - k0;
    const double f = 2.0 * static_cast<double>(T) * static_cast<double>(cs.N) * static_cast<double>(cs.K);
    t32 += d32 * cs.count;
    t16 += d16 * cs.count;
    flops += f * cs.count;
    std::printf("  gemm [%lld x %lld] x [%lld x %lld]^T: f32 %.0f GFLOP/s, bf16 %.0f GFLOP/s\n", static_cast<long long>(T),
                static_cast<long long>(cs.K), static_cast<long long>(cs.N), static_cast<long long>(cs.K), f / d32 / 1e9,
                f / d16 / 1e9);
  }
  r.f32 = flops / t32;
  r.bf16 = flops / t16;
  r.f32_cpu = flops / r.f32_cpu;
  r.bf16_cpu = flops / r.bf16_cpu;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int layers = 2;
  int threads = 0;
  std::string which = "f32,bf16";
  fs::path cache = "bench/cache";
  bool fidelity = false;  // also compare bf16 with f32 on the same weights and input
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--layers" && i + 1 < argc) layers = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--precision" && i + 1 < argc) which = argv[++i];
    else if (a == "--cache" && i + 1 < argc) cache = argv[++i];
    else if (a == "--fidelity") fidelity = true;
    else {
      std::fprintf(stderr, "usage: video_bench [--layers N] [--threads N] [--precision f32,bf16] [--cache DIR] [--fidelity]\n");
      return 2;
    }
  }
  const Shapes s;
  Context ctx(threads);
  const double layer_flops = s.layer_flops(), embed_flops = s.embed_flops();
  const double bin_flops = 40 * layer_flops + embed_flops;
  std::printf("V-JEPA2 ViT-g shapes: hidden %lld, heads %lld, mlp %lld, tokens %lld; %d threads; kernels %s\n",
              static_cast<long long>(s.hidden), static_cast<long long>(s.heads), static_cast<long long>(s.mlp),
              static_cast<long long>(s.tokens()), ctx.threads(), cpu::level_name(cpu::level()));
  std::printf("FLOP per layer %.1f G (attention scores+values %.1f G), per bin (40 layers + patch embedding) %.2f T\n",
              layer_flops / 1e9, 4.0 * static_cast<double>(s.tokens()) * static_cast<double>(s.tokens()) * static_cast<double>(s.hidden) / 1e9,
              bin_flops / 1e12);

  const GemmRate g = measure_gemm(ctx, s);
  std::printf("GEMM limit on the encoder's linear shapes: f32 (core gemm) %.0f GFLOP/s, bf16 (%s) %.0f GFLOP/s; "
              "per CPU-second f32 %.0f, bf16 %.0f GFLOP\n",
              g.f32 / 1e9, cpu::level_name(cpu::level()), g.bf16 / 1e9, g.f32_cpu / 1e9, g.bf16_cpu / 1e9);

  {
    // Attention alone (T = 8192, 22 heads of 64): the T^2 half of the FLOPs.
    const std::int64_t T = s.tokens(), H = s.hidden, ld = 3 * H;
    std::vector<float> qkv(static_cast<std::size_t>(T * ld)), out(static_cast<std::size_t>(T * H));
    std::mt19937 r2(5);
    std::normal_distribution<float> n2(0, 1);
    for (auto& x : qkv) x = n2(r2);
    const double aflops = 4.0 * static_cast<double>(T) * static_cast<double>(T) * static_cast<double>(H);
    const int dh = static_cast<int>(H / s.heads);
    const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
    for (int b = 0; b < 2; ++b) {
      if (which.find(b ? "bf16" : "f32") == std::string::npos) continue;
      const double t0 = now(), k0 = cpu_seconds();
      AttentionParams ap;
      ap.tq = ap.tk = T;
      ap.heads = ap.kv_heads = static_cast<int>(s.heads);
      ap.head_dim = dh;
      ap.scale = scale;
      ap.bf16_products = b == 1;
      attention(ctx, ap, qkv.data(), ld, qkv.data() + H, ld, qkv.data() + 2 * H, ld, out.data(), H);
      const double dt = now() - t0, dc = cpu_seconds() - k0;
      std::printf("attention alone (%s): %.2f s per layer, %.0f GFLOP/s; %.2f CPU-s, %.0f GFLOP per CPU-second\n",
                  b ? "bf16" : "f32", dt, aflops / dt / 1e9, dc, aflops / dc / 1e9);
    }
  }
  std::vector<float> pixels(static_cast<std::size_t>(s.frames * 3 * s.crop * s.crop));
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 1);
  for (auto& x : pixels) x = nd(rng);
  for (const std::string prec : {"f32", "bf16"}) {
    if (which.find(prec) == std::string::npos) continue;
    const bool bf16 = prec == "bf16";
    const fs::path dir = make_model(cache, s, layers, bf16);
    const auto model = VJEPA2Model::load(dir, {bf16 ? Precision::BF16 : Precision::F32});
    double checksum = 0;
    std::vector<double> stamps, cpu_stamps;
    const double c0 = cpu_seconds();
    const double t0 = now();
    model.forward(ctx, pixels.data(), s.frames, s.crop, [&](int, const float* h, std::int64_t, std::int64_t hid) {
      stamps.push_back(now());
      cpu_stamps.push_back(cpu_seconds());
      checksum += h[0] + h[hid - 1];
    });
    const double total = now() - t0;
    const double embed = stamps.front() - t0;
    const double per_layer = (stamps.back() - stamps.front()) / layers;
    const double bin = embed + 40 * per_layer;
    std::printf("%s: %d layer(s) timed, %.2f s per layer, patch embedding %.2f s -> %.1f s per 2 Hz bin "
                "(40 layers, extrapolated%s); %.0f GFLOP/s = %.0f%% of the %s GEMM limit; total %.1f s; checksum %.4g\n",
                prec.c_str(), layers, per_layer, embed, bin, layers == 40 ? " from a full run" : "", bin_flops / bin / 1e9,
                100.0 * (bin_flops / bin) / (bf16 ? g.bf16 : g.f32), prec.c_str(), total, checksum);
    const double cpu_layer = (cpu_stamps.back() - cpu_stamps.front()) / layers;
    const double cpu_bin = (cpu_stamps.front() - c0) + 40 * cpu_layer;
    // One JSON line for bench/extractors.sh (the report takes every line that starts with '{').
    std::printf("{\"command\": \"video-forward\", \"precision\": \"%s\", \"threads\": %d, \"layers_timed\": %d, "
                "\"seconds_per_layer\": %.6g, \"seconds_embedding\": %.6g, \"seconds_per_bin\": %.6g, "
                "\"flops_per_bin\": %.6g, \"gflop_per_s\": %.6g, \"shapes_limit_gflop_per_s\": %.6g, "
                "\"cpu_seconds_per_bin\": %.6g, \"peak_rss_gb\": %.4g}\n",
                prec.c_str(), ctx.threads(), layers, per_layer, embed, bin, bin_flops, bin_flops / bin / 1e9,
                (bf16 ? g.bf16 : g.f32) / 1e9, cpu_bin, peak_rss_gb());
    std::printf("%s: %.1f CPU-seconds per bin -> %.1f s per bin on a quiet machine with %d cores (CPU s / cores); "
                "%.0f GFLOP per CPU-second\n",
                prec.c_str(), cpu_bin, cpu_bin / ctx.threads(), ctx.threads(), bin_flops / cpu_bin / 1e9);
  }
  if (fidelity) {
    // bf16 against f32 on the same F32 weights and pixels (what a user switching --precision
    // gets): the last layer's hidden states [tokens, hidden] and their token mean (the bin's
    // feature vector, as the extractor averages tokens).
    const fs::path dir = make_model(cache, s, layers, false);
    std::vector<float> last[2];
    for (int b = 0; b < 2; ++b) {
      const auto model = VJEPA2Model::load(dir, {b ? Precision::BF16 : Precision::F32});
      const Context c2(ctx.threads(), b ? Precision::BF16 : Precision::F32);
      model.forward(c2, pixels.data(), s.frames, s.crop, [&](int, const float* h, std::int64_t n, std::int64_t hid) {
        last[b].assign(h, h + n * hid);
      });
    }
    const std::int64_t T = s.tokens(), H = s.hidden;
    double max_abs = 0, max_diff = 0;
    std::vector<double> r(static_cast<std::size_t>(H));
    std::vector<double> mean32(static_cast<std::size_t>(H), 0.0), mean16(static_cast<std::size_t>(H), 0.0);
    for (std::int64_t j = 0; j < H; ++j) {
      double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (std::int64_t t = 0; t < T; ++t) {
        const double a = last[0][static_cast<std::size_t>(t * H + j)], bb = last[1][static_cast<std::size_t>(t * H + j)];
        sa += a; sb += bb; saa += a * a; sbb += bb * bb; sab += a * bb;
        max_abs = std::max(max_abs, std::fabs(a));
        max_diff = std::max(max_diff, std::fabs(a - bb));
      }
      const double n = static_cast<double>(T);
      r[static_cast<std::size_t>(j)] = (sab - sa * sb / n) / std::sqrt((saa - sa * sa / n) * (sbb - sb * sb / n));
      mean32[static_cast<std::size_t>(j)] = sa / n;
      mean16[static_cast<std::size_t>(j)] = sb / n;
    }
    double mmax = 0, mdiff = 0;
    for (std::int64_t j = 0; j < H; ++j) {
      mmax = std::max(mmax, std::fabs(mean32[static_cast<std::size_t>(j)]));
      mdiff = std::max(mdiff, std::fabs(mean32[static_cast<std::size_t>(j)] - mean16[static_cast<std::size_t>(j)]));
    }
    std::vector<double> sorted = r;
    std::sort(sorted.begin(), sorted.end());
    std::printf("fidelity bf16 vs f32 (%d layer(s), same F32 weights and input): last hidden state per-channel Pearson r "
                "over %lld tokens min %.5f median %.5f; max |bf16 - f32| = %.2e x max |f32|; token-mean features: "
                "max |bf16 - f32| = %.2e x max |f32 mean|\n",
                layers, static_cast<long long>(T), sorted.front(), sorted[sorted.size() / 2], max_diff / max_abs,
                mdiff / mmax);
    std::printf("{\"command\": \"video-fidelity\", \"layers\": %d, \"tokens\": %lld, \"pearson_min\": %.8g, "
                "\"pearson_median\": %.8g, \"max_rel_error\": %.6g, \"mean_max_rel_error\": %.6g}\n",
                layers, static_cast<long long>(T), sorted.front(), sorted[sorted.size() / 2], max_diff / max_abs,
                mdiff / mmax);
  }
  std::printf("peak resident memory %.2f GB\n", peak_rss_gb());
  return 0;
}

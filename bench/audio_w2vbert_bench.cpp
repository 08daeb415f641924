// Audio features benchmark: the full w2v-BERT 2.0 size (hidden 1024, 16 heads, intermediate
// 4096, 24 layers; random weights of the real shapes) on one 60 s chunk, stage by stage.
//
//   audio_w2vbert_bench make-model DIR [--dtype F32|F16|BF16] [--seed N]
//       writes config.json, preprocessor_config.json and model.safetensors (F32: 2.4 GB)
//   audio_w2vbert_bench run DIR [--seconds 60] [--rate 16000] [--channels 1] [--threads N]
//                              [--precision f32|bf16] [--features-out F.npy] [--output-out O.npy]
//                              [--json OUT]
//       times resampling + z-score, fbank, the model forward and the layer groups, and prints
//       the real-time factor (compute time / audio time) and the peak resident memory;
//       --precision bf16 is `tribev2 --precision bf16` (bf16 products in core's kernels);
//       --output-out writes the grouped 2 Hz features (for the bf16-vs-f32 fidelity figures).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/features/audio/extractor.hpp"
#include "tribev2/features/audio/waveform.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using namespace tribev2::features::audio;
namespace fs = std::filesystem;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// xorshift64*: fast uniform numbers for 600 M random weights.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ull + 1) {}
  float uniform() {  // [-1, 1)
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return static_cast<float>(static_cast<double>((s * 0x2545f4914f6cdd1dull) >> 11) / 4503599627370496.0 - 1.0);
  }
};

Tensor random_tensor(Rng& rng, Shape shape, float scale, float offset, DType dtype) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  for (float& v : t.f32()) v = offset + scale * rng.uniform();
  return dtype == DType::F32 ? t : t.to(dtype);
}

void make_model(const fs::path& dir, DType dtype, std::uint64_t seed) {
  const int H = 1024, I = 4096, L = 24, heads = 16, K = 31, left = 64, right = 8, in = 160;
  fs::create_directories(dir);
  nlohmann::json cfg = {{"architectures", {"Wav2Vec2BertModel"}},
                        {"model_type", "wav2vec2-bert"},
                        {"hidden_size", H},
                        {"num_attention_heads", heads},
                        {"intermediate_size", I},
                        {"num_hidden_layers", L},
                        {"feature_projection_input_dim", in},
                        {"conv_depthwise_kernel_size", K},
                        {"position_embeddings_type", "relative_key"},
                        {"left_max_position_embeddings", left},
                        {"right_max_position_embeddings", right},
                        {"layer_norm_eps", 1e-5},
                        {"hidden_act", "swish"},
                        {"add_adapter", false},
                        {"torch_dtype", "float32"}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  nlohmann::json pre = {{"feature_extractor_type", "SeamlessM4TFeatureExtractor"},
                        {"feature_size", 80},
                        {"num_mel_bins", 80},
                        {"padding_value", 1},
                        {"sampling_rate", 16000},
                        {"stride", 2}};
  std::ofstream(dir / "preprocessor_config.json") << pre.dump(2);
  Rng rng(seed);
  std::vector<std::pair<std::string, Tensor>> t;
  // Uniform weights with std 1/sqrt(fan_in) keep activations in range over 24 layers.
  auto lin = [&](const std::string& name, std::int64_t out, std::int64_t fan_in, bool bias, Shape shape = {}) {
    const float a = std::sqrt(3.0f / static_cast<float>(fan_in));
    t.emplace_back(name + ".weight", random_tensor(rng, shape.empty() ? Shape{out, fan_in} : shape, a, 0.0f, dtype));
    if (bias) t.emplace_back(name + ".bias", random_tensor(rng, {out}, 0.02f, 0.0f, dtype));
  };
  auto norm = [&](const std::string& name, std::int64_t n) {
    t.emplace_back(name + ".weight", random_tensor(rng, {n}, 0.1f, 1.0f, dtype));
    t.emplace_back(name + ".bias", random_tensor(rng, {n}, 0.05f, 0.0f, dtype));
  };
  norm("feature_projection.layer_norm", in);
  lin("feature_projection.projection", H, in, true);
  t.emplace_back("masked_spec_embed", random_tensor(rng, {H}, 1.0f, 0.0f, dtype));
  for (int l = 0; l < L; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l) + ".";
    for (const char* f : {"ffn1", "ffn2"}) {
      norm(p + f + "_layer_norm", H);
      lin(p + f + ".intermediate_dense", I, H, true);
      lin(p + f + ".output_dense", H, I, true);
    }
    norm(p + "self_attn_layer_norm", H);
    for (const char* m : {"q", "k", "v", "out"}) lin(p + "self_attn.linear_" + m, H, H, true);
    t.emplace_back(p + "self_attn.distance_embedding.weight", random_tensor(rng, {left + right + 1, H / heads}, 0.5f, 0.0f, dtype));
    norm(p + "conv_module.layer_norm", H);
    lin(p + "conv_module.pointwise_conv1", 2 * H, H, false, {2 * H, H, 1});
    lin(p + "conv_module.depthwise_conv", H, K, false, {H, 1, K});
    norm(p + "conv_module.depthwise_layer_norm", H);
    lin(p + "conv_module.pointwise_conv2", H, H, false, {H, H, 1});
    norm(p + "final_layer_norm", H);
  }
  io::write_safetensors(dir / "model.safetensors", t);
  std::cout << "wrote " << dir.string() << " (" << t.size() << " tensors, " << dtype_name(dtype) << ")\n";
}

void run(const fs::path& dir, double seconds, int rate, int channels, int threads, Precision precision,
         const std::string& features_out, const std::string& output_out, const std::string& json_out) {
  const Context ctx(threads, precision);
  double t0 = now();
  const auto model = W2vBertModel::load(dir);
  const double t_load = now() - t0;
  // A synthetic 60 s signal: chirps and noise in every channel.
  media::AudioBuffer audio;
  audio.sample_rate = rate;
  audio.channels = channels;
  const auto n = static_cast<std::int64_t>(std::llround(seconds * rate));
  audio.samples.resize(static_cast<std::size_t>(n * channels));
  Rng rng(3);
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 0; c < channels; ++c) {
      const double tt = static_cast<double>(i) / rate;
      audio.samples[static_cast<std::size_t>(i * channels + c)] =
          static_cast<float>(0.3 * std::sin(2 * M_PI * (200.0 + 40.0 * c + 300.0 * std::sin(0.5 * tt)) * tt)) +
          0.02f * rng.uniform();
    }
  const FbankExtractor fbank(model.preprocessor());

  t0 = now();
  const auto w16 = resample_channels(ctx, audio.samples, channels, rate);
  const auto norm = mono_zscore(w16, channels);
  const double t_wave = now() - t0;
  t0 = now();
  const Tensor feats = fbank.input_features(fbank.log_mel(ctx, norm));
  const double t_fbank = now() - t0;
  if (!features_out.empty()) io::write_npy(features_out, feats);
  {
    // Warm-up on the first second (not timed): the memory-mapped weights are paged in and the
    // buffers allocated here, as a long file amortises them; the PyTorch side likewise reads its
    // weights before its clock starts.
    const std::int64_t n50 = std::min<std::int64_t>(feats.dim(0), 50);
    const Tensor head = Tensor::from<float>({n50, feats.dim(1)}, feats.f32().subspan(0, static_cast<std::size_t>(n50 * feats.dim(1))));
    model.forward(ctx, head, [](int, const float*, std::int64_t) {});
  }
  GroupMeanAccumulator groups(layer_groups(model.num_hidden_states(), std::vector<double>{0.5, 0.75, 1.0}), feats.dim(0),
                              model.config().hidden);
  double t_group = 0.0;
  t0 = now();
  model.forward(ctx, feats, [&](int i, const float* h, std::int64_t) {
    const double g0 = now();
    groups.add(i, h);
    t_group += now() - g0;
  });
  const double t_model = now() - t0 - t_group;
  // Useful FLOPs of the encoder forward: two half-step FFNs, q/k/v/out, scores and values over
  // all T frames, the relative_key term (q . E for the left + right + 1 distances), the
  // convolution module (pointwise 2H, depthwise, pointwise H) and the feature projection.
  const W2vBertConfig& c = model.config();
  const double T = static_cast<double>(feats.dim(0)), H = c.hidden, I = c.intermediate;
  const double per_layer = 8 * T * H * I + 8 * T * H * H + 4 * T * T * H + 2 * T * (c.left_max + c.right_max + 1) * H +
                           6 * T * H * H + 2 * T * H * c.conv_kernel;
  const double flops = c.layers * per_layer + 2 * T * c.input_dim * H;
  t0 = now();
  const Tensor out = resample_nearest(groups.result(), static_cast<std::int64_t>(std::nearbyint(2.0 * seconds)));
  t_group += now() - t0;
  if (!output_out.empty()) io::write_npy(output_out, out);
  double checksum = 0.0;
  for (const float v : out.f32()) checksum += v;
  const double total = t_wave + t_fbank + t_model + t_group;
  const double rss = peak_rss_mb();
  const char* prec = precision == Precision::BF16 ? "bf16" : "f32";
  std::printf("w2v-BERT 2.0 full size, %s, %.0f s of audio at %d Hz x %d, %d threads, %s compute\n",
              dir.string().c_str(), seconds, rate, channels, ctx.threads(), prec);
  std::printf("  load (mmap + checks)  %8.3f s\n", t_load);
  std::printf("  resample + z-score    %8.3f s\n", t_wave);
  std::printf("  fbank (T50 = %lld)    %8.3f s\n", static_cast<long long>(feats.dim(0)), t_fbank);
  std::printf("  model forward         %8.3f s   (%.2f TFLOP, %.0f GFLOP/s)\n", t_model, flops / 1e12, flops / t_model / 1e9);
  std::printf("  groups + 2 Hz         %8.3f s\n", t_group);
  std::printf("  total                 %8.3f s   real-time factor %.3f (%.1fx faster than real time)\n", total,
              total / seconds, seconds / total);
  std::printf("  peak RSS              %8.0f MB   (checksum %.6g, finite %s)\n", rss, checksum,
              std::isfinite(checksum) ? "yes" : "NO");
  if (!json_out.empty()) {
    nlohmann::json j = {{"seconds", seconds},       {"threads", ctx.threads()}, {"t_load", t_load},
                        {"t_wave", t_wave},         {"t_fbank", t_fbank},       {"t_model", t_model},
                        {"t_group", t_group},       {"total", total},           {"rtf", total / seconds},
                        {"peak_rss_mb", rss},       {"T50", feats.dim(0)},      {"precision", prec},
                        {"flops", flops},           {"gflop_per_s", flops / t_model / 1e9},
                        {"command", "audio-forward"}};
    std::ofstream(json_out) << j.dump(2) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 3) {
      std::fprintf(stderr,
                   "usage: %s make-model DIR [--dtype F32|F16|BF16] [--seed N]\n"
                   "       %s run DIR [--seconds 60] [--rate 16000] [--channels 1] [--threads N] [--precision f32|bf16] "
                   "[--features-out F.npy] [--output-out O.npy] [--json OUT]\n",
                   argv[0], argv[0]);
      return 2;
    }
    const std::string cmd = argv[1];
    const fs::path dir = argv[2];
    std::string dtype = "F32", features_out, output_out, json_out, precision = "f32";
    double seconds = 60.0;
    int rate = 16000, channels = 1, threads = 0;
    std::uint64_t seed = 0;
    for (int i = 3; i + 1 < argc; i += 2) {
      const std::string k = argv[i], v = argv[i + 1];
      if (k == "--dtype") dtype = v;
      else if (k == "--seed") seed = std::stoull(v);
      else if (k == "--seconds") seconds = std::stod(v);
      else if (k == "--rate") rate = std::stoi(v);
      else if (k == "--channels") channels = std::stoi(v);
      else if (k == "--threads") threads = std::stoi(v);
      else if (k == "--features-out") features_out = v;
      else if (k == "--output-out") output_out = v;
      else if (k == "--precision") precision = v;
      else if (k == "--json") json_out = v;
      else fail("unknown option ", k);
    }
    if (cmd == "make-model") {
      const DType dt = dtype == "F16" ? DType::F16 : dtype == "BF16" ? DType::BF16 : DType::F32;
      make_model(dir, dt, seed);
    } else if (cmd == "run") {
      if (precision != "f32" && precision != "bf16") fail("--precision must be f32 or bf16, got '", precision, "'");
      run(dir, seconds, rate, channels, threads, precision == "bf16" ? Precision::BF16 : Precision::F32, features_out,
          output_out, json_out);
    } else {
      fail("unknown command ", cmd);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audio_w2vbert_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

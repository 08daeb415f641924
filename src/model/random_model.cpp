#include "tribev2/model/random_model.hpp"

#include <cmath>
#include <cstring>

#include "tribev2/model/brain_model.hpp"

namespace tribev2::model {

BrainConfig published_brain_config() {
  BrainConfig c;
  c.hidden = 1152;
  c.max_seq_len = 1024;
  c.projector = MlpConfig{{}, Norm::Layer, Activation::GELU, true, std::nullopt};  // -> nn.Linear
  c.combiner.reset();
  EncoderConfig e;
  e.heads = 8;
  e.depth = 8;
  c.encoder = e;
  c.subject_layers.n_subjects = 0;
  c.subject_layers.subject_dropout = 0.1;
  c.subject_layers.average_subjects = true;
  c.low_rank_head = 2048;
  return c;
}

BuildArgs published_build_args() {
  BuildArgs a;
  a.feature_dims = {{"text", std::pair<std::int64_t, std::int64_t>{2, 3072}},
                    {"audio", std::pair<std::int64_t, std::int64_t>{2, 1024}},
                    {"video", std::pair<std::int64_t, std::int64_t>{2, 1408}}};
  a.n_outputs = 20484;
  a.n_output_timesteps = 100;
  return a;
}

namespace {
// splitmix64: fast, seedable, and identical on every platform.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform with unit variance: U(-sqrt(3), sqrt(3)).
  float unit() { return static_cast<float>((static_cast<double>(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * 1.7320508075688772); }
};
}  // namespace

WeightStore random_weights(const BrainConfig& config, const BuildArgs& args, std::uint64_t seed) {
  WeightStore store("random weights (seed " + std::to_string(seed) + ")");
  Rng rng{seed};
  for (const auto& entry : BrainModel::expected_weights(config, args)) {
    const std::string& name = entry.first;
    const Shape& shape = entry.second;
    Tensor t = Tensor::empty(DType::F32, shape);
    float* p = t.data<float>();
    const std::int64_t n = t.numel();
    auto ends = [&](const char* s) { return name.size() >= std::strlen(s) && name.compare(name.size() - std::strlen(s), std::string::npos, s) == 0; };
    if (name == "encoder.rotary_pos_emb.inv_freq") {
      const auto half = static_cast<double>(n);
      for (std::int64_t j = 0; j < n; ++j) p[j] = static_cast<float>(1.0 / std::pow(10000.0, static_cast<double>(j) / half));
    } else if (ends(".g") || ends("residual_scale")) {
      for (std::int64_t j = 0; j < n; ++j) p[j] = 1.0f + 0.25f * rng.unit() / 1.7320508f;
    } else if (ends("temporal_smoothing.weight")) {
      const std::int64_t k = shape.back();
      for (std::int64_t j = 0; j < n; ++j) p[j] = 1.0f / static_cast<float>(k);
    } else if (ends(".bias") || name == "predictor.bias") {
      for (std::int64_t j = 0; j < n; ++j) p[j] = 0.01f * rng.unit();
    } else if (shape.size() == 1) {  // LayerNorm gamma
      for (std::int64_t j = 0; j < n; ++j) p[j] = 1.0f + 0.1f * rng.unit();
    } else {
      // fan_in: second-to-last dim for predictor.weights [S, C, N]; last dim otherwise.
      const std::int64_t fan_in = name == "predictor.weights" ? shape[1] : (name == "time_pos_embed" ? 1 : shape.back());
      const float scale = 1.0f / std::sqrt(static_cast<float>(fan_in));
      for (std::int64_t j = 0; j < n; ++j) p[j] = scale * rng.unit();
    }
    store.add(name, std::move(t));
  }
  return store;
}

}  // namespace tribev2::model

// The TRIBE v2 brain model's configuration, with the Python defaults of tribev2's
// FmriEncoder and neuraltrain's Mlp / TransformerEncoder / SubjectLayers (see
// docs/model-config.md for the list and for what we refuse).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tribev2::model {

enum class LayerAggregation { Cat, Mean };
enum class ExtractorAggregation { Cat, Sum, Stack };
enum class Norm { None, Layer, Unit };
enum class Activation { Identity, ReLU, GELU, ELU, PReLU };

std::string to_string(LayerAggregation v);
std::string to_string(ExtractorAggregation v);
std::string to_string(Norm v);
std::string to_string(Activation v);

// neuraltrain Mlp: no hidden sizes -> one nn.Linear; otherwise a torchvision MLP.
struct MlpConfig {
  std::vector<std::int64_t> hidden_sizes;
  Norm norm = Norm::None;                 // class default
  Activation activation = Activation::ReLU;  // class default
  bool bias = true;
  std::optional<std::int64_t> input_size;
};

// neuraltrain TransformerEncoder -> x-transformers Encoder (the options we implement).
struct EncoderConfig {
  int heads = 8;
  int depth = 12;
  int ff_mult = 4;
  bool use_scalenorm = true;
  bool rotary_pos_emb = true;
  bool scale_residual = true;
  bool causal = false;
};

struct SubjectLayersConfig {
  std::int64_t n_subjects = 200;
  bool bias = true;
  std::optional<double> subject_dropout;
  bool average_subjects = false;
};

struct TemporalSmoothingConfig {
  int kernel_size = 9;
  std::optional<double> sigma;
};

struct BrainConfig {
  std::int64_t hidden = 256;
  std::int64_t max_seq_len = 1024;
  // FmriEncoder's own defaults for its projector and combiner: LayerNorm + GELU.
  MlpConfig projector = {{}, Norm::Layer, Activation::GELU, true, std::nullopt};
  std::optional<MlpConfig> combiner = MlpConfig{{}, Norm::Layer, Activation::GELU, true, std::nullopt};
  std::optional<EncoderConfig> encoder = EncoderConfig{};
  bool time_pos_embedding = true;
  SubjectLayersConfig subject_layers;
  ExtractorAggregation extractor_aggregation = ExtractorAggregation::Cat;
  LayerAggregation layer_aggregation = LayerAggregation::Cat;
  bool linear_baseline = false;
  std::optional<std::int64_t> low_rank_head;
  std::optional<TemporalSmoothingConfig> temporal_smoothing;
};

// model_build_args of the checkpoint.
struct FeatureDims {
  std::string modality;
  std::optional<std::pair<std::int64_t, std::int64_t>> layers_dim;  // (L, D); none = masked
};
struct BuildArgs {
  std::vector<FeatureDims> feature_dims;  // in checkpoint order (processing order)
  std::int64_t n_outputs = 0;
  std::int64_t n_output_timesteps = 0;
};

// The `data` keys that shape inference (upstream defaults).
struct DataConfig {
  double frequency = 2.0;          // feature rate (Hz)
  std::int64_t duration_trs = 100;  // TRs per segment
  double neuro_frequency = 1.0;     // 1 / TR
  double neuro_offset = 5.0;        // seconds (informational: rows estimate BOLD ~5 s later)
  std::vector<std::string> features_to_use = {"text", "audio", "video"};

  double tr() const { return 1.0 / neuro_frequency; }
  double segment_seconds() const { return static_cast<double>(duration_trs) * tr(); }
};

}  // namespace tribev2::model

#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/model_io/load.hpp"

using namespace tribev2;
using namespace tribev2::model;
using namespace tribev2::test;

TEST(ConfigYaml, AbsentFieldsTakePythonDefaults) {
  const auto c = model_io::parse_config_yaml_text("brain_model_config:\n  name: FmriEncoder\n", "c.yaml");
  EXPECT_EQ(c.brain.hidden, 256);
  EXPECT_EQ(c.brain.max_seq_len, 1024);
  EXPECT_TRUE(c.brain.combiner.has_value());  // Mlp(layer, gelu) -> nn.Linear
  EXPECT_EQ(c.brain.projector.norm, Norm::Layer);
  EXPECT_EQ(c.brain.encoder->heads, 8);
  EXPECT_EQ(c.brain.encoder->depth, 12);
  EXPECT_EQ(c.brain.subject_layers.n_subjects, 200);
  EXPECT_FALSE(c.brain.low_rank_head.has_value());
  EXPECT_EQ(c.data.duration_trs, 100);
  EXPECT_EQ(c.data.frequency, 2.0);
  EXPECT_EQ(c.data.tr(), 1.0);
}

TEST(ConfigYaml, PartialMlpTakesClassDefaults) {
  const auto c = model_io::parse_config_yaml_text(
      "brain_model_config:\n  projector:\n    hidden_sizes: [8, 4]\n  combiner: null\n", "c.yaml");
  EXPECT_EQ(c.brain.projector.hidden_sizes, (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(c.brain.projector.norm, Norm::None);         // Mlp class default
  EXPECT_EQ(c.brain.projector.activation, Activation::ReLU);
  EXPECT_FALSE(c.brain.combiner.has_value());
}

TEST(ConfigYaml, ToleratesUnknownKeysAndPythonTags) {
  const std::string text = R"(
infra: !!python/object:exca.TaskInfra {folder: /x}
data:
  features_to_use: !!python/tuple [text, audio]
  frequency: 2.0
  neuro: {name: FmriExtractor, frequency: 1.0, offset: 5}
brain_model_config:
  name: FmriEncoder
  hidden: 96
  some_future_key: 3
  encoder: {heads: 3, depth: 2, attn_dropout: 0.1, attn_flash: false}
  subject_layers: {n_subjects: 0, subject_dropout: 0.1, average_subjects: true, mode: gather}
  temporal_smoothing: {kernel_size: 5, sigma: null}
average_subjects: true
)";
  const auto c = model_io::parse_config_yaml_text(text, "c.yaml");
  EXPECT_EQ(c.brain.hidden, 96);
  EXPECT_EQ(c.data.features_to_use, (std::vector<std::string>{"text", "audio"}));
  ASSERT_TRUE(c.brain.temporal_smoothing.has_value());
  EXPECT_FALSE(c.brain.temporal_smoothing->sigma.has_value());
  EXPECT_TRUE(c.average_subjects_override);
  // Keys we do not read are listed, also inside subject_layers / temporal_smoothing ('name'
  // is a class name with no effect, as at the top level).
  EXPECT_EQ(c.ignored_keys, (std::vector<std::string>{"brain_model_config.some_future_key",
                                                      "brain_model_config.subject_layers.mode"}));
}

TEST(ConfigYaml, BadValuesNameTheKey) {
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  hidden: lots\n", "c.yaml"),
                   "c.yaml: brain_model_config.hidden: expected an integer, got 'lots'");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  extractor_aggregation: max\n", "c.yaml"),
                   "expected cat, sum or stack");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  encoder: {use_rmsnorm: true}\n", "c.yaml"),
                   "use_rmsnorm=true is not supported");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("data: {}\n", "c.yaml"), "missing the 'brain_model_config'");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("a: [1, 2\n", "c.yaml"), "not valid YAML");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  projector: {norm_layer: batch}\n", "c.yaml"),
                   "'batch' normalisation is not supported");
  // A mapping used as a key (found by fuzz_config): a clear error, not a yaml-cpp exception.
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  encoder:\n    heads: 3\n  ? depth: 2\n    ff_mult: 4\n", "c.yaml"),
                   "c.yaml: brain_model_config: mapping keys must be strings");
  EXPECT_THROW_MSG(model_io::parse_config_yaml_text("brain_model_config:\n  encoder:\n    ? [a, b]\n    : 1\n", "c.yaml"),
                   "c.yaml: brain_model_config.encoder: mapping keys must be strings");
}

TEST(BuildArgsJson, ParsesOrderAndNulls) {
  TempDir tmp;
  write_bytes(tmp / "b.json", R"({"feature_dims": {"video": [2, 16], "text": null, "audio": [1, 4]}, "n_outputs": 5, "n_output_timesteps": 3})");
  const auto a = model_io::parse_build_args_json(tmp / "b.json");
  ASSERT_EQ(a.feature_dims.size(), 3u);
  EXPECT_EQ(a.feature_dims[0].modality, "video");  // file order is processing order
  EXPECT_FALSE(a.feature_dims[1].layers_dim.has_value());
  EXPECT_EQ(a.n_outputs, 5);
  write_bytes(tmp / "c.json", R"({"feature_dims": {"text": [2]}, "n_outputs": 5, "n_output_timesteps": 3})");
  EXPECT_THROW_MSG(model_io::parse_build_args_json(tmp / "c.json"), "feature_dims.text: expected [n_layers, dim]");
  write_bytes(tmp / "d.json", R"({"feature_dims": {}, "n_outputs": -5, "n_output_timesteps": 3})");
  EXPECT_THROW_MSG(model_io::parse_build_args_json(tmp / "d.json"), "n_outputs must be a positive integer");
}

TEST(SubjectMode, AutoAppliesTribeModelAverageWhenConfigDisagreesWithWeights) {
  TempDir tmp;
  const auto src = fixture("brain_model/tribe_like");
  std::filesystem::copy(src / "model.safetensors", tmp / "model.safetensors");
  std::filesystem::copy(src / "build_args.json", tmp / "build_args.json");
  std::string cfg = read_bytes(src / "config.yaml");
  // As in a training-time config: 25 subjects, not averaged (weights have the single shared row).
  cfg.replace(cfg.find("n_subjects: 0"), 13, "n_subjects: 25");
  cfg.replace(cfg.find("    average_subjects: true"), 26, "    average_subjects: false");
  write_bytes(tmp / "config.yaml", cfg);
  const auto loaded = model_io::load_brain_model(tmp.path());
  EXPECT_TRUE(loaded.model->config().subject_layers.average_subjects);
  EXPECT_EQ(loaded.model->n_subject_rows(), 1);
  model_io::LoadOptions strict;
  strict.subject_mode = model_io::SubjectMode::Config;
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path(), strict), "'predictor.weights' has shape [1, 40, 57], expected [26, 40, 57]");
}

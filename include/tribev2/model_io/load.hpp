// Loading the brain model from the files people have: the released PyTorch Lightning
// `best.ckpt` (read natively, nothing executed) or `model.safetensors` + `build_args.json`
// (memory-mapped), each with the experiment's `config.yaml` beside it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tribev2/model/brain_model.hpp"
#include "tribev2/model/config.hpp"

namespace tribev2::model_io {

enum class SubjectMode {
  Auto,     // the config as written if it matches the weights, else TribeModel's average mode
  Config,   // brain_model_config exactly as written (FmriEncoderModel built from it)
  Average,  // TribeModel.from_pretrained: subject_layers.average_subjects=True, n_subjects=0
};

struct LoadOptions {
  SubjectMode subject_mode = SubjectMode::Auto;
};

struct ModelFiles {
  std::filesystem::path weights;   // model.safetensors or best.ckpt
  std::filesystem::path config;    // config.yaml
  std::filesystem::path build_args;  // build_args.json (safetensors only)
  bool is_checkpoint = false;
};

struct ParsedConfig {
  model::BrainConfig brain;
  model::DataConfig data;
  bool average_subjects_override = false;  // top-level `average_subjects: true`
  std::vector<std::string> ignored_keys;   // brain_model_config keys with no effect at inference
};

struct LoadedModel {
  std::unique_ptr<model::BrainModel> model;
  model::DataConfig data;
  ModelFiles files;
  std::vector<std::string> notes;  // decisions taken while loading (shown by `inspect`)
};

// PATH is a directory (model.safetensors preferred, else best.ckpt) or a weights file.
ModelFiles resolve_model_files(const std::filesystem::path& path);
ParsedConfig parse_config_yaml(const std::filesystem::path& path);
ParsedConfig parse_config_yaml_text(const std::string& text, const std::string& name);
model::BuildArgs parse_build_args_json(const std::filesystem::path& path);

LoadedModel load_brain_model(const std::filesystem::path& path, const LoadOptions& options = {});
// Lower-level entry: explicit pieces (used by tests and the demo).
LoadedModel load_brain_model(const ModelFiles& files, const LoadOptions& options = {});

// Writes model.safetensors + build_args.json (+ a copy of config.yaml) into `dir`.
void export_safetensors(const LoadedModel& loaded, const std::filesystem::path& dir);

}  // namespace tribev2::model_io

#include "tribev2/hub/model_files.hpp"

namespace tribev2::hub {

// File names are those the loaders open (model_io/load.cpp, features/*): keep them in step.
std::vector<std::string> brain_model_files() {
  return {"config.yaml", "best.ckpt", "model.safetensors", "build_args.json"};
}

std::vector<std::string> llama_files() {
  return {"config.json", "tokenizer.json", "model.safetensors", "model-*.safetensors", "model.safetensors.index.json"};
}

std::vector<std::string> audio_model_files() {
  return {"config.json", "preprocessor_config.json", "model.safetensors"};
}

std::vector<std::string> video_model_files() {
  return {"config.json", "video_preprocessor_config.json", "preprocessor_config.json", "model.safetensors",
          "model-*.safetensors", "model.safetensors.index.json"};
}

}  // namespace tribev2::hub

// Which files of a Hub repo each model loader reads: the include globs passed to
// hub::resolve_model so that only those are downloaded (e.g. a Llama repo's safetensors shards,
// not its original/*.pth consolidated checkpoint).
#pragma once

#include <string>
#include <vector>

namespace tribev2::hub {

// Upstream's default ids (tribev2/demo_utils.py, TribeModel + the extractors' defaults).
inline constexpr const char* kDefaultBrainModel = "facebook/tribev2";
inline constexpr const char* kDefaultLlama = "meta-llama/Llama-3.2-3B";
inline constexpr const char* kDefaultAudioModel = "facebook/w2v-bert-2.0";
inline constexpr const char* kDefaultVideoModel = "facebook/vjepa2-vitg-fpc64-256";

// TRIBE v2 brain model: config.yaml + best.ckpt (upstream), or the Rust port's
// model.safetensors + build_args.json.
std::vector<std::string> brain_model_files();
// Llama 3 (HF transformers layout): config.json, tokenizer.json, safetensors shards + index.
std::vector<std::string> llama_files();
// w2v-BERT 2.0: config.json, preprocessor_config.json, model.safetensors.
std::vector<std::string> audio_model_files();
// V-JEPA2: config.json, video_preprocessor_config.json (or preprocessor_config.json), safetensors.
std::vector<std::string> video_model_files();

}  // namespace tribev2::hub

// The HuggingFace files of the feature models, besides the weights: Llama config.json,
// w2v-BERT config.json and preprocessor_config.json (filterbank), V-JEPA 2 config.json and
// (video_)preprocessor_config.json, and model.safetensors.index.json (sharded weights). The
// first byte picks the parser (value % 6), the rest is the file. For the index, the folder
// holds the tiny-llama fixture's config.json and shards, so a valid index loads the model.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <system_error>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/features/audio/fbank.hpp"
#include "tribev2/features/audio/w2v_bert.hpp"
#include "tribev2/features/text/llama_config.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/features/video/preprocess.hpp"
#include "tribev2/features/video/vjepa2.hpp"

namespace {
namespace fs = std::filesystem;

// A folder with the tiny-llama fixture's config.json and shards (symbolic links).
fs::path llama_dir() {
  static const fs::path dir = [] {
    const fs::path src = fs::path(TRIBEV2_SOURCE_DIR) / "tests/fixtures/text_features/tiny-llama";
    const fs::path d = tribev2::fuzz::scratch_dir() / "tiny-llama";
    fs::create_directories(d);
    std::error_code ec;
    for (const char* f : {"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
      fs::remove(d / f, ec);
      fs::create_symlink(src / f, d / f, ec);
    }
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tribev2;
  if (size == 0) return 0;
  const int which = data[0] % 6;
  const auto body = fuzz::as_text(data + 1, size - 1);
  const fs::path file = fuzz::scratch_dir() / "config.json";
  try {
    switch (which) {
      case 0:
        (void)text::parse_llama_config(body, "config.json");
        break;
      case 1:
        fuzz::write_file(file, body);
        (void)features::audio::W2vBertConfig::from_json_file(file);
        break;
      case 2:
        fuzz::write_file(file, body);
        (void)features::audio::FbankConfig::from_json_file(file);
        break;
      case 3:
        fuzz::write_file(file, body);
        (void)features::video::VJEPA2Config::from_json_file(file);
        break;
      case 4:
        fuzz::write_file(file, body);
        (void)features::video::ProcessorConfig::from_json_file(file);
        break;
      default: {
        const fs::path dir = llama_dir();
        fuzz::write_file(dir / "model.safetensors.index.json", body);
        (void)text::load_hf_llama_weights(dir);
        break;
      }
    }
  } catch (const Error&) {
  }
  return 0;
}

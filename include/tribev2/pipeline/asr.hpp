// Speech recognition with word timings by an external tool: whisperX (preferred, upstream's
// choice) or openai-whisper. Upstream runs
//   uvx whisperx WAV --model large-v3 --language en --compute_type float16 --batch_size 16
//       --align_model WAV2VEC2_ASR_LARGE_LV60K_960H --output_format json
// float16 fails on a CPU; we pass a compute type that works there (int8 by default; float32
// is the exact CPU alternative) and otherwise the same settings.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tribev2/events/transcript.hpp"
#include "tribev2/pipeline/cache.hpp"
#include "tribev2/pipeline/language.hpp"

namespace tribev2::pipeline {

struct AsrOptions {
  std::string tool = "auto";        // auto (whisperx, else whisper) | whisperx | whisper
  std::string model = "large-v3";
  std::string compute_type = "int8";  // whisperx: int8 | float32 | float16 (GPU only) | default
  int batch_size = 16;
  std::string device;               // empty: the tool's default (cuda when available, else cpu)
  std::string align_model = "WAV2VEC2_ASR_LARGE_LV60K_960H";  // used for English, as upstream
};

struct AsrTool {
  std::string kind;                 // "whisperx" or "whisper"
  std::filesystem::path executable;
};

// The tool to run, or a clear error saying how to install one or pass --transcript.
AsrTool find_asr_tool(const AsrOptions& options);

// The command line for `audio`, writing `<output_dir>/<audio stem>.json`.
std::vector<std::string> asr_command(const AsrTool& tool, const std::filesystem::path& audio,
                                     const std::filesystem::path& output_dir, const Language& language,
                                     const AsrOptions& options);

// The cache key description of a transcription (audio content hash + tool + settings).
io::CacheKey asr_key(const std::string& audio_sha256, const AsrTool& tool, const Language& language,
                     const AsrOptions& options);

struct AsrResult {
  events::Transcript transcript;
  std::filesystem::path json;       // the tool's JSON, in the cache entry
  std::string command;              // shell-quoted command line
  bool cached = false;
};

// Transcribes `audio` (cached under the stage "transcript" by content hash and settings).
AsrResult transcribe(const std::filesystem::path& audio, const std::string& audio_sha256, const Language& language,
                     const AsrOptions& options, StageCache& cache, Cleanup& cleanup);

}  // namespace tribev2::pipeline

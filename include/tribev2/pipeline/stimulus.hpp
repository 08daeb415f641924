// The three input kinds and upstream's checks on them (TribeModel.get_events_dataframe):
// exactly one input, a known suffix, an existing file, a non-empty text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tribev2::pipeline {

enum class StimulusKind { Text, Audio, Video };
std::string to_string(StimulusKind k);

struct Stimulus {
  StimulusKind kind = StimulusKind::Audio;
  std::filesystem::path path;
  std::string text;  // the file's content, for text inputs
};

// `--text`, `--audio`, `--video` as given (empty = not given). Errors say what is wrong, with
// upstream's rules: suffixes .txt; .wav .mp3 .flac .ogg; .mp4 .avi .mkv .mov .webm (any case).
Stimulus check_stimulus(const std::string& text_path, const std::string& audio_path, const std::string& video_path);

}  // namespace tribev2::pipeline

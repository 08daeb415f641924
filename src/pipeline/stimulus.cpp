#include "tribev2/pipeline/stimulus.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/events/text_case.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/tts.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

std::string to_string(StimulusKind k) {
  switch (k) {
    case StimulusKind::Text: return "text";
    case StimulusKind::Audio: return "audio";
    case StimulusKind::Video: return "video";
  }
  return "?";
}

namespace {
std::string lower_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}
}  // namespace

Stimulus check_stimulus(const std::string& text_path, const std::string& audio_path, const std::string& video_path) {
  std::vector<std::pair<StimulusKind, std::string>> given;
  if (!text_path.empty()) given.emplace_back(StimulusKind::Text, text_path);
  if (!audio_path.empty()) given.emplace_back(StimulusKind::Audio, audio_path);
  if (!video_path.empty()) given.emplace_back(StimulusKind::Video, video_path);
  if (given.size() != 1) {
    std::vector<std::string> names;
    for (const auto& [k, p] : given) names.push_back("--" + to_string(k));
    fail("exactly one of --text, --audio, --video must be given, got ", given.empty() ? "none" : join(names));
  }
  const auto [kind, p] = given.front();
  const std::vector<std::string> suffixes =
      kind == StimulusKind::Text    ? std::vector<std::string>{".txt"}
      : kind == StimulusKind::Audio ? std::vector<std::string>{".flac", ".mp3", ".ogg", ".wav"}
                                    : std::vector<std::string>{".avi", ".mkv", ".mov", ".mp4", ".webm"};
  const fs::path path(p);
  const std::string suffix = lower_ascii(path.extension().string());
  if (std::find(suffixes.begin(), suffixes.end(), suffix) == suffixes.end())
    fail("--", to_string(kind), " must end with one of ", join(suffixes), ", got '", suffix, "' (", p, ")");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("--", to_string(kind), " does not exist: ", p);
  Stimulus s{kind, path, {}};
  if (kind == StimulusKind::Text) {
    s.text = io::read_text_file(path);
    if (!is_valid_utf8(s.text)) fail(p, ": the text file is not valid UTF-8");
    if (events::py_strip(s.text).empty()) fail("text file is empty: ", p);
  }
  return s;
}

}  // namespace tribev2::pipeline

// Private helper of the audio features: a JSON object read from a file, with errors that name it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::features::audio {

inline nlohmann::json read_json_object(const std::filesystem::path& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
  TRIBEV2_CHECK(j.is_object(), path.string(), ": expected a JSON object");
  return j;
}

}  // namespace tribev2::features::audio

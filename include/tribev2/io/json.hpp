// THE reader of JSON-object files (model configs, preprocessor configs, weight indexes,
// build_args.json, segments.json): one place for the parse and its error messages, which name
// the file. Callers read fields from the object and report their own field errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tribev2::io {

// `text` parsed as a JSON object; errors name `source`: "<source>: not valid JSON: ..." or
// "<source>: expected a JSON object, got <type>".
nlohmann::json parse_json_object(std::string_view text, const std::string& source);
// The same for a file (its path is the source).
nlohmann::json read_json_object(const std::filesystem::path& path);
// Keys in file order (e.g. build_args.json's modalities, whose order is the model's).
nlohmann::ordered_json read_ordered_json_object(const std::filesystem::path& path);

}  // namespace tribev2::io

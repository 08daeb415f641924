#include "tribev2/io/json.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::io {

namespace {
template <class Json>
Json parse_object(std::string_view text, const std::string& source) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": not valid JSON: ", e.what());
  }
  if (!j.is_object()) fail(source, ": expected a JSON object, got ", j.type_name());
  return j;
}
}  // namespace

nlohmann::json parse_json_object(std::string_view text, const std::string& source) {
  return parse_object<nlohmann::json>(text, source);
}

nlohmann::json read_json_object(const std::filesystem::path& path) {
  return parse_object<nlohmann::json>(read_text_file(path), path.string());
}

nlohmann::ordered_json read_ordered_json_object(const std::filesystem::path& path) {
  return parse_object<nlohmann::ordered_json>(read_text_file(path), path.string());
}

}  // namespace tribev2::io

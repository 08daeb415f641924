#include "tribev2/events/word.hpp"

#include <cmath>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/core/utf8.hpp"
#include "tribev2/events/text_case.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::events {

namespace {
// Python slicing s[a:b] (clamped, empty when b <= a) on code points.
std::u32string slice(const std::u32string& s, std::size_t a, std::size_t b) {
  a = std::min(a, s.size());
  b = std::min(b, s.size());
  return b > a ? s.substr(a, b - a) : std::u32string();
}
}  // namespace

void add_context(std::vector<Word>& words, std::size_t max_context_len) {
  TRIBEV2_CHECK(max_context_len > 0, "max_context_len must be positive");
  // Offsets (sentence_char, lengths) count code points, as Python's str does.
  std::deque<std::u32string> parts;
  std::size_t start_char = 0;
  const Word* last = nullptr;
  std::u32string last_sentence;
  for (Word& w : words) {
    if (w.sentence.empty() || !w.sentence_char || *w.sentence_char < 0) {
      w.context.clear();
      continue;
    }
    const std::u32string sentence = utf8::to_u32(w.sentence);
    const auto sc = static_cast<std::size_t>(*w.sentence_char);
    if (!last) {
      parts.clear();
      start_char = 0;
    } else if (w.sentence != last->sentence || *w.sentence_char <= *last->sentence_char) {
      // New sentence: finish the previous one (with its trailing whitespace).
      if (!parts.empty()) parts.back() += slice(last_sentence, start_char, last_sentence.size());
      start_char = 0;
    } else if (!parts.empty()) {
      parts.back() += slice(sentence, start_char, sc);
      start_char = sc;
    }
    const std::size_t last_char = sc + utf8::to_u32(w.text).size();
    const std::u32string fresh = slice(sentence, start_char, last_char);
    std::u32string ctx;
    for (const auto& p : parts) ctx += p;
    w.context = utf8::from_u32(ctx + fresh);
    parts.push_back(fresh);
    if (parts.size() > max_context_len) parts.pop_front();  // deque(maxlen)
    start_char = last_char;
    last = &w;
    last_sentence = sentence;
  }
}

namespace {

const nlohmann::json* field_of(const nlohmann::json& e, const char* name) {
  const auto it = e.find(name);
  return it == e.end() ? nullptr : &*it;
}

// A present field of the wrong type is an error naming the file, the word, the field and the
// expected type (never silently ignored).
[[noreturn]] void wrong_type(const std::string& where, const char* field, const char* expected, const nlohmann::json& v) {
  fail(where, ": '", field, "' must be ", expected, ", got ", v.type_name(), " ", v.dump());
}

double json_number(const nlohmann::json& v, const std::string& where, const char* field) {
  if (!v.is_number()) wrong_type(where, field, "a number", v);
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(where, ": '", field, "' must be finite, got ", d);
  return d;
}

std::int64_t json_int64(const nlohmann::json& v, const std::string& where, const char* field) {
  if (!v.is_number_integer()) wrong_type(where, field, "an integer", v);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    fail(where, ": '", field, "' is out of the 64-bit integer range: ", v.dump());
  return v.get<std::int64_t>();
}

std::string json_string(const nlohmann::json& v, const std::string& where, const char* field) {
  if (!v.is_string()) wrong_type(where, field, "a string", v);
  return v.get<std::string>();
}

}  // namespace

std::vector<Word> read_words_json(const std::filesystem::path& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": not valid JSON: ", e.what());
  }
  const nlohmann::json* list = &j;
  if (j.is_object()) {
    if (!j.contains("words") || !j["words"].is_array()) fail(path.string(), ": expected {\"words\": [...]}");
    list = &j["words"];
  }
  if (!list->is_array()) fail(path.string(), ": expected a list of words or {\"words\": [...]}");
  std::vector<Word> out;
  std::size_t i = 0;
  for (const auto& e : *list) {
    const std::string where = path.string() + ": words[" + std::to_string(i++) + "]";
    if (!e.is_object()) fail(where, ": expected an object, got ", e.type_name());
    Word w;
    const auto* text = field_of(e, "text");
    if (!text) fail(where, ": needs a string 'text'");
    w.text = json_string(*text, where, "text");
    const auto* start = field_of(e, "start");
    if (!start) fail(where, ": needs a number 'start'");
    w.start = json_number(*start, where, "start");
    if (const auto* d = field_of(e, "duration")) w.duration = json_number(*d, where, "duration");
    else if (const auto* end = field_of(e, "end")) w.duration = json_number(*end, where, "end") - w.start;
    else fail(where, ": needs 'duration' or 'end'");
    if (!std::isfinite(w.duration) || w.duration < 0) fail(where, ": start/duration must be finite and duration >= 0");
    if (const auto* v = field_of(e, "sentence")) w.sentence = json_string(*v, where, "sentence");
    if (const auto* v = field_of(e, "sentence_char")) w.sentence_char = json_int64(*v, where, "sentence_char");
    if (const auto* v = field_of(e, "sequence_id")) w.sequence_id = json_int64(*v, where, "sequence_id");
    if (const auto* v = field_of(e, "context")) w.context = json_string(*v, where, "context");
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<Word> read_words_tsv(const std::filesystem::path& path) {
  // The one TSV reader of the project: upstream's transcript cache format (transcript.cpp).
  const std::string text = io::read_text_file(path);
  if (py_strip(text).empty()) fail(path.string(), ": empty word list (expected a header with text, start and duration)");
  return parse_transcript_tsv(text, path.string()).words;
}

std::vector<Word> read_words(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".json") return read_words_json(path);
  if (ext == ".tsv") return read_words_tsv(path);
  fail(path.string(), ": unsupported word list type '", ext, "' (use .json or .tsv)");
}

}  // namespace tribev2::events

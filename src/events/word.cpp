#include "tribev2/events/word.hpp"

#include <cmath>
#include <deque>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/core/utf8.hpp"
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
    if (!e.is_object() || !e.contains("text") || !e["text"].is_string()) fail(where, ": needs a string 'text'");
    Word w;
    w.text = e["text"].get<std::string>();
    if (!e.contains("start") || !e["start"].is_number()) fail(where, ": needs a number 'start'");
    w.start = e["start"].get<double>();
    if (e.contains("duration") && e["duration"].is_number()) w.duration = e["duration"].get<double>();
    else if (e.contains("end") && e["end"].is_number()) w.duration = e["end"].get<double>() - w.start;
    else fail(where, ": needs 'duration' or 'end'");
    if (!std::isfinite(w.start) || !std::isfinite(w.duration) || w.duration < 0) fail(where, ": start/duration must be finite and duration >= 0");
    if (e.contains("sentence") && e["sentence"].is_string()) w.sentence = e["sentence"].get<std::string>();
    if (e.contains("sentence_char") && e["sentence_char"].is_number_integer()) w.sentence_char = e["sentence_char"].get<std::int64_t>();
    if (e.contains("sequence_id") && e["sequence_id"].is_number_integer()) w.sequence_id = e["sequence_id"].get<std::int64_t>();
    if (e.contains("context") && e["context"].is_string()) w.context = e["context"].get<std::string>();
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<Word> read_words_tsv(const std::filesystem::path& path) {
  std::istringstream in(io::read_text_file(path));
  std::string line;
  if (!std::getline(in, line)) fail(path.string(), ": empty transcript file");
  auto split = [](const std::string& s) {
    std::vector<std::string> f;
    std::size_t p = 0;
    for (;;) {
      const auto t = s.find('\t', p);
      f.push_back(s.substr(p, t == std::string::npos ? std::string::npos : t - p));
      if (t == std::string::npos) break;
      p = t + 1;
    }
    if (!f.empty() && !f.back().empty() && f.back().back() == '\r') f.back().pop_back();
    return f;
  };
  const auto header = split(line);
  auto col = [&](const std::string& name) -> int {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int ct = col("text"), cs = col("start"), cd = col("duration"), cq = col("sequence_id"), cz = col("sentence");
  if (ct < 0 || cs < 0 || cd < 0) fail(path.string(), ": header must have text, start and duration columns");
  std::vector<Word> out;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    const auto f = split(line);
    const std::string where = path.string() + ":" + std::to_string(lineno);
    auto field = [&](int c) -> std::string {
      if (c < 0) return {};
      if (static_cast<std::size_t>(c) >= f.size()) fail(where, ": missing column ", header[static_cast<std::size_t>(c)]);
      return f[static_cast<std::size_t>(c)];
    };
    auto number = [&](int c, const char* name) {
      const std::string s = field(c);
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0' || !std::isfinite(v)) fail(where, ": ", name, " must be a number, got '", s, "'");
      return v;
    };
    Word w;
    w.text = field(ct);
    w.start = number(cs, "start");
    w.duration = number(cd, "duration");
    if (cq >= 0) w.sequence_id = static_cast<std::int64_t>(number(cq, "sequence_id"));
    w.sentence = field(cz);
    out.push_back(std::move(w));
  }
  return out;
}

std::vector<Word> read_words(const std::filesystem::path& path) {
  const auto ext = path.extension().string();
  if (ext == ".json") return read_words_json(path);
  if (ext == ".tsv") return read_words_tsv(path);
  fail(path.string(), ": unsupported word list type '", ext, "' (use .json or .tsv)");
}

}  // namespace tribev2::events

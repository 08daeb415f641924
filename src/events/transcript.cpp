#include "tribev2/events/transcript.hpp"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/tsv.hpp"
#include "tribev2/events/text_case.hpp"

namespace tribev2::events {

using nlohmann::json;

std::string to_string(TranscriptFormat f) {
  switch (f) {
    case TranscriptFormat::WhisperJson: return "whisper-json";
    case TranscriptFormat::WordListJson: return "word-list-json";
    case TranscriptFormat::UpstreamTsv: return "upstream-tsv";
  }
  return "?";
}

namespace {

json parse_json(std::string_view text, const std::string& name) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    fail(name, ": not valid JSON: ", e.what());
  }
}

std::string without_quotes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (c != '"') out += c;
  return out;
}

double finite_number(const json& v, const std::string& where, const char* field) {
  if (!v.is_number()) fail(where, ": '", field, "' must be a number, got ", v.type_name());
  const double d = v.get<double>();
  if (!std::isfinite(d)) fail(where, ": '", field, "' must be finite");
  return d;
}

void check_timing(const Word& w, const std::string& where) {
  if (w.start < 0.0) fail(where, ": start must be >= 0, got ", w.start);
  if (w.duration < 0.0) fail(where, ": end must not be before start (duration ", w.duration, ")");
}

}  // namespace

Transcript parse_whisper_json(std::string_view text, const std::string& name) {
  const json j = parse_json(text, name);
  if (!j.is_object() || !j.contains("segments"))
    fail(name, ": expected a whisper/whisperX JSON object with \"segments\"");
  const json& segs = j["segments"];
  if (!segs.is_array()) fail(name, ": \"segments\" must be a list, got ", segs.type_name());
  Transcript t;
  t.format = TranscriptFormat::WhisperJson;
  t.has_segments = true;
  bool any_words_key = false, any_text = false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const json& seg = segs[i];
    const std::string where = name + ": segments[" + std::to_string(i) + "]";
    if (!seg.is_object()) fail(where, ": expected an object, got ", seg.type_name());
    std::string sentence;
    if (seg.contains("text")) {
      if (!seg["text"].is_string()) fail(where, ": 'text' must be a string");
      sentence = without_quotes(seg["text"].get<std::string>());
      any_text = any_text || !py_strip(sentence).empty();
    }
    if (!seg.contains("words")) continue;
    any_words_key = true;
    const json& words = seg["words"];
    if (!words.is_array()) fail(where, ": 'words' must be a list, got ", words.type_name());
    for (std::size_t k = 0; k < words.size(); ++k) {
      const json& wj = words[k];
      const std::string wwhere = where + ".words[" + std::to_string(k) + "]";
      if (!wj.is_object()) fail(wwhere, ": expected an object, got ", wj.type_name());
      if (!wj.contains("word") || !wj["word"].is_string()) fail(wwhere, ": needs a string 'word'");
      // upstream: `if "start" not in word: continue` (whisperX leaves numerals unaligned).
      // A null start is treated the same way (upstream would crash on it).
      if (!wj.contains("start") || wj["start"].is_null()) {
        ++t.dropped_words;
        continue;
      }
      Word w;
      // Upstream keeps the word as whisperX writes it (no surrounding spaces); openai-whisper
      // words carry a leading space, which we strip so both tools give the same text.
      w.text = std::string(py_strip(without_quotes(wj["word"].get<std::string>())));
      w.start = finite_number(wj["start"], wwhere, "start");
      if (!wj.contains("end")) fail(wwhere, ": has 'start' but no 'end'");
      w.duration = finite_number(wj["end"], wwhere, "end") - w.start;
      check_timing(w, wwhere);
      if (w.text.empty()) {
        ++t.dropped_words;
        continue;
      }
      w.sequence_id = static_cast<std::int64_t>(i);
      w.sentence = sentence;
      t.words.push_back(std::move(w));
    }
  }
  if (!any_words_key && any_text)
    fail(name, ": the segments have no word timings (run whisperx with alignment, i.e. without --no_align, "
               "or whisper with --word_timestamps True)");
  return t;
}

Transcript parse_word_list_json(std::string_view text, const std::string& name) {
  const json j = parse_json(text, name);
  const json* list = &j;
  if (j.is_object()) {
    if (!j.contains("words") || !j["words"].is_array()) fail(name, ": expected a list of words or {\"words\": [...]}");
    list = &j["words"];
  }
  if (!list->is_array()) fail(name, ": expected a list of words or {\"words\": [...]}");
  Transcript t;
  t.format = TranscriptFormat::WordListJson;
  bool all_ids = !list->empty();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    const std::string where = name + ": words[" + std::to_string(i) + "]";
    if (!e.is_object()) fail(where, ": expected an object, got ", e.type_name());
    const char* key = e.contains("text") ? "text" : "word";
    if (!e.contains(key) || !e[key].is_string()) fail(where, ": needs a string 'text' (or 'word')");
    Word w;
    w.text = std::string(py_strip(without_quotes(e[key].get<std::string>())));
    if (!e.contains("start")) fail(where, ": needs a number 'start'");
    w.start = finite_number(e["start"], where, "start");
    if (e.contains("duration")) w.duration = finite_number(e["duration"], where, "duration");
    else if (e.contains("end")) w.duration = finite_number(e["end"], where, "end") - w.start;
    else fail(where, ": needs 'duration' or 'end'");
    check_timing(w, where);
    if (e.contains("sequence_id")) {
      const json& q = e["sequence_id"];
      if (!q.is_number_integer()) fail(where, ": 'sequence_id' must be an integer");
      w.sequence_id = q.get<std::int64_t>();
    } else {
      all_ids = false;
    }
    if (e.contains("sentence")) {
      if (!e["sentence"].is_string()) fail(where, ": 'sentence' must be a string");
      w.sentence = e["sentence"].get<std::string>();
    }
    if (w.text.empty()) {
      ++t.dropped_words;
      continue;
    }
    t.words.push_back(std::move(w));
  }
  t.has_segments = all_ids;
  return t;
}

namespace {

double tsv_number(const std::string& s, const std::string& where, const char* field) {
  const std::string_view v = py_strip(s);
  double d = 0.0;
  const auto* end = v.data() + v.size();
  const auto r = std::from_chars(v.data(), end, d);
  if (v.empty() || r.ec != std::errc() || r.ptr != end || !std::isfinite(d))
    fail(where, ": ", field, " must be a finite number, got '", s, "'");
  return d;
}

}  // namespace

Transcript parse_transcript_tsv(std::string_view text, const std::string& name) {
  Transcript t;
  t.format = TranscriptFormat::UpstreamTsv;
  if (py_strip(text).empty()) return t;  // pandas EmptyDataError -> empty transcript upstream
  const auto records = io::split_tsv(text, name);
  if (records.empty()) return t;
  const auto& header = records.front().fields;
  auto col = [&](const char* n) -> int {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == n) return static_cast<int>(i);
    return -1;
  };
  const int ct = col("text"), cs = col("start"), cd = col("duration"), cq = col("sequence_id"), cz = col("sentence");
  if (ct < 0 || cs < 0 || cd < 0)
    fail(name, ": the header must name the columns text, start and duration (upstream's transcript cache)");
  t.has_segments = cq >= 0;
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    const std::string where = name + ":" + std::to_string(records[r].line);
    if (f.size() != header.size())
      fail(where, ": ", f.size(), " fields, but the header has ", header.size());
    Word w;
    w.text = f[static_cast<std::size_t>(ct)];
    if (py_strip(w.text).empty()) fail(where, ": empty word text");
    w.start = tsv_number(f[static_cast<std::size_t>(cs)], where, "start");
    w.duration = tsv_number(f[static_cast<std::size_t>(cd)], where, "duration");
    check_timing(w, where);
    if (cq >= 0) {
      const double q = tsv_number(f[static_cast<std::size_t>(cq)], where, "sequence_id");
      if (q != std::floor(q) || std::abs(q) > 9e15) fail(where, ": sequence_id must be an integer within +-9e15, got ", f[static_cast<std::size_t>(cq)]);
      w.sequence_id = static_cast<std::int64_t>(q);
    }
    if (cz >= 0) w.sentence = f[static_cast<std::size_t>(cz)];
    t.words.push_back(std::move(w));
  }
  return t;
}

Transcript parse_transcript(std::string_view text, const std::string& name, std::string_view extension) {
  if (extension == ".tsv") return parse_transcript_tsv(text, name);
  if (extension == ".json") {
    const json j = parse_json(text, name);
    if (j.is_object() && j.contains("segments")) return parse_whisper_json(text, name);
    return parse_word_list_json(text, name);
  }
  fail(name, ": unsupported transcript type '", extension,
       "' (use whisper/whisperX .json, a JSON word list, or upstream's .tsv transcript cache)");
}

Transcript read_transcript(const std::filesystem::path& path) {
  return parse_transcript(io::read_text_file(path), path.string(), path.extension().string());
}

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string tsv_field(std::string_view s) {
  if (s.find_first_of("\t\n\r\"") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string format_transcript_tsv(const std::vector<Word>& words) {
  std::string out = "text\tstart\tduration\tsequence_id\tsentence\n";
  for (const auto& w : words) {
    out += tsv_field(w.text) + "\t" + py_float_repr(w.start) + "\t" + py_float_repr(w.duration) + "\t" +
           std::to_string(w.sequence_id) + "\t" + tsv_field(w.sentence) + "\n";
  }
  return out;
}

}  // namespace tribev2::events

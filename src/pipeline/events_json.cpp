#include "tribev2/pipeline/events_json.hpp"

#include <cmath>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

using nlohmann::json;

json events_to_json(const events::Events& ev) {
  json j;
  j["format"] = 1;
  j["language"] = ev.language;
  j["timeline"] = ev.timeline;
  j["subject"] = ev.subject;
  j["start"] = ev.media.empty() && ev.words.empty() && ev.spans.empty() ? 0.0 : ev.start();
  j["stop"] = ev.media.empty() && ev.words.empty() && ev.spans.empty() ? 0.0 : ev.stop();
  auto& media = j["media"] = json::array();
  for (const auto& m : ev.media)
    media.push_back({{"type", m.type}, {"filepath", m.filepath.string()}, {"start", m.start}, {"offset", m.offset},
                     {"duration", m.duration}, {"frequency", m.frequency}});
  auto& spans = j["spans"] = json::array();
  for (const auto& s : ev.spans) spans.push_back({{"type", s.type}, {"start", s.start}, {"duration", s.duration}, {"text", s.text}});
  auto& words = j["words"] = json::array();
  for (const auto& w : ev.words) {
    json o = {{"text", w.text},         {"start", w.start},       {"duration", w.duration},
              {"sentence", w.sentence}, {"sequence_id", w.sequence_id}, {"context", w.context}};
    o["sentence_char"] = w.sentence_char ? json(*w.sentence_char) : json(nullptr);
    words.push_back(std::move(o));
  }
  return j;
}

namespace {
double num(const json& o, const char* k, const std::string& where) {
  if (!o.contains(k) || !o[k].is_number()) fail(where, ": needs a number '", k, "'");
  const double v = o[k].get<double>();
  if (!std::isfinite(v)) fail(where, ": '", k, "' must be finite");
  return v;
}
std::string str(const json& o, const char* k, const std::string& where) {
  if (!o.contains(k) || !o[k].is_string()) fail(where, ": needs a string '", k, "'");
  return o[k].get<std::string>();
}
const json& list(const json& o, const char* k, const std::string& where) {
  if (!o.contains(k) || !o[k].is_array()) fail(where, ": needs a list '", k, "'");
  return o[k];
}
}  // namespace

events::Events events_from_json(const json& j, const std::string& name) {
  if (!j.is_object() || j.value("format", 0) != 1) fail(name, ": not an events file of format 1");
  events::Events ev;
  ev.language = str(j, "language", name);
  ev.timeline = str(j, "timeline", name);
  ev.subject = str(j, "subject", name);
  const auto& media = list(j, "media", name);
  for (std::size_t i = 0; i < media.size(); ++i) {
    const std::string w = name + ": media[" + std::to_string(i) + "]";
    const json& o = media[i];
    if (!o.is_object()) fail(w, ": expected an object");
    events::MediaEvent m;
    m.type = str(o, "type", w);
    if (m.type != "Audio" && m.type != "Video") fail(w, ": type must be Audio or Video, got '", m.type, "'");
    m.filepath = str(o, "filepath", w);
    m.start = num(o, "start", w);
    m.offset = num(o, "offset", w);
    m.duration = num(o, "duration", w);
    m.frequency = num(o, "frequency", w);
    ev.media.push_back(std::move(m));
  }
  const auto& spans = list(j, "spans", name);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const std::string w = name + ": spans[" + std::to_string(i) + "]";
    const json& o = spans[i];
    if (!o.is_object()) fail(w, ": expected an object");
    ev.spans.push_back({str(o, "type", w), num(o, "start", w), num(o, "duration", w), str(o, "text", w)});
  }
  const auto& words = list(j, "words", name);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string w = name + ": words[" + std::to_string(i) + "]";
    const json& o = words[i];
    if (!o.is_object()) fail(w, ": expected an object");
    events::Word word;
    word.text = str(o, "text", w);
    word.start = num(o, "start", w);
    word.duration = num(o, "duration", w);
    word.sentence = str(o, "sentence", w);
    word.context = str(o, "context", w);
    if (!o.contains("sequence_id") || !o["sequence_id"].is_number_integer()) fail(w, ": needs an integer 'sequence_id'");
    word.sequence_id = o["sequence_id"].get<std::int64_t>();
    if (o.contains("sentence_char") && !o["sentence_char"].is_null()) {
      if (!o["sentence_char"].is_number_integer()) fail(w, ": 'sentence_char' must be an integer or null");
      word.sentence_char = o["sentence_char"].get<std::int64_t>();
    }
    ev.words.push_back(std::move(word));
  }
  return ev;
}

}  // namespace tribev2::pipeline

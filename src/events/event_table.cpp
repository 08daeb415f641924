#include "tribev2/events/event_table.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tribev2/core/error.hpp"
#include "tribev2/events/transcript.hpp"

namespace tribev2::events {

bool Events::has(const std::string& media_type) const {
  return std::any_of(media.begin(), media.end(), [&](const MediaEvent& m) { return m.type == media_type; });
}

double Events::start() const {
  double t = std::numeric_limits<double>::infinity();
  for (const auto& m : media) t = std::min(t, m.start);
  for (const auto& w : words) t = std::min(t, w.start);
  for (const auto& s : spans) t = std::min(t, s.start);
  TRIBEV2_CHECK(std::isfinite(t), "the stimulus has no events");
  return t;
}

double Events::stop() const {
  double t = -std::numeric_limits<double>::infinity();
  for (const auto& m : media) t = std::max(t, m.stop());
  for (const auto& w : words) t = std::max(t, w.stop());
  for (const auto& s : spans) t = std::max(t, s.start + s.duration);
  TRIBEV2_CHECK(std::isfinite(t), "the stimulus has no events");
  return t;
}

std::vector<MediaEvent> chunk_media(const MediaEvent& event, double max_duration, double min_duration) {
  std::vector<MediaEvent> out;
  for (const auto& c : chunk_event(event.start, event.offset, event.duration, max_duration, min_duration)) {
    MediaEvent m = event;
    m.start = c.start;
    m.offset = c.offset;
    m.duration = c.duration;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Word> place_transcript(const std::vector<Word>& transcript, const std::vector<MediaEvent>& chunks,
                                   WordPlacement placement) {
  std::vector<Word> out;
  if (chunks.empty() || transcript.empty()) return out;
  if (placement == WordPlacement::Corrected) {
    const double shift = chunks.front().start - chunks.front().offset;
    for (Word w : transcript) {
      w.start += shift;
      out.push_back(std::move(w));
    }
    return out;
  }
  std::int64_t max_id = 0;
  for (const auto& w : transcript) max_id = std::max(max_id, w.sequence_id);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    for (Word w : transcript) {
      w.start += chunks[k].start + chunks[k].offset;
      w.sequence_id += static_cast<std::int64_t>(k) * (max_id + 1);
      out.push_back(std::move(w));
    }
  }
  return out;
}

std::size_t remove_missing(std::vector<Word>& words) {
  const auto before = words.size();
  words.erase(std::remove_if(words.begin(), words.end(), [](const Word& w) { return w.context.empty(); }),
              words.end());
  return before - words.size();
}

void sort_words(std::vector<Word>& words) {
  std::stable_sort(words.begin(), words.end(), [](const Word& a, const Word& b) { return a.start < b.start; });
}

namespace {

struct Row {
  std::string type;
  double start = 0.0, duration = 0.0;
  std::string filepath, offset, frequency, text, language, sentence, sentence_char, context, sequence_id;
};

}  // namespace

std::string format_events_tsv(const Events& events) {
  std::vector<Row> rows;
  for (const auto& m : events.media) {
    Row r;
    r.type = m.type;
    r.start = m.start;
    r.duration = m.duration;
    r.filepath = m.filepath.string();
    r.offset = py_float_repr(m.offset);
    r.frequency = py_float_repr(m.frequency);
    rows.push_back(std::move(r));
  }
  for (const auto& s : events.spans) {
    Row r;
    r.type = s.type;
    r.start = s.start;
    r.duration = s.duration;
    r.text = s.text;
    r.language = events.language;
    rows.push_back(std::move(r));
  }
  for (const auto& w : events.words) {
    Row r;
    r.type = "Word";
    r.start = w.start;
    r.duration = w.duration;
    r.text = w.text;
    r.language = events.language;
    r.sentence = w.sentence;
    if (w.sentence_char) r.sentence_char = std::to_string(*w.sentence_char);
    r.context = w.context;
    r.sequence_id = std::to_string(w.sequence_id);
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.start != b.start) return a.start < b.start;
    return a.duration > b.duration;
  });
  if (!rows.empty()) {
    Row dummy;
    dummy.type = "CategoricalEvent";
    dummy.start = events.start();
    dummy.duration = events.stop() - dummy.start;
    rows.push_back(std::move(dummy));
  }
  std::string out =
      "type\tstart\tduration\tstop\ttimeline\tsubject\tfilepath\toffset\tfrequency\ttext\tlanguage\tsentence\t"
      "sentence_char\tcontext\tsequence_id\n";
  for (const auto& r : rows) {
    out += r.type + "\t" + py_float_repr(r.start) + "\t" + py_float_repr(r.duration) + "\t" +
           py_float_repr(r.start + r.duration) + "\t" + tsv_field(events.timeline) + "\t" + tsv_field(events.subject) +
           "\t" + tsv_field(r.filepath) + "\t" + r.offset + "\t" + r.frequency + "\t" + tsv_field(r.text) + "\t" +
           tsv_field(r.language) + "\t" + tsv_field(r.sentence) + "\t" + r.sentence_char + "\t" +
           tsv_field(r.context) + "\t" + r.sequence_id + "\n";
  }
  return out;
}

}  // namespace tribev2::events

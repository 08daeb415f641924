#include "tribev2/events/sentences.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "tribev2/core/error.hpp"
#include "tribev2/events/text_case.hpp"

namespace tribev2::events {

SentenceSource parse_sentence_source(const std::string& s) {
  if (s == "auto") return SentenceSource::Auto;
  if (s == "segments") return SentenceSource::Segments;
  if (s == "rules") return SentenceSource::Rules;
  fail("--sentences must be auto, segments or rules, got '", s, "'");
}

TextCase parse_text_case(const std::string& s) {
  if (s == "capitalize") return TextCase::Capitalize;
  if (s == "upper-first") return TextCase::UpperFirst;
  fail("--text-case must be capitalize or upper-first, got '", s, "'");
}

std::string to_string(SentenceSource s) {
  switch (s) {
    case SentenceSource::Auto: return "auto";
    case SentenceSource::Segments: return "segments";
    case SentenceSource::Rules: return "rules";
  }
  return "?";
}

std::string to_string(TextCase c) { return c == TextCase::Capitalize ? "capitalize" : "upper-first"; }

std::vector<std::size_t> sentence_starts_from_segments(const std::vector<Word>& words) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < words.size(); ++i)
    if (i == 0 || words[i].sequence_id != words[i - 1].sequence_id) out.push_back(i);
  return out;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Strips closing quotes and brackets (ASCII and the common UTF-8 ones) from the end.
std::string_view strip_closers(std::string_view w) {
  static constexpr std::array<std::string_view, 9> closers = {"\"", "'", ")", "]", "}", "\xC2\xBB" /* » */,
                                                              "\xE2\x80\x9D" /* ” */, "\xE2\x80\x99" /* ’ */,
                                                              "\xE2\x80\xBA" /* › */};
  for (bool again = true; again && !w.empty();) {
    again = false;
    for (auto c : closers)
      if (ends_with(w, c)) {
        w.remove_suffix(c.size());
        again = true;
      }
  }
  return w;
}

bool is_abbreviation(std::string_view core_lower) {
  static constexpr std::string_view abbreviations[] = {
      "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "e.g", "i.e", "cf", "fig", "vol", "approx", "dept", "gen", "col", "lt", "sgt", "capt", "gov", "sen", "rep",
      "rev", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mme"};
  for (auto a : abbreviations)
    if (core_lower == a) return true;
  // Single-letter initials ("J.") and dotted acronyms ("U.S", "a.m").
  bool dotted = true;
  for (std::size_t i = 0; i < core_lower.size(); ++i) {
    const char c = core_lower[i];
    const bool letter = (c >= 'a' && c <= 'z');
    if (i % 2 == 0 ? !letter : c != '.') dotted = false;
  }
  return dotted && !core_lower.empty();
}

bool starts_lower(const std::string& w) { return !w.empty() && upper_first(w) != w; }

}  // namespace

bool ends_sentence(const std::string& word, const std::string* next_word) {
  const std::string_view w = strip_closers(word);
  if (w.empty()) return false;
  for (std::string_view end : {"!", "?", "\xE2\x80\xA6" /* … */, "\xE3\x80\x82" /* 。 */, "\xEF\xBC\x81" /* ！ */,
                               "\xEF\xBC\x9F" /* ？ */})
    if (ends_with(w, end)) return true;
  if (w.back() != '.') return false;
  std::string_view core = py_rstrip(w, ".");
  while (!core.empty() && (core.front() == '(' || core.front() == '"' || core.front() == '\'')) core.remove_prefix(1);
  const bool ellipsis = ends_with(w, "..");
  if (!ellipsis && is_abbreviation(py_lower(core))) return false;
  if (next_word && starts_lower(*next_word)) return false;
  return true;
}

std::vector<std::size_t> sentence_starts_by_rules(const std::vector<Word>& words) {
  std::vector<std::size_t> out;
  if (words.empty()) return out;
  out.push_back(0);
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    if (ends_sentence(words[i].text, &words[i + 1].text)) out.push_back(i + 1);
  return out;
}

namespace {

// spaCy splits leading '(' and '"' off as prefix tokens, and upstream matches the word to the
// token after them, so its sentence_char points past them.
std::size_t leading_prefix(const std::string& w) {
  std::size_t p = 0;
  while (p + 1 < w.size() && (w[p] == '(' || w[p] == '"')) ++p;
  return p;
}

}  // namespace

TextAndSentences add_text_and_sentences(std::vector<Word>& words, const std::vector<std::size_t>& sentence_starts,
                                        TextCase text_case) {
  TextAndSentences out;
  out.text.type = "Text";
  if (words.empty()) return out;
  TRIBEV2_CHECK(!sentence_starts.empty() && sentence_starts.front() == 0, "sentence starts must begin at word 0");
  for (std::size_t k = 1; k < sentence_starts.size(); ++k)
    TRIBEV2_CHECK(sentence_starts[k] > sentence_starts[k - 1] && sentence_starts[k] < words.size(),
                  "sentence starts must be increasing word indices");

  struct Piece {
    std::string text;                 // the rewritten sentence as it appears in the Text
    std::vector<std::size_t> offsets;  // word offsets in `text`
  };
  std::vector<Piece> pieces;
  for (std::size_t k = 0; k < sentence_starts.size(); ++k) {
    const std::size_t a = sentence_starts[k];
    const std::size_t b = k + 1 < sentence_starts.size() ? sentence_starts[k + 1] : words.size();
    std::string raw;
    Piece p;
    for (std::size_t i = a; i < b; ++i) {
      if (i > a) raw += ' ';
      p.offsets.push_back(raw.size());
      raw += words[i].text;
    }
    // spaCy's sent.text has no surrounding whitespace.
    const std::string_view stripped = py_strip(raw);
    const auto lead = static_cast<std::size_t>(stripped.data() - raw.data());
    for (auto& o : p.offsets) o = o >= lead ? o - lead : 0;
    if (text_case == TextCase::Capitalize) p.text = std::string(py_rstrip(py_capitalize(stripped), "."));
    else p.text = upper_first(stripped);
    pieces.push_back(std::move(p));
  }

  // The Text: pieces joined with ". " (UpperFirst also ends it with a '.').
  std::string text;
  std::vector<std::size_t> piece_at;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (k) text += ". ";
    piece_at.push_back(text.size());
    text += pieces[k].text;
  }
  if (text_case == TextCase::UpperFirst && !text.empty() && text.back() != '.') text += '.';

  // Each sentence as a substring of the Text with its trailing whitespace (spaCy's
  // text_with_ws): from its start to the next sentence's start, or the end of the Text.
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    const std::size_t a = sentence_starts[k];
    const std::size_t b = k + 1 < sentence_starts.size() ? sentence_starts[k + 1] : words.size();
    const std::size_t from = piece_at[k];
    const std::size_t to = k + 1 < pieces.size() ? piece_at[k + 1] : text.size();
    const std::string sentence = text.substr(from, to - from);
    for (std::size_t i = a; i < b; ++i) {
      Word& w = words[i];
      w.sentence = sentence;
      w.sentence_char = static_cast<std::int64_t>(pieces[k].offsets[i - a] + leading_prefix(w.text));
    }
  }

  double t_min = words.front().start, t_max = words.front().stop();
  for (const auto& w : words) {
    t_min = std::min(t_min, w.start);
    t_max = std::max(t_max, w.stop());
  }
  out.text.start = t_min;
  out.text.duration = t_max - t_min;
  out.text.text = text;
  out.sentences = extract_sentences(words);
  return out;
}

std::vector<SpanEvent> extract_sentences(const std::vector<Word>& words) {
  // A literal transcription of neuralset's _extract_sentences, including its handling of the
  // last word (always closes the current group, even when it starts a new sentence).
  constexpr double eps = 1e-6;
  std::vector<SpanEvent> out;
  std::vector<const Word*> group;
  auto char_le = [](const Word& a, const Word& b) {  // a.sentence_char <= b.sentence_char (NaN: false)
    return a.sentence_char && b.sentence_char && *a.sentence_char <= *b.sentence_char;
  };
  for (std::size_t k = 0; k < words.size(); ++k) {
    const Word& word = words[k];
    bool end = false;
    if (k + 1 == words.size()) {
      end = true;
      group.push_back(&word);
    }
    if (!group.empty()) {
      end = end || word.sentence != group.back()->sentence || char_le(word, *group.back());
      if (end) {
        const Word& w0 = *group.front();
        const Word& last = *group.back();
        if (!w0.sentence.empty())  // MISSING_SENTENCE rows are dropped
          out.push_back({"Sentence", w0.start - eps, last.start + last.duration - w0.start + 2 * eps, w0.sentence});
        group.clear();
      }
    }
    group.push_back(&word);
  }
  return out;
}

}  // namespace tribev2::events

// Transcript importers: whisperX / openai-whisper JSON, upstream's .tsv cache, JSON word lists,
// on real-shaped files and on corrupt ones.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/events/transcript.hpp"

using namespace tribev2;
using namespace tribev2::events;
using namespace tribev2::test;

namespace {

// The shape whisperX 3.x writes with --output_format json after alignment: segments with
// text (leading space), words with word/start/end/score; numerals it cannot align have no
// start/end; a quoted word; plus the top-level word_segments list and language.
const char* kWhisperX = R"({
  "segments": [
    {"start": 0.37, "end": 5.539, "text": " What brings you to the land of the \"gatekeepers\"?",
     "words": [
       {"word": "What", "start": 0.37, "end": 0.766, "score": 0.912},
       {"word": "brings", "start": 0.9, "end": 1.36, "score": 0.874},
       {"word": "you", "start": 1.63, "end": 1.903, "score": 0.99},
       {"word": "to", "start": 2.193, "end": 2.453, "score": 0.72},
       {"word": "the", "start": 2.729, "end": 3.056, "score": 0.8},
       {"word": "land", "start": 3.238, "end": 3.622, "score": 0.95},
       {"word": "of", "start": 3.829, "end": 4.117, "score": 0.6},
       {"word": "the", "start": 4.259, "end": 4.575, "score": 0.7},
       {"word": "\"gatekeepers\"?", "start": 4.762, "end": 5.539, "score": 0.81}
     ]},
    {"start": 6.138, "end": 11.078, "text": " I asked her in 1984, and she didn't answer.",
     "words": [
       {"word": "I", "start": 6.138, "end": 6.402, "score": 0.99},
       {"word": "asked", "start": 6.649, "end": 7.05, "score": 0.9},
       {"word": "her", "start": 7.16, "end": 7.472, "score": 0.9},
       {"word": "in", "start": 7.606, "end": 7.86, "score": 0.9},
       {"word": "1984,"},
       {"word": "and", "start": 8.799, "end": 9.07, "score": 0.9},
       {"word": "she", "start": 9.363, "end": 9.697, "score": 0.9},
       {"word": "didn't", "start": 10.039, "end": 10.542, "score": 0.9},
       {"word": "answer.", "start": 10.606, "end": 11.078, "score": 0.9}
     ]}
  ],
  "word_segments": [{"word": "What", "start": 0.37, "end": 0.766, "score": 0.912}],
  "language": "en"
})";

// openai-whisper with --word_timestamps True: words carry a leading space and a probability.
const char* kWhisper = R"({"text": " Hello there. General Kenobi!", "segments": [
  {"id": 0, "seek": 0, "start": 0.0, "end": 1.2, "text": " Hello there.", "tokens": [1, 2], "temperature": 0.0,
   "avg_logprob": -0.2, "compression_ratio": 0.9, "no_speech_prob": 0.01,
   "words": [{"word": " Hello", "start": 0.0, "end": 0.5, "probability": 0.9},
             {"word": " there.", "start": 0.5, "end": 1.2, "probability": 0.8}]},
  {"id": 1, "seek": 0, "start": 1.5, "end": 2.5, "text": " General Kenobi!", "tokens": [3], "temperature": 0.0,
   "avg_logprob": -0.2, "compression_ratio": 0.9, "no_speech_prob": 0.01,
   "words": [{"word": " General", "start": 1.5, "end": 2.0, "probability": 0.9},
             {"word": " Kenobi!", "start": 2.0, "end": 2.5, "probability": 0.7}]}], "language": "en"})";

}  // namespace

TEST(Transcripts, WhisperXRealShaped) {
  const Transcript t = parse_whisper_json(kWhisperX, "wx.json");
  ASSERT_EQ(t.words.size(), 17u);  // "1984," has no start: dropped, as upstream
  EXPECT_EQ(t.dropped_words, 1u);
  EXPECT_TRUE(t.has_segments);
  EXPECT_EQ(t.words[0].text, "What");
  EXPECT_DOUBLE_EQ(t.words[0].start, 0.37);
  EXPECT_NEAR(t.words[0].duration, 0.396, 1e-12);
  EXPECT_EQ(t.words[8].text, "gatekeepers?");  // '"' removed, as upstream
  EXPECT_EQ(t.words[8].sentence, " What brings you to the land of the gatekeepers?");
  EXPECT_EQ(t.words[8].sequence_id, 0);
  EXPECT_EQ(t.words[9].text, "I");
  EXPECT_EQ(t.words[9].sequence_id, 1);
  EXPECT_EQ(t.words[12].text, "in");
  EXPECT_EQ(t.words[13].text, "and");
}

TEST(Transcripts, OpenAiWhisperWordsLoseTheirLeadingSpace) {
  const Transcript t = parse_transcript(kWhisper, "w.json", ".json");
  EXPECT_EQ(t.format, TranscriptFormat::WhisperJson);
  ASSERT_EQ(t.words.size(), 4u);
  EXPECT_EQ(t.words[0].text, "Hello");
  EXPECT_EQ(t.words[3].text, "Kenobi!");
  EXPECT_EQ(t.words[3].sequence_id, 1);
}

TEST(Transcripts, UpstreamTsvRoundTripWithQuoting) {
  std::vector<Word> words(3);
  words[0] = {"Hello", 0.5, 0.25, "Hello, \"world\"\tand more.", std::nullopt, 0, ""};
  words[1] = {"world", 1.0, 0.5, "line one\nline two", std::nullopt, 0, ""};
  words[2] = {"again", 2.0, 1.0, "plain", std::nullopt, 3, ""};
  const std::string tsv = format_transcript_tsv(words);
  EXPECT_NE(tsv.find("\"Hello, \"\"world\"\"\tand more.\""), std::string::npos) << tsv;
  EXPECT_NE(tsv.find("\t1.0\t"), std::string::npos) << "pandas writes floats with a decimal point";
  const Transcript t = parse_transcript_tsv(tsv, "t.tsv");
  ASSERT_EQ(t.words.size(), 3u);
  EXPECT_TRUE(t.has_segments);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(t.words[i].text, words[i].text);
    EXPECT_EQ(t.words[i].start, words[i].start);
    EXPECT_EQ(t.words[i].duration, words[i].duration);
    EXPECT_EQ(t.words[i].sentence, words[i].sentence);
    EXPECT_EQ(t.words[i].sequence_id, words[i].sequence_id);
  }
}

TEST(Transcripts, UpstreamTsvAsPandasWritesIt) {
  // Column order of upstream's DataFrame, integer-valued floats, Windows line ends, extra column.
  const std::string tsv =
      "text\tstart\tduration\tsequence_id\tsentence\tscore\r\n"
      "What\t0.37\t0.396\t0\t What brings you here?\t0.9\r\n"
      "brings\t0.9\t0.46\t0.0\t What brings you here?\t\r\n"
      "\r\n";
  const Transcript t = parse_transcript_tsv(tsv, "cache.tsv");
  ASSERT_EQ(t.words.size(), 2u);
  EXPECT_EQ(t.words[1].text, "brings");
  EXPECT_EQ(t.words[1].sentence, " What brings you here?");
  // An empty file is an empty transcript (upstream catches pandas' EmptyDataError).
  EXPECT_TRUE(parse_transcript_tsv("", "e.tsv").words.empty());
  EXPECT_TRUE(parse_transcript_tsv("text\tstart\tduration\n", "h.tsv").words.empty());
}

TEST(Transcripts, WordLists) {
  const Transcript a = parse_transcript(R"([{"text": "a", "start": 0, "end": 0.5}, {"word": " b", "start": 1, "duration": 0.5}])",
                                        "l.json", ".json");
  EXPECT_EQ(a.format, TranscriptFormat::WordListJson);
  ASSERT_EQ(a.words.size(), 2u);
  EXPECT_EQ(a.words[1].text, "b");
  EXPECT_FALSE(a.has_segments);
  const Transcript b = parse_word_list_json(
      R"({"words": [{"text": "a", "start": 0, "duration": 1, "sequence_id": 0}, {"text": "b", "start": 1, "duration": 1, "sequence_id": 1}]})",
      "w.json");
  EXPECT_TRUE(b.has_segments);
  // The fixtures' words.json reads as a word list too.
  const Transcript f = read_transcript(fixture("text_features/ctx1024/words.json"));
  EXPECT_EQ(f.words.size(), 46u);
  EXPECT_EQ(f.words[45].text, "end.");
}

TEST(Transcripts, CorruptFilesGiveClearErrors) {
  struct Case {
    const char* ext;
    std::string text;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {".json", "{\"segments\": [", "not valid JSON"},
      {".json", "{\"segments\": {}}", "\"segments\" must be a list"},
      {".json", "{\"segments\": [3]}", "segments[0]: expected an object"},
      {".json", R"({"segments": [{"text": "hi", "words": [{"start": 1, "end": 2}]}]})", "segments[0].words[0]: needs a string 'word'"},
      {".json", R"({"segments": [{"text": "hi", "words": [{"word": "hi", "start": 1}]}]})", "has 'start' but no 'end'"},
      {".json", R"({"segments": [{"text": "hi", "words": [{"word": "hi", "start": "1", "end": 2}]}]})", "'start' must be a number"},
      {".json", R"({"segments": [{"text": "hi", "words": [{"word": "hi", "start": 2, "end": 1}]}]})", "end must not be before start"},
      {".json", R"({"segments": [{"text": "hi", "words": [{"word": "hi", "start": -1, "end": 1}]}]})", "start must be >= 0"},
      {".json", R"({"segments": [{"text": "hello there"}]})", "no word timings"},
      {".json", R"({"segments": [{"text": 5, "words": []}]})", "'text' must be a string"},
      {".json", R"({"segments": [{"text": "a", "words": {}}]})", "'words' must be a list"},
      {".json", R"("just a string")", "expected a list of words"},
      {".json", R"([{"text": "a", "start": 0}])", "needs 'duration' or 'end'"},
      {".json", R"([{"text": "a", "start": 0, "duration": 1, "sequence_id": 1.5}])", "'sequence_id' must be an integer"},
      {".json", R"([{"start": 0, "duration": 1}])", "needs a string 'text'"},
      {".json", R"([{"text": "a", "start": 1e999, "duration": 1}])", "not valid JSON"},
      {".tsv", "word\tbegin\nhi\t1\n", "must name the columns text, start and duration"},
      {".tsv", "text\tstart\tduration\nhi\tsoon\t1\n", "t.tsv:2: start must be a finite number, got 'soon'"},
      {".tsv", "text\tstart\tduration\nhi\t1\n", "t.tsv:2: 2 fields, but the header has 3"},
      {".tsv", "text\tstart\tduration\n\"hi\t1\t2\n", "unterminated quoted field"},
      {".tsv", "text\tstart\tduration\n\"hi\"x\t1\t2\n", "unexpected character after a closing quote"},
      {".tsv", "text\tstart\tduration\n\t1\t2\n", "empty word text"},
      {".tsv", "text\tstart\tduration\nhi\tnan\t2\n", "start must be a finite number"},
      {".tsv", "text\tstart\tduration\tsequence_id\nhi\t1\t2\t0.5\n", "sequence_id must be an integer"},
      {".tsv", "text\tstart\tduration\nhi\t3\t-2\n", "end must not be before start"},
      {".txt", "hello", "unsupported transcript type '.txt'"},
  };
  for (const auto& c : cases) {
    const std::string name = std::string("t") + c.ext;
    EXPECT_THROW_MSG(parse_transcript(c.text, name, c.ext), c.expect);
  }
}

TEST(Transcripts, FloatReprLikePython) {
  EXPECT_EQ(py_float_repr(1.0), "1.0");
  EXPECT_EQ(py_float_repr(0.37), "0.37");
  EXPECT_EQ(py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_float_repr(-2.5), "-2.5");
}

// `tribev2 events` and the events.json cache format (round trip and corrupt files).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/events_json.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(EventsCli, TextToEventsTsvAndJson) {
  TempDir tmp;
  write_bytes(tmp / "t.txt", "Hello there, Mr. Smith. It is 10 o'clock!");
  const auto r = run_cli({"events", "--text", (tmp / "t.txt").string(), "--out", (tmp / "ev" / "events.tsv").string(),
                          "--json", (tmp / "ev" / "events.json").string(), "--text-case", "upper-first"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("2 sentences (from rules)"), std::string::npos) << r.output;
  const auto ev = events_from_json(json::parse(read_bytes(tmp / "ev" / "events.json")), "events.json");
  ASSERT_EQ(ev.words.size(), 8u);
  EXPECT_EQ(ev.words[3].text, "Smith.");
  EXPECT_EQ(ev.words.back().context, "Hello there, Mr. Smith.. It is 10 o'clock!");
  EXPECT_EQ(ev.media.size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(ev.media[0].filepath)) << "the speech lives in the cache next to the output";
  EXPECT_TRUE(fs::is_regular_file(tmp / "ev" / "events.tsv"));
  // Round trip.
  const json again = events_to_json(ev);
  EXPECT_EQ(again, json::parse(read_bytes(tmp / "ev" / "events.json")));
  // Options are checked.
  const auto bad = run_cli({"events", "--text", (tmp / "t.txt").string(), "--out", (tmp / "e.tsv").string(),
                            "--sentences", "spacy"});
  EXPECT_NE(bad.output.find("--sentences must be auto, segments or rules"), std::string::npos) << bad.output;
  const auto seg = run_cli({"events", "--text", (tmp / "t.txt").string(), "--out", (tmp / "e.tsv").string(),
                            "--sentences", "segments"});
  EXPECT_NE(seg.output.find("has no recogniser segments"), std::string::npos) << seg.output;
  const auto tr = run_cli({"events", "--text", (tmp / "t.txt").string(), "--out", (tmp / "e.tsv").string(),
                           "--transcript", (tmp / "t.txt").string()});
  EXPECT_NE(tr.output.find("--transcript applies to audio and video inputs"), std::string::npos) << tr.output;
}

TEST(EventsJson, CorruptFiles) {
  const json good = json::parse(R"({"format": 1, "language": "english", "timeline": "default", "subject": "default",
    "media": [{"type": "Audio", "filepath": "a.wav", "start": 0, "offset": 0, "duration": 2, "frequency": 16000}],
    "spans": [{"type": "Text", "start": 0.1, "duration": 1, "text": "Hi"}],
    "words": [{"text": "Hi", "start": 0.1, "duration": 0.3, "sentence": "Hi", "sentence_char": 0, "sequence_id": 0,
               "context": "Hi"}]})");
  EXPECT_EQ(events_from_json(good, "e").words.size(), 1u);
  auto broken = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return j;
  };
  EXPECT_THROW_MSG(events_from_json(json::array(), "e.json"), "not an events file of format 1");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["format"] = 2; }), "e.json"), "format 1");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j.erase("media"); }), "e.json"), "needs a list 'media'");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["media"][0]["type"] = "Image"; }), "e.json"),
                   "media[0]: type must be Audio or Video");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["media"][0]["start"] = "0"; }), "e.json"),
                   "media[0]: needs a number 'start'");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["spans"][0] = 3; }), "e.json"), "spans[0]: expected an object");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["words"][0]["sequence_id"] = 0.5; }), "e.json"),
                   "words[0]: needs an integer 'sequence_id'");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["words"][0]["sentence_char"] = "x"; }), "e.json"),
                   "'sentence_char' must be an integer or null");
  EXPECT_THROW_MSG(events_from_json(broken([](json& j) { j["words"][0].erase("context"); }), "e.json"),
                   "needs a string 'context'");
}

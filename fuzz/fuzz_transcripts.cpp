// libFuzzer target for the transcript importers (whisper/whisperX JSON, JSON word lists,
// upstream's .tsv transcript cache), the events cache file (events.json) and events.tsv read
// back (what the figures, movie and viewer read). Every input must
// either parse or throw tribev2::Error; nothing may crash, hang or read out of bounds. What
// parses is pushed through the events transforms and the TSV writers as well.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/events/word_events.hpp"
#include "tribev2/pipeline/events_json.hpp"

namespace {

void exercise(const tribev2::events::Transcript& t) {
  using namespace tribev2::events;
  (void)format_transcript_tsv(t.words);
  if (t.words.size() > 2000) return;  // keep each run fast
  Events ev;
  const std::vector<MediaEvent> chunks = chunk_media({"Audio", "a.wav", 0.0, 0.0, 100.0, 16000.0});
  ev.media = chunks;
  WordEventOptions o;
  o.placement = WordPlacement::ReferenceQuirk;
  add_word_events(ev, t, chunks, o);
  // What we write must read back.
  (void)parse_events_tsv(format_events_tsv(ev), "fuzz-roundtrip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* ext : {".json", ".tsv"}) {
    try {
      exercise(tribev2::events::parse_transcript(text, "fuzz", ext));
    } catch (const tribev2::Error&) {
    }
  }
  try {
    (void)tribev2::events::parse_events_tsv(text, "fuzz");
  } catch (const tribev2::Error&) {
  }
  try {
    const auto j = nlohmann::json::parse(text.begin(), text.end());
    (void)tribev2::pipeline::events_from_json(j, "fuzz");
  } catch (const nlohmann::json::exception&) {
  } catch (const tribev2::Error&) {
  }
  return 0;
}

#include "tribev2/pipeline/build_events.hpp"

#include <chrono>
#include <cmath>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/media/audio.hpp"
#include "tribev2/media/video.hpp"
#include "tribev2/pipeline/events_json.hpp"
#include "tribev2/pipeline/hash.hpp"
#include "tribev2/pipeline/tts.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

std::string tribev2_version() { return TRIBEV2_PIPELINE_VERSION; }

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string short_key(const std::string& key) { return key.substr(0, 12); }

std::string word_list_json(const std::vector<events::Word>& words) {
  json list = json::array();
  for (const auto& w : words) list.push_back({{"text", w.text}, {"start", w.start}, {"duration", w.duration}});
  return json{{"words", list}}.dump(1) + "\n";
}

struct SpeechEntry {
  fs::path wav;
  int sample_rate = 0;
  double duration = 0.0;
  events::Transcript words;
};

SpeechEntry speech_stage(const Stimulus& s, const std::string& text_sha, const EventsOptions& o, StageCache& cache,
                         const Observer& obs, BuiltEvents& out) {
  const double t0 = now_s();
  SpeechOptions so;
  so.voice = o.voice.empty() ? o.language.voice : o.voice;
  so.rate_wpm = o.speech_rate_wpm;
  const std::string engine = espeak_version();
  const std::string key = CacheKey("speech")
                              .precision_independent()  // espeak-ng
                              .set("format", kPipelineFormat)
                              .set("text_sha256", text_sha)
                              .set("voice", so.voice)
                              .set("rate_wpm", so.rate_wpm)
                              .set("engine", engine)
                              .hex();
  out.transcript_source = engine + " (voice " + so.voice + ")";
  SpeechEntry e;
  std::string status = "cached";
  auto dir = cache.find("speech", key);
  if (!dir) {
    status = "computed";
    obs.say("speech: synthesising " + std::to_string(s.text.size()) + " bytes of text with " + engine + ", voice " +
            so.voice);
    const Speech sp = synthesize_speech(s.text, so);
    const json meta = {{"sample_rate", sp.sample_rate}, {"n_samples", sp.samples.size()}, {"duration", sp.duration()},
                       {"engine", engine}, {"voice", so.voice}, {"words", sp.words.size()}};
    dir = cache.store("speech", key, meta, [&](const fs::path& d) {
      media::AudioBuffer b{sp.sample_rate, 1, std::vector<float>(sp.samples.size())};
      for (std::size_t i = 0; i < b.samples.size(); ++i) b.samples[i] = static_cast<float>(sp.samples[i]) / 32768.0f;
      media::write_wav(d / "speech.wav", b);  // int16 / 32768 round-trips exactly
      io::write_text_file_atomic(d / "words.json", word_list_json(sp.words));
    });
  }
  const json meta = io::read_json_object(*dir / "entry.json");
  e.wav = *dir / "speech.wav";
  e.sample_rate = meta.at("sample_rate").get<int>();
  e.duration = meta.at("duration").get<double>();
  e.words = events::parse_word_list_json(io::read_text_file(*dir / "words.json"), (*dir / "words.json").string());
  e.words.has_segments = false;
  out.stages.push_back({"speech", status, now_s() - t0, key,
                        std::to_string(e.words.words.size()) + " words, " + std::to_string(e.duration) + " s"});
  obs.say("speech: " + status + " (" + out.stages.back().detail + ", key " + short_key(key) + ")");
  return e;
}

events::Transcript transcript_stage(const fs::path& audio, const std::string& audio_sha, const EventsOptions& o,
                                    StageCache& cache, Cleanup& cleanup, const Observer& obs, BuiltEvents& out) {
  const double t0 = now_s();
  if (!o.transcript.empty()) {
    events::Transcript t = events::read_transcript(o.transcript);
    out.transcript_source = "file " + o.transcript.string() + " (" + events::to_string(t.format) + ")";
    out.stages.push_back({"transcript", "from-file", now_s() - t0, sha256_file(o.transcript),
                          std::to_string(t.words.size()) + " words from " + o.transcript.string()});
    obs.say("transcript: from " + o.transcript.string() + " (" + std::to_string(t.words.size()) + " words)");
    return t;
  }
  obs.say("transcript: speech recognition on " + audio.filename().string() + " (may take a while)");
  AsrResult r = transcribe(audio, audio_sha, o.language, o.asr, cache, cleanup);
  out.transcript_source = r.command.substr(0, r.command.find(' '));
  out.transcript_command = r.command;
  const std::string key = asr_key(audio_sha, find_asr_tool(o.asr), o.language, o.asr).hex();
  out.stages.push_back({"transcript", r.cached ? "cached" : "computed", now_s() - t0, key,
                        std::to_string(r.transcript.words.size()) + " words; " + r.command});
  obs.say("transcript: " + std::string(r.cached ? "cached" : "computed") + " (" +
          std::to_string(r.transcript.words.size()) + " words, key " + short_key(key) + ")");
  return std::move(r.transcript);
}

// The audio track of a video as upstream's ExtractAudioFromVideo writes it (moviepy: 44.1 kHz,
// 16-bit PCM, the source's channels), cached by the video's content hash.
fs::path audio_track_stage(const fs::path& video, const std::string& video_sha, StageCache& cache, const Observer& obs,
                           BuiltEvents& out, double& duration, int& rate) {
  const double t0 = now_s();
  const std::string key = CacheKey("audio-track")
                              .precision_independent()  // decoding
                              .set("format", kPipelineFormat)
                              .set("video_sha256", video_sha)
                              .hex();
  std::string status = "cached";
  auto dir = cache.find("audio-track", key);
  if (!dir) {
    status = "computed";
    const media::AudioBuffer a = media::decode_audio_like_moviepy(video);
    const json meta = {{"sample_rate", a.sample_rate}, {"channels", a.channels}, {"frames", a.frames()},
                       {"duration", a.duration()}};
    dir = cache.store("audio-track", key, meta,
                      [&](const fs::path& d) { media::write_wav(d / "audio.wav", a); });  // 16-bit: int16 values exactly
  }
  const json meta = io::read_json_object(*dir / "entry.json");
  duration = meta.at("duration").get<double>();
  rate = meta.at("sample_rate").get<int>();
  out.stages.push_back({"audio-track", status, now_s() - t0, key, std::to_string(duration) + " s"});
  obs.say("audio track: " + status + " (" + std::to_string(duration) + " s, key " + short_key(key) + ")");
  return *dir / "audio.wav";
}

std::string transcript_sha(const events::Transcript& t) {
  return sha256_hex(events::format_transcript_tsv(t.words) + (t.has_segments ? "segments" : "no-segments"));
}

}  // namespace

AudioTrack video_audio_track(const fs::path& video, StageCache& cache) {
  BuiltEvents unused;
  AudioTrack t;
  t.wav = audio_track_stage(video, sha256_file(video), cache, Observer{}, unused, t.duration, t.sample_rate);
  return t;
}

BuiltEvents build_events(const Stimulus& s, const EventsOptions& o, StageCache& cache, Cleanup& cleanup,
                         const Observer& obs) {
  BuiltEvents out;
  double t0 = now_s();
  out.stimulus_sha256 = s.kind == StimulusKind::Text ? sha256_hex(s.text) : sha256_file(s.path);
  out.stages.push_back({"input", "hashed", now_s() - t0, out.stimulus_sha256, to_string(s.kind) + " " + s.path.string()});
  obs.say("input: " + to_string(s.kind) + " " + s.path.string() + " (sha256 " + out.stimulus_sha256.substr(0, 12) + ")");
  if (s.kind == StimulusKind::Text && !o.transcript.empty())
    fail("--transcript applies to audio and video inputs; a text input gets its word timings from speech synthesis");

  events::Transcript transcript;
  std::vector<events::MediaEvent> whole;
  if (s.kind == StimulusKind::Text) {
    SpeechEntry e = speech_stage(s, out.stimulus_sha256, o, cache, obs, out);
    whole.push_back({"Audio", e.wav, 0.0, 0.0, e.duration, static_cast<double>(e.sample_rate)});
    out.speech_audio = e.wav;
    transcript = std::move(e.words);
  } else if (s.kind == StimulusKind::Audio) {
    transcript = transcript_stage(s.path, out.stimulus_sha256, o, cache, cleanup, obs, out);
    const media::AudioInfo info = media::probe_audio(s.path);
    whole.push_back({"Audio", fs::absolute(s.path), 0.0, 0.0, info.duration, static_cast<double>(info.sample_rate)});
    out.speech_audio = s.path;
  } else {
    const media::VideoInfo info = media::probe_video(s.path);
    whole.push_back({"Video", fs::absolute(s.path), 0.0, 0.0, info.duration, info.fps});
    if (info.has_audio) {
      double duration = 0.0;
      int rate = 0;
      const fs::path wav = audio_track_stage(s.path, out.stimulus_sha256, cache, obs, out, duration, rate);
      whole.push_back({"Audio", wav, 0.0, 0.0, duration, static_cast<double>(rate)});
      out.speech_audio = wav;
      transcript = transcript_stage(wav, sha256_file(wav), o, cache, cleanup, obs, out);
    } else {
      obs.say("video: no audio track: no Audio or Word events (audio and text will be missing, as upstream)");
      if (!o.transcript.empty()) obs.say("video: --transcript ignored: there is no audio to place its words on");
    }
  }
  out.transcript = transcript.words;
  if (transcript.dropped_words)
    obs.say("transcript: " + std::to_string(transcript.dropped_words) +
            " word(s) without a timing or without text were dropped (as upstream)");

  t0 = now_s();
  json media_desc = json::array();
  for (const auto& m : whole)
    media_desc.push_back({m.type, m.filepath.string(), m.start, m.offset, m.duration, m.frequency});
  const std::string key =
      CacheKey("events")
          .precision_independent()  // event tables, no arithmetic on features
          .set("format", kPipelineFormat)
          .set("media", media_desc)
          .set("transcript_sha256", transcript_sha(transcript))
          .set("language", o.language.name)
          .set("placement", o.words.placement == events::WordPlacement::Corrected ? "corrected" : "reference-quirk")
          .set("sentences", events::to_string(o.words.sentences))
          .set("text_case", events::to_string(o.words.text_case))
          .set("max_context_len", o.words.max_context_len)
          .hex();
  std::string status = "cached";
  auto dir = cache.find("events", key);
  if (!dir) {
    status = "computed";
    events::Events ev;
    ev.language = o.language.name;
    for (const auto& m : whole) {
      const auto chunks = events::chunk_media(m);
      ev.media.insert(ev.media.end(), chunks.begin(), chunks.end());
      if (m.type == "Audio") out.words_report = events::add_word_events(ev, transcript, chunks, o.words);
    }
    const json meta = {{"words", ev.words.size()},
                       {"sentences_from", events::to_string(out.words_report.sentences_used)},
                       {"n_sentences", out.words_report.n_sentences},
                       {"removed_words", out.words_report.removed_words}};
    dir = cache.store("events", key, meta, [&](const fs::path& d) {
      io::write_text_file_atomic(d / "events.json", events_to_json(ev).dump(1) + "\n");
    });
  }
  const fs::path ev_file = *dir / "events.json";
  out.events = events_from_json(io::read_json_object(ev_file), ev_file.string());
  const json meta = io::read_json_object(*dir / "entry.json");
  out.words_report.sentences_used = events::parse_sentence_source(meta.value("sentences_from", "rules"));
  out.words_report.n_sentences = meta.value("n_sentences", std::size_t{0});
  out.words_report.removed_words = meta.value("removed_words", std::size_t{0});
  std::size_t n_chunks = 0;
  for (const auto& m : out.events.media) n_chunks += m.type == "Audio" ? 1 : 0;
  std::string detail = std::to_string(out.events.words.size()) + " words, " +
                       std::to_string(out.words_report.n_sentences) + " sentences (from " +
                       events::to_string(out.words_report.sentences_used) + "), " + std::to_string(n_chunks) +
                       " audio chunk(s)";
  if (!out.events.media.empty() || !out.events.words.empty())
    detail += ", timeline [" + std::to_string(out.events.start()) + ", " + std::to_string(out.events.stop()) + ") s";
  out.stages.push_back({"events", status, now_s() - t0, key, detail});
  obs.say("events: " + status + " (" + detail + ")");
  if (out.words_report.removed_words)
    obs.say("events: RemoveMissing dropped " + std::to_string(out.words_report.removed_words) + " word(s) without context");
  return out;
}

}  // namespace tribev2::pipeline

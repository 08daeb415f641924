// Stimulus -> events (reference-semantics section 1.2): the media events, the word timings
// (speech synthesis for text, speech recognition or --transcript for audio and video) and
// the events transforms. Every expensive step is cached.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tribev2/events/word_events.hpp"
#include "tribev2/pipeline/asr.hpp"
#include "tribev2/pipeline/cache.hpp"
#include "tribev2/pipeline/language.hpp"
#include "tribev2/pipeline/report.hpp"
#include "tribev2/pipeline/stimulus.hpp"

namespace tribev2::pipeline {

struct EventsOptions {
  Language language = parse_language("en");
  std::string voice;                       // espeak-ng voice; empty: the language's
  int speech_rate_wpm = 175;
  std::filesystem::path transcript;        // --transcript: skip speech recognition
  AsrOptions asr;
  events::WordEventOptions words;
};

struct BuiltEvents {
  events::Events events;
  std::string stimulus_sha256;             // content hash of the input file
  std::filesystem::path speech_audio;      // the audio the words were timed on
  std::string transcript_source;           // "espeak-ng ...", "whisperx", "file"
  std::string transcript_command;          // the recogniser's command line, if it ran
  std::vector<events::Word> transcript;    // in file time, as imported / recognised
  events::WordEventsReport words_report;
  std::vector<StageRecord> stages;
};

// Version of the pipeline's own code in cache keys; bump when a stage's results change.
inline constexpr int kPipelineFormat = 1;
std::string tribev2_version();

BuiltEvents build_events(const Stimulus& stimulus, const EventsOptions& options, StageCache& cache, Cleanup& cleanup,
                         const Observer& observer);

// The audio track of a video as upstream's ExtractAudioFromVideo writes it (moviepy: 44.1 kHz,
// 16-bit PCM WAV), from the cache's "audio-track" stage (extracted when absent): the file the
// Audio events of a video point to in `run`, so `audio-features` on a video keys the same.
struct AudioTrack {
  std::filesystem::path wav;
  double duration = 0.0;
  int sample_rate = 0;
};
AudioTrack video_audio_track(const std::filesystem::path& video, StageCache& cache);

}  // namespace tribev2::pipeline

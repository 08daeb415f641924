// The stimulus behind a prediction, as the figures, the movie and the viewer show it: the video
// and audio files, where they sit on the timeline, and the words with their onsets. Read from a
// `tribev2 run` output folder (events.tsv; speech.wav for a text stimulus) or from an events.tsv
// plus media files given on the command line. Decoding for the figure's stimulus rows lives here
// because it joins media, events and viz (the CLI is the layer that sees all three).
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tribev2/viz/figure.hpp"

namespace tribev2::cli {

struct StimulusWord {
  double start = 0, duration = 0;
  std::string text;
};

struct StimulusSource {
  std::filesystem::path video, audio;  // empty when absent
  double video_origin = 0, audio_origin = 0;  // timeline time of the file's t = 0 (start - offset)
  std::vector<StimulusWord> words;     // sorted by start
};

// The columns type, start, duration, filepath, offset, text of an events.tsv as `tribev2 run`
// writes it (pandas' quoting). Media paths are taken as written; relative ones from `base`.
StimulusSource read_stimulus_events(const std::filesystem::path& events_tsv);

// From a run output folder: DIR/events.tsv, and DIR/speech.wav as the audio of a text stimulus.
StimulusSource stimulus_from_run_dir(const std::filesystem::path& dir);

// Overrides from the command line (--video / --audio), checked to exist.
void override_media(StimulusSource& s, const std::string& video, const std::string& audio);

// upstream's plot_stimuli rows for the blocks drawn at `block_times` over the span
// [span_start, span_stop): the video frame at each block's start, the mono waveform of the span,
// the words starting inside it. `max_frame_px` bounds the frame size kept (longest side).
viz::StimulusStrip build_stimulus_strip(const StimulusSource& s, std::span<const double> block_times, double span_start,
                                        double span_stop, int max_frame_px = 480);

// upstream's get_text(segment) for the window [start, stop): the words whose onset lies in it
// (filter (0, 1) of the window), lower case, punctuation removed, joined by spaces; then the
// last `last_n` words (plot_timesteps_mp4 shows 8).
std::string caption_for(const StimulusSource& s, double start, double stop, int last_n = 8);

}  // namespace tribev2::cli

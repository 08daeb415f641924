#include "stimuli.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "tribev2/core/error.hpp"
#include <cctype>
#include "tribev2/events/event_table.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/media/audio.hpp"
#include "tribev2/media/video.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

StimulusSource read_stimulus_events(const fs::path& path) {
  const std::string name = path.string();
  TRIBEV2_CHECK(fs::is_regular_file(path), name, ": no such events file (expected an events.tsv from `tribev2 run`)");
  StimulusSource s;
  const fs::path base = path.parent_path();
  for (const auto& row : events::parse_events_tsv(io::read_text_file(path), name)) {
    if (row.type == "Word") {
      s.words.push_back({row.start, row.duration, row.text});
    } else if (row.type == "Video" || row.type == "Audio") {
      fs::path f = row.filepath;
      if (f.is_relative()) f = base / f;
      const double origin = row.start - row.offset;
      // Chunks of one file share the origin; the first event of each kind is the file shown.
      if (row.type == "Video" && s.video.empty()) s.video = f, s.video_origin = origin;
      if (row.type == "Audio" && s.audio.empty()) s.audio = f, s.audio_origin = origin;
    }
  }
  std::stable_sort(s.words.begin(), s.words.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return s;
}

StimulusSource stimulus_from_run_dir(const fs::path& dir) {
  TRIBEV2_CHECK(fs::is_directory(dir), dir.string(), ": not a folder (expected the output folder of `tribev2 run`)");
  StimulusSource s = read_stimulus_events(dir / "events.tsv");
  // A text stimulus is spoken by espeak-ng; run keeps that speech as speech.wav.
  if (s.audio.empty() || !fs::exists(s.audio))
    if (fs::exists(dir / "speech.wav")) s.audio = dir / "speech.wav", s.audio_origin = 0;
  return s;
}

void override_media(StimulusSource& s, const std::string& video, const std::string& audio) {
  if (!video.empty()) {
    TRIBEV2_CHECK(fs::is_regular_file(video), video, ": no such video file");
    s.video = video;
    s.video_origin = 0;
    if (audio.empty() && media::probe_video(video).has_audio) s.audio = video, s.audio_origin = 0;
  }
  if (!audio.empty()) {
    TRIBEV2_CHECK(fs::is_regular_file(audio), audio, ": no such audio file");
    s.audio = audio;
    s.audio_origin = 0;
  }
}

viz::StimulusStrip build_stimulus_strip(const StimulusSource& s, std::span<const double> block_times, double span_start,
                                        double span_stop, int max_frame_px) {
  TRIBEV2_CHECK(span_stop > span_start, "stimulus strip: empty time span [", span_start, ", ", span_stop, ")");
  viz::StimulusStrip strip;
  if (!s.video.empty()) {
    TRIBEV2_CHECK(fs::is_regular_file(s.video), s.video.string(), ": the stimulus video is missing (pass --video FILE)");
    media::VideoReader reader(s.video, 8);
    for (double t : block_times) {
      // upstream: get_clip(segment).get_frame(0), the frame shown at the segment's start.
      const Tensor f = reader.frame(reader.frame_index_at(std::max(0.0, t - s.video_origin)));
      const int h = static_cast<int>(f.dim(0)), w = static_cast<int>(f.dim(1));
      // Keep at most max_frame_px on the longest side (box filter); the figure scales it anyway.
      const int step = std::max(1, (std::max(w, h) + max_frame_px - 1) / max_frame_px);
      viz::StimulusStrip::Image img;
      img.width = w / step;
      img.height = h / step;
      img.source_width = w;
      img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
      const std::uint8_t* src = f.data<std::uint8_t>();
      for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
          for (int c = 0; c < 3; ++c) {
            int sum = 0;
            for (int dy = 0; dy < step; ++dy)
              for (int dx = 0; dx < step; ++dx)
                sum += src[(static_cast<std::size_t>(y * step + dy) * w + static_cast<std::size_t>(x * step + dx)) * 3 + c];
            img.rgb[(static_cast<std::size_t>(y) * img.width + x) * 3 + c] = static_cast<std::uint8_t>(sum / (step * step));
          }
      strip.frames.push_back(std::move(img));
    }
  }
  if (!s.audio.empty()) {
    TRIBEV2_CHECK(fs::is_regular_file(s.audio), s.audio.string(), ": the stimulus audio is missing (pass --audio FILE)");
    // upstream: get_audio(first segment, stop_offset = the rest of the span), mono mean.
    const double off = std::max(0.0, span_start - s.audio_origin);
    const double dur = span_stop - std::max(span_start, s.audio_origin);
    const media::AudioInfo info = media::probe_audio(s.audio);
    if (dur > 0 && off < info.duration) {
      const media::AudioBuffer a = media::decode_audio(s.audio, off, std::min(dur, info.duration - off));
      strip.waveform.resize(static_cast<std::size_t>(a.frames()));
      for (std::int64_t i = 0; i < a.frames(); ++i) {
        double sum = 0;
        for (int c = 0; c < a.channels; ++c) sum += a.samples[static_cast<std::size_t>(i * a.channels + c)];
        strip.waveform[static_cast<std::size_t>(i)] = static_cast<float>(sum / a.channels);
      }
    }
  }
  for (const auto& w : s.words) {
    if (w.start < span_start || w.start >= span_stop) continue;  // upstream skips words before the span
    strip.words.push_back({(w.start - span_start) / (span_stop - span_start), w.text});
  }
  return strip;
}

std::string caption_for(const StimulusSource& s, double start, double stop, int last_n) {
  std::vector<std::string> words;
  const double dur = stop - start;
  for (const auto& w : s.words) {
    const double rel = dur > 0 ? (w.start - start) / dur : -1;
    if (rel < 0 || rel > 1) continue;
    // Python's re.sub(r"[^\w\s]", "", text.lower()): ASCII punctuation and symbols go; letters,
    // digits, underscores and non-ASCII characters (word characters in Python) stay.
    std::string t;
    for (unsigned char c : w.text) {
      if (c >= 0x80 || std::isalnum(c) || c == '_' || std::isspace(c)) t += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    }
    words.push_back(t);
  }
  std::string out;
  const std::size_t first = words.size() > static_cast<std::size_t>(last_n) ? words.size() - last_n : 0;
  for (std::size_t i = first; i < words.size(); ++i) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

}  // namespace tribev2::cli

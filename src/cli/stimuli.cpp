#include "stimuli.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "tribev2/core/error.hpp"
#include <cctype>
#include "tribev2/io/file.hpp"
#include "tribev2/media/audio.hpp"
#include "tribev2/media/video.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

namespace {

// Rows of a TSV with pandas' QUOTE_MINIMAL quoting (a quoted field may hold tabs, newlines and
// doubled quotes).
std::vector<std::vector<std::string>> split_tsv(const std::string& text, const std::string& name) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, at_start = true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
        else quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && at_start) {
      quoted = true;
      at_start = false;
    } else if (c == '\t') {
      row.push_back(std::move(field));
      field.clear();
      at_start = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      at_start = true;
    } else {
      field += c;
      at_start = false;
    }
  }
  if (quoted) fail(name, ": unterminated quoted field");
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

double to_double(const std::string& s, const std::string& name, std::size_t line, const char* column) {
  if (s.empty()) return 0.0;
  std::size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || !std::isfinite(v)) fail(name, ": line ", line, ": column ", column, " is not a finite number: '", s, "'");
  return v;
}

}  // namespace

StimulusSource read_stimulus_events(const fs::path& path) {
  const std::string name = path.string();
  TRIBEV2_CHECK(fs::is_regular_file(path), name, ": no such events file (expected an events.tsv from `tribev2 run`)");
  const auto rows = split_tsv(io::read_text_file(path), name);
  TRIBEV2_CHECK(!rows.empty(), name, ": empty file (expected a header with type, start, duration, filepath, offset, text)");
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < rows[0].size(); ++i) col[rows[0][i]] = i;
  for (const char* need : {"type", "start", "duration"})
    TRIBEV2_CHECK(col.count(need), name, ": the header has no '", need, "' column");
  auto get = [&](const std::vector<std::string>& r, const char* c) -> std::string {
    const auto it = col.find(c);
    return it == col.end() || it->second >= r.size() ? std::string() : r[it->second];
  };
  StimulusSource s;
  const fs::path base = path.parent_path();
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.size() == 1 && r[0].empty()) continue;
    TRIBEV2_CHECK(r.size() == rows[0].size(), name, ": line ", i + 1, " has ", r.size(), " fields, the header ", rows[0].size());
    const std::string type = get(r, "type");
    const double start = to_double(get(r, "start"), name, i + 1, "start");
    const double duration = to_double(get(r, "duration"), name, i + 1, "duration");
    if (type == "Word") {
      s.words.push_back({start, duration, get(r, "text")});
    } else if (type == "Video" || type == "Audio") {
      fs::path f = get(r, "filepath");
      TRIBEV2_CHECK(!f.empty(), name, ": line ", i + 1, ": a ", type, " event without a filepath");
      if (f.is_relative()) f = base / f;
      const double origin = start - to_double(get(r, "offset"), name, i + 1, "offset");
      // Chunks of one file share the origin; the first event of each kind is the file shown.
      if (type == "Video" && s.video.empty()) s.video = f, s.video_origin = origin;
      if (type == "Audio" && s.audio.empty()) s.audio = f, s.audio_origin = origin;
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

#include "tribev2/media/video_timing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tribev2::media {

std::string ffmpeg_fps_text(double rate) {
  // libavformat/dump.c print_fps: v = lrintf(d * 100) decides the format.
  const auto v = static_cast<std::uint64_t>(std::lrintf(static_cast<float>(rate * 100)));
  char buf[64];
  if (!v) std::snprintf(buf, sizeof(buf), "%1.4f", rate);
  else if (v % 100) std::snprintf(buf, sizeof(buf), "%3.2f", rate);
  else if (v % (100 * 1000)) std::snprintf(buf, sizeof(buf), "%1.0f", rate);
  else std::snprintf(buf, sizeof(buf), "%1.0fk", rate / 1000);
  return buf;
}

namespace {

// moviepy's regexes: " (\d+.?\d*) fps" (a trailing "k" makes float() fail, so "fps" falls
// back to tbr) and " (\d+.?\d*k?) tbr" (k multiplies by 1000).
std::optional<double> parse_fps_text(const std::string& text, bool allow_k) {
  if (text.empty()) return std::nullopt;
  if (text.back() == 'k') {
    if (!allow_k) return std::nullopt;
    return std::strtod(text.substr(0, text.size() - 1).c_str(), nullptr) * 1000.0;
  }
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

std::optional<double> moviepy_fps(double avg_frame_rate, double r_frame_rate) {
  std::optional<double> fps;
  if (avg_frame_rate > 0) fps = parse_fps_text(ffmpeg_fps_text(avg_frame_rate), false);
  if (!fps && r_frame_rate > 0) fps = parse_fps_text(ffmpeg_fps_text(r_frame_rate), true);
  if (!fps) return std::nullopt;
  const double coef = 1000.0 / 1001.0;
  double f = *fps;
  for (int x : {23, 24, 25, 30, 50})
    if (f != x && std::abs(f - x * coef) < 0.01) f = x * coef;
  return f;
}

double moviepy_duration(std::int64_t duration_us) {
  // libavformat/dump.c: duration + 5000 us, then whole seconds and centiseconds.
  const std::int64_t d = duration_us + (duration_us <= INT64_MAX - 5000 ? 5000 : 0);
  std::int64_t secs = d / 1000000;
  const std::int64_t us = d % 1000000;
  std::int64_t mins = secs / 60;
  secs %= 60;
  const std::int64_t hours = mins / 60;
  mins %= 60;
  char ss[32];
  std::snprintf(ss, sizeof(ss), "%02lld.%02lld", static_cast<long long>(secs),
                static_cast<long long>((100 * us) / 1000000));
  // moviepy convert_to_seconds: sum(mult * part) over (1, 60, 3600) x reversed parts.
  double total = 0.0;
  total += 1.0 * std::strtod(ss, nullptr);
  total += 60.0 * static_cast<double>(mins);
  total += 3600.0 * static_cast<double>(hours);
  return total;
}

std::int64_t moviepy_frame_index(double fps, double t, std::int64_t n_frames) {
  const double x = fps * t + 0.00001;
  std::int64_t i = !(x > 0) ? 0 : static_cast<std::int64_t>(std::min(x, 9.0e18));  // NaN -> 0
  if (n_frames > 0 && i > n_frames - 1) i = n_frames - 1;
  return i;
}

}  // namespace tribev2::media

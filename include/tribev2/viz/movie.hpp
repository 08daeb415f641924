// MP4 movies of a prediction time series: one figure per frame (same layout, colour limits
// fixed over the whole series), encoded with the FFmpeg libraries as H.264 (libavcodec's
// libx264 encoder) or, where that encoder is missing, MPEG-4 Part 2 with a warning.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/viz/figure.hpp"

namespace tribev2::viz {

struct MovieOptions {
  FigureOptions figure;           // layout, colormap, limits (computed over all rows), ...
  double fps = 1.0;               // video frames per second
  int frames_per_row = 1;         // > 1: linearly interpolated frames between rows
  // One caption per row (upstream's plot_timesteps_mp4 with segments: the last 8 words of the
  // segment), shown on every frame of that row; empty: none.
  std::vector<std::string> captions;
  int crf = 18;                   // libx264 quality (upstream uses 18)
  std::string preset = "medium";  // libx264 speed/size trade-off (ultrafast ... veryslow)
  std::string encoder = "auto";   // auto | libx264 | mpeg4
  std::function<void(std::int64_t, std::int64_t)> progress;  // (frames done, total)
  std::function<void(const std::string&)> log;
};

// upstream's plot_timesteps_mp4(interpolated_fps=F) (ffmpeg's minterpolate from 1 frame per row
// to F fps), as the CLI's `movie --interpolated-fps` and the Python package do it: F frames per
// row blended linearly between the rows, played at F fps: (n - 1) * F + 1 frames (ffmpeg 5.1's
// minterpolate drops the last row: (n - 2) * F + 1). F is rounded to a whole number and must
// lie in [1, 120]; `what` names the option in the error.
void set_interpolated_fps(MovieOptions& options, double fps, std::string_view what = "interpolated_fps");

// `rows` is [n_rows * 20484] (row-major), `row_times` the start of each row in seconds (empty:
// row i starts at i seconds). Returns the encoder used.
std::string write_movie(const Context& ctx, const BrainSurface& surface, std::span<const float> rows,
                        std::int64_t n_rows, std::span<const double> row_times, const MovieOptions& options,
                        const std::filesystem::path& out);

// Low-level H.264/MPEG-4 writer of BGRA frames (exposed for tests and benchmarks).
class Mp4Writer {
 public:
  Mp4Writer(const std::filesystem::path& path, int width, int height, double fps, const std::string& encoder, int crf,
            int threads, const std::string& preset = "medium");
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;
  void add_frame(std::span<const std::uint8_t> bgra, int stride);
  void finish();
  const std::string& encoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tribev2::viz

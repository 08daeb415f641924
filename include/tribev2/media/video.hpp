// Video decoding with the FFmpeg libraries (implementation: src/media/video*.cpp).
//
// Frames are addressed by their index in display order and returned as RGB uint8
// [H, W, 3] tensors in display orientation (rotation metadata applied, as the ffmpeg CLI
// that moviepy pipes from does). Timing follows upstream's moviepy reader; see
// docs/video-features.md for every rule and for what happens with variable frame rates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "tribev2/core/tensor.hpp"

namespace tribev2::media {

struct VideoInfo {
  double fps = 0.0;            // as moviepy reports it (stream average/real frame rate)
  std::int64_t n_frames = 0;   // decodable frames
  double duration = 0.0;       // seconds, as moviepy's clip.duration
  int width = 0, height = 0;   // display size (after rotation metadata)
  bool has_audio = false;
  std::string codec;
  std::string container;

  // Additional facts (not in moviepy):
  double avg_frame_rate = 0.0;      // the stream's average frame rate, exact (0 if unknown)
  double r_frame_rate = 0.0;        // the stream's "real base" frame rate (ffmpeg's tbr)
  double container_duration = 0.0; // seconds, unrounded (0 if the container does not say)
  double start_time = 0.0;          // presentation time of the first frame, seconds
  int rotation = 0;                 // clockwise degrees applied to the coded frames: 0/90/180/270
  int coded_width = 0, coded_height = 0;
  bool variable_frame_rate = false; // frame timestamps do not follow index / avg_frame_rate
};

// How a time maps to a frame when the file has a variable frame rate (cf. reference Q9).
// Constant-frame-rate files always use moviepy's rule min(int(fps * t + 1e-5), n_frames - 1).
enum class VfrPolicy {
  Timestamps,  // the frame on screen at t: the last frame whose timestamp <= t (+1e-5) [default]
  Ordinal,     // moviepy's index rule on the decoded frame sequence, ignoring timestamps
};

struct VideoReaderOptions {
  std::size_t cache_frames = 256;              // decoded RGB frames kept
  std::size_t cache_bytes = std::size_t{512} << 20;  // ... and at most this many bytes of them
  VfrPolicy vfr = VfrPolicy::Timestamps;
  int decoder_threads = 0;                     // 0: FFmpeg's choice
  std::int64_t max_pixels = std::int64_t{1} << 27;  // larger pictures are refused (hostile input)
};

VideoInfo probe_video(const std::filesystem::path& path);

// How much the FFmpeg libraries print to stderr (their own process-wide setting): warnings
// about damaged packets are useful on the command line, noise elsewhere.
enum class DecoderLog { Quiet, Errors, Warnings };
void set_decoder_log(DecoderLog level);

// Random access to frames by index in display order, as RGB uint8 [H, W, 3] tensors. Frames
// are decoded once, sequentially, and kept in a bounded cache so that overlapping 64-frame
// windows reuse them. Access in increasing index order never re-decodes; a jump forward
// seeks to the nearest key frame; a jump backwards to a frame no longer cached seeks back.
class VideoReader {
 public:
  explicit VideoReader(const std::filesystem::path& path, std::size_t cache_frames = 256);
  VideoReader(const std::filesystem::path& path, const VideoReaderOptions& options);
  // Decodes an in-memory file (the fuzzer's entry); `name` is used in error messages.
  VideoReader(std::span<const std::byte> bytes, const std::string& name, const VideoReaderOptions& options);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;
  // upstream (moviepy 2.x get_frame) index of the frame shown at time t seconds:
  // min(int(fps * t + 1e-5), n_frames - 1).
  std::int64_t frame_index_at(double t) const;
  // Presentation time of frame `index` relative to the first frame, seconds.
  double frame_time(std::int64_t index) const;
  Tensor frame(std::int64_t index);

  // Counters for tests and diagnostics.
  std::int64_t frames_decoded() const;  // frames produced by the decoder so far
  std::int64_t seeks() const;           // demuxer seeks/rewinds so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tribev2::media

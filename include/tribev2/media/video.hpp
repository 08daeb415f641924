// Video decoding with the FFmpeg libraries (implementation: src/media/video.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
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
};

VideoInfo probe_video(const std::filesystem::path& path);

// Random access to frames by index in display order, as RGB uint8 [H, W, 3] tensors. Frames
// are decoded once, sequentially, and kept in a bounded cache so that overlapping 64-frame
// windows reuse them.
class VideoReader {
 public:
  explicit VideoReader(const std::filesystem::path& path, std::size_t cache_frames = 256);
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const VideoInfo& info() const;
  // upstream (moviepy 2.x get_frame) index of the frame shown at time t seconds:
  // min(int(fps * t + 1e-5), n_frames - 1).
  std::int64_t frame_index_at(double t) const;
  Tensor frame(std::int64_t index);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tribev2::media

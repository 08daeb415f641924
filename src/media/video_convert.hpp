// Private: decoded AVFrame -> RGB uint8 [H, W, 3] in display orientation, the way the ffmpeg
// CLI that moviepy reads from produces it (`-vf scale=W:H -sws_flags bicubic -pix_fmt rgb24`
// with autorotation).
#pragma once

#include <cstdint>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "video_ffmpeg.hpp"

namespace tribev2::media::video_detail {

// The transform ffmpeg's autorotation inserts (fftools configure_input_video_filter).
enum class Orientation { Identity, Clock, CClock, ClockFlip, CClockFlip, HFlip, VFlip, HVFlip };

// Reads the display matrix of a stream: the orientation, and the clockwise rotation in
// degrees (0/90/180/270). Throws for angles that are not multiples of 90 degrees.
Orientation stream_orientation(const AVStream* st, const std::string& name, int* rotation_degrees);
bool swaps_axes(Orientation o);

class RgbConverter {
 public:
  // width/height: the stream's coded size; every frame is scaled to it (as `scale=W:H`).
  RgbConverter(int width, int height, Orientation orientation);
  Tensor convert(const AVFrame* frame);
  int display_width() const { return swaps_axes(orientation_) ? height_ : width_; }
  int display_height() const { return swaps_axes(orientation_) ? width_ : height_; }

 private:
  int width_, height_;
  Orientation orientation_;
  SwsPtr sws_;
  int src_w_ = -1, src_h_ = -1, src_fmt_ = -1, src_space_ = -1, src_range_ = -1;
  std::vector<std::uint8_t> rgb_;     // swscale's aligned output, reused
  std::vector<std::uint8_t> packed_;  // the same rows without padding
};

// Applies an orientation to an RGB image [h, w, 3] (exposed for tests).
void orient_rgb(const std::uint8_t* src, int w, int h, Orientation o, std::uint8_t* dst);

}  // namespace tribev2::media::video_detail

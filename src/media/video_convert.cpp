#include "video_convert.hpp"

#include <cmath>
#include <cstring>

#include "tribev2/core/error.hpp"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

namespace tribev2::media::video_detail {

namespace {

const std::int32_t* display_matrix(const AVStream* st) {
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                       st->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  return sd && sd->size >= 9 * 4 ? reinterpret_cast<const std::int32_t*>(sd->data) : nullptr;
#else
  std::size_t size = 0;
  const std::uint8_t* sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  return sd && size >= 9 * 4 ? reinterpret_cast<const std::int32_t*>(sd) : nullptr;
#endif
}

}  // namespace

Orientation stream_orientation(const AVStream* st, const std::string& name, int* rotation_degrees) {
  const std::int32_t* m = display_matrix(st);
  // fftools get_rotation(): clockwise degrees in [0, 360).
  double theta = 0.0;
  if (m) {
    const double r = av_display_rotation_get(m);
    theta = std::isfinite(r) ? -std::round(r) : 0.0;
  }
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  *rotation_degrees = 0;
  if (std::fabs(theta - 90) < 1.0) {
    *rotation_degrees = 90;
    return m[3] > 0 ? Orientation::CClockFlip : Orientation::Clock;
  }
  if (std::fabs(theta - 180) < 1.0) {
    *rotation_degrees = 180;
    const bool h = m[0] < 0, v = m[4] < 0;
    return h && v ? Orientation::HVFlip : h ? Orientation::HFlip : v ? Orientation::VFlip : Orientation::Identity;
  }
  if (std::fabs(theta - 270) < 1.0) {
    *rotation_degrees = 270;
    return m[3] < 0 ? Orientation::ClockFlip : Orientation::CClock;
  }
  if (std::fabs(theta) > 1.0)
    fail(name, ": display matrix rotates by ", theta,
         " degrees; only multiples of 90 degrees are supported (re-encode the video upright)");
  return m && m[4] < 0 ? Orientation::VFlip : Orientation::Identity;
}

bool swaps_axes(Orientation o) {
  return o == Orientation::Clock || o == Orientation::CClock || o == Orientation::ClockFlip ||
         o == Orientation::CClockFlip;
}

void orient_rgb(const std::uint8_t* src, int w, int h, Orientation o, std::uint8_t* dst) {
  const int ow = swaps_axes(o) ? h : w;
  const int oh = swaps_axes(o) ? w : h;
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      int sy = y, sx = x;  // source row/column of output pixel (y, x); vf_transpose semantics
      switch (o) {
        case Orientation::Identity: break;
        case Orientation::CClockFlip: sy = x; sx = y; break;
        case Orientation::Clock: sy = h - 1 - x; sx = y; break;
        case Orientation::CClock: sy = x; sx = w - 1 - y; break;
        case Orientation::ClockFlip: sy = h - 1 - x; sx = w - 1 - y; break;
        case Orientation::HFlip: sx = w - 1 - x; break;
        case Orientation::VFlip: sy = h - 1 - y; break;
        case Orientation::HVFlip: sy = h - 1 - y; sx = w - 1 - x; break;
      }
      const std::uint8_t* s = src + (static_cast<std::size_t>(sy) * w + sx) * 3;
      std::uint8_t* d = dst + (static_cast<std::size_t>(y) * ow + x) * 3;
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
}

RgbConverter::RgbConverter(int width, int height, Orientation orientation)
    : width_(width), height_(height), orientation_(orientation) {}

Tensor RgbConverter::convert(const AVFrame* frame) {
  TRIBEV2_CHECK(frame->width > 0 && frame->height > 0 && frame->format >= 0, "decoded frame has no picture (",
                frame->width, "x", frame->height, ", format ", frame->format, ")");
  if (!sws_ || frame->width != src_w_ || frame->height != src_h_ || frame->format != src_fmt_ ||
      frame->colorspace != src_space_ || frame->color_range != src_range_) {
    src_w_ = frame->width;
    src_h_ = frame->height;
    src_fmt_ = frame->format;
    src_space_ = frame->colorspace;
    src_range_ = frame->color_range;
    sws_.reset(sws_getContext(src_w_, src_h_, static_cast<AVPixelFormat>(src_fmt_), width_, height_,
                              AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws_) {
      const char* fmt_name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(src_fmt_));
      fail("cannot convert ", fmt_name ? fmt_name : "an unknown pixel format", " ", src_w_, "x", src_h_,
           " to RGB");
    }
    // As the ffmpeg CLI's scale filter does (in_color_matrix=auto): the frame's own YCbCr
    // matrix and range, unspecified meaning BT.601 and the format's default range.
    int* inv_table = nullptr;
    int* table = nullptr;
    int in_full = 0, out_full = 0, brightness = 0, contrast = 0, saturation = 0;
    sws_getColorspaceDetails(sws_.get(), &inv_table, &in_full, &table, &out_full, &brightness, &contrast,
                             &saturation);
    const int* coeffs = sws_getCoefficients(src_space_);
    if (src_range_ != AVCOL_RANGE_UNSPECIFIED) in_full = src_range_ == AVCOL_RANGE_JPEG;
    sws_setColorspaceDetails(sws_.get(), coeffs, in_full, coeffs, out_full, brightness, contrast, saturation);
  }
  // swscale's SIMD converters write whole vector blocks: give them an aligned, padded buffer
  // (as the frames of the ffmpeg CLI's filter graph are) and copy the rows out.
  const int row = width_ * 3;
  const int stride = (row + 63) / 64 * 64 + 64;
  rgb_.resize(static_cast<std::size_t>(stride) * (height_ + 1) + 64);
  auto* base = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(rgb_.data()) + 63) / 64 * 64);
  std::uint8_t* dst_planes[4] = {base, nullptr, nullptr, nullptr};
  int dst_stride[4] = {stride, 0, 0, 0};
  const int rows = sws_scale(sws_.get(), frame->data, frame->linesize, 0, src_h_, dst_planes, dst_stride);
  TRIBEV2_CHECK(rows == height_, "pixel conversion produced ", rows, " rows, expected ", height_);
  packed_.resize(static_cast<std::size_t>(row) * height_);
  for (int y = 0; y < height_; ++y)
    std::memcpy(packed_.data() + static_cast<std::size_t>(y) * row, base + static_cast<std::size_t>(y) * stride,
                static_cast<std::size_t>(row));
  Tensor out = Tensor::empty(DType::U8, {display_height(), display_width(), 3});
  if (orientation_ == Orientation::Identity)
    std::memcpy(out.data<std::uint8_t>(), packed_.data(), packed_.size());
  else
    orient_rgb(packed_.data(), width_, height_, orientation_, out.data<std::uint8_t>());
  return out;
}

}  // namespace tribev2::media::video_detail

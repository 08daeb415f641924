// Private helpers of the audio half of the media layer: RAII owners of FFmpeg objects, an
// opened input (from a path or from memory) with its first audio stream and decoder, and a
// packet -> frame pump that tolerates damaged packets the way the ffmpeg command line does.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tribev2/media/audio.hpp"

namespace tribev2::media::audio_detail {

// FFmpeg's error code as text.
std::string av_error_text(int err);

struct FormatCloser {
  void operator()(AVFormatContext* p) const;
};
struct CodecFreer {
  void operator()(AVCodecContext* p) const;
};
struct PacketFreer {
  void operator()(AVPacket* p) const;
};
struct FrameFreer {
  void operator()(AVFrame* p) const;
};
struct IoFreer {
  void operator()(AVIOContext* p) const;
};

// The state of a custom in-memory AVIOContext.
struct MemorySource {
  std::span<const std::byte> bytes;
  std::int64_t pos = 0;
};

// An opened input with its first audio stream and an opened decoder for it.
class AudioInput {
 public:
  explicit AudioInput(const std::filesystem::path& path);
  AudioInput(std::span<const std::byte> bytes, const std::string& name, const char* format);
  AudioInput(const AudioInput&) = delete;
  AudioInput& operator=(const AudioInput&) = delete;
  ~AudioInput();

  const std::string& name() const { return name_; }
  const AudioInfo& info() const { return info_; }
  AVFormatContext* format() const { return fmt_.get(); }
  AVCodecContext* codec() const { return dec_.get(); }
  AVStream* stream() const { return fmt_->streams[stream_index_]; }

  // Decodes the next frame(s) and calls `sink` for each; returns false once the stream is
  // exhausted (decoder flushed). Damaged packets are skipped (as the ffmpeg command line
  // does); a stream that yields nothing but errors is an error.
  bool decode_next(const std::function<void(const AVFrame&)>& sink);

 private:
  void open_stream();

  std::string name_;
  std::unique_ptr<MemorySource> mem_;
  std::unique_ptr<AVIOContext, IoFreer> io_;
  std::unique_ptr<AVFormatContext, FormatCloser> fmt_;
  std::unique_ptr<AVCodecContext, CodecFreer> dec_;
  std::unique_ptr<AVPacket, PacketFreer> pkt_;
  std::unique_ptr<AVFrame, FrameFreer> frame_;
  int stream_index_ = -1;
  AudioInfo info_;
  bool flushing_ = false;
  bool done_ = false;
  std::int64_t packets_ok_ = 0;
  std::int64_t packets_bad_ = 0;
  std::string last_error_;
};

// Appends the samples of a decoded frame to `out` as interleaved float32, converting like
// libsndfile (int16 / 2^15, int32 / 2^31, u8 (v - 128) / 2^7, int64 / 2^63).
void append_frame_samples(const AVFrame& frame, int channels, std::vector<float>& out, const std::string& name);

// Channel count of a frame or codec context (FFmpeg 5.1 channel layout API).
int frame_channels(const AVFrame& frame);

}  // namespace tribev2::media::audio_detail

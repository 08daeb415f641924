// Private to the video half of the media layer: RAII owners of FFmpeg objects, the input
// source (file or memory) and the demuxer that reads one video stream.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tribev2::media::video_detail {

std::string av_error_text(int err);

struct FormatCloser {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecCloser {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FrameCloser {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketCloser {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsCloser {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct AvioCloser {
  void operator()(AVIOContext* io) const;
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using FramePtr = std::unique_ptr<AVFrame, FrameCloser>;
using PacketPtr = std::unique_ptr<AVPacket, PacketCloser>;
using SwsPtr = std::unique_ptr<SwsContext, SwsCloser>;
using AvioPtr = std::unique_ptr<AVIOContext, AvioCloser>;

FramePtr make_frame();
PacketPtr make_packet();

// Where the bytes come from: a file path, or a buffer owned by the caller (kept alive by the
// caller for the demuxer's lifetime).
struct Source {
  std::filesystem::path path;
  std::span<const std::byte> bytes;
  bool in_memory = false;
  std::string name;  // for messages
  std::int64_t max_pixels = std::int64_t{1} << 27;
};

// An opened container with its selected video stream. Reopening is how we rewind: cheaper
// and more reliable than seeking to the start on every container.
class Demuxer {
 public:
  explicit Demuxer(const Source& source);
  ~Demuxer();
  Demuxer(const Demuxer&) = delete;
  Demuxer& operator=(const Demuxer&) = delete;

  AVFormatContext* format() const { return fmt_.get(); }
  AVStream* stream() const { return fmt_->streams[stream_index_]; }
  int stream_index() const { return stream_index_; }
  bool has_audio() const { return has_audio_; }
  const std::string& name() const { return source_.name; }

  // Next packet of the video stream; false at the end of the file or on a read error (a
  // damaged tail ends the stream, as the ffmpeg CLI does).
  bool read_video_packet(AVPacket* pkt);
  // Seek so that the next packets start at the key frame at or before `ts` (stream time base).
  bool seek_key_frame(std::int64_t ts);
  void reopen();

 private:
  void open();
  struct MemoryInput;
  Source source_;
  std::unique_ptr<MemoryInput> memory_;
  AvioPtr avio_;
  FormatPtr fmt_;
  int stream_index_ = -1;
  bool has_audio_ = false;
  std::int64_t packets_read_ = 0;
};

}  // namespace tribev2::media::video_detail

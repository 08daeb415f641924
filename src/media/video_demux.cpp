// Opening a container (file or memory) and reading the packets of its video stream.
#include <algorithm>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "video_ffmpeg.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace tribev2::media::video_detail {

namespace {
// Hostile inputs: never read more than this many packets in one pass of a file.
constexpr std::int64_t kMaxPackets = std::int64_t{1} << 27;
constexpr int kAvioBufferSize = 1 << 16;
}  // namespace

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

void AvioCloser::operator()(AVIOContext* io) const {
  if (!io) return;
  av_freep(&io->buffer);
  avio_context_free(&io);
}

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) fail("out of memory allocating an AVFrame");
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) fail("out of memory allocating an AVPacket");
  return p;
}

// Read/seek callbacks over a caller-owned buffer.
struct Demuxer::MemoryInput {
  std::span<const std::byte> bytes;
  std::int64_t pos = 0;

  static int read(void* opaque, std::uint8_t* buf, int size) {
    auto* m = static_cast<MemoryInput*>(opaque);
    const std::int64_t left = static_cast<std::int64_t>(m->bytes.size()) - m->pos;
    if (left <= 0) return AVERROR_EOF;
    const int n = static_cast<int>(std::min<std::int64_t>(left, size));
    std::memcpy(buf, m->bytes.data() + m->pos, static_cast<std::size_t>(n));
    m->pos += n;
    return n;
  }
  static std::int64_t seek(void* opaque, std::int64_t offset, int whence) {
    auto* m = static_cast<MemoryInput*>(opaque);
    const auto size = static_cast<std::int64_t>(m->bytes.size());
    if (whence & AVSEEK_SIZE) return size;
    std::int64_t target;
    switch (whence & ~AVSEEK_FORCE) {
      case SEEK_SET: target = offset; break;
      case SEEK_CUR: target = m->pos + offset; break;
      case SEEK_END: target = size + offset; break;
      default: return AVERROR(EINVAL);
    }
    if (target < 0 || target > size) return AVERROR(EINVAL);
    m->pos = target;
    return target;
  }
};

Demuxer::Demuxer(const Source& source) : source_(source) { open(); }
Demuxer::~Demuxer() = default;

void Demuxer::open() {
  fmt_.reset();
  avio_.reset();
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) fail("out of memory allocating an AVFormatContext");
  if (source_.in_memory) {
    memory_ = std::make_unique<MemoryInput>();
    memory_->bytes = source_.bytes;
    auto* buf = static_cast<unsigned char*>(av_malloc(kAvioBufferSize));
    if (!buf) {
      avformat_free_context(raw);
      fail("out of memory allocating an AVIO buffer");
    }
    AVIOContext* io = avio_alloc_context(buf, kAvioBufferSize, 0, memory_.get(), &MemoryInput::read, nullptr,
                                         &MemoryInput::seek);
    if (!io) {
      av_free(buf);
      avformat_free_context(raw);
      fail("out of memory allocating an AVIOContext");
    }
    avio_.reset(io);
    raw->pb = io;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  const std::string url = source_.in_memory ? std::string() : source_.path.string();
  // On failure avformat_open_input frees the context itself.
  int ret = avformat_open_input(&raw, source_.in_memory ? nullptr : url.c_str(), nullptr, nullptr);
  if (ret < 0) fail(source_.name, ": cannot open as a media file: ", av_error_text(ret));
  fmt_.reset(raw);
  ret = avformat_find_stream_info(fmt_.get(), nullptr);
  if (ret < 0) fail(source_.name, ": cannot read stream information: ", av_error_text(ret));

  // The stream the ffmpeg CLI picks by default (moviepy pipes from it): av_find_best_stream,
  // ignoring attached pictures (cover art).
  stream_index_ = -1;
  has_audio_ = false;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* st = fmt_->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) has_audio_ = true;
  }
  ret = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (ret >= 0 && (fmt_->streams[ret]->disposition & AV_DISPOSITION_ATTACHED_PIC)) ret = -1;
  if (ret < 0) {
    for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
      const AVStream* st = fmt_->streams[i];
      if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        ret = static_cast<int>(i);
        break;
      }
    }
  }
  if (ret < 0) fail(source_.name, ": no video stream (streams: ", fmt_->nb_streams, ")");
  stream_index_ = ret;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;
  const AVCodecParameters* par = stream()->codecpar;
  if (par->width <= 0 || par->height <= 0 || par->width > 16384 || par->height > 16384 ||
      static_cast<std::int64_t>(par->width) * par->height > source_.max_pixels)
    fail(source_.name, ": unsupported video size ", par->width, "x", par->height,
         " (expected 1..16384 on each side, at most ", source_.max_pixels, " pixels)");
  packets_read_ = 0;
}

void Demuxer::reopen() {
  fmt_.reset();
  open();
}

bool Demuxer::read_video_packet(AVPacket* pkt) {
  while (true) {
    if (++packets_read_ > kMaxPackets) fail(source_.name, ": more than ", kMaxPackets, " packets; refusing to continue");
    const int ret = av_read_frame(fmt_.get(), pkt);
    if (ret < 0) return false;  // end of file, or a damaged tail: the stream ends here
    if (pkt->stream_index == stream_index_) return true;
    av_packet_unref(pkt);
  }
}

bool Demuxer::seek_key_frame(std::int64_t ts) {
  return av_seek_frame(fmt_.get(), stream_index_, ts, AVSEEK_FLAG_BACKWARD) >= 0;
}

}  // namespace tribev2::media::video_detail

#include "audio_ffmpeg.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <system_error>

#include "tribev2/core/error.hpp"

namespace tribev2::media::audio_detail {

namespace {

constexpr int kIoBufferSize = 1 << 15;
constexpr int kMaxChannels = 64;
constexpr int kMaxSampleRate = 4'000'000;

int read_memory(void* opaque, std::uint8_t* buf, int size) {
  auto* src = static_cast<MemorySource*>(opaque);
  const auto total = static_cast<std::int64_t>(src->bytes.size());
  const std::int64_t left = total - src->pos;
  if (left <= 0) return AVERROR_EOF;
  const auto n = static_cast<int>(std::min<std::int64_t>(left, size));
  std::memcpy(buf, src->bytes.data() + src->pos, static_cast<std::size_t>(n));
  src->pos += n;
  return n;
}

std::int64_t seek_memory(void* opaque, std::int64_t offset, int whence) {
  auto* src = static_cast<MemorySource*>(opaque);
  const auto total = static_cast<std::int64_t>(src->bytes.size());
  if (whence & AVSEEK_SIZE) return total;
  std::int64_t base = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = src->pos; break;
    case SEEK_END: base = total; break;
    default: return -1;
  }
  if (offset > std::numeric_limits<std::int64_t>::max() - base) return -1;
  const std::int64_t pos = base + offset;
  if (pos < 0 || pos > total) return -1;
  src->pos = pos;
  return pos;
}

bool is_exact_length_codec(AVCodecID id) {
  // PCM and FLAC containers state the number of samples exactly; compressed formats only
  // estimate it.
  return (id >= AV_CODEC_ID_PCM_S16LE && id < AV_CODEC_ID_ADPCM_IMA_QT) || id == AV_CODEC_ID_FLAC;
}

}  // namespace

std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

void FormatCloser::operator()(AVFormatContext* p) const { avformat_close_input(&p); }
void CodecFreer::operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
void PacketFreer::operator()(AVPacket* p) const { av_packet_free(&p); }
void FrameFreer::operator()(AVFrame* p) const { av_frame_free(&p); }
void IoFreer::operator()(AVIOContext* p) const {
  if (p) av_freep(&p->buffer);
  avio_context_free(&p);
}

int frame_channels(const AVFrame& frame) { return frame.ch_layout.nb_channels; }

AudioInput::AudioInput(const std::filesystem::path& path) : name_(path.string()) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(name_, ": no such file");
  if (std::filesystem::is_directory(path, ec)) fail(name_, ": is a directory, expected an audio or video file");
  AVFormatContext* raw = nullptr;
  const int r = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (r < 0) fail(name_, ": cannot open as audio or video (", av_error_text(r), ")");
  fmt_.reset(raw);
  open_stream();
}

AudioInput::AudioInput(std::span<const std::byte> bytes, const std::string& name, const char* format) : name_(name) {
  mem_ = std::make_unique<MemorySource>();
  mem_->bytes = bytes;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!buffer) fail(name_, ": out of memory");
  io_.reset(avio_alloc_context(buffer, kIoBufferSize, 0, mem_.get(), read_memory, nullptr, seek_memory));
  if (!io_) {
    av_free(buffer);
    fail(name_, ": out of memory");
  }
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) fail(name_, ": out of memory");
  raw->pb = io_.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  const AVInputFormat* ifmt = nullptr;
  if (format) {
    ifmt = av_find_input_format(format);
    if (!ifmt) {
      avformat_free_context(raw);
      fail(name_, ": FFmpeg has no demuxer named '", format, "'");
    }
  }
  const int r = avformat_open_input(&raw, nullptr, ifmt, nullptr);  // frees `raw` on failure
  if (r < 0) fail(name_, ": cannot open as audio or video (", av_error_text(r), ")");
  fmt_.reset(raw);
  open_stream();
}

AudioInput::~AudioInput() = default;

void AudioInput::open_stream() {
  int r = avformat_find_stream_info(fmt_.get(), nullptr);
  if (r < 0) fail(name_, ": cannot read stream information (", av_error_text(r), ")");
  info_.container = fmt_->iformat && fmt_->iformat->name ? fmt_->iformat->name : "";
  std::string streams;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i) {
    const AVStream* s = fmt_->streams[i];
    const char* type = av_get_media_type_string(s->codecpar->codec_type);
    streams += (streams.empty() ? "" : ", ") + std::string(type ? type : "unknown") + " " +
               avcodec_get_name(s->codecpar->codec_id);
    if (s->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(s->disposition & AV_DISPOSITION_ATTACHED_PIC))
      info_.has_video = true;
  }
  r = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (r < 0)
    fail(name_, ": no audio stream (container ", info_.container, ", streams: ", streams.empty() ? "none" : streams, ")");
  stream_index_ = r;
  AVStream* st = fmt_->streams[stream_index_];
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) fail(name_, ": no decoder for audio codec ", avcodec_get_name(st->codecpar->codec_id));
  dec_.reset(avcodec_alloc_context3(codec));
  if (!dec_) fail(name_, ": out of memory");
  r = avcodec_parameters_to_context(dec_.get(), st->codecpar);
  if (r < 0) fail(name_, ": bad audio codec parameters (", av_error_text(r), ")");
  dec_->thread_count = 1;
  dec_->pkt_timebase = st->time_base;
  r = avcodec_open2(dec_.get(), codec, nullptr);
  if (r < 0) fail(name_, ": cannot open the ", codec->name, " decoder (", av_error_text(r), ")");
  info_.codec = codec->name;
  info_.sample_rate = dec_->sample_rate;
  info_.channels = dec_->ch_layout.nb_channels;
  TRIBEV2_CHECK(info_.sample_rate > 0 && info_.sample_rate <= kMaxSampleRate, name_,
                ": audio stream has an invalid sample rate (", info_.sample_rate, " Hz)");
  TRIBEV2_CHECK(info_.channels > 0 && info_.channels <= kMaxChannels, name_,
                ": audio stream has an unsupported channel count (", info_.channels, ", expected 1..", kMaxChannels, ")");
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    info_.duration = static_cast<double>(st->duration) * av_q2d(st->time_base);
    if (is_exact_length_codec(st->codecpar->codec_id) && st->time_base.num == 1 &&
        st->time_base.den == info_.sample_rate && (st->start_time == AV_NOPTS_VALUE || st->start_time == 0))
      info_.frames = st->duration;
  } else if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) {
    info_.duration = static_cast<double>(fmt_->duration) / AV_TIME_BASE;
  }
  if (info_.frames >= 0) info_.duration = static_cast<double>(info_.frames) / info_.sample_rate;
  pkt_.reset(av_packet_alloc());
  frame_.reset(av_frame_alloc());
  if (!pkt_ || !frame_) fail(name_, ": out of memory");
}

bool AudioInput::decode_next(const std::function<void(const AVFrame&)>& sink) {
  while (!done_) {
    int r = avcodec_receive_frame(dec_.get(), frame_.get());
    if (r == 0) {
      ++packets_ok_;
      struct Unref {
        AVFrame* f;
        ~Unref() { av_frame_unref(f); }
      } unref{frame_.get()};
      if (frame_->sample_rate != info_.sample_rate || frame_channels(*frame_) != info_.channels)
        fail(name_, ": the audio stream changes format mid-stream (", info_.sample_rate, " Hz x ", info_.channels,
             " channels, then ", frame_->sample_rate, " Hz x ", frame_channels(*frame_), ")");
      sink(*frame_);
      return true;
    }
    if (r == AVERROR_EOF) {
      done_ = true;
      break;
    }
    if (r != AVERROR(EAGAIN)) {  // this packet could not be decoded: skip it, like ffmpeg
      ++packets_bad_;
      last_error_ = av_error_text(r);
      if (!flushing_) continue;
      done_ = true;
      break;
    }
    if (flushing_) {  // EAGAIN while draining would loop forever
      done_ = true;
      break;
    }
    r = av_read_frame(fmt_.get(), pkt_.get());
    if (r < 0) {  // end of file, or a read error that ends the stream (truncated file)
      if (r != AVERROR_EOF) last_error_ = av_error_text(r);
      avcodec_send_packet(dec_.get(), nullptr);
      flushing_ = true;
      continue;
    }
    if (pkt_->stream_index != stream_index_) {
      av_packet_unref(pkt_.get());
      continue;
    }
    r = avcodec_send_packet(dec_.get(), pkt_.get());
    av_packet_unref(pkt_.get());
    if (r < 0 && r != AVERROR(EAGAIN)) {
      ++packets_bad_;
      last_error_ = av_error_text(r);
    }
  }
  // Like ffmpeg, a damaged packet here and there (a truncated last packet, a glitch) is
  // skipped; a stream that decodes to nothing, or mostly to errors, is refused.
  if (packets_bad_ > 0 && (packets_ok_ == 0 || packets_bad_ > packets_ok_ + 8))
    fail(name_, ": the audio stream could not be decoded (", packets_bad_, " damaged packets, ", packets_ok_,
         " decoded; last error: ", last_error_, ")");
  return false;
}

void append_frame_samples(const AVFrame& frame, int channels, std::vector<float>& out, const std::string& name) {
  const auto fmt = static_cast<AVSampleFormat>(frame.format);
  const int n = frame.nb_samples;
  if (n <= 0) return;
  TRIBEV2_CHECK(frame_channels(frame) == channels, name, ": frame has ", frame_channels(frame), " channels, expected ",
                channels);
  const bool planar = av_sample_fmt_is_planar(fmt) != 0;
  const std::size_t base = out.size();
  out.resize(base + static_cast<std::size_t>(n) * static_cast<std::size_t>(channels));
  float* dst = out.data() + base;
  // Sample i of channel c, whatever the layout.
  auto convert = [&](auto tag, auto&& to_float) {
    using T = decltype(tag);
    for (int c = 0; c < channels; ++c) {
      const T* src = planar ? reinterpret_cast<const T*>(frame.extended_data[c])
                            : reinterpret_cast<const T*>(frame.extended_data[0]) + c;
      const int step = planar ? 1 : channels;
      for (int i = 0; i < n; ++i) dst[static_cast<std::size_t>(i) * channels + c] = to_float(src[static_cast<std::ptrdiff_t>(i) * step]);
    }
  };
  switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
      convert(std::uint8_t{}, [](std::uint8_t v) { return static_cast<float>(static_cast<int>(v) - 128) / 128.0f; });
      break;
    case AV_SAMPLE_FMT_S16:
      convert(std::int16_t{}, [](std::int16_t v) { return static_cast<float>(v) / 32768.0f; });
      break;
    case AV_SAMPLE_FMT_S32:
      convert(std::int32_t{}, [](std::int32_t v) { return static_cast<float>(static_cast<double>(v) / 2147483648.0); });
      break;
    case AV_SAMPLE_FMT_S64:
      convert(std::int64_t{},
              [](std::int64_t v) { return static_cast<float>(static_cast<double>(v) / 9223372036854775808.0); });
      break;
    case AV_SAMPLE_FMT_FLT:
      convert(float{}, [](float v) { return v; });
      break;
    case AV_SAMPLE_FMT_DBL:
      convert(double{}, [](double v) { return static_cast<float>(v); });
      break;
    default:
      out.resize(base);
      fail(name, ": unsupported decoded sample format ", av_get_sample_fmt_name(fmt) ? av_get_sample_fmt_name(fmt) : "?");
  }
}

}  // namespace tribev2::media::audio_detail

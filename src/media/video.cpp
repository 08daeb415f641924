// Video frames by index with the FFmpeg libraries, with upstream's (moviepy's) timing rules.
//
// At open we read every packet of the video stream once (demuxing only, no decoding) to learn
// the frame count, the presentation timestamps and the key frames. When the timestamps are
// complete and distinct, a decoded frame's index is the rank of its timestamp ("indexed"
// mode), which makes seeking exact; otherwise frames are counted from the start of the file
// ("sequential" mode) and only rewinding is possible.
#include "tribev2/media/video.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/media/video_timing.hpp"
#include "video_convert.hpp"
#include "video_ffmpeg.hpp"

namespace tribev2::media {

using namespace video_detail;

namespace {

double q2d_or_zero(AVRational r) { return r.num > 0 && r.den > 0 ? av_q2d(r) : 0.0; }

struct PacketScan {
  std::vector<std::int64_t> ts;      // presentation timestamps, sorted (indexed mode)
  std::vector<std::int64_t> key_ts;  // timestamps of key frames, sorted
  std::int64_t packets = 0;
  bool timestamps_usable = true;
};

PacketScan scan_packets(Demuxer& dmx) {
  PacketScan s;
  PacketPtr pkt = make_packet();
  while (dmx.read_video_packet(pkt.get())) {
    const std::int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    const bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    const bool discard = (pkt->flags & AV_PKT_FLAG_DISCARD) != 0;
    av_packet_unref(pkt.get());
    if (discard) continue;
    ++s.packets;
    if (ts == AV_NOPTS_VALUE) {
      s.timestamps_usable = false;
      continue;
    }
    s.ts.push_back(ts);
    if (key) s.key_ts.push_back(ts);
  }
  std::sort(s.ts.begin(), s.ts.end());
  std::sort(s.key_ts.begin(), s.key_ts.end());
  if (std::adjacent_find(s.ts.begin(), s.ts.end()) != s.ts.end()) s.timestamps_usable = false;
  if (!s.timestamps_usable) {
    s.ts.clear();
    s.key_ts.clear();
  }
  return s;
}

}  // namespace

struct VideoReader::Impl {
  Source source;
  std::vector<std::byte> owned_bytes;
  VideoReaderOptions options;
  VideoInfo info;
  std::unique_ptr<Demuxer> dmx;
  CodecPtr dec;
  std::unique_ptr<RgbConverter> conv;
  AVRational tb{1, 1};

  bool indexed = false;
  std::vector<std::int64_t> ts, key_ts;
  std::vector<double> times;  // ts relative to the first, in seconds (indexed mode)

  // Decoding state since the last (re)start.
  PacketPtr pkt = make_packet();
  FramePtr frm = make_frame();
  bool packet_pending = false, demux_eof = false, flushed = false;
  std::int64_t sequential_next = 0;  // sequential mode: index of the next frame out of the decoder
  std::int64_t last_ordinal = -1;    // index of the last frame out of the decoder (-1: none yet)
  bool started_at_file_start = true;

  std::int64_t decoded = 0, n_seeks = 0, bad_packets = 0;
  std::int64_t last_decodable = -1;  // highest index ever decoded

  // Bounded cache of RGB frames, oldest first.
  std::map<std::int64_t, Tensor> cache;
  std::deque<std::int64_t> order;
  std::size_t cached_bytes = 0;

  void open();
  void restart_from_file_start();
  bool seek_to_key_before(std::int64_t index, int extra_back);
  std::optional<std::int64_t> decode_next();
  void remember(std::int64_t index, Tensor t);
  Tensor fetch(std::int64_t index, bool allow_seek = true);
  const Tensor* nearest_cached_before(std::int64_t index) const;
};

void VideoReader::Impl::open() {
  dmx = std::make_unique<Demuxer>(source);
  const PacketScan scan = scan_packets(*dmx);
  dmx->reopen();
  AVStream* st = dmx->stream();
  tb = st->time_base;
  TRIBEV2_CHECK(tb.num > 0 && tb.den > 0, source.name, ": video stream has an invalid time base ", tb.num, "/",
                tb.den);
  if (scan.packets == 0) fail(source.name, ": the video stream has no frames");

  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) fail(source.name, ": no decoder for video codec '", avcodec_get_name(st->codecpar->codec_id), "'");
  dec.reset(avcodec_alloc_context3(codec));
  if (!dec) fail("out of memory allocating a decoder");
  int ret = avcodec_parameters_to_context(dec.get(), st->codecpar);
  if (ret < 0) fail(source.name, ": bad codec parameters: ", av_error_text(ret));
  dec->pkt_timebase = tb;
  dec->thread_count = options.decoder_threads;
  ret = avcodec_open2(dec.get(), codec, nullptr);
  if (ret < 0) fail(source.name, ": cannot open the ", codec->name, " decoder: ", av_error_text(ret));

  int rotation = 0;
  const Orientation orient = stream_orientation(st, source.name, &rotation);
  conv = std::make_unique<RgbConverter>(st->codecpar->width, st->codecpar->height, orient);

  indexed = scan.timestamps_usable;
  ts = scan.ts;
  key_ts = scan.key_ts;

  AVFormatContext* fmt = dmx->format();
  info.codec = avcodec_get_name(st->codecpar->codec_id);
  info.container = fmt->iformat && fmt->iformat->name ? fmt->iformat->name : "";
  info.has_audio = dmx->has_audio();
  info.coded_width = st->codecpar->width;
  info.coded_height = st->codecpar->height;
  info.width = conv->display_width();
  info.height = conv->display_height();
  info.rotation = rotation;
  info.avg_frame_rate = q2d_or_zero(st->avg_frame_rate);
  info.r_frame_rate = q2d_or_zero(st->r_frame_rate);
  info.n_frames = indexed ? static_cast<std::int64_t>(ts.size()) : scan.packets;
  const double exact_rate = info.avg_frame_rate > 0 ? info.avg_frame_rate : info.r_frame_rate;
  const auto fps = moviepy_fps(info.avg_frame_rate, info.r_frame_rate);
  if (fps && *fps > 0 && std::isfinite(*fps)) {
    info.fps = *fps;
  } else {
    fail(source.name, ": the video stream has no frame rate (neither an average nor a base rate)");
  }
  if (indexed) {
    times.resize(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) times[i] = static_cast<double>(ts[i] - ts[0]) * av_q2d(tb);
    info.start_time = static_cast<double>(ts[0]) * av_q2d(tb);
    // Constant frame rate: every timestamp within half a frame of index / rate.
    bool vfr = !(exact_rate > 0);
    for (std::size_t i = 0; !vfr && i < times.size(); ++i)
      vfr = std::abs(times[i] - static_cast<double>(i) / exact_rate) > 0.5 / exact_rate;
    info.variable_frame_rate = vfr;
  }
  if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
    info.container_duration = static_cast<double>(fmt->duration) / AV_TIME_BASE;
    info.duration = moviepy_duration(fmt->duration);
  } else {
    // moviepy stops here ("failed to read the duration"); we fall back to frames / fps.
    info.duration = static_cast<double>(info.n_frames) / info.fps;
    info.container_duration = 0.0;
  }
}

void VideoReader::Impl::restart_from_file_start() {
  dmx->reopen();
  avcodec_flush_buffers(dec.get());
  packet_pending = demux_eof = flushed = false;
  av_packet_unref(pkt.get());
  sequential_next = 0;
  last_ordinal = -1;
  started_at_file_start = true;
  ++n_seeks;
}

// Seeks to the key frame at or before frame `index` (`extra_back` key frames earlier).
bool VideoReader::Impl::seek_to_key_before(std::int64_t index, int extra_back) {
  if (!indexed || key_ts.empty()) return false;
  auto it = std::upper_bound(key_ts.begin(), key_ts.end(), ts[static_cast<std::size_t>(index)]);
  std::ptrdiff_t k = (it - key_ts.begin()) - 1 - extra_back;
  if (k < 0) return false;
  if (!dmx->seek_key_frame(key_ts[static_cast<std::size_t>(k)])) return false;
  avcodec_flush_buffers(dec.get());
  packet_pending = demux_eof = flushed = false;
  av_packet_unref(pkt.get());
  last_ordinal = -1;
  started_at_file_start = false;
  ++n_seeks;
  return true;
}

// The next decoded frame: its index (the frame is in `frm`), or nullopt at the end.
std::optional<std::int64_t> VideoReader::Impl::decode_next() {
  int receive_errors = 0;
  while (true) {
    av_frame_unref(frm.get());
    int ret = avcodec_receive_frame(dec.get(), frm.get());
    if (ret == 0) {
      if (frm->flags & AV_FRAME_FLAG_DISCARD) continue;
      ++decoded;
      std::int64_t ordinal;
      if (indexed) {
        const std::int64_t t = frm->best_effort_timestamp != AV_NOPTS_VALUE ? frm->best_effort_timestamp : frm->pts;
        const auto it = std::lower_bound(ts.begin(), ts.end(), t);
        if (t == AV_NOPTS_VALUE || it == ts.end() || *it != t) {
          // The decoder's timestamps do not match the packets': count frames instead.
          indexed = false;
          cache.clear();
          order.clear();
          cached_bytes = 0;
          restart_from_file_start();
          continue;
        }
        ordinal = it - ts.begin();
      } else {
        if (!started_at_file_start) fail(source.name, ": internal error: sequential decoding after a seek");
        ordinal = sequential_next++;
      }
      last_ordinal = ordinal;
      last_decodable = std::max(last_decodable, ordinal);
      return ordinal;
    }
    if (ret == AVERROR_EOF) return std::nullopt;
    if (ret != AVERROR(EAGAIN)) {
      // A damaged frame: the ffmpeg CLI reports it and goes on; so do we, within limits.
      if (++receive_errors > 10000) fail(source.name, ": the decoder keeps failing: ", av_error_text(ret));
      continue;
    }
    // The decoder wants input.
    if (demux_eof) {
      if (flushed) return std::nullopt;
      avcodec_send_packet(dec.get(), nullptr);
      flushed = true;
      continue;
    }
    if (!packet_pending) {
      if (!dmx->read_video_packet(pkt.get())) {
        demux_eof = true;
        continue;
      }
      packet_pending = true;
    }
    ret = avcodec_send_packet(dec.get(), pkt.get());
    if (ret == AVERROR(EAGAIN)) continue;  // receive first, then resend the same packet
    packet_pending = false;
    av_packet_unref(pkt.get());
    if (ret < 0) ++bad_packets;  // a damaged packet: skip it, as the ffmpeg CLI does
  }
}

void VideoReader::Impl::remember(std::int64_t index, Tensor t) {
  if (cache.count(index)) return;
  const std::size_t bytes = t.nbytes();
  cache.emplace(index, std::move(t));
  order.push_back(index);
  cached_bytes += bytes;
  const std::size_t max_frames = std::max<std::size_t>(options.cache_frames, 2);
  while (order.size() > 2 && (order.size() > max_frames || cached_bytes > options.cache_bytes)) {
    auto it = cache.find(order.front());
    cached_bytes -= it->second.nbytes();
    cache.erase(it);
    order.pop_front();
  }
}

const Tensor* VideoReader::Impl::nearest_cached_before(std::int64_t index) const {
  auto it = cache.upper_bound(index);
  if (it == cache.begin()) return nullptr;
  --it;
  return &it->second;
}

Tensor VideoReader::Impl::fetch(std::int64_t index, bool allow_seek) {
  if (auto it = cache.find(index); it != cache.end()) return it->second;

  // Where to start decoding: continue, jump forward to a key frame, or go back.
  const bool behind = last_ordinal >= index || (last_ordinal < 0 && !started_at_file_start);
  bool far_ahead = false;
  if (indexed && !behind && !key_ts.empty()) {
    const std::int64_t from = last_ordinal < 0 ? 0 : last_ordinal;
    const auto key_after_pos = std::upper_bound(key_ts.begin(), key_ts.end(), ts[static_cast<std::size_t>(from)]);
    far_ahead = index - from > 32 && key_after_pos != key_ts.end() && *key_after_pos <= ts[static_cast<std::size_t>(index)];
  }
  int extra_back = 0;
  if (!allow_seek) {
    if (behind) restart_from_file_start();
  } else if (behind || far_ahead) {
    if (!seek_to_key_before(index, 0)) restart_from_file_start();
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    bool first = true;
    while (true) {
      const auto o = decode_next();
      if (!o) {
        // End of stream before `index`: frames past the last decodable one read as the last
        // one (moviepy: "Using the last valid frame instead").
        if (last_decodable < 0) fail(source.name, ": no decodable video frame");
        if (index > last_decodable) {
          info.n_frames = std::min(info.n_frames, last_decodable + 1);
          if (const Tensor* t = nearest_cached_before(index)) return *t;
          restart_from_file_start();
          return fetch(last_decodable, false);
        }
        // The frame exists in the index but the decoder never produced it: nearest earlier.
        if (const Tensor* t = nearest_cached_before(index)) return *t;
        fail(source.name, ": frame ", index, " cannot be decoded");
      }
      if (first && *o > index && !started_at_file_start) break;  // the seek landed too late
      first = false;
      remember(*o, conv->convert(frm.get()));
      if (*o == index) return cache.at(index);
      if (*o > index) {
        // The decoder skipped `index` (damaged or dropped): the frame on screen before it.
        if (const Tensor* t = nearest_cached_before(index)) return *t;
        return cache.at(*o);
      }
    }
    ++extra_back;
    if (!allow_seek || !seek_to_key_before(index, extra_back)) restart_from_file_start();
  }
  // Seeks keep landing after the frame: decode from the start of the file, no more seeking.
  restart_from_file_start();
  return fetch(index, false);
}

void set_decoder_log(DecoderLog level) {
  av_log_set_level(level == DecoderLog::Quiet ? AV_LOG_QUIET : level == DecoderLog::Errors ? AV_LOG_ERROR : AV_LOG_WARNING);
}

VideoInfo probe_video(const std::filesystem::path& path) { return VideoReader(path, VideoReaderOptions{2}).info(); }

VideoReader::VideoReader(const std::filesystem::path& path, std::size_t cache_frames)
    : VideoReader(path, VideoReaderOptions{cache_frames}) {}

VideoReader::VideoReader(const std::filesystem::path& path, const VideoReaderOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->source.path = path;
  impl_->source.name = path.string();
  impl_->source.max_pixels = options.max_pixels;
  impl_->options = options;
  impl_->open();
  frame(0);  // as moviepy: a file whose first frame does not decode fails at open
}

VideoReader::VideoReader(std::span<const std::byte> bytes, const std::string& name, const VideoReaderOptions& options)
    : impl_(std::make_unique<Impl>()) {
  impl_->owned_bytes.assign(bytes.begin(), bytes.end());
  impl_->source.bytes = impl_->owned_bytes;
  impl_->source.in_memory = true;
  impl_->source.name = name;
  impl_->source.max_pixels = options.max_pixels;
  impl_->options = options;
  impl_->open();
  frame(0);
}

VideoReader::~VideoReader() = default;

const VideoInfo& VideoReader::info() const { return impl_->info; }

std::int64_t VideoReader::frame_index_at(double t) const {
  const Impl& m = *impl_;
  const std::int64_t n = m.info.n_frames;
  if (m.info.variable_frame_rate && m.indexed && m.options.vfr == VfrPolicy::Timestamps) {
    const auto it = std::upper_bound(m.times.begin(), m.times.end(), t + 0.00001);
    const std::int64_t i = (it - m.times.begin()) - 1;
    return std::clamp<std::int64_t>(i, 0, n - 1);
  }
  return moviepy_frame_index(m.info.fps, t, n);
}

double VideoReader::frame_time(std::int64_t index) const {
  const Impl& m = *impl_;
  TRIBEV2_CHECK(index >= 0 && index < m.info.n_frames, m.source.name, ": frame ", index, " out of range [0, ",
                m.info.n_frames, ")");
  if (m.indexed && static_cast<std::size_t>(index) < m.times.size()) return m.times[static_cast<std::size_t>(index)];
  return static_cast<double>(index) / m.info.fps;
}

Tensor VideoReader::frame(std::int64_t index) {
  TRIBEV2_CHECK(index >= 0 && index < impl_->info.n_frames, impl_->source.name, ": frame ", index,
                " out of range [0, ", impl_->info.n_frames, ")");
  return impl_->fetch(index);
}

std::int64_t VideoReader::frames_decoded() const { return impl_->decoded; }
std::int64_t VideoReader::seeks() const { return impl_->n_seeks; }

}  // namespace tribev2::media

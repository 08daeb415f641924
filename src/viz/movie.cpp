#include "tribev2/viz/movie.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string_view>

#include "tribev2/core/error.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;

namespace {
std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}
}  // namespace

struct Mp4Writer::Impl {
  fs::path path, tmp;
  AVFormatContext* fmt = nullptr;
  AVCodecContext* enc = nullptr;
  AVStream* stream = nullptr;
  SwsContext* sws = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  std::int64_t next_pts = 0;
  std::string encoder;
  int width = 0, height = 0;
  bool finished = false;

  ~Impl() {
    if (pkt) av_packet_free(&pkt);
    if (frame) av_frame_free(&frame);
    if (sws) sws_freeContext(sws);
    if (enc) avcodec_free_context(&enc);
    if (fmt) {
      if (fmt->pb) avio_closep(&fmt->pb);
      avformat_free_context(fmt);
    }
    if (!finished && !tmp.empty()) {
      std::error_code ec;
      fs::remove(tmp, ec);
    }
  }

  void drain(bool flush) {
    int rc = avcodec_send_frame(enc, flush ? nullptr : frame);
    if (rc < 0) fail(path.string(), ": encoding a frame failed: ", av_error(rc));
    for (;;) {
      rc = avcodec_receive_packet(enc, pkt);
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
      if (rc < 0) fail(path.string(), ": encoding failed: ", av_error(rc));
      av_packet_rescale_ts(pkt, enc->time_base, stream->time_base);
      pkt->stream_index = stream->index;
      rc = av_interleaved_write_frame(fmt, pkt);
      if (rc < 0) fail(path.string(), ": writing a packet failed: ", av_error(rc));
    }
  }
};

Mp4Writer::Mp4Writer(const fs::path& path, int width, int height, double fps, const std::string& encoder, int crf,
                     int threads, const std::string& preset)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  TRIBEV2_CHECK(width > 0 && height > 0 && width % 2 == 0 && height % 2 == 0, path.string(),
                ": video size must be positive and even, got ", width, "x", height);
  TRIBEV2_CHECK(fps > 0 && fps <= 240 && std::isfinite(fps), "fps must be in (0, 240], got ", fps);
  TRIBEV2_CHECK(crf >= 0 && crf <= 51, "crf must be in [0, 51], got ", crf);
  // FFmpeg's encoders print statistics at the default log level; keep stderr for our messages.
  if (av_log_get_level() > AV_LOG_ERROR) av_log_set_level(AV_LOG_ERROR);
  m.path = path;
  m.width = width;
  m.height = height;
  const AVCodec* codec = nullptr;
  if (encoder == "auto" || encoder == "libx264") {
    codec = avcodec_find_encoder_by_name("libx264");
    if (!codec && encoder == "libx264") fail("this FFmpeg build has no libx264 encoder (use --encoder mpeg4)");
  }
  if (!codec && (encoder == "auto" || encoder == "mpeg4")) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (!codec) fail("no video encoder '", encoder, "' in this FFmpeg build (expected auto, libx264 or mpeg4)");
  m.encoder = codec->name;
  std::random_device rd;
  m.tmp = path.parent_path() / (".tmp-" + path.filename().string() + "-" + std::to_string(rd()) + ".mp4");
  if (!path.parent_path().empty()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
  }
  int rc = avformat_alloc_output_context2(&m.fmt, nullptr, "mp4", m.tmp.c_str());
  if (rc < 0 || !m.fmt) fail(path.string(), ": cannot create an MP4 container: ", av_error(rc));
  m.enc = avcodec_alloc_context3(codec);
  if (!m.enc) fail("cannot allocate the video encoder");
  const AVRational rate = av_d2q(fps, 100000);
  m.enc->width = width;
  m.enc->height = height;
  m.enc->pix_fmt = AV_PIX_FMT_YUV420P;
  m.enc->time_base = av_inv_q(rate);
  m.enc->framerate = rate;
  m.enc->gop_size = std::max(1, static_cast<int>(std::lround(fps * 10)));
  m.enc->thread_count = std::max(0, threads);
  if (m.encoder == "libx264") {
    av_opt_set(m.enc->priv_data, "crf", std::to_string(crf).c_str(), 0);
    // libx264 only rejects a bad preset when the encoder opens, with a bare "Invalid argument".
    static constexpr std::string_view kPresets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                                    "medium",    "slow",      "slower",   "veryslow", "placebo"};
    if (std::find(std::begin(kPresets), std::end(kPresets), preset) == std::end(kPresets))
      fail("unknown libx264 preset '", preset, "' (ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow)");
    av_opt_set(m.enc->priv_data, "preset", preset.c_str(), 0);
    // No macroblock-tree rate control: libx264's AVX-512 MB-tree code (x264 0.164, ffmpeg 5.1 in
    // Debian 12) reads heap memory it never wrote when the width in macroblocks is not a multiple
    // of 8, so the bitstream depended on what the process's heap held before (glibc leaves
    // random tcache keys and pointers there): the same command gave different MP4s now and then.
    // Without MB-tree the encoder is a function of its input frames. Cost: at the same crf MB-tree
    // would spend fewer bits on static regions; our movies are short and at crf 18 anyway.
    if ((rc = av_opt_set_int(m.enc->priv_data, "mbtree", 0, 0)) < 0)
      fail("cannot turn off libx264's macroblock-tree rate control: ", av_error(rc));
  } else {
    m.enc->flags |= AV_CODEC_FLAG_QSCALE;
    m.enc->global_quality = FF_QP2LAMBDA * 3;
  }
  if (m.fmt->oformat->flags & AVFMT_GLOBALHEADER) m.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if ((rc = avcodec_open2(m.enc, codec, nullptr)) < 0) fail("cannot open the ", m.encoder, " encoder: ", av_error(rc));
  m.stream = avformat_new_stream(m.fmt, nullptr);
  if (!m.stream) fail("cannot add a video stream");
  m.stream->time_base = m.enc->time_base;
  m.stream->avg_frame_rate = rate;
  if ((rc = avcodec_parameters_from_context(m.stream->codecpar, m.enc)) < 0) fail("codec parameters: ", av_error(rc));
  if ((rc = avio_open(&m.fmt->pb, m.tmp.c_str(), AVIO_FLAG_WRITE)) < 0)
    fail(path.string(), ": cannot open for writing: ", av_error(rc));
  if ((rc = avformat_write_header(m.fmt, nullptr)) < 0) fail(path.string(), ": cannot write the MP4 header: ", av_error(rc));
  // cairo RGB24 pixels are 32-bit words 0x00RRGGBB: bytes B, G, R, 0 on little-endian machines.
  const AVPixelFormat src = std::endian::native == std::endian::little ? AV_PIX_FMT_BGR0 : AV_PIX_FMT_0RGB;
  m.sws = sws_getContext(width, height, src, width, height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr);
  if (!m.sws) fail("cannot create the colour converter");
  m.frame = av_frame_alloc();
  m.pkt = av_packet_alloc();
  if (!m.frame || !m.pkt) fail("cannot allocate video frames");
  m.frame->format = AV_PIX_FMT_YUV420P;
  m.frame->width = width;
  m.frame->height = height;
  if ((rc = av_frame_get_buffer(m.frame, 0)) < 0) fail("cannot allocate a video frame: ", av_error(rc));
}

Mp4Writer::~Mp4Writer() = default;

const std::string& Mp4Writer::encoder() const { return impl_->encoder; }

void Mp4Writer::add_frame(std::span<const std::uint8_t> bgra, int stride) {
  auto& m = *impl_;
  TRIBEV2_CHECK(!m.finished, "add_frame after finish");
  TRIBEV2_CHECK(stride >= 4 * m.width && bgra.size() >= static_cast<std::size_t>(stride) * static_cast<std::size_t>(m.height),
                "add_frame: buffer of ", bgra.size(), " bytes (stride ", stride, ") is too small for ", m.width, "x", m.height);
  int rc = av_frame_make_writable(m.frame);
  if (rc < 0) fail("video frame not writable: ", av_error(rc));
  const std::uint8_t* src[4] = {bgra.data(), nullptr, nullptr, nullptr};
  const int src_stride[4] = {stride, 0, 0, 0};
  sws_scale(m.sws, src, src_stride, 0, m.height, m.frame->data, m.frame->linesize);
  m.frame->pts = m.next_pts++;
  m.drain(false);
}

void Mp4Writer::finish() {
  auto& m = *impl_;
  if (m.finished) return;
  m.drain(true);
  int rc = av_write_trailer(m.fmt);
  if (rc < 0) fail(m.path.string(), ": cannot finish the MP4: ", av_error(rc));
  avio_closep(&m.fmt->pb);
  std::error_code ec;
  fs::rename(m.tmp, m.path, ec);
  if (ec) fail(m.path.string(), ": cannot move the finished movie into place: ", ec.message());
  m.finished = true;
}

void set_interpolated_fps(MovieOptions& o, double fps, std::string_view what) {
  TRIBEV2_CHECK(std::isfinite(fps) && fps >= 1 && fps <= 120, what, " must be in [1, 120] frames per second, got ", fps);
  o.frames_per_row = static_cast<int>(std::lround(fps));
  o.fps = o.frames_per_row;
}

std::string write_movie(const Context& ctx, const BrainSurface& surface, std::span<const float> rows, std::int64_t n_rows,
                        std::span<const double> row_times, const MovieOptions& o, const fs::path& out) {
  TRIBEV2_CHECK(n_rows >= 1, "a movie needs at least one row");
  TRIBEV2_CHECK(static_cast<std::int64_t>(rows.size()) == n_rows * kFsaverage5Outputs, "movie: ", rows.size(),
                " values for ", n_rows, " rows of ", kFsaverage5Outputs);
  TRIBEV2_CHECK(row_times.empty() || static_cast<std::int64_t>(row_times.size()) == n_rows, "movie: ", row_times.size(),
                " row times for ", n_rows, " rows");
  TRIBEV2_CHECK(o.frames_per_row >= 1 && o.frames_per_row <= 120, "frames per row must be in [1, 120], got ", o.frames_per_row);
  TRIBEV2_CHECK(o.captions.empty() || static_cast<std::int64_t>(o.captions.size()) == n_rows, "movie: ", o.captions.size(),
                " captions for ", n_rows, " rows");
  FigureOptions fo = o.figure;
  fo.caption_band = fo.caption_band || !o.captions.empty();
  BrainFigure fig(ctx, surface, fo, 1, true);
  // One set of colour limits for the whole series so that colours mean the same in every frame.
  fig.set_limits(compute_limits(rows, o.figure.limits));
  const int w = fig.pixel_width(), h = fig.pixel_height();
  const int vw = w + (w & 1), vh = h + (h & 1);  // yuv420p needs even sizes: pad with white
  Mp4Writer writer(out, vw, vh, o.fps, o.encoder, o.crf, ctx.threads(), o.preset);
  if (o.encoder == "auto" && writer.encoder() != "libx264" && o.log)
    o.log("warning: this FFmpeg has no libx264 encoder; writing MPEG-4 Part 2 video instead of H.264");
  const int stride = 4 * w, vstride = 4 * vw;
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(stride) * static_cast<std::size_t>(h));
  std::vector<std::uint8_t> video(static_cast<std::size_t>(vstride) * static_cast<std::size_t>(vh), 255);
  std::vector<float> mixed(static_cast<std::size_t>(kFsaverage5Outputs));
  const std::int64_t total = (n_rows - 1) * o.frames_per_row + 1;
  auto time_of = [&](std::int64_t r) { return row_times.empty() ? static_cast<double>(r) : row_times[static_cast<std::size_t>(r)]; };
  for (std::int64_t j = 0; j < total; ++j) {
    const std::int64_t r0 = j / o.frames_per_row;
    const double frac = static_cast<double>(j % o.frames_per_row) / o.frames_per_row;
    std::span<const float> values = rows.subspan(static_cast<std::size_t>(r0 * kFsaverage5Outputs),
                                                 static_cast<std::size_t>(kFsaverage5Outputs));
    double t = time_of(r0);
    if (frac > 0) {
      const auto next = rows.subspan(static_cast<std::size_t>((r0 + 1) * kFsaverage5Outputs), static_cast<std::size_t>(kFsaverage5Outputs));
      for (std::size_t i = 0; i < mixed.size(); ++i)
        mixed[i] = static_cast<float>((1 - frac) * values[i] + frac * next[i]);
      values = mixed;
      t = (1 - frac) * t + frac * time_of(r0 + 1);
    }
    const MapFrame frame{values, time_label(t)};
    if (!o.captions.empty()) fig.set_caption(o.captions[static_cast<std::size_t>(r0)]);
    fig.raster_maps(std::span(&frame, 1), buf, stride);
    for (int y = 0; y < h; ++y)
      std::copy_n(buf.data() + static_cast<std::ptrdiff_t>(y) * stride, stride, video.data() + static_cast<std::ptrdiff_t>(y) * vstride);
    writer.add_frame(video, vstride);
    if (o.progress) o.progress(j + 1, total);
  }
  writer.finish();
  return writer.encoder();
}

}  // namespace tribev2::viz

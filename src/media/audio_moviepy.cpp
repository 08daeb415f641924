// decode_audio_like_moviepy: the 44.1 kHz 16-bit stereo WAV that upstream's
// ExtractAudioFromVideo writes with moviepy (VideoFileClip(path).audio.write_audiofile).
//
// moviepy 2.x reads the audio through `ffmpeg -i FILE -vn -f s16le -acodec pcm_s16le
// -ar 44100 -ac 2 -` (FFMPEG_AudioReader defaults: fps 44100, nbytes 2, nchannels 2), takes
// the clip duration from the "Duration: HH:MM:SS.ss" line ffmpeg prints (the container
// duration rounded to centiseconds), writes int(44100 * duration) frames, pads with zeros
// where ffmpeg delivered fewer, and quantises with clip(x, -0.99, 0.99) * 2^15 -> int16
// (truncation). We reproduce each step with the FFmpeg libraries: the command line converts
// with libswresample at its default options, as done here.
extern "C" {
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "audio_ffmpeg.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/media/audio.hpp"

namespace tribev2::media {

namespace {

constexpr int kMoviepyRate = 44100;
constexpr int kMoviepyChannels = 2;
constexpr double kMaxHours = 48.0;  // a corrupt header must not make us allocate terabytes of zeros

struct SwrFreer {
  void operator()(SwrContext* p) const { swr_free(&p); }
};

// The duration moviepy parses from ffmpeg's "Duration:" line: FFmpeg prints the container
// duration + 5000 us, truncated to centiseconds; moviepy sums 3600 * h + 60 * m + float(s.cc).
double moviepy_duration(const AVFormatContext& fmt, const std::string& name) {
  TRIBEV2_CHECK(fmt.duration != AV_NOPTS_VALUE && fmt.duration >= 0, name,
                ": the container states no duration (ffmpeg prints 'Duration: N/A'), which moviepy cannot read");
  std::int64_t d = fmt.duration;
  if (d <= INT64_MAX - 5000) d += 5000;
  const std::int64_t secs_total = d / AV_TIME_BASE;
  const std::int64_t us = d % AV_TIME_BASE;
  const std::int64_t hours = secs_total / 3600;
  const std::int64_t mins = (secs_total / 60) % 60;
  const std::int64_t secs = secs_total % 60;
  char text[32];
  std::snprintf(text, sizeof text, "%02lld.%02lld", static_cast<long long>(secs),
                static_cast<long long>((100 * us) / AV_TIME_BASE));
  const double s = std::strtod(text, nullptr);
  return 0.0 + 3600.0 * static_cast<double>(hours) + 60.0 * static_cast<double>(mins) + s;
}

}  // namespace

AudioBuffer decode_audio_like_moviepy(const std::filesystem::path& video_path) {
  audio_detail::AudioInput input(video_path);
  const std::string& name = input.name();
  const double duration = moviepy_duration(*input.format(), name);
  TRIBEV2_CHECK(duration <= kMaxHours * 3600.0, name, ": container duration ", duration, " s exceeds the ",
                kMaxHours, " h this reader accepts");
  const auto total = static_cast<std::int64_t>(kMoviepyRate * duration);  // int(fps * duration)

  AVCodecContext* dec = input.codec();
  AVChannelLayout in_layout{};
  if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&in_layout, dec->ch_layout.nb_channels);  // what ffmpeg guesses
  } else if (av_channel_layout_copy(&in_layout, &dec->ch_layout) < 0) {
    fail(name, ": cannot copy the channel layout");
  }
  AVChannelLayout out_layout{};
  av_channel_layout_default(&out_layout, kMoviepyChannels);
  SwrContext* raw = nullptr;
  int r = swr_alloc_set_opts2(&raw, &out_layout, AV_SAMPLE_FMT_S16, kMoviepyRate, &in_layout, dec->sample_fmt,
                              dec->sample_rate, 0, nullptr);
  av_channel_layout_uninit(&in_layout);
  av_channel_layout_uninit(&out_layout);
  std::unique_ptr<SwrContext, SwrFreer> swr(raw);
  if (r < 0 || !swr) fail(name, ": cannot set up the resampler (", audio_detail::av_error_text(r), ")");
  r = swr_init(swr.get());
  if (r < 0) fail(name, ": cannot set up the resampler (", audio_detail::av_error_text(r), ")");

  std::vector<std::int16_t> pcm;  // interleaved stereo at 44.1 kHz, as ffmpeg would pipe it
  std::vector<std::int16_t> block;
  auto convert = [&](const std::uint8_t** in, int in_count) {
    const int cap = swr_get_out_samples(swr.get(), in_count);
    if (cap <= 0) return;
    block.resize(static_cast<std::size_t>(cap) * kMoviepyChannels);
    auto* out_ptr = reinterpret_cast<std::uint8_t*>(block.data());
    const int got = swr_convert(swr.get(), &out_ptr, cap, in, in_count);
    if (got < 0) fail(name, ": resampling failed (", audio_detail::av_error_text(got), ")");
    pcm.insert(pcm.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(got) * kMoviepyChannels);
  };
  const auto limit = static_cast<std::size_t>(std::max<std::int64_t>(total, 0)) * kMoviepyChannels;
  while (pcm.size() < limit &&
         input.decode_next([&](const AVFrame& f) {
           convert(const_cast<const std::uint8_t**>(f.extended_data), f.nb_samples);
         })) {
  }
  if (pcm.size() < limit) convert(nullptr, 0);  // flush the resampler's delay line

  AudioBuffer out;
  out.sample_rate = kMoviepyRate;
  out.channels = kMoviepyChannels;
  out.samples.assign(limit, 0.0f);  // moviepy pads with zeros past the decoded audio
  const std::size_t have = std::min(limit, pcm.size());
  for (std::size_t i = 0; i < have; ++i) {
    // to_soundarray(quantize=True): clip to +-0.99, times 2^15, astype(int16) truncates.
    const double x = std::clamp(static_cast<double>(pcm[i]) / 32768.0, -0.99, 0.99);
    const auto q = static_cast<std::int16_t>(std::trunc(32768.0 * x));
    out.samples[i] = static_cast<float>(q) / 32768.0f;
  }
  return out;
}

}  // namespace tribev2::media

// The audio half of the media layer: WAV fixtures decode to their exact samples; other
// formats and video containers (generated with the ffmpeg command line at test time) decode
// to what the ffmpeg CLI decodes; offset/duration rule; sequential reads; moviepy's WAV;
// clear errors for missing, unreadable, audio-less and damaged files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

#include "audio_test_util.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/media/audio.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;

namespace {

// The int16 samples of a canonical 16-bit PCM WAV, read with a minimal RIFF walk.
std::vector<std::int16_t> wav_pcm16(const std::filesystem::path& p, int& channels, int& rate) {
  const std::string b = read_bytes(p);
  std::size_t pos = 12;
  std::vector<std::int16_t> out;
  while (pos + 8 <= b.size()) {
    std::uint32_t size;
    std::memcpy(&size, b.data() + pos + 4, 4);
    const std::string tag = b.substr(pos, 4);
    if (tag == "fmt ") {
      std::uint16_t ch;
      std::uint32_t sr;
      std::memcpy(&ch, b.data() + pos + 10, 2);
      std::memcpy(&sr, b.data() + pos + 12, 4);
      channels = ch;
      rate = static_cast<int>(sr);
    } else if (tag == "data") {
      out.resize(size / 2);
      std::memcpy(out.data(), b.data() + pos + 8, out.size() * 2);
      return out;
    }
    pos += 8 + size + (size & 1);
  }
  return out;
}

// A short stereo 48 kHz test tone as the ffmpeg CLI generates it.
const char* kTone = "-f lavfi -i \"aevalsrc=0.5*sin(2*PI*440*t)|0.3*sin(2*PI*660*t+1):s=48000:d=0.6\"";
const char* kPicture = "-f lavfi -i \"testsrc=size=32x32:rate=10:duration=0.6\"";

}  // namespace

TEST(MediaAudio, FloatWavFixtureDecodesExactly) {
  const auto buf = media::decode_audio(af("audio/mono16k.wav"));
  EXPECT_EQ(buf.sample_rate, 16000);
  EXPECT_EQ(buf.channels, 1);
  const Tensor expected = npy("mono16k/waveform_16k.npy");  // 16 kHz input: resampling is the identity
  ASSERT_EQ(buf.frames(), expected.dim(0));
  EXPECT_EQ(max_abs_diff(from_vector(buf.samples, {buf.frames(), 1}), expected), 0.0);
  const auto info = media::probe_audio(af("audio/mono16k.wav"));
  EXPECT_EQ(info.frames, 196000);
  EXPECT_DOUBLE_EQ(info.duration, 12.25);
  EXPECT_EQ(info.container, "wav");
  EXPECT_FALSE(info.has_video);
  EXPECT_TRUE(media::has_audio(af("audio/mono16k.wav")));
  EXPECT_EQ(media::count_audio_frames(af("audio/mono16k.wav")), 196000);
}

TEST(MediaAudio, Pcm16StereoWavFixtureDecodesToInt16Over32768) {
  int channels = 0, rate = 0;
  const auto pcm = wav_pcm16(af("audio/stereo44k.wav"), channels, rate);
  ASSERT_EQ(channels, 2);
  ASSERT_EQ(rate, 44100);
  const auto buf = media::decode_audio(af("audio/stereo44k.wav"));
  EXPECT_EQ(buf.sample_rate, 44100);
  EXPECT_EQ(buf.channels, 2);
  ASSERT_EQ(buf.samples.size(), pcm.size());
  ASSERT_EQ(buf.frames(), 540451);
  for (std::size_t i = 0; i < pcm.size(); ++i) ASSERT_EQ(buf.samples[i], static_cast<float>(pcm[i]) / 32768.0f) << i;
}

TEST(MediaAudio, OffsetAndDurationFollowSoundfile) {
  const auto all = media::decode_audio(af("audio/stereo44k.wav"));
  // start = round(1.5 * 44100) = 66150, frames = round(0.01 * 44100) = 441.
  const auto part = media::decode_audio(af("audio/stereo44k.wav"), 1.5, 0.01);
  ASSERT_EQ(part.frames(), 441);
  for (std::int64_t i = 0; i < 441 * 2; ++i) EXPECT_EQ(part.samples[static_cast<std::size_t>(i)], all.samples[static_cast<std::size_t>(66150 * 2 + i)]);
  // Half-to-even: offset 0.5/16000 s -> round(0.5) = 0; 1.5/16000 -> 2.
  const auto a = media::decode_audio(af("audio/mono16k.wav"), 0.5 / 16000, 3.0 / 16000);
  const auto m = media::decode_audio(af("audio/mono16k.wav"));
  ASSERT_EQ(a.frames(), 3);
  EXPECT_EQ(a.samples[0], m.samples[0]);
  const auto b = media::decode_audio(af("audio/mono16k.wav"), 1.5 / 16000, 1.0 / 16000);
  ASSERT_EQ(b.frames(), 1);
  EXPECT_EQ(b.samples[0], m.samples[2]);
  // Past the end: truncated, as soundfile does; an offset beyond the end is an error.
  EXPECT_EQ(media::decode_audio(af("audio/mono16k.wav"), 12.0, 5.0).frames(), 4000);
  EXPECT_EQ(media::decode_audio(af("audio/mono16k.wav"), 12.25).frames(), 0);
  EXPECT_THROW_MSG(media::decode_audio(af("audio/mono16k.wav"), 13.0), "only 196000 frames");
  EXPECT_THROW_MSG(media::decode_audio(af("audio/mono16k.wav"), -1.0), "offset must be >= 0");
}

TEST(MediaAudio, SequentialReaderMatchesWholeDecode) {
  const auto all = media::decode_audio(af("audio/stereo44k.wav"));
  media::AudioReader r(af("audio/stereo44k.wav"));
  EXPECT_EQ(r.sample_rate(), 44100);
  std::vector<float> got;
  const std::int64_t ranges[][2] = {{0, 1000}, {1000, 1}, {5000, 7777}, {300000, 240451}};
  std::vector<float> expected;
  for (const auto& rg : ranges) {
    const auto b = r.read(rg[0], rg[1]);
    ASSERT_EQ(b.frames(), rg[1]);
    got.insert(got.end(), b.samples.begin(), b.samples.end());
    expected.insert(expected.end(), all.samples.begin() + rg[0] * 2, all.samples.begin() + (rg[0] + rg[1]) * 2);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(r.position(), 540451);
  EXPECT_THROW_MSG(r.read(10, 5), "forward only");
  EXPECT_EQ(r.read(540451, 10).frames(), 0);
}

TEST(MediaAudio, WriteWavRoundTrips) {
  TempDir tmp;
  const auto src = synth(22050, 2, 0.3);
  media::write_wav(tmp / "f.wav", src, true);
  const auto f = media::decode_audio(tmp / "f.wav");
  EXPECT_EQ(f.sample_rate, 22050);
  EXPECT_EQ(f.channels, 2);
  EXPECT_EQ(f.samples, src.samples);
  // 16-bit: values that came from int16 / 32768 come back exactly.
  media::AudioBuffer q = src;
  for (float& v : q.samples) v = std::nearbyint(v * 32768.0f) / 32768.0f;
  media::write_wav(tmp / "q.wav", q, false);
  const auto g = media::decode_audio(tmp / "q.wav");
  EXPECT_EQ(g.samples, q.samples);
  EXPECT_EQ(media::probe_audio(tmp / "q.wav").frames, q.frames());
  EXPECT_THROW_MSG(media::write_wav(tmp / "bad.wav", media::AudioBuffer{}, false), "cannot write a WAV");
}

TEST(MediaAudio, CompressedFormatsAndVideoContainersMatchTheFfmpegCli) {
  if (!have_ffmpeg()) GTEST_SKIP() << "the ffmpeg command line is not installed (scripts/install-deps.sh --test)";
  TempDir tmp;
  struct Case {
    const char* file;
    const char* args;
    bool video;
  };
  const Case cases[] = {
      {"a.mp3", "-c:a libmp3lame -b:a 96k", false},
      {"a.flac", "-c:a flac", false},
      {"a.ogg", "-c:a libvorbis -q:a 2", false},
      {"a.opus.webm", "-c:a libopus -b:a 48k", false},
      {"v.mp4", "-c:v mpeg4 -c:a aac -b:a 96k -shortest", true},
      {"v.mkv", "-c:v ffv1 -c:a flac -shortest", true},
      {"v.mov", "-c:v mpeg4 -c:a pcm_s16le -shortest", true},
      {"v.webm", "-c:v libvpx -b:v 50k -c:a libvorbis -shortest", true},
      {"v.avi", "-c:v mpeg4 -c:a libmp3lame -shortest", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const auto path = tmp / c.file;
    const std::string gen = std::string("ffmpeg -y -hide_banner ") + (c.video ? kPicture + std::string(" ") : "") + kTone +
                            " " + c.args + " '" + path.string() + "'";
    ASSERT_EQ(run_shell(gen), 0) << gen;
    const auto info = media::probe_audio(path);
    EXPECT_EQ(info.has_video, c.video);
    EXPECT_EQ(info.channels, 2);
    const auto buf = media::decode_audio(path);
    // What the ffmpeg command line decodes (float, same rate and channels).
    const auto raw = tmp / "cli.f32";
    ASSERT_EQ(run_shell("ffmpeg -y -hide_banner -i '" + path.string() + "' -vn -f f32le -acodec pcm_f32le '" +
                        raw.string() + "'"),
              0);
    const auto cli = read_f32le(raw);
    ASSERT_EQ(buf.samples.size(), cli.size());
    EXPECT_EQ(buf.samples, cli);
    EXPECT_EQ(media::count_audio_frames(path), buf.frames());
    EXPECT_TRUE(media::has_audio(path));
  }
}

TEST(MediaAudio, MoviepyWavMatchesTheFfmpegPipeAndMoviepysRules) {
  if (!have_ffmpeg()) GTEST_SKIP() << "the ffmpeg command line is not installed";
  TempDir tmp;
  // 48 kHz stereo AAC in MP4, and a mono 22.05 kHz track in MKV (upmixed to 2 channels),
  // with a loud tone that crosses moviepy's 0.99 clip.
  const std::string loud = "-f lavfi -i \"aevalsrc=1.2*sin(2*PI*300*t):s=22050:d=0.6\"";
  struct Case {
    const char* file;
    std::string audio;
    const char* args;
  };
  const Case cases[] = {{"v.mp4", kTone, "-c:v mpeg4 -c:a aac -shortest"},
                        {"m.mkv", loud, "-c:v ffv1 -c:a pcm_s16le -shortest"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const auto path = tmp / c.file;
    ASSERT_EQ(run_shell(std::string("ffmpeg -y -hide_banner ") + kPicture + " " + c.audio + " " + c.args + " '" +
                        path.string() + "'"),
              0);
    const auto got = media::decode_audio_like_moviepy(path);
    EXPECT_EQ(got.sample_rate, 44100);
    EXPECT_EQ(got.channels, 2);
    // moviepy: ffmpeg -i FILE -vn -f s16le -acodec pcm_s16le -ar 44100 -ac 2 -, the duration
    // from the "Duration:" line, int(44100 * duration) frames padded with zeros, clip 0.99.
    const auto raw = tmp / "pipe.s16";
    ASSERT_EQ(run_shell("ffmpeg -y -hide_banner -i '" + path.string() +
                        "' -vn -f s16le -acodec pcm_s16le -ar 44100 -ac 2 '" + raw.string() + "'"),
              0);
    const auto pipe = read_s16le(raw);
    const auto info_txt = tmp / "info.txt";
    [[maybe_unused]] const int rc =
        std::system(("ffmpeg -hide_banner -i '" + path.string() + "' > /dev/null 2> '" + info_txt.string() + "'").c_str());
    const std::string info = read_bytes(info_txt);
    const auto pos = info.find("Duration: ");
    ASSERT_NE(pos, std::string::npos);
    const int h = std::stoi(info.substr(pos + 10, 2)), m = std::stoi(info.substr(pos + 13, 2));
    const double s = std::stod(info.substr(pos + 16, 5));
    const double duration = 3600.0 * h + 60.0 * m + s;
    const auto total = static_cast<std::int64_t>(44100 * duration);
    ASSERT_EQ(got.frames(), total);
    for (std::int64_t i = 0; i < total * 2; ++i) {
      const double x = i < static_cast<std::int64_t>(pipe.size()) ? pipe[static_cast<std::size_t>(i)] / 32768.0 : 0.0;
      const auto q = static_cast<std::int16_t>(std::trunc(32768.0 * std::clamp(x, -0.99, 0.99)));
      ASSERT_EQ(got.samples[static_cast<std::size_t>(i)], static_cast<float>(q) / 32768.0f) << i;
    }
  }
}

TEST(MediaAudio, ClearErrors) {
  TempDir tmp;
  EXPECT_THROW_MSG(media::decode_audio(tmp / "missing.wav"), "no such file");
  EXPECT_THROW_MSG(media::probe_audio(tmp.path()), "is a directory");
  write_bytes(tmp / "text.wav", "this is not audio at all, just some text\n");
  EXPECT_THROW_MSG(media::decode_audio(tmp / "text.wav"), "text.wav");
  write_bytes(tmp / "empty.wav", "");
  EXPECT_THROW_MSG(media::decode_audio(tmp / "empty.wav"), "empty.wav");
  // A header-only WAV: no samples at all.
  media::write_wav(tmp / "zero.wav", media::AudioBuffer{16000, 1, {}}, false);
  EXPECT_EQ(media::decode_audio(tmp / "zero.wav").frames(), 0);
  // Truncated data: the samples that are there.
  const std::string full = read_bytes(af("audio/stereo44k.wav"));
  write_bytes(tmp / "cut.wav", full.substr(0, 44 + 4 * 1000 + 3));
  const auto cut = media::decode_audio(tmp / "cut.wav");
  EXPECT_GE(cut.frames(), 1000);
  EXPECT_LE(cut.frames(), 1001);
  // Corrupt header fields.
  std::string bad = full.substr(0, 4096);
  bad[22] = 0;  // channels = 0
  bad[23] = 0;
  write_bytes(tmp / "ch0.wav", bad);
  EXPECT_THROW(media::decode_audio(tmp / "ch0.wav"), Error);
  if (have_ffmpeg()) {
    ASSERT_EQ(run_shell(std::string("ffmpeg -y -hide_banner ") + kPicture + " -c:v mpeg4 '" + (tmp / "silent.mp4").string() + "'"), 0);
    EXPECT_FALSE(media::has_audio(tmp / "silent.mp4"));
    EXPECT_THROW_MSG(media::decode_audio(tmp / "silent.mp4"), "no audio stream");
    EXPECT_THROW_MSG(media::decode_audio_like_moviepy(tmp / "silent.mp4"), "no audio stream");
  }
}

TEST(MediaAudio, ArbitraryBytesNeverCrash) {
  // The fuzz target's entry, on a few hundred mutations of a real WAV.
  const std::string wav = read_bytes(af("audio/stereo44k.wav")).substr(0, 3000);
  std::mt19937 rng(7);
  for (int it = 0; it < 300; ++it) {
    std::string b = wav.substr(0, 44 + rng() % 2000);
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) b[rng() % std::min<std::size_t>(b.size(), 64)] = static_cast<char>(rng());
    try {
      const auto out = media::decode_audio_bytes(std::as_bytes(std::span<const char>(b.data(), b.size())), "mutant", "wav");
      EXPECT_EQ(out.samples.size() % static_cast<std::size_t>(std::max(out.channels, 1)), 0u);
    } catch (const Error&) {
    }
  }
}

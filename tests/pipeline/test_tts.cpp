// espeak-ng speech with word timings: monotonic, inside the audio, covering every word; the
// timing rules on synthetic event lists; the WAV writer.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"
#include "tribev2/pipeline/tts.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/media/audio.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
namespace fs = std::filesystem;


namespace {

const char* kText =
    "What brings you to the land of the gatekeepers? I asked her in 1984, and she didn't answer - très bien...\n\n"
    "The Quick brown fox (a “fox”) jumps over 3.14 lazy dogs near Paris; Mr. O'Neil e-mails McDonald's at 10:30!";

void expect_good_timings(const Speech& sp, std::size_t expected_words) {
  ASSERT_GT(sp.sample_rate, 0);
  ASSERT_FALSE(sp.samples.empty());
  ASSERT_EQ(sp.words.size(), expected_words);
  double prev_stop = 0.0;
  for (const auto& w : sp.words) {
    // Spans are adjacent or apart in samples; start + duration in seconds may exceed the next
    // start by a rounding error.
    EXPECT_GE(w.start, prev_stop - 1e-9) << w.text << ": timings must be monotonic and not overlap";
    EXPECT_GT(w.duration, 0.0) << w.text;
    EXPECT_LE(w.stop(), sp.duration() + 1e-12) << w.text << ": must lie inside the audio";
    prev_stop = w.stop();
  }
}

void expect_same_speech(const Speech& got, const Speech& want) {
  EXPECT_EQ(got.sample_rate, want.sample_rate);
  EXPECT_EQ(got.samples.size(), want.samples.size());
  EXPECT_TRUE(got.samples == want.samples) << "the samples differ";
  ASSERT_EQ(got.words.size(), want.words.size());
  for (std::size_t i = 0; i < want.words.size(); ++i) {
    EXPECT_EQ(got.words[i].text, want.words[i].text);
    EXPECT_EQ(got.words[i].start, want.words[i].start) << want.words[i].text;  // exact: same samples, same events
    EXPECT_EQ(got.words[i].duration, want.words[i].duration) << want.words[i].text;
  }
}

// The children of `pid` that are alive (not zombies), from /proc.
std::vector<pid_t> live_children(pid_t pid) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    std::istringstream rest(line.substr(close + 1));
    rest >> state >> ppid;
    if (ppid == pid && state != 'Z') out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace

TEST(Tts, WordTimingsCoverEveryWordMonotonicInsideTheAudio) {
  const auto tokens = tokenize_words(kText);
  std::size_t n_words = 0;
  for (const auto& t : tokens) n_words += t.is_word ? 1 : 0;
  EXPECT_EQ(n_words, 39u);  // "-" is not a word; "(a" and "“fox”)" are
  const Speech sp = synthesize_speech(kText, {});
  EXPECT_EQ(sp.sample_rate, 22050);
  expect_good_timings(sp, n_words);
  std::size_t k = 0;
  for (const auto& t : tokens)
    if (t.is_word) {
      EXPECT_EQ(sp.words[k++].text, t.text);
    }
  // Speech lasts a few seconds for 39 words; the first word starts near the beginning.
  EXPECT_GT(sp.duration(), 5.0);
  EXPECT_LT(sp.duration(), 30.0);
  EXPECT_LT(sp.words.front().start, 0.5);
  // Every synthesis starts from a fresh espeak-ng: the second is the first, bit for bit.
  const Speech again = synthesize_speech(kText, {});
  expect_same_speech(again, sp);
}

// Regression: espeak-ng keeps its synthesiser state (pitch flutter and wave phases, resonator
// memories, rand() for breathy voices) in process globals, so the same text came out a few
// samples longer or shorter, with word timings a few ms apart, depending on what the process
// had synthesised before (`tribev2 batch` items, the Python API). Now each synthesis runs in a
// fresh child process: history, the parent's rand() draws and threads make no difference.
TEST(Tts, SameTextSameSamplesWhateverTheProcessSynthesisedBefore) {
  const std::string text = "Hello there. How are you today? I am fine, thank you.";
  const Speech first = synthesize_speech(text, {});
  SpeechOptions fr;
  fr.voice = "fr";
  fr.rate_wpm = 300;
  (void)synthesize_speech("Le renard brun saute par-dessus le chien paresseux.", fr);
  (void)synthesize_speech("The quick brown fox jumps over the lazy dog.", {});
  expect_same_speech(synthesize_speech(text, {}), first);

  // The whisper variant's breath noise comes from rand(): what the parent drew does not matter.
  SpeechOptions whisper;
  whisper.voice = "en-us+whisper";
  const Speech w1 = synthesize_speech(text, whisper);
  std::srand(12345);
  for (int i = 0; i < 1000; ++i) (void)std::rand();
  const Speech w2 = synthesize_speech(text, whisper);
  std::srand(1);
  expect_same_speech(w2, w1);
  EXPECT_FALSE(w1.samples == first.samples) << "the voice option must reach the synthesiser";

  // Two threads at once: the syntheses are serialised inside (see synthesis_mutex), each gives
  // the same result. Not under AddressSanitizer: the libasan of GCC 12 / clang 14 does not lock
  // its allocator around fork(), so a fork while another thread of the process allocates (here:
  // the other test thread starting or finishing) can leave the child blocked on a lock nobody
  // holds any more. glibc's malloc is fork-safe, so the release build runs this part.
  if (kUnderAddressSanitizer) GTEST_SKIP() << "two threads forking under AddressSanitizer: see the comment above";
  Speech t1, t2;
  std::thread a([&] { t1 = synthesize_speech(text, {}); });
  std::thread b([&] { t2 = synthesize_speech(text, {}); });
  a.join();
  b.join();
  expect_same_speech(t1, first);
  expect_same_speech(t2, first);
}

// The same through the CLI, in two processes: an item of `tribev2 batch` synthesised after
// another one, and the same text alone in a fresh `tribev2 events`, give the same WAV bytes
// and the same word timings.
TEST(Tts, BatchItemAndFreshProcessGiveTheSameWavAndTimings) {
  TempDir tmp;
  write_bytes(tmp / "a.txt", "Hello there. How are you today? I am fine.");
  write_bytes(tmp / "b.txt", "The quick brown fox jumps over the lazy dog. It was a sunny day in the park.");
  write_bytes(tmp / "m.tsv", "id\ttext\na\ta.txt\nb\tb.txt\n");
  auto r = run_cli({"-q", "batch", (tmp / "m.tsv").string(), "--out", (tmp / "batch").string(), "--model",
                    fixture("brain_model/text64_pipeline").string(), "--llama",
                    fixture("text_features/tiny-llama").string(), "--modalities", "text", "--no-brain-maps"});
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_cli({"-q", "events", "--text", (tmp / "b.txt").string(), "--out", (tmp / "alone" / "events.tsv").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(tmp / "alone" / "cache" / "speech")) entries.push_back(e.path());
  ASSERT_EQ(entries.size(), 1u);
  const std::string wav = read_bytes(entries[0] / "speech.wav");
  ASSERT_GT(wav.size(), 44u);
  EXPECT_TRUE(read_bytes(tmp / "batch" / "b" / "speech.wav") == wav) << "speech.wav differs between the processes";
  // Word timings: the batch item's transcript.tsv against the words of the fresh process.
  const auto alone = events::parse_word_list_json(read_bytes(entries[0] / "words.json"), "words.json");
  const auto batch_words = events::read_transcript(tmp / "batch" / "b" / "transcript.tsv").words;
  ASSERT_EQ(batch_words.size(), alone.words.size());
  for (std::size_t i = 0; i < alone.words.size(); ++i) {
    EXPECT_EQ(batch_words[i].text, alone.words[i].text);
    EXPECT_EQ(batch_words[i].start, alone.words[i].start) << alone.words[i].text;
    EXPECT_EQ(batch_words[i].duration, alone.words[i].duration) << alone.words[i].text;
  }
}

namespace {

// `tribev2 events --text` on a long text, started in the background with stderr to a file;
// returns its pid and the pid of its synthesis child once that runs (-1 if none appeared).
std::pair<pid_t, pid_t> start_long_synthesis(const fs::path& dir) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "The people there lived simply, farming the land and telling stories by the fire. ";
  write_bytes(dir / "long.txt", text);
  const pid_t pid = spawn_with_stderr({TRIBEV2_CLI, "events", "--text", (dir / "long.txt").string(), "--out",
                                       (dir / "out" / "events.tsv").string()},
                                      dir / "stderr.txt");
  if (pid < 0) return {-1, -1};
  std::vector<pid_t> kids;
  for (int i = 0; i < 1000 && kids.empty(); ++i) {
    kids = live_children(pid);
    if (kids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (kids.empty()) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return {pid, -1};
  }
  return {pid, kids[0]};
}

// Waits for `pid`: its exit code, or 128 + the signal that killed it.
int exit_code(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

// SIGTERM (Slurm's scancel, or Ctrl-C's SIGINT) while the synthesis child runs: the parent's
// InterruptGuard exits with 143, not with a "synthesis failed" error, and the child goes with it.
TEST(Tts, InterruptDuringSynthesisStopsParentAndChild) {
  TempDir tmp;
  const auto [pid, child] = start_long_synthesis(tmp.path());
  ASSERT_GT(pid, 0);
  ASSERT_GT(child, 0) << "no synthesis child appeared: " << read_bytes(tmp / "stderr.txt");
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(exit_code(pid), 143) << read_bytes(tmp / "stderr.txt");
  EXPECT_EQ(read_bytes(tmp / "stderr.txt").find("synthesis process"), std::string::npos) << read_bytes(tmp / "stderr.txt");
  bool gone = false;
  for (int i = 0; i < 400 && !gone; ++i) {
    gone = !alive(child);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(gone) << "the synthesis child " << child << " outlived its parent";
  EXPECT_FALSE(fs::exists(tmp / "out" / "events.tsv"));
}

// A synthesis child that dies (here: SIGKILL) is an error that says so, not a hang or silence.
TEST(Tts, KilledSynthesisChildIsAnError) {
  TempDir tmp;
  const auto [pid, child] = start_long_synthesis(tmp.path());
  ASSERT_GT(pid, 0);
  ASSERT_GT(child, 0) << "no synthesis child appeared: " << read_bytes(tmp / "stderr.txt");
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(exit_code(pid), 1);
  EXPECT_NE(read_bytes(tmp / "stderr.txt").find("espeak-ng: the synthesis process was killed by signal 9"),
            std::string::npos)
      << read_bytes(tmp / "stderr.txt");
  EXPECT_FALSE(fs::exists(tmp / "out" / "events.tsv"));
}

TEST(Tts, OtherVoicesAndRates) {
  SpeechOptions fr;
  fr.voice = "fr";
  const Speech sp = synthesize_speech("Bonjour, ça va très bien. Et vous ?", fr);
  expect_good_timings(sp, 7);
  SpeechOptions fast;
  fast.rate_wpm = 350;
  const Speech quick = synthesize_speech("one two three four five six seven eight", fast);
  const Speech normal = synthesize_speech("one two three four five six seven eight", {});
  expect_good_timings(quick, 8);
  EXPECT_LT(quick.duration(), normal.duration());
}

TEST(Tts, Errors) {
  EXPECT_THROW_MSG(synthesize_speech(std::string("caf\xc3"), {}), "not valid UTF-8");
  EXPECT_THROW_MSG(synthesize_speech(" -- ... ", {}), "no words");
  SpeechOptions bad;
  bad.voice = "no-such-voice-xx";
  EXPECT_THROW_MSG(synthesize_speech("hello", bad), "espeak-ng has no voice 'no-such-voice-xx'");
  SpeechOptions slow;
  slow.rate_wpm = 10;
  EXPECT_THROW_MSG(synthesize_speech("hello", slow), "speaking rate");
  EXPECT_FALSE(is_valid_utf8(std::string("\xed\xa0\x80")));  // a surrogate
  EXPECT_FALSE(is_valid_utf8(std::string("\xc0\xaf")));      // overlong
  EXPECT_TRUE(is_valid_utf8("ça “va”"));
}

TEST(Tts, TimingRules) {
  // "aa bb cc dd": code points 0-1, 3-4, 6-7, 9-10.
  const auto tokens = tokenize_words("aa bb cc dd");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[3].begin, 9u);
  std::vector<std::int16_t> loud(1000, 1000);
  // Events for aa, cc and an end-of-clause boundary; bb has none and shares aa's span; dd
  // has none and shares cc's span up to the end.
  std::vector<WordMark> marks = {{true, 0, 0}, {true, 6, 400}, {false, 8, 700}};
  auto spans = time_tokens(tokens, marks, loud);
  EXPECT_EQ(spans[0], (std::pair<std::int64_t, std::int64_t>{0, 200}));
  EXPECT_EQ(spans[1], (std::pair<std::int64_t, std::int64_t>{200, 400}));
  EXPECT_EQ(spans[2], (std::pair<std::int64_t, std::int64_t>{400, 550}));
  EXPECT_EQ(spans[3], (std::pair<std::int64_t, std::int64_t>{550, 700}));
  // An out-of-order event is ignored; a position inside a token maps to it.
  marks = {{true, 1, 0}, {true, 3, 600}, {true, 7, 300}, {true, 9, 800}};
  spans = time_tokens(tokens, marks, loud);
  EXPECT_EQ(spans[2].first, 700);  // cc shares bb's span [600, 800)
  EXPECT_EQ(spans[3], (std::pair<std::int64_t, std::int64_t>{800, 1000}));
  // No events at all: proportional split of the whole audio.
  spans = time_tokens(tokens, {}, loud);
  EXPECT_EQ(spans[1], (std::pair<std::int64_t, std::int64_t>{250, 500}));
  // Silence at the edges of a span is trimmed.
  std::vector<std::int16_t> gaps(1000, 0);
  for (int i = 100; i < 300; ++i) gaps[static_cast<std::size_t>(i)] = 5000;
  for (int i = 600; i < 650; ++i) gaps[static_cast<std::size_t>(i)] = -5000;
  spans = time_tokens(tokenize_words("x y"), {{true, 0, 0}, {true, 2, 500}}, gaps);
  EXPECT_EQ(spans[0], (std::pair<std::int64_t, std::int64_t>{100, 300}));
  EXPECT_EQ(spans[1], (std::pair<std::int64_t, std::int64_t>{600, 650}));
}

// The speech and audio-track WAVs are written by media::write_wav (the one WAV writer).
TEST(Wav, Pcm16Header) {
  TempDir tmp;
  const std::vector<std::int16_t> s = {0, 1, -1, 32767, -32768, 2};
  media::AudioBuffer buf{22050, 2, {}};
  for (auto v : s) buf.samples.push_back(static_cast<float>(v) / 32768.0f);
  media::write_wav(tmp / "w.wav", buf);
  const std::string b = read_bytes(tmp / "w.wav");
  ASSERT_EQ(b.size(), 44u + 12u);
  auto u32 = [&](std::size_t o) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(b[o])) | static_cast<std::uint32_t>(static_cast<unsigned char>(b[o + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(b[o + 2])) << 16 | static_cast<std::uint32_t>(static_cast<unsigned char>(b[o + 3])) << 24;
  };
  EXPECT_EQ(b.substr(0, 4), "RIFF");
  EXPECT_EQ(u32(4), 36u + 12u);
  EXPECT_EQ(u32(24), 22050u);
  EXPECT_EQ(u32(28), 22050u * 4);
  EXPECT_EQ(u32(40), 12u);
  EXPECT_EQ(static_cast<unsigned char>(b[44 + 8]), 0x00);
  EXPECT_EQ(static_cast<unsigned char>(b[44 + 9]), 0x80);  // -32768 little endian
  buf.channels = 4;
  EXPECT_THROW_MSG(media::write_wav(tmp / "x.wav", buf), "not a multiple of the channel count");
  buf.channels = 1;
  buf.sample_rate = 0;
  EXPECT_THROW_MSG(media::write_wav(tmp / "x.wav", buf), "cannot write a WAV");
}

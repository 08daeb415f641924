#include "tribev2/pipeline/tts.hpp"

#include <espeak-ng/speak_lib.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

namespace {

// --- one synthesis in a fresh espeak-ng ------------------------------------------------------
//
// espeak-ng keeps its synthesiser state in process globals that no API call resets: the pitch
// flutter phase (a function-local static in wavegen.c's AdvanceParameters), the wave phase and
// end-of-cycle flag, the formant peaks and resonator memories, the pitch envelope position,
// and the C library's rand() (the noise of breathy and Klatt voices). Each synthesis starts
// where the previous one in the same process stopped, so the same text gave different samples
// and word timings (by a few ms, and a different length) depending on what the process had
// synthesised before: `tribev2 batch` (one process for many items, so the result of an item
// depended on the shard and on which items were cached) and the Python API were not
// reproducible. espeak_Terminate + espeak_Initialize cannot reset a function-local static
// (and hangs in 1.51). So every synthesis runs in a forked child that initialises espeak-ng from scratch,
// exactly as a fresh process does, and sends the samples and word events back through a pipe.
// The parent never initialises espeak-ng, so no state can leak into a child.

struct SynthState {
  std::vector<std::int16_t> samples;
  std::vector<WordMark> marks;
  int sample_rate = 0;
};

int on_synth(short* wav, int n, espeak_EVENT* events) {
  SynthState* st = nullptr;
  for (espeak_EVENT* e = events; e; ++e) {
    if (e->user_data) st = static_cast<SynthState*>(e->user_data);
    if (e->type == espeakEVENT_LIST_TERMINATED) break;
    if (!st) continue;
    if (e->type != espeakEVENT_WORD && e->type != espeakEVENT_END && e->type != espeakEVENT_SENTENCE) continue;
    // `sample` is the exact sample count; fall back to the millisecond position if the two
    // disagree by more than 10 ms.
    std::int64_t s = e->sample;
    const double from_ms = e->audio_position * static_cast<double>(st->sample_rate) / 1000.0;
    if (std::abs(static_cast<double>(s) - from_ms) > st->sample_rate / 100.0) s = std::llround(from_ms);
    WordMark m;
    m.is_word = e->type == espeakEVENT_WORD && e->length > 0 && e->text_position > 0;
    m.position = e->text_position > 0 ? static_cast<std::size_t>(e->text_position - 1) : 0;
    m.sample = std::max<std::int64_t>(0, s);
    st->marks.push_back(m);
  }
  if (st && wav && n > 0) st->samples.insert(st->samples.end(), wav, wav + n);
  return 0;
}

// What the child reports (the first int32 of its message).
enum class ChildStatus : std::int32_t { ok = 0, no_start = 1, no_voice = 2, synth_failed = 3, no_memory = 4 };

bool write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

template <class T>
bool write_pod(int fd, const T& v) {
  return write_all(fd, &v, sizeof v);
}

// The child: a fresh espeak-ng, one synthesis, the result on `fd`, then _exit (no atexit
// handlers, no destructors of the parent's objects). Message: status, then for `ok` the sample
// rate, the marks (count, then is_word/position/sample each) and the samples (count, data);
// for `synth_failed` espeak-ng's error code.
[[noreturn]] void child_synthesise(int fd, pid_t parent, const std::string& text, const SpeechOptions& options) {
  // Ctrl-C (and Slurm's SIGTERM) reach the whole process group: the child ignores them and the
  // parent decides (its InterruptGuard exits with 130/143 and takes the child with it, through
  // PR_SET_PDEATHSIG), so an interrupt never shows up as a failed synthesis. The parent may
  // have gone before prctl: then stop at once.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  ::signal(SIGPIPE, SIG_DFL);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(4);
  // The state of a fresh process: rand() unseeded is srand(1) (C standard), whatever the parent
  // drew before the fork.
  std::srand(1);
  int code = 0;
  try {
    SynthState st;
    st.sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (st.sample_rate <= 0) {
      write_pod(fd, ChildStatus::no_start);
      ::_exit(0);
    }
    espeak_SetSynthCallback(&on_synth);
    if (espeak_SetVoiceByName(options.voice.c_str()) != EE_OK) {
      write_pod(fd, ChildStatus::no_voice);
      ::_exit(0);
    }
    espeak_SetParameter(espeakRATE, options.rate_wpm, 0);
    // AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when the whole text has been synthesised.
    const espeak_ERROR r =
        espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &st);
    if (r != EE_OK) {
      write_pod(fd, ChildStatus::synth_failed);
      write_pod(fd, static_cast<std::int32_t>(r));
      ::_exit(0);
    }
    bool ok = write_pod(fd, ChildStatus::ok) && write_pod(fd, static_cast<std::int32_t>(st.sample_rate)) &&
              write_pod(fd, static_cast<std::uint64_t>(st.marks.size()));
    for (const auto& m : st.marks)
      ok = ok && write_pod(fd, static_cast<std::uint8_t>(m.is_word)) &&
           write_pod(fd, static_cast<std::uint64_t>(m.position)) && write_pod(fd, m.sample);
    ok = ok && write_pod(fd, static_cast<std::uint64_t>(st.samples.size())) &&
         write_all(fd, st.samples.data(), st.samples.size() * sizeof(std::int16_t));
    code = ok ? 0 : 2;
  } catch (const std::bad_alloc&) {
    write_pod(fd, ChildStatus::no_memory);
  } catch (...) {
    code = 3;
  }
  ::_exit(code);
}

// Reads the child's message in order; every read is bounds-checked.
class MessageReader {
 public:
  explicit MessageReader(const std::string& bytes) : b_(bytes) {}
  template <class T>
  T pod() {
    T v{};
    need(sizeof v);
    std::memcpy(&v, b_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  void bytes(void* out, std::size_t n) {
    need(n);
    if (n) std::memcpy(out, b_.data() + at_, n);
    at_ += n;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  void need(std::size_t n) const {
    if (n > b_.size() - at_)
      fail("espeak-ng synthesis process: truncated result (", b_.size(), " bytes, needed ", at_ + n, ")");
  }
  const std::string& b_;
  std::size_t at_ = 0;
};

// One synthesis process at a time, from the pipe's creation to the child's exit. Two reasons:
// (1) a child forked by one thread would inherit the write end of another synthesis's pipe and
// hold that reader's EOF back; (2) a child inherits the allocator as the parent's other threads
// left it: glibc's malloc is fork-safe, but the sanitizers' allocators of GCC 12 / clang 14 are
// not, and espeak-ng starts a thread in the child that allocates, so a fork while another
// thread was allocating deadlocked the child (seen under ASan in CI, the other thread being a
// second synthesis). Serialising removes that case, and the process's own threads (the
// interrupt watcher, the pool's workers) are running, not starting, before their constructors
// return (a starting thread allocates: that hung a child under ASan too). Under those
// sanitizers a fork while some other thread allocates can still hang a child, and the deadline
// below turns that into an error. A synthesis takes well under a second, so serialising costs nothing that matters.
std::mutex& synthesis_mutex() {
  static std::mutex m;
  return m;
}

// How long the parent waits for a child's result before it kills it and says so: a synthesis
// runs far faster than real time (about 1 s per 10,000 characters here), so this only fires
// on a child that hangs, and turns a hang into an error.
std::chrono::milliseconds synthesis_deadline(std::size_t text_bytes) {
  return std::chrono::milliseconds(120'000 + static_cast<std::int64_t>(text_bytes) * 10);
}

SynthState synthesise_in_child(const std::string& text, const SpeechOptions& options) {
  const std::lock_guard<std::mutex> one_at_a_time(synthesis_mutex());
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("espeak-ng: cannot create a pipe: ", std::strerror(errno));
  // Nothing buffered in the parent's stdio may be written a second time by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    fail("espeak-ng: cannot start the synthesis process (fork): ", std::strerror(e));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_synthesise(fds[1], parent, text, options);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[1 << 16];
  int read_errno = 0;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + synthesis_deadline(text.size());
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1'000'000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      read_errno = errno;
      break;
    }
    if (ready == 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) msg.append(buf, static_cast<std::size_t>(n));
    else if (n < 0 && errno == EINTR) continue;
    else {
      if (n < 0) read_errno = errno;
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    fail("espeak-ng: the synthesis process gave no result within ", synthesis_deadline(text.size()).count() / 1000,
         " s for ", text.size(), " bytes of text; it was stopped");
  if (read_errno) fail("espeak-ng: reading the synthesis result: ", std::strerror(read_errno));
  if (WIFSIGNALED(status))
    fail("espeak-ng: the synthesis process was killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
         ")");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("espeak-ng: the synthesis process failed (exit status ", WEXITSTATUS(status), ")");

  MessageReader in(msg);
  switch (in.pod<ChildStatus>()) {
    case ChildStatus::ok: break;
    case ChildStatus::no_start: fail("espeak-ng could not start (is the espeak-ng-data package installed?)");
    case ChildStatus::no_voice:
      fail("espeak-ng has no voice '", options.voice, "' (list them with `espeak-ng --voices`; choose one with --voice)");
    case ChildStatus::synth_failed:
      fail("espeak-ng failed to synthesise the text (error ", in.pod<std::int32_t>(), ")");
    case ChildStatus::no_memory: fail("espeak-ng: out of memory while synthesising ", text.size(), " bytes of text");
    default: fail("espeak-ng synthesis process: unexpected result");
  }
  SynthState st;
  st.sample_rate = in.pod<std::int32_t>();
  const auto n_marks = in.pod<std::uint64_t>();
  TRIBEV2_CHECK(n_marks <= msg.size(), "espeak-ng synthesis process: bad event count ", n_marks);
  st.marks.resize(n_marks);
  for (auto& m : st.marks) {
    m.is_word = in.pod<std::uint8_t>() != 0;
    m.position = in.pod<std::uint64_t>();
    m.sample = in.pod<std::int64_t>();
  }
  const auto n_samples = in.pod<std::uint64_t>();
  TRIBEV2_CHECK(n_samples <= msg.size() / 2, "espeak-ng synthesis process: bad sample count ", n_samples);
  st.samples.resize(n_samples);
  in.bytes(st.samples.data(), n_samples * sizeof(std::int16_t));
  TRIBEV2_CHECK(in.done(), "espeak-ng synthesis process: trailing bytes in its result");
  return st;
}

bool word_char(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool space_char(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Decodes valid UTF-8 (checked by the caller) one code point at a time.
char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : 4;
  char32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n;
    char32_t cp, min;
    if (b0 < 0x80) n = 1, cp = b0, min = 0;
    else if ((b0 & 0xE0) == 0xC0) n = 2, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) n = 3, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) n = 4, cp = b0 & 0x07, min = 0x10000;
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

std::vector<Token> tokenize_words(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0, cp_index = 0;
  Token cur;
  bool in_token = false;
  while (i < text.size()) {
    const std::size_t byte0 = i;
    const char32_t c = next_cp(text, i);
    if (space_char(c)) {
      if (in_token) {
        cur.end = cp_index;
        out.push_back(std::move(cur));
        cur = Token{};
        in_token = false;
      }
    } else {
      if (!in_token) {
        in_token = true;
        cur.begin = cp_index;
      }
      cur.text.append(text.substr(byte0, i - byte0));
      cur.is_word = cur.is_word || word_char(c);
    }
    ++cp_index;
  }
  if (in_token) {
    cur.end = cp_index;
    out.push_back(std::move(cur));
  }
  return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> time_tokens(const std::vector<Token>& tokens,
                                                               const std::vector<WordMark>& marks,
                                                               const std::vector<std::int16_t>& samples) {
  const auto total = static_cast<std::int64_t>(samples.size());
  const std::size_t n = tokens.size();
  std::vector<std::pair<std::int64_t, std::int64_t>> spans(n, {0, 0});
  if (n == 0) return spans;

  // Word events -> the token that contains (or, failing that, follows) their position.
  constexpr std::int64_t none = -1;
  std::vector<std::int64_t> first(n, none), last(n, none);
  std::vector<std::int64_t> bounds = {total};
  for (const auto& m : marks) {
    const std::int64_t s = std::min(m.sample, total);
    bounds.push_back(s);
    if (!m.is_word) continue;
    auto it = std::upper_bound(tokens.begin(), tokens.end(), m.position,
                               [](std::size_t p, const Token& t) { return p < t.begin; });
    std::size_t k;
    if (it != tokens.begin() && m.position < std::prev(it)->end) k = static_cast<std::size_t>(std::prev(it) - tokens.begin());
    else if (it != tokens.end()) k = static_cast<std::size_t>(it - tokens.begin());
    else continue;
    first[k] = first[k] == none ? s : std::min(first[k], s);
    last[k] = std::max(last[k], s);
  }
  std::sort(bounds.begin(), bounds.end());
  // Anchors must be increasing in text order; out-of-order events are ignored.
  std::int64_t prev = none;
  for (std::size_t k = 0; k < n; ++k) {
    if (first[k] == none) continue;
    if (first[k] < prev) first[k] = last[k] = none;
    else prev = first[k];
  }
  std::vector<std::size_t> anchors;
  for (std::size_t k = 0; k < n; ++k)
    if (first[k] != none) anchors.push_back(k);

  auto weight = [&](std::size_t k) {
    std::int64_t w = 0;
    std::size_t i = 0;
    while (i < tokens[k].text.size()) w += word_char(next_cp(tokens[k].text, i)) ? 1 : 0;
    return std::max<std::int64_t>(w, 1);
  };
  auto share = [&](std::size_t a, std::size_t b, std::int64_t s0, std::int64_t s1) {  // tokens [a, b) over [s0, s1)
    std::int64_t wsum = 0;
    for (std::size_t k = a; k < b; ++k) wsum += weight(k);
    std::int64_t acc = 0;
    const std::int64_t len = std::max<std::int64_t>(0, s1 - s0);
    for (std::size_t k = a; k < b; ++k) {
      const std::int64_t from = s0 + len * acc / wsum;
      acc += weight(k);
      spans[k] = {from, s0 + len * acc / wsum};
    }
  };

  if (anchors.empty()) {
    share(0, n, 0, total);
  } else {
    for (std::size_t g = 0; g < anchors.size(); ++g) {
      const std::size_t k = anchors[g];
      const std::size_t a = g == 0 ? 0 : k;
      const std::size_t b = g + 1 < anchors.size() ? anchors[g + 1] : n;
      const std::int64_t next_start = g + 1 < anchors.size() ? first[anchors[g + 1]] : total;
      const auto it = std::upper_bound(bounds.begin(), bounds.end(), last[k]);
      std::int64_t end = it == bounds.end() ? total : *it;
      end = std::clamp(end, first[k], next_start);
      const std::int64_t begin = g == 0 && a < k ? 0 : first[k];
      share(a, b, begin, end);
    }
  }

  // Trim near-silence at both ends of every span (1% of the peak amplitude).
  int peak = 0;
  for (auto s : samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  const int threshold = std::max(1, peak / 100);
  for (auto& [s0, s1] : spans) {
    std::int64_t a = s0, b = s1;
    while (a < b && std::abs(static_cast<int>(samples[static_cast<std::size_t>(a)])) < threshold) ++a;
    while (b > a && std::abs(static_cast<int>(samples[static_cast<std::size_t>(b - 1)])) < threshold) --b;
    if (a < b) s0 = a, s1 = b;
  }
  return spans;
}

std::string espeak_version() {
  // espeak_Info only returns constants: no initialisation, nothing shared with a synthesis.
  const char* path = nullptr;
  const char* v = espeak_Info(&path);
  return std::string("espeak-ng ") + (v ? v : "?");
}

Speech synthesize_speech(std::string_view text, const SpeechOptions& options) {
  TRIBEV2_CHECK(is_valid_utf8(text), "text to synthesise is not valid UTF-8");
  const auto tokens = tokenize_words(text);
  const bool any_word = std::any_of(tokens.begin(), tokens.end(), [](const Token& t) { return t.is_word; });
  TRIBEV2_CHECK(any_word, "the text has no words to speak");
  TRIBEV2_CHECK(options.rate_wpm >= espeakRATE_MINIMUM && options.rate_wpm <= espeakRATE_MAXIMUM,
                "speaking rate must be in [", espeakRATE_MINIMUM, ", ", espeakRATE_MAXIMUM, "] words per minute, got ",
                options.rate_wpm);

  SynthState st = synthesise_in_child(std::string(text), options);
  TRIBEV2_CHECK(!st.samples.empty(), "espeak-ng produced no audio for the text");

  const auto spans = time_tokens(tokens, st.marks, st.samples);
  Speech out;
  out.sample_rate = st.sample_rate;
  const double sr = st.sample_rate;
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    if (!tokens[k].is_word) continue;
    events::Word w;
    w.text = tokens[k].text;
    w.start = static_cast<double>(spans[k].first) / sr;
    w.duration = static_cast<double>(spans[k].second - spans[k].first) / sr;
    out.words.push_back(std::move(w));
  }
  out.samples = std::move(st.samples);
  return out;
}

}  // namespace tribev2::pipeline

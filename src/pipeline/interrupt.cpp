#include "tribev2/pipeline/interrupt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

void Cleanup::track_dir(const fs::path& dir) {
  std::lock_guard lock(state_);
  dirs_.insert(dir);
}
void Cleanup::untrack_dir(const fs::path& dir) {
  std::lock_guard lock(state_);
  dirs_.erase(dir);
}
void Cleanup::track_child(pid_t pid) {
  std::lock_guard lock(state_);
  children_.insert(pid);
}
void Cleanup::untrack_child(pid_t pid) {
  std::lock_guard lock(state_);
  children_.erase(pid);
}

std::size_t Cleanup::run_now() {
  std::lock_guard lock(state_);
  for (pid_t pid : children_) ::kill(pid, SIGTERM);
  // Give the children up to 2 s to go, then kill them, so that none writes into a folder
  // after we removed it.
  for (pid_t pid : children_) {
    int status = 0;
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      gone = r == pid || (r < 0 && errno == ECHILD);
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  }
  children_.clear();
  std::size_t removed = 0;
  for (const auto& d : dirs_) {
    std::error_code ec;
    if (fs::remove_all(d, ec) > 0) ++removed;
  }
  dirs_.clear();
  return removed;
}

namespace {
// The write end of the guard's pipe, for the signal handler. A signal handler can reach no
// other state; this is the only process-wide variable of the pipeline.
std::atomic<int> g_signal_pipe{-1};

extern "C" void on_signal(int sig) {
  const int fd = g_signal_pipe.load();
  if (fd >= 0) {
    const char c = sig == SIGINT ? 'i' : 't';
    [[maybe_unused]] const auto n = ::write(fd, &c, 1);
  }
}
}  // namespace

InterruptGuard::InterruptGuard(Cleanup& cleanup, bool quiet) : cleanup_(cleanup), quiet_(quiet) {
  TRIBEV2_CHECK(g_signal_pipe.load() < 0, "only one InterruptGuard may be active at a time");
  if (::pipe(pipe_) != 0) fail("cannot create the interrupt pipe: ", std::strerror(errno));
  ::fcntl(pipe_[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(pipe_[1], F_SETFD, FD_CLOEXEC);
  g_signal_pipe.store(pipe_[1]);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &old_int_);
  ::sigaction(SIGTERM, &sa, &old_term_);
  const int read_fd = pipe_[0];
  // The constructor returns only once the watcher runs: a thread still starting allocates (its
  // sanitizer and TLS state), and a fork at that moment (the speech synthesis forks) gave the
  // child a locked allocator under ASan, a hung child (seen in CI; tts.cpp).
  std::atomic<bool> started{false};
  watcher_ = std::thread([this, read_fd, &started] {
    started.store(true);
    started.notify_one();
    char c = 0;
    for (;;) {
      const auto n = ::read(read_fd, &c, 1);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    if (c == 'q') return;  // the guard is going away
    std::unique_lock lock(cleanup_.commit_mutex());
    const std::size_t removed = cleanup_.run_now();
    if (!quiet_)
      std::fprintf(stderr, "\ntribev2: interrupted; removed %zu temporary folder(s); finished files are kept, "
                           "nothing half-written was left\n", removed);
    std::fflush(stderr);
    ::_exit(c == 'i' ? 130 : 143);
  });
  started.wait(false);
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGINT, &old_int_, nullptr);
  ::sigaction(SIGTERM, &old_term_, nullptr);
  g_signal_pipe.store(-1);
  const char q = 'q';
  [[maybe_unused]] const auto n = ::write(pipe_[1], &q, 1);
  if (watcher_.joinable()) watcher_.join();
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

}  // namespace tribev2::pipeline

// Ctrl-C without half-written files.
//
// Everything the pipeline writes is written under `Cleanup::commit_mutex()` into its final
// place (atomic file writes, or a temporary folder renamed into place), so an interrupt that
// waits for that mutex sees either the complete file or none. Work that runs outside it for
// a long time (a speech-recognition subprocess writing into a temporary folder) registers the
// folder and the child process here. On SIGINT or SIGTERM, the InterruptGuard's watcher
// thread takes the mutex, terminates the registered children, removes the registered
// folders, prints one line and exits with 130 (SIGINT) or 143 (SIGTERM).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace tribev2::pipeline {

class Cleanup {
 public:
  std::mutex& commit_mutex() { return commit_; }
  void track_dir(const std::filesystem::path& dir);
  void untrack_dir(const std::filesystem::path& dir);
  void track_child(pid_t pid);
  void untrack_child(pid_t pid);
  // Terminates the tracked children and removes the tracked folders. The caller holds
  // commit_mutex(). Returns the number of folders removed.
  std::size_t run_now();

 private:
  std::mutex commit_;
  std::mutex state_;
  std::set<std::filesystem::path> dirs_;
  std::set<pid_t> children_;
};

// Installs SIGINT/SIGTERM handlers for its lifetime (the previous ones are restored). The
// handler only writes to a pipe (async-signal-safe); the cleanup runs on a watcher thread.
// At most one guard may exist at a time in a process.
class InterruptGuard {
 public:
  explicit InterruptGuard(Cleanup& cleanup, bool quiet = false);
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  Cleanup& cleanup_;
  bool quiet_;
  int pipe_[2] = {-1, -1};
  struct sigaction old_int_ {}, old_term_ {};
  std::thread watcher_;
};

}  // namespace tribev2::pipeline

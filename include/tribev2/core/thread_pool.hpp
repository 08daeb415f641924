// The one thread pool used by all of our kernels. The calling thread takes part in the work,
// so a pool of size n runs n - 1 extra threads. Work is split into contiguous chunks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tribev2 {

class ThreadPool {
 public:
  using RangeFn = std::function<void(std::int64_t begin, std::int64_t end)>;

  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) in chunks of at least `min_chunk` items and returns when
  // all are done. The first exception thrown by a chunk is rethrown here. Called from inside
  // a task (nested), the range runs serially on the calling thread.
  void parallel_for(std::int64_t n, const RangeFn& fn, std::int64_t min_chunk = 1);

 private:
  void worker_loop(int index);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::uint64_t generation_ = 0;
  // Mirrors of generation_ and busy_ (written under the mutex) that threads read while they
  // spin briefly before sleeping: a forward issues ~100 parallel regions of ~1 ms, and a
  // futex wake-up costs tens of microseconds each time.
  std::atomic<std::uint64_t> published_{0};
  std::atomic<int> running_{0};
  bool stop_ = false;
  // The current job (valid while busy_ > 0).
  const RangeFn* job_ = nullptr;
  std::int64_t job_n_ = 0;
  std::int64_t job_chunk_ = 1;
  std::int64_t next_ = 0;
  int busy_ = 0;
  std::exception_ptr error_;
};

}  // namespace tribev2

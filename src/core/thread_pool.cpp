#include "tribev2/core/thread_pool.hpp"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TRIBEV2_PAUSE() _mm_pause()
#else
#define TRIBEV2_PAUSE() ((void)0)
#endif

namespace tribev2 {

namespace {
// Set while a thread executes a chunk, so that nested parallel_for calls run inline instead
// of waiting on the pool they are part of. This is per-thread bookkeeping, not shared state.
thread_local bool t_inside_pool_task = false;

// Spins (with pause) until done() or about `us` microseconds have passed; true if done().
template <class Done>
bool spin_until(const Done& done, int us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  for (int i = 0;; ++i) {
    if (done()) return true;
    TRIBEV2_PAUSE();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > end) return done();
  }
}
// Workers spin a little after each job (the next one usually follows within microseconds);
// the calling thread, on the critical path, waits longer for the last chunks before sleeping.
constexpr int kWorkerSpinMicros = 100;
constexpr int kCallerSpinMicros = 300;
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  const int extra = std::max(0, n_threads - 1);
  workers_.reserve(static_cast<std::size_t>(extra));
  // Returns once every worker runs: a thread still starting allocates (its sanitizer and TLS
  // state), and a process that forks later (the speech synthesis) must not fork then; under
  // ASan the child would inherit a locked allocator and hang.
  std::atomic<int> started{0};
  for (int i = 0; i < extra; ++i)
    workers_.emplace_back([this, i, &started] {
      started.fetch_add(1);
      started.notify_one();
      worker_loop(i);
    });
  for (int n = started.load(); n < extra; n = started.load()) started.wait(n);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_chunks() {
  const bool was_inside = t_inside_pool_task;
  t_inside_pool_task = true;
  for (;;) {
    std::int64_t begin;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= job_n_ || error_) break;
      begin = next_;
      next_ = std::min(job_n_, next_ + job_chunk_);
    }
    const std::int64_t end = std::min(job_n_, begin + job_chunk_);
    try {
      (*job_)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  t_inside_pool_task = was_inside;
}

void ThreadPool::worker_loop(int /*index*/) {
  std::uint64_t seen = 0;
  for (;;) {
    spin_until([&] { return published_.load(std::memory_order_acquire) != seen; }, kWorkerSpinMicros);
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++busy_;
      running_.store(busy_, std::memory_order_release);
    }
    run_chunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_;
      running_.store(busy_, std::memory_order_release);
    }
    done_.notify_all();
  }
}

void ThreadPool::parallel_for(std::int64_t n, const RangeFn& fn, std::int64_t min_chunk) {
  if (n <= 0) return;
  min_chunk = std::max<std::int64_t>(1, min_chunk);
  const auto threads = static_cast<std::int64_t>(size());
  if (workers_.empty() || t_inside_pool_task || n <= min_chunk) {
    fn(0, n);
    return;
  }
  // About 4 chunks per thread balances uneven work without much locking.
  const std::int64_t chunk = std::max(min_chunk, (n + threads * 4 - 1) / (threads * 4));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = chunk;
    next_ = 0;
    error_ = nullptr;
    ++generation_;
    published_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks();
  // Usually the workers finish within microseconds of this thread: wait for them spinning
  // first (the mutex-protected check below stays the authority).
  spin_until([&] { return running_.load(std::memory_order_acquire) == 0; }, kCallerSpinMicros);
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Workers that woke late find no chunks left and leave at once; wait for all that joined.
    done_.wait(lock, [&] { return busy_ == 0 && (next_ >= job_n_ || error_); });
    err = error_;
    job_ = nullptr;
    job_n_ = 0;
    error_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace tribev2

// Execution context handed down to every computation: the thread pool and the numeric
// precision. There is no global state; the CLI builds one Context per process.
#pragma once

#include <memory>

#include "tribev2/core/thread_pool.hpp"

namespace tribev2 {

enum class Precision { F32, BF16 };

class Context {
 public:
  // threads <= 0 means "all hardware threads".
  explicit Context(int threads = 0, Precision precision = Precision::F32);
  Context(Context&&) noexcept = default;
  Context& operator=(Context&&) noexcept = default;

  int threads() const { return pool_->size(); }
  ThreadPool& pool() const { return *pool_; }
  Precision precision() const { return precision_; }
  void set_precision(Precision p) { precision_ = p; }
  // The same threads with another precision: for a model whose precision was fixed when it
  // was loaded (its weights were packed for it), whatever the caller's context says.
  Context with_precision(Precision p) const {
    Context c(*this);
    c.precision_ = p;
    return c;
  }

 private:
  Context(const Context&) = default;  // copies share the pool; only with_precision makes them
  std::shared_ptr<ThreadPool> pool_;
  Precision precision_;
};

// Number of threads from TRIBEV2_NUM_THREADS if set and valid, else `fallback`.
int threads_from_env(int fallback);

}  // namespace tribev2

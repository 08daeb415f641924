// Per-thread scratch buffers for the kernels (packed panels, partial sums, scores). Each pool
// thread keeps its own buffers alive between calls so the hot loops never allocate; they grow
// to the largest request and are freed when the thread ends. Not shared between threads.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace tribev2::detail {

class AlignedBuffer {
 public:
  // At least n floats, 64-byte aligned; contents unspecified. Defined out of line on purpose:
  // kernel files compiled for AVX-512 call it, and an inline copy emitted there could be the
  // one the linker keeps for every caller.
  float* get(std::size_t n);
  template <class T>
  T* get_as(std::size_t n) {
    return reinterpret_cast<T*>(get((n * sizeof(T) + sizeof(float) - 1) / sizeof(float)));
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> ptr_;
  std::size_t cap_ = 0;
};

struct Scratch {
  AlignedBuffer a, b, p, c, d, e;
};

// The calling thread's scratch.
Scratch& thread_scratch();

}  // namespace tribev2::detail

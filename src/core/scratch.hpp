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

// One buffer per use, so that a kernel called from inside another (a bf16 GEMM in an attention
// score hook, under the attention's scores) never writes over its caller's data.
struct Scratch {
  AlignedBuffer a, b, p;     // f32 GEMM: packed A block, packed B block, partial sums
  AlignedBuffer shared_a;    // f32 GEMM: A packed once for all threads (calling thread)
  AlignedBuffer bf16_a;      // bf16 GEMM: A converted for the kernels (calling thread)
  AlignedBuffer bf16_b;      // bf16 GEMM: B panels packed per call
  AlignedBuffer bf16_acc;    // bf16 GEMM: float32 accumulator of a cache block
  AlignedBuffer scores;      // attention: one block of scores
  AlignedBuffer flash;       // fused bf16 attention: a query block's operands, scores and sums
};

// The calling thread's scratch.
Scratch& thread_scratch();

}  // namespace tribev2::detail

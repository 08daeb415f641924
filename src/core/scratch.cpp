#include "scratch.hpp"

#include <cstdlib>
#include <new>

namespace tribev2::detail {

float* AlignedBuffer::get(std::size_t n) {
  if (n > cap_) {
    const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    ptr_.reset(static_cast<float*>(p));
    cap_ = bytes / sizeof(float);
  }
  return ptr_.get();
}

Scratch& thread_scratch() {
  thread_local Scratch s;
  return s;
}

}  // namespace tribev2::detail

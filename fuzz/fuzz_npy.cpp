// .npy parser: arbitrary bytes must give a tensor or a tribev2::Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto t = tribev2::io::parse_npy({reinterpret_cast<const std::byte*>(data), size}, "fuzz.npy");
    volatile float sink = 0;
    if (t.dtype() == tribev2::DType::F32 && t.numel() > 0) sink = t.data<float>()[t.numel() - 1];
    (void)sink;
  } catch (const tribev2::Error&) {
  }
  return 0;
}

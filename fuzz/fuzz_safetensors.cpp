// safetensors parser on an in-memory image: every tensor it returns must be readable.
#include <cstddef>
#include <cstdint>

#include "tribev2/core/error.hpp"
#include "tribev2/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto f = tribev2::io::SafetensorsFile::parse({reinterpret_cast<const std::byte*>(data), size}, "fuzz.safetensors", nullptr);
    volatile unsigned char sink = 0;
    for (const auto& n : f.names()) {
      const auto& t = f.get(n);
      if (t.nbytes()) sink = static_cast<const unsigned char*>(t.raw())[t.nbytes() - 1];
    }
    (void)sink;
  } catch (const tribev2::Error&) {
  }
  return 0;
}

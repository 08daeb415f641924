// libFuzzer target for the GIFTI reader (XML, Base64, zlib/gzip, byte order, dimensions) and
// the surface/map extraction on top of it. Errors must be tribev2::Error, never crashes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/gifti.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto img = tribev2::viz::parse_gifti(bytes, "fuzz.gii");
    try {
      (void)tribev2::viz::gifti_surface(img, "fuzz.gii");
    } catch (const tribev2::Error&) {
    }
    try {
      (void)tribev2::viz::gifti_map(img, "fuzz.gii");
    } catch (const tribev2::Error&) {
    }
    // Whatever parsed must encode again.
    (void)tribev2::viz::encode_gifti(img, tribev2::viz::GiftiEncoding::Base64Binary);
  } catch (const tribev2::Error&) {
  }
  return 0;
}

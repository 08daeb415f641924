// libFuzzer target for the FreeSurfer readers: triangle surfaces, curv/sulc (new and old
// formats) and .annot label files. Errors must be tribev2::Error, never crashes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/freesurfer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    (void)tribev2::viz::parse_freesurfer_surface(bytes, "fuzz.surf");
  } catch (const tribev2::Error&) {
  }
  try {
    (void)tribev2::viz::parse_freesurfer_morph(bytes, "fuzz.curv");
  } catch (const tribev2::Error&) {
  }
  try {
    (void)tribev2::viz::parse_freesurfer_annot(bytes, "fuzz.annot");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

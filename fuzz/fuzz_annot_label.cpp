// libFuzzer target for the FreeSurfer .annot (old and version-2 colour tables) and ASCII .label
// readers. Errors must be tribev2::Error, never crashes, hangs or huge allocations.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/freesurfer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto a = tribev2::viz::parse_freesurfer_annot(bytes, "fuzz.annot");
    // The invariants the atlas code relies on.
    if (a.labels.size() != a.values.size() || a.names.size() != a.colors.size() || a.ids.size() != a.names.size()) __builtin_trap();
    for (const auto l : a.labels)
      if (l < -1 || l >= static_cast<std::int32_t>(a.names.size())) __builtin_trap();
  } catch (const tribev2::Error&) {
  }
  try {
    (void)tribev2::viz::parse_freesurfer_label(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.label");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

// .npz archives (a zip of .npy files, via libzip) and the feature-file reader on top of them
// (the array named after the modality, or the only array). Any input must give arrays or a
// tribev2::Error.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tribev2::fuzz::scratch_dir() / "fuzz.npz";
  tribev2::fuzz::write_file(path, tribev2::fuzz::as_text(data, size));
  try {
    volatile float sink = 0;
    for (const auto& [name, t] : tribev2::io::read_npz(path))
      if (t.dtype() == tribev2::DType::F32 && t.numel() > 0) sink = t.data<float>()[t.numel() - 1];
    (void)sink;
    (void)tribev2::io::read_feature_file(path, "text");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

// build_args.json (the safetensors export's model_build_args: feature_dims, n_outputs,
// n_output_timesteps) on arbitrary text.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/model_io/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tribev2::fuzz::scratch_dir() / "build_args.json";
  tribev2::fuzz::write_file(path, tribev2::fuzz::as_text(data, size));
  try {
    (void)tribev2::model_io::parse_build_args_json(path);
  } catch (const tribev2::Error&) {
  }
  return 0;
}

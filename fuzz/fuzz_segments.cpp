// segments.json (the row times `plot`/`to-gifti`/`movie` read back from `predict`/`run`):
// arbitrary text, checked against a few row counts.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/viz/outputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = tribev2::fuzz::scratch_dir() / "segments.json";
  tribev2::fuzz::write_file(path, tribev2::fuzz::as_text(data, size));
  for (std::int64_t rows : {0, 1, 3}) {
    try {
      (void)tribev2::viz::read_row_times(path, rows);
    } catch (const tribev2::Error&) {
    }
  }
  return 0;
}

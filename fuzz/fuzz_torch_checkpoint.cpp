// Zip + PyTorch checkpoint reader on arbitrary files (written to a temp file, since libzip
// reads from disk).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tribev2/core/error.hpp"
#include "tribev2/io/torch_archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/tribev2-fuzz-ckpt-" + std::to_string(getpid()) + ".ckpt";
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    (void)tribev2::io::read_torch_archive(path);
  } catch (const tribev2::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}

// The stage cache's entry.json: the input is the entry.json of an entry folder that also
// holds one fixed file (payload.txt = "tribev2 cache payload\n"); StageCache::find must accept
// it only when its hashes match, and reject anything else without throwing. make_seeds.py
// writes a valid entry.json for that payload.
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/pipeline/cache.hpp"
#include "tribev2/pipeline/interrupt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const fs::path root = tribev2::fuzz::scratch_dir() / "cache";
  const fs::path dir = root / "stage" / "key";
  static const bool made = [&] {
    fs::create_directories(dir);
    tribev2::fuzz::write_file(dir / "payload.txt", "tribev2 cache payload\n");
    return true;
  }();
  (void)made;
  tribev2::fuzz::write_file(dir / "entry.json", tribev2::fuzz::as_text(data, size));
  try {
    tribev2::pipeline::Cleanup cleanup;
    const tribev2::pipeline::StageCache cache(root, cleanup);
    (void)cache.find("stage", "key");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

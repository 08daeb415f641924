// Word lists given with --words: words.json ({"words": [...]} or a list) and upstream's
// words.tsv transcript cache. The first byte picks the format (even: JSON, odd: TSV), the
// rest is the file. What parses goes through add_context as `run` does.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/events/word.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool tsv = (data[0] & 1) != 0;
  const auto path = tribev2::fuzz::scratch_dir() / (tsv ? "words.tsv" : "words.json");
  tribev2::fuzz::write_file(path, tribev2::fuzz::as_text(data + 1, size - 1));
  try {
    auto words = tribev2::events::read_words(path);
    if (words.size() <= 2000) tribev2::events::add_context(words, 64);
  } catch (const tribev2::Error&) {
  }
  return 0;
}

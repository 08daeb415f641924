// tokenizer.json parser and the tokenizer it builds. Input: a tokenizer.json, optionally
// followed by a NUL byte and a text to encode (seed: fuzz/corpus/fuzz_tokenizer_json/
// gen-tiny-llama.json, the tiny-llama fixture's tokenizer.json + "\0What brings you ...",
// written by fuzz/make_seeds.py). Only tribev2::Error may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tribev2/core/error.hpp"
#include "tribev2/features/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const auto nul = all.find('\0');
  const std::string_view json = all.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view("Hello world, it's 1984!") : all.substr(nul + 1);
  try {
    const auto tok = tribev2::text::Tokenizer::from_json(json, "fuzz tokenizer.json");
    volatile std::size_t sink = tok.encode(text).size();
    for (const auto id : tok.encode(text))
      if (id < 0 || id >= tok.id_limit()) __builtin_trap();
    (void)sink;
  } catch (const tribev2::Error&) {
  }
  return 0;
}

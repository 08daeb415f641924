// GGUF reader on an in-memory image, then the Llama interpretation of it (config, tensors,
// llama-bpe vocabulary). Every tensor the reader returns must be readable. Seed:
// fuzz/corpus/fuzz_gguf/gen-tiny-llama.gguf, a complete miniature Llama 3 (1 block, byte-level
// BPE vocabulary with merges, F16 embeddings) written by fuzz/make_seeds.py.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tribev2/core/error.hpp"
#include "tribev2/features/text/gguf.hpp"
#include "tribev2/features/text/llama_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto f = std::make_shared<const tribev2::text::gguf::File>(
        tribev2::text::gguf::File::parse({reinterpret_cast<const std::byte*>(data), size}, "fuzz.gguf", nullptr));
    volatile unsigned char sink = 0;
    for (const auto& t : f->tensors())
      if (t.data && t.nbytes) sink = static_cast<unsigned char>(t.data[t.nbytes - 1]);
    (void)sink;
    const auto llama = tribev2::text::load_gguf_llama(f);
    if (llama.tokenizer) (void)llama.tokenizer->encode("What brings you to the land of the gatekeepers?");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

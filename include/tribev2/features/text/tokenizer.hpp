// Byte-level BPE tokenizer as HuggingFace `tokenizers` runs Llama 3's tokenizer.json:
//   added/special tokens are split out of the raw text first (leftmost-longest match);
//   each remaining piece is pre-tokenized by the Split regex (Unicode classes, PCRE2 with the
//   White_Space definition of \s that Oniguruma uses), mapped byte-by-byte to the GPT-2
//   printable alphabet (ByteLevel), and encoded by BPE (merges by lowest rank, then leftmost
//   position; with `ignore_merges` a piece that is itself a vocabulary entry is one token).
// `encode` adds no special tokens (no BOS): that is how upstream tokenizes for features.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tribev2::text {

// The tokenizer.json pre-tokenizer regex of Llama 3 (also what GGUF "llama-bpe" means).
extern const char* const kLlama3SplitRegex;

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool special = true;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// Everything a byte-level BPE tokenizer is made of, independent of the file it came from.
struct BpeSpec {
  std::vector<std::pair<std::string, std::int32_t>> vocab;        // token (byte-level alphabet) -> id
  std::vector<std::pair<std::string, std::string>> merges;        // in rank order
  std::vector<AddedToken> added_tokens;
  std::string split_regex = kLlama3SplitRegex;                     // empty: no Split step
  bool byte_level_add_prefix_space = false;
  bool ignore_merges = true;
  std::optional<std::string> unk_token;
  std::string source = "<memory>";                                 // for error messages
};

// Reads a tokenizer.json into a BpeSpec (the same checks as Tokenizer::from_json).
BpeSpec parse_tokenizer_json(std::string_view json_text, const std::string& source);

class Tokenizer {
 public:
  // tokenizer.json (HuggingFace `tokenizers` format). Fails with a message naming the field
  // for anything that is not a byte-level BPE tokenizer of the Llama 3 kind.
  static Tokenizer from_json_file(const std::filesystem::path& path);
  static Tokenizer from_json(std::string_view json_text, const std::string& source);
  static Tokenizer from_spec(BpeSpec spec);

  // Token ids of `text` without any special tokens added. Throws on invalid UTF-8.
  std::vector<std::int32_t> encode(std::string_view text) const;

  std::optional<std::int32_t> token_id(std::string_view token) const;
  // One more than the largest id (vocabulary and added tokens).
  std::int64_t id_limit() const;
  const std::string& source() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tribev2::text

// The byte-level BPE tokenizer: every fixture case exact, the BPE merge order against a plain
// reference, added tokens, the \s rewrite, and clear errors for tokenizers of another kind.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "support/test_support.hpp"
#include "tribev2/features/text/tokenizer.hpp"
#include "tribev2/io/file.hpp"
#include "split_regex.hpp"
#include "tribev2/core/utf8.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::text;
using nlohmann::json;

namespace {

const auto kTok = fixture("text_features/tiny-llama/tokenizer.json");

json tokenizer_json() { return json::parse(io::read_text_file(kTok)); }

Tokenizer from(const json& j) { return Tokenizer::from_json(j.dump(), "test tokenizer.json"); }

// A plain BPE over one piece: repeatedly merge the lowest-ranked adjacent pair, leftmost first.
std::vector<std::int32_t> reference_bpe(std::vector<std::string> s, const std::map<std::pair<std::string, std::string>, int>& rank,
                                        const std::map<std::string, std::int32_t>& vocab) {
  for (;;) {
    int best = -1;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      const auto it = rank.find({s[i], s[i + 1]});
      if (it != rank.end() && (best < 0 || it->second < best)) best = it->second, at = i;
    }
    if (best < 0) break;
    s[at] += s[at + 1];
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<std::int32_t> ids;
  for (const auto& x : s) ids.push_back(vocab.at(x));
  return ids;
}

}  // namespace

TEST(Tokenizer, FixtureCasesExact) {
  const Tokenizer tok = Tokenizer::from_json_file(kTok);
  const json cases = json::parse(io::read_text_file(fixture("text_features/tokenizer_cases.json")));
  ASSERT_GE(cases.size(), 10u);
  for (const auto& c : cases) {
    const auto got = tok.encode(c["text"].get<std::string>());
    const auto want = c["ids"].get<std::vector<std::int32_t>>();
    EXPECT_EQ(got, want) << "text: " << c["text"];
  }
  // The hidden-state fixture's token ids come from the same tokenizer.
  const json hs = json::parse(io::read_text_file(fixture("text_features/llama_hidden_states.json")));
  EXPECT_EQ(tok.encode(hs["text"].get<std::string>()), hs["ids"].get<std::vector<std::int32_t>>());
}

TEST(Tokenizer, SpecialTokensAreSplitOutAndNoBosIsAdded) {
  const Tokenizer tok = Tokenizer::from_json_file(kTok);
  EXPECT_EQ(tok.token_id("<|begin_of_text|>"), 412);
  const auto plain = tok.encode("Hello");
  EXPECT_NE(plain.front(), 412);  // no BOS
  const auto with = tok.encode("Hello<|end_of_text|>Hello");
  std::vector<std::int32_t> want = plain;
  want.push_back(413);
  want.insert(want.end(), plain.begin(), plain.end());
  EXPECT_EQ(with, want);
  EXPECT_EQ(tok.id_limit(), 414);
}

TEST(Tokenizer, AddedTokenStripOptions) {
  BpeSpec spec;
  // Byte-level spellings: ' ' is U+0120, 'a' and 'b' are themselves.
  spec.vocab = {{"\xc4\xa0", 0}, {"a", 1}, {"b", 2}};
  spec.added_tokens = {{10, "<x>", true, true, true, false}, {11, "<y>", true, false, false, true}};
  const Tokenizer tok = Tokenizer::from_spec(spec);
  EXPECT_EQ(tok.encode("a <x> b"), (std::vector<std::int32_t>{1, 10, 2}));  // lstrip/rstrip absorb the spaces
  EXPECT_EQ(tok.encode(" <y> "), (std::vector<std::int32_t>{0, 11, 0}));    // single_word at word boundaries
  // Inside a word "<y>" is plain text; its bytes are not in this vocabulary (dropped, as tokenizers does).
  EXPECT_EQ(tok.encode("a<y>b"), (std::vector<std::int32_t>{1, 2}));
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  const Tokenizer tok = Tokenizer::from_json_file(kTok);
  EXPECT_THROW_MSG(tok.encode(std::string("ab\xff") + "cd"), "not valid UTF-8 (bad byte at offset 2)");
  EXPECT_THROW_MSG(tok.encode("\xed\xa0\x80"), "not valid UTF-8");  // a UTF-16 surrogate
}

TEST(Tokenizer, BpeMatchesPlainReferenceOnRandomWords) {
  // Alphabet a..e, random merges over it (ranks in order), no pre-tokenizer split.
  BpeSpec spec;
  spec.split_regex.clear();
  spec.ignore_merges = false;
  std::map<std::string, std::int32_t> vocab;
  std::vector<std::string> tokens;
  auto add = [&](const std::string& t) {
    if (vocab.count(t)) return;
    vocab[t] = static_cast<std::int32_t>(tokens.size());
    tokens.push_back(t);
  };
  for (char c = 'a'; c <= 'e'; ++c) add(std::string(1, c));
  std::mt19937 rng(7);
  std::map<std::pair<std::string, std::string>, int> rank;
  for (int r = 0; r < 60; ++r) {
    const std::string a = tokens[rng() % tokens.size()], b = tokens[rng() % tokens.size()];
    if (rank.count({a, b}) || (a + b).size() > 6) continue;
    rank[{a, b}] = static_cast<int>(spec.merges.size());
    spec.merges.emplace_back(a, b);
    add(a + b);
  }
  for (const auto& [t, id] : vocab) spec.vocab.emplace_back(t, id);
  const Tokenizer tok = Tokenizer::from_spec(spec);
  for (int trial = 0; trial < 500; ++trial) {
    std::string w;
    const int n = 1 + static_cast<int>(rng() % 17);
    std::vector<std::string> syms;
    for (int i = 0; i < n; ++i) {
      w += static_cast<char>('a' + rng() % 5);
      syms.push_back(w.substr(w.size() - 1));
    }
    EXPECT_EQ(tok.encode(w), reference_bpe(syms, rank, vocab)) << w;
  }
}

TEST(Tokenizer, IgnoreMergesTakesWholeVocabularyPieces) {
  // "abc" is in the vocabulary but no merge reaches it: with ignore_merges it is one token.
  BpeSpec spec;
  spec.split_regex.clear();
  spec.vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"abc", 4}};
  spec.merges = {{"a", "b"}};
  spec.ignore_merges = true;
  EXPECT_EQ(Tokenizer::from_spec(spec).encode("abc"), (std::vector<std::int32_t>{4}));
  spec.ignore_merges = false;
  EXPECT_EQ(Tokenizer::from_spec(spec).encode("abc"), (std::vector<std::int32_t>{3, 2}));
}

TEST(Tokenizer, WhitespaceIsUnicodeWhiteSpaceAsInOniguruma) {
  // U+180E is \s for PCRE2 but not Unicode White_Space (Oniguruma's \s): it must not split;
  // U+2003 (em space) must.
  const SplitRegex re("\\s+|\\S+", "test");
  EXPECT_EQ(re.find_all("a\xe1\xa0\x8e" "b").size(), 1u);
  EXPECT_EQ(re.find_all("a\xe2\x80\x83" "b").size(), 3u);
  const SplitRegex cls("[^\\s]+", "test");  // inside a class too
  EXPECT_EQ(cls.find_all("a\xe1\xa0\x8e" "b").size(), 1u);
  EXPECT_EQ(cls.find_all("a\xe2\x80\x83" "b").size(), 2u);
  EXPECT_EQ(rewrite_unicode_classes("[\\]\\s]"), "[\\]\\x{09}-\\x{0D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
                                                     "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
}

// GPT-2 / Llama 3 byte-level alphabet: byte b -> its character, in id order (ids 0..255 of
// Llama 3's vocabulary are these 256 characters in this order).
std::vector<std::pair<int, std::string>> byte_alphabet() {
  std::vector<int> bs, cs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  cs = bs;
  int n = 0;
  for (int b = 0; b < 256; ++b)
    if (std::find(bs.begin(), bs.begin() + 188, b) == bs.begin() + 188) bs.push_back(b), cs.push_back(256 + n++);
  std::vector<std::pair<int, std::string>> out;
  for (std::size_t i = 0; i < bs.size(); ++i) out.emplace_back(bs[i], utf8::from_u32(std::u32string(1, static_cast<char32_t>(cs[i]))));
  return out;
}

// \p{L} / \p{N} come from our Unicode tables (scripts/gen_unicode_tables.py), not the system
// PCRE2's: U+11F50 KAWI DIGIT ZERO (Unicode 15.0) is a number, as in HF tokenizers.
TEST(Tokenizer, UnicodeCategoriesFromOurTables) {
  const std::string pattern = tokenizer_json()["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"];
  const SplitRegex re(pattern, "llama3 pattern");
  const std::string kawi = " \xf0\x91\xbd\x90";  // " \U00011F50"
  const auto pieces = re.find_all(kawi);
  ASSERT_EQ(pieces.size(), 2u) << "HF splits ' ' and the digit";
  EXPECT_EQ(pieces[0], (std::pair<std::size_t, std::size_t>{0, 1}));
  EXPECT_EQ(pieces[1], (std::pair<std::size_t, std::size_t>{1, 5}));
  // Other Unicode 15.0 additions: U+1E4D0 NAG MUNDARI LETTER O (Lo), U+1E4F0 NAG MUNDARI DIGIT ZERO (Nd).
  EXPECT_EQ(re.find_all("x\xf0\x9e\x93\x90").size(), 1u) << "a letter joins the letters before it";
  EXPECT_EQ(re.find_all("1\xf0\x9e\x93\xb0").size(), 1u) << "digits group by up to three";
  // An unassigned code point (U+0378) is neither a letter nor a number.
  EXPECT_EQ(re.find_all("a\xcd\xb8").size(), 2u);
  // Negations and long names are rewritten too; scripts stay with PCRE2.
  EXPECT_EQ(SplitRegex("\\P{N}+", "t").find_all("ab\xf0\x91\xbd\x90" "c").size(), 2u);
  EXPECT_EQ(SplitRegex("\\p{^Number}+", "t").find_all("ab\xf0\x91\xbd\x90" "c").size(), 2u);
  EXPECT_EQ(SplitRegex("[\\p{Decimal_Number}]+", "t").find_all("1\xf0\x91\xbd\x90").size(), 1u);
  EXPECT_EQ(rewrite_unicode_classes("\\p{Han}"), "\\p{Han}");
  EXPECT_EQ(rewrite_unicode_classes("\\pN").substr(0, 14), "[\\x{30}-\\x{39}");
  // Complements span the surrogates, which are no characters in UTF-8 mode: left out, so it compiles.
  EXPECT_EQ(SplitRegex("\\P{L}+", "t").find_all("ab12 ").size(), 1u);

  // The full tokenizer with Llama 3's byte ids (the first 256 ids of its vocabulary) and a merge
  // "Ġ" + "ð" that fires only when the space and the digit share a piece (as our PCRE2-only build
  // did: [109697, 239, 121, 238] with the real vocabulary). HF: [220, 172, 239, 121, 238].
  json j = tokenizer_json();
  json vocab = json::object();
  int id = 0;
  for (const auto& [b, ch] : byte_alphabet()) vocab[ch] = id++;
  vocab["\xc4\xa0\xc3\xb0"] = 256;  // "Ġð"
  j["model"]["vocab"] = vocab;
  j["model"]["merges"] = json::array({json::array({"\xc4\xa0", "\xc3\xb0"})});
  j["added_tokens"] = json::array();
  j["post_processor"] = nullptr;
  const Tokenizer tok = from(j);
  EXPECT_EQ(tok.encode(kawi), (std::vector<std::int32_t>{220, 172, 239, 121, 238}));
  EXPECT_EQ(tok.encode(" \xf0\x9f\x98\x80").front(), 256) << "the merge fires on one piece (U+1F600 is a symbol)";
}

TEST(Tokenizer, PythonStringRules) {
  // prefix = context[:-len(text)].rstrip(), in code points with str.isspace().
  EXPECT_EQ(utf8::py_drop_last("caf\xc3\xa9 na\xc3\xafve", 5), "caf\xc3\xa9 ");
  EXPECT_EQ(utf8::py_drop_last("abc", 0), "");
  EXPECT_EQ(utf8::py_drop_last("abc", 7), "");
  EXPECT_EQ(utf8::py_rstrip("ab \t\n\xc2\xa0\x1c"), "ab");
  EXPECT_EQ(utf8::py_rstrip("ab\xe1\xa0\x8e"), "ab\xe1\xa0\x8e");  // U+180E is not a space for Python
  EXPECT_EQ(utf8::length("\xe6\x9d\xb1\xe4\xba\xac!"), 3u);
}

TEST(Tokenizer, MergesAsPairsEqualMergesAsStrings) {
  json j = tokenizer_json();
  json pairs = json::array();
  for (const auto& m : j["model"]["merges"]) {
    if (m.is_array()) pairs.push_back(m);
    else {
      const std::string s = m.get<std::string>();
      pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
    }
  }
  json strings = json::array();
  for (const auto& p : pairs) strings.push_back(p[0].get<std::string>() + " " + p[1].get<std::string>());
  json a = j, b = j;
  a["model"]["merges"] = pairs;
  b["model"]["merges"] = strings;
  const std::string text = "What brings you to the land of the gatekeepers? McDonald's 1984";
  EXPECT_EQ(from(a).encode(text), from(b).encode(text));
  EXPECT_EQ(from(a).encode(text), Tokenizer::from_json_file(kTok).encode(text));
}

TEST(Tokenizer, OtherKindsOfTokenizerAreClearErrors) {
  {
    json j = tokenizer_json();
    j["model"]["type"] = "WordPiece";
    EXPECT_THROW_MSG(from(j), "model.type is \"WordPiece\"; only byte-level BPE (Llama 3) tokenizers are supported");
  }
  {
    json j = tokenizer_json();
    j["model"]["type"] = "Unigram";
    EXPECT_THROW_MSG(from(j), "model.type is \"Unigram\"");
  }
  {  // Llama 2 / SentencePiece style
    json j = tokenizer_json();
    j["model"]["byte_fallback"] = true;
    EXPECT_THROW_MSG(from(j), "byte_fallback=true is a SentencePiece-style tokenizer");
  }
  {
    json j = tokenizer_json();
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}};
    EXPECT_THROW_MSG(from(j), "pre_tokenizer: expected the Llama 3 form Sequence[Split, ByteLevel]");
  }
  {
    json j = tokenizer_json();
    j["normalizer"] = {{"type", "NFKC"}};
    EXPECT_THROW_MSG(from(j), "normalizer \"NFKC\" is not supported");
  }
  {
    json j = tokenizer_json();
    j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "MergedWithPrevious";
    EXPECT_THROW_MSG(from(j), "only \"Isolated\" (Llama 3) is supported");
  }
  {
    json j = tokenizer_json();
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
    EXPECT_THROW_MSG(from(j), "pre_tokenizer regex does not compile");
  }
  {
    json j = tokenizer_json();
    j["model"]["merges"].push_back("Ġ zzzz");
    EXPECT_THROW_MSG(from(j), "'zzzz' is not in the vocabulary");
  }
  {
    json j = tokenizer_json();
    j["model"]["merges"][0] = "nospace";
    EXPECT_THROW_MSG(from(j), "model.merges[0] = \"nospace\" must be two tokens separated by one space");
  }
  {
    json j = tokenizer_json();
    j["model"]["vocab"]["a"] = "x";
    EXPECT_THROW_MSG(from(j), "model.vocab['a'] must be an integer id");
  }
  {
    json j = tokenizer_json();
    j.erase("model");
    EXPECT_THROW_MSG(from(j), "no \"model\" object: not a tokenizer.json");
  }
  EXPECT_THROW_MSG(Tokenizer::from_json("{not json", "broken.json"), "broken.json: not valid JSON");
  EXPECT_THROW_MSG(Tokenizer::from_json("[1, 2]", "list.json"), "list.json: expected a JSON object");
  EXPECT_THROW_MSG(Tokenizer::from_json_file("/nonexistent/tokenizer.json"), "/nonexistent/tokenizer.json");
}

#include "tribev2/features/text/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <queue>
#include <unordered_map>

#include "split_regex.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/core/utf8.hpp"

namespace tribev2::text {

const char* const kLlama3SplitRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

namespace {

// GPT-2's reversible byte -> printable code point map (tokenizers' ByteLevel alphabet).
std::array<std::string, 256> byte_alphabet() {
  std::array<std::string, 256> out;
  std::array<bool, 256> printable{};
  for (int b = '!'; b <= '~'; ++b) printable[static_cast<std::size_t>(b)] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) printable[static_cast<std::size_t>(b)] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) printable[static_cast<std::size_t>(b)] = true;
  char32_t next = 256;
  for (std::size_t b = 0; b < 256; ++b) {
    const char32_t cp = printable[b] ? static_cast<char32_t>(b) : next++;
    utf8::append(out[b], cp);
  }
  return out;
}

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

struct Piece {
  std::size_t begin, end;
  std::int32_t added_id;  // -1: ordinary text
};

}  // namespace

struct Tokenizer::Impl {
  std::string source;
  std::unordered_map<std::string, std::int32_t> vocab;
  std::unordered_map<std::uint64_t, std::pair<std::uint32_t, std::int32_t>> merges;  // (a,b) -> (rank, id)
  std::array<std::string, 256> alphabet = byte_alphabet();
  std::array<std::int32_t, 256> byte_id{};  // id of each byte's alphabet symbol, -1 if absent
  std::vector<AddedToken> added_raw;        // matched on the raw text (normalized: false)
  std::array<std::vector<std::size_t>, 256> added_by_first_byte;  // indices into added_raw
  std::optional<SplitRegex> split;
  std::optional<SplitRegex> word_char;      // for single_word added tokens
  bool add_prefix_space = false;
  bool ignore_merges = true;
  std::int32_t unk_id = -1;
  std::int64_t id_limit = 0;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache;

  std::vector<Piece> split_added(std::string_view text) const;
  void encode_piece(std::string_view piece, std::vector<std::int32_t>& out) const;
  std::vector<std::int32_t> bpe(std::string_view raw) const;
  bool is_word_char_before(std::string_view text, std::size_t pos) const;
  bool is_word_char_after(std::string_view text, std::size_t pos) const;
};

bool Tokenizer::Impl::is_word_char_before(std::string_view text, std::size_t pos) const {
  if (pos == 0) return false;
  std::size_t s = pos - 1;
  while (s > 0 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
  return !word_char->find_all(text.substr(s, pos - s)).empty();
}

bool Tokenizer::Impl::is_word_char_after(std::string_view text, std::size_t pos) const {
  if (pos >= text.size()) return false;
  char32_t cp;
  const std::size_t n = utf8::decode(text, pos, cp);
  return n > 0 && !word_char->find_all(text.substr(pos, n)).empty();
}

// Leftmost-longest matches of the added tokens (tokenizers' AddedVocabulary), with lstrip /
// rstrip absorbing neighbouring whitespace and single_word requiring word boundaries.
std::vector<Piece> Tokenizer::Impl::split_added(std::string_view text) const {
  std::vector<Piece> out;
  std::size_t plain_begin = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const AddedToken* best = nullptr;
    for (const std::size_t k : added_by_first_byte[static_cast<unsigned char>(text[i])]) {
      const AddedToken& t = added_raw[k];
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      if (best && best->content.size() >= t.content.size()) continue;
      if (t.single_word && (is_word_char_before(text, i) || is_word_char_after(text, i + t.content.size())))
        continue;
      best = &t;
    }
    if (!best) {
      ++i;
      continue;
    }
    std::size_t b = i, e = i + best->content.size();
    auto ws_at = [&](std::size_t p, char32_t& cp) { return utf8::decode(text, p, cp); };
    if (best->lstrip) {
      while (b > plain_begin) {
        std::size_t s = b - 1;
        while (s > plain_begin && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
        char32_t cp;
        if (ws_at(s, cp) != b - s || !utf8::is_white_space(cp)) break;
        b = s;
      }
    }
    if (best->rstrip) {
      char32_t cp;
      std::size_t n;
      while (e < text.size() && (n = ws_at(e, cp)) > 0 && utf8::is_white_space(cp)) e += n;
    }
    if (b > plain_begin) out.push_back({plain_begin, b, -1});
    out.push_back({b, e, best->id});
    plain_begin = i = e;
  }
  if (plain_begin < text.size()) out.push_back({plain_begin, text.size(), -1});
  return out;
}

// tokenizers' Word::merge_all: repeatedly apply the applicable merge of lowest rank, ties
// broken by the leftmost position, until none applies.
std::vector<std::int32_t> Tokenizer::Impl::bpe(std::string_view raw) const {
  struct Sym {
    std::int32_t id;
    std::int64_t prev, next;
    bool alive;
  };
  std::vector<Sym> syms;
  syms.reserve(raw.size());
  // One symbol per input byte (every byte maps to one alphabet code point).
  for (const char ch : raw) {
    std::int32_t id = byte_id[static_cast<unsigned char>(ch)];
    if (id < 0) {
      if (unk_id < 0) continue;  // no unk token: tokenizers drops the symbol
      id = unk_id;
    }
    const auto n = static_cast<std::int64_t>(syms.size());
    syms.push_back({id, n - 1, -1, true});
    if (n > 0) syms[static_cast<std::size_t>(n - 1)].next = n;
  }
  struct Cand {
    std::uint32_t rank;
    std::int64_t pos;
    std::int32_t new_id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> queue;
  auto lookup = [&](std::int64_t left) -> const std::pair<std::uint32_t, std::int32_t>* {
    const auto& s = syms[static_cast<std::size_t>(left)];
    if (s.next < 0) return nullptr;
    const auto it = merges.find(pair_key(s.id, syms[static_cast<std::size_t>(s.next)].id));
    return it == merges.end() ? nullptr : &it->second;
  };
  for (std::int64_t i = 0; i + 1 < static_cast<std::int64_t>(syms.size()); ++i)
    if (const auto* m = lookup(i)) queue.push({m->first, i, m->second});
  while (!queue.empty()) {
    const Cand top = queue.top();
    queue.pop();
    auto& left = syms[static_cast<std::size_t>(top.pos)];
    if (!left.alive || left.next < 0) continue;
    const auto* m = lookup(top.pos);
    if (!m || m->second != top.new_id) continue;  // stale entry
    auto& right = syms[static_cast<std::size_t>(left.next)];
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) syms[static_cast<std::size_t>(left.next)].prev = top.pos;
    if (left.prev >= 0)
      if (const auto* pm = lookup(left.prev)) queue.push({pm->first, left.prev, pm->second});
    if (const auto* nm = lookup(top.pos)) queue.push({nm->first, top.pos, nm->second});
  }
  std::vector<std::int32_t> out;
  for (const auto& s : syms)
    if (s.alive) out.push_back(s.id);
  return out;
}

void Tokenizer::Impl::encode_piece(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (piece.empty()) return;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = cache.find(std::string(piece));
    if (it != cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::string mapped;
  mapped.reserve(piece.size() * 2);
  for (const char ch : piece) mapped += alphabet[static_cast<unsigned char>(ch)];
  std::vector<std::int32_t> ids;
  const auto whole = ignore_merges ? vocab.find(mapped) : vocab.end();
  if (whole != vocab.end()) ids.push_back(whole->second);
  else ids = bpe(piece);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (cache.size() > 200000) cache.clear();  // bounded memory on adversarial input
  cache.emplace(std::string(piece), std::move(ids));
}

Tokenizer Tokenizer::from_spec(BpeSpec spec) {
  auto impl = std::make_shared<Impl>();
  impl->source = spec.source;
  const std::string& src = impl->source;
  std::int64_t max_id = -1;
  for (auto& [tok, id] : spec.vocab) {
    TRIBEV2_CHECK(id >= 0, src, ": model.vocab: token '", tok, "' has a negative id ", id);
    TRIBEV2_CHECK(utf8::valid(tok), src, ": model.vocab: a token is not valid UTF-8");
    impl->vocab[tok] = id;
    max_id = std::max<std::int64_t>(max_id, id);
  }
  TRIBEV2_CHECK(!impl->vocab.empty(), src, ": model.vocab is empty");
  for (std::size_t r = 0; r < spec.merges.size(); ++r) {
    const auto& [a, b] = spec.merges[r];
    const auto ia = impl->vocab.find(a), ib = impl->vocab.find(b), iab = impl->vocab.find(a + b);
    if (ia == impl->vocab.end() || ib == impl->vocab.end() || iab == impl->vocab.end())
      fail(src, ": model.merges[", r, "] = '", a, " ", b, "': ",
           ia == impl->vocab.end() ? "'" + a + "'" : ib == impl->vocab.end() ? "'" + b + "'" : "'" + a + b + "'",
           " is not in the vocabulary");
    impl->merges[pair_key(ia->second, ib->second)] = {static_cast<std::uint32_t>(r), iab->second};
  }
  for (std::size_t b = 0; b < 256; ++b) {
    const auto it = impl->vocab.find(impl->alphabet[b]);
    impl->byte_id[b] = it == impl->vocab.end() ? -1 : it->second;
  }
  if (spec.unk_token) {
    const auto it = impl->vocab.find(*spec.unk_token);
    TRIBEV2_CHECK(it != impl->vocab.end(), src, ": model.unk_token '", *spec.unk_token, "' is not in the vocabulary");
    impl->unk_id = it->second;
  }
  bool need_word_char = false;
  for (auto& t : spec.added_tokens) {
    TRIBEV2_CHECK(t.id >= 0, src, ": added_tokens: '", t.content, "' has a negative id");
    TRIBEV2_CHECK(utf8::valid(t.content), src, ": added_tokens: a token is not valid UTF-8");
    max_id = std::max<std::int64_t>(max_id, t.id);
    need_word_char |= t.single_word;
    if (t.content.empty()) continue;  // never matches
    impl->added_by_first_byte[static_cast<unsigned char>(t.content[0])].push_back(impl->added_raw.size());
    impl->added_raw.push_back(std::move(t));
  }
  if (need_word_char) impl->word_char.emplace("[\\p{L}\\p{N}]", src);
  if (!spec.split_regex.empty()) impl->split.emplace(spec.split_regex, src);
  impl->add_prefix_space = spec.byte_level_add_prefix_space;
  impl->ignore_merges = spec.ignore_merges;
  impl->id_limit = max_id + 1;
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  const Impl& m = *impl_;
  const std::size_t bad = utf8::first_invalid(text);
  if (bad != std::string_view::npos)
    fail(m.source, ": cannot tokenize text that is not valid UTF-8 (bad byte at offset ", bad, ")");
  std::vector<std::int32_t> out;
  for (const Piece& p : m.split_added(text)) {
    if (p.added_id >= 0) {
      out.push_back(p.added_id);
      continue;
    }
    std::string_view chunk = text.substr(p.begin, p.end - p.begin);
    std::string prefixed;
    auto pre_tokenize = [&](std::string_view s) {
      if (m.add_prefix_space && (s.empty() || s.front() != ' ')) {
        prefixed.assign(1, ' ');
        prefixed.append(s);
        s = prefixed;
      }
      m.encode_piece(s, out);
    };
    if (!m.split) {
      pre_tokenize(chunk);
      continue;
    }
    // Split(behavior="Isolated"): matches and the gaps between them are separate pieces.
    std::size_t last = 0;
    for (const auto& [b, e] : m.split->find_all(chunk)) {
      if (b > last) pre_tokenize(chunk.substr(last, b - last));
      pre_tokenize(chunk.substr(b, e - b));
      last = e;
    }
    if (last < chunk.size()) pre_tokenize(chunk.substr(last));
  }
  return out;
}

std::optional<std::int32_t> Tokenizer::token_id(std::string_view token) const {
  for (const auto& t : impl_->added_raw)
    if (t.content == token) return t.id;
  const auto it = impl_->vocab.find(std::string(token));
  if (it == impl_->vocab.end()) return std::nullopt;
  return it->second;
}

std::int64_t Tokenizer::id_limit() const { return impl_->id_limit; }
const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace tribev2::text

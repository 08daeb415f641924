#include "codec.hpp"

#include <zlib.h>

#include <array>
#include <bit>
#include <cstring>

#include "tribev2/core/error.hpp"

namespace tribev2::viz::detail {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kDecode = make_decode_table();

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v'; }
}  // namespace

std::vector<std::byte> base64_decode(std::string_view text, std::string_view what) {
  std::vector<std::byte> out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0 || padding)
      fail(what, ": invalid Base64 data (character ", padding && v >= 0 ? std::string("after '=' padding") : "'" + std::string(1, c) + "'",
           " at offset ", i, ")");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> bits) & 0xFFu));
    }
  }
  // 2 or 4 leftover bits are the unused low bits of the last character; 6 means a lone
  // character, which cannot encode a byte.
  TRIBEV2_CHECK(bits != 6, what, ": invalid Base64 data (truncated: a lone final character)");
  return out;
}

std::string base64_encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto n = (std::to_integer<std::uint32_t>(bytes[i]) << 16) | (std::to_integer<std::uint32_t>(bytes[i + 1]) << 8) |
                   std::to_integer<std::uint32_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (rest == 2) n |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool is_gzip(std::span<const std::byte> bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

std::vector<std::byte> inflate_bytes(std::span<const std::byte> in, std::size_t max_out, bool exact, std::string_view what) {
  z_stream zs{};
  // 15 + 32: accept both zlib and gzip headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) fail(what, ": zlib initialisation failed");
  std::vector<std::byte> out;
  std::size_t done_in = 0;
  int rc = Z_OK;
  std::array<unsigned char, 65536> chunk{};
  try {
    while (rc != Z_STREAM_END) {
      const std::size_t feed = std::min<std::size_t>(in.size() - done_in, 1u << 30);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + done_in));
      zs.avail_in = static_cast<uInt>(feed);
      zs.next_out = chunk.data();
      zs.avail_out = static_cast<uInt>(chunk.size());
      rc = inflate(&zs, Z_NO_FLUSH);
      done_in += feed - zs.avail_in;
      const std::size_t produced = chunk.size() - zs.avail_out;
      if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
        fail(what, ": corrupt compressed data (zlib: ", zs.msg ? zs.msg : "error " + std::to_string(rc), ")");
      if (out.size() + produced > max_out)
        fail(what, ": compressed data expands to more than the expected ", max_out, " bytes");
      const auto* p = reinterpret_cast<const std::byte*>(chunk.data());
      out.insert(out.end(), p, p + produced);
      // Output space is always available, so "no progress" means the input ran out.
      if (rc == Z_BUF_ERROR) fail(what, ": truncated compressed data (", out.size(), " bytes decoded)");
    }
  } catch (...) {
    inflateEnd(&zs);
    throw;
  }
  inflateEnd(&zs);
  if (exact && out.size() != max_out)
    fail(what, ": compressed data holds ", out.size(), " bytes, expected ", max_out);
  return out;
}

namespace {
std::vector<std::byte> deflate_impl(std::span<const std::byte> in, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail("zlib: deflateInit failed");
  std::vector<std::byte> out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t n = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) fail("zlib: deflate failed (", rc, ")");
  out.resize(n);
  return out;
}
}  // namespace

std::vector<std::byte> deflate_zlib(std::span<const std::byte> in) {
  TRIBEV2_CHECK(in.size() < (std::size_t{1} << 31), "zlib: input too large to compress in one call (", in.size(), " bytes)");
  return deflate_impl(in, 15);
}
std::vector<std::byte> deflate_gzip(std::span<const std::byte> in) {
  TRIBEV2_CHECK(in.size() < (std::size_t{1} << 31), "gzip: input too large to compress in one call (", in.size(), " bytes)");
  return deflate_impl(in, 15 + 16);
}

void BigEndianReader::seek(std::size_t p) {
  TRIBEV2_CHECK(p <= b_.size(), what_, ": offset ", p, " is past the end of the file (", b_.size(), " bytes)");
  pos_ = p;
}

void BigEndianReader::need(std::size_t n, std::string_view field) const {
  if (n > remaining())
    fail(what_, ": file truncated while reading ", field, " (need ", n, " bytes at offset ", pos_, ", ", remaining(), " left)");
}

std::uint8_t BigEndianReader::u8() {
  need(1, "a byte");
  return std::to_integer<std::uint8_t>(b_[pos_++]);
}

std::int32_t BigEndianReader::i32() {
  need(4, "a 32-bit integer");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b_[pos_++]);
  return static_cast<std::int32_t>(v);
}

std::int32_t BigEndianReader::i24() {
  need(3, "a 24-bit integer");
  std::uint32_t v = 0;
  for (int i = 0; i < 3; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(b_[pos_++]);
  return static_cast<std::int32_t>(v);
}

std::int16_t BigEndianReader::i16() {
  need(2, "a 16-bit integer");
  std::uint16_t v = 0;
  for (int i = 0; i < 2; ++i) v = static_cast<std::uint16_t>((v << 8) | std::to_integer<std::uint16_t>(b_[pos_++]));
  return static_cast<std::int16_t>(v);
}

float BigEndianReader::f32() {
  const auto bits = static_cast<std::uint32_t>(i32());
  return std::bit_cast<float>(bits);
}

std::string BigEndianReader::bytes_as_string(std::size_t n) {
  need(n, "a string");
  std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
  pos_ += n;
  return s;
}

}  // namespace tribev2::viz::detail

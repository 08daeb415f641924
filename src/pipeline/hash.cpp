#include "tribev2/pipeline/hash.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

namespace {
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::block(const std::uint8_t* p) {
  std::array<std::uint32_t, 64> w{};
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) | (std::uint32_t(p[4 * i + 2]) << 8) |
           std::uint32_t(p[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + S1 + ch + kRound[i] + w[i];
    const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = S0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
}

void Sha256::update(std::span<const std::byte> data) {
  TRIBEV2_CHECK(!done_, "Sha256: update after digest");
  const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t n = data.size();
  total_ += n;
  if (buf_len_) {
    const std::size_t take = std::min(n, 64 - buf_len_);
    std::memcpy(buf_.data() + buf_len_, p, take);
    buf_len_ += take, p += take, n -= take;
    if (buf_len_ == 64) block(buf_.data()), buf_len_ = 0;
  }
  for (; n >= 64; p += 64, n -= 64) block(p);
  if (n) std::memcpy(buf_.data(), p, n), buf_len_ = n;
}

void Sha256::update(std::string_view text) { update(std::as_bytes(std::span<const char>(text.data(), text.size()))); }

std::array<std::uint8_t, 32> Sha256::digest() {
  TRIBEV2_CHECK(!done_, "Sha256: digest called twice");
  const std::uint64_t bits = total_ * 8;
  buf_[buf_len_++] = 0x80;
  if (buf_len_ > 56) {
    std::fill(buf_.begin() + static_cast<std::ptrdiff_t>(buf_len_), buf_.end(), 0);
    block(buf_.data());
    buf_len_ = 0;
  }
  std::fill(buf_.begin() + static_cast<std::ptrdiff_t>(buf_len_), buf_.begin() + 56, 0);
  for (int i = 0; i < 8; ++i) buf_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  block(buf_.data());
  done_ = true;
  std::array<std::uint8_t, 32> out{};
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 4; ++k) out[4 * i + k] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * k));
  return out;
}

std::string Sha256::hex() {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto b : digest()) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view text) {
  Sha256 h;
  h.update(text);
  return h.hex();
}

namespace {
void hash_file_range(Sha256& h, const fs::path& path, std::uint64_t begin, std::uint64_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open for hashing: ", std::strerror(errno));
  in.seekg(static_cast<std::streamoff>(begin));
  std::vector<char> buf(1 << 20);
  std::uint64_t left = length;
  while (left > 0) {
    const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
    in.read(buf.data(), want);
    const auto got = in.gcount();
    if (got <= 0) fail(path.string(), ": read error while hashing");
    h.update(std::as_bytes(std::span<const char>(buf.data(), static_cast<std::size_t>(got))));
    left -= static_cast<std::uint64_t>(got);
  }
}
}  // namespace

std::string sha256_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) fail(path.string(), ": cannot read: ", ec.message());
  Sha256 h;
  hash_file_range(h, path, 0, size);
  return h.hex();
}

std::string fingerprint_path(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path.string(), ": does not exist");
  std::vector<std::pair<std::string, fs::path>> files;
  if (fs::is_directory(path)) {
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) files.emplace_back(fs::relative(it->path(), path).generic_string(), it->path());
    }
    if (ec) fail(path.string(), ": cannot list: ", ec.message());
  } else {
    files.emplace_back(path.filename().string(), path);
  }
  std::sort(files.begin(), files.end());
  constexpr std::uint64_t small = 64ull << 20, edge = 4ull << 20;
  Sha256 h;
  for (const auto& [rel, p] : files) {
    const auto size = fs::file_size(p);
    h.update(rel + "\n" + std::to_string(size) + "\n");
    if (size <= small) {
      h.update(sha256_file(p) + "\n");
    } else {
      Sha256 part;
      hash_file_range(part, p, 0, edge);
      hash_file_range(part, p, size - edge, edge);
      const auto mtime = fs::last_write_time(p).time_since_epoch().count();
      h.update(part.hex() + "\n" + std::to_string(mtime) + "\n");
    }
  }
  return h.hex();
}

}  // namespace tribev2::pipeline

#include "tribev2/io/hash.hpp"

#include <openssl/evp.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <vector>

#include "tribev2/core/error.hpp"

namespace tribev2::io {

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) fail("SHA-256: cannot initialise libcrypto");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

Sha256& Sha256::update(const void* data, std::size_t n) {
  TRIBEV2_CHECK(!done_, "SHA-256: update after digest");
  if (n && EVP_DigestUpdate(ctx_->md, data, n) != 1) fail("SHA-256: update failed");
  return *this;
}

Sha256& Sha256::update_u64(std::uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  return update(b, 8);
}

Sha256& Sha256::update_f64(double v) { return update_u64(std::bit_cast<std::uint64_t>(v)); }

Sha256& Sha256::field(std::string_view text) {
  update_u64(text.size());
  return update(text);
}

std::array<std::uint8_t, 32> Sha256::digest() {
  TRIBEV2_CHECK(!done_, "SHA-256: digest taken twice");
  done_ = true;
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out.data(), &len) != 1 || len != 32) fail("SHA-256: final failed");
  return out;
}

std::string Sha256::hex() {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : digest()) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

std::string sha256_hex(std::string_view text) { return Sha256().update(text).hex(); }
std::string sha256_hex(std::span<const std::byte> bytes) { return Sha256().update(bytes).hex(); }

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot read (for hashing)");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    h.update(buf.data(), got);
  }
  if (in.bad()) fail(path.string(), ": read error while hashing");
  return h.hex();
}

}  // namespace tribev2::io

#include "tribev2/features/audio/content_hash.hpp"

#include <bit>
#include <cstring>

#include "tribev2/io/file.hpp"

namespace tribev2::features::audio {

namespace {
std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

void ContentHash::mix(std::uint64_t w) {
  a_ = std::rotl(a_ ^ (w * 0x9e3779b97f4a7c15ull), 31) * 0xc2b2ae3d27d4eb4full;
  b_ = std::rotl(b_ + (w ^ 0x165667b19e3779f9ull) * 0x87c37b91114253d5ull, 27) * 0x4cf5ad432745937full + 0x52dce729;
}

ContentHash& ContentHash::update(std::span<const std::byte> bytes) {
  length_ += bytes.size();
  std::size_t i = 0;
  while (i < bytes.size() && tail_len_ > 0 && tail_len_ < 8) {
    tail_[tail_len_++] = static_cast<std::uint8_t>(bytes[i++]);
    if (tail_len_ == 8) {
      std::uint64_t w;
      std::memcpy(&w, tail_, 8);
      mix(w);
      tail_len_ = 0;
    }
  }
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    mix(w);
  }
  for (; i < bytes.size(); ++i) tail_[tail_len_++] = static_cast<std::uint8_t>(bytes[i]);
  return *this;
}

ContentHash& ContentHash::update(std::string_view text) {
  update_u64(text.size());
  return update(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

ContentHash& ContentHash::update_u64(std::uint64_t v) {
  std::byte b[8];
  std::memcpy(b, &v, 8);
  return update(std::span<const std::byte>(b, 8));
}

ContentHash& ContentHash::update_f64(double v) { return update_u64(std::bit_cast<std::uint64_t>(v)); }

std::string ContentHash::hex() const {
  std::uint64_t a = a_, b = b_;
  std::uint64_t w = 0;
  std::memcpy(&w, tail_, static_cast<std::size_t>(tail_len_));
  a = splitmix(a ^ w ^ (length_ << 3));
  b = splitmix(b + w + length_ + static_cast<std::uint64_t>(tail_len_));
  a = splitmix(a ^ std::rotl(b, 17));
  b = splitmix(b ^ std::rotl(a, 41));
  static const char* digits = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[static_cast<std::size_t>(i)] = digits[(a >> (60 - 4 * i)) & 0xf];
    out[static_cast<std::size_t>(16 + i)] = digits[(b >> (60 - 4 * i)) & 0xf];
  }
  return out;
}

std::string hash_file(const std::filesystem::path& path) {
  const auto m = io::MappedFile::open(path);
  ContentHash h;
  h.update(m->bytes());
  return h.hex();
}

}  // namespace tribev2::features::audio

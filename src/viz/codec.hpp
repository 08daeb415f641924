// Byte codecs used by the GIFTI reader/writer: Base64 and zlib/gzip (de)compression with
// bounded output, plus big-endian reads for the FreeSurfer formats. Internal to tribev2_viz.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tribev2::viz::detail {

// Decodes standard Base64 (whitespace ignored, '=' padding optional at the end); throws naming
// `what` on any other character.
std::vector<std::byte> base64_decode(std::string_view text, std::string_view what);
std::string base64_encode(std::span<const std::byte> bytes);

// Inflates a zlib or gzip stream. Fails when the output would exceed `max_out` bytes, when the
// stream is corrupt or truncated, or (when exact) when it is not exactly `max_out` bytes long.
std::vector<std::byte> inflate_bytes(std::span<const std::byte> in, std::size_t max_out, bool exact, std::string_view what);
// zlib stream (GIFTI's GZipBase64Binary) or gzip file format.
std::vector<std::byte> deflate_zlib(std::span<const std::byte> in);
std::vector<std::byte> deflate_gzip(std::span<const std::byte> in);

bool is_gzip(std::span<const std::byte> bytes);

// Sequential big-endian reader with bounds checks; errors name `what`.
class BigEndianReader {
 public:
  BigEndianReader(std::span<const std::byte> bytes, std::string_view what) : b_(bytes), what_(what) {}
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return b_.size() - pos_; }
  void seek(std::size_t p);
  std::uint8_t u8();
  std::int32_t i32();
  std::int32_t i24();  // 3-byte unsigned big-endian integer
  std::int16_t i16();
  float f32();
  std::string bytes_as_string(std::size_t n);
  void need(std::size_t n, std::string_view field) const;

 private:
  std::span<const std::byte> b_;
  std::string_view what_;
  std::size_t pos_ = 0;
};

}  // namespace tribev2::viz::detail

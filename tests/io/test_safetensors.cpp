#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using namespace tribev2::test;

namespace {
std::string st_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}
}  // namespace

TEST(Safetensors, RoundTripIsZeroCopy) {
  TempDir tmp;
  const float w[] = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::from<float>({2, 3}, w);
  io::write_safetensors(tmp / "m.safetensors", {{"w", t}, {"h", t.to(DType::F16)}, {"b", t.to(DType::BF16)}}, {{"format", "pt"}});
  const auto f = io::SafetensorsFile::open(tmp / "m.safetensors");
  EXPECT_EQ(f.names(), (std::vector<std::string>{"w", "h", "b"}));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_FALSE(f.get("w").writable());  // a view of the read-only map
  EXPECT_EQ(max_abs_diff(f.get("w"), t), 0.0);
  EXPECT_EQ(max_abs_diff(f.get("h").to_f32(), t), 0.0);
  EXPECT_EQ(f.get("b").dtype(), DType::BF16);
  EXPECT_THROW_MSG(f.get("nope"), "no tensor named 'nope'");
}

TEST(Safetensors, CorruptFilesGiveClearErrors) {
  TempDir tmp;
  const std::string data(24, '\0');
  auto expect_error = [&](const std::string& bytes, const std::string& msg) {
    write_bytes(tmp / "x.safetensors", bytes);
    EXPECT_THROW_MSG(io::SafetensorsFile::open(tmp / "x.safetensors"), msg);
  };
  expect_error("abc", "need an 8-byte header length");
  expect_error(std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}", "exceeds the 100 MB limit");
  expect_error(st_bytes("{\"a\":", "") .substr(0, 10), "truncated safetensors file");
  expect_error(st_bytes("{not json}", data), "not valid JSON");
  expect_error(st_bytes("[1,2]", data), "must be a JSON object");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data),
               "overlapping data_offsets");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data), "run past the end of the data");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data), "needs 12 bytes, data_offsets give 8");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data), "are reversed");
  expect_error(st_bytes(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", data), "unsupported dtype 'C64'");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data), "non-negative integers");
  expect_error(st_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", data), "must have dtype, shape and data_offsets");
}

TEST(Safetensors, MisalignedTensorsAreCopied) {
  TempDir tmp;
  // Header of odd length: tensor data starts at an odd address in the map.
  const float v = 2.5f;
  std::string data(1, '\0');
  data += std::string(reinterpret_cast<const char*>(&v), 4);
  write_bytes(tmp / "m.safetensors", st_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})", data));
  const auto f = io::SafetensorsFile::open(tmp / "m.safetensors");
  EXPECT_EQ(f.get("a").data<float>()[0], 2.5f);
}

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "support/test_support.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/npy.hpp"

using namespace tribev2;
using namespace tribev2::test;

namespace {
// Builds a .npy v1.0 file image from a header dict and raw data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}
std::string raw(const void* p, std::size_t n) { return std::string(static_cast<const char*>(p), n); }
}  // namespace

TEST(Npy, RoundTripAllDtypes) {
  TempDir tmp;
  const float f[] = {1.5f, -2, 3, 4, 5, 6};
  Tensor t = Tensor::from<float>({2, 3}, f);
  io::write_npy(tmp / "a.npy", t);
  const Tensor r = io::read_npy(tmp / "a.npy");
  EXPECT_EQ(shape_str(r.shape()), "[2, 3]");
  EXPECT_EQ(max_abs_diff(r, t), 0.0);
  for (DType dt : {DType::F16, DType::F64}) {
    io::write_npy(tmp / "b.npy", t.to(dt));
    const Tensor b = io::read_npy(tmp / "b.npy");
    EXPECT_EQ(b.dtype(), dt);
    EXPECT_EQ(max_abs_diff(b.to_f32(), t), 0.0);
  }
  const std::int64_t iv[] = {-3, 0, 1LL << 40};
  const Tensor i64 = Tensor::from<std::int64_t>({3}, iv);
  for (DType dt : {DType::I64, DType::I32}) {
    const Tensor src = dt == DType::I64 ? i64 : Tensor::from<std::int64_t>({2}, std::span<const std::int64_t>(iv, 2)).to(DType::I32);
    io::write_npy(tmp / "i.npy", src);
    const Tensor b = io::read_npy(tmp / "i.npy");
    EXPECT_EQ(b.dtype(), dt);
    const Tensor b64 = b.to(DType::I64);
    EXPECT_EQ(b64.data<std::int64_t>()[0], -3);
  }
  io::write_npy(tmp / "s.npy", Tensor::zeros(DType::F32, {}));
  EXPECT_EQ(io::read_npy(tmp / "s.npy").numel(), 1);
  io::write_npy(tmp / "e.npy", Tensor::zeros(DType::F32, {0, 4}));
  EXPECT_EQ(io::read_npy(tmp / "e.npy").numel(), 0);
}

TEST(Npy, RowWriterStreamsRowsAndAppearsOnlyOnCommit) {
  TempDir tmp;
  const float rows[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  {
    io::NpyRowWriter w(tmp / "r.npy", DType::F32, Shape{3});
    w.append(rows, 1);
    w.append(rows + 3, 2);
    w.append(rows, 0);
    EXPECT_FALSE(std::filesystem::exists(tmp / "r.npy")) << "visible before commit";
    w.commit();
  }
  const Tensor r = io::read_npy(tmp / "r.npy");
  ASSERT_EQ(shape_str(r.shape()), "[3, 3]");
  for (int i = 0; i < 9; ++i) EXPECT_EQ(r.data<float>()[i], rows[i]);
  // Same bytes as write_npy of the whole array (data on a 64-byte boundary after the header).
  io::write_npy(tmp / "w.npy", r);
  const auto a = read_bytes(tmp / "r.npy"), b = read_bytes(tmp / "w.npy");
  EXPECT_EQ(a.size() % 64, b.size() % 64);
  EXPECT_EQ(a.substr(a.size() - 36), b.substr(b.size() - 36));
  {  // Abandoned writer: no file, no temporary left behind.
    io::NpyRowWriter w(tmp / "gone.npy", DType::F32, Shape{3});
    w.append(rows, 3);
  }
  EXPECT_FALSE(std::filesystem::exists(tmp / "gone.npy"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++entries;
  EXPECT_EQ(entries, 2);
  // Zero rows is a valid [0, 3] array.
  io::NpyRowWriter z(tmp / "z.npy", DType::F32, Shape{3});
  z.commit();
  EXPECT_EQ(shape_str(io::read_npy(tmp / "z.npy").shape()), "[0, 3]");
}

TEST(Npy, FortranOrderIsTransposedToCOrder) {
  TempDir tmp;
  // The 2x3 array [[0,1,2],[3,4,5]] stored column-major: 0,3,1,4,2,5
  const float col[] = {0, 3, 1, 4, 2, 5};
  write_bytes(tmp / "f.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", raw(col, sizeof col)));
  const Tensor t = io::read_npy(tmp / "f.npy");
  ASSERT_EQ(shape_str(t.shape()), "[2, 3]");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data<float>()[i], static_cast<float>(i));
}

TEST(Npy, BigEndianIsByteSwapped) {
  TempDir tmp;
  const unsigned char be[] = {0x3f, 0x80, 0, 0, 0xc0, 0x00, 0, 0};  // 1.0f, -2.0f big endian
  write_bytes(tmp / "b.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", raw(be, 8)));
  const Tensor t = io::read_npy(tmp / "b.npy");
  EXPECT_EQ(t.data<float>()[0], 1.0f);
  EXPECT_EQ(t.data<float>()[1], -2.0f);
  const unsigned char be64[] = {0, 0, 0, 0, 0, 0, 0, 7};
  write_bytes(tmp / "i.npy", npy_bytes("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", raw(be64, 8)));
  EXPECT_EQ(io::read_npy(tmp / "i.npy").data<std::int64_t>()[0], 7);
}

TEST(Npy, CorruptFilesGiveClearErrors) {
  TempDir tmp;
  const float f[] = {1, 2, 3, 4};
  auto expect_error = [&](const std::string& bytes, const std::string& msg) {
    write_bytes(tmp / "x.npy", bytes);
    EXPECT_THROW_MSG(io::read_npy(tmp / "x.npy"), msg);
  };
  expect_error("hello world, not numpy", "missing \\x93NUMPY magic");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", raw(f, 8)), "truncated data");
  expect_error(npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", raw(f, 8)), "unsupported .npy dtype '<c8'");
  expect_error(npy_bytes("{'descr': '<f4', 'shape': (1,), }", raw(f, 4)), "must have 'descr', 'fortran_order' and 'shape'");
  expect_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,x), }", raw(f, 4)), "invalid .npy header");
  expect_error(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", raw(f, 8)), "unsupported .npy dtype");
  std::string cut = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw(f, 4));
  expect_error(cut.substr(0, 20), "truncated .npy header");
  EXPECT_THROW_MSG(io::read_npy(tmp / "missing.npy"), "missing.npy: cannot open");
}

TEST(Npz, RoundTripAndCorruption) {
  TempDir tmp;
  const float a[] = {1, 2};
  const std::int64_t b[] = {5};
  io::write_npz(tmp / "x.npz", {{"text", Tensor::from<float>({2}, a)}, {"ids", Tensor::from<std::int64_t>({1}, b)}});
  const auto arrays = io::read_npz(tmp / "x.npz");
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays[0].first, "text");
  EXPECT_EQ(arrays[1].second.data<std::int64_t>()[0], 5);
  const std::string bytes = read_bytes(tmp / "x.npz");
  write_bytes(tmp / "cut.npz", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW_MSG(io::read_npz(tmp / "cut.npz"), "cut.npz");
  write_bytes(tmp / "junk.npz", "PK\x03\x04 this is not really a zip");
  EXPECT_THROW_MSG(io::read_npz(tmp / "junk.npz"), "not a readable zip archive");
}

TEST(FeatureFile, WindowReaderForPlainFloat32FilesOnly) {
  TempDir tmp;
  const std::int64_t C = 5, N = 37;  // [channels, N]: 37 steps, rows not page multiples
  Tensor t = Tensor::empty(DType::F32, {1, C, N});
  for (std::int64_t i = 0; i < C * N; ++i) t.data<float>()[i] = static_cast<float>(i) * 0.5f - 3.0f;
  io::write_npy(tmp / "f.npy", t);
  write_bytes(tmp / "f.bin", std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  for (const auto& [file, shape] : {std::pair<std::string, std::optional<Shape>>{"f.npy", std::nullopt}, {"f.bin", Shape{1, C, N}}}) {
    const io::FeatureFile ff = io::open_feature_file(tmp / file, "text", shape);
    ASSERT_TRUE(ff.read_window) << file;
    EXPECT_EQ(max_abs_diff(ff.data, t), 0.0);
    for (const auto& [s0, n] : {std::pair<std::int64_t, std::int64_t>{0, N}, {3, 11}, {36, 1}, {20, 0}}) {
      std::vector<float> w(static_cast<std::size_t>(C * n), -99.0f);
      ff.read_window(s0, n, w.data());
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t k = 0; k < n; ++k) ASSERT_EQ(w[static_cast<std::size_t>(c * n + k)], t.data<float>()[c * N + s0 + k]) << file;
    }
    std::vector<float> w(64);
    EXPECT_THROW_MSG(ff.read_window(30, 8, w.data()), "feature window [30, 38) outside the series of 37 steps");
  }
  // float16 (converted in memory) and Fortran order (reordered) have no reader: predict then
  // reads the in-memory array.
  io::write_npy(tmp / "h.npy", t.to(DType::F16));
  EXPECT_FALSE(io::open_feature_file(tmp / "h.npy", "text").read_window);
  const float fo[] = {1, 2, 3, 4, 5, 6};
  std::string header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + raw(fo, sizeof(fo));
  write_bytes(tmp / "fo.npy", bytes);
  const io::FeatureFile ffo = io::open_feature_file(tmp / "fo.npy", "text");
  EXPECT_FALSE(ffo.read_window);
  EXPECT_EQ(ffo.data.data<float>()[1], 3.0f);  // C order [[1, 3, 5], [2, 4, 6]]
}

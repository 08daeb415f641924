#include <gtest/gtest.h>

#include <bit>
#include <cstring>

#include "../../src/viz/codec.hpp"
#include "support/test_support.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/gifti.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

// A minimal one-array GIFTI document.
std::string doc(const std::string& attrs, const std::string& data, const std::string& extra = "") {
  return "<?xml version=\"1.0\"?>\n<GIFTI Version=\"1.0\"" + extra + ">\n<DataArray " + attrs + ">\n<Data>" + data +
         "</Data>\n</DataArray>\n</GIFTI>\n";
}

std::string b64(const std::vector<unsigned char>& raw) {
  return detail::base64_encode({reinterpret_cast<const std::byte*>(raw.data()), raw.size()});
}

std::vector<unsigned char> be_floats(const std::vector<float>& v) {
  std::vector<unsigned char> out;
  for (float f : v) {
    const auto u = std::bit_cast<std::uint32_t>(f);
    for (int k = 3; k >= 0; --k) out.push_back(static_cast<unsigned char>(u >> (8 * k)));
  }
  return out;
}

}  // namespace

TEST(Base64, RoundTripAndErrors) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "hello world!"}) {
    const std::string enc = detail::base64_encode(as_bytes(s));
    const auto dec = detail::base64_decode(enc, "t");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(dec.data()), dec.size()), s);
  }
  EXPECT_EQ(detail::base64_encode(as_bytes("abc")), "YWJj");
  EXPECT_EQ(detail::base64_encode(as_bytes("ab")), "YWI=");
  EXPECT_THROW_MSG(detail::base64_decode("YW*j", "file.gii"), "invalid Base64");
  EXPECT_THROW_MSG(detail::base64_decode("YWJjZ", "file.gii"), "truncated");
  EXPECT_THROW_MSG(detail::base64_decode("YW==Jj", "file.gii"), "after '=' padding");
}

TEST(Gifti, RealFsaverage5Surface) {
  const fs::path dir = vtest::real_fsaverage5_dir();
  if (dir.empty()) GTEST_SKIP() << "needs the real fsaverage5 files in ../shared/data/fsaverage5 (checks known coordinates)";
  const Mesh pial = gifti_surface(read_gifti(dir / "pial_left.gii.gz"), "pial_left");
  EXPECT_EQ(pial.n_vertices(), 10242);
  EXPECT_EQ(pial.n_faces(), 20480);
  // Values read with nibabel 5.0 from the same file.
  EXPECT_FLOAT_EQ(pial.vertices[0], -38.73596f);
  EXPECT_FLOAT_EQ(pial.vertices[1], -19.343365f);
  EXPECT_FLOAT_EQ(pial.vertices[2], 67.22014f);
  EXPECT_FLOAT_EQ(pial.vertices[3 * 10241], -34.49119f);
  EXPECT_FLOAT_EQ(pial.vertices[3 * 10241 + 2], -24.645117f);
  EXPECT_EQ(pial.faces[0], 0);
  EXPECT_EQ(pial.faces[1], 2564);
  EXPECT_EQ(pial.faces[2], 2562);
  EXPECT_EQ(pial.faces[3 * 20479], 10161);
  EXPECT_EQ(pial.faces[3 * 20479 + 1], 11);
  EXPECT_EQ(pial.faces[3 * 20479 + 2], 9918);
  const Mesh sphere = gifti_surface(read_gifti(dir / "sphere_left.gii.gz"), "sphere_left");
  EXPECT_FLOAT_EQ(sphere.vertices[2], 100.0f);
  const auto img = read_gifti(dir / "pial_right.gii.gz");
  EXPECT_EQ(img.arrays[0].meta_value("AnatomicalStructurePrimary"), "CortexRight");
  const auto sulc = gifti_map(read_gifti(dir / "sulc_left.gii.gz"), "sulc_left");
  ASSERT_EQ(sulc.size(), 10242u);
  EXPECT_FLOAT_EQ(sulc[0], -0.78126884f);
  EXPECT_FLOAT_EQ(sulc[5000], 0.49443415f);
  EXPECT_FLOAT_EQ(*std::min_element(sulc.begin(), sulc.end()), -1.4937248f);
  EXPECT_FLOAT_EQ(*std::max_element(sulc.begin(), sulc.end()), 1.8069096f);
}

TEST(Gifti, RoundTripAllEncodings) {
  tribev2::test::TempDir tmp;
  const Mesh m = make_icosphere(2, 10.0f);
  for (auto enc : {GiftiEncoding::Ascii, GiftiEncoding::Base64Binary, GiftiEncoding::GZipBase64Binary}) {
    for (const char* name : {"s.gii", "s.gii.gz"}) {
      const fs::path p = tmp / name;
      auto img = make_surface_gifti(m, "CortexLeft");
      img.meta = {{"k", "value with ]]> inside & <tags>"}};
      write_gifti(p, img, enc);
      const auto back = read_gifti(p);
      EXPECT_EQ(back.meta_value("k"), "value with ]]> inside & <tags>");
      const Mesh r = gifti_surface(back, p.string());
      EXPECT_EQ(r.faces, m.faces);
      ASSERT_EQ(r.vertices.size(), m.vertices.size());
      for (std::size_t i = 0; i < r.vertices.size(); ++i) ASSERT_EQ(r.vertices[i], m.vertices[i]) << i;  // %.9g is exact
    }
  }
}

TEST(Gifti, BigEndianColumnMajorAndTypes) {
  const std::vector<float> v = {1.5f, -2.25f, 3.0f, 1e-3f, 7.0f, -8.5f};
  const std::string be = doc(
      "Intent=\"NIFTI_INTENT_NONE\" DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"2\" Dim0=\"2\" Dim1=\"3\" "
      "Encoding=\"Base64Binary\" Endian=\"BigEndian\" ArrayIndexingOrder=\"ColumnMajorOrder\"",
      b64(be_floats(v)));
  const auto img = parse_gifti(as_bytes(be), "be.gii");
  ASSERT_EQ(img.arrays.size(), 1u);
  // Column-major [2, 3]: memory order a00 a10 a01 a11 a02 a12 -> row-major a00 a01 a02 a10 a11 a12.
  EXPECT_EQ(img.arrays[0].floats, (std::vector<float>{1.5f, 3.0f, 7.0f, -2.25f, 1e-3f, -8.5f}));
  // uint8 and int16 ASCII data become int32; float64 becomes float32.
  const auto u8 = parse_gifti(as_bytes(doc("DataType=\"NIFTI_TYPE_UINT8\" Dimensionality=\"1\" Dim0=\"3\" Encoding=\"ASCII\"",
                                           " 0 255\n 7 ")),
                              "u8.gii");
  EXPECT_EQ(u8.arrays[0].ints, (std::vector<std::int32_t>{0, 255, 7}));
  EXPECT_TRUE(u8.arrays[0].is_integer());
  std::vector<unsigned char> f64(16);
  const double d[2] = {0.1, -3.5};
  std::memcpy(f64.data(), d, 16);  // little-endian machine
  const auto g = parse_gifti(
      as_bytes(doc("DataType=\"NIFTI_TYPE_FLOAT64\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"Base64Binary\"", b64(f64))), "f64.gii");
  EXPECT_EQ(g.arrays[0].floats, (std::vector<float>{0.1f, -3.5f}));
}

TEST(Gifti, CorruptFilesGiveClearErrors) {
  const std::string ok_attrs = "DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"ASCII\"";
  auto parse = [](const std::string& s) { return parse_gifti(as_bytes(s), "bad.gii"); };
  EXPECT_THROW_MSG(parse("not xml at all"), "bad.gii: not a valid GIFTI file");
  EXPECT_THROW_MSG(parse("<?xml version=\"1.0\"?><NIFTI/>"), "no <GIFTI> root element");
  EXPECT_THROW_MSG(parse(doc(ok_attrs, "1 2").substr(0, 60)), "not a valid GIFTI file");
  EXPECT_THROW_MSG(parse(doc(ok_attrs, "1 2 3")), "more than the 2 values");
  EXPECT_THROW_MSG(parse(doc(ok_attrs, "1")), "holds 1 values, expected 2");
  EXPECT_THROW_MSG(parse(doc(ok_attrs, "1 x")), "is not a number");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_COMPLEX64\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"ASCII\"", "1 2")),
                   "unsupported DataType 'NIFTI_TYPE_COMPLEX64'");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Encoding=\"ASCII\"", "1 2")), "missing attribute Dim0");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"-4\" Encoding=\"ASCII\"", "1")),
                   "Dim0 must be a positive integer");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"9\" Dim0=\"1\" Encoding=\"ASCII\"", "1")),
                   "Dimensionality must be 1 to 6");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"2\" Dim0=\"4000000000\" Dim1=\"4000000000\" Encoding=\"ASCII\"", "1")),
                   "dimensions too large");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"Base64Binary\"", "AAAA")),
                   "Base64 data holds 3 bytes, expected 8");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"GZipBase64Binary\"", "AAAAAAAAAAA=")),
                   "corrupt compressed data");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"ExternalFileBinary\"", "")),
                   "ExternalFileBinary");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"2\" Encoding=\"Hex\"", "")), "unknown Encoding 'Hex'");
  EXPECT_THROW_MSG(parse(doc(ok_attrs + " Endian=\"Middle\"", "1 2")), "Endian must be");
  EXPECT_THROW_MSG(parse(doc(ok_attrs, "1 2", " NumberOfDataArrays=\"3\"")), "NumberOfDataArrays is '3' but the file holds 1");
  EXPECT_THROW_MSG(parse("<GIFTI><DataArray DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"1\" Encoding=\"ASCII\"/></GIFTI>"),
                   "missing <Data> element");
  EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_INT64\" Dimensionality=\"1\" Dim0=\"1\" Encoding=\"ASCII\"", "99999999999")),
                   "does not fit in int32");

  // Compressed data: too long (a "bomb" against the declared size), too short, truncated.
  auto gz = [&](std::size_t n_bytes, std::size_t dim) {
    const std::vector<std::byte> raw(n_bytes, std::byte{0});
    return doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"" + std::to_string(dim) + "\" Encoding=\"GZipBase64Binary\"",
               detail::base64_encode(detail::deflate_zlib(raw)));
  };
  EXPECT_THROW_MSG(parse(gz(1 << 20, 4)), "expands to more than the expected 16 bytes");
  EXPECT_THROW_MSG(parse(gz(8, 4)), "holds 8 bytes, expected 16");
  {
    const std::vector<std::byte> raw(64, std::byte{1});
    auto z = detail::deflate_zlib(raw);
    z.resize(z.size() / 2);
    EXPECT_THROW_MSG(parse(doc("DataType=\"NIFTI_TYPE_FLOAT32\" Dimensionality=\"1\" Dim0=\"16\" Encoding=\"GZipBase64Binary\"",
                               detail::base64_encode(z))),
                     "truncated compressed data");
  }
  // A surface whose faces point past the vertices.
  GiftiImage img = make_surface_gifti(make_icosphere(0), "x");
  img.arrays[1].ints[5] = 12;
  EXPECT_THROW_MSG(gifti_surface(img, "bad_faces.gii"), "face 1 refers to vertex 12, expected 0 <= index < 12");
  img.arrays.pop_back();
  EXPECT_THROW_MSG(gifti_surface(img, "no_tri.gii"), "no TRIANGLE");
}

TEST(Gifti, TruncatedGzipFile) {
  tribev2::test::TempDir tmp;
  write_gifti(tmp / "s.gii.gz", make_surface_gifti(make_icosphere(1), "x"));
  std::string bytes = tribev2::test::read_bytes(tmp / "s.gii.gz");
  tribev2::test::write_bytes(tmp / "cut.gii.gz", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW_MSG(read_gifti(tmp / "cut.gii.gz"), "truncated compressed data");
  EXPECT_THROW_MSG(read_gifti(tmp / "missing.gii"), "missing.gii: cannot open");
}

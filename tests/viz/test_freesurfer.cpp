#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "support/test_support.hpp"
#include "tribev2/viz/freesurfer.hpp"
#include "tribev2/viz/gifti.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {

// Big-endian writers for hand-made FreeSurfer files.
struct Be {
  std::string s;
  Be& i32(std::int32_t v) {
    for (int k = 3; k >= 0; --k) s += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * k)) & 0xFF);
    return *this;
  }
  Be& i24(std::int32_t v) {
    for (int k = 2; k >= 0; --k) s += static_cast<char>((v >> (8 * k)) & 0xFF);
    return *this;
  }
  Be& i16(std::int16_t v) {
    s += static_cast<char>((v >> 8) & 0xFF);
    s += static_cast<char>(v & 0xFF);
    return *this;
  }
  Be& f32(float v) { return i32(static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(v))); }
  Be& raw(const std::string& t) {
    s += t;
    return *this;
  }
  Be& str(const std::string& t) {  // length-prefixed, NUL-terminated (as FreeSurfer writes names)
    i32(static_cast<std::int32_t>(t.size() + 1));
    s += t;
    s += '\0';
    return *this;
  }
};

std::string surface_bytes(const Mesh& m) {
  Be b;
  b.raw("\xff\xff\xfe").raw("created by test on today\n\n");
  b.i32(static_cast<std::int32_t>(m.n_vertices())).i32(static_cast<std::int32_t>(m.n_faces()));
  for (float v : m.vertices) b.f32(v);
  for (auto f : m.faces) b.i32(f);
  return b.s;
}

std::span<const std::byte> bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

}  // namespace

TEST(FreeSurfer, TriangleSurface) {
  const Mesh m = make_icosphere(2, 50.0f);
  const Mesh r = parse_freesurfer_surface(bytes(surface_bytes(m)), "lh.test");
  EXPECT_EQ(r.vertices, m.vertices);
  EXPECT_EQ(r.faces, m.faces);
  // Trailing volume-geometry tags are ignored.
  const Mesh r2 = parse_freesurfer_surface(bytes(surface_bytes(m) + "\0\0\0\x02valid = 1\n"), "lh.tags");
  EXPECT_EQ(r2.faces, m.faces);
}

TEST(FreeSurfer, CorruptSurfaces) {
  const Mesh m = make_icosphere(1, 50.0f);
  const std::string good = surface_bytes(m);
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes("\xff\xff"), "lh.x"), "lh.x: not a FreeSurfer triangle surface");
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes("\x01\x02\x03\x04"), "lh.x"), "magic bytes 10203");
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes("\xff\xff\xff" + good.substr(3)), "lh.quad"), "quadrangle surfaces are not supported");
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes("\xff\xff\xfe no end of line"), "lh.x"), "no end of the creator line");
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes(good.substr(0, good.size() - 5)), "lh.cut"), "lh.cut: file truncated");
  Be neg;
  neg.raw("\xff\xff\xfe").raw("c\n\n").i32(-5).i32(3);
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes(neg.s), "lh.neg"), "vertex count -5");
  Mesh bad = m;
  bad.faces[7] = 1000;
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes(surface_bytes(bad)), "lh.bad"), "face 2 refers to vertex 1000");
  Mesh nan = m;
  nan.vertices[4] = NAN;
  EXPECT_THROW_MSG(parse_freesurfer_surface(bytes(surface_bytes(nan)), "lh.nan"), "vertex 1 has a non-finite coordinate");
}

TEST(FreeSurfer, CurvNewAndOldFormats) {
  Be b;
  b.raw("\xff\xff\xff").i32(4).i32(4).i32(1).f32(0.5f).f32(-1.25f).f32(2.0f).f32(0.0f);
  EXPECT_EQ(parse_freesurfer_morph(bytes(b.s), "lh.sulc"), (std::vector<float>{0.5f, -1.25f, 2.0f, 0.0f}));
  Be old;
  old.i24(3).i24(2).i16(150).i16(-25).i16(0);
  EXPECT_EQ(parse_freesurfer_morph(bytes(old.s), "lh.old"), (std::vector<float>{1.5f, -0.25f, 0.0f}));
  EXPECT_THROW_MSG(parse_freesurfer_morph(bytes(b.s.substr(0, b.s.size() - 2)), "lh.cut"), "lh.cut: file truncated");
  Be two;
  two.raw("\xff\xff\xff").i32(4).i32(4).i32(2);
  EXPECT_THROW_MSG(parse_freesurfer_morph(bytes(two.s), "lh.two"), "2 values per vertex, expected 1");
  EXPECT_THROW_MSG(parse_freesurfer_morph(bytes(old.s + "xx"), "lh.odd"), "not a FreeSurfer curv file");
  EXPECT_THROW_MSG(parse_freesurfer_morph(bytes("abc"), "lh.tiny"), "not a FreeSurfer curv file");
}

TEST(FreeSurfer, AnnotNewAndOldColourTables) {
  // Three vertices: two labelled "cortex" (colour 10, 20, 30), one "other" (1, 2, 3).
  const std::int32_t cortex = 10 + 20 * 256 + 30 * 65536, other = 1 + 2 * 256 + 3 * 65536;
  Be v2;
  v2.i32(3).i32(0).i32(cortex).i32(2).i32(other).i32(1).i32(cortex);
  v2.i32(1).i32(-2).i32(5).str("ctab.txt").i32(2);
  v2.i32(0).str("cortex").i32(10).i32(20).i32(30).i32(0);
  v2.i32(4).str("other").i32(1).i32(2).i32(3).i32(0);
  const Annotation a = parse_freesurfer_annot(bytes(v2.s), "lh.aparc.annot");
  EXPECT_EQ(a.labels, (std::vector<std::int32_t>{0, 0, 1}));
  EXPECT_EQ(a.names, (std::vector<std::string>{"cortex", "other"}));
  EXPECT_EQ(a.colors[1], (std::array<std::int32_t, 4>{1, 2, 3, 0}));

  Be old;
  old.i32(2).i32(0).i32(other).i32(1).i32(12345);
  old.i32(1).i32(1).str("orig.ctab").str("other").i32(1).i32(2).i32(3).i32(0);
  const Annotation b = parse_freesurfer_annot(bytes(old.s), "lh.old.annot");
  EXPECT_EQ(b.labels, (std::vector<std::int32_t>{0, -1}));  // 12345 matches no entry

  EXPECT_THROW_MSG(parse_freesurfer_annot(bytes(v2.s.substr(0, 20)), "lh.cut.annot"), "file truncated");
  Be badv;
  badv.i32(1).i32(7).i32(0);
  EXPECT_THROW_MSG(parse_freesurfer_annot(bytes(badv.s), "lh.v.annot"), "label entry 0 names vertex 7");
  Be noctab;
  noctab.i32(1).i32(0).i32(0).i32(0);
  EXPECT_THROW_MSG(parse_freesurfer_annot(bytes(noctab.s), "lh.n.annot"), "no colour table");
  Be ver3;
  ver3.i32(1).i32(0).i32(0).i32(1).i32(-3);
  EXPECT_THROW_MSG(parse_freesurfer_annot(bytes(ver3.s), "lh.3.annot"), "version 3 is not supported");
  Be longname;
  longname.i32(1).i32(0).i32(0).i32(1).i32(1).i32(1000000);
  EXPECT_THROW_MSG(parse_freesurfer_annot(bytes(longname.s), "lh.l.annot"), "length 1000000 is invalid");
}

TEST(FreeSurfer, ReadSurfaceDispatchesOnName) {
  tribev2::test::TempDir tmp;
  const Mesh m = make_icosphere(1, 20.0f);
  tribev2::test::write_bytes(tmp / "lh.pial", surface_bytes(m));
  write_gifti(tmp / "lh.pial.gii", make_surface_gifti(m, "CortexLeft"));
  EXPECT_EQ(read_surface(tmp / "lh.pial").faces, m.faces);
  EXPECT_EQ(read_surface(tmp / "lh.pial.gii").faces, m.faces);
  EXPECT_THROW_MSG(read_surface_map(tmp / "lh.pial.gii"), "no per-vertex map");
}

// nibabel writes FreeSurfer files; we must read the same numbers (skipped without nibabel).
TEST(FreeSurfer, NibabelWrittenFiles) {
  if (!vtest::have_nibabel()) GTEST_SKIP() << "needs /usr/bin/python3 with nibabel (scripts/install-deps.sh --test)";
  tribev2::test::TempDir tmp;
  const std::string d = tmp.path().string();
  const auto r = vtest::run_python(
      "import numpy as np, nibabel.freesurfer as f\n"
      "v = np.array([[0,0,0],[1.5,0,0],[0,2.25,0],[0,0,-3]], np.float32)\n"
      "t = np.array([[0,1,2],[0,1,3],[0,2,3],[1,2,3]], np.int32)\n"
      "f.write_geometry('" + d + "/lh.test', v, t)\n"
      "f.write_morph_data('" + d + "/lh.sulc', np.array([0.5,-1,2,3.25], np.float32))\n"
      "ctab = np.array([[10,20,30,0],[1,2,3,0]], np.int32)\n"
      "f.write_annot('" + d + "/lh.test.annot', np.array([1,0,1,-1], np.int32), ctab, [b'a', b'b'], fill_ctab=True)\n");
  ASSERT_EQ(r.code, 0) << r.output;
  const Mesh m = read_freesurfer_surface(tmp / "lh.test");
  EXPECT_EQ(m.vertices, (std::vector<float>{0, 0, 0, 1.5f, 0, 0, 0, 2.25f, 0, 0, 0, -3}));
  EXPECT_EQ(m.faces, (std::vector<std::int32_t>{0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3}));
  EXPECT_EQ(read_freesurfer_morph(tmp / "lh.sulc"), (std::vector<float>{0.5f, -1, 2, 3.25f}));
  const Annotation a = read_freesurfer_annot(tmp / "lh.test.annot");
  EXPECT_EQ(a.labels, (std::vector<std::int32_t>{1, 0, 1, -1}));
  EXPECT_EQ(a.names, (std::vector<std::string>{"a", "b"}));
}

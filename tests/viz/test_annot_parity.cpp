// The .annot and .label readers against nibabel.freesurfer (read_annot / read_label) on files
// nibabel (or, for the old colour-table layout, a byte-exact Python writer) produced in the test:
// random tables and a real-shaped one (fsaverage5 size, 181 HCP-like entries), both layouts.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/viz/freesurfer.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/gifti.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {

// Writes annotation files plus nibabel's reading of each (<stem>.labels.npy, .ctab.npy,
// .names.txt). `old` files are written in the pre-version-2 layout by hand (nibabel only
// writes version 2) and read back with nibabel, which reads both.
const char* kWriter = R"PY(
import numpy as np, struct, nibabel.freesurfer as f, sys
d = sys.argv[1] if len(sys.argv) > 1 else D
def old_write(path, labels, ctab, names):
    vals = np.where(labels < 0, 0, ctab[np.clip(labels, 0, None), 0] + ctab[np.clip(labels, 0, None), 1] * 256 + ctab[np.clip(labels, 0, None), 2] * 65536)
    with open(path, 'wb') as o:
        o.write(struct.pack('>i', len(labels)))
        o.write(np.column_stack([np.arange(len(labels)), vals]).astype('>i4').tobytes())
        o.write(struct.pack('>ii', 1, len(names)))
        t = b'orig.ctab\x00'; o.write(struct.pack('>i', len(t)) + t)
        for n, c in zip(names, ctab):
            o.write(struct.pack('>i', len(n) + 1) + n + b'\x00')
            o.write(np.asarray(c[:4]).astype('>i4').tobytes())
def dump(stem):
    l, c, n = f.read_annot(d + '/' + stem + '.annot')
    np.save(d + '/' + stem + '.labels.npy', l.astype(np.int32))
    np.save(d + '/' + stem + '.ctab.npy', c.astype(np.int64))
    open(d + '/' + stem + '.names.txt', 'w').write('\n'.join(x.decode() for x in n) + '\n')
rng = np.random.default_rng(7)
cases = [('small', 17, 5), ('medium', 1000, 40), ('fs5', 10242, 181)]
for name, nv, ne in cases:
    # Distinct colours (as FreeSurfer tables have); transparency 0.
    cols = rng.choice(255 * 255 * 255, size=ne, replace=False) + 1
    ctab = np.column_stack([cols % 255, (cols // 255) % 255, cols // 65025, np.zeros(ne, int)]).astype(np.int32)
    names = [b'???'] + [('L_A%d_ROI' % i).encode() for i in range(1, ne)] if name == 'fs5' else [('r%d' % i).encode() for i in range(ne)]
    labels = rng.integers(-1, ne, size=nv).astype(np.int32)
    f.write_annot(d + '/new_' + name + '.annot', labels, ctab, names, fill_ctab=True)
    old_write(d + '/old_' + name + '.annot', labels, ctab, names)
    np.save(d + '/' + name + '.written.npy', labels)
    dump('new_' + name); dump('old_' + name)
# A .label file as FreeSurfer writes it, read by nibabel.
with open(d + '/lh.test.label', 'w') as o:
    o.write('#!ascii label  , from subject fsaverage vox2ras=TkReg\n5\n')
    for v in [3, 10, 0, 99, 7]:
        o.write('%d  %.3f  %.3f  %.3f %.10f\n' % (v, v * 0.5, -v * 1.25, 2.0, v / 7.0))
l, s = f.read_label(d + '/lh.test.label', read_scalars=True)
np.save(d + '/label.vertices.npy', l.astype(np.int32)); np.save(d + '/label.values.npy', s.astype(np.float32))
)PY";

std::vector<std::int32_t> npy_i32(const fs::path& p) {
  const Tensor t = io::read_npy(p).to(DType::I32);
  return {t.data<std::int32_t>(), t.data<std::int32_t>() + t.numel()};
}

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST(AnnotParity, NibabelReadsTheSame) {
  if (!vtest::have_nibabel()) GTEST_SKIP() << "needs /usr/bin/python3 with nibabel (scripts/install-deps.sh --test)";
  tribev2::test::TempDir tmp;
  const std::string d = tmp.path().string();
  const auto r = vtest::run_python(std::string("D = '") + d + "'\n" + kWriter);
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* name : {"small", "medium", "fs5"}) {
    for (const char* layout : {"new_", "old_"}) {
      const std::string stem = std::string(layout) + name;
      SCOPED_TRACE(stem);
      const Annotation a = read_freesurfer_annot(tmp / (stem + ".annot"));
      EXPECT_EQ(a.old_format, std::string(layout) == "old_");
      const auto want_labels = npy_i32(tmp / (stem + ".labels.npy"));
      EXPECT_EQ(a.labels, want_labels);
      EXPECT_EQ(a.labels, npy_i32(tmp / (std::string(name) + ".written.npy")));  // what was written
      EXPECT_EQ(a.names, lines(tmp / (stem + ".names.txt")));
      const Tensor ctab = io::read_npy(tmp / (stem + ".ctab.npy")).to(DType::I64);
      ASSERT_EQ(ctab.dim(0), static_cast<std::int64_t>(a.colors.size()));
      for (std::int64_t e = 0; e < ctab.dim(0); ++e) {
        const std::int64_t* row = ctab.data<std::int64_t>() + e * 5;
        for (int k = 0; k < 4; ++k) EXPECT_EQ(a.colors[static_cast<std::size_t>(e)][static_cast<std::size_t>(k)], row[k]) << "entry " << e;
        // nibabel's 5th column is the packed annotation value; ours is MNE's id (the same with t=0).
        EXPECT_EQ(a.ids[static_cast<std::size_t>(e)], row[4]) << "entry " << e;
      }
      if (std::string(name) == "fs5") {
        EXPECT_EQ(static_cast<std::int64_t>(a.labels.size()), kFsaverage5Vertices);
      }
    }
  }
  const SurfaceLabel l = read_freesurfer_label(tmp / "lh.test.label");
  EXPECT_EQ(l.vertices, npy_i32(tmp / "label.vertices.npy"));
  const Tensor vals = io::read_npy(tmp / "label.values.npy");
  ASSERT_EQ(vals.numel(), 5);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(l.values[i], vals.f32()[i]);
  EXPECT_FLOAT_EQ(l.positions[1][1], -12.5f);
  EXPECT_EQ(l.comment, "!ascii label  , from subject fsaverage vox2ras=TkReg");
}

// The real fsaverage5 meshes fix the vertex count an annotation for TRIBE's outputs must have.
TEST(AnnotParity, RealFsaverage5VertexCount) {
  const fs::path real = vtest::real_fsaverage5_dir();
  if (real.empty()) GTEST_SKIP() << "needs ../shared/data/fsaverage5 (the real meshes)";
  const Mesh m = gifti_surface(read_gifti(real / "pial_left.gii.gz"), "pial_left");
  EXPECT_EQ(m.n_vertices(), kFsaverage5Vertices);
  if (!vtest::have_nibabel()) GTEST_SKIP() << "needs /usr/bin/python3 with nibabel";
  tribev2::test::TempDir tmp;
  const std::string d = tmp.path().string();
  // An annotation over the real mesh's vertices, labelled by the sign of x (nibabel writes it).
  const auto r = vtest::run_python(
      "import numpy as np, nibabel as nib, nibabel.freesurfer as f\n"
      "c = nib.load('" + (real / "pial_left.gii.gz").string() + "').darrays[0].data\n"
      "lab = (c[:, 0] > c[:, 0].mean()).astype(np.int32)\n"
      "f.write_annot('" + d + "/lh.x.annot', lab, np.array([[10,20,30,0],[40,50,60,0]], np.int32), [b'medial', b'lateral'], fill_ctab=True)\n"
      "np.save('" + d + "/lab.npy', lab)\n");
  ASSERT_EQ(r.code, 0) << r.output;
  const Annotation a = read_freesurfer_annot(tmp / "lh.x.annot");
  EXPECT_EQ(static_cast<std::int64_t>(a.labels.size()), m.n_vertices());
  EXPECT_EQ(a.labels, npy_i32(tmp / "lab.npy"));
}

TEST(AnnotParity, CorruptLabelFiles) {
  auto parse = [](const std::string& s) { return parse_freesurfer_label(s, "lh.bad.label"); };
  EXPECT_THROW_MSG(parse(""), "first line must be a '#' comment");
  EXPECT_THROW_MSG(parse("#c\n"), "no vertex count line");
  EXPECT_THROW_MSG(parse("#c\n2 3\n"), "expected the vertex count alone");
  EXPECT_THROW_MSG(parse("#c\n-1\n"), "vertex count '-1' is not a non-negative integer");
  EXPECT_THROW_MSG(parse("#c\n1\n1 2 3 4\n"), "expected 5 fields");
  EXPECT_THROW_MSG(parse("#c\n1\n1 2 x 4 5\n"), "y 'x' is not a number");
  EXPECT_THROW_MSG(parse("#c\n1\n1 2 3 4 5\n2 2 3 4 5\n"), "more vertex lines than the count 1");
  EXPECT_THROW_MSG(parse("#c\n3\n1 2 3 4 5\n"), "the header says 3 vertices, the file lists 1");
  EXPECT_THROW_MSG(parse("#c\n1\n1.5 2 3 4 5\n"), "vertex number '1.5'");
  const SurfaceLabel ok = parse("#c\r\n1\r\n4 1 2 3 0.5\r\n\r\n");
  EXPECT_EQ(ok.vertices, (std::vector<std::int32_t>{4}));
}

TEST(AnnotParity, ZeroValueIsUnlabelledEvenWithABlackEntry) {
  // nibabel: vertices whose stored value is 0 are -1, even if an entry has colour (0, 0, 0).
  std::string s;
  auto i32 = [&](std::int32_t v) {
    for (int k = 3; k >= 0; --k) s += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * k)) & 0xFF);
  };
  auto str = [&](const std::string& t) {
    i32(static_cast<std::int32_t>(t.size() + 1));
    s += t;
    s += '\0';
  };
  i32(2); i32(0); i32(0); i32(1); i32(5);
  i32(1); i32(-2); i32(2); str("t"); i32(2);
  i32(0); str("black"); i32(0); i32(0); i32(0); i32(0);
  i32(1); str("five"); i32(5); i32(0); i32(0); i32(0);
  const Annotation a = parse_freesurfer_annot({reinterpret_cast<const std::byte*>(s.data()), s.size()}, "lh.z.annot");
  EXPECT_EQ(a.labels, (std::vector<std::int32_t>{-1, 1}));
  EXPECT_EQ(a.values, (std::vector<std::int32_t>{0, 5}));
  EXPECT_EQ(a.ids, (std::vector<std::int64_t>{0, 5}));
}

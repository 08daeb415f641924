// Upstream's ROI semantics against numpy: the test writes an HCP-MMP1-shaped atlas on fsaverage
// (163,842 vertices: real area names, random assignment, one left area only beyond fsaverage5's
// vertices) with nibabel, and computes get_hcp_labels / get_hcp_roi_indices / summarize_by_roi /
// get_topk_rois with upstream's formulas in numpy (MNE's read_labels_from_annot rules written out
// in the script). Tolerance: 1e-6 relative on the means (we sum in double; numpy in float64).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/roi/summary.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::roi;
namespace fs = std::filesystem;

namespace {

const char* kAreas =
    "V1 V2 V3 V4 V3A V3B V6 V6A V7 IPS1 V8 VVC PIT FFC VMV1 VMV2 VMV3 V3CD LO1 LO2 LO3 V4t FST MT MST PH 4 3a 3b 1 2 24dd "
    "24dv 6mp 6ma SCEF 5m 5L 5mv 55b 6d 6a FEF 6v 6r PEF 43 FOP1 OP4 OP1 OP2-3 PFcm A1 LBelt MBelt PBelt RI A4 A5 STSdp "
    "STSda STSvp STSva STGa TA2 52 PI Ig PoI1 PoI2 FOP2 FOP3 MI AVI AAIC Pir FOP4 FOP5 H PreS EC PeEc PHA1 PHA2 PHA3 PHT "
    "TE1p TE1m TE1a TE2p TE2a TGv TGd TF TPOJ1 TPOJ2 TPOJ3 STV PSL LIPv LIPd VIP AIP MIP 7PC 7AL 7Am 7PL 7Pm PGp PGs PGi "
    "PFm PF PFt PFop IP0 IP1 IP2 DVT ProS POS1 POS2 RSC v23ab d23ab 31pv 31pd 31a 23d 23c PCV 7m 33pr p24pr a24pr p24 a24 "
    "p32pr a32pr d32 p32 s32 8BM 9m 10v 10r 25 47s 47m a47r 11l 13l a10p p10p 10pp 10d OFC pOFC 44 45 IFJp IFJa IFSp IFSa "
    "47l p47r 8C 8Av i6-8 s6-8 SFL 8BL 9p 9a 8Ad p9-46v a9-46v 46 9-46d";

const char* kScript = R"PY(
import numpy as np, nibabel.freesurfer as f
rng = np.random.default_rng(3)
areas = AREAS.split()
for side, H in (('lh', 'L'), ('rh', 'R')):
    names = [b'???'] + [('%s_%s_ROI' % (H, a)).encode() for a in areas]
    ne = len(names)
    cols = rng.choice(250 ** 3, size=ne, replace=False) + 1
    ctab = np.column_stack([cols % 250, (cols // 250) % 250, cols // 62500, np.zeros(ne, int)]).astype(np.int32)
    lab = rng.integers(0, ne, size=163842).astype(np.int32)
    lab[:12] = np.arange(12)  # a few areas surely inside fsaverage5
    if side == 'lh':  # area 10pp only beyond fsaverage5's vertices: empty after the cut
        k = names.index(b'L_10pp_ROI')
        lab[:10242][lab[:10242] == k] = 0
        lab[20000:20010] = k
    f.write_annot(D + '/%s.HCPMMP1.annot' % side, lab, ctab, names, fill_ctab=True)

def mne_labels(side):  # mne.read_labels_from_annot, one hemisphere
    annot, ctab, names = f.read_annot(D + '/%s.HCPMMP1.annot' % side, orig_ids=True)
    out = []
    for e, n in enumerate(names):
        v = np.where(annot == ctab[e, 4])[0]
        if len(v):
            out.append((n.decode() + '-' + side, v))
    return out
labs = sorted(mne_labels('lh') + mne_labels('rh'), key=lambda x: x[0])

def hcp(hemi):  # upstream get_hcp_labels(mesh='fsaverage5', combine=False, hemi)
    if hemi in ('left', 'right'):
        d = {}
        for name, v in labs:
            name = name[2:].replace('_ROI', '')
            if (hemi == 'right' and '-lh' in name) or (hemi == 'left' and '-rh' in name):
                continue
            d[name.replace('-rh', '').replace('-lh', '')] = v
        off = 10242 if hemi == 'right' else 0
        return {k: v[v < 10242] + off for k, v in d.items()}
    l, r = hcp('left'), hcp('right')
    return {k: np.concatenate([l[k], r[k]]) for k in l}

def idx(rois, hemi):  # get_hcp_roi_indices
    labels = hcp(hemi); sel = []
    for roi in rois:
        if roi[-1] == '*': s = [k for k in labels if k.startswith(roi[:-1])]
        elif roi[0] == '*': s = [k for k in labels if k.endswith(roi[1:])]
        else: s = [k for k in labels if k == roi]
        sel += s
    return np.concatenate([labels[k] for k in sel])

def summ(x, hemi):  # summarize_by_roi
    if hemi == 'both_separate':
        return np.concatenate([summ(x, 'left'), summ(x, 'right')])
    return np.array([x[idx([k], hemi)].mean() for k in hcp(hemi)])

def names(hemi):
    if hemi == 'both_separate':
        return [k + '-lh' for k in hcp('left')] + [k + '-rh' for k in hcp('right')]
    return list(hcp(hemi))

data = rng.standard_normal((3, 20484)).astype(np.float32) + 0.5
np.save(D + '/data.npy', data)
x64 = data.astype(np.float64)
import warnings; warnings.simplefilter('ignore')
for hemi in ('left', 'right', 'both', 'both_separate'):
    np.save(D + '/summ_%s.npy' % hemi, np.stack([summ(x, hemi) for x in x64]))
    open(D + '/names_%s.txt' % hemi, 'w').write('\n'.join(names(hemi)) + '\n')
    top = [list(np.array(names(hemi))[np.argsort(summ(x, hemi), kind='stable')[::-1][:10]]) for x in x64]
    open(D + '/top_%s.txt' % hemi, 'w').write('\n'.join(' '.join(t) for t in top) + '\n')
    if hemi != 'both_separate':
        np.save(D + '/idx_%s.npy' % hemi, idx(['V*', '*2', 'MT'], hemi).astype(np.int32))
)PY";

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

struct Fixture {
  tribev2::test::TempDir tmp;
  bool ok = false;
  std::string why;
  Fixture() {
    if (!viz::vtest::have_nibabel()) {
      why = "needs /usr/bin/python3 with nibabel (scripts/install-deps.sh --test)";
      return;
    }
    const auto r = viz::vtest::run_python("D = '" + tmp.path().string() + "'\nAREAS = '" + kAreas + "'\n" + kScript);
    ok = r.code == 0;
    why = r.output;
  }
};

}  // namespace

TEST(RoiSummary, MatchesUpstreamFormulasInNumpy) {
  Fixture fx;
  if (!fx.ok && fx.why.rfind("needs", 0) == 0) GTEST_SKIP() << fx.why;
  ASSERT_TRUE(fx.ok) << fx.why;
  const Atlas atlas = load_atlas("hcp-mmp1", fx.tmp.path());
  EXPECT_EQ(atlas.left.size(), 181u);
  EXPECT_EQ(atlas.left.front().name, "?");  // "???-lh"[2:] -> "?-lh" -> "?", as upstream
  const Tensor data = io::read_npy(fx.tmp / "data.npy");
  ASSERT_EQ(data.dim(1), 20484);
  for (const char* h : {"left", "right", "both", "both_separate"}) {
    SCOPED_TRACE(h);
    const HemiSel hemi = parse_hemi(h);
    const Summarizer s(atlas, hemi);
    EXPECT_EQ(s.names(), lines(fx.tmp / (std::string("names_") + h + ".txt")));
    const Tensor want = io::read_npy(fx.tmp / (std::string("summ_") + h + ".npy")).to(DType::F64);
    const auto got = s.summarize_rows(data.f32(), data.dim(0));
    ASSERT_EQ(static_cast<std::int64_t>(got.size()), want.dim(0));
    ASSERT_EQ(static_cast<std::int64_t>(got[0].size()), want.dim(1));
    int nans = 0;
    for (std::int64_t r = 0; r < want.dim(0); ++r)
      for (std::int64_t c = 0; c < want.dim(1); ++c) {
        const double w = want.data<double>()[r * want.dim(1) + c], g = got[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)];
        if (std::isnan(w)) {
          EXPECT_TRUE(std::isnan(g)) << r << "," << c;
          ++nans;
          continue;
        }
        EXPECT_LE(std::abs(g - w), 1e-6 * std::abs(w)) << "row " << r << " col " << s.names()[static_cast<std::size_t>(c)];
      }
    // 10pp is empty on the left after the cut: NaN there (numpy's mean of nothing).
    EXPECT_EQ(nans, std::string(h) == "left" || std::string(h) == "both_separate" ? 3 : 0);
    const auto tops = lines(fx.tmp / (std::string("top_") + h + ".txt"));
    for (std::int64_t r = 0; r < data.dim(0); ++r) {
      const auto t = topk_names(s.names(), got[static_cast<std::size_t>(r)], 10);
      std::string joined;
      for (const auto& n : t) joined += (joined.empty() ? "" : " ") + n;
      EXPECT_EQ(joined, tops[static_cast<std::size_t>(r)]) << "row " << r;
    }
    if (hemi != HemiSel::BothSeparate) {
      const std::vector<std::string> rois = {"V*", "*2", "MT"};
      const Tensor wi = io::read_npy(fx.tmp / (std::string("idx_") + h + ".npy")).to(DType::I32);
      EXPECT_EQ(roi_indices(atlas, rois, hemi),
                std::vector<std::int32_t>(wi.data<std::int32_t>(), wi.data<std::int32_t>() + wi.numel()));
    }
  }
  const std::vector<std::string> bad = {"NotAnArea*"};
  EXPECT_THROW_MSG(roi_indices(atlas, bad, HemiSel::Both), "ROI NotAnArea* not found");
  EXPECT_THROW_MSG(labels(atlas, HemiSel::BothSeparate), "only for summaries");
  EXPECT_THROW_MSG(parse_hemi("top"), "expected left | right | both | both_separate");
  const std::vector<float> short_map(100, 0.0f);
  EXPECT_THROW_MSG(summarize_by_roi(atlas, short_map, HemiSel::Both), "expected 20484");
}

TEST(RoiSummary, CombinedGroupsAreUnionsOfAreas) {
  Fixture fx;
  if (!fx.ok && fx.why.rfind("needs", 0) == 0) GTEST_SKIP() << fx.why;
  ASSERT_TRUE(fx.ok) << fx.why;
  const Atlas fine = load_atlas("hcp-mmp1", fx.tmp.path());
  const Atlas comb = load_atlas("hcp-mmp1-combined", fx.tmp.path());
  ASSERT_EQ(comb.left.size(), 23u);
  ASSERT_EQ(comb.right.size(), 23u);
  // Sorted by MNE name ("???-lh" first, as '?' sorts before letters).
  EXPECT_EQ(comb.left.front().name, "???");
  for (std::size_t i = 1; i < comb.left.size(); ++i) EXPECT_LT(comb.left[i - 1].name, comb.left[i].name);
  auto region = [](const std::vector<Region>& rs, const std::string& n) {
    for (const auto& r : rs)
      if (r.name == n) return r.vertices;
    ADD_FAILURE() << "no region " << n;
    return std::vector<std::int32_t>{};
  };
  for (const bool right : {false, true}) {
    const auto& f = right ? fine.right : fine.left;
    const auto& c = right ? comb.right : comb.left;
    EXPECT_EQ(region(c, "Primary Visual Cortex (V1)"), region(f, "V1"));
    std::vector<std::int32_t> early;
    for (const char* a : {"V2", "V3", "V4"}) {
      const auto v = region(f, a);
      early.insert(early.end(), v.begin(), v.end());
    }
    std::sort(early.begin(), early.end());
    EXPECT_EQ(region(c, "Early Visual Cortex"), early);
    std::size_t total_f = 0, total_c = 0;
    for (const auto& r : f) total_f += r.vertices.size();
    for (const auto& r : c) total_c += r.vertices.size();
    EXPECT_EQ(total_f, total_c);
    EXPECT_EQ(total_c, 10242u);  // every fsaverage5 vertex in one region (upstream's assert)
  }
}

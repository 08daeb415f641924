#include "tribev2/roi/atlas.hpp"

#include <algorithm>
#include <map>

#include "tribev2/core/error.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::roi {

namespace fs = std::filesystem;

namespace {

constexpr std::int32_t kFs5 = static_cast<std::int32_t>(viz::kFsaverage5Vertices);

struct MneLabel {
  std::string name;  // "<annot name>-lh"
  bool right = false;
  std::vector<std::int32_t> vertices;  // the annotation's own vertex numbers, ascending
};

void check_size(const viz::Annotation& a, const char* hemi) {
  const auto n = static_cast<std::int64_t>(a.values.size());
  if (n != kFs5 && n != kFsaverageVertices)
    fail(hemi, " annotation: ", n, " vertices, expected fsaverage5's ", kFs5, " or fsaverage's ", kFsaverageVertices);
}

// mne.read_labels_from_annot for one hemisphere (without sorting): entries in file order, each
// with the vertices whose value equals its id; entries without vertices are dropped.
void mne_labels(const viz::Annotation& a, bool right, std::vector<MneLabel>& out) {
  std::map<std::int64_t, std::vector<std::int32_t>> by_value;
  for (std::size_t v = 0; v < a.values.size(); ++v) by_value[a.values[v]].push_back(static_cast<std::int32_t>(v));
  for (std::size_t e = 0; e < a.names.size(); ++e) {
    const auto it = by_value.find(a.ids[e]);
    if (it == by_value.end()) continue;
    out.push_back({a.names[e] + (right ? "-rh" : "-lh"), right, it->second});
  }
}

void replace_all(std::string& s, std::string_view from) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p)) s.erase(p, from.size());
}

// Upstream's loop over the sorted labels for one hemisphere: clean, skip the other side, cut.
std::vector<Region> upstream_keys(const std::vector<MneLabel>& sorted, bool right, const NameRules& rules) {
  std::vector<Region> out;
  std::map<std::string, std::size_t> index;
  for (const auto& l : sorted) {
    std::string name = l.name;
    name = rules.drop_two_chars ? name.substr(std::min<std::size_t>(2, name.size())) : name;
    replace_all(name, "_ROI");
    if ((right && name.find("-lh") != std::string::npos) || (!right && name.find("-rh") != std::string::npos)) continue;
    replace_all(name, "-rh");
    replace_all(name, "-lh");
    std::vector<std::int32_t> verts;
    for (const std::int32_t v : l.vertices)
      if (v < kFs5) verts.push_back(right ? v + kFs5 : v);
    const auto [it, fresh] = index.emplace(name, out.size());
    if (fresh) out.push_back({name, std::move(verts)});
    else out[it->second].vertices = std::move(verts);
  }
  return out;
}

Atlas from_labels(std::vector<MneLabel> labels, std::string name, const NameRules& rules) {
  std::stable_sort(labels.begin(), labels.end(), [](const MneLabel& a, const MneLabel& b) { return a.name < b.name; });
  Atlas at;
  at.name = std::move(name);
  at.left = upstream_keys(labels, false, rules);
  at.right = upstream_keys(labels, true, rules);
  return at;
}

// MNE's 23 groups of HCP-MMP1 areas (fetch_hcp_mmp_parcellation, combine=True), in its order.
struct Group {
  const char* name;
  std::vector<std::string_view> areas;
};
const std::vector<Group>& hcp_groups() {
  static const std::vector<Group> groups = {
      {"Primary Visual Cortex (V1)", {"V1"}},
      {"Early Visual Cortex", {"V2", "V3", "V4"}},
      {"Dorsal Stream Visual Cortex", {"V3A", "V3B", "V6", "V6A", "V7", "IPS1"}},
      {"Ventral Stream Visual Cortex", {"V8", "VVC", "PIT", "FFC", "VMV1", "VMV2", "VMV3"}},
      {"MT+ Complex and Neighboring Visual Areas", {"V3CD", "LO1", "LO2", "LO3", "V4t", "FST", "MT", "MST", "PH"}},
      {"Somatosensory and Motor Cortex", {"4", "3a", "3b", "1", "2"}},
      {"Paracentral Lobular and Mid Cingulate Cortex", {"24dd", "24dv", "6mp", "6ma", "SCEF", "5m", "5L", "5mv"}},
      {"Premotor Cortex", {"55b", "6d", "6a", "FEF", "6v", "6r", "PEF"}},
      {"Posterior Opercular Cortex", {"43", "FOP1", "OP4", "OP1", "OP2-3", "PFcm"}},
      {"Early Auditory Cortex", {"A1", "LBelt", "MBelt", "PBelt", "RI"}},
      {"Auditory Association Cortex", {"A4", "A5", "STSdp", "STSda", "STSvp", "STSva", "STGa", "TA2"}},
      {"Insular and Frontal Opercular Cortex",
       {"52", "PI", "Ig", "PoI1", "PoI2", "FOP2", "FOP3", "MI", "AVI", "AAIC", "Pir", "FOP4", "FOP5"}},
      {"Medial Temporal Cortex", {"H", "PreS", "EC", "PeEc", "PHA1", "PHA2", "PHA3"}},
      {"Lateral Temporal Cortex", {"PHT", "TE1p", "TE1m", "TE1a", "TE2p", "TE2a", "TGv", "TGd", "TF"}},
      {"Temporo-Parieto-Occipital Junction", {"TPOJ1", "TPOJ2", "TPOJ3", "STV", "PSL"}},
      {"Superior Parietal Cortex", {"LIPv", "LIPd", "VIP", "AIP", "MIP", "7PC", "7AL", "7Am", "7PL", "7Pm"}},
      {"Inferior Parietal Cortex", {"PGp", "PGs", "PGi", "PFm", "PF", "PFt", "PFop", "IP0", "IP1", "IP2"}},
      {"Posterior Cingulate Cortex",
       {"DVT", "ProS", "POS1", "POS2", "RSC", "v23ab", "d23ab", "31pv", "31pd", "31a", "23d", "23c", "PCV", "7m"}},
      {"Anterior Cingulate and Medial Prefrontal Cortex",
       {"33pr", "p24pr", "a24pr", "p24", "a24", "p32pr", "a32pr", "d32", "p32", "s32", "8BM", "9m", "10v", "10r", "25"}},
      {"Orbital and Polar Frontal Cortex", {"47s", "47m", "a47r", "11l", "13l", "a10p", "p10p", "10pp", "10d", "OFC", "pOFC"}},
      {"Inferior Frontal Cortex", {"44", "45", "IFJp", "IFJa", "IFSp", "IFSa", "47l", "p47r"}},
      {"DorsoLateral Prefrontal Cortex",
       {"8C", "8Av", "i6-8", "s6-8", "SFL", "8BL", "9p", "9a", "8Ad", "p9-46v", "a9-46v", "46", "9-46d"}},
      {"???", {"???"}},
  };
  return groups;
}

}  // namespace

Atlas atlas_from_annotations(const viz::Annotation& lh, const viz::Annotation& rh, std::string name, const NameRules& rules) {
  check_size(lh, "left");
  check_size(rh, "right");
  std::vector<MneLabel> labels;
  mne_labels(lh, false, labels);
  mne_labels(rh, true, labels);
  if (labels.empty()) fail(name, ": no labels found (no vertex carries a colour-table entry's value)");
  return from_labels(std::move(labels), std::move(name), rules);
}

Atlas combined_hcp_atlas(const viz::Annotation& lh, const viz::Annotation& rh) {
  check_size(lh, "left");
  check_size(rh, "right");
  std::vector<MneLabel> out;
  for (const bool right : {false, true}) {
    std::vector<MneLabel> labels;
    mne_labels(right ? rh : lh, right, labels);
    // MNE's area name: "???" for the unknown label, else the text between the first two "_".
    std::vector<std::string> area;
    for (const auto& l : labels) {
      if (l.name.rfind("???", 0) == 0) {
        area.emplace_back("???");
        continue;
      }
      const auto a = l.name.find('_');
      const auto b = a == std::string::npos ? a : l.name.find('_', a + 1);
      area.push_back(a == std::string::npos ? l.name : l.name.substr(a + 1, b == std::string::npos ? b : b - a - 1));
    }
    std::vector<bool> used(labels.size(), false);
    for (const auto& g : hcp_groups()) {
      MneLabel merged{std::string(g.name) + (right ? "-rh" : "-lh"), right, {}};
      std::size_t found = 0;
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (std::find(g.areas.begin(), g.areas.end(), area[i]) == g.areas.end()) continue;
        if (used[i]) fail("HCP-MMP1 combine: label ", labels[i].name, " falls in two groups");
        used[i] = true;
        ++found;
        merged.vertices.insert(merged.vertices.end(), labels[i].vertices.begin(), labels[i].vertices.end());
      }
      if (found != g.areas.size())
        fail("HCP-MMP1 combine (", right ? "rh" : "lh", "): group '", g.name, "' needs ", g.areas.size(),
             " areas, the annotation has ", found, " of them (is this the HCPMMP1 annotation?)");
      std::sort(merged.vertices.begin(), merged.vertices.end());
      out.push_back(std::move(merged));
    }
    for (std::size_t i = 0; i < labels.size(); ++i)
      if (!used[i]) fail("HCP-MMP1 combine: label ", labels[i].name, " is in no group");
  }
  return from_labels(std::move(out), "hcp-mmp1-combined", NameRules{});
}

std::optional<AtlasKind> parse_atlas_kind(std::string_view t) {
  if (t == "hcp-mmp1") return AtlasKind::HcpMmp1;
  if (t == "hcp-mmp1-combined") return AtlasKind::HcpMmp1Combined;
  if (t == "desikan") return AtlasKind::Desikan;
  if (t == "destrieux") return AtlasKind::Destrieux;
  return std::nullopt;
}

const char* atlas_kind_name(AtlasKind k) {
  switch (k) {
    case AtlasKind::HcpMmp1: return "hcp-mmp1";
    case AtlasKind::HcpMmp1Combined: return "hcp-mmp1-combined";
    case AtlasKind::Desikan: return "desikan";
    case AtlasKind::Destrieux: return "destrieux";
  }
  return "?";
}

std::pair<std::string, std::string> atlas_annot_files(AtlasKind k) {
  switch (k) {
    case AtlasKind::HcpMmp1:
    case AtlasKind::HcpMmp1Combined: return {"lh.HCPMMP1.annot", "rh.HCPMMP1.annot"};
    case AtlasKind::Desikan: return {"lh.aparc.annot", "rh.aparc.annot"};
    case AtlasKind::Destrieux: return {"lh.aparc.a2009s.annot", "rh.aparc.a2009s.annot"};
  }
  return {};
}

Atlas load_atlas(std::string_view spec, const fs::path& data_dir) {
  if (const auto kind = parse_atlas_kind(spec)) {
    const auto [l, r] = atlas_annot_files(*kind);
    for (const auto& f : {l, r})
      if (!fs::exists(data_dir / f))
        fail("atlas ", spec, ": ", (data_dir / f).string(), " is missing (run `tribev2 fetch-atlas ", atlas_kind_name(*kind),
             "`, or pass --atlas lh.annot,rh.annot)");
    const auto lh = viz::read_freesurfer_annot(data_dir / l);
    const auto rh = viz::read_freesurfer_annot(data_dir / r);
    if (*kind == AtlasKind::HcpMmp1Combined) return combined_hcp_atlas(lh, rh);
    NameRules rules;
    rules.drop_two_chars = *kind == AtlasKind::HcpMmp1;
    return atlas_from_annotations(lh, rh, atlas_kind_name(*kind), rules);
  }
  const auto comma = spec.find(',');
  if (comma == std::string_view::npos || spec.find(',', comma + 1) != std::string_view::npos)
    fail("--atlas '", spec, "': expected hcp-mmp1 | hcp-mmp1-combined | desikan | destrieux, or LH.annot,RH.annot");
  const fs::path l(std::string(spec.substr(0, comma))), r(std::string(spec.substr(comma + 1)));
  return atlas_from_annotations(viz::read_freesurfer_annot(l), viz::read_freesurfer_annot(r), std::string(spec), NameRules{});
}

std::optional<AtlasKind> installed_atlas(const fs::path& data_dir) {
  for (const AtlasKind k : {AtlasKind::HcpMmp1, AtlasKind::Desikan, AtlasKind::Destrieux}) {
    const auto [l, r] = atlas_annot_files(k);
    if (fs::exists(data_dir / l) && fs::exists(data_dir / r)) return k;
  }
  return std::nullopt;
}

}  // namespace tribev2::roi

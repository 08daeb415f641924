// Surface atlases on fsaverage5 in TRIBE's output space (20,484 values: left hemisphere's
// 10,242 vertices, then the right's). Built from a pair of FreeSurfer .annot files the way
// upstream's tribev2.utils.get_hcp_labels does through MNE:
//  - mne.read_labels_from_annot: one label per colour-table entry with at least one vertex whose
//    stored value equals the entry's id, named "<name>-lh" / "<name>-rh"; the labels of both
//    hemispheres sorted together by that name;
//  - upstream's cleaning: HCP-MMP1 names lose their first two characters ("L_"), every "_ROI"
//    and the "-lh"/"-rh" suffix ("L_V1_ROI-lh" -> "V1"); a repeated cleaned name keeps its first
//    place and its last vertices (a Python dict);
//  - fsaverage (163,842 vertices) annotations are cut to fsaverage5 by keeping the vertices below
//    10,242 (fsaverage's first 10,242 vertices are fsaverage5's); right vertices are offset by 10,242.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/viz/freesurfer.hpp"

namespace tribev2::roi {

inline constexpr std::int32_t kFsaverageVertices = 163842;

struct Region {
  std::string name;                    // cleaned ("V1")
  std::vector<std::int32_t> vertices;  // output-space indices, ascending
};

struct Atlas {
  std::string name;           // "hcp-mmp1", ... or "lh.x.annot,rh.x.annot"
  std::vector<Region> left;   // upstream's key order (sorted MNE names)
  std::vector<Region> right;  // vertices offset by 10,242
};

struct NameRules {
  bool drop_two_chars = false;  // upstream's name[2:] for the (not combined) HCP-MMP1 names
};

// From a left and a right annotation of fsaverage5 or fsaverage; `name` labels the atlas.
Atlas atlas_from_annotations(const viz::Annotation& lh, const viz::Annotation& rh, std::string name,
                             const NameRules& rules);
// MNE's fetch_hcp_mmp_parcellation(combine=True): the 23 groups of HCP-MMP1 areas per hemisphere
// (Glasser et al. 2016, supplementary table), built from the HCPMMP1 annotations.
Atlas combined_hcp_atlas(const viz::Annotation& lh, const viz::Annotation& rh);

// The atlases `tribev2 fetch-atlas` installs, and the file names they use in the data folder.
enum class AtlasKind { HcpMmp1, HcpMmp1Combined, Desikan, Destrieux };
std::optional<AtlasKind> parse_atlas_kind(std::string_view text);
const char* atlas_kind_name(AtlasKind k);
// lh and rh .annot file names in the data folder ("lh.HCPMMP1.annot", ...).
std::pair<std::string, std::string> atlas_annot_files(AtlasKind k);

// `spec`: an atlas name (its files in `data_dir`; a clear error with the fetch-atlas command when
// missing) or "LH.annot,RH.annot" (any annotation pair on fsaverage or fsaverage5).
Atlas load_atlas(std::string_view spec, const std::filesystem::path& data_dir);
// The first installed atlas of hcp-mmp1, desikan, destrieux in `data_dir`, if any.
std::optional<AtlasKind> installed_atlas(const std::filesystem::path& data_dir);

}  // namespace tribev2::roi

// Regions of interest for Python: the roi layer's atlases (FreeSurfer annotation pairs, HCP-MMP1
// and its 23 groups, Desikan, Destrieux) and upstream's helpers of tribev2/utils.py over them
// (get_hcp_labels, get_hcp_roi_indices, summarize_by_roi, get_topk_rois). The upstream-named
// functions are in python/tribev2/utils.py.
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include <pybind11/stl.h>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/roi/atlas.hpp"
#include "tribev2/roi/summary.hpp"
#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::python {

namespace {

struct PyAtlas {
  std::shared_ptr<const roi::Atlas> atlas;
};

py::array_t<std::int64_t> index_array(const std::vector<std::int32_t>& v) {
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(v.size()));
  std::int64_t* o = out.mutable_data();
  for (std::size_t i = 0; i < v.size(); ++i) o[i] = v[i];
  return out;
}

// [20484] -> ([20484] view, 1 row, false) or [n, 20484] -> (rows, n, true).
struct Maps {
  InputArray in;
  std::int64_t rows = 1;
  bool batched = false;
};
Maps maps_of(py::handle data) {
  Maps m{input_f32(data, "data")};
  const auto& s = m.in.tensor.shape();
  TRIBEV2_CHECK(s.size() == 1 || s.size() == 2, "data: expected [20484] or [n_timesteps, 20484] values, got shape ",
                shape_str(s));
  TRIBEV2_CHECK(s.back() == viz::kFsaverage5Outputs, "data: expected 20484 values per map (fsaverage5, left then "
                "right), got ", s.back());
  m.batched = s.size() == 2;
  m.rows = m.batched ? s[0] : 1;
  return m;
}

}  // namespace

void register_roi(py::module_& m) {
  py::class_<PyAtlas>(m, "Atlas", "A surface atlas in TRIBE's output space (fsaverage5, left then right).")
      .def_static(
          "load",
          [](const std::string& spec, const std::string& data_dir) {
            const auto dir = viz::resolve_mesh_dir(data_dir);
            return PyAtlas{std::make_shared<const roi::Atlas>(roi::load_atlas(spec, dir))};
          },
          py::arg("spec") = "hcp-mmp1", py::arg("data_dir") = "",
          "roi::load_atlas: hcp-mmp1 | hcp-mmp1-combined | desikan | destrieux (files in data_dir, default the "
          "fetch-mesh folder; `tribev2 fetch-atlas NAME` installs them) or 'lh.annot,rh.annot' (fsaverage or "
          "fsaverage5).")
      .def_property_readonly("name", [](const PyAtlas& a) { return a.atlas->name; })
      .def(
          "labels",
          [](const PyAtlas& a, const std::string& hemi) {
            py::dict d;  // insertion order = upstream's key order
            for (const auto& r : roi::labels(*a.atlas, roi::parse_hemi(hemi))) d[py::str(r.name)] = index_array(r.vertices);
            return d;
          },
          py::arg("hemi") = "both", "get_hcp_labels: {name: int64 vertex indices (output space)} in upstream's order.")
      .def(
          "roi_indices",
          [](const PyAtlas& a, const std::vector<std::string>& rois, const std::string& hemi) {
            return index_array(roi::roi_indices(*a.atlas, rois, roi::parse_hemi(hemi)));
          },
          py::arg("rois"), py::arg("hemi") = "both",
          "get_hcp_roi_indices: the vertices of the keys matching each pattern (exact, 'V1*' prefix, '*_v' suffix).")
      .def(
          "summary_names", [](const PyAtlas& a, const std::string& hemi) { return roi::summary_names(*a.atlas, roi::parse_hemi(hemi)); },
          py::arg("hemi") = "both", "The names of summarize()'s values (both_separate: '<key>-lh' then '<key>-rh').")
      .def(
          "summarize",
          [](const PyAtlas& a, py::handle data, const std::string& hemi) {
            const roi::HemiSel h = roi::parse_hemi(hemi);
            Maps mp = maps_of(data);
            auto rows = call_interruptible([&](const std::atomic<bool>&) {
              const roi::Summarizer s(*a.atlas, h);
              return s.summarize_rows(std::as_const(mp.in.tensor).f32(), mp.rows);
            });
            const auto n = static_cast<py::ssize_t>(rows.empty() ? 0 : rows[0].size());
            py::array_t<double> out = mp.batched ? py::array_t<double>({static_cast<py::ssize_t>(rows.size()), n})
                                                 : py::array_t<double>(n);
            double* o = out.mutable_data();
            for (const auto& r : rows) {
              std::memcpy(o, r.data(), r.size() * sizeof(double));
              o += r.size();
            }
            return out;
          },
          py::arg("data"), py::arg("hemi") = "both",
          "summarize_by_roi: the mean of each region, float64 [n_rois] for a map [20484] or [n, n_rois] for rows.")
      .def(
          "topk",
          [](const PyAtlas& a, py::handle data, const std::string& hemi, int k) {
            TRIBEV2_CHECK(k >= 0, "k must be >= 0, got ", k);
            const roi::HemiSel h = roi::parse_hemi(hemi);
            Maps mp = maps_of(data);
            const roi::Summarizer s(*a.atlas, h);
            const auto rows = s.summarize_rows(std::as_const(mp.in.tensor).f32(), mp.rows);
            py::list out;
            for (const auto& r : rows) out.append(roi::topk_names(s.names(), r, k));
            return mp.batched ? py::object(out) : py::object(out[0]);
          },
          py::arg("data"), py::arg("hemi") = "both", py::arg("k") = 10,
          "get_topk_rois: the k names with the largest means, largest first (a list per row for [n, 20484]).");
}

}  // namespace tribev2::python

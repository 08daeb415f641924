// Helpers for the viz tests: a generated stand-in for the fsaverage5 folder (icosphere-based,
// same file names and sizes), the real folder when ../shared/data has it, PNG reading, Python.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/render.hpp"

namespace tribev2::viz::vtest {

// Writes the twelve fsaverage5 file names into `dir` with icosphere-based meshes of 10,242
// vertices (ellipsoids for pial/white/inflated, a sphere for sphere) and smooth sulc/curv maps.
void write_fake_fsaverage5(const std::filesystem::path& dir);
// ../shared/data/fsaverage5 when it is there, else empty.
std::filesystem::path real_fsaverage5_dir();
// The real folder when present, else a fake one written into `scratch`.
std::filesystem::path any_fsaverage5_dir(const std::filesystem::path& scratch, bool* is_real = nullptr);

// RGBA pixels of a PNG (via cairo).
Image read_png(const std::filesystem::path& path);

// Runs /usr/bin/python3 with a script; returns the exit code and output. -1 when it cannot run.
struct PyResult {
  int code = -1;
  std::string output;
};
PyResult run_python(const std::string& script);
bool have_nibabel();

}  // namespace tribev2::viz::vtest

// Hub options from Python keyword dicts, shared by the Hub bindings and TribeModel.predict.
#pragma once

#include <string>
#include <vector>

#include "common.hpp"
#include "tribev2/hub/hub.hpp"

namespace tribev2::python {

// {cache_dir, endpoint, token, offline}; unset ones come from the HF_* environment.
hub::HubOptions hub_options(const py::dict& d);
// The include globs of a loader: brain | text | audio | video.
std::vector<std::string> role_files(const std::string& role);
// "tribev2: FILE: cached / downloaded" lines on stderr when `show`.
hub::ProgressFn hub_progress(bool show);

}  // namespace tribev2::python

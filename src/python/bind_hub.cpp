// The Hub for Python: the engine's one model resolver (hub::resolve_model), as `tribev2 run`
// and every CLI model option use it: a local path passes through, an `org/name[@revision]` id
// is resolved through the Hugging Face cache (huggingface_hub's layout, shared with it),
// downloading only the files the loader of that role reads.
#include <cstdio>

#include <pybind11/stl.h>

#include "common.hpp"
#include "hub_options.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/hub/model_files.hpp"

namespace tribev2::python {

namespace {

template <class T>
std::optional<T> get(const py::dict& d, const char* key) {
  if (!d.contains(key) || d[key].is_none()) return std::nullopt;
  return d[key].cast<T>();
}

}  // namespace

hub::HubOptions hub_options(const py::dict& d) {
  static const char* known[] = {"cache_dir", "endpoint", "token", "offline"};
  for (auto [k, v] : d) {
    const std::string key = k.cast<std::string>();
    bool ok = false;
    for (const char* n : known) ok = ok || key == n;
    if (!ok) throw py::type_error("unknown hub option '" + key + "' (cache_dir, endpoint, token, offline)");
  }
  hub::HubOptions h;
  if (auto v = get<std::string>(d, "cache_dir")) h.cache_dir = *v;
  h.endpoint = get<std::string>(d, "endpoint");
  h.token = get<std::string>(d, "token");
  h.offline = get<bool>(d, "offline");
  return h;
}

std::vector<std::string> role_files(const std::string& role) {
  if (role == "brain") return hub::brain_model_files();
  if (role == "text") return hub::llama_files();
  if (role == "audio") return hub::audio_model_files();
  if (role == "video") return hub::video_model_files();
  throw py::value_error("role must be brain, text, audio or video, got '" + role + "'");
}

hub::ProgressFn hub_progress(bool show) {
  if (!show) return {};
  return [](const hub::FileProgress& p) {
    if (p.cached) std::fprintf(stderr, "tribev2: %s: cached\n", p.file.c_str());
    else if (p.finished) std::fprintf(stderr, "tribev2: %s: downloaded (%lld bytes)\n", p.file.c_str(),
                                      static_cast<long long>(p.total));
  };
}

void register_hub(py::module_& m) {
  m.def(
      "resolve_model",
      [](const std::string& path_or_repo_id, const std::string& role, const std::vector<std::string>& extra_files,
         const py::dict& hub, bool progress) {
        hub::ResolveOptions o;
        o.include = role_files(role);
        o.include.insert(o.include.end(), extra_files.begin(), extra_files.end());
        o.hub = hub_options(hub);
        o.progress = hub_progress(progress);
        return call_interruptible([&](const std::atomic<bool>&) {
                 return hub::resolve_model(path_or_repo_id, o).string();
               });
      },
      py::arg("path_or_repo_id"), py::arg("role"), py::arg("extra_files") = std::vector<std::string>{},
      py::arg("hub") = py::dict(), py::arg("progress") = false,
      "hub::resolve_model: an existing local path unchanged, else the snapshot folder of an org/name[@revision] "
      "repo id in the Hugging Face cache (downloading the files the loader of `role` reads: brain, text, audio, "
      "video, plus extra_files). hub: {cache_dir, endpoint, token, offline}; unset ones come from HF_* as "
      "huggingface_hub reads them.");
  m.def("looks_like_repo_id", &hub::looks_like_repo_id, py::arg("text"));
  m.def("hub_config", [](const py::dict& hub) {
    const auto c = hub::resolve_config(hub_options(hub));
    py::dict d;
    d["endpoint"] = c.endpoint;
    d["cache_dir"] = c.cache_dir.string();
    d["offline"] = c.offline;
    return d;
  }, py::arg("hub") = py::dict(), "Where the Hub client goes and caches (the token is left out).");
  py::dict defaults;
  defaults["brain"] = hub::kDefaultBrainModel;
  defaults["text"] = hub::kDefaultLlama;
  defaults["audio"] = hub::kDefaultAudioModel;
  defaults["video"] = hub::kDefaultVideoModel;
  m.attr("DEFAULT_MODELS") = defaults;
}

}  // namespace tribev2::python

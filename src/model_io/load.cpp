#include <nlohmann/json.hpp>

#include <fstream>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/io/torch_archive.hpp"
#include "tribev2/model_io/load.hpp"

namespace tribev2::model_io {

namespace fs = std::filesystem;
using namespace tribev2::model;
using io::pickle::Kind;
using io::pickle::ValuePtr;

ModelFiles resolve_model_files(const fs::path& path) {
  ModelFiles f;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "model.safetensors")) f.weights = path / "model.safetensors";
    else if (fs::exists(path / "best.ckpt")) f.weights = path / "best.ckpt";
    else fail(path.string(), ": no model.safetensors or best.ckpt in this folder (get the weights from HuggingFace "
              "facebook/tribev2: config.yaml + best.ckpt)");
  } else if (fs::exists(path, ec)) {
    f.weights = path;
  } else {
    fail(path.string(), ": no such file or folder");
  }
  const fs::path dir = f.weights.parent_path().empty() ? fs::path(".") : f.weights.parent_path();
  f.is_checkpoint = f.weights.extension() != ".safetensors";
  f.config = dir / "config.yaml";
  if (!fs::exists(f.config)) fail(f.config.string(), ": missing (config.yaml must sit next to the weights ", f.weights.string(), ")");
  if (!f.is_checkpoint) {
    f.build_args = dir / "build_args.json";
    if (!fs::exists(f.build_args))
      fail(f.build_args.string(), ": missing (safetensors weights need build_args.json next to them)");
  }
  return f;
}

model::BuildArgs parse_build_args_json(const fs::path& path) {
  const nlohmann::ordered_json j = io::read_ordered_json_object(path);
  const std::string name = path.string();
  BuildArgs a;
  if (!j.contains("feature_dims") || !j["feature_dims"].is_object()) fail(name, ": feature_dims must be an object (modality -> [L, D] or null)");
  for (auto it = j["feature_dims"].begin(); it != j["feature_dims"].end(); ++it) {
    FeatureDims fd;
    fd.modality = it.key();
    const auto& v = it.value();
    if (!v.is_null()) {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer() || v[0].get<std::int64_t>() <= 0 ||
          v[1].get<std::int64_t>() <= 0)
        fail(name, ": feature_dims.", fd.modality, ": expected [n_layers, dim] of positive integers or null");
      fd.layers_dim = std::pair{v[0].get<std::int64_t>(), v[1].get<std::int64_t>()};
    }
    a.feature_dims.push_back(fd);
  }
  for (const char* k : {"n_outputs", "n_output_timesteps"}) {
    if (!j.contains(k) || !j[k].is_number_integer() || j[k].get<std::int64_t>() <= 0)
      fail(name, ": ", k, " must be a positive integer");
  }
  a.n_outputs = j["n_outputs"].get<std::int64_t>();
  a.n_output_timesteps = j["n_output_timesteps"].get<std::int64_t>();
  return a;
}

namespace {

std::int64_t py_int(ValuePtr v, const std::string& what) {
  if (!v || v->kind != Kind::Int) fail(what, ": expected an int, got ", v ? v->describe() : "nothing");
  return v->i;
}

BuildArgs build_args_from_pickle(ValuePtr v, const std::string& src) {
  if (!v || v->kind != Kind::Dict) fail(src, ": model_build_args must be a dict");
  BuildArgs a;
  const ValuePtr* fd = v->find("feature_dims");
  if (!fd || (*fd)->kind != Kind::Dict) fail(src, ": model_build_args.feature_dims must be a dict");
  for (const auto& [k, val] : (*fd)->dict) {
    if (!k || k->kind != Kind::String) fail(src, ": model_build_args.feature_dims keys must be strings");
    FeatureDims d;
    d.modality = k->s;
    if (val->kind != Kind::None) {
      if ((val->kind != Kind::Tuple && val->kind != Kind::List) || val->items.size() != 2)
        fail(src, ": model_build_args.feature_dims.", k->s, ": expected (n_layers, dim) or None, got ", val->describe());
      d.layers_dim = std::pair{py_int(val->items[0], src + ": feature_dims." + k->s), py_int(val->items[1], src + ": feature_dims." + k->s)};
      if (d.layers_dim->first <= 0 || d.layers_dim->second <= 0) fail(src, ": feature_dims.", k->s, " must be positive");
    }
    a.feature_dims.push_back(d);
  }
  const ValuePtr* no = v->find("n_outputs");
  const ValuePtr* nt = v->find("n_output_timesteps");
  if (!no || !nt) fail(src, ": model_build_args needs n_outputs and n_output_timesteps");
  a.n_outputs = py_int(*no, src + ": n_outputs");
  a.n_output_timesteps = py_int(*nt, src + ": n_output_timesteps");
  return a;
}

void apply_average_mode(BrainConfig& c) {
  c.subject_layers.average_subjects = true;
  c.subject_layers.n_subjects = 0;
}

}  // namespace

LoadedModel load_brain_model(const ModelFiles& files, const LoadOptions& options) {
  LoadedModel out;
  out.files = files;
  ParsedConfig cfg = parse_config_yaml(files.config);
  out.data = cfg.data;
  for (const auto& k : cfg.ignored_keys) out.notes.push_back("ignored config key " + k);

  const std::string src = files.weights.string();
  WeightStore store(src);
  BuildArgs args;
  if (files.is_checkpoint) {
    io::TorchArchive ar;
    try {
      ar = io::read_torch_archive(files.weights);
    } catch (const Error&) {
      throw;
    }
    if (!ar.root || ar.root->kind != Kind::Dict) fail(src, ": checkpoint root is a ", ar.root ? ar.root->describe() : "?", ", expected a dict");
    const ValuePtr* sd = ar.root->find("state_dict");
    if (!sd || (*sd)->kind != Kind::Dict) fail(src, ": checkpoint has no 'state_dict' dict (is it a Lightning checkpoint?)");
    const ValuePtr* mba = ar.root->find("model_build_args");
    if (!mba) fail(src, ": checkpoint has no 'model_build_args' (needed to build the model)");
    args = build_args_from_pickle(*mba, src);
    for (const auto& [k, v] : (*sd)->dict) {
      if (!k || k->kind != Kind::String) fail(src, ": state_dict keys must be strings");
      const Tensor* t = io::as_tensor(v);
      if (!t) fail(src, ": state_dict['", k->s, "'] is a ", v->describe(), ", not a tensor");
      std::string name = k->s;
      if (name.rfind("model.", 0) == 0) name = name.substr(6);
      store.add(name, *t);
    }
    out.notes.push_back("read PyTorch checkpoint (zip folder '" + ar.prefix + "'), stripped the 'model.' prefix");
  } else {
    args = parse_build_args_json(files.build_args);
    const auto st = io::SafetensorsFile::open(files.weights);
    for (const auto& name : st.names()) store.add(name, st.get(name));
    out.notes.push_back("memory-mapped safetensors weights");
  }

  // Subject layers: decide between the config as written and TribeModel's average mode.
  BrainConfig brain = cfg.brain;
  const Tensor* pw = store.find("predictor.weights");
  switch (options.subject_mode) {
    case SubjectMode::Config:
      break;
    case SubjectMode::Average:
      apply_average_mode(brain);
      out.notes.push_back("subject layers: average subject (TribeModel.from_pretrained mode)");
      break;
    case SubjectMode::Auto: {
      const auto& s = brain.subject_layers;
      const std::int64_t rows = s.n_subjects + (s.subject_dropout && *s.subject_dropout != 0.0 ? 1 : 0);
      if (pw && pw->ndim() == 3 && pw->dim(0) != rows && cfg.average_subjects_override) {
        apply_average_mode(brain);
        out.notes.push_back("subject layers: config has " + std::to_string(rows) + " rows but the weights have " +
                            std::to_string(pw->dim(0)) + "; applied average_subjects=true (TribeModel.from_pretrained)");
      }
      break;
    }
  }
  out.model = std::make_unique<BrainModel>(brain, args, std::move(store));
  // The checkpoint's n_output_timesteps is what the model was built with (upstream builds it
  // from data.duration_trs); a disagreeing config cannot be what produced these weights.
  if (out.data.duration_trs != args.n_output_timesteps) {
    out.notes.push_back("config data.duration_trs is " + std::to_string(out.data.duration_trs) +
                        " but the model pools to n_output_timesteps " + std::to_string(args.n_output_timesteps) +
                        "; segments use " + std::to_string(args.n_output_timesteps) + " TRs");
    out.data.duration_trs = args.n_output_timesteps;
  }
  return out;
}

LoadedModel load_brain_model(const fs::path& path, const LoadOptions& options) {
  return load_brain_model(resolve_model_files(path), options);
}

void export_safetensors(const LoadedModel& loaded, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  const auto& store = loaded.model->weights();
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& name : store.names()) tensors.emplace_back(name, *store.find(name));
  io::write_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  nlohmann::ordered_json j;
  j["feature_dims"] = nlohmann::ordered_json::object();
  for (const auto& fd : loaded.model->build_args().feature_dims) {
    if (fd.layers_dim) j["feature_dims"][fd.modality] = {fd.layers_dim->first, fd.layers_dim->second};
    else j["feature_dims"][fd.modality] = nullptr;
  }
  j["n_outputs"] = loaded.model->n_outputs();
  j["n_output_timesteps"] = loaded.model->n_output_timesteps();
  io::write_text_file_atomic(dir / "build_args.json", j.dump(2) + "\n");
  if (fs::absolute(loaded.files.config, ec) != fs::absolute(dir / "config.yaml", ec))
    io::write_text_file_atomic(dir / "config.yaml", io::read_text_file(loaded.files.config));
}

}  // namespace tribev2::model_io

// BrainModel: load a TRIBE v2 brain model, forward() on [B, L, D, T] batches and
// predict_features() on whole [L, D, N] timelines (the engine's model::predict).
#include <cstdint>
#include <map>
#include <memory>

#include <pybind11/stl.h>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/model/random_model.hpp"
#include "tribev2/model_io/load.hpp"

namespace tribev2::python {

namespace {

model_io::SubjectMode parse_subject_mode(const std::string& s) {
  if (s == "auto") return model_io::SubjectMode::Auto;
  if (s == "config") return model_io::SubjectMode::Config;
  if (s == "average") return model_io::SubjectMode::Average;
  fail("subject_mode must be 'auto', 'config' or 'average', got '", s, "'");
}

// A loaded model shared by every Python object that refers to it (forward and predict are
// const and may run from several threads at once).
struct PyBrainModel {
  std::shared_ptr<const model_io::LoadedModel> loaded;
  std::string path;

  const model::BrainModel& model() const { return *loaded->model; }
};

std::vector<InputArray> inputs_of(const py::dict& arrays, const std::string& what) {
  std::vector<InputArray> out;
  for (auto [k, v] : arrays) {
    if (!py::isinstance<py::str>(k)) throw py::type_error(what + ": keys must be modality names (str)");
    out.push_back(input_f32(v, what + "['" + k.cast<std::string>() + "']"));
  }
  return out;
}

}  // namespace

void register_model(py::module_& m) {
  m.def(
      "_write_random_weights",
      [](const std::string& config_yaml, const std::vector<std::pair<std::string, std::pair<std::int64_t, std::int64_t>>>& dims,
         std::int64_t n_outputs, std::int64_t n_output_timesteps, std::uint64_t seed, const std::string& out) {
        const auto cfg = model_io::parse_config_yaml(config_yaml);
        model::BuildArgs args;
        for (const auto& [k, v] : dims) args.feature_dims.push_back({k, v});
        args.n_outputs = n_outputs;
        args.n_output_timesteps = n_output_timesteps;
        const auto w = model::random_weights(cfg.brain, args, seed);
        std::vector<std::pair<std::string, Tensor>> ts;
        for (const auto& n : w.names()) ts.emplace_back(n, *w.find(n));
        io::write_safetensors(out, ts);
      },
      py::arg("config_yaml"), py::arg("feature_dims"), py::arg("n_outputs"), py::arg("n_output_timesteps"),
      py::arg("seed"), py::arg("out"),
      "Seeded random weights for a config (tests and the offline quick start): writes model.safetensors.");

  m.def(
      "_input_address",
      [](py::handle a) {
        const InputArray in = input_f32(a, "array");
        return reinterpret_cast<std::uintptr_t>(in.tensor.raw());
      },
      "Address of the float32 memory the engine reads for this array (tests check it is the array's own "
      "memory when the array is C-contiguous float32).");

  py::class_<PyBrainModel>(m, "BrainModel", "A TRIBE v2 brain model (FmriEncoderModel) in inference mode.")
      .def_static(
          "load",
          [](const std::string& path, const std::string& subject_mode) {
            model_io::LoadOptions lo;
            lo.subject_mode = parse_subject_mode(subject_mode);
            auto loaded = call_interruptible([&](const std::atomic<bool>&) {
              return std::make_shared<const model_io::LoadedModel>(model_io::load_brain_model(path, lo));
            });
            return PyBrainModel{std::move(loaded), path};
          },
          py::arg("path"), py::arg("subject_mode") = "auto",
          "Loads a model folder (config.yaml + model.safetensors or best.ckpt) or a weights file.")
      .def_property_readonly("path", [](const PyBrainModel& b) { return b.path; })
      .def_property_readonly("n_outputs", [](const PyBrainModel& b) { return b.model().n_outputs(); })
      .def_property_readonly("n_output_timesteps", [](const PyBrainModel& b) { return b.model().n_output_timesteps(); })
      .def_property_readonly("hidden", [](const PyBrainModel& b) { return b.model().hidden(); })
      .def_property_readonly("n_parameters", [](const PyBrainModel& b) { return b.model().n_parameters(); })
      .def_property_readonly("needs_subject_ids", [](const PyBrainModel& b) { return b.model().needs_subject_ids(); })
      .def_property_readonly(
          "feature_dims",
          [](const PyBrainModel& b) {
            py::dict d;
            for (const auto& f : b.model().build_args().feature_dims) {
              if (f.layers_dim) d[py::str(f.modality)] = py::make_tuple(f.layers_dim->first, f.layers_dim->second);
              else d[py::str(f.modality)] = py::none();
            }
            return d;
          },
          "{modality: (L, D) or None when the modality is masked}")
      .def_property_readonly(
          "data",
          [](const PyBrainModel& b) {
            const auto& d = b.loaded->data;
            py::dict o;
            o["frequency"] = d.frequency;
            o["duration_trs"] = d.duration_trs;
            o["TR"] = d.tr();
            o["neuro_offset"] = d.neuro_offset;
            o["features_to_use"] = d.features_to_use;
            return o;
          },
          "The data settings of config.yaml the predictions depend on.")
      .def_property_readonly("notes", [](const PyBrainModel& b) { return b.loaded->notes; })
      .def("describe", [](const PyBrainModel& b) { return b.model().describe(); })
      .def(
          "forward",
          [](const PyBrainModel& b, const py::dict& batch, std::optional<std::vector<std::int64_t>> subject_ids,
             bool pool_outputs, int threads, const std::string& precision) {
            const CallOptions co{threads, precision, false};
            std::vector<InputArray> ins = inputs_of(batch, "forward");
            model::Batch mb;
            std::size_t i = 0;
            for (auto [k, v] : batch) mb.inputs.emplace_back(k.cast<std::string>(), ins[i++].tensor);
            if (subject_ids) mb.subject_ids = *subject_ids;
            Tensor out = call_interruptible([&](const std::atomic<bool>&) {
              const Context ctx = make_context(co);
              return b.model().forward(ctx, mb, pool_outputs);
            });
            return to_numpy(out);
          },
          py::arg("batch"), py::arg("subject_ids") = py::none(), py::arg("pool_outputs") = true, py::kw_only(),
          py::arg("threads") = 0, py::arg("precision") = "f32",
          "FmriEncoderModel.forward: {modality: float32 [B, L, D, T]} -> [B, n_outputs, T_out].")
      .def(
          "predict_features",
          [](const PyBrainModel& b, const py::dict& features, std::optional<double> duration, int batch_size,
             std::optional<std::int64_t> subject, bool pad, std::int64_t overlap_trs, int threads,
             const std::string& precision, bool progress) {
            const CallOptions co{threads, precision, progress};
            std::vector<InputArray> ins = inputs_of(features, "predict_features");
            std::vector<model::FeatureSeries> series;
            std::size_t i = 0;
            for (auto [k, v] : features) series.emplace_back(k.cast<std::string>(), ins[i++].tensor);
            TRIBEV2_CHECK(batch_size > 0, "batch_size must be positive, got ", batch_size);
            model::Prediction p = call_interruptible([&](const std::atomic<bool>& cancel) {
              const Context ctx = make_context(co);
              model::PredictOptions po;
              po.duration = duration;
              po.batch_size = batch_size;
              po.subject = subject;
              po.pad = pad;
              po.overlap_trs = overlap_trs;
              po.progress = progress_fn("predict", co.progress, cancel);
              return model::predict(ctx, b.model(), b.loaded->data, series, po);
            });
            py::list rows, segs;
            for (const auto& r : p.rows) rows.append(py::make_tuple(r.start, r.end));
            for (const auto& s : p.segments) segs.append(py::make_tuple(s.start, s.duration));
            return py::make_tuple(to_numpy(p.preds), rows, segs);
          },
          py::arg("features"), py::arg("duration") = py::none(), py::arg("batch_size") = 8,
          py::arg("subject") = py::none(), py::arg("pad") = false, py::kw_only(), py::arg("overlap_trs") = 0,
          py::arg("threads") = 0,
          py::arg("precision") = "f32", py::arg("progress") = false,
          "TribeModel.predict on feature timelines {modality: float32 [L, D, N] at the model's frequency}: "
          "(preds [n_rows, n_outputs], [(start, end)] per row, [(start, duration)] per segment). "
          "overlap_trs=K: segments every duration_trs - K TRs, later ones give their rows after the first K "
          "(predict --overlap-trs).");
}

}  // namespace tribev2::python

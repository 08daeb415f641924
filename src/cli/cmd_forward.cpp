#include <iostream>

#include "common.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::cli {

namespace {

struct ForwardArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string subjects;
  std::string output;
  bool no_pool = false;
  bool allow_nonfinite = false;
  std::string latents;
};

// [L, D, T] -> [1, L, D, T]; [B, L, D, T] and [B, width, T] pass through.
Tensor as_batch(const Tensor& t, const model::BrainModel& m, const std::string& modality, const std::string& file) {
  const auto* fd = m.feature_dims(modality);
  if (!fd) {
    std::string known;
    for (const auto& f : m.build_args().feature_dims) known += (known.empty() ? "" : ", ") + f.modality;
    fail(file, ": modality '", modality, "' is not a modality of this model (known: ", known, ")");
  }
  if (t.ndim() == 3 && fd->layers_dim && t.dim(0) == fd->layers_dim->first && t.dim(1) == fd->layers_dim->second)
    return t.reshape({1, t.dim(0), t.dim(1), t.dim(2)});
  if (t.ndim() != 3 && t.ndim() != 4)
    fail(file, ": expected [B, L, D, T], [B, L*D, T] or [L, D, T], got ", shape_str(t.shape()));
  return t;
}

}  // namespace

void register_forward(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ForwardArgs>();
  auto* cmd = app.add_subcommand("forward", "Run forward(batch, pool_outputs) on feature tensors (parity interface)");
  cmd->add_option("--model", a->model, "Model folder, weights file or Hub repo id (org/name[@rev])")->required();
  cmd->add_option("--input", a->inputs, "MODALITY=FILE.npy, [B, L, D, T] float32/float16 (repeatable; batch order)")->required();
  cmd->add_option("--subjects", a->subjects, "int .npy of subject ids [B] (per-subject models)");
  cmd->add_option("--output", a->output, "Output .npy: float32 [B, n_outputs, T_out]")->required();
  cmd->add_flag("--no-pool", a->no_pool, "Return [B, n_outputs, T] without the adaptive average pooling");
  cmd->add_flag("--allow-nonfinite", a->allow_nonfinite, "Do not reject NaN/Inf inputs");
  cmd->add_option("--latents", a->latents, "Also write the encoder output [B, T, hidden] to this .npy");
  cmd->callback([a, &g] {
    const Context ctx = g.make_context();
    const auto loaded = model_io::load_brain_model(resolve_model_arg(g, a->model, hub::brain_model_files()), g.load_options());
    const auto& m = *loaded.model;
    model::Batch batch;
    batch.check_finite = !a->allow_nonfinite;
    for (const auto& spec : a->inputs) {
      const auto [mod, file] = split_modality_arg(spec, "--input");
      Tensor t = load_feature_file(file, mod, std::nullopt);
      batch.inputs.emplace_back(mod, as_batch(t, m, mod, file.string()));
    }
    if (!a->subjects.empty()) {
      const Tensor s = io::read_npy(a->subjects);
      TRIBEV2_CHECK(s.ndim() == 1, a->subjects, ": subject ids must be a 1-D array, got ", shape_str(s.shape()));
      TRIBEV2_CHECK(s.dtype() == DType::I64 || s.dtype() == DType::I32 || s.dtype() == DType::I16 || s.dtype() == DType::U8 || s.dtype() == DType::I8,
                    a->subjects, ": subject ids must be integers, got ", dtype_name(s.dtype()));
      const Tensor s64 = s.to(DType::I64);
      batch.subject_ids.assign(s64.data<std::int64_t>(), s64.data<std::int64_t>() + s64.numel());
    } else if (m.needs_subject_ids()) {
      fail("this model has per-subject weights (", m.n_subject_rows(), " rows): pass --subjects IDS.npy");
    }
    Tensor latents;
    const Tensor y = m.forward(ctx, batch, !a->no_pool, a->latents.empty() ? nullptr : &latents);
    io::write_npy(a->output, y);
    if (!a->latents.empty()) io::write_npy(a->latents, latents);
    log(g, "wrote " + a->output + " " + shape_str(y.shape()));
  });
}

}  // namespace tribev2::cli

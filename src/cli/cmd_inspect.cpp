#include <iostream>

#include "common.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2::cli {

void register_inspect(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("inspect", "Print a model's architecture, tensors, parameter count and config");
  auto path = std::make_shared<std::string>();
  cmd->add_option("model", *path, "Model folder, model.safetensors, best.ckpt or Hub repo id (org/name[@rev])")->required();
  cmd->callback([path, &g] {
    const auto loaded = model_io::load_brain_model(resolve_model_arg(g, *path, hub::brain_model_files()), g.load_options());
    const auto& m = *loaded.model;
    std::cout << "weights: " << loaded.files.weights.string() << (loaded.files.is_checkpoint ? " (PyTorch checkpoint)" : " (safetensors)") << "\n";
    std::cout << "config:  " << loaded.files.config.string() << "\n";
    if (!loaded.files.build_args.empty()) std::cout << "build args: " << loaded.files.build_args.string() << "\n";
    std::cout << "\n" << m.describe();
    const auto& d = loaded.data;
    std::cout << "\ndata config in force: feature frequency " << d.frequency << " Hz, segment " << d.duration_trs
              << " TRs of " << d.tr() << " s (" << d.segment_seconds() << " s = " << d.segment_seconds() * d.frequency
              << " steps), hemodynamic offset " << d.neuro_offset << " s\n";
    if (!loaded.notes.empty()) {
      std::cout << "\nnotes:\n";
      for (const auto& n : loaded.notes) std::cout << "  - " << n << "\n";
    }
    std::cout << "\ntensors:\n";
    for (const auto& name : m.weights().names()) {
      const Tensor* t = m.weights().find(name);
      std::cout << "  " << name << "  " << shape_str(t->shape()) << "  " << dtype_name(t->dtype()) << "\n";
    }
    const std::int64_t n = m.n_parameters();
    std::cout << "\nparameters: " << n << " (" << static_cast<double>(n) / 1e6 << " M)\n";
  });
}

}  // namespace tribev2::cli

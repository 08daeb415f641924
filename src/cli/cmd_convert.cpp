#include "common.hpp"
#include "tribev2/hub/model_files.hpp"

namespace tribev2::cli {

void register_convert(CLI::App& app, GlobalOptions& g) {
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("convert", "Convert a checkpoint to model.safetensors + build_args.json (fast, memory-mapped loading)");
  cmd->add_option("--model", *model, "best.ckpt (or any model path, or a Hub repo id)")->required();
  cmd->add_option("--out", *out, "Output folder")->required();
  cmd->callback([model, out, &g] {
    const auto loaded = model_io::load_brain_model(resolve_model_arg(g, *model, hub::brain_model_files()), g.load_options());
    model_io::export_safetensors(loaded, *out);
    log(g, "wrote " + *out + "/model.safetensors, build_args.json and config.yaml");
  });
}

}  // namespace tribev2::cli

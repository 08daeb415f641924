// Writes the brain model the Slurm tests run with: inputs fit the tiny fixture extractors
// (text 2 x 64: tiny Llama, audio 2 x 32: tiny w2v-BERT, video 2 x 32: tiny V-JEPA2), seeded
// random weights, 15 s segments (as tests/pipeline/test_run_all_extractors.cpp).
// Usage: make_tiny_model FIXTURES_DIR OUT_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tribev2/io/safetensors.hpp"
#include "tribev2/model/random_model.hpp"
#include "tribev2/model_io/load.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace tribev2;
  if (argc != 3) {
    std::cerr << "usage: make_tiny_model FIXTURES_DIR OUT_DIR\n";
    return 2;
  }
  try {
    const fs::path config = fs::path(argv[1]) / "brain_model" / "text64_pipeline" / "config.yaml";
    const fs::path dir = argv[2];
    fs::create_directories(dir);
    const auto cfg = model_io::parse_config_yaml(config);
    model::BuildArgs args;
    args.feature_dims = {{"text", std::pair<std::int64_t, std::int64_t>{2, 64}},
                         {"audio", std::pair<std::int64_t, std::int64_t>{2, 32}},
                         {"video", std::pair<std::int64_t, std::int64_t>{2, 32}}};
    args.n_outputs = 57;
    args.n_output_timesteps = 15;
    const auto w = model::random_weights(cfg.brain, args, 5);
    std::vector<std::pair<std::string, Tensor>> ts;
    for (const auto& n : w.names()) ts.emplace_back(n, *w.find(n));
    io::write_safetensors(dir / "model.safetensors", ts);
    fs::copy_file(config, dir / "config.yaml", fs::copy_options::overwrite_existing);
    std::ofstream(dir / "build_args.json")
        << R"({"feature_dims": {"text": [2, 64], "audio": [2, 32], "video": [2, 32]}, "n_outputs": 57, "n_output_timesteps": 15})";
  } catch (const std::exception& e) {
    std::cerr << "make_tiny_model: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

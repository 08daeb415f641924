// Shared pieces of the command-line tool: global options, feature-file loading, JSON output.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/model_io/load.hpp"

namespace tribev2::cli {

struct GlobalOptions {
  int threads = 0;  // 0: TRIBEV2_NUM_THREADS or all cores
  std::string precision = "f32";
  bool quiet = false;
  std::string subject_mode = "auto";
  std::vector<std::string> argv;  // this process's arguments (argv[1..]), for `--slurm` job scripts

  Context make_context() const;
  model_io::LoadOptions load_options() const;
};

// One `MOD=FILE` argument.
std::pair<std::string, std::filesystem::path> split_modality_arg(const std::string& arg, const std::string& option);

// Reads a feature file: .npy (float32/float16/float64), .npz (the array named after the
// modality, or the only array), or raw little-endian float32 .bin with an explicit shape.
Tensor load_feature_file(const std::filesystem::path& path, const std::string& modality,
                         const std::optional<Shape>& bin_shape);
Shape parse_shape(const std::string& text);  // "2,3072,500"

void log(const GlobalOptions& g, const std::string& line);

// Progress display on stderr: a bar with ETA on a terminal, plain lines otherwise.
class Progress {
 public:
  Progress(const GlobalOptions& g, std::string label);
  void update(std::int64_t done, std::int64_t total);
  void finish();

 private:
  bool enabled_, tty_;
  std::string label_;
  double start_;
  std::int64_t last_pct_ = -1;
};

void register_inspect(CLI::App& app, GlobalOptions& g);
void register_forward(CLI::App& app, GlobalOptions& g);
void register_predict(CLI::App& app, GlobalOptions& g);
void register_convert(CLI::App& app, GlobalOptions& g);
void register_demo(CLI::App& app, GlobalOptions& g);
void register_text_features(CLI::App& app, GlobalOptions& g);
void register_audio_features(CLI::App& app, GlobalOptions& g);
void register_video_features(CLI::App& app, GlobalOptions& g);
void register_viz(CLI::App& app, GlobalOptions& g);  // plot, movie, fetch-mesh
void register_view(CLI::App& app, GlobalOptions& g);  // the browser viewer
void register_run(CLI::App& app, GlobalOptions& g);
void register_download(CLI::App& app, GlobalOptions& g);
void register_batch(CLI::App& app, GlobalOptions& g);  // batch, batch-status

// Model options take a local path or a Hub repo id (org/name[@rev]); ids are resolved through
// the shared HF cache, downloading only `include` (the files that loader reads). cmd_download.cpp.
std::filesystem::path resolve_model_arg(const GlobalOptions& g, const std::string& path_or_repo_id,
                                        std::vector<std::string> include);
hub::ProgressFn download_progress(const GlobalOptions& g);
void register_roi(CLI::App& app, GlobalOptions& g);  // roi, fetch-atlas

}  // namespace tribev2::cli

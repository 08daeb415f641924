// Options shared by `run`, `events`, `transcribe` and `batch` (the stimulus, how its events
// are built, the models), and the Slurm submission of `run --slurm` / `batch --slurm`.
#pragma once

#include <string>
#include <vector>

#include "common.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/pipeline/batch.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/run.hpp"

namespace tribev2::cli {

struct EventArgs {
  std::string text, audio, video, transcript;
  std::string language = "en", voice;
  int speech_rate = 175;
  std::string asr = "auto", asr_model = "large-v3", compute_type = "int8", asr_device;
  int asr_batch_size = 16;
  std::string sentences = "auto", text_case = "capitalize";
  bool reference_quirks = false;
  std::string cache_dir;
  bool recompute = false;
};

struct RunArgs {
  EventArgs ev;
  // Upstream's models by default; each is resolved (and downloaded) only when the run needs it.
  std::string model = hub::kDefaultBrainModel, llama = hub::kDefaultLlama, audio_model = hub::kDefaultAudioModel,
              video_model = hub::kDefaultVideoModel, mesh_dir;
  std::string text_features, audio_features, video_features;
  std::string out;
  std::vector<std::string> ignore, modalities;
  bool no_brain_maps = false;
  int batch_size = 8;
  std::int64_t overlap_trs = 0;
  std::optional<std::int64_t> subject;
  std::size_t text_unit_words = pipeline::kTextUnitWords;
};

// --slurm and its sbatch settings (on run and batch).
struct SlurmArgs {
  bool slurm = false;
  int tasks = 0;  // array tasks = shards (0: the command's default)
  pipeline::SlurmOptions o;
};

// with_stimulus: --text/--audio/--video/--transcript too (batch takes them from the manifest).
void add_event_options(CLI::App* cmd, EventArgs& a, bool with_stimulus = true);
pipeline::EventsOptions events_options(const EventArgs& a);
// The run options after the stimulus (--model ... --subject), without --out.
void add_run_options(CLI::App* cmd, RunArgs& a);
pipeline::RunOptions make_run_options(const RunArgs& a, const GlobalOptions& g);
void add_slurm_options(CLI::App* cmd, SlurmArgs& s, const std::string& tasks_help);
// The options given, as one command line (from CLI11's "name=value" lines).
std::string command_line(const std::string& prefix, const std::string& config);
// Progress bars (terminal) or plain lines, one per stage; log lines unless --quiet.
pipeline::Observer make_observer(const GlobalOptions& g);

// The command line of this process without the --slurm options (and --shard/--gather), with
// `extra` appended, shell-quoted, starting with this executable's absolute path.
std::string rerun_command(const GlobalOptions& g, const std::vector<std::string>& extra);
// Writes DIR/slurm/{array,gather}.sbatch and DIR/slurm/job.json, submits them with `sbatch
// --parsable` (the gather step with --dependency=afterany:ARRAY) and prints the job ids.
// `indices`: only these array tasks (1-based; --resume). Returns {array id, gather id}.
std::pair<std::string, std::string> submit_slurm(const GlobalOptions& g, const std::filesystem::path& dir,
                                                 const std::string& kind, const SlurmArgs& s, int n_tasks,
                                                 const std::vector<int>& indices, const std::string& task_command,
                                                 const std::string& gather_command);
void submit_run_slurm(const GlobalOptions& g, const RunArgs& a, const SlurmArgs& s);

}  // namespace tribev2::cli

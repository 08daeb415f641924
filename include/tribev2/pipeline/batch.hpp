// Work spread over many processes (issue 18): shard specs (`--shard K/N|auto`), the
// deterministic cost-balanced assignment of units to shards, batch manifests (one stimulus per
// row), per-item status files, and the Slurm scripts of `tribev2 batch/run --slurm`.
//
// The contract that makes this scheduler-agnostic: every unit of work lands in the shared
// content-addressed stage cache (atomic rename, content keys), so any process may compute any
// unit, twice is harmless, a killed process leaves nothing half-written, and a later plain run
// assembles from the cache. See docs/cluster.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tribev2::pipeline {

// Shard K of N, 1-based (1 <= K <= N).
struct Shard {
  int index = 1;
  int count = 1;
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// Reads a Slurm array environment: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
// SLURM_ARRAY_TASK_MIN (default 1 when absent) -> shard (ID - MIN + 1) of COUNT.
using EnvFn = std::function<std::optional<std::string>(const std::string& name)>;
EnvFn process_env();

// "K/N" (1-based) or "auto" (the Slurm array variables through `env`). Errors name `option`.
Shard parse_shard(const std::string& text, const EnvFn& env, const std::string& option = "--shard");

// Deterministic, cost-balanced assignment: units sorted by cost (descending, ties by index)
// each go to the shard with the least total cost so far (ties: the lowest shard). Returns the
// 1-based shard of each unit. Costs must be finite and >= 0; n_shards >= 1.
std::vector<int> assign_shards(const std::vector<double>& costs, int n_shards);

// One manifest row. `kind` is "text", "audio" or "video"; `path` is absolute (relative paths
// are taken from the manifest's folder), as are the path-valued options.
struct ManifestItem {
  std::size_t row = 0;  // 1-based line number in the manifest (the header is line 1)
  std::string id;
  std::string kind;
  std::filesystem::path path;
  std::map<std::string, std::string> options;  // per-row options, column name -> value (non-empty)
  double cost = 0.0;                           // estimated compute cost (see estimate_cost)
};

// The per-row option columns a manifest may have besides id and text/audio/video.
const std::vector<std::string>& manifest_option_columns();

// Parses a TSV (tab-separated, or .csv comma-separated with "..." quoting) manifest: a header
// row with `id` and at least one of video/audio/text, then one stimulus per row with exactly
// one of them filled. Every error names the file, the line and the column. Checks that the
// stimulus and transcript files exist and that ids are unique and usable as folder names.
std::vector<ManifestItem> parse_manifest(const std::filesystem::path& path);

// Estimated compute seconds on 2 CPU cores (docs/video-features.md, text-features.md,
// audio-features.md): video ~380 s per stimulus second (~190 s per 2 Hz bin), text ~7 s per
// word, audio ~1 s per second; audio and video also carry their words (speech). Durations are estimated from file sizes (a text:
// ~6 characters per word, 2.9 words per second of speech; audio/video: 16 kB/s, 250 kB/s).
double estimate_cost(const std::string& kind, std::uintmax_t file_bytes);

// Per-item status: DIR/status/<id>.json, written atomically by the process working on it.
struct ItemStatus {
  std::string id;
  std::string status = "pending";  // pending | running | done | failed
  int shard = 0;
  double seconds = 0.0;
  std::string started, finished;   // UTC ISO 8601
  std::string host, job;           // hostname, Slurm job id (array: JOB_TASK)
  std::string error;
};
nlohmann::json to_json(const ItemStatus& s);
ItemStatus item_status_from_json(const nlohmann::json& j);
std::optional<ItemStatus> read_item_status(const std::filesystem::path& out_dir, const std::string& id);
void write_item_status(const std::filesystem::path& out_dir, const ItemStatus& s);
// DIR/batch.tsv: id, kind, shard, status, seconds, started, finished, host, job, error.
std::string format_batch_tsv(const std::vector<ManifestItem>& items, const std::vector<int>& shards,
                             const std::vector<std::optional<ItemStatus>>& status);

std::string utc_now_iso();

// Slurm scripts. `command` lines are complete shell commands (already quoted).
struct SlurmOptions {
  std::string partition, time, mem, account;
  int cpus = 0;            // 0: not set
  int max_parallel = 0;    // 0: no throttle
  std::vector<std::string> sbatch_args;  // extra `#SBATCH` lines, e.g. "--qos=low"
};
// One array task per shard 1..n_tasks (or the given 1-based indices, for --resume): runs
// `task_command` (which reads the shard from SLURM_ARRAY_TASK_ID through `--shard auto`).
std::string array_sbatch(const std::string& job_name, const std::filesystem::path& log_dir,
                         const std::filesystem::path& workdir, const SlurmOptions& o, int n_tasks,
                         const std::vector<int>& indices, const std::string& task_command);
// Runs `gather_command` once, after the array (the dependency is given to sbatch).
std::string gather_sbatch(const std::string& job_name, const std::filesystem::path& log_dir,
                          const std::filesystem::path& workdir, const SlurmOptions& o, const std::string& gather_command);
// "1-4%2" or "1,3%2".
std::string array_spec(int n_tasks, const std::vector<int>& indices, int max_parallel);

// Quotes for a POSIX shell ('...' unless the word is plainly safe).
std::string shell_quote(const std::string& word);

}  // namespace tribev2::pipeline

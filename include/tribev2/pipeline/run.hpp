// `tribev2 run`: stimulus -> events -> per-modality features -> segmented prediction ->
// outputs, every stage cached (see docs/pipeline.md).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tribev2/core/context.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/model_io/load.hpp"
#include "tribev2/pipeline/batch.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/feature_store.hpp"
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::pipeline {

struct RunOptions {
  std::filesystem::path model;                       // TRIBE v2 folder or weights file
  std::filesystem::path llama, audio_model, video_model, mesh_dir;
  std::filesystem::path text_features, audio_features, video_features;  // 2 Hz [L, D, N] timelines from t = 0
  std::filesystem::path out;
  std::filesystem::path cache_dir;                   // default: <out>/cache
  bool recompute = false;                            // ignore cached results (and replace them)
  EventsOptions events;
  std::vector<std::string> ignore_modalities;        // treated as absent (a deviation; recorded)
  // Only these modalities are computed (`run --modalities text,audio`); the model's others are
  // absent: zeros after the projector, as upstream treats a missing modality. Empty: all.
  std::vector<std::string> modalities;
  bool estimate = true;                              // print the compute-time estimate before extracting
  bool brain_maps = true;                            // GIFTI + figures when the build has them
  int batch_size = 8;
  std::int64_t overlap_trs = 0;                      // predict's overlapping segments (0 = back to back)
  std::optional<std::int64_t> subject;
  model_io::LoadOptions load;
  std::string command_line;                          // for run.json
  // Words per text unit: the text stage runs in ranges of this many words, one cache entry
  // and one shard unit each (feature_store.hpp: kTextUnitWords). It is part of the text keys.
  std::size_t text_unit_words = kTextUnitWords;
  // Work units (issue 18, docs/cluster.md): each range of words of the text stage, each audio
  // chunk and each video chunk (one cache entry each). With `shard`, the run builds the
  // events, computes only the units of that shard (cost-balanced, deterministic) into the cache,
  // writes <out>/.shards/K-of-N.json and stops: no prediction, no outputs. With `gather_shards`
  // = N, the run computes no unit: when some are not cached it writes <out>/.shards/missing.json
  // and fails naming them (and their shard of N); otherwise it assembles the outputs.
  std::optional<Shard> shard;
  int gather_shards = 0;
  // Turns a model option (a local path or a Hub repo id) into a folder, downloading what that
  // loader reads; role: "brain", "text", "audio" or "video". Called only for the models the
  // run uses. Unset: the paths are used as given.
  std::function<std::filesystem::path(const std::filesystem::path&, const std::string& role)> resolve_model;
  // Events given by the caller (Python's TribeModel.predict(events=df) on a DataFrame built or
  // edited by hand): used as they are instead of being built from the stimulus, which then
  // only labels run.json. Their media files are read for the audio and video features.
  std::optional<events::Events> given_events;
};

struct RunResult {
  std::vector<StageRecord> stages;
  std::vector<std::filesystem::path> outputs;
  std::size_t n_rows = 0;
  bool nothing_recomputed = false;
  // --shard / gather: the units of this stimulus (name, shard, status: computed | cached |
  // other-shard | missing).
  nlohmann::json units = nlohmann::json::array();
};

RunResult run_pipeline(const Context& ctx, const Stimulus& stimulus, const RunOptions& options, const Stages& stages,
                       Cleanup& cleanup, const Observer& observer);

// A 2 Hz feature timeline file: .npy, or .npz (the array named after the modality, or the
// only one); float16/float64 are converted to float32.
Tensor load_timeline_file(const std::filesystem::path& path, const std::string& modality);

}  // namespace tribev2::pipeline

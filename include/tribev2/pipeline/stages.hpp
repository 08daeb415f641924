// The stages of `tribev2 run` that other layers provide, as plain functions. A build wires
// the ones it has in src/pipeline/stages_available.cpp; an empty function means "not in this
// build", and the pipeline then stops with a message saying so (unless the user gave the
// modality's features as a file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/pipeline/estimate.hpp"

namespace tribev2::pipeline {

using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

struct Stages {
  // Text (upstream HuggingFaceText, reference-semantics 2.1): one vector per Word event from
  // its `context`, after the layer groups: float32 [n_words, L, D] (L = 2, D = 3072 for
  // Llama-3.2-3B). `model_dir` is --llama.
  std::function<Tensor(const Context& ctx, const std::filesystem::path& model_dir,
                       const std::vector<events::Word>& words, const ProgressFn& progress)>
      text_word_features;
  // Audio (Wav2VecBert, 3.1): the features of one Audio event (a chunk): float32
  // [L, D, round(2 * duration)] at 2 Hz from the chunk start. `model_dir` is --audio-model.
  std::function<Tensor(const Context& ctx, const std::filesystem::path& model_dir, const events::MediaEvent& chunk,
                       const ProgressFn& progress)>
      audio_chunk_features;
  // Video (HuggingFaceVideo with V-JEPA2, 4.1): the same for one Video event.
  std::function<Tensor(const Context& ctx, const std::filesystem::path& model_dir, const events::MediaEvent& chunk,
                       const ProgressFn& progress)>
      video_chunk_features;
  // Brain maps (visualisation layer): GIFTI files and a default figure set for the
  // predictions [n_rows, 20484] (fsaverage5, left then right). Returns the files written
  // into `out_dir`, and in `note` why something was left out (e.g. figures without meshes).
  // `mesh_dir` is --mesh-dir (may be empty: the layer's default).
  std::function<std::vector<std::filesystem::path>(const Context& ctx, const Tensor& preds,
                                                   const std::vector<double>& row_starts,
                                                   const std::filesystem::path& out_dir,
                                                   const std::filesystem::path& mesh_dir, const ProgressFn& progress,
                                                   std::string& note)>
      brain_maps;
  // What else the brain maps depend on for a `mesh_dir` (the atlas installed there, which adds
  // roi.tsv), for the cache key; may be empty.
  std::function<std::string(const std::filesystem::path& mesh_dir)> brain_maps_inputs;

  // The compute each extractor still has to do, for the estimate `run` prints before it
  // extracts (estimate.hpp): the network's shape from its model folder times the stimulus
  // (the words, or the seconds of each chunk still to compute). Empty: no estimate.
  std::function<StageEstimate(const std::filesystem::path& model_dir, const std::vector<events::Word>& words)>
      text_estimate;
  std::function<StageEstimate(const std::filesystem::path& model_dir, const std::vector<double>& chunk_seconds)>
      audio_estimate, video_estimate;

  // Identities of the implementations (part of the cache keys: bump when results change).
  std::string text_id, audio_id, video_id, viz_id;
};

// What this build provides (src/pipeline/stages_available.cpp).
Stages available_stages();

}  // namespace tribev2::pipeline

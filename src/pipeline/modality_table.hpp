// Private to the pipeline: the three modalities of TRIBE v2 as `run` sees them, one row each,
// so that the runner looks things up instead of switching on modality names (a new modality is
// a new row, not a new branch in every function).
#pragma once

#include <array>
#include <filesystem>
#include <string_view>

#include "tribev2/pipeline/run.hpp"
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::pipeline::detail {

struct ModalityRow {
  const char* name;           // the brain model's feature_dims key: text, audio, video
  const char* features_flag;  // the option that gives a precomputed 2 Hz timeline
  const char* model_flag;     // the option that names the extractor's model folder
  const char* extractor;      // how messages name the extractor
  // The events that carry the modality: media chunks of this type (Audio, Video), or null
  // for text, which is carried by the words.
  const char* media_type;
  const char* carried_by;     // "words" / "audio" / "video" in "the input has no ... events"
  std::filesystem::path RunOptions::*model;
  std::filesystem::path RunOptions::*features;
  // Media modalities only (null for text, whose extractor takes words): the per-chunk
  // extractor and its estimate in Stages.
  decltype(Stages::audio_chunk_features) Stages::*chunk_features;
  decltype(Stages::audio_estimate) Stages::*chunk_estimate;
  std::string Stages::*id;  // the extractor's identity (cache keys)
  // Shard planning: estimated seconds of compute per second of stimulus of one media chunk
  // (measured on 2 cores; only the ratios matter for balancing).
  double cost_per_second;
  // A timeline given as a file must span the whole stimulus (text may stop at the last word).
  bool covers_whole_stimulus;

  bool is_media() const { return media_type != nullptr; }
};

inline const std::array<ModalityRow, 3>& modality_table() {
  static const std::array<ModalityRow, 3> rows{{
      {"text", "--text-features", "--llama", "the text feature extractor (Llama 3.2)", nullptr, "words",
       &RunOptions::llama, &RunOptions::text_features, nullptr, nullptr, &Stages::text_id, 0.0, false},
      {"audio", "--audio-features", "--audio-model", "the audio feature extractor (w2v-BERT 2.0)", "Audio", "audio",
       &RunOptions::audio_model, &RunOptions::audio_features, &Stages::audio_chunk_features, &Stages::audio_estimate,
       &Stages::audio_id, 1.0, true},
      {"video", "--video-features", "--video-model", "the video feature extractor (V-JEPA 2)", "Video", "video",
       &RunOptions::video_model, &RunOptions::video_features, &Stages::video_chunk_features, &Stages::video_estimate,
       &Stages::video_id, 380.0, true},
  }};
  return rows;
}

// The row of `name`; a name outside the table (e.g. a brain model with another modality) is a
// clear error naming it.
const ModalityRow& modality_row(std::string_view name);

}  // namespace tribev2::pipeline::detail

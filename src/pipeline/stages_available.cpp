// The stages this build provides. THE place to wire the other layers into `tribev2 run`:
// after merging the text, audio, video and visualisation layers, set the corresponding
// function (and its id, which goes into the cache keys) here. See docs/pipeline.md, "Wiring".
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::pipeline {

Stages available_stages() {
  Stages s;
  // s.text_word_features = ...;   s.text_id = "...";   (Llama, issue "text features")
  // s.audio_chunk_features = ...; s.audio_id = "...";  (w2v-BERT, issue "audio features")
  // s.video_chunk_features = ...; s.video_id = "...";  (V-JEPA2, issue "video features")
  // s.brain_maps = ...;           s.viz_id = "...";    (GIFTI + figures, issue "visualisation")
  return s;
}

}  // namespace tribev2::pipeline

// The stages this build provides: THE place where the extractor and visualisation layers are
// wired into `tribev2 run` (each id goes into the cache keys: bump it when results change).
#include "tribev2/features/text/word_features.hpp"
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::pipeline {

Stages available_stages() {
  Stages s;
  s.text_word_features = [](const Context& ctx, const std::filesystem::path& model_dir,
                            const std::vector<events::Word>& words, const ProgressFn& progress) {
    const text::LlamaModel model = text::LlamaModel::load(model_dir);
    text::WordFeatureOptions o;
    o.progress = progress;
    return text::compute_word_features(ctx, model, words, o).features;
  };
  s.text_id = "llama-word-features/1";
  // s.audio_chunk_features = ...; s.audio_id = "...";  (w2v-BERT, issue "audio features")
  // s.video_chunk_features = ...; s.video_id = "...";  (V-JEPA2, issue "video features")
  // s.brain_maps = ...;           s.viz_id = "...";    (GIFTI + figures, issue "visualisation")
  return s;
}

}  // namespace tribev2::pipeline

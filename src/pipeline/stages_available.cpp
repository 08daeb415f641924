// The stages this build provides: THE place where the extractor and visualisation layers are
// wired into `tribev2 run` (each id goes into the cache keys: bump it when results change).
#include "tribev2/core/error.hpp"
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "tribev2/features/audio/extractor.hpp"
#include "tribev2/features/text/llama_config.hpp"
#include "tribev2/features/text/word_features.hpp"
#include "tribev2/media/audio.hpp"
#include "tribev2/features/video/extractor.hpp"
#include "tribev2/pipeline/stages.hpp"
#include "tribev2/roi/tables.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/outputs.hpp"

namespace tribev2::pipeline {

namespace {
// roi.tsv (mean per ROI, one line per TR and one for the mean map) and roi_top10.tsv (the ten
// ROIs with the largest mean per TR and for the mean map) when an atlas is installed next to the
// meshes (`tribev2 fetch-atlas`); hcp-mmp1 first, as upstream.
void add_roi_tables(const Tensor& preds, const std::vector<double>& starts, const std::filesystem::path& out,
                    const std::filesystem::path& mesh_dir, std::vector<std::filesystem::path>& files, std::string& note) {
  const auto dir = viz::resolve_mesh_dir(mesh_dir.string());
  const auto kind = roi::installed_atlas(dir);
  if (!kind) return;
  try {
    const auto atlas = roi::load_atlas(roi::atlas_kind_name(*kind), dir);
    roi::RoiTableOptions o;
    o.top_k = 10;
    o.row_times = starts;
    const auto top = roi::write_roi_tables(atlas, preds.to_f32(), o, out / "roi.tsv");
    files.push_back(out / "roi.tsv");
    files.push_back(top);
  } catch (const Error& e) {
    note += std::string(note.empty() ? "" : "; ") + "roi.tsv skipped (" + e.what() + ")";
  }
}
}  // namespace

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
  // w2v-BERT 2.0: one Audio chunk, read like soundfile (offset, duration) -> [2, hidden,
  // round(2 * duration)]. The model is kept by this Stages object for the run's chunks.
  auto w2v = std::make_shared<std::map<std::string, features::audio::W2vBertModel>>();
  s.audio_chunk_features = [w2v](const Context& ctx, const std::filesystem::path& model_dir,
                                 const events::MediaEvent& chunk, const ProgressFn& progress) {
    auto it = w2v->find(model_dir.string());
    if (it == w2v->end()) it = w2v->emplace(model_dir.string(), features::audio::W2vBertModel::load(model_dir)).first;
    const features::audio::FbankExtractor fbank(it->second.preprocessor());
    const media::AudioBuffer samples = media::decode_audio(chunk.filepath, chunk.offset, chunk.duration);
    features::audio::AudioFeatureOptions o;
    return features::audio::chunk_features(ctx, it->second, fbank, samples, o, chunk.duration, nullptr,
                                           [&](int done, int total) {
                                             if (progress) progress(done, total);
                                           });
  };
  // /2 (2026-12-07): --precision bf16 audio was wrong before (attention scores overwritten, see
  // docs/audio-features.md) and now runs its attention in bf16; entries of /1 are not reused.
  // /3 (2026-12-07, later): the attention runs fused (docs/performance.md, "Fused attention"):
  // bf16 rounds the unnormalised weights, float32 differs in the last bits.
  s.audio_id = "w2v-bert-chunk/3";
  // V-JEPA2: one Video chunk -> [2, hidden, round(2 * duration)]. The loaded model is kept by
  // this Stages object (not globally) so that the chunks of a run share it.
  auto vjepa = std::make_shared<std::map<std::string, features::video::VJEPA2Model>>();
  s.video_chunk_features = [vjepa](const Context& ctx, const std::filesystem::path& model_dir,
                                   const events::MediaEvent& chunk, const ProgressFn& progress) {
    const std::string key = model_dir.string() + (ctx.precision() == Precision::BF16 ? "#bf16" : "#f32");
    auto it = vjepa->find(key);
    if (it == vjepa->end()) {
      features::video::VJEPA2Model::Options mo;
      mo.precision = ctx.precision();
      it = vjepa->emplace(key, features::video::VJEPA2Model::load(model_dir, mo)).first;
    }
    features::video::VideoFeatureOptions o;
    o.progress = progress;
    media::VideoReader reader(chunk.filepath);
    const Tensor layers = features::video::extract_event_layers(ctx, it->second, features::video::frame_source(reader),
                                                                chunk.offset, chunk.duration, o);
    return features::video::group_mean(layers, o.layers);
  };
  // /2 (2026-12-07): the attention runs fused, as the audio's /3.
  s.video_id = "vjepa2-chunk/2";
  // GIFTI time series always (they need no mesh); the default figures when the fsaverage5
  // meshes are installed (tribev2 fetch-mesh), else a note saying how to get them.
  s.brain_maps = [](const Context& ctx, const Tensor& preds, const std::vector<double>& starts,
                    const std::filesystem::path& out, const std::filesystem::path& mesh_dir, const ProgressFn&,
                    std::string& note) -> std::vector<std::filesystem::path> {
    if (preds.ndim() != 2 || preds.dim(1) != 20484) {
      note = "no GIFTI files or figures: the model has " + std::to_string(preds.dim(-1)) +
             " outputs, not the 20,484 fsaverage5 vertices";
      return {};
    }
    try {
      viz::check_default_figures(mesh_dir.string());
    } catch (const Error& e) {
      note = std::string("figures skipped (") + e.what() + "); run `tribev2 fetch-mesh` or pass --mesh-dir";
      viz::TimeSeriesOptions ts;
      ts.row_times = starts;
      auto files = viz::write_time_series_gifti(preds, out, "preds", ts);
      add_roi_tables(preds, starts, out, mesh_dir, files, note);
      return files;
    }
    auto files = viz::write_default_figures(ctx, preds, starts, out, mesh_dir.string());
    add_roi_tables(preds, starts, out, mesh_dir, files, note);
    return files;
  };
  s.brain_maps_inputs = [](const std::filesystem::path& mesh_dir) {
    const auto kind = roi::installed_atlas(viz::resolve_mesh_dir(mesh_dir.string()));
    return kind ? std::string("atlas:") + roi::atlas_kind_name(*kind) : std::string();
  };
  // Compute estimates (estimate.hpp): shapes from the model folders' configs.
  s.text_estimate = [](const std::filesystem::path& dir, const std::vector<events::Word>& words) {
    text::LlamaConfig cfg;
    text::WordFeatureStats st;
    if (std::filesystem::is_directory(dir)) {
      cfg = text::read_llama_config(dir / "config.json");
      st = text::plan_word_features(text::Tokenizer::from_json_file(dir / "tokenizer.json"), words);
    } else {  // a GGUF file: its header has both
      const text::LlamaModel m = text::LlamaModel::load(dir);
      cfg = m.config();
      st = text::plan_word_features(m.tokenizer(), words);
    }
    const LlamaShape shape{cfg.n_layers, cfg.hidden_size, cfg.q_dim(), cfg.kv_dim(), cfg.intermediate_size};
    // Contexts grow along a chain of words: a token attends on average to about half the
    // longest sequence held.
    const double mean_context = std::max<double>(1.0, static_cast<double>(st.max_sequence) / 2.0);
    StageEstimate e;
    e.stage = "text features";
    e.network = Network::Llama;
    e.flops = llama_flops(shape, static_cast<double>(st.tokens_computed), mean_context);
    e.detail = std::to_string(words.size()) + " words, " + std::to_string(st.tokens_computed) + " tokens";
    return e;
  };
  s.audio_estimate = [](const std::filesystem::path& dir, const std::vector<double>& chunks) {
    const auto cfg = features::audio::W2vBertConfig::from_json_file(dir / "config.json");
    ConformerShape shape;
    shape.layers = cfg.layers;
    shape.hidden = cfg.hidden;
    shape.ffn = cfg.intermediate;
    shape.conv_kernel = cfg.conv_kernel;
    shape.input_dim = cfg.input_dim;
    StageEstimate e;
    e.stage = "audio features";
    e.network = Network::W2vBert;
    double total = 0.0;
    for (double c : chunks) {
      e.flops += conformer_flops(shape, c);
      total += c;
    }
    e.detail = std::to_string(chunks.size()) + " chunk(s), " + std::to_string(static_cast<long long>(std::round(total))) +
               " s of audio";
    return e;
  };
  s.video_estimate = [](const std::filesystem::path& dir, const std::vector<double>& chunks) {
    const auto cfg = features::video::VJEPA2Config::from_json_file(dir / "config.json");
    const auto proc = features::video::ProcessorConfig::load(dir);
    const features::video::SamplingOptions sampling;
    const VitShape shape{cfg.num_hidden_layers, cfg.hidden_size, cfg.mlp_hidden(), cfg.patch_dim(),
                         cfg.tokens(sampling.frames_per_clip, proc.crop_height)};
    StageEstimate e;
    e.stage = "video features";
    e.network = Network::Vjepa2;
    std::int64_t bins = 0;
    for (double c : chunks) bins += features::video::n_bins(c, sampling);
    e.flops = static_cast<double>(bins) * vit_clip_flops(shape);
    e.detail = std::to_string(bins) + " clips of " + std::to_string(shape.tokens) + " tokens";
    return e;
  };
  s.viz_id = "viz-default-figures/2";  // /2: + roi.tsv when an atlas is installed
  return s;
}

}  // namespace tribev2::pipeline

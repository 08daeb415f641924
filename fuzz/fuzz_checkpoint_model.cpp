// The interpretation of a Lightning best.ckpt (model_build_args, state_dict -> BrainModel
// weights) on arbitrary checkpoint bytes, with a fixed valid config.yaml beside it. Where
// fuzz_torch_checkpoint stops at the archive and the pickle, this target goes on into
// load_brain_model's checks of names, shapes and build args.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/model_io/load.hpp"

namespace {
// The tribe_like fixture's config.yaml (tests/fixtures/brain_model/tribe_like), inlined so the
// target needs no files; shrunk (hidden 6, low-rank head 4, 8 positions, no
// rotary embedding, whose head size must be >= 32) so that the
// matching best.ckpt seed that make_seeds.py writes stays a few KB.
constexpr const char* kConfig = R"(data:
  features_to_use:
  - text
  - audio
  - video
  duration_trs: 100
  frequency: 2.0
  neuro:
    name: FmriExtractor
    frequency: 1.0
    offset: 5
brain_model_config:
  name: FmriEncoder
  hidden: 6
  low_rank_head: 4
  combiner: null
  max_seq_len: 8
  extractor_aggregation: cat
  layer_aggregation: cat
  encoder:
    heads: 3
    depth: 2
    attn_dropout: 0.0
    ff_mult: 4
    ff_dropout: 0.0
    use_scalenorm: true
    rotary_pos_emb: false
    scale_residual: true
    layer_dropout: 0.0
    name: TransformerEncoder
  subject_layers:
    n_subjects: 0
    bias: true
    subject_dropout: 0.1
    average_subjects: true
    name: SubjectLayers
average_subjects: true
seed: 33
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& dir = tribev2::fuzz::scratch_dir();
  static const bool config_written = (tribev2::fuzz::write_file(dir / "config.yaml", kConfig), true);
  (void)config_written;
  tribev2::fuzz::write_file(dir / "best.ckpt", tribev2::fuzz::as_text(data, size));
  tribev2::model_io::ModelFiles files;
  files.weights = dir / "best.ckpt";
  files.config = dir / "config.yaml";
  files.is_checkpoint = true;
  for (auto mode : {tribev2::model_io::SubjectMode::Auto, tribev2::model_io::SubjectMode::Config}) {
    try {
      (void)tribev2::model_io::load_brain_model(files, {mode});
    } catch (const tribev2::Error&) {
    }
  }
  return 0;
}

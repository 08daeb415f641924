#include "run_args.hpp"

#include <iostream>
#include <memory>

#include "tribev2/core/error.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

// Options shared by run and events: the stimulus and how its events are built.

void add_event_options(CLI::App* cmd, EventArgs& a, bool with_stimulus) {
  if (with_stimulus) {
    cmd->add_option("--text", a.text, "Text stimulus (.txt): spoken with espeak-ng, words timed by the synthesiser");
    cmd->add_option("--audio", a.audio, "Audio stimulus (.wav .mp3 .flac .ogg)");
    cmd->add_option("--video", a.video, "Video stimulus (.mp4 .avi .mkv .mov .webm)");
    cmd->add_option("--transcript", a.transcript,
                    "Word timings for --audio/--video instead of speech recognition: whisperX/whisper .json, a JSON "
                    "word list, or upstream's .tsv transcript cache");
  }
  cmd->add_option("--language", a.language, "Language code or upstream name (en, fr, es, nl, zh, ...)")->capture_default_str();
  cmd->add_option("--voice", a.voice, "espeak-ng voice for --text (default: the language's, en-us for en)");
  cmd->add_option("--speech-rate", a.speech_rate, "espeak-ng speaking rate, words per minute")->capture_default_str();
  cmd->add_option("--asr", a.asr, "Speech recogniser: auto (whisperx, else whisper), whisperx or whisper")->capture_default_str();
  cmd->add_option("--asr-model", a.asr_model, "Whisper model (upstream: large-v3)")->capture_default_str();
  cmd->add_option("--compute-type", a.compute_type,
                  "whisperX compute type: int8 (CPU and GPU), float32 (CPU), float16 (GPU only, upstream's)")
      ->capture_default_str();
  cmd->add_option("--asr-batch-size", a.asr_batch_size, "whisperX batch size (upstream: 16)")->capture_default_str();
  cmd->add_option("--asr-device", a.asr_device, "Device for the recogniser (default: the tool's: cuda if available)");
  cmd->add_option("--sentences", a.sentences,
                  "Sentence boundaries: auto (recogniser segments when present, else rules), segments, rules")
      ->capture_default_str();
  cmd->add_option("--text-case", a.text_case,
                  "AddText rewrite of sentences (open question Q4): capitalize (neuralset 0.0.2, lowercases the rest) "
                  "or upper-first (newest neuralset)")
      ->capture_default_str();
  cmd->add_flag("--reference-quirks", a.reference_quirks,
                "Reproduce upstream exactly, including the duplicated words of inputs >= 90 s (open question Q1)");
  cmd->add_option("--cache-dir", a.cache_dir, "Stage cache folder (default: <out>/cache)");
  cmd->add_flag("--recompute", a.recompute, "Ignore cached results and replace them");
}

pipeline::EventsOptions events_options(const EventArgs& a) {
  pipeline::EventsOptions o;
  o.language = pipeline::parse_language(a.language);
  o.voice = a.voice;
  o.speech_rate_wpm = a.speech_rate;
  o.transcript = a.transcript;
  o.asr.tool = a.asr;
  o.asr.model = a.asr_model;
  o.asr.compute_type = a.compute_type;
  o.asr.batch_size = a.asr_batch_size;
  o.asr.device = a.asr_device;
  o.words.placement = a.reference_quirks ? events::WordPlacement::ReferenceQuirk : events::WordPlacement::Corrected;
  o.words.sentences = events::parse_sentence_source(a.sentences);
  o.words.text_case = events::parse_text_case(a.text_case);
  TRIBEV2_CHECK(a.asr_batch_size > 0, "--asr-batch-size must be positive");
  if (!a.transcript.empty() && !fs::is_regular_file(a.transcript)) fail("--transcript does not exist: ", a.transcript);
  return o;
}

// The options given, as one command line (from CLI11's "name=value" lines).
std::string command_line(const std::string& prefix, const std::string& config) {
  std::string out = prefix;
  std::size_t p = 0;
  while (p < config.size()) {
    const auto nl = config.find('\n', p);
    const std::string line = config.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    p = nl == std::string::npos ? config.size() : nl + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string value = line.substr(eq + 1);
    out += " --" + line.substr(0, eq);
    if (value != "true") out += " " + value;
  }
  return out;
}

// Progress bars (terminal) or plain lines, one per stage; log lines unless --quiet.
pipeline::Observer make_observer(const GlobalOptions& g) {
  pipeline::Observer obs;
  obs.log = [&g](const std::string& line) { log(g, line); };
  obs.progress = [&g](const std::string& label) -> pipeline::ProgressFn {
    auto bar = std::make_shared<Progress>(g, label);
    return [bar](std::int64_t done, std::int64_t total) {
      bar->update(done, total);
      if (done >= total) bar->finish();
    };
  };
  return obs;
}

void add_run_options(CLI::App* cmd, RunArgs& a) {
  cmd->add_option("--model", a.model, "TRIBE v2 model folder (config.yaml + best.ckpt or model.safetensors) or Hub repo id")
      ->capture_default_str();
  cmd->add_option("--llama", a.llama, "Llama-3.2-3B folder or Hub repo id (text features)")->capture_default_str();
  cmd->add_option("--audio-model", a.audio_model, "w2v-bert-2.0 folder or Hub repo id (audio features)")->capture_default_str();
  cmd->add_option("--video-model", a.video_model, "V-JEPA2 folder or Hub repo id (video features)")->capture_default_str();
  cmd->add_option("--mesh-dir", a.mesh_dir, "fsaverage5 meshes for the figures");
  cmd->add_option("--text-features", a.text_features, "Precomputed text features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--audio-features", a.audio_features, "Precomputed audio features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--video-features", a.video_features, "Precomputed video features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--ignore-modality", a.ignore,
                  "Treat a modality as absent (zeros after the projector) although the input has it; repeatable. "
                  "Not what upstream does: recorded in run.json");
  cmd->add_option("--modalities", a.modalities,
                  "Compute only these modalities, e.g. text,audio (default: every modality of the model the input "
                  "has); the others are absent: zeros after the projector, as upstream treats a missing modality")
      ->delimiter(',');
  cmd->add_flag("--no-brain-maps", a.no_brain_maps, "Do not write GIFTI files and figures");
  cmd->add_option("--batch-size", a.batch_size, "Segments per forward pass")->capture_default_str();
  cmd->add_option("--overlap-trs", a.overlap_trs,
                  "Overlapping segments as `predict --overlap-trs` (later segments give their rows after the first K)")
      ->capture_default_str();
  cmd->add_option("--subject", a.subject, "Subject row for per-subject models");
  cmd->add_option("--text-unit-words", a.text_unit_words,
                  "Words per text unit: the text features are computed in ranges of this many words, one cache entry "
                  "and one --shard unit each (give text-features the same value to share its entries)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

pipeline::RunOptions make_run_options(const RunArgs& a, const GlobalOptions& g) {
  pipeline::RunOptions o;
  o.model = a.model;
  o.llama = a.llama;
  o.audio_model = a.audio_model;
  o.video_model = a.video_model;
  o.mesh_dir = a.mesh_dir;
  o.resolve_model = [&g](const fs::path& p, const std::string& role) {
    return resolve_model_arg(g, p.string(), role == "brain"   ? hub::brain_model_files()
                                            : role == "text"  ? hub::llama_files()
                                            : role == "audio" ? hub::audio_model_files()
                                                              : hub::video_model_files());
  };
  o.text_features = a.text_features;
  o.audio_features = a.audio_features;
  o.video_features = a.video_features;
  for (const auto& f : {a.text_features, a.audio_features, a.video_features})
    if (!f.empty() && !fs::is_regular_file(f)) fail("features file does not exist: ", f);
  for (const auto& m : a.ignore)
    if (m != "text" && m != "audio" && m != "video") fail("--ignore-modality must be text, audio or video, got '", m, "'");
  for (const auto& m : a.modalities)
    if (m != "text" && m != "audio" && m != "video") fail("--modalities takes text, audio and video, got '", m, "'");
  o.modalities = a.modalities;
  o.estimate = !g.quiet;  // the compute-time estimate is a message like the others
  o.out = a.out;
  o.cache_dir = a.ev.cache_dir;
  o.recompute = a.ev.recompute;
  o.events = events_options(a.ev);
  o.ignore_modalities = a.ignore;
  o.brain_maps = !a.no_brain_maps;
  o.batch_size = a.batch_size;
  o.overlap_trs = a.overlap_trs;
  o.subject = a.subject;
  o.text_unit_words = a.text_unit_words;
  o.load = g.load_options();
  return o;
}

}  // namespace tribev2::cli

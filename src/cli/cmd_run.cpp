// `tribev2 run` (stimulus -> brain maps), `tribev2 events` (stimulus -> events.tsv) and
// `tribev2 transcribe` (speech recognition only). The work is in the pipeline layer; this
// file parses options and shows progress.
#include <iostream>
#include <memory>

#include "common.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/asr.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/events_json.hpp"
#include "tribev2/pipeline/hash.hpp"
#include "tribev2/pipeline/run.hpp"
#include "tribev2/pipeline/subprocess.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

namespace {

// Options shared by run and events: the stimulus and how its events are built.
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

void add_event_options(CLI::App* cmd, EventArgs& a) {
  cmd->add_option("--text", a.text, "Text stimulus (.txt): spoken with espeak-ng, words timed by the synthesiser");
  cmd->add_option("--audio", a.audio, "Audio stimulus (.wav .mp3 .flac .ogg)");
  cmd->add_option("--video", a.video, "Video stimulus (.mp4 .avi .mkv .mov .webm)");
  cmd->add_option("--transcript", a.transcript,
                  "Word timings for --audio/--video instead of speech recognition: whisperX/whisper .json, a JSON word "
                  "list, or upstream's .tsv transcript cache");
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
};

void register_run_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "From a video, an audio file or a text to brain maps: events -> features -> "
                                        "segmented prediction -> preds.npy, segments.json, events.tsv, run.json");
  add_event_options(cmd, a->ev);
  cmd->add_option("--model", a->model, "TRIBE v2 model folder (config.yaml + best.ckpt or model.safetensors) or Hub repo id")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Output folder")->required();
  cmd->add_option("--llama", a->llama, "Llama-3.2-3B folder or Hub repo id (text features)")->capture_default_str();
  cmd->add_option("--audio-model", a->audio_model, "w2v-bert-2.0 folder or Hub repo id (audio features)")->capture_default_str();
  cmd->add_option("--video-model", a->video_model, "V-JEPA2 folder or Hub repo id (video features)")->capture_default_str();
  cmd->add_option("--mesh-dir", a->mesh_dir, "fsaverage5 meshes for the figures");
  cmd->add_option("--text-features", a->text_features, "Precomputed text features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--audio-features", a->audio_features, "Precomputed audio features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--video-features", a->video_features, "Precomputed video features: 2 Hz [L, D, N] .npy from t = 0");
  cmd->add_option("--ignore-modality", a->ignore,
                  "Treat a modality as absent (zeros after the projector) although the input has it; repeatable. "
                  "Not what upstream does: recorded in run.json");
  cmd->add_option("--modalities", a->modalities,
                  "Compute only these modalities, e.g. text,audio (default: every modality of the model the input "
                  "has); the others are absent: zeros after the projector, as upstream treats a missing modality")
      ->delimiter(',');
  cmd->add_flag("--no-brain-maps", a->no_brain_maps, "Do not write GIFTI files and figures");
  cmd->add_option("--batch-size", a->batch_size, "Segments per forward pass")->capture_default_str();
  cmd->add_option("--overlap-trs", a->overlap_trs,
                  "Overlapping segments as `predict --overlap-trs` (later segments give their rows after the first K)")
      ->capture_default_str();
  cmd->add_option("--subject", a->subject, "Subject row for per-subject models");
  cmd->callback([a, &g, cmd] {
    const pipeline::Stimulus stimulus = pipeline::check_stimulus(a->ev.text, a->ev.audio, a->ev.video);
    pipeline::RunOptions o;
    o.model = a->model;
    o.llama = a->llama;
    o.audio_model = a->audio_model;
    o.video_model = a->video_model;
    o.mesh_dir = a->mesh_dir;
    o.resolve_model = [&g](const fs::path& p, const std::string& role) {
      return resolve_model_arg(g, p.string(), role == "brain"   ? hub::brain_model_files()
                                              : role == "text"  ? hub::llama_files()
                                              : role == "audio" ? hub::audio_model_files()
                                                                : hub::video_model_files());
    };
    o.text_features = a->text_features;
    o.audio_features = a->audio_features;
    o.video_features = a->video_features;
    for (const auto& f : {a->text_features, a->audio_features, a->video_features})
      if (!f.empty() && !fs::is_regular_file(f)) fail("features file does not exist: ", f);
    for (const auto& m : a->ignore)
      if (m != "text" && m != "audio" && m != "video") fail("--ignore-modality must be text, audio or video, got '", m, "'");
    for (const auto& m : a->modalities)
      if (m != "text" && m != "audio" && m != "video") fail("--modalities takes text, audio and video, got '", m, "'");
    o.modalities = a->modalities;
    o.estimate = !g.quiet;  // the compute-time estimate is a message like the others
    o.out = a->out;
    o.cache_dir = a->ev.cache_dir;
    o.recompute = a->ev.recompute;
    o.events = events_options(a->ev);
    o.ignore_modalities = a->ignore;
    o.brain_maps = !a->no_brain_maps;
    o.batch_size = a->batch_size;
    o.overlap_trs = a->overlap_trs;
    o.subject = a->subject;
    o.load = g.load_options();
    o.command_line = command_line("tribev2 run", cmd->config_to_str(false, false));
    pipeline::Cleanup cleanup;
    pipeline::InterruptGuard guard(cleanup, g.quiet);  // before any thread is started
    const Context ctx = g.make_context();
    pipeline::run_pipeline(ctx, stimulus, o, pipeline::available_stages(), cleanup, make_observer(g));
  });
}

void register_events_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<EventArgs>();
  auto out = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("events", "From a stimulus to its events (words with timings, sentences, contexts, "
                                           "media chunks), as upstream's get_events_dataframe");
  add_event_options(cmd, *a);
  cmd->add_option("--out", *out, "events.tsv to write")->required();
  cmd->add_option("--json", *json_out, "Also write the events as JSON");
  cmd->callback([a, out, json_out, &g] {
    const pipeline::Stimulus stimulus = pipeline::check_stimulus(a->text, a->audio, a->video);
    const auto o = events_options(*a);
    pipeline::Cleanup cleanup;
    pipeline::InterruptGuard guard(cleanup, g.quiet);
    const fs::path out_path(*out);
    const fs::path cache_dir = a->cache_dir.empty() ? out_path.parent_path() / "cache" : fs::path(a->cache_dir);
    pipeline::StageCache cache(cache_dir, cleanup, a->recompute);
    const auto built = pipeline::build_events(stimulus, o, cache, cleanup, make_observer(g));
    std::lock_guard lock(cleanup.commit_mutex());
    io::write_text_file_atomic(out_path, events::format_events_tsv(built.events));
    if (!json_out->empty())
      io::write_text_file_atomic(*json_out, pipeline::events_to_json(built.events).dump(1) + "\n");
    log(g, "wrote " + out_path.string() + " (" + std::to_string(built.events.words.size()) + " words)");
  });
}

void register_transcribe_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<EventArgs>();
  auto out = std::make_shared<std::string>();
  auto print_only = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("transcribe", "Speech recognition with word timings (whisperX or whisper), cached by "
                                               "the audio's content hash");
  cmd->add_option("--audio", a->audio, "Audio file")->required();
  cmd->add_option("--out", *out, "Transcript to write: .tsv (upstream's cache format) or .json (the tool's output)")
      ->required();
  cmd->add_option("--language", a->language, "Language code or upstream name")->capture_default_str();
  cmd->add_option("--asr", a->asr, "auto, whisperx or whisper")->capture_default_str();
  cmd->add_option("--asr-model", a->asr_model, "Whisper model")->capture_default_str();
  cmd->add_option("--compute-type", a->compute_type, "whisperX compute type")->capture_default_str();
  cmd->add_option("--asr-batch-size", a->asr_batch_size, "whisperX batch size")->capture_default_str();
  cmd->add_option("--asr-device", a->asr_device, "Device for the recogniser");
  cmd->add_option("--cache-dir", a->cache_dir, "Cache folder (default: <out folder>/cache)");
  cmd->add_flag("--recompute", a->recompute, "Ignore a cached transcript");
  cmd->add_flag("--print-command", *print_only, "Only print the recogniser's command line");
  cmd->callback([a, out, print_only, &g] {
    const auto o = events_options(*a);
    const fs::path out_path(*out);
    const std::string ext = out_path.extension().string();
    if (ext != ".tsv" && ext != ".json") fail("--out must end with .tsv or .json, got '", ext, "'");
    const pipeline::AsrTool tool = pipeline::find_asr_tool(o.asr);
    if (*print_only) {
      std::cout << pipeline::shell_join(pipeline::asr_command(tool, a->audio, "OUTPUT_DIR", o.language, o.asr)) << "\n";
      return;
    }
    if (!fs::is_regular_file(a->audio)) fail("--audio does not exist: ", a->audio);
    pipeline::Cleanup cleanup;
    pipeline::InterruptGuard guard(cleanup, g.quiet);
    const fs::path cache_dir = a->cache_dir.empty() ? out_path.parent_path() / "cache" : fs::path(a->cache_dir);
    pipeline::StageCache cache(cache_dir, cleanup, a->recompute);
    log(g, "transcribe: " + tool.kind + " on " + a->audio);
    const auto r = pipeline::transcribe(a->audio, pipeline::sha256_file(a->audio), o.language, o.asr, cache, cleanup);
    std::lock_guard lock(cleanup.commit_mutex());
    if (ext == ".tsv") io::write_text_file_atomic(out_path, events::format_transcript_tsv(r.transcript.words));
    else io::write_text_file_atomic(out_path, io::read_text_file(r.json));
    log(g, std::string(r.cached ? "cached: " : "") + "wrote " + out_path.string() + " (" +
               std::to_string(r.transcript.words.size()) + " words)");
  });
}

}  // namespace

void register_run(CLI::App& app, GlobalOptions& g) {
  register_run_command(app, g);
  register_events_command(app, g);
  register_transcribe_command(app, g);
}

}  // namespace tribev2::cli

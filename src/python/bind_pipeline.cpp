// The pipeline for Python: stimulus -> events (TribeModel.get_events_dataframe), the whole
// `tribev2 run` (TribeModel.predict), and the three feature extractors on their own.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <algorithm>
#include <random>

#include <pybind11/stl.h>

#include "common.hpp"
#include "hub_options.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/events/event_table.hpp"
#include "tribev2/events/sentences.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/pipeline/build_events.hpp"
#include "tribev2/pipeline/interrupt.hpp"
#include "tribev2/pipeline/run.hpp"
#include "tribev2/pipeline/stages.hpp"

namespace tribev2::python {

namespace fs = std::filesystem;

namespace {

template <class T>
T opt(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) && !d[key].is_none() ? d[key].cast<T>() : fallback;
}

// The events options of `tribev2 events` / `tribev2 run`, from keyword arguments (same names
// as the command-line options, with underscores).
pipeline::EventsOptions events_options(const py::dict& d) {
  static const char* known[] = {"language", "voice", "speech_rate", "transcript", "reference_quirks", "sentences",
                                "text_case", "asr", "asr_model", "compute_type", "asr_batch_size", "asr_device"};
  for (auto [k, v] : d) {
    const std::string key = k.cast<std::string>();
    bool ok = false;
    for (const char* n : known) ok = ok || key == n;
    if (!ok) throw py::type_error("unknown events option '" + key + "'");
  }
  pipeline::EventsOptions o;
  o.language = pipeline::parse_language(opt<std::string>(d, "language", "en"));
  o.voice = opt<std::string>(d, "voice", "");
  o.speech_rate_wpm = opt<int>(d, "speech_rate", 175);
  o.transcript = opt<std::string>(d, "transcript", "");
  o.asr.tool = opt<std::string>(d, "asr", "auto");
  o.asr.model = opt<std::string>(d, "asr_model", "large-v3");
  o.asr.compute_type = opt<std::string>(d, "compute_type", "int8");
  o.asr.batch_size = opt<int>(d, "asr_batch_size", 16);
  o.asr.device = opt<std::string>(d, "asr_device", "");
  o.words.placement = opt<bool>(d, "reference_quirks", false) ? events::WordPlacement::ReferenceQuirk
                                                               : events::WordPlacement::Corrected;
  o.words.sentences = events::parse_sentence_source(opt<std::string>(d, "sentences", "auto"));
  o.words.text_case = events::parse_text_case(opt<std::string>(d, "text_case", "capitalize"));
  TRIBEV2_CHECK(o.asr.batch_size > 0, "asr_batch_size must be positive");
  if (!o.transcript.empty() && !fs::is_regular_file(o.transcript))
    throw py::value_error("transcript does not exist: " + o.transcript.string());
  return o;
}

pipeline::Observer observer(bool show, const std::atomic<bool>& cancel) {
  pipeline::Observer obs;
  if (show) obs.log = [](const std::string& line) { std::fprintf(stderr, "tribev2: %s\n", line.c_str()); };
  obs.progress = [show, &cancel](const std::string& label) -> pipeline::ProgressFn {
    return progress_fn(label, show, cancel);
  };
  return obs;
}

// After an error or Ctrl-C: stop the children (speech recognition) and remove the folders the
// pipeline registered, as the CLI's interrupt watcher does.
template <class F>
auto with_cleanup(pipeline::Cleanup& cleanup, F&& f) {
  try {
    return f();
  } catch (...) {
    std::lock_guard lock(cleanup.commit_mutex());
    cleanup.run_now();
    throw;
  }
}

// A fresh folder for one run's outputs (read back, then removed).
struct RunDir {
  fs::path path;
  explicit RunDir(const fs::path& cache) {
    std::random_device rd;  // a unique name for concurrent calls of this and other processes
    path = cache / "python-runs" / ("run-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ~RunDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
};

std::vector<events::Word> words_of(const py::list& words) {
  std::vector<events::Word> out;
  for (auto item : words) {
    const auto d = item.cast<py::dict>();
    events::Word w;
    w.text = d["text"].cast<std::string>();
    w.start = d["start"].cast<double>();
    w.duration = d["duration"].cast<double>();
    w.context = opt<std::string>(d, "context", "");
    w.sentence = opt<std::string>(d, "sentence", "");
    out.push_back(std::move(w));
  }
  return out;
}

events::MediaEvent media_of(const std::string& type, const py::dict& d) {
  events::MediaEvent e;
  e.type = type;
  e.filepath = d["filepath"].cast<std::string>();
  e.start = opt<double>(d, "start", 0.0);
  e.offset = opt<double>(d, "offset", 0.0);
  e.duration = d["duration"].cast<double>();
  e.frequency = opt<double>(d, "frequency", 0.0);
  if (!fs::is_regular_file(e.filepath)) throw py::value_error(type + " event: file does not exist: " + e.filepath.string());
  return e;
}

// Events from Python ({media: [{type, filepath, start, offset, duration, frequency}], words:
// [{text, start, duration, context, sentence}], spans: [{type, start, duration, text}],
// language}), as TribeModel.predict gets them from a DataFrame. Words are sorted by start, as
// the events transforms leave them.
events::Events events_of(const py::dict& d) {
  events::Events ev;
  if (d.contains("media"))
    for (auto item : d["media"].cast<py::list>()) {
      const auto m = item.cast<py::dict>();
      const std::string type = m["type"].cast<std::string>();
      if (type != "Audio" && type != "Video") throw py::value_error("media event type must be Audio or Video, got '" + type + "'");
      ev.media.push_back(media_of(type, m));
    }
  if (d.contains("words")) ev.words = words_of(d["words"].cast<py::list>());
  std::stable_sort(ev.words.begin(), ev.words.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  if (d.contains("spans"))
    for (auto item : d["spans"].cast<py::list>()) {
      const auto s = item.cast<py::dict>();
      ev.spans.push_back({s["type"].cast<std::string>(), s["start"].cast<double>(), s["duration"].cast<double>(),
                          opt<std::string>(s, "text", "")});
    }
  ev.language = opt<std::string>(d, "language", "english");
  if (ev.media.empty() && ev.words.empty()) throw py::value_error("events: no Audio, Video or Word event to predict from");
  return ev;
}

}  // namespace

void register_pipeline(py::module_& m) {
  m.def(
      "build_events",
      [](const std::string& text_path, const std::string& audio_path, const std::string& video_path,
         const std::string& cache_dir, const py::dict& options, bool recompute, bool progress) {
        const pipeline::Stimulus stimulus = pipeline::check_stimulus(text_path, audio_path, video_path);
        const auto eo = events_options(options);
        return call_interruptible([&](const std::atomic<bool>& cancel) {
          pipeline::Cleanup cleanup;
          return with_cleanup(cleanup, [&] {
            pipeline::StageCache cache(cache_dir, cleanup, recompute);
            const auto built = pipeline::build_events(stimulus, eo, cache, cleanup, observer(progress, cancel));
            std::map<std::string, std::string> out;
            out["tsv"] = events::format_events_tsv(built.events);
            out["stimulus_sha256"] = built.stimulus_sha256;
            out["speech_audio"] = built.speech_audio.string();
            out["transcript_source"] = built.transcript_source;
            out["language"] = built.events.language;
            out["kind"] = pipeline::to_string(stimulus.kind);
            out["path"] = fs::absolute(stimulus.path).string();
            return out;
          });
        });
      },
      py::arg("text_path") = "", py::arg("audio_path") = "", py::arg("video_path") = "", py::kw_only(),
      py::arg("cache_dir"), py::arg("options") = py::dict(), py::arg("recompute") = false, py::arg("progress") = false,
      "`tribev2 events`: the events of one stimulus as events.tsv text, with what they came from.");

  m.def(
      "run",
      [](const std::string& text_path, const std::string& audio_path, const std::string& video_path,
         const std::string& model, const std::string& cache_dir, const std::map<std::string, std::string>& extractors,
         const std::map<std::string, std::string>& feature_files, const std::vector<std::string>& ignore_modalities,
         const py::dict& options, int batch_size, std::optional<std::int64_t> subject, const std::string& subject_mode,
         std::int64_t overlap_trs, bool recompute, int threads, const std::string& precision, bool progress,
         const py::dict& hub, const py::object& given_events) {
        pipeline::RunOptions o;
        pipeline::Stimulus stimulus;
        if (given_events.is_none()) {
          stimulus = pipeline::check_stimulus(text_path, audio_path, video_path);
        } else {
          o.given_events = events_of(given_events.cast<py::dict>());
          stimulus.path = "<events DataFrame>";
        }
        o.model = model;
        auto get = [](const std::map<std::string, std::string>& mm, const char* k) {
          const auto it = mm.find(k);
          return it == mm.end() ? std::string() : it->second;
        };
        for (const auto& [k, v] : extractors)
          if (k != "text" && k != "audio" && k != "video") throw py::value_error("extractor key must be text, audio or video, got '" + k + "'");
        for (const auto& [k, v] : feature_files)
          if (k != "text" && k != "audio" && k != "video") throw py::value_error("features key must be text, audio or video, got '" + k + "'");
        o.llama = get(extractors, "text");
        o.audio_model = get(extractors, "audio");
        o.video_model = get(extractors, "video");
        o.text_features = get(feature_files, "text");
        o.audio_features = get(feature_files, "audio");
        o.video_features = get(feature_files, "video");
        o.cache_dir = cache_dir;
        o.recompute = recompute;
        o.events = events_options(options);
        o.ignore_modalities = ignore_modalities;
        o.brain_maps = false;
        o.batch_size = batch_size;
        o.overlap_trs = overlap_trs;  // checked against the model's segment length by predict
        o.subject = subject;
        if (subject_mode == "auto") o.load.subject_mode = model_io::SubjectMode::Auto;
        else if (subject_mode == "config") o.load.subject_mode = model_io::SubjectMode::Config;
        else if (subject_mode == "average") o.load.subject_mode = model_io::SubjectMode::Average;
        else throw py::value_error("subject_mode must be 'auto', 'config' or 'average', got '" + subject_mode + "'");
        o.command_line = "tribev2 (python) TribeModel.predict";
        // Model options may be Hub ids, resolved (downloaded once) only when a stage needs them,
        // as `tribev2 run` does.
        const hub::HubOptions ho = hub_options(hub);
        o.resolve_model = [ho, progress](const fs::path& p, const std::string& role) {
          hub::ResolveOptions ro;
          ro.include = role_files(role);
          ro.hub = ho;
          ro.progress = hub_progress(progress);
          return hub::resolve_model(p.string(), ro);
        };
        const CallOptions co{threads, precision, progress};
        auto [preds, texts] = call_interruptible([&](const std::atomic<bool>& cancel) {
          const Context ctx = make_context(co);
          pipeline::Cleanup cleanup;
          return with_cleanup(cleanup, [&] {
            RunDir dir(cache_dir);
            o.out = dir.path;
            pipeline::run_pipeline(ctx, stimulus, o, pipeline::available_stages(), cleanup, observer(co.progress, cancel));
            std::map<std::string, std::string> t;
            for (const char* f : {"segments.json", "events.tsv", "run.json"}) t[f] = io::read_text_file(dir.path / f);
            return std::make_pair(io::read_npy(dir.path / "preds.npy").clone(), t);
          });
        });
        py::dict out;
        out["preds"] = to_numpy(preds);
        for (const auto& [k, v] : texts) out[py::str(k)] = v;
        return out;
      },
      py::arg("text_path") = "", py::arg("audio_path") = "", py::arg("video_path") = "", py::kw_only(), py::arg("model"),
      py::arg("cache_dir"), py::arg("extractors") = std::map<std::string, std::string>{},
      py::arg("features") = std::map<std::string, std::string>{},
      py::arg("ignore_modalities") = std::vector<std::string>{}, py::arg("options") = py::dict(),
      py::arg("batch_size") = 8, py::arg("subject") = py::none(), py::arg("subject_mode") = "auto", py::arg("overlap_trs") = 0,
      py::arg("recompute") = false, py::arg("threads") = 0, py::arg("precision") = "f32", py::arg("progress") = false,
      py::arg("hub") = py::dict(), py::arg("events") = py::none(),
      "`tribev2 run --no-brain-maps`: {preds, segments.json, events.tsv, run.json} (outputs read back from a "
      "temporary folder under cache_dir, which is then removed).");

  m.def(
      "text_word_features",
      [](const std::string& model_dir, const py::list& words, int threads, const std::string& precision, bool progress) {
        const auto ws = words_of(words);
        const auto stages = pipeline::available_stages();
        if (!stages.text_word_features) throw py::value_error("the text extractor is not in this build");
        const CallOptions co{threads, precision, progress};
        return to_numpy(call_interruptible([&](const std::atomic<bool>& cancel) {
          const Context ctx = make_context(co);
          return stages.text_word_features(ctx, model_dir, ws, progress_fn("text features", co.progress, cancel));
        }));
      },
      py::arg("model_dir"), py::arg("words"), py::kw_only(), py::arg("threads") = 0, py::arg("precision") = "f32",
      py::arg("progress") = false,
      "Llama 3 features of Word events (dicts with text, start, duration, context): float32 [n_words, L, D].");

  for (const char* type : {"Audio", "Video"}) {
    const std::string t = type;
    m.def(
        t == "Audio" ? "audio_chunk_features" : "video_chunk_features",
        [t](const std::string& model_dir, const py::dict& event, int threads, const std::string& precision, bool progress) {
          const auto ev = media_of(t, event);
          const auto stages = pipeline::available_stages();
          const auto& fn = t == "Audio" ? stages.audio_chunk_features : stages.video_chunk_features;
          if (!fn) throw py::value_error("the " + t + " extractor is not in this build");
          const CallOptions co{threads, precision, progress};
          return to_numpy(call_interruptible([&](const std::atomic<bool>& cancel) {
            const Context ctx = make_context(co);
            return fn(ctx, model_dir, ev, progress_fn(t + " features", co.progress, cancel));
          }));
        },
        py::arg("model_dir"), py::arg("event"), py::kw_only(), py::arg("threads") = 0, py::arg("precision") = "f32",
        py::arg("progress") = false,
        t == "Audio" ? "w2v-BERT features of one Audio event (dict with filepath, start, offset, duration, frequency): "
                       "float32 [L, D, round(2 * duration)] at 2 Hz from the event start."
                     : "V-JEPA2 features of one Video event (dict with filepath, start, offset, duration, frequency): "
                       "float32 [L, D, round(2 * duration)] at 2 Hz from the event start.");
  }
}

}  // namespace tribev2::python

#include "tribev2/pipeline/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/events/transcript.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/pipeline/estimate.hpp"
#include "tribev2/pipeline/feature_store.hpp"
#include "tribev2/pipeline/hash.hpp"
#include "tribev2/pipeline/segment_features.hpp"
#include "tribev2/pipeline/segments_json.hpp"
#include "tribev2/pipeline/tts.hpp"
#include "modality_table.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string short_key(const std::string& key) { return key.substr(0, 12); }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

using detail::modality_row;
using detail::modality_table;
using detail::ModalityRow;

const char* flag_of(const std::string& modality) { return modality_row(modality).features_flag; }

// One modality's input to the brain model and where it came from.
struct ModalityFeatures {
  std::string modality;
  Tensor data;          // [L, D, n_segments * T]
  std::string source;   // extractor | file
  std::string key;      // what the prediction key records for it
};

class Runner {
 public:
  Runner(const Context& ctx, const Stimulus& stimulus, const RunOptions& o, const Stages& stages, Cleanup& cleanup,
         const Observer& obs)
      : ctx_(ctx), stimulus_(stimulus), o_(o), stages_(stages), cleanup_(cleanup), obs_(obs),
        cache_(o.cache_dir.empty() ? o.out / "cache" : o.cache_dir, cleanup, o.recompute), store_(ctx, cache_) {}

  RunResult run();

 private:
  void record(StageRecord r) {
    obs_.say(r.name + ": " + r.status + (r.detail.empty() ? "" : " (" + r.detail + ")") +
             (r.key.empty() || r.status == "from-file" ? "" : " [key " + short_key(r.key) + "]"));
    result_.stages.push_back(std::move(r));
  }
  void load_model();
  // A modality to compute: from a file (non-empty `file`) or its extractor.
  struct Planned {
    std::string modality;
    fs::path file;
    std::pair<std::int64_t, std::int64_t> ld;
  };
  std::vector<ModalityFeatures> modality_features();
  void print_estimate(const std::vector<Planned>& planned);
  std::vector<events::MediaEvent> chunks_of(const std::string& modality) const;
  std::string media_key(const std::string& modality, const events::MediaEvent& chunk);
  ModalityFeatures from_file(const std::string& modality, const fs::path& file, std::pair<std::int64_t, std::int64_t> ld);
  ModalityFeatures text_from_extractor();
  ModalityFeatures media_from_extractor(const std::string& modality);
  void predict(const std::vector<ModalityFeatures>& feats);
  void write_outputs();
  void check_dims(const std::string& modality, const Tensor& t, std::pair<std::int64_t, std::int64_t> ld,
                  const std::string& what) const;

  const Context& ctx_;
  const Stimulus& stimulus_;
  RunOptions o_;  // a copy: model ids are replaced by the folders they resolve to
  const Stages& stages_;
  Cleanup& cleanup_;
  const Observer& obs_;
  StageCache cache_;
  FeatureStore store_;  // the extractors' entries in cache_ (shared with the extractor commands)
  RunResult result_;

  model_io::LoadedModel model_;
  std::string brain_fp_;
  BuiltEvents built_;
  double t0_ = 0.0, t_stop_ = 0.0;
  std::vector<model::SegmentPlan> segments_;
  std::map<std::string, std::string> modality_status_;
  fs::path preds_entry_;
  json prediction_meta_;
  std::vector<std::string> notes_;

  // Work units (--shard / gather): collected instead of computed while planning_.
  struct Unit {
    std::string name, stage, key;
    double cost = 0.0;
    std::function<void()> compute;  // computes and stores the entry
  };
  bool planning_ = false;
  std::vector<Unit> units_;
  RunResult run_units();
};

void Runner::load_model() {
  const double t = now_s();
  if (o_.resolve_model) o_.model = o_.resolve_model(o_.model, "brain");
  model_ = model_io::load_brain_model(o_.model, o_.load);
  Sha256 h;
  for (const auto& p : {model_.files.weights, model_.files.config, model_.files.build_args})
    if (!p.empty()) h.update(p.filename().string() + ":" + fingerprint_path(p) + "\n");
  brain_fp_ = h.hex();
  std::string mods;
  for (const auto& fd : model_.model->build_args().feature_dims) mods += (mods.empty() ? "" : ", ") + fd.modality;
  record({"model", "loaded", now_s() - t, brain_fp_,
          model_.files.weights.filename().string() + ", modalities " + mods + ", " +
              std::to_string(model_.model->n_outputs()) + " outputs"});
}

void Runner::check_dims(const std::string& modality, const Tensor& t, std::pair<std::int64_t, std::int64_t> ld,
                        const std::string& what) const {
  if (t.ndim() != 3 || t.dim(0) != ld.first || t.dim(1) != ld.second)
    fail(what, ": features for '", modality, "' must be [", ld.first, ", ", ld.second, ", N] for this model, got ",
         shape_str(t.shape()));
}

ModalityFeatures Runner::from_file(const std::string& modality, const fs::path& file,
                                   std::pair<std::int64_t, std::int64_t> ld) {
  const double t = now_s();
  Tensor data = load_timeline_file(file, modality);
  check_dims(modality, data, ld, file.string());
  const double f = model_.data.frequency;
  const std::int64_t n = data.dim(-1);
  const std::int64_t expected = static_cast<std::int64_t>(features::py_round(f * t_stop_));
  // A timeline from t = 0 at f Hz. Longer than the stimulus means another stimulus; audio and
  // video features cover the whole stimulus (text timelines may stop at the last word).
  if (n > expected + 2)
    fail(file.string(), ": ", n, " steps at ", f, " Hz (", n / f, " s) but the stimulus lasts ", t_stop_,
         " s: these features belong to another input");
  if (modality_row(modality).covers_whole_stimulus && n + 2 < expected)
    fail(file.string(), ": ", n, " steps at ", f, " Hz (", n / f, " s) but the stimulus lasts ", t_stop_,
         " s: too short for ", modality, " features");
  const std::string sha = sha256_file(file);
  const Tensor segs = segment_event_arrays({EventArray{0.0, static_cast<double>(n) / f, 0.0, data}}, segments_, f);
  record({modality + " features", "from-file", now_s() - t, sha, file.string() + " " + shape_str(data.shape())});
  return {modality, segs, "file", "file:" + sha};
}

std::vector<events::MediaEvent> Runner::chunks_of(const std::string& modality) const {
  const ModalityRow& row = modality_row(modality);
  TRIBEV2_CHECK(row.is_media(), "chunks_of: '", modality, "' is not carried by media chunks");
  std::vector<events::MediaEvent> chunks;
  for (const auto& m : built_.events.media)
    if (m.type == row.media_type) chunks.push_back(m);
  return chunks;
}

std::string Runner::media_key(const std::string& modality, const events::MediaEvent& c) {
  const ModalityRow& row = modality_row(modality);
  return store_.media_key(modality, o_.*row.model, stages_.*row.id, c);
}

ModalityFeatures Runner::text_from_extractor() {
  const double t = now_s();
  const auto& words = built_.events.words;
  // The word list in ranges of o_.text_unit_words (feature_store.hpp): each range is one cache
  // entry and one shard unit, computed alone in a sharded run and in a single run alike, so
  // both give the same bits.
  const auto ranges = text_ranges(words.size(), o_.text_unit_words);
  const ProgressFn bar = planning_ ? ProgressFn{} : obs_.bar("text features");
  // FeatureStore::text_words checks the result's shape against the range before storing it.
  const auto compute_range = [this](const std::vector<events::Word>& sub, const ProgressFn& progress) {
    return stages_.text_word_features(ctx_, o_.llama, sub, progress);
  };
  if (planning_) {
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      auto sub = range_of(words, ranges[i]);
      const std::string key = store_.text_key(o_.llama, stages_.text_id, sub);
      keys.push_back(key);
      const std::string name = "text words " + std::to_string(ranges[i].first + 1) + "-" +
                               std::to_string(ranges[i].second) + "/" + std::to_string(words.size());
      units_.push_back({name, "text-features", key, 7.0 * static_cast<double>(sub.size()),
                        [this, sub = std::move(sub), compute_range] {
                          (void)store_.text_words(o_.llama, stages_.text_id, sub,
                                                  [&] { return compute_range(sub, ProgressFn{}); });
                        }});
    }
    return {"text", Tensor(), "extractor", sha256_hex(json(keys).dump())};
  }
  obs_.say("text features: " + std::to_string(words.size()) + " words in " + std::to_string(ranges.size()) +
           " unit(s) of at most " + std::to_string(o_.text_unit_words) + " words, through " + o_.llama.string());
  const auto r = store_.text_in_ranges(o_.llama, stages_.text_id, words, o_.text_unit_words, compute_range, bar);
  const std::string key = sha256_hex(json(r.keys).dump());
  const Tensor segs = segment_word_features(r.data, words, segments_, model_.data.frequency);
  record({"text features", r.computed ? "computed" : "cached", now_s() - t, key,
          std::to_string(words.size()) + " words -> " + shape_str(r.data.shape()) + ", " + std::to_string(r.ranges) +
              " unit(s), " + std::to_string(r.computed) + " computed"});
  return {"text", segs, "extractor", key};
}

ModalityFeatures Runner::media_from_extractor(const std::string& modality) {
  const double t = now_s();
  const ModalityRow& row = modality_row(modality);
  const fs::path& model_dir = o_.*row.model;
  const auto& fn = stages_.*row.chunk_features;
  std::vector<EventArray> arrays;
  std::vector<std::string> keys;
  std::size_t computed = 0;
  const std::vector<events::MediaEvent> chunks = chunks_of(modality);
  const ProgressFn bar = obs_.bar(modality + " features");
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    const std::string key = media_key(modality, c);
    auto compute = [this, &fn, &model_dir, c, modality, key] {
      return store_.store_media(modality, key, c, fn(ctx_, model_dir, c, ProgressFn{}));
    };
    if (planning_) {
      units_.push_back({modality + " chunk " + std::to_string(i + 1) + "/" + std::to_string(chunks.size()) + " [" +
                            fmt_seconds(c.start) + ", " + fmt_seconds(c.start + c.duration) + ") s",
                        modality + "-features", key, row.cost_per_second * c.duration,
                        [compute] { (void)compute(); }});
      keys.push_back(key);
      continue;
    }
    auto dir = store_.find(modality, key);
    if (!dir) {
      ++computed;
      dir = compute();
    }
    arrays.push_back({c.start, c.duration, c.start, FeatureStore::read_media(*dir)});
    keys.push_back(key);
    if (bar) bar(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(chunks.size()));
  }
  const std::string key = sha256_hex(json(keys).dump());
  if (planning_) return {modality, Tensor(), "extractor", key};
  const Tensor segs = segment_event_arrays(arrays, segments_, model_.data.frequency);
  record({modality + " features", computed ? "computed" : "cached", now_s() - t, key,
          std::to_string(chunks.size()) + " chunk(s), " + std::to_string(computed) + " computed"});
  return {modality, segs, "extractor", key};
}

std::vector<ModalityFeatures> Runner::modality_features() {
  std::vector<ModalityFeatures> out;
  std::vector<Planned> planned;
  const auto& events = built_.events;
  std::map<std::string, fs::path> files;
  for (const auto& row : modality_table()) files[row.name] = o_.*row.features;
  const auto& use = model_.data.features_to_use;
  for (const auto& [m, f] : files) {
    const bool model_has = model_.model->feature_dims(m) != nullptr;
    if (!f.empty() && !model_has) fail(flag_of(m), " given, but the model has no '", m, "' modality");
  }
  for (const auto& fd : model_.model->build_args().feature_dims) {
    const std::string& m = fd.modality;
    const auto fit = files.find(m);
    const fs::path file = fit == files.end() ? fs::path() : fit->second;
    if (!fd.layers_dim) {
      modality_status_[m] = "masked in the model";
      continue;
    }
    if (std::find(use.begin(), use.end(), m) == use.end()) {
      modality_status_[m] = "not in data.features_to_use";
      continue;
    }
    if (std::find(o_.ignore_modalities.begin(), o_.ignore_modalities.end(), m) != o_.ignore_modalities.end()) {
      modality_status_[m] = "ignored (--ignore-modality): zeros after the projector";
      notes_.push_back("'" + m + "' was treated as absent on request (--ignore-modality); upstream would use it");
      record({m + " features", "skipped", 0.0, "", "--ignore-modality"});
      continue;
    }
    const ModalityRow& row = modality_row(m);
    const bool present = row.is_media() ? events.has(row.media_type) : !events.words.empty();
    // (A modality the input lacks is reported as missing below, whatever --modalities says.)
    if (present && !o_.modalities.empty() &&
        std::find(o_.modalities.begin(), o_.modalities.end(), m) == o_.modalities.end()) {
      if (!file.empty()) fail(flag_of(m), " given, but --modalities leaves '", m, "' out");
      modality_status_[m] = "skipped (--modalities): zeros after the projector";
      notes_.push_back("'" + m + "' was left out on request (--modalities " + join(o_.modalities, ",") +
                       "); upstream would use it");
      record({m + " features", "skipped", 0.0, "", "--modalities"});
      continue;
    }
    if (!present) {
      if (!file.empty())
        fail(flag_of(m), " given, but the input has no ", row.carried_by,
             " events (upstream drops the extractor then); remove the option");
      modality_status_[m] = "missing (no " + m + " events): zeros after the projector, as upstream";
      record({m + " features", "skipped", 0.0, "", "no " + m + " events: missing, as upstream"});
      continue;
    }
    const auto ld = *fd.layers_dim;
    if (file.empty()) {
      const bool have = row.is_media() ? static_cast<bool>(stages_.*row.chunk_features)
                                       : static_cast<bool>(stages_.text_word_features);
      if (!have)
        fail(m, " features: ", row.extractor, " is not available in this build. Pass ", flag_of(m),
             " F.npy (a 2 Hz [L, D, N] timeline from t = 0, e.g. from `tribev2 ", m, "-features`), or --ignore-modality ",
             m, " to treat it as absent (not what upstream does)");
      fs::path& dir = o_.*row.model;
      if (dir.empty())
        fail(m, " features: pass ", row.model_flag, " DIR (the model folder) or ", flag_of(m), " F.npy");
      if (o_.resolve_model) {
        try {
          dir = o_.resolve_model(dir, m);
        } catch (const Error& e) {
          fail(m, " features: ", row.model_flag, " ", dir.string(), ": ", e.what(), " (or pass ", flag_of(m),
               " F.npy)");
        }
      }
    }
    planned.push_back({m, file, ld});
  }
  if (planned.empty() && !planning_) fail("nothing to predict from: no modality of the model has features for this input");
  if (o_.estimate && !planning_) print_estimate(planned);
  for (const auto& p : planned) {
    ModalityFeatures mf;
    if (!p.file.empty()) {
      mf = from_file(p.modality, p.file, p.ld);
    } else {
      mf = modality_row(p.modality).is_media() ? media_from_extractor(p.modality) : text_from_extractor();
      if (!planning_) check_dims(p.modality, mf.data, p.ld, p.modality + " extractor");
    }
    modality_status_[p.modality] = "from " + mf.source;
    out.push_back(std::move(mf));
  }
  return out;
}

void Runner::print_estimate(const std::vector<Planned>& planned) {
  std::vector<StageEstimate> stages;
  for (const auto& p : planned) {
    if (!p.file.empty()) continue;
    const std::string& m = p.modality;
    const ModalityRow& row = modality_row(m);
    try {
      if (!row.is_media()) {
        if (!stages_.text_estimate) continue;
        const auto& words = built_.events.words;
        std::vector<events::Word> todo;
        for (const auto& r : text_ranges(words.size(), o_.text_unit_words)) {
          const auto sub = range_of(words, r);
          if (!store_.find("text", store_.text_key(o_.llama, stages_.text_id, sub))) todo.insert(todo.end(), sub.begin(), sub.end());
        }
        if (!todo.empty()) stages.push_back(stages_.text_estimate(o_.llama, todo));
      } else {
        const auto& fn = stages_.*row.chunk_estimate;
        if (!fn) continue;
        std::vector<double> todo;
        for (const auto& c : chunks_of(m))
          if (!store_.find(m, media_key(m, c))) todo.push_back(c.duration);
        if (!todo.empty()) stages.push_back(fn(o_.*row.model, todo));
      }
    } catch (const Error& e) {
      obs_.say("estimate: " + m + " features: not estimated (" + e.what() + ")");
    }
  }
  const double gflops = calibrate_gemm_gflops(ctx_);
  estimate_seconds(stages, gflops, ctx_.precision());
  for (const auto& line : format_estimate(stages, gflops, ctx_.threads())) obs_.say(line);
}

void Runner::predict(const std::vector<ModalityFeatures>& feats) {
  const double t = now_s();
  const double duration = t_stop_ - t0_;
  json mods = json::object();
  for (const auto& f : feats) mods[f.modality] = f.key;
  const auto& d = model_.data;
  const std::string key = CacheKey("predict")
                              .precision(ctx_)
                              .set("format", kPipelineFormat)
                              .set("tribev2", tribev2_version())
                              .set("brain_model", brain_fp_)
                              .set("subject_mode", static_cast<int>(o_.load.subject_mode))
                              .set("subject", o_.subject ? *o_.subject : -1)
                              .set("batch_size", o_.batch_size)
                              .set("overlap_trs", o_.overlap_trs)
                              .set("t0", t0_)
                              .set("duration", duration)
                              .set("data", {d.frequency, d.duration_trs, d.neuro_frequency})
                              .set("modalities", mods)
                              .hex();
  std::string status = "cached";
  auto dir = cache_.find("predict", key);
  if (!dir) {
    status = "computed";
    std::vector<model::FeatureSeries> series;
    for (const auto& f : feats) series.push_back({f.modality, f.data});
    model::PredictOptions po;
    po.duration = duration;
    po.batch_size = o_.batch_size;
    po.overlap_trs = o_.overlap_trs;
    po.segment_major_input = true;  // the features were built per segment window
    po.subject = o_.subject;
    po.progress = obs_.bar("predict");
    const model::Prediction p = model::predict(ctx_, *model_.model, d, series, po);
    // predict() plans from t = 0; the timeline starts at t0 (section 5): same segments and
    // rows, shifted by t0 (also the rows kept: a < t0 + duration <=> i < duration).
    const auto rows = model::plan_rows(segments_, duration, d, t0_);
    TRIBEV2_CHECK(rows.size() == p.rows.size() && p.segments.size() == segments_.size(),
                  "internal: row plans differ (", rows.size(), " vs ", p.rows.size(), ")");
    json meta;
    meta["t0"] = t0_;
    meta["t_stop"] = t_stop_;
    meta["duration"] = duration;
    meta["overlap_trs"] = o_.overlap_trs;
    auto& segs = meta["segments"] = json::array();
    for (const auto& s : segments_)
      segs.push_back({{"start", s.start}, {"duration", s.duration}, {"first_step", s.step0}, {"steps", s.steps},
                      {"first_row_used", s.skip_trs}});
    auto& rj = meta["rows"] = json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) rj.push_back({{"row", i}, {"start", rows[i].start}, {"end", rows[i].end}});
    meta["shape"] = p.preds.shape();
    dir = cache_.store("predict", key, meta, [&](const fs::path& dd) { io::write_npy(dd / "preds.npy", p.preds); });
  }
  preds_entry_ = *dir;
  prediction_meta_ = io::read_json_object(*dir / "entry.json");
  result_.n_rows = prediction_meta_.at("rows").size();
  record({"predict", status, now_s() - t, key,
          std::to_string(result_.n_rows) + " rows of 1 TR from " + std::to_string(segments_.size()) + " segment(s)"});
}

void Runner::write_outputs() {
  const double t = now_s();
  const fs::path out = o_.out;
  const auto& d = model_.data;
  // The segments are this run's plan; the rows follow from it (the same as the cached entry's).
  const double duration = prediction_meta_["duration"].get<double>();
  const SegmentsInfo seg{segments_, model::plan_rows(segments_, duration, d, t0_), duration, t0_, o_.overlap_trs};
  TRIBEV2_CHECK(seg.rows.size() == prediction_meta_["rows"].size(), "internal: the cached prediction has ",
                prediction_meta_["rows"].size(), " rows, the plan ", seg.rows.size());
  const std::vector<std::byte> preds_bytes = io::read_file(preds_entry_ / "preds.npy");
  std::vector<fs::path> written;
  {
    std::lock_guard lock(cleanup_.commit_mutex());
    std::error_code ec;
    fs::create_directories(out, ec);
    io::write_file_atomic(out / "preds.npy", preds_bytes);
    write_segments_json(out / "segments.json", seg, d);
    io::write_text_file_atomic(out / "events.tsv", events::format_events_tsv(built_.events));
    io::write_text_file_atomic(out / "transcript.tsv", events::format_transcript_tsv(built_.transcript));
    written = {out / "preds.npy", out / "segments.json", out / "events.tsv", out / "transcript.tsv"};
    if (stimulus_.kind == StimulusKind::Text && !built_.speech_audio.empty()) {
      io::write_file_atomic(out / "speech.wav", io::read_file(built_.speech_audio));
      written.push_back(out / "speech.wav");
    }
  }
  result_.outputs = written;
  record({"outputs", "written", now_s() - t, "", std::to_string(written.size()) + " files in " + out.string()});

  if (!o_.brain_maps) {
    record({"brain maps", "skipped", 0.0, "", "--no-brain-maps"});
    return;
  }
  if (!stages_.brain_maps) {
    notes_.push_back("GIFTI files and figures were not written: the visualisation layer is not in this build");
    record({"brain maps", "unavailable", 0.0, "",
            "GIFTI files and figures skipped: the visualisation layer is not in this build (use --no-brain-maps to "
            "silence this)"});
    return;
  }
  const double tv = now_s();
  const Tensor preds = io::read_npy(preds_entry_ / "preds.npy");
  std::vector<double> starts;
  for (const auto& r : prediction_meta_["rows"]) starts.push_back(r["start"].get<double>());
  // Cached like every stage: the files are made in the cache entry, then copied to `out`.
  std::error_code ec;
  const std::string key =
      CacheKey("brain-maps")
          .precision_independent()  // drawing; the predictions' precision is in their entry's name
          .set("format", kPipelineFormat)
          .set("tribev2", tribev2_version())
          .set("viz", stages_.viz_id)
          .set("predictions", preds_entry_.filename().string())
          .set("mesh_dir", o_.mesh_dir.empty() ? std::string() : fs::absolute(o_.mesh_dir, ec).string())
          .set("inputs", stages_.brain_maps_inputs ? stages_.brain_maps_inputs(o_.mesh_dir) : std::string())
          .hex();
  std::string status = "cached";
  auto dir = cache_.find("brain-maps", key);
  if (!dir) {
    status = "computed";
    std::string note;
    dir = cache_.store("brain-maps", key, json::object(), [&](const fs::path& dd) {
      const auto files = stages_.brain_maps(ctx_, preds, starts, dd, o_.mesh_dir, obs_.bar("brain maps"), note);
      json names = json::array();
      for (const auto& f : files) names.push_back(fs::relative(f, dd).string());
      io::write_text_file_atomic(dd / "brain_maps.json", json{{"files", names}, {"note", note}}.dump(1));
    });
  }
  const json listing = io::read_json_object(*dir / "brain_maps.json");
  std::vector<fs::path> files;
  for (const auto& f : listing["files"]) {
    const fs::path rel = f.get<std::string>();
    io::write_file_atomic(out / rel, io::read_file(*dir / rel));
    files.push_back(out / rel);
  }
  const std::string note = listing.value("note", "");
  if (!note.empty()) notes_.push_back(note);
  if (files.empty()) status = "skipped";
  result_.outputs.insert(result_.outputs.end(), files.begin(), files.end());
  record({"brain maps", status, now_s() - tv, key,
          std::to_string(files.size()) + " files" + (note.empty() ? "" : "; " + note)});
}

RunResult Runner::run_units() {
  std::vector<double> costs;
  for (const auto& u : units_) costs.push_back(u.cost);
  const int n = o_.shard ? o_.shard->count : o_.gather_shards;
  const std::vector<int> assigned = assign_shards(costs, n);
  json missing = json::array();
  std::string missing_text;
  std::set<int> missing_shards;
  std::size_t done = 0;
  const fs::path report_dir = o_.out / ".shards";
  for (std::size_t i = 0; i < units_.size(); ++i) {
    const Unit& u = units_[i];
    const bool mine = o_.shard && assigned[i] == o_.shard->index;
    std::string status = cache_.find(u.stage, u.key) ? "cached" : "missing";
    if (mine && status == "missing") {
      const double t = now_s();
      obs_.say("unit " + u.name + " (shard " + o_.shard->str() + "): computing");
      u.compute();
      status = "computed";
      record({u.name, status, now_s() - t, u.key, "shard " + o_.shard->str()});
    } else if (mine) {
      record({u.name, status, 0.0, u.key, "shard " + o_.shard->str()});
    } else if (o_.shard && status == "missing") {
      status = "other-shard";
    }
    if (mine) ++done;
    if (status == "missing") {
      missing.push_back({{"unit", u.name}, {"shard", assigned[i]}, {"stage", u.stage}, {"key", u.key}});
      missing_text += "\n  " + u.name + " (shard " + std::to_string(assigned[i]) + "/" + std::to_string(n) + ")";
      missing_shards.insert(assigned[i]);
    }
    result_.units.push_back({{"unit", u.name}, {"shard", assigned[i]}, {"stage", u.stage}, {"key", u.key},
                             {"cost", u.cost}, {"status", status}});
  }
  std::error_code ec;
  fs::create_directories(report_dir, ec);
  if (o_.shard) {
    const json report = {{"shard", o_.shard->index}, {"count", o_.shard->count}, {"units", result_.units},
                         {"finished", utc_now_iso()}};
    std::lock_guard lock(cleanup_.commit_mutex());
    io::write_text_file_atomic(report_dir / (std::to_string(o_.shard->index) + "-of-" + std::to_string(n) + ".json"),
                               report.dump(1) + "\n");
    obs_.say("shard " + o_.shard->str() + ": " + std::to_string(done) + " of " + std::to_string(units_.size()) +
             " unit(s) of this stimulus are this shard's; the plain run assembles the outputs from the cache");
    return result_;
  }
  {
    std::lock_guard lock(cleanup_.commit_mutex());
    if (missing.empty()) fs::remove(report_dir / "missing.json", ec);
    else
      io::write_text_file_atomic(report_dir / "missing.json",
                                 json{{"count", n}, {"shards", missing_shards}, {"units", missing}}.dump(1) + "\n");
  }
  if (!missing.empty())
    fail(missing.size(), " of ", units_.size(), " unit(s) are not in the cache ", cache_.root().string(), ":",
         missing_text, "\nrerun those shards (`tribev2 batch-status ", o_.out.string(),
         " --resume`, or `tribev2 run ... --shard K/", n, "`), or run without --gather to compute them here");
  obs_.say("gather: all " + std::to_string(units_.size()) + " unit(s) are in the cache");
  return result_;
}

RunResult Runner::run() {
  const double start = now_s();
  load_model();
  // A bad --overlap-trs fails here, before any event or feature stage runs.
  (void)model::plan_segments(1.0, model_.data, 0.0, o_.overlap_trs);
  if (o_.given_events) {
    built_.events = *o_.given_events;
    built_.transcript_source = "events given by the caller";
    record({"events", "given", 0.0, "", std::to_string(built_.events.words.size()) + " words, " +
                                            std::to_string(built_.events.media.size()) + " media events"});
  } else {
    built_ = build_events(stimulus_, o_.events, cache_, cleanup_, obs_);
    if (stimulus_.kind != StimulusKind::Text) store_.know_sha256(fs::absolute(stimulus_.path), built_.stimulus_sha256);
  }
  for (auto& s : built_.stages) result_.stages.push_back(s);
  const auto& ev = built_.events;
  t0_ = ev.start();
  t_stop_ = ev.stop();
  TRIBEV2_CHECK(t_stop_ > t0_, "the stimulus timeline is empty ([", t0_, ", ", t_stop_, ") s)");
  segments_ = model::plan_segments(t_stop_ - t0_, model_.data, t0_, o_.overlap_trs);
  if (o_.shard || o_.gather_shards > 0) {
    const std::size_t n_records = result_.stages.size();
    planning_ = true;
    (void)modality_features();
    planning_ = false;
    modality_status_.clear();
    notes_.clear();
    result_.stages.resize(n_records);  // the planning pass's records (skipped, from-file)
    if (o_.shard) return run_units();
    (void)run_units();  // gather: fails when a unit is missing
  }
  const auto feats = modality_features();
  predict(feats);
  write_outputs();

  bool recomputed = false;
  for (const auto& s : result_.stages)
    if (s.status == "computed") recomputed = true;
  result_.nothing_recomputed = !recomputed;

  json run;
  run["tribev2_version"] = tribev2_version();
  run["command"] = o_.command_line;
  if (o_.given_events)
    run["input"] = {{"kind", "events"}, {"path", stimulus_.path.string()}};
  else
    run["input"] = {{"kind", to_string(stimulus_.kind)},
                    {"path", fs::absolute(stimulus_.path).string()},
                    {"sha256", built_.stimulus_sha256}};
  run["models"] = {{"brain", {{"path", o_.model.string()}, {"fingerprint", brain_fp_}}},
                   {"llama", o_.llama.string()},
                   {"audio_model", o_.audio_model.string()},
                   {"video_model", o_.video_model.string()}};
  json files = json::object();
  for (const auto& row : modality_table())
    if (const fs::path& p = o_.*row.features; !p.empty())
      files[row.name] = {{"path", p.string()}, {"sha256", sha256_file(p)}};
  run["feature_files"] = files;
  run["modalities"] = modality_status_;
  {
    json used = json::array();
    for (const auto& [m, st] : modality_status_)
      if (st.rfind("from ", 0) == 0) used.push_back(m);
    run["modalities_used"] = used;
  }
  run["transcript"] = {{"source", built_.transcript_source}, {"command", built_.transcript_command},
                       {"words", built_.transcript.size()}};
  run["events"] = {{"words", ev.words.size()},
                   {"sentences_from", events::to_string(built_.words_report.sentences_used)},
                   {"t0", t0_},
                   {"t_stop", t_stop_},
                   {"language", ev.language}};
  run["options"] = {{"reference_quirks", o_.events.words.placement == events::WordPlacement::ReferenceQuirk},
                    {"sentences", events::to_string(o_.events.words.sentences)},
                    {"text_case", events::to_string(o_.events.words.text_case)},
                    {"language", o_.events.language.code},
                    {"batch_size", o_.batch_size},
                    {"overlap_trs", o_.overlap_trs},
                    {"ignore_modalities", o_.ignore_modalities},
                    {"modalities", o_.modalities},
                    {"asr", {{"tool", o_.events.asr.tool}, {"model", o_.events.asr.model},
                             {"compute_type", o_.events.asr.compute_type}, {"batch_size", o_.events.asr.batch_size}}}};
  run["versions"] = {{"tribev2", tribev2_version()}, {"pipeline_format", kPipelineFormat}};
  if (stimulus_.kind == StimulusKind::Text && !o_.given_events) run["versions"]["tts"] = espeak_version();
  json stages = json::array();
  for (const auto& s : result_.stages)
    stages.push_back({{"name", s.name}, {"status", s.status}, {"seconds", s.seconds}, {"key", s.key}, {"detail", s.detail}});
  run["stages"] = stages;
  run["cache_dir"] = fs::absolute(cache_.root()).string();
  run["precision"] = io::precision_name(ctx_.precision());
  run["nothing_recomputed"] = result_.nothing_recomputed;
  run["n_rows"] = result_.n_rows;
  run["notes"] = notes_;
  json outs = json::array();
  for (const auto& p : result_.outputs) outs.push_back(p.filename().string());
  outs.push_back("run.json");
  run["outputs"] = outs;
  run["total_seconds"] = now_s() - start;
  {
    std::lock_guard lock(cleanup_.commit_mutex());
    io::write_text_file_atomic(o_.out / "run.json", run.dump(1) + "\n");
  }
  result_.outputs.push_back(o_.out / "run.json");
  obs_.say(result_.nothing_recomputed ? "done: every stage came from the cache; nothing was recomputed (" +
                                            fmt_seconds(now_s() - start) + " s)"
                                      : "done in " + fmt_seconds(now_s() - start) + " s: " + std::to_string(result_.n_rows) +
                                            " rows -> " + o_.out.string());
  return result_;
}

}  // namespace

Tensor load_timeline_file(const fs::path& path, const std::string& modality) {
  if (path.extension() == ".bin") fail(path.string(), ": raw .bin features are not accepted here (use .npy or .npz)");
  Tensor t = io::read_feature_file(path, modality);
  for (float v : std::as_const(t).f32())
    if (!std::isfinite(v)) fail(path.string(), ": features contain NaN or Inf");
  return t;
}

RunResult run_pipeline(const Context& ctx, const Stimulus& stimulus, const RunOptions& options, const Stages& stages,
                       Cleanup& cleanup, const Observer& observer) {
  TRIBEV2_CHECK(!options.out.empty(), "--out is required");
  TRIBEV2_CHECK(options.batch_size > 0, "--batch-size must be positive");
  TRIBEV2_CHECK(!(options.shard && options.gather_shards > 0), "--shard and gather are exclusive");
  Runner r(ctx, stimulus, options, stages, cleanup, observer);
  return r.run();
}

}  // namespace tribev2::pipeline

// `tribev2 run` (stimulus -> brain maps), `tribev2 events` (stimulus -> events.tsv) and
// `tribev2 transcribe` (speech recognition only). The work is in the pipeline layer; this
// file parses options and shows progress.
#include <iostream>
#include <memory>

#include "common.hpp"
#include "run_args.hpp"
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

void register_run_command(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "From a video, an audio file or a text to brain maps: events -> features -> "
                                        "segmented prediction -> preds.npy, segments.json, events.tsv, run.json");
  add_event_options(cmd, a->ev);
  cmd->add_option("--out", a->out, "Output folder")->required();
  add_run_options(cmd, *a);
  auto shard = std::make_shared<std::string>();
  auto gather = std::make_shared<int>(0);
  auto slurm = std::make_shared<SlurmArgs>();
  cmd->add_option("--shard", *shard,
                  "K/N or auto ($SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT): compute only the feature units "
                  "(text stage, audio chunks, video chunks) of shard K of N into the cache, then stop; a plain run "
                  "afterwards assembles the outputs (docs/cluster.md)");
  cmd->add_option("--gather", *gather,
                  "N: compute no feature unit; fail naming the units (and shards of N) not in the cache, else "
                  "assemble the outputs");
  add_slurm_options(cmd, *slurm, "shards (array tasks); default 4");
  cmd->callback([a, shard, gather, slurm, &g, cmd] {
    const pipeline::Stimulus stimulus = pipeline::check_stimulus(a->ev.text, a->ev.audio, a->ev.video);
    pipeline::RunOptions o = make_run_options(*a, g);
    o.out = a->out;
    o.command_line = command_line("tribev2 run", cmd->config_to_str(false, false));
    if (slurm->slurm) {
      submit_run_slurm(g, *a, *slurm);
      return;
    }
    if (!shard->empty()) o.shard = pipeline::parse_shard(*shard, pipeline::process_env());
    o.gather_shards = *gather;
    if (*gather < 0) fail("--gather must be a positive number of shards");
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

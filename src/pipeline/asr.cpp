#include "tribev2/pipeline/asr.hpp"

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/pipeline/subprocess.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

AsrTool find_asr_tool(const AsrOptions& options) {
  const std::string& t = options.tool;
  if (t != "auto" && t != "whisperx" && t != "whisper")
    fail("--asr must be auto, whisperx or whisper, got '", t, "'");
  for (const char* kind : {"whisperx", "whisper"}) {
    if (t != "auto" && t != kind) continue;
    if (auto exe = find_executable(kind)) return {kind, *exe};
  }
  const std::string which = t == "auto" ? "neither whisperx nor whisper is" : "'" + t + "' is not";
  fail("speech recognition is needed for the word timings, but ", which,
       " installed (on PATH). Install one of them, e.g. `pipx install whisperx` (recommended: upstream's tool, "
       "with word alignment) or `pipx install openai-whisper`, or skip recognition with --transcript FILE "
       "(a whisperX/whisper .json, a JSON word list, or upstream's .tsv transcript)");
}

std::vector<std::string> asr_command(const AsrTool& tool, const fs::path& audio, const fs::path& output_dir,
                                     const Language& language, const AsrOptions& options) {
  std::vector<std::string> cmd = {tool.executable.string(), audio.string(), "--model", options.model,
                                  "--language", language.code};
  if (tool.kind == "whisperx") {
    cmd.insert(cmd.end(), {"--compute_type", options.compute_type, "--batch_size", std::to_string(options.batch_size)});
    // upstream: the LV60K alignment model for English, whisperX's default for other languages.
    if (language.code == "en" && !options.align_model.empty()) cmd.insert(cmd.end(), {"--align_model", options.align_model});
  } else {
    cmd.insert(cmd.end(), {"--word_timestamps", "True", "--fp16", options.compute_type == "float16" ? "True" : "False"});
  }
  if (!options.device.empty()) cmd.insert(cmd.end(), {"--device", options.device});
  cmd.insert(cmd.end(), {"--output_dir", output_dir.string(), "--output_format", "json"});
  return cmd;
}

io::CacheKey asr_key(const std::string& audio_sha256, const AsrTool& tool, const Language& language,
                     const AsrOptions& options) {
  // An external tool: our --precision does not reach it (its own precision is compute_type).
  io::CacheKey k("transcript");
  k.precision_independent()
      .set("format", 1)
      .set("audio_sha256", audio_sha256)
      .set("tool", tool.kind)
      .set("model", options.model)
      .set("language", language.code)
      .set("compute_type", options.compute_type)
      .set("batch_size", tool.kind == "whisperx" ? options.batch_size : 0)
      .set("align_model", tool.kind == "whisperx" && language.code == "en" ? options.align_model : "");
  return k;
}

AsrResult transcribe(const fs::path& audio, const std::string& audio_sha256, const Language& language,
                     const AsrOptions& options, StageCache& cache, Cleanup& cleanup) {
  const AsrTool tool = find_asr_tool(options);
  const std::string key = asr_key(audio_sha256, tool, language, options).hex();
  AsrResult res;
  if (auto hit = cache.find("transcript", key)) {
    res.json = *hit / "transcript.json";
    res.transcript = events::read_transcript(res.json);
    res.cached = true;
    const auto entry = io::read_json_object(*hit / "entry.json");
    res.command = entry.value("command", "");
    return res;
  }
  const fs::path work = cache.make_work_dir("asr");
  // The tool reads the audio through a stable name (its output is named after the stem).
  const auto cmd = asr_command(tool, audio, work, language, options);
  res.command = shell_join(cmd);
  const ProcessResult pr = run_process(cmd, work / "log.txt", cleanup);
  if (pr.signaled || pr.exit_code != 0) {
    const std::string why = pr.signaled ? "was killed by signal " + std::to_string(pr.signal)
                                        : "failed with exit code " + std::to_string(pr.exit_code);
    const std::string tail = pr.log_tail;
    cache.release_work_dir(work);
    fail(tool.kind, " ", why, ".\ncommand: ", res.command, "\nlast output:\n", tail);
  }
  const fs::path produced = work / (audio.stem().string() + ".json");
  if (!fs::is_regular_file(produced)) {
    cache.release_work_dir(work);
    fail(tool.kind, " finished but did not write ", produced.filename().string(), " (command: ", res.command, ")");
  }
  const std::string text = io::read_text_file(produced);
  events::Transcript t;
  try {
    t = events::parse_whisper_json(text, tool.kind + " output " + produced.filename().string());
  } catch (...) {
    cache.release_work_dir(work);
    throw;
  }
  const nlohmann::json meta = {{"command", res.command}, {"audio", audio.string()}, {"words", t.words.size()}};
  const fs::path entry = cache.store("transcript", key, meta, [&](const fs::path& dir) {
    io::write_text_file_atomic(dir / "transcript.json", text);
    io::write_text_file_atomic(dir / "transcript.tsv", events::format_transcript_tsv(t.words));
  });
  cache.release_work_dir(work);
  res.transcript = std::move(t);
  res.json = entry / "transcript.json";
  return res;
}

}  // namespace tribev2::pipeline

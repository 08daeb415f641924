// `tribev2 batch` (many stimuli from a manifest, resumable, shardable, on Slurm with --slurm),
// `tribev2 batch-status` (progress, missing items/units, --wait, --resume, --gather) and the
// Slurm submission shared with `tribev2 run --slurm`. See docs/cluster.md.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "run_args.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/subprocess.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;
using nlohmann::json;

void add_slurm_options(CLI::App* cmd, SlurmArgs& s, const std::string& tasks_help) {
  cmd->add_flag("--slurm", s.slurm,
                "Submit to Slurm: DIR/slurm/array.sbatch (one array task per shard) and gather.sbatch (afterany on "
                "the array), with sbatch --parsable; prints the job ids");
  cmd->add_option("--tasks", s.tasks, "With --slurm: number of " + tasks_help);
  cmd->add_option("--partition", s.o.partition, "With --slurm: partition");
  cmd->add_option("--max-parallel", s.o.max_parallel, "With --slurm: array tasks running at once (%M throttle)");
  cmd->add_option("--time", s.o.time, "With --slurm: time limit per task (e.g. 04:00:00)");
  cmd->add_option("--cpus", s.o.cpus, "With --slurm: CPUs per task (also the threads used)");
  cmd->add_option("--mem", s.o.mem, "With --slurm: memory per task (e.g. 16G)");
  cmd->add_option("--account", s.o.account, "With --slurm: account");
  cmd->add_option("--sbatch-arg", s.o.sbatch_args, "With --slurm: an extra #SBATCH line (e.g. --qos=low); repeatable");
}

std::string rerun_command(const GlobalOptions& g, const std::vector<std::string>& extra) {
  static const std::set<std::string> flags = {"--slurm", "--resume", "--wait"};
  static const std::set<std::string> valued = {"--tasks", "--partition", "--max-parallel", "--time", "--cpus",
                                               "--mem",   "--account",   "--sbatch-arg",   "--shard", "--gather"};
  std::vector<std::string> args;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  args.push_back(ec ? std::string("tribev2") : exe.string());
  for (std::size_t i = 0; i < g.argv.size(); ++i) {
    const std::string& a = g.argv[i];
    const std::string name = a.substr(0, a.find('='));
    if (flags.count(a)) continue;
    if (valued.count(name)) {
      if (name == a) ++i;  // "--opt value"
      continue;
    }
    args.push_back(a);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return pipeline::shell_join(args);
}

namespace {

// Runs a shell command, returns {exit status, stdout}.
std::pair<int, std::string> capture(const std::string& command) {
  std::FILE* f = ::popen(command.c_str(), "r");
  if (!f) fail("cannot run: ", command);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  const int st = ::pclose(f);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128, out};
}

std::string strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string sbatch(const std::vector<std::string>& args, const fs::path& script) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(script.string());
  const std::string cmd = pipeline::shell_join(argv) + " 2>&1";
  const auto [rc, out] = capture(cmd);
  const std::string id = strip(out.substr(0, out.find(';')));
  if (rc != 0 || id.empty() || id.find_first_not_of("0123456789_") != std::string::npos)
    fail("sbatch failed (exit ", rc, "): ", cmd, ": ", strip(out));
  return id;
}

// The batch's own JSON files (job.json, batch.json, shard reports) are JSON objects.
json read_json(const fs::path& p) { return io::read_json_object(p); }

}  // namespace

std::pair<std::string, std::string> submit_slurm(const GlobalOptions& g, const fs::path& dir, const std::string& kind,
                                                 const SlurmArgs& s, int n_tasks, const std::vector<int>& indices,
                                                 const std::string& task_command, const std::string& gather_command) {
  (void)g;
  const fs::path sdir = fs::absolute(dir) / "slurm";
  std::error_code ec;
  fs::create_directories(sdir / "logs", ec);
  if (ec) fail(sdir.string(), ": cannot create: ", ec.message());
  const fs::path cwd = fs::current_path();
  const std::string name = "tribev2-" + kind + "-" + fs::absolute(dir).filename().string();
  io::write_text_file_atomic(sdir / "array.sbatch",
                             pipeline::array_sbatch(name, sdir / "logs", cwd, s.o, n_tasks, indices, task_command));
  io::write_text_file_atomic(sdir / "gather.sbatch",
                             pipeline::gather_sbatch(name + "-gather", sdir / "logs", cwd, s.o, gather_command));
  const std::string array_id = sbatch({}, sdir / "array.sbatch");
  const std::string gather_id = sbatch({"--dependency=afterany:" + array_id}, sdir / "gather.sbatch");
  json job = fs::is_regular_file(sdir / "job.json") ? read_json(sdir / "job.json") : json::object();
  job["kind"] = kind;
  job["tasks"] = n_tasks;
  job["task_command"] = task_command;
  job["gather_command"] = gather_command;
  job["slurm"] = {{"partition", s.o.partition}, {"time", s.o.time},  {"mem", s.o.mem},
                  {"account", s.o.account},     {"cpus", s.o.cpus},  {"max_parallel", s.o.max_parallel},
                  {"sbatch_args", s.o.sbatch_args}};
  job["array_job"] = array_id;
  job["gather_job"] = gather_id;
  if (!job.contains("submissions")) job["submissions"] = json::array();
  job["submissions"].push_back(
      {{"array_job", array_id}, {"gather_job", gather_id}, {"indices", indices}, {"at", pipeline::utc_now_iso()}});
  io::write_text_file_atomic(sdir / "job.json", job.dump(1) + "\n");
  std::cout << "array job " << array_id << " (" << (indices.empty() ? n_tasks : static_cast<int>(indices.size()))
            << " task(s): " << pipeline::array_spec(n_tasks, indices, s.o.max_parallel) << ")\n"
            << "gather job " << gather_id << " (afterany:" << array_id << ")\n"
            << "scripts in " << sdir.string() << "; follow with: tribev2 batch-status " << dir.string() << " --wait\n";
  return {array_id, gather_id};
}

void submit_run_slurm(const GlobalOptions& g, const RunArgs& a, const SlurmArgs& s) {
  const int n = s.tasks > 0 ? s.tasks : 4;
  submit_slurm(g, a.out, "run", s, n, {}, rerun_command(g, {"--shard", "auto"}),
               rerun_command(g, {"--gather", std::to_string(n)}));
}

namespace {

struct BatchArgs {
  RunArgs run;
  std::string manifest;
  std::string shard;
  bool retry_failed = false;
  SlurmArgs slurm;
};

fs::path cache_dir_of(const RunArgs& a) { return a.ev.cache_dir.empty() ? fs::path(a.out) / "cache" : fs::path(a.ev.cache_dir); }

// DIR/batch.json: the items and their shards (written by every batch process; identical).
void write_batch_json(const fs::path& dir, const fs::path& manifest, const std::vector<pipeline::ManifestItem>& items,
                      const std::vector<int>& shards, int n) {
  json j;
  j["manifest"] = fs::absolute(manifest).string();
  j["shards"] = n;
  auto& arr = j["items"] = json::array();
  for (std::size_t i = 0; i < items.size(); ++i)
    arr.push_back({{"id", items[i].id},
                   {"kind", items[i].kind},
                   {"path", items[i].path.string()},
                   {"row", items[i].row},
                   {"cost", items[i].cost},
                   {"shard", shards[i]}});
  std::error_code ec;
  fs::create_directories(dir, ec);
  io::write_text_file_atomic(dir / "batch.json", j.dump(1) + "\n");
}

// Items and shards back from DIR/batch.json.
struct BatchState {
  std::vector<pipeline::ManifestItem> items;
  std::vector<int> shards;
  int n = 1;
};
BatchState read_batch_json(const fs::path& dir) {
  const json j = read_json(dir / "batch.json");
  BatchState b;
  b.n = j.value("shards", 1);
  for (const auto& it : j.at("items")) {
    pipeline::ManifestItem m;
    m.id = it.at("id");
    m.kind = it.at("kind");
    m.path = it.at("path").get<std::string>();
    m.row = it.value("row", 0);
    m.cost = it.value("cost", 0.0);
    b.items.push_back(m);
    b.shards.push_back(it.value("shard", 1));
  }
  return b;
}

bool item_done(const fs::path& dir, const pipeline::ManifestItem& it, const std::optional<pipeline::ItemStatus>& s) {
  std::error_code ec;
  return s && s->status == "done" && fs::is_regular_file(dir / it.id / "run.json", ec);
}

void write_batch_tsv(const fs::path& dir, const std::vector<pipeline::ManifestItem>& items, const std::vector<int>& shards) {
  std::vector<std::optional<pipeline::ItemStatus>> st;
  for (const auto& it : items) st.push_back(pipeline::read_item_status(dir, it.id));
  io::write_text_file_atomic(dir / "batch.tsv", pipeline::format_batch_tsv(items, shards, st));
}

std::string slurm_job_label() {
  const char* job = std::getenv("SLURM_JOB_ID");
  const char* arr = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (arr && task) return std::string(arr) + "_" + task;
  return job ? job : "";
}

std::string host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

void run_batch(const GlobalOptions& g, BatchArgs& b) {
  const fs::path dir = b.run.out;
  const auto items = pipeline::parse_manifest(b.manifest);
  std::vector<double> costs;
  for (const auto& it : items) costs.push_back(it.cost);
  if (b.slurm.slurm) {
    const int n = std::min<int>(b.slurm.tasks > 0 ? b.slurm.tasks : static_cast<int>(items.size()),
                                static_cast<int>(items.size()));
    const auto shards = pipeline::assign_shards(costs, n);
    write_batch_json(dir, b.manifest, items, shards, n);
    write_batch_tsv(dir, items, shards);
    const fs::path exe = fs::read_symlink("/proc/self/exe");
    submit_slurm(g, dir, "batch", b.slurm, n, {}, rerun_command(g, {"--shard", "auto"}),
                 pipeline::shell_join({exe.string(), "batch-status", fs::absolute(dir).string(), "--gather"}));
    return;
  }
  const pipeline::Shard shard = b.shard.empty() ? pipeline::Shard{} : pipeline::parse_shard(b.shard, pipeline::process_env());
  const auto shards = pipeline::assign_shards(costs, shard.count);
  write_batch_json(dir, b.manifest, items, shards, shard.count);
  const pipeline::RunOptions base = make_run_options(b.run, g);
  pipeline::Cleanup cleanup;
  pipeline::InterruptGuard guard(cleanup, g.quiet);
  const Context ctx = g.make_context();
  const pipeline::Stages stages = pipeline::available_stages();
  std::vector<std::string> failed;
  std::size_t ran = 0, skipped = 0, mine = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& it = items[i];
    if (shards[i] != shard.index) continue;
    ++mine;
    const auto prev = pipeline::read_item_status(dir, it.id);
    if (item_done(dir, it, prev)) {
      log(g, "[" + it.id + "] done before: skipped");
      ++skipped;
      continue;
    }
    if (prev && prev->status == "failed" && !b.retry_failed) {
      log(g, "[" + it.id + "] failed before (" + prev->error + "): skipped; --retry-failed runs it again");
      ++skipped;
      continue;
    }
    pipeline::ItemStatus st;
    st.id = it.id;
    st.status = "running";
    st.shard = shards[i];
    st.started = pipeline::utc_now_iso();
    st.host = host();
    st.job = slurm_job_label();
    {
      std::lock_guard lock(cleanup.commit_mutex());
      pipeline::write_item_status(dir, st);
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
      EventArgs ev = b.run.ev;
      (it.kind == "text" ? ev.text : it.kind == "audio" ? ev.audio : ev.video) = it.path.string();
      for (const auto& [k, v] : it.options) {
        if (k == "transcript") ev.transcript = v;
        else if (k == "language") ev.language = v;
        else if (k == "voice") ev.voice = v;
        else if (k == "speech_rate") ev.speech_rate = std::stoi(v);
        else if (k == "sentences") ev.sentences = v;
        else if (k == "text_case") ev.text_case = v;
      }
      pipeline::RunOptions o = base;
      o.events = events_options(ev);
      o.out = dir / it.id;
      o.cache_dir = cache_dir_of(b.run);
      o.command_line = "tribev2 batch " + b.manifest + " (item " + it.id + ", manifest row " + std::to_string(it.row) + ")";
      const pipeline::Stimulus stimulus = pipeline::check_stimulus(ev.text, ev.audio, ev.video);
      pipeline::Observer obs = make_observer(g);
      obs.log = [&g, id = it.id](const std::string& line) { log(g, "[" + id + "] " + line); };
      log(g, "[" + it.id + "] " + it.kind + " " + it.path.string());
      pipeline::run_pipeline(ctx, stimulus, o, stages, cleanup, obs);
      st.status = "done";
    } catch (const std::exception& e) {
      st.status = "failed";
      st.error = e.what();
      failed.push_back(it.id);
      std::cerr << "tribev2: [" << it.id << "] error: " << e.what() << "\n";
    }
    st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.finished = pipeline::utc_now_iso();
    {
      std::lock_guard lock(cleanup.commit_mutex());
      pipeline::write_item_status(dir, st);
      write_batch_tsv(dir, items, shards);
    }
    ++ran;
  }
  {
    std::lock_guard lock(cleanup.commit_mutex());
    write_batch_tsv(dir, items, shards);
  }
  log(g, "batch" + (shard.count > 1 ? " shard " + shard.str() : std::string()) + ": " + std::to_string(mine) +
             " item(s), " + std::to_string(ran) + " run, " + std::to_string(skipped) + " skipped, " +
             std::to_string(failed.size()) + " failed; " + (dir / "batch.tsv").string());
  if (!failed.empty()) {
    std::string ids;
    for (const auto& f : failed) ids += (ids.empty() ? "" : ", ") + f;
    fail(failed.size(), " item(s) failed: ", ids, " (errors in ", (dir / "batch.tsv").string(), ")");
  }
}

// squeue's view of the jobs: job/task id -> state; empty when squeue is absent.
std::map<std::string, std::string> queued(const std::vector<std::string>& jobs) {
  std::map<std::string, std::string> out;
  std::string list;
  for (const auto& j : jobs)
    if (!j.empty()) list += (list.empty() ? "" : ",") + j;
  if (list.empty()) return out;
  const auto [rc, text] = capture("squeue -h -r -j " + list + " -o '%i|%T' 2>/dev/null");
  if (rc != 0) return out;
  std::size_t p = 0;
  while (p < text.size()) {
    const auto nl = text.find('\n', p);
    const std::string line = text.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    p = nl == std::string::npos ? text.size() : nl + 1;
    const auto bar = line.find('|');
    if (bar != std::string::npos) out[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return out;
}

// sacct's states of the jobs (when accounting is on): job/task id -> state.
std::map<std::string, std::string> accounted(const std::vector<std::string>& jobs) {
  std::map<std::string, std::string> out;
  std::string list;
  for (const auto& j : jobs)
    if (!j.empty()) list += (list.empty() ? "" : ",") + j;
  if (list.empty()) return out;
  const auto [rc, text] = capture("sacct -n -P -X -j " + list + " -o JobID,State 2>/dev/null");
  if (rc != 0) return out;
  std::size_t p = 0;
  while (p < text.size()) {
    const auto nl = text.find('\n', p);
    const std::string line = text.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    p = nl == std::string::npos ? text.size() : nl + 1;
    const auto bar = line.find('|');
    if (bar != std::string::npos) out[line.substr(0, bar)] = line.substr(bar + 1);
  }
  return out;
}

struct StatusArgs {
  std::string dir;
  bool wait = false, resume = false, gather = false;
  double poll = 10.0;
};

// The report; returns the shards (1-based) that still have work.
std::set<int> report(const GlobalOptions& g, const fs::path& dir, const json& job, bool print) {
  std::set<int> missing_shards;
  const std::string kind = job.value("kind", fs::is_regular_file(dir / "batch.json") ? "batch" : "run");
  std::vector<std::string> jobs;
  if (job.contains("array_job")) jobs = {job.value("array_job", ""), job.value("gather_job", "")};
  const auto q = queued(jobs);
  const auto acct = accounted(jobs);
  std::ostringstream o;
  if (!jobs.empty()) {
    o << "slurm: array job " << jobs[0] << ", gather job " << jobs[1] << "; ";
    if (q.empty()) o << "none queued or running";
    else {
      std::map<std::string, int> by_state;
      for (const auto& [id, st] : q) ++by_state[st];
      bool first = true;
      for (const auto& [st, n] : by_state) {
        o << (first ? "" : ", ") << n << " " << st;
        first = false;
      }
    }
    std::map<std::string, int> acct_states;
    for (const auto& [id, st] : acct) ++acct_states[st];
    if (!acct_states.empty()) {
      o << " (sacct:";
      for (const auto& [st, n] : acct_states) o << " " << n << " " << st;
      o << ")";
    }
    o << "\n";
  }
  if (kind == "batch") {
    const BatchState b = read_batch_json(dir);
    std::map<std::string, int> counts;
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < b.items.size(); ++i) {
      const auto& it = b.items[i];
      const auto s = pipeline::read_item_status(dir, it.id);
      std::string st = s ? s->status : "pending";
      if (st == "done" && !item_done(dir, it, s)) st = "pending";  // outputs removed since
      if (st == "running" && !s->job.empty() && !jobs.empty() && !q.count(s->job)) st = "interrupted";
      ++counts[st];
      if (st != "done") {
        missing.push_back(it.id);
        missing_shards.insert(b.shards[i]);
      }
      o << "  " << it.id << "\t" << st << "\tshard " << b.shards[i] << "/" << b.n;
      if (s && s->seconds > 0) o << "\t" << s->seconds << " s";
      if (s && !s->host.empty()) o << "\t" << s->host;
      if (s && !s->error.empty()) o << "\t" << s->error;
      o << "\n";
    }
    o << "items: " << b.items.size();
    for (const auto& [st, n] : counts) o << ", " << n << " " << st;
    o << "\n";
    if (!missing.empty()) {
      o << "missing items:";
      for (const auto& m : missing) o << " " << m;
      o << " (shards";
      for (const int s : missing_shards) o << " " << s;
      o << ")\n";
    }
    write_batch_tsv(dir, b.items, b.shards);
  } else {
    const int n = job.value("tasks", 0);
    std::error_code ec;
    int reported = 0;
    for (int k = 1; k <= n; ++k) {
      const fs::path r = dir / ".shards" / (std::to_string(k) + "-of-" + std::to_string(n) + ".json");
      if (fs::is_regular_file(r, ec)) {
        ++reported;
        const json rj = read_json(r);
        int mine = 0;
        for (const auto& u : rj.value("units", json::array()))
          if (u.value("shard", 0) == k) ++mine;
        o << "  shard " << k << "/" << n << ": done (" << mine << " unit(s))\n";
      } else {
        o << "  shard " << k << "/" << n << ": not finished\n";
        missing_shards.insert(k);
      }
    }
    if (fs::is_regular_file(dir / ".shards" / "missing.json", ec)) {
      const json m = read_json(dir / ".shards" / "missing.json");
      o << "missing units (from the gather step):\n";
      for (const auto& u : m.value("units", json::array())) {
        o << "  " << u.value("unit", "") << " (shard " << u.value("shard", 0) << "/" << n << ")\n";
        missing_shards.insert(u.value("shard", 0));
      }
    }
    const bool assembled = fs::is_regular_file(dir / "run.json", ec) && !fs::is_regular_file(dir / ".shards" / "missing.json", ec);
    o << "shards: " << n << ", " << reported << " finished; outputs " << (assembled ? "assembled" : "not assembled yet")
      << "\n";
    if (assembled) missing_shards.clear();
  }
  (void)g;
  if (print) std::cout << o.str() << std::flush;
  return missing_shards;
}

void run_status(const GlobalOptions& g, const StatusArgs& a) {
  const fs::path dir = a.dir;
  const fs::path job_file = dir / "slurm" / "job.json";
  json job = fs::is_regular_file(job_file) ? read_json(job_file) : json::object();
  if (job.empty() && !fs::is_regular_file(dir / "batch.json"))
    fail(dir.string(), ": neither batch.json nor slurm/job.json: not the --out of `tribev2 batch` or `run --slurm`");
  if (a.gather) {
    // The gather job of a batch: the final batch.tsv and the list of what is missing.
    const auto missing = report(g, dir, job, true);
    if (!missing.empty()) fail("some items are not done; resubmit them with `tribev2 batch-status ", dir.string(), " --resume`");
    return;
  }
  if (a.wait) {
    std::vector<std::string> jobs = {job.value("array_job", ""), job.value("gather_job", "")};
    while (!queued(jobs).empty()) std::this_thread::sleep_for(std::chrono::duration<double>(a.poll));
  }
  const auto missing = report(g, dir, job, true);
  if (a.resume) {
    if (missing.empty()) {
      std::cout << "nothing to resume: everything is done\n";
      return;
    }
    if (!job.contains("task_command")) fail(job_file.string(), ": no task command recorded (was it submitted with --slurm?)");
    SlurmArgs s;
    const json& sj = job["slurm"];
    s.o.partition = sj.value("partition", "");
    s.o.time = sj.value("time", "");
    s.o.mem = sj.value("mem", "");
    s.o.account = sj.value("account", "");
    s.o.cpus = sj.value("cpus", 0);
    s.o.max_parallel = sj.value("max_parallel", 0);
    s.o.sbatch_args = sj.value("sbatch_args", std::vector<std::string>{});
    std::string task = job["task_command"];
    if (job.value("kind", "") == "batch" && task.find("--retry-failed") == std::string::npos) task += " --retry-failed";
    const std::vector<int> indices(missing.begin(), missing.end());
    submit_slurm(g, dir, job.value("kind", "batch"), s, job.value("tasks", 1), indices, task, job["gather_command"]);
    return;
  }
  if (!missing.empty() && a.wait) fail("not everything is done (see above); `tribev2 batch-status ", dir.string(), " --resume` resubmits the missing shards");
}

}  // namespace

void register_batch(CLI::App& app, GlobalOptions& g) {
  auto b = std::make_shared<BatchArgs>();
  auto* cmd = app.add_subcommand("batch", "Many stimuli from a manifest (TSV/CSV: id, video|audio|text, optional "
                                          "transcript, language, voice, speech_rate, sentences, text_case): DIR/<id>/ "
                                          "as `tribev2 run` writes it, DIR/batch.tsv; resumable, shardable, --slurm");
  cmd->add_option("manifest", b->manifest, "Manifest (.tsv, or .csv)")->required();
  cmd->add_option("--out", b->run.out, "Output folder: DIR/<id>/ per item, DIR/batch.tsv, DIR/cache (shared)")->required();
  add_event_options(cmd, b->run.ev, false);
  add_run_options(cmd, b->run);
  cmd->add_option("--shard", b->shard,
                  "K/N or auto ($SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT): run only the items of shard K of N "
                  "(deterministic, balanced by estimated cost)");
  cmd->add_flag("--retry-failed", b->retry_failed, "Run items that failed before again (done items are always skipped)");
  add_slurm_options(cmd, b->slurm, "array tasks (shards); default one per item");
  cmd->callback([b, &g] { run_batch(g, *b); });

  auto s = std::make_shared<StatusArgs>();
  auto* st = app.add_subcommand("batch-status", "Progress of `tribev2 batch` or `run --slurm` in DIR (batch.tsv, the "
                                                "shard reports, squeue/sacct): which items/units are missing");
  st->add_option("dir", s->dir, "The --out folder")->required();
  st->add_flag("--wait", s->wait, "Wait until the submitted jobs have left the queue, then report; exit 1 when "
                                  "something is missing");
  st->add_option("--poll", s->poll, "With --wait: seconds between squeue calls")->capture_default_str();
  st->add_flag("--resume", s->resume, "Resubmit only the array tasks (shards) that still have missing items/units");
  st->add_flag("--gather", s->gather, "The gather step: write batch.tsv, report, exit 1 when items are missing");
  st->callback([s, &g] { run_status(g, *s); });
}

}  // namespace tribev2::cli

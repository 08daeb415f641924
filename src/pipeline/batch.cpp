#include "tribev2/pipeline/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <numeric>
#include <set>
#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/pipeline/subprocess.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;
using nlohmann::json;

EnvFn process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

std::optional<long> parse_long(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::strtol(s.c_str(), nullptr, 10);
}

}  // namespace

Shard parse_shard(const std::string& text, const EnvFn& env, const std::string& option) {
  if (text == "auto") {
    auto get = [&](const std::string& name) -> std::optional<long> {
      const auto v = env(name);
      if (!v) return std::nullopt;
      const auto n = parse_long(*v);
      if (!n) fail(option, " auto: $", name, " is '", *v, "', expected a non-negative integer");
      return n;
    };
    const auto id = get("SLURM_ARRAY_TASK_ID");
    const auto count = get("SLURM_ARRAY_TASK_COUNT");
    if (!id || !count)
      fail(option, " auto: $SLURM_ARRAY_TASK_ID and $SLURM_ARRAY_TASK_COUNT are not set (not inside a Slurm job "
                   "array); pass --shard K/N");
    const long min = get("SLURM_ARRAY_TASK_MIN").value_or(1);
    // The array of `tribev2 ... --slurm` is 1..N (resubmissions keep their original indices and
    // set TRIBEV2_SHARD_COUNT, since Slurm's COUNT is then the number of resubmitted tasks).
    const auto total = env("TRIBEV2_SHARD_COUNT");
    long n = *count;
    long k = *id - min + 1;
    if (total) {
      const auto t = parse_long(*total);
      if (!t) fail(option, " auto: $TRIBEV2_SHARD_COUNT is '", *total, "', expected a positive integer");
      n = *t;
      k = *id;
    }
    if (n < 1 || k < 1 || k > n)
      fail(option, " auto: array task ", *id, " (min ", min, ", count ", n, ") is not a shard of 1..", n);
    return {static_cast<int>(k), static_cast<int>(n)};
  }
  const auto slash = text.find('/');
  const auto k = slash == std::string::npos ? std::nullopt : parse_long(text.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : parse_long(text.substr(slash + 1));
  if (!k || !n) fail(option, " must be K/N (e.g. 2/8) or auto, got '", text, "'");
  if (*n < 1 || *k < 1 || *k > *n) fail(option, " ", text, ": K must be in 1..N and N >= 1");
  return {static_cast<int>(*k), static_cast<int>(*n)};
}

std::vector<int> assign_shards(const std::vector<double>& costs, int n_shards) {
  TRIBEV2_CHECK(n_shards >= 1, "assign_shards: the number of shards must be >= 1, got ", n_shards);
  for (std::size_t i = 0; i < costs.size(); ++i)
    TRIBEV2_CHECK(std::isfinite(costs[i]) && costs[i] >= 0.0, "assign_shards: unit ", i, " has cost ", costs[i]);
  std::vector<std::size_t> order(costs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<std::size_t>(n_shards), 0.0);
  std::vector<int> count(static_cast<std::size_t>(n_shards), 0);
  std::vector<int> out(costs.size(), 1);
  for (const std::size_t u : order) {
    std::size_t best = 0;
    for (std::size_t s = 1; s < load.size(); ++s)
      if (load[s] < load[best] || (load[s] == load[best] && count[s] < count[best])) best = s;
    load[best] += costs[u];
    ++count[best];
    out[u] = static_cast<int>(best) + 1;
  }
  return out;
}

const std::vector<std::string>& manifest_option_columns() {
  static const std::vector<std::string> cols = {"transcript", "language", "voice", "speech_rate", "sentences", "text_case"};
  return cols;
}

double estimate_cost(const std::string& kind, std::uintmax_t file_bytes) {
  const double b = static_cast<double>(file_bytes);
  if (kind == "text") return 7.0 * (b / 6.0);             // words
  if (kind == "audio") return 1.0 * (b / 16000.0) + 7.0 * 2.9 * (b / 16000.0);  // + its words
  return 380.0 * (b / 250000.0) + 7.0 * 2.9 * (b / 250000.0);
}

namespace {

// Splits one line: tabs, or commas with "..." quoting ("" inside quotes is a quote).
std::vector<std::string> split_line(const std::string& line, bool csv, const std::string& where) {
  std::vector<std::string> out;
  if (!csv) {
    std::size_t p = 0;
    while (true) {
      const auto t = line.find('\t', p);
      out.push_back(line.substr(p, t == std::string::npos ? std::string::npos : t - p));
      if (t == std::string::npos) break;
      p = t + 1;
    }
    return out;
  }
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) fail(where, ": unterminated \"quoted\" field");
  out.push_back(cur);
  return out;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \r");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \r");
  return s.substr(a, b - a + 1);
}

}  // namespace

std::vector<ManifestItem> parse_manifest(const fs::path& path) {
  if (!fs::is_regular_file(path)) fail("manifest ", path.string(), ": no such file");
  const std::string text = io::read_text_file(path);
  const bool csv = path.extension() == ".csv";
  const fs::path base = fs::absolute(path).parent_path();
  std::vector<std::string> header;
  std::map<std::string, std::size_t> col;
  std::vector<ManifestItem> items;
  std::set<std::string> ids;
  std::size_t line_no = 0, p = 0;
  const std::string file = "manifest " + path.string();
  while (p < text.size()) {
    const auto nl = text.find('\n', p);
    const std::string line = text.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    p = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string where = file + ", row " + std::to_string(line_no);
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    auto fields = split_line(line, csv, where);
    for (auto& f : fields) f = trim(f);
    if (header.empty()) {
      header = fields;
      for (std::size_t i = 0; i < header.size(); ++i) {
        const std::string& h = header[i];
        const auto& opts = manifest_option_columns();
        const bool known = h == "id" || h == "text" || h == "audio" || h == "video" ||
                           std::find(opts.begin(), opts.end(), h) != opts.end();
        if (!known) {
          std::string allowed = "id, text, audio, video";
          for (const auto& o : opts) allowed += ", " + o;
          fail(where, " (header): unknown column '", h, "' (columns: ", allowed, ")");
        }
        if (col.count(h)) fail(where, " (header): column '", h, "' appears twice");
        col[h] = i;
      }
      if (!col.count("id")) fail(where, " (header): no 'id' column");
      if (!col.count("text") && !col.count("audio") && !col.count("video"))
        fail(where, " (header): no stimulus column (one of video, audio, text)");
      continue;
    }
    if (fields.size() != header.size())
      fail(where, ": ", fields.size(), " fields, expected ", header.size(), " (", csv ? "commas" : "tabs",
           " as in the header)");
    ManifestItem item;
    item.row = line_no;
    item.id = fields[col["id"]];
    if (item.id.empty()) fail(where, ", column 'id': empty");
    if (item.id == "." || item.id == ".." || item.id == "slurm" || item.id == "status" || item.id == "cache" ||
        item.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            std::string::npos)
      fail(where, ", column 'id': '", item.id,
           "' is not usable as a folder name (letters, digits, '.', '_', '-'; not slurm, status or cache)");
    if (!ids.insert(item.id).second) fail(where, ", column 'id': '", item.id, "' appears twice");
    for (const char* kind : {"text", "audio", "video"}) {
      if (!col.count(kind) || fields[col[kind]].empty()) continue;
      if (!item.kind.empty())
        fail(where, ": both '", item.kind, "' and '", kind, "' are filled; one stimulus per row");
      item.kind = kind;
      item.path = fs::absolute(base / fields[col[kind]]).lexically_normal();
    }
    if (item.kind.empty()) fail(where, ": no stimulus (fill one of the columns video, audio, text)");
    std::error_code ec;
    if (!fs::is_regular_file(item.path, ec))
      fail(where, ", column '", item.kind, "': ", item.path.string(), " does not exist");
    for (const auto& o : manifest_option_columns()) {
      if (!col.count(o) || fields[col[o]].empty()) continue;
      std::string v = fields[col[o]];
      if (o == "transcript") {
        if (item.kind == "text") fail(where, ", column 'transcript': a text stimulus has no transcript");
        v = fs::absolute(base / v).lexically_normal().string();
        if (!fs::is_regular_file(v, ec)) fail(where, ", column 'transcript': ", v, " does not exist");
      }
      if (o == "speech_rate" && (!parse_long(v) || *parse_long(v) < 1))
        fail(where, ", column 'speech_rate': '", v, "' is not a positive integer");
      item.options[o] = v;
    }
    item.cost = estimate_cost(item.kind, fs::file_size(item.path, ec));
    items.push_back(std::move(item));
  }
  if (header.empty()) fail(file, ": empty (expected a header row: id and one of video/audio/text)");
  if (items.empty()) fail(file, ": no items after the header");
  return items;
}

std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json to_json(const ItemStatus& s) {
  return {{"id", s.id},         {"status", s.status}, {"shard", s.shard},   {"seconds", s.seconds},
          {"started", s.started}, {"finished", s.finished}, {"host", s.host}, {"job", s.job},
          {"error", s.error}};
}

ItemStatus item_status_from_json(const json& j) {
  ItemStatus s;
  s.id = j.value("id", "");
  s.status = j.value("status", "pending");
  s.shard = j.value("shard", 0);
  s.seconds = j.value("seconds", 0.0);
  s.started = j.value("started", "");
  s.finished = j.value("finished", "");
  s.host = j.value("host", "");
  s.job = j.value("job", "");
  s.error = j.value("error", "");
  return s;
}

std::optional<ItemStatus> read_item_status(const fs::path& out_dir, const std::string& id) {
  const fs::path f = out_dir / "status" / (id + ".json");
  std::error_code ec;
  if (!fs::is_regular_file(f, ec)) return std::nullopt;
  try {
    return item_status_from_json(io::read_json_object(f));
  } catch (const std::exception&) {
    return std::nullopt;  // written atomically, so only a hand-edited file gets here
  }
}

void write_item_status(const fs::path& out_dir, const ItemStatus& s) {
  std::error_code ec;
  fs::create_directories(out_dir / "status", ec);
  io::write_text_file_atomic(out_dir / "status" / (s.id + ".json"), to_json(s).dump(1) + "\n");
}

namespace {
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

std::string format_batch_tsv(const std::vector<ManifestItem>& items, const std::vector<int>& shards,
                             const std::vector<std::optional<ItemStatus>>& status) {
  std::ostringstream o;
  o << "id\tkind\tshard\tstatus\tseconds\tstarted\tfinished\thost\tjob\terror\n";
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ItemStatus s = status[i] ? *status[i] : ItemStatus{};
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", s.seconds);
    o << items[i].id << '\t' << items[i].kind << '\t' << shards[i] << '\t' << s.status << '\t' << secs << '\t'
      << s.started << '\t' << s.finished << '\t' << one_line(s.host) << '\t' << one_line(s.job) << '\t'
      << one_line(s.error) << '\n';
  }
  return o.str();
}

std::string shell_quote(const std::string& word) { return shell_join({word}); }

std::string array_spec(int n_tasks, const std::vector<int>& indices, int max_parallel) {
  std::string spec;
  if (indices.empty()) {
    TRIBEV2_CHECK(n_tasks >= 1, "a job array needs at least one task");
    spec = "1";
    if (n_tasks > 1) spec.append("-").append(std::to_string(n_tasks));
  } else {
    for (const int i : indices) {
      if (!spec.empty()) spec.push_back(',');
      spec.append(std::to_string(i));
    }
  }
  if (max_parallel > 0) spec.append("%").append(std::to_string(max_parallel));
  return spec;
}

namespace {
std::string header(const std::string& job_name, const fs::path& log_dir, const fs::path& workdir, const SlurmOptions& o,
                   const std::string& log_pattern) {
  std::ostringstream s;
  s << "#!/bin/bash\n";
  s << "# Written by tribev2 (see docs/cluster.md). Safe to edit and resubmit by hand.\n";
  s << "#SBATCH --job-name=" << job_name << "\n";
  s << "#SBATCH --chdir=" << workdir.string() << "\n";
  s << "#SBATCH --output=" << (log_dir / log_pattern).string() << "\n";
  s << "#SBATCH --ntasks=1\n";
  if (o.cpus > 0) s << "#SBATCH --cpus-per-task=" << o.cpus << "\n";
  if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.time.empty()) s << "#SBATCH --time=" << o.time << "\n";
  if (!o.mem.empty()) s << "#SBATCH --mem=" << o.mem << "\n";
  if (!o.account.empty()) s << "#SBATCH --account=" << o.account << "\n";
  for (const auto& a : o.sbatch_args) s << "#SBATCH " << a << "\n";
  s << "set -euo pipefail\n";
  // Threads: the CPUs Slurm gave this task, not the node's.
  s << "export TRIBEV2_NUM_THREADS=\"${TRIBEV2_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}\"\n";
  return s.str();
}
}  // namespace

std::string array_sbatch(const std::string& job_name, const fs::path& log_dir, const fs::path& workdir,
                         const SlurmOptions& o, int n_tasks, const std::vector<int>& indices,
                         const std::string& task_command) {
  std::string s = header(job_name, log_dir, workdir, o, "task-%a-%A.log");
  s.insert(s.find("#SBATCH --ntasks"), "#SBATCH --array=" + array_spec(n_tasks, indices, o.max_parallel) + "\n");
  s.append("export TRIBEV2_SHARD_COUNT=").append(std::to_string(n_tasks)).append("\n");
  s += "exec " + task_command + "\n";
  return s;
}

std::string gather_sbatch(const std::string& job_name, const fs::path& log_dir, const fs::path& workdir,
                          const SlurmOptions& o, const std::string& gather_command) {
  return header(job_name, log_dir, workdir, o, "gather-%j.log") + "exec " + gather_command + "\n";
}

}  // namespace tribev2::pipeline

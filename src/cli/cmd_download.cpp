// `tribev2 download`: snapshot_download into the shared Hugging Face cache (or a plain folder),
// with a progress bar per file on stderr; the last stdout line is the folder to use.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "common.hpp"
#include "tribev2/hub/hub.hpp"

namespace tribev2::cli {

namespace {

double seconds_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) {
    b /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

struct DownloadArgs {
  std::string repo_id;
  std::string revision = "main";
  std::vector<std::string> include, exclude;
  std::string cache_dir, local_dir, token;
};

}  // namespace

hub::ProgressFn download_progress(const GlobalOptions& g) {
  if (g.quiet) return {};
  struct State {
    std::string file;
    double start = 0, last_draw = 0;
    std::int64_t first = 0;
    bool tty = ::isatty(2) != 0;
  };
  auto st = std::make_shared<State>();
  return [st](const hub::FileProgress& p) {
    const double now = seconds_now();
    if (p.cached) {
      std::fprintf(stderr, "%s: cached\n", p.file.c_str());
      return;
    }
    if (p.file != st->file) {
      st->file = p.file;
      st->start = now;
      st->first = p.done;  // resumed bytes do not count towards the rate
      st->last_draw = 0;
      if (!st->tty)
        std::fprintf(stderr, "%s: downloading %s%s\n", p.file.c_str(), human_bytes(static_cast<double>(p.total)).c_str(),
                     p.done > 0 ? (" (resuming at " + human_bytes(static_cast<double>(p.done)) + ")").c_str() : "");
    }
    const double el = now - st->start;
    const double rate = el > 0 ? static_cast<double>(p.done - st->first) / el : 0.0;
    if (st->tty && (p.finished || now - st->last_draw >= 0.1)) {
      st->last_draw = now;
      const int width = 24;
      const int fill = p.total > 0 ? static_cast<int>(width * p.done / p.total) : 0;
      const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0.0;
      std::fprintf(stderr, "\r%-32.32s [%.*s%*s] %s/%s %s/s ETA %.0fs ", p.file.c_str(), fill,
                   "########################", width - fill, "", human_bytes(static_cast<double>(p.done)).c_str(),
                   human_bytes(static_cast<double>(p.total)).c_str(), human_bytes(rate).c_str(), eta);
      if (p.finished) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (!st->tty && p.finished) {
      std::fprintf(stderr, "%s: %s in %.1fs (%s/s)\n", p.file.c_str(), human_bytes(static_cast<double>(p.total)).c_str(),
                   el, human_bytes(rate).c_str());
    }
    if (p.finished) st->file.clear();
  };
}

hub::HubOptions hub_options(const std::string& cache_dir, const std::string& token) {
  hub::HubOptions h;
  if (!cache_dir.empty()) h.cache_dir = cache_dir;
  if (!token.empty()) h.token = token;
  return h;
}

std::filesystem::path resolve_model_arg(const GlobalOptions& g, const std::string& path_or_repo_id,
                                        std::vector<std::string> include) {
  hub::ResolveOptions o;
  o.include = std::move(include);
  o.progress = download_progress(g);
  return hub::resolve_model(path_or_repo_id, o);
}

void register_download(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<DownloadArgs>();
  auto* cmd = app.add_subcommand("download", "Download a model repo from the Hugging Face Hub into the shared HF cache");
  cmd->add_option("repo_id", a->repo_id, "org/name (or org/name@revision)")->required();
  cmd->add_option("--revision", a->revision, "Branch, tag or commit")->capture_default_str();
  cmd->add_option("--include", a->include, "Only files matching this glob (repeatable; fnmatch, '*' crosses '/')");
  cmd->add_option("--exclude", a->exclude, "Skip files matching this glob (repeatable)");
  cmd->add_option("--cache-dir", a->cache_dir, "Hub cache (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)");
  cmd->add_option("--local-dir", a->local_dir, "Also place plain copies (hard links when possible) of the files in this folder");
  cmd->add_option("--token", a->token, "Access token (default: $HF_TOKEN, else $HF_HOME/token)");
  cmd->callback([a, &g] {
    hub::SnapshotOptions o;
    o.hub = hub_options(a->cache_dir, a->token);
    o.revision = a->revision;
    o.include = a->include;
    o.exclude = a->exclude;
    o.progress = download_progress(g);
    const auto ref = hub::parse_repo_ref(a->repo_id);
    if (a->repo_id.find('@') != std::string::npos) {
      TRIBEV2_CHECK(a->revision == "main", "give the revision either as ", a->repo_id, " or with --revision, not both");
      o.revision = ref.revision;
    }
    std::filesystem::path out = hub::snapshot_download(ref.repo_id, o);
    if (!a->local_dir.empty()) out = hub::export_snapshot(out, a->local_dir, o.include, o.exclude);
    std::cout << out.string() << "\n";
  });
}

}  // namespace tribev2::cli

// The Hub client against a local Hub that follows the real protocol (hub_server.py): cache
// layout, redirects to a CDN host that must not see the token, gated and missing repos,
// resume, corrupt blobs, concurrent downloads, offline use and a hand-written Python cache.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/hub/model_files.hpp"
#include "tribev2/io/hash.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model_io/load.hpp"

extern char** environ;

namespace tribev2::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kGatedCommit = "89abcdef0123456789abcdef0123456789abcdef";

std::string slurp(const fs::path& p) { return read_bytes(p); }

// One local Hub + CDN process; stopped (SIGTERM to its own pid) when the object goes away.
class HubServer {
 public:
  HubServer(const fs::path& dir, const json& config) : dir_(dir) {
    fs::create_directories(dir);
    write_bytes(dir / "config.json", config.dump());
    fs::remove(dir / "ready");
    fs::remove(dir / "log.jsonl");
    const std::string script = TRIBEV2_HUB_SERVER;
    const std::string cfg = (dir / "config.json").string(), log = (dir / "log.jsonl").string(),
                      ready = (dir / "ready").string();
    std::vector<std::string> args = {"/usr/bin/python3", script, "--config", cfg, "--log", log, "--ready", ready};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 600 && pid_ > 0 && !fs::exists(dir / "ready"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::istringstream in(slurp(dir / "ready"));
    in >> port_ >> cdn_port_;
  }
  ~HubServer() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
    }
  }
  bool ok() const { return port_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<json> log() const {
    std::vector<json> out;
    std::istringstream in(slurp(dir_ / "log.jsonl"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0, cdn_port_ = 0;
};

bool have_python() { return fs::exists("/usr/bin/python3"); }

// The tiny brain-model fixture as a Hub repo (the Rust port's layout + upstream's files), plus
// a nested non-LFS file to check deeper relative symlinks.
json tiny_repo(const fs::path& extra_dir) {
  const fs::path f = fixture("brain_model/tribe_like");
  fs::create_directories(extra_dir / "docs");
  write_bytes(extra_dir / "docs" / "README.md", "# tiny\n");
  return {{"commit", kCommit},
          {"refs", {{"main", kCommit}, {"v1.0", kCommit}}},
          {"files",
           {{"config.yaml", (f / "config.yaml").string()},
            {"build_args.json", (f / "build_args.json").string()},
            {"model.safetensors", (f / "model.safetensors").string()},
            {"best.ckpt", (f / "best.ckpt").string()},
            {"docs/README.md", (extra_dir / "docs" / "README.md").string()}}},
          {"lfs", {"*.safetensors", "*.ckpt"}}};
}

json gated_repo() {
  const fs::path f = fixture("brain_model/tribe_like");
  return {{"commit", kGatedCommit},
          {"refs", {{"main", kGatedCommit}}},
          {"token", "hf_granted"},
          {"files", {{"config.yaml", (f / "config.yaml").string()}, {"model.safetensors", (f / "model.safetensors").string()}}},
          {"lfs", {"*.safetensors"}}};
}

struct Run {
  int code = -1;
  std::string out, err;
};

// Runs the CLI with environment assignments (HF_HUB_OFFLINE=0 unless given: ctest sets 1).
Run cli(const fs::path& tmp, const std::vector<std::string>& env, const std::vector<std::string>& args,
        const std::string& prefix = "") {
  auto q = [](const std::string& s) {
    std::string r = "'";
    for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return r + "'";
  };
  std::string cmd = prefix + "env -u HF_TOKEN HF_HUB_OFFLINE=0";
  // (appended piecewise: GCC 12 warns falsely on `" " + std::string&&`)
  const auto add = [&](const char* sep, const std::string& word) {
    cmd += sep;
    cmd += q(word);
  };
  for (const auto& e : env) add(" ", e);
  add(" ", TRIBEV2_CLI);
  for (const auto& a : args) add(" ", a);
  add(" >", (tmp / "cli.out").string());
  add(" 2>", (tmp / "cli.err").string());
  Run r;
  const int st = std::system(cmd.c_str());
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  r.out = slurp(tmp / "cli.out");
  r.err = slurp(tmp / "cli.err");
  return r;
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

hub::SnapshotOptions lib_options(const HubServer& s, const fs::path& cache) {
  hub::SnapshotOptions o;
  o.hub.endpoint = s.endpoint();
  o.hub.cache_dir = cache;
  o.hub.token = "";
  o.hub.offline = false;
  return o;
}

int count(const std::vector<json>& log, const std::string& server, const std::string& method, const std::string& path_end) {
  int n = 0;
  for (const auto& e : log) {
    const std::string p = e["path"];
    if (e["server"] == server && e["method"] == method && p.size() >= path_end.size() &&
        p.compare(p.size() - path_end.size(), path_end.size(), path_end) == 0)
      ++n;
  }
  return n;
}

#define NEED_SERVER(s)                                                                 \
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 is missing (Debian python3)"; \
  ASSERT_TRUE((s).ok()) << "the local Hub did not start"

TEST(HubNames, RepoIdsFoldersGlobs) {
  EXPECT_TRUE(hub::looks_like_repo_id("facebook/tribev2"));
  EXPECT_TRUE(hub::looks_like_repo_id("meta-llama/Llama-3.2-3B@main"));
  EXPECT_FALSE(hub::looks_like_repo_id("a/b/c"));
  EXPECT_FALSE(hub::looks_like_repo_id("org--x/y"));
  EXPECT_FALSE(hub::looks_like_repo_id("org/x y"));
  const auto r = hub::parse_repo_ref("org/name@v1.0");
  EXPECT_EQ(r.repo_id, "org/name");
  EXPECT_EQ(r.revision, "v1.0");
  EXPECT_EQ(hub::parse_repo_ref("org/name").revision, "main");
  EXPECT_EQ(hub::repo_folder_name("meta-llama/Llama-3.2-3B"), "models--meta-llama--Llama-3.2-3B");
  // fnmatch.fnmatchcase, as filter_repo_objects: '*' crosses '/', a trailing '/' means a folder.
  EXPECT_TRUE(hub::glob_match("*.safetensors", "model-00001-of-00002.safetensors"));
  EXPECT_TRUE(hub::glob_match("*.json", "sub/config.json"));
  EXPECT_TRUE(hub::glob_match("original/", "original/params.json"));
  EXPECT_FALSE(hub::glob_match("original/", "originally.json"));
  EXPECT_TRUE(hub::glob_match("model-0000?-of-*.safetensors", "model-00002-of-00002.safetensors"));
  EXPECT_TRUE(hub::glob_match("[ab].txt", "b.txt"));
  EXPECT_FALSE(hub::glob_match("[!ab].txt", "b.txt"));
  EXPECT_FALSE(hub::glob_match("config.json", "Config.json"));  // case-sensitive
  for (const auto& f : {"config.json", "tokenizer.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json"}) {
    bool any = false;
    for (const auto& p : hub::llama_files()) any = any || hub::glob_match(p, f);
    EXPECT_TRUE(any) << f;
  }
  for (const auto& p : hub::llama_files()) EXPECT_FALSE(hub::glob_match(p, "original/consolidated.00.pth")) << p;
}

TEST(HubConfig, EnvironmentAsHuggingfaceHub) {
  TempDir tmp;
  write_bytes(tmp / "token", "hf_from_file\n");
  ::setenv("HF_HOME", tmp.path().c_str(), 1);
  ::unsetenv("HF_HUB_CACHE");
  ::unsetenv("HUGGINGFACE_HUB_CACHE");
  ::unsetenv("HF_TOKEN");
  ::unsetenv("HUGGING_FACE_HUB_TOKEN");
  ::unsetenv("HF_TOKEN_PATH");
  ::setenv("HF_ENDPOINT", "http://example.invalid:9/", 1);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  auto c = hub::resolve_config({});
  EXPECT_EQ(c.cache_dir, tmp.path() / "hub");
  EXPECT_EQ(c.token, "hf_from_file");
  EXPECT_EQ(c.endpoint, "http://example.invalid:9");
  EXPECT_TRUE(c.offline);
  ::setenv("HF_TOKEN", "hf_env", 1);
  ::setenv("HF_HUB_CACHE", (tmp / "elsewhere").c_str(), 1);
  ::setenv("HF_HUB_OFFLINE", "0", 1);
  c = hub::resolve_config({});
  EXPECT_EQ(c.token, "hf_env");
  EXPECT_EQ(c.cache_dir, tmp / "elsewhere");
  EXPECT_FALSE(c.offline);
  hub::HubOptions o;
  o.token = "hf_option";
  EXPECT_EQ(hub::resolve_config(o).token, "hf_option");
  for (const char* v : {"HF_HOME", "HF_HUB_CACHE", "HF_TOKEN", "HF_ENDPOINT"}) ::unsetenv(v);
  ::setenv("HF_HUB_OFFLINE", "1", 1);
}

TEST(HubResolve, LocalPathsPassThrough) {
  const fs::path local = fixture("brain_model/tribe_like");
  EXPECT_EQ(hub::resolve_model(local.string()), local);
  EXPECT_THROW_MSG(hub::resolve_model("/no/such/folder"), "no such file or folder");
  EXPECT_THROW_MSG(hub::resolve_model("./org/name"), "no such file or folder");
}

// The "Must show": `tribev2 download` writes huggingface_hub's layout; `predict --model org/name`
// then works offline with the server stopped.
TEST(HubDownload, CliWritesHuggingfaceHubLayoutThenPredictsOffline) {
  TempDir tmp;
  json cfg = {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}};
  HubServer server(tmp / "server", cfg);
  NEED_SERVER(server);
  const fs::path home = tmp / "hf";
  const std::vector<std::string> env = {"HF_ENDPOINT=" + server.endpoint(), "HF_HOME=" + home.string(),
                                        "HF_TOKEN=hf_secret"};
  auto r = cli(tmp.path(), env, {"download", "org/tiny"});
  ASSERT_EQ(r.code, 0) << r.err;
  const fs::path storage = home / "hub" / "models--org--tiny";
  EXPECT_EQ(last_line(r.out), (storage / "snapshots" / kCommit).string());
  EXPECT_EQ(slurp(storage / "refs" / "main"), kCommit);  // no newline, as upstream writes it
  EXPECT_NE(r.err.find("model.safetensors"), std::string::npos) << r.err;  // progress per file
  const fs::path f = fixture("brain_model/tribe_like");
  const std::string st_sha = io::sha256_file(f / "model.safetensors"), ckpt_sha = io::sha256_file(f / "best.ckpt");
  std::set<std::string> blobs;
  for (const auto& e : fs::directory_iterator(storage / "blobs")) blobs.insert(e.path().filename().string());
  EXPECT_EQ(blobs.size(), 5u);
  EXPECT_TRUE(blobs.count(st_sha) && blobs.count(ckpt_sha));  // LFS blobs are named by their SHA-256
  for (const auto& name : blobs) EXPECT_EQ(name.find(".incomplete"), std::string::npos);
  for (const std::string file : {"config.yaml", "build_args.json", "model.safetensors", "best.ckpt", "docs/README.md"}) {
    const fs::path p = storage / "snapshots" / kCommit / file;
    ASSERT_TRUE(fs::is_symlink(p)) << file;
    const fs::path target = fs::read_symlink(p);
    const std::string up = file.find('/') == std::string::npos ? "../../blobs/" : "../../../blobs/";
    EXPECT_EQ(target.string().rfind(up, 0), 0u) << file << " -> " << target;  // relative, as _create_symlink
    EXPECT_EQ(slurp(p), slurp(file == "docs/README.md" ? tmp / "src" / "docs" / "README.md" : f / file)) << file;
    EXPECT_TRUE(fs::exists(home / "hub" / ".locks" / "models--org--tiny" / (target.filename().string() + ".lock")));
  }
  // The token goes to the Hub, never to the CDN (which answers 400 if it gets one).
  for (const auto& e : server.log()) {
    const bool cdn = e["server"] == "cdn";
    EXPECT_EQ(e["auth"].get<bool>(), !cdn) << e.dump();
  }
  EXPECT_EQ(count(server.log(), "cdn", "GET", st_sha), 1);

  // A second download asks the revision API only: every file is in the snapshot.
  const auto before = server.log().size();
  r = cli(tmp.path(), env, {"-q", "download", "org/tiny"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(server.log().size(), before + 1);

  // --local-dir: plain files, and the folder as the last line.
  r = cli(tmp.path(), env, {"-q", "download", "org/tiny", "--include", "*.yaml", "--local-dir", (tmp / "plain").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), (tmp / "plain").string());
  EXPECT_TRUE(fs::is_regular_file(tmp / "plain" / "config.yaml") && !fs::is_symlink(tmp / "plain" / "config.yaml"));
  EXPECT_FALSE(fs::exists(tmp / "plain" / "model.safetensors"));

  // Predict from the local folder (reference), then from the id with the server stopped.
  server.stop();
  // The fixture's inputs are forward batches [1, L, D, T]; predict takes [L, D, N] timelines.
  for (const char* m : {"text", "audio", "video"}) {
    const Tensor t = io::read_npy(f / (std::string("input_") + m + ".npy"));
    io::write_npy(tmp / (std::string(m) + ".npy"), t.reshape({t.dim(1), t.dim(2), t.dim(3)}));
  }
  const std::string text = (tmp / "text.npy").string(), audio = (tmp / "audio.npy").string(),
                    video = (tmp / "video.npy").string();
  auto predict = [&](const std::string& model, const fs::path& out, std::vector<std::string> extra_env) {
    std::vector<std::string> e = {"HF_HOME=" + home.string(), "HF_ENDPOINT=" + server.endpoint()};
    e.insert(e.end(), extra_env.begin(), extra_env.end());
    return cli(tmp.path(), e, {"-q", "predict", "--model", model, "--features", "text=" + text, "--features",
                               "audio=" + audio, "--features", "video=" + video, "--output", out.string()});
  };
  r = predict(f.string(), tmp / "ref.npy", {});
  ASSERT_EQ(r.code, 0) << r.err;
  r = predict("org/tiny", tmp / "offline.npy", {"HF_HUB_OFFLINE=1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(tmp / "offline.npy"), slurp(tmp / "ref.npy"));
  // Without HF_HUB_OFFLINE the refused connection falls back to the cache too (huggingface_hub does).
  r = predict("org/tiny@v1.0", tmp / "fallback.npy", {});
  EXPECT_NE(r.code, 0);  // refs/v1.0 was never cached: nothing to fall back to
  EXPECT_NE(r.err.find("HF_HUB_OFFLINE=1 works"), std::string::npos) << r.err;
  r = predict("org/tiny", tmp / "fallback.npy", {});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(tmp / "fallback.npy"), slurp(tmp / "ref.npy"));
  // Offline, an uncached repo names what is missing.
  r = predict("org/other", tmp / "x.npy", {"HF_HUB_OFFLINE=1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("HF_HUB_OFFLINE=1 is set and org/other (revision main) is not in the cache"), std::string::npos)
      << r.err;
}

// Every file of a cache folder: "d" (folder), "l <target>" (symlink, not followed) or
// "f <sha256>" (regular file), by path relative to the folder.
std::map<std::string, std::string> cache_tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string rel = e.path().lexically_relative(root).string();  // fs::relative follows links
    if (e.is_symlink())
      out[rel] = "l " + fs::read_symlink(e.path()).string();
    else if (e.is_directory())
      out[rel] = "d";
    else
      out[rel] = "f " + io::sha256_file(e.path());
  }
  return out;
}

// A client we did not write: Hugging Face's own JavaScript Hub client (@huggingface/hub, pinned
// in tests/hub/hf-js) downloads the same repo from the same local Hub with its own requests
// (model info, recursive tree, paths-info, ranged resolve probes, redirects to the CDN). That
// it succeeds checks the server against a real client; that its cache folder equals ours, file
// for file and symlink for symlink, checks our layout against a real writer; and predicting
// from its cache offline, with the server stopped, checks that we read what it wrote.
TEST(HubDownload, SameCacheAsHuggingFacesJavaScriptClient) {
  const fs::path js = TRIBEV2_HF_JS_DIR;
  if (std::system("node --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "node is missing: scripts/install-deps.sh --test installs Debian's nodejs with npm";
  if (!fs::exists(js / "node_modules" / "@huggingface" / "hub" / "package.json"))
    GTEST_SKIP() << "@huggingface/hub is not installed in " << js.string()
                 << ": scripts/install-deps.sh --test runs `npm ci` there";
  TempDir tmp;
  json cfg = {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}};
  HubServer server(tmp / "server", cfg);
  NEED_SERVER(server);
  const fs::path theirs = tmp / "theirs", ours = tmp / "ours";
  const std::string node = "node '" + (js / "snapshot.mjs").string() + "' " + server.endpoint() + " org/tiny '" +
                           theirs.string() + "' >'" + (tmp / "node.out").string() + "' 2>'" +
                           (tmp / "node.err").string() + "'";
  ASSERT_EQ(std::system(node.c_str()), 0) << slurp(tmp / "node.err");
  EXPECT_EQ(last_line(slurp(tmp / "node.out")), (theirs / "models--org--tiny" / "snapshots" / kCommit).string());
  EXPECT_GE(count(server.log(), "hub", "GET", "/tree/" + kCommit), 1);  // requests only that client makes
  EXPECT_GE(count(server.log(), "hub", "POST", "/paths-info/" + kCommit), 1);

  auto r = cli(tmp.path(), {"HF_ENDPOINT=" + server.endpoint(), "HF_HUB_CACHE=" + ours.string()}, {"-q", "download", "org/tiny"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto their_tree = cache_tree(theirs / "models--org--tiny"), our_tree = cache_tree(ours / "models--org--tiny");
  int links = 0, files = 0;
  for (const auto& [path, what] : their_tree) (what[0] == 'l' ? links : what[0] == 'f' ? files : links) += what[0] != 'd';
  std::string listing;
  for (const auto& [path, what] : their_tree) listing += path + ": " + what + "\n";
  EXPECT_EQ(links, 5) << listing;  // snapshots/<commit>/{config.yaml, build_args.json, model.safetensors, best.ckpt, docs/README.md}
  EXPECT_EQ(files, 6);  // blobs/<5 etags> and refs/main
  EXPECT_EQ(our_tree, their_tree);

  server.stop();
  const fs::path f = fixture("brain_model/tribe_like");
  for (const char* m : {"text", "audio", "video"}) {
    const Tensor t = io::read_npy(f / (std::string("input_") + m + ".npy"));
    io::write_npy(tmp / (std::string(m) + ".npy"), t.reshape({t.dim(1), t.dim(2), t.dim(3)}));
  }
  auto predict = [&](const std::string& model, const fs::path& out) {
    return cli(tmp.path(), {"HF_HUB_OFFLINE=1", "HF_HUB_CACHE=" + theirs.string()},
               {"-q", "predict", "--model", model, "--features", "text=" + (tmp / "text.npy").string(), "--features",
                "audio=" + (tmp / "audio.npy").string(), "--features", "video=" + (tmp / "video.npy").string(),
                "--output", out.string()});
  };
  r = predict(f.string(), tmp / "ref.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  r = predict("org/tiny", tmp / "theirs.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(tmp / "theirs.npy"), slurp(tmp / "ref.npy"));
}

TEST(HubDownload, GatedRepoNeedsAToken) {
  TempDir tmp;
  HubServer server(tmp / "server", {{"repos", {{"org/gated", gated_repo()}}}});
  NEED_SERVER(server);
  auto o = lib_options(server, tmp / "cache");
  EXPECT_THROW_MSG(hub::snapshot_download("org/gated", o), "repo org/gated is gated: access must be requested on its page");
  EXPECT_THROW_MSG(hub::snapshot_download("org/gated", o), "No token was sent");
  o.hub.token = "hf_wrong";
  EXPECT_THROW_MSG(hub::snapshot_download("org/gated", o), "The token sent has no access to it yet");
  EXPECT_FALSE(fs::exists(tmp / "cache" / "models--org--gated" / "blobs" / io::sha256_file(fixture("brain_model/tribe_like/model.safetensors"))));
  o.hub.token = "hf_granted";
  const fs::path snap = hub::snapshot_download("org/gated", o);
  EXPECT_TRUE(fs::exists(snap / "model.safetensors"));
  for (const auto& e : server.log()) {
    if (e["server"] == "cdn") {
      EXPECT_FALSE(e["auth"].get<bool>());
    }
  }
  // The CLI says the same, with how to pass a token.
  auto r = cli(tmp.path(), {"HF_ENDPOINT=" + server.endpoint(), "HF_HOME=" + (tmp / "h2").string()},
               {"download", "org/gated"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is gated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--token"), std::string::npos) << r.err;
}

TEST(HubDownload, UnknownRepoRevisionAndFile) {
  TempDir tmp;
  HubServer server(tmp / "server", {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}});
  NEED_SERVER(server);
  auto o = lib_options(server, tmp / "cache");
  EXPECT_THROW_MSG(hub::snapshot_download("org/nothing", o), "repo org/nothing not found on " + server.endpoint());
  o.revision = "no-such-branch";
  EXPECT_THROW_MSG(hub::snapshot_download("org/tiny", o), "revision 'no-such-branch' not found in repo org/tiny");
  o.revision = "main";
  EXPECT_THROW_MSG(hub::file_download("org/tiny", "missing.bin", o), "file 'missing.bin' not found in repo org/tiny");
  o.include = {"*.gguf"};
  EXPECT_THROW_MSG(hub::snapshot_download("org/tiny", o), "no file of org/tiny at revision 'main' matches --include *.gguf");
  // A tag resolves to its commit and is remembered in refs/.
  o.include = {"config.yaml"};
  o.revision = "v1.0";
  EXPECT_EQ(hub::snapshot_download("org/tiny", o), tmp / "cache" / "models--org--tiny" / "snapshots" / kCommit);
  EXPECT_EQ(slurp(tmp / "cache" / "models--org--tiny" / "refs" / "v1.0"), kCommit);
  // No server at all: the error says HF_HUB_OFFLINE=1 works once files are cached.
  o.hub.endpoint = "http://127.0.0.1:9";
  o.revision = "main";
  EXPECT_THROW_MSG(hub::snapshot_download("org/elsewhere", o), "after that HF_HUB_OFFLINE=1 works without a network");
}

TEST(HubDownload, OnlyTheFilesALoaderNeeds) {
  TempDir tmp;
  const fs::path src = tmp / "llama";
  fs::create_directories(src / "original");
  json files;
  for (const std::string n : {"config.json", "tokenizer.json", "model-00001-of-00002.safetensors",
                              "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                              "original/consolidated.00.pth", "original/params.json", "generation_config.json"}) {
    write_bytes(src / n, "content of " + n);
    files[n] = (src / n).string();
  }
  json repo = {{"commit", kCommit}, {"refs", {{"main", kCommit}}}, {"files", files}, {"lfs", {"*.safetensors", "*.pth"}}};
  HubServer server(tmp / "server", {{"repos", {{"meta-llama/Llama-3.2-3B", repo}}}});
  NEED_SERVER(server);
  hub::ResolveOptions ro;
  ro.include = hub::llama_files();
  ro.hub.endpoint = server.endpoint();
  ro.hub.cache_dir = tmp / "cache";
  ro.hub.offline = false;
  const fs::path dir = hub::resolve_model("meta-llama/Llama-3.2-3B", ro);
  for (const std::string n : {"config.json", "tokenizer.json", "model-00001-of-00002.safetensors",
                              "model-00002-of-00002.safetensors", "model.safetensors.index.json"})
    EXPECT_EQ(slurp(dir / n), "content of " + n);
  EXPECT_FALSE(fs::exists(dir / "original"));
  EXPECT_FALSE(fs::exists(dir / "generation_config.json"));
  for (const auto& e : server.log()) EXPECT_EQ(e["path"].get<std::string>().find(".pth"), std::string::npos);
}

TEST(HubDownload, ResumesADroppedConnectionWithRange) {
  TempDir tmp;
  json cfg = {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}, {"drop_once", {"org/tiny/model.safetensors"}}};
  HubServer server(tmp / "server", cfg);
  NEED_SERVER(server);
  auto o = lib_options(server, tmp / "cache");
  o.include = {"model.safetensors", "config.yaml"};
  const fs::path snap = hub::snapshot_download("org/tiny", o);
  const fs::path f = fixture("brain_model/tribe_like/model.safetensors");
  EXPECT_EQ(slurp(snap / "model.safetensors"), slurp(f));
  const std::string sha = io::sha256_file(f);
  int full = 0, ranged = 0;
  for (const auto& e : server.log()) {
    if (e["server"] != "cdn") continue;
    if (e["range"].is_null()) ++full;
    else {
      ++ranged;
      const std::string range = e["range"];
      const long from = std::stol(range.substr(6));
      EXPECT_GT(from, 0) << range;  // resumed where the dropped transfer stopped
      EXPECT_LT(from, static_cast<long>(fs::file_size(f)));
    }
  }
  EXPECT_EQ(full, 1);
  EXPECT_EQ(ranged, 1);
  EXPECT_FALSE(fs::exists(tmp / "cache" / "models--org--tiny" / "blobs" / (sha + ".incomplete")));
}

TEST(HubDownload, ResumesAnIncompleteBlobLeftByAnEarlierRun) {
  TempDir tmp;
  HubServer server(tmp / "server", {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}});
  NEED_SERVER(server);
  const fs::path f = fixture("brain_model/tribe_like/model.safetensors");
  const std::string sha = io::sha256_file(f);
  const fs::path blobs = tmp / "cache" / "models--org--tiny" / "blobs";
  fs::create_directories(blobs);
  write_bytes(blobs / (sha + ".incomplete"), slurp(f).substr(0, 1000));
  auto o = lib_options(server, tmp / "cache");
  o.include = {"model.safetensors"};
  const fs::path snap = hub::snapshot_download("org/tiny", o);
  EXPECT_EQ(slurp(snap / "model.safetensors"), slurp(f));
  int ranged = 0;
  for (const auto& e : server.log())
    if (e["server"] == "cdn") {
      EXPECT_EQ(e["range"], "bytes=1000-");
      ++ranged;
    }
  EXPECT_EQ(ranged, 1);
}

TEST(HubDownload, RefusesABlobWithTheWrongChecksum) {
  TempDir tmp;
  json cfg = {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}, {"corrupt", {"org/tiny/model.safetensors"}}};
  HubServer server(tmp / "server", cfg);
  NEED_SERVER(server);
  auto o = lib_options(server, tmp / "cache");
  o.include = {"model.safetensors"};
  const std::string sha = io::sha256_file(fixture("brain_model/tribe_like/model.safetensors"));
  EXPECT_THROW_MSG(hub::snapshot_download("org/tiny", o), "but the Hub announced " + sha);
  const fs::path storage = tmp / "cache" / "models--org--tiny";
  EXPECT_FALSE(fs::exists(storage / "blobs" / sha));
  EXPECT_FALSE(fs::exists(storage / "blobs" / (sha + ".incomplete")));
  EXPECT_FALSE(fs::exists(storage / "snapshots" / kCommit / "model.safetensors"));
}

TEST(HubDownload, ConcurrentDownloadsFetchEachBlobOnce) {
  TempDir tmp;
  json cfg = {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}, {"delay", 0.01}};
  HubServer server(tmp / "server", cfg);
  NEED_SERVER(server);
  const std::string env = "HF_HUB_OFFLINE=0 HF_ENDPOINT=" + server.endpoint() + " HF_HUB_CACHE=" + (tmp / "cache").string();
  const std::string one = "env " + env + " '" + TRIBEV2_CLI + "' -q download org/tiny";
  const std::string cmd = "(" + one + " >" + (tmp / "a.out").string() + " 2>&1; echo $? >" + (tmp / "a.rc").string() +
                          ") & (" + one + " >" + (tmp / "b.out").string() + " 2>&1; echo $? >" + (tmp / "b.rc").string() +
                          ") & wait";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(slurp(tmp / "a.rc"), "0\n") << slurp(tmp / "a.out");
  EXPECT_EQ(slurp(tmp / "b.rc"), "0\n") << slurp(tmp / "b.out");
  EXPECT_EQ(last_line(slurp(tmp / "a.out")), last_line(slurp(tmp / "b.out")));
  const fs::path f = fixture("brain_model/tribe_like");
  for (const std::string file : {"model.safetensors", "best.ckpt"})
    EXPECT_EQ(count(server.log(), "cdn", "GET", io::sha256_file(f / file)), 1) << file;
  for (const std::string file : {"config.yaml", "build_args.json"})
    EXPECT_EQ(count(server.log(), "hub", "GET", "/resolve/" + kCommit + "/" + file), 1) << file;
  for (const auto& e : fs::directory_iterator(tmp / "cache" / "models--org--tiny" / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << e.path();
}

TEST(HubDownload, AFailedWriteLeavesNothingHalfWritten) {
  TempDir tmp;
  HubServer server(tmp / "server", {{"repos", {{"org/tiny", tiny_repo(tmp / "src")}}}});
  NEED_SERVER(server);
  // A file size limit makes the write fail as a full disk would (EFBIG instead of ENOSPC).
  auto r = cli(tmp.path(), {"HF_ENDPOINT=" + server.endpoint(), "HF_HUB_CACHE=" + (tmp / "cache").string()},
               {"-q", "download", "org/tiny", "--include", "*.safetensors"}, "trap '' XFSZ; ulimit -f 200; ");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("write failed"), std::string::npos) << r.err;
  const fs::path blobs = tmp / "cache" / "models--org--tiny" / "blobs";
  if (fs::exists(blobs)) {
    EXPECT_TRUE(fs::is_empty(blobs));
  }
  EXPECT_FALSE(fs::exists(tmp / "cache" / "models--org--tiny" / "snapshots" / kCommit / "model.safetensors"));
}

// A cache written the way huggingface_hub writes it (by hand here: the Python package is not in
// Debian) is read as is, online-less, by id and by id@commit.
TEST(HubCache, ReadsACacheWrittenByHuggingfaceHub) {
  TempDir tmp;
  const fs::path cache = tmp / "hub";
  const fs::path storage = cache / "models--facebook--tribev2";
  const fs::path f = fixture("brain_model/tribe_like");
  const std::string commit = "f1f2f3f4f5f6f7f8f9f0a1a2a3a4a5a6a7a8a9a0";
  fs::create_directories(storage / "blobs");
  fs::create_directories(storage / "snapshots" / commit);
  fs::create_directories(storage / "refs");
  // blobs/<sha256> for LFS files, blobs/<git oid> for small ones; snapshot entries are
  // relative symlinks; refs/main holds the commit without a newline.
  const std::string st = io::sha256_file(f / "model.safetensors");
  fs::copy_file(f / "model.safetensors", storage / "blobs" / st);
  fs::create_symlink("../../blobs/" + st, storage / "snapshots" / commit / "model.safetensors");
  for (const auto& [name, oid] : {std::pair<std::string, std::string>{"config.yaml", "5a1d3b0b6b0c0a7e3f7e2c1d9e8f7a6b5c4d3e2f"},
                                  {"build_args.json", "6b2e4c1c7c1d1b8f408f3d2e0f9a8b7c6d5e4f30"}}) {
    fs::copy_file(f / name, storage / "blobs" / oid);
    fs::create_symlink("../../blobs/" + oid, storage / "snapshots" / commit / name);
  }
  write_bytes(storage / "refs" / "main", commit);
  hub::ResolveOptions ro;
  ro.include = hub::brain_model_files();
  ro.hub.cache_dir = cache;
  ro.hub.offline = true;
  const fs::path dir = hub::resolve_model("facebook/tribev2", ro);
  EXPECT_EQ(dir, storage / "snapshots" / commit);
  const auto loaded = model_io::load_brain_model(dir);
  EXPECT_EQ(loaded.files.weights.filename(), "model.safetensors");
  EXPECT_EQ(hub::resolve_model("facebook/tribev2@" + commit, ro), dir);
  EXPECT_THROW_MSG(hub::resolve_model("facebook/tribev2@v2", ro), "HF_HUB_OFFLINE=1 is set");
  // The CLI reads it through HF_HUB_CACHE.
  const auto r = cli(tmp.path(), {"HF_HUB_OFFLINE=1", "HF_HUB_CACHE=" + cache.string()}, {"inspect", "facebook/tribev2"});
  EXPECT_EQ(r.code, 0) << r.err;
  // A snapshot entry whose blob is gone is named.
  fs::remove(storage / "blobs" / st);
  EXPECT_THROW_MSG(hub::resolve_model("facebook/tribev2", ro), "model.safetensors points to a missing blob");
}

}  // namespace
}  // namespace tribev2::test

namespace tribev2::test {
namespace {
TEST(HubNames, GlobMatchingStaysLinear) {
  // A pattern of many stars against a long name must not backtrack exponentially.
  std::string pattern;
  for (int i = 0; i < 40; ++i) pattern += "*a";
  pattern += "*b";
  const std::string name(5000, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(hub::glob_match(pattern, name));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_TRUE(hub::glob_match("*a*b", "xxaxxb"));
  EXPECT_FALSE(hub::glob_match("*a*b", "xxaxxbc"));
  EXPECT_TRUE(hub::glob_match("*", ""));
  EXPECT_TRUE(hub::glob_match("[]]x", "]x"));
  EXPECT_TRUE(hub::glob_match("a[", "a["));  // an unclosed '[' is a literal
}
}  // namespace
}  // namespace tribev2::test

// hf_hub_download and snapshot_download (huggingface_hub/file_download.py and
// _snapshot_download.py): the revision API names the commit and files, one HEAD per file gives
// its etag, size and download location, and the blob is written to blobs/<etag>.incomplete
// under a per-blob lock, checked, renamed into place and linked from the snapshot folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "cache.hpp"
#include "http.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/hub/hub.hpp"
#include "tribev2/io/hash.hpp"

namespace tribev2::hub {

namespace fs = std::filesystem;
using detail::NetworkError;
using detail::Response;

namespace {

constexpr int kMaxRetries = 5;  // http_get's _nb_retries: attempts without progress

std::string token_hint() {
  return "pass a token with --token, the HF_TOKEN environment variable or the file $HF_HOME/token "
         "(`hf auth login` writes it)";
}

struct Target {
  const HubConfig& cfg;
  const std::string& repo_id;
  std::string page() const { return cfg.endpoint + "/" + repo_id; }
};

// hf_raise_for_status, with messages that say what to do.
[[noreturn]] void raise_http(const Target& t, const Response& r, const std::string& revision, const std::string& file,
                             const std::string& url) {
  const std::string code = r.header("x-error-code");
  const std::string server_msg = r.header("x-error-message");
  const std::string said = server_msg.empty() ? std::string() : " (the Hub says: " + server_msg + ")";
  if (code == "GatedRepo" || (r.status == 403 && code != "RepoNotFound")) {
    fail("repo ", t.repo_id, " is gated: access must be requested on its page ", t.page(),
         " (log in, accept the licence, wait for approval), then ", token_hint(), ". ",
         t.cfg.token.empty() ? "No token was sent." : "The token sent has no access to it yet.", said);
  }
  if (code == "RevisionNotFound")
    fail("revision '", revision, "' not found in repo ", t.repo_id, " (a branch, tag or commit of ", t.page(), ")", said);
  if (code == "EntryNotFound" || (r.status == 404 && !file.empty() && code.empty()))
    fail("file '", file, "' not found in repo ", t.repo_id, " at revision '", revision, "'", said);
  if (code == "RepoNotFound" || r.status == 401 || r.status == 404)
    fail("repo ", t.repo_id, " not found on ", t.cfg.endpoint, " (check the id; a private or gated repo also needs a token: ",
         token_hint(), ")", said);
  fail(url, ": HTTP ", r.status, said);
}

[[noreturn]] void raise_unreachable(const Target& t, const std::string& what, const std::string& why,
                                    const std::string& missing) {
  fail("cannot reach the Hub at ", t.cfg.endpoint, " (", why, ") and ", what, " is not in the cache ",
       t.cfg.cache_dir.string(), missing.empty() ? "" : " (" + missing + ")",
       ". Connect once to download it (`tribev2 download ", t.repo_id,
       "`); after that HF_HUB_OFFLINE=1 works without a network.");
}

[[noreturn]] void raise_offline(const Target& t, const std::string& what, const std::string& missing) {
  fail("HF_HUB_OFFLINE=1 is set and ", what, " is not in the cache ", t.cfg.cache_dir.string(), " (", missing,
       "). Download it once while online: `tribev2 download ", t.repo_id, "` (or unset HF_HUB_OFFLINE).");
}

bool is_sha256(const std::string& etag) {
  if (etag.size() != 64) return false;
  for (char c : etag)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string normalize_etag(std::string e) {  // _normalize_etag: W/"x" or "x" -> x
  if (e.rfind("W/", 0) == 0) e.erase(0, 2);
  while (!e.empty() && e.front() == '"') e.erase(0, 1);
  while (!e.empty() && e.back() == '"') e.pop_back();
  return e;
}

std::string resolve_url(const HubConfig& cfg, const std::string& repo_id, const std::string& revision,
                        const std::string& file) {
  return cfg.endpoint + "/" + repo_id + "/resolve/" + detail::url_quote(revision, "") + "/" +
         detail::url_quote(file, "/");
}

struct FileMeta {
  std::string commit, etag, location;
  std::int64_t size = -1;
};

// get_hf_file_metadata: HEAD, following only relative redirects (a renamed repo), never the
// CDN one (its Location is where the content is).
FileMeta head_metadata(const Target& t, const std::string& revision, const std::string& file) {
  std::string url = resolve_url(t.cfg, t.repo_id, revision, file);
  Response r;
  for (int hop = 0;; ++hop) {
    r = detail::http_head(url, t.cfg.token);
    const std::string loc = r.header("location");
    if (r.status >= 300 && r.status < 400 && !loc.empty() && loc[0] == '/' && hop < 5) {
      url = detail::url_netloc(url) + loc;
      continue;
    }
    break;
  }
  if (r.status >= 400) raise_http(t, r, revision, file, url);
  FileMeta m;
  m.commit = r.header("x-repo-commit");
  m.etag = normalize_etag(!r.header("x-linked-etag").empty() ? r.header("x-linked-etag") : r.header("etag"));
  m.location = r.header("location").empty() ? url : r.header("location");
  std::string size = r.header("x-linked-size");
  if (size.empty() && !(r.status >= 300 && r.status < 400)) size = r.header("content-length");
  if (m.commit.empty())
    fail(url, ": no X-Repo-Commit header: this server does not look like a Hugging Face Hub (check HF_ENDPOINT, "
              "a proxy or firewall)");
  if (m.etag.empty()) fail(url, ": no ETag: the file's version cannot be checked");
  try {
    m.size = size.empty() ? -1 : std::stoll(size);
  } catch (const std::exception&) {
    m.size = -1;
  }
  if (m.size < 0) fail(url, ": no usable X-Linked-Size or Content-Length ('", size, "')");
  return m;
}

void report(const ProgressFn& fn, const std::string& file, std::int64_t done, std::int64_t total, bool finished,
            bool cached) {
  if (fn) fn(FileProgress{file, done, total, finished, cached});
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

// Writes the blob: resume from blobs/<etag>.incomplete, retry dropped connections with Range,
// check the size and (LFS) the SHA-256, then rename into place. Called under the blob's lock.
void fetch_blob(const Target& t, const FileMeta& m, const std::string& head_url, const fs::path& blob,
                const std::string& file, const ProgressFn& progress) {
  fs::path incomplete = blob;
  incomplete += ".incomplete";
  const int fd = ::open(incomplete.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail(incomplete.string(), ": cannot create: ", std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  ::fstat(fd, &st);
  std::int64_t have = st.st_size;
  if (have > m.size) {  // not a prefix of this blob
    if (::ftruncate(fd, 0) != 0) fail(incomplete.string(), ": cannot truncate: ", std::strerror(errno));
    have = 0;
  }
  struct statvfs vfs {};
  if (::statvfs(blob.parent_path().c_str(), &vfs) == 0) {
    const auto free_bytes = static_cast<std::int64_t>(vfs.f_bavail) * static_cast<std::int64_t>(vfs.f_frsize);
    if (free_bytes < m.size - have) {
      remove_quietly(incomplete);
      fail("not enough disk space for ", t.repo_id, "/", file, ": it needs ", m.size - have, " more bytes and ",
           blob.parent_path().string(), " has ", free_bytes, " free (set HF_HUB_CACHE or --cache-dir to another disk)");
    }
  }
  // Only the endpoint's own host gets the token; a CDN link is already signed.
  const bool same_host = detail::url_netloc(m.location) == detail::url_netloc(head_url);
  const std::string token = same_host ? t.cfg.token : std::string();
  int retries = kMaxRetries;
  report(progress, file, have, m.size, false, false);
  while (!(have == m.size && have > 0)) {
    const auto res = detail::http_get_to_fd(m.location, token, fd, have,
                                            [&](std::int64_t n) { report(progress, file, n, m.size, false, false); });
    if (res.write_errno != 0) {
      remove_quietly(incomplete);
      if (res.write_errno == ENOSPC || res.write_errno == EDQUOT)
        fail("disk full while writing ", incomplete.string(), " (", t.repo_id, "/", file, ", ", m.size,
             " bytes): the partial file was removed; free space or set HF_HUB_CACHE / --cache-dir to another disk");
      fail(incomplete.string(), ": write failed: ", std::strerror(res.write_errno));
    }
    if (res.response.status >= 400 && !res.transfer_error) raise_http(t, res.response, m.commit, file, m.location);
    if (!res.transfer_error) {
      have = res.file_size;
      break;
    }
    retries = res.file_size > have ? kMaxRetries : retries - 1;  // progress resets the count
    have = res.file_size;
    if (retries <= 0)
      fail("download of ", t.repo_id, "/", file, " keeps failing (", res.error, "); ", have, " of ", m.size,
           " bytes are kept in ", incomplete.string(), " and the next run resumes from there");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (have != m.size) {
    remove_quietly(incomplete);
    fail("download of ", t.repo_id, "/", file, " got ", have, " bytes, expected ", m.size,
         " (the server's X-Linked-Size/Content-Length); nothing was kept, retry");
  }
  if (::fsync(fd) != 0 && errno == ENOSPC) {
    remove_quietly(incomplete);
    fail("disk full while writing ", incomplete.string());
  }
  if (is_sha256(m.etag)) {  // an LFS blob is named by the SHA-256 of its content
    const std::string got = io::sha256_file(incomplete);
    if (got != m.etag) {
      remove_quietly(incomplete);
      fail("refused ", t.repo_id, "/", file, ": its SHA-256 is ", got, " but the Hub announced ", m.etag,
           " (X-Linked-Etag); the corrupt download was deleted, nothing was added to the cache");
    }
  }
  std::error_code ec;
  fs::rename(incomplete, blob, ec);
  if (ec) fail(blob.string(), ": cannot move the finished download into place: ", ec.message());
  report(progress, file, m.size, m.size, true, false);
}

// hf_hub_download into the cache; `revision` may be a branch, tag or commit.
fs::path download_one(const Target& t, const std::string& revision, const std::string& file,
                      const ProgressFn& progress) {
  const fs::path storage = t.cfg.cache_dir / repo_folder_name(t.repo_id);
  const fs::path rel = fs::path(file).lexically_normal();
  if (rel.is_absolute() || rel.empty() || *rel.begin() == "..")
    fail("repo ", t.repo_id, " lists an unsafe file name '", file, "'");
  if (detail::is_commit_hash(revision)) {
    const fs::path pointer = storage / "snapshots" / revision / rel;
    std::error_code ec;
    if (fs::exists(pointer, ec)) {
      report(progress, file, 0, 0, true, true);
      return pointer;
    }
  }
  const auto from_cache = [&](const std::string& why) -> fs::path {
    const auto commit = detail::cached_commit(storage, revision);
    std::error_code ec;
    if (commit && fs::exists(storage / "snapshots" / *commit / rel, ec)) {
      report(progress, file, 0, 0, true, true);
      return storage / "snapshots" / *commit / rel;
    }
    const std::string what = "'" + file + "' of " + t.repo_id + " (revision " + revision + ")";
    const std::string missing = commit ? "no snapshots/" + *commit + "/" + file : "no refs/" + revision;
    if (why.empty()) raise_offline(t, what, missing);
    raise_unreachable(t, what, why, missing);
  };
  if (t.cfg.offline) return from_cache("");
  FileMeta m;
  try {
    m = head_metadata(t, revision, file);
  } catch (const NetworkError& e) {
    return from_cache(e.what());
  }
  const fs::path blob = storage / "blobs" / m.etag;
  const fs::path pointer = storage / "snapshots" / m.commit / rel;
  std::error_code ec;
  if (fs::exists(pointer, ec)) {
    try {
      detail::write_ref(storage, revision, m.commit);
    } catch (const Error&) {
      // best effort (a read-only cache)
    }
    report(progress, file, 0, 0, true, true);
    return pointer;
  }
  fs::create_directories(blob.parent_path(), ec);
  if (ec) fail(blob.parent_path().string(), ": cannot create the cache folder: ", ec.message());
  detail::write_cachedir_tag(t.cfg.cache_dir);
  detail::write_ref(storage, revision, m.commit);
  const detail::FileLock lock(t.cfg.cache_dir / ".locks" / repo_folder_name(t.repo_id) / (m.etag + ".lock"));
  if (fs::exists(blob, ec)) {  // already there, or another process finished it while we waited
    report(progress, file, 0, 0, true, true);
  } else {
    fetch_blob(t, m, resolve_url(t.cfg, t.repo_id, revision, file), blob, file, progress);
  }
  detail::link_pointer(blob, pointer);
  return pointer;
}

bool selected(const std::string& path, const std::vector<std::string>& include, const std::vector<std::string>& exclude) {
  if (!include.empty()) {
    bool any = false;
    for (const auto& p : include) any = any || glob_match(p, path);
    if (!any) return false;
  }
  for (const auto& p : exclude)
    if (glob_match(p, path)) return false;
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The snapshot of a revision as cached, when the Hub is not asked (offline) or cannot be reached.
fs::path cached_snapshot(const Target& t, const SnapshotOptions& o, const std::string& why) {
  const fs::path storage = t.cfg.cache_dir / repo_folder_name(t.repo_id);
  const std::string what = t.repo_id + " (revision " + o.revision + ")";
  const auto commit = detail::cached_commit(storage, o.revision);
  const auto raise = [&](const std::string& missing) {
    if (why.empty()) raise_offline(t, what, missing);
    raise_unreachable(t, what, why, missing);
  };
  if (!commit) raise("no " + (storage / "refs" / o.revision).string());
  const fs::path snap = storage / "snapshots" / *commit;
  std::error_code ec;
  if (!fs::is_directory(snap, ec)) raise("no " + snap.string());
  int matching = 0;
  for (auto it = fs::recursive_directory_iterator(snap, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string rel = it->path().lexically_relative(snap).generic_string();
    if (!selected(rel, o.include, o.exclude)) continue;
    if (!fs::exists(it->path(), ec)) raise(rel + " points to a missing blob");
    ++matching;
    report(o.progress, rel, 0, 0, true, true);
  }
  if (matching == 0) raise("no file in " + snap.string() + " matches " + (o.include.empty() ? "*" : join(o.include)));
  return snap;
}

}  // namespace

fs::path file_download(const std::string& repo_id, const std::string& filename, const SnapshotOptions& options) {
  const HubConfig cfg = resolve_config(options.hub);
  const RepoRef ref = parse_repo_ref(repo_id);
  const std::string revision = repo_id.find('@') != std::string::npos ? ref.revision : options.revision;
  return download_one(Target{cfg, ref.repo_id}, revision, filename, options.progress);
}

fs::path snapshot_download(const std::string& repo_id, const SnapshotOptions& options) {
  const HubConfig cfg = resolve_config(options.hub);
  const RepoRef ref = parse_repo_ref(repo_id);
  SnapshotOptions o = options;
  if (repo_id.find('@') != std::string::npos) o.revision = ref.revision;  // org/name@rev
  const Target t{cfg, ref.repo_id};
  if (cfg.offline) return cached_snapshot(t, o, "");
  const std::string url = cfg.endpoint + "/api/models/" + ref.repo_id + "/revision/" + detail::url_quote(o.revision, "");
  Response r;
  try {
    r = detail::http_get_small(url, cfg.token);
  } catch (const NetworkError& e) {
    return cached_snapshot(t, o, e.what());
  }
  if (r.status >= 500) return cached_snapshot(t, o, str_cat("HTTP ", r.status, " from ", url));
  if (r.status != 200) raise_http(t, r, o.revision, "", url);
  std::string commit;
  std::vector<std::string> files;
  try {
    const auto j = nlohmann::json::parse(r.body);
    commit = j.at("sha").get<std::string>();
    for (const auto& s : j.at("siblings")) files.push_back(s.at("rfilename").get<std::string>());
  } catch (const std::exception& e) {
    fail(url, ": not a Hub revision answer (expected JSON with 'sha' and 'siblings[].rfilename'): ", e.what());
  }
  TRIBEV2_CHECK(detail::is_commit_hash(commit), url, ": 'sha' is not a 40-digit commit hash: '", commit, "'");
  std::vector<std::string> wanted;
  for (const auto& f : files)
    if (selected(f, o.include, o.exclude)) wanted.push_back(f);
  if (wanted.empty())
    fail("no file of ", ref.repo_id, " at revision '", o.revision, "' matches --include ",
         o.include.empty() ? "*" : join(o.include), o.exclude.empty() ? "" : " minus --exclude " + join(o.exclude),
         "; the repo has: ", files.empty() ? "(no files)" : join(files));
  for (const auto& f : wanted) download_one(t, commit, f, o.progress);
  const fs::path storage = cfg.cache_dir / repo_folder_name(ref.repo_id);
  detail::write_ref(storage, o.revision, commit);
  return storage / "snapshots" / commit;
}

}  // namespace tribev2::hub

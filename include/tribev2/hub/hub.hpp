// A Hugging Face Hub client that speaks the protocol of `huggingface_hub` and shares its cache:
// the revision API, HEAD metadata without redirects, GET with resume, SHA-256 checks of LFS
// blobs, and the `models--org--name/{blobs,snapshots,refs}` layout with per-blob lock files.
// A cache written by the Python package is read as is, and ours is read by it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tribev2::hub {

// Where and how to reach the Hub. Unset fields come from the environment, exactly as
// huggingface_hub reads it: HF_ENDPOINT, HF_HUB_CACHE (else $HF_HOME/hub, HF_HOME defaulting to
// $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface), HF_TOKEN (else the file $HF_HOME/token,
// or HF_TOKEN_PATH), HF_HUB_OFFLINE=1.
struct HubOptions {
  std::optional<std::string> endpoint;
  std::optional<std::filesystem::path> cache_dir;
  std::optional<std::string> token;
  std::optional<bool> offline;
};

struct HubConfig {
  std::string endpoint;             // without a trailing '/'
  std::filesystem::path cache_dir;  // the hub cache (holds models--org--name folders)
  std::string token;                // empty: anonymous
  bool offline = false;
};
HubConfig resolve_config(const HubOptions& options);

// `org/name` or `org/name@revision` (revision defaults to "main").
struct RepoRef {
  std::string repo_id;
  std::string revision = "main";
};
// True for strings shaped like a model repo id (`name`, `org/name`, optional `@rev`).
bool looks_like_repo_id(const std::string& text);
RepoRef parse_repo_ref(const std::string& text);  // throws on a malformed id
// "models--org--name", as huggingface_hub's repo_folder_name.
std::string repo_folder_name(const std::string& repo_id);

// fnmatch.fnmatchcase as huggingface_hub's filter_repo_objects uses it: `*` also crosses '/',
// `?` one character, `[seq]`/`[!seq]`; a pattern ending in '/' matches everything below it.
bool glob_match(const std::string& pattern, const std::string& path);

// Called while a file downloads (done/total in bytes; total 0 when unknown) and once more with
// done == total when it finishes; `cached` files are reported once, with done == total.
struct FileProgress {
  std::string file;
  std::int64_t done = 0;
  std::int64_t total = 0;
  bool finished = false;
  bool cached = false;
};
using ProgressFn = std::function<void(const FileProgress&)>;

struct SnapshotOptions {
  HubOptions hub;
  std::string revision = "main";
  std::vector<std::string> include;  // empty: every file
  std::vector<std::string> exclude;
  ProgressFn progress;
};

// snapshot_download: fetches the files of REPO_ID at a revision that match the globs into the
// cache and returns the snapshot folder `<cache>/models--org--name/snapshots/<commit>`.
// Offline (HF_HUB_OFFLINE=1), or when the Hub cannot be reached, the cached snapshot of the
// revision is used; a clear error names what is missing.
std::filesystem::path snapshot_download(const std::string& repo_id, const SnapshotOptions& options);

// hf_hub_download for one file: returns the path of its snapshot pointer.
std::filesystem::path file_download(const std::string& repo_id, const std::string& filename,
                                    const SnapshotOptions& options);

// Copies (hard links when possible) the files of a snapshot folder that match the globs into
// DIR, keeping their relative paths; returns DIR.
std::filesystem::path export_snapshot(const std::filesystem::path& snapshot, const std::filesystem::path& dir,
                                      const std::vector<std::string>& include = {},
                                      const std::vector<std::string>& exclude = {});

// The one resolver every model loader uses: an existing local path is returned unchanged; an
// `org/name[@revision]` id is resolved through the cache, downloading only the files that match
// `include` (what that loader needs). `revision` (if set) overrides an `@rev` in the id.
struct ResolveOptions {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  HubOptions hub;
  std::optional<std::string> revision;
  ProgressFn progress;
};
std::filesystem::path resolve_model(const std::string& path_or_repo_id, const ResolveOptions& options = {});

}  // namespace tribev2::hub

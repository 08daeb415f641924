// The one resolver of model paths: local paths pass through, repo ids go through the cache.
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/hub/hub.hpp"

namespace tribev2::hub {

namespace fs = std::filesystem;

fs::path resolve_model(const std::string& path_or_repo_id, const ResolveOptions& options) {
  TRIBEV2_CHECK(!path_or_repo_id.empty(), "empty model path or repo id");
  std::error_code ec;
  const fs::path local(path_or_repo_id);
  if (fs::exists(local, ec)) return local;
  // Something that names a file system location is never sent to the Hub.
  const std::string id = path_or_repo_id.substr(0, path_or_repo_id.find('@'));  // a revision may hold '/'
  const bool pathlike = id[0] == '/' || id[0] == '.' || id[0] == '~' || id.find('/') != id.rfind('/') ||
                        id.find('/') == std::string::npos;
  if (pathlike || !looks_like_repo_id(path_or_repo_id))
    fail(path_or_repo_id, ": no such file or folder (and not a Hugging Face repo id such as org/name or org/name@revision)");
  const RepoRef ref = parse_repo_ref(path_or_repo_id);
  SnapshotOptions so;
  so.hub = options.hub;
  so.revision = options.revision ? *options.revision : ref.revision;
  so.include = options.include;
  so.exclude = options.exclude;
  so.progress = options.progress;
  return snapshot_download(ref.repo_id, so);
}

fs::path export_snapshot(const fs::path& snapshot, const fs::path& dir, const std::vector<std::string>& include,
                         const std::vector<std::string>& exclude) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir.string(), ": cannot create: ", ec.message());
  for (auto it = fs::recursive_directory_iterator(snapshot); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory()) continue;
    const fs::path rel = it->path().lexically_relative(snapshot);
    bool wanted = include.empty();
    for (const auto& p : include) wanted = wanted || glob_match(p, rel.generic_string());
    for (const auto& p : exclude) wanted = wanted && !glob_match(p, rel.generic_string());
    if (!wanted) continue;
    const fs::path dst = dir / rel;
    const fs::path blob = fs::canonical(it->path());
    fs::create_directories(dst.parent_path());
    fs::path tmp = dst;
    tmp += ".tmp-export";
    fs::remove(tmp, ec);
    fs::create_hard_link(blob, tmp, ec);  // same file system: no copy
    if (ec) {
      ec.clear();
      fs::copy_file(blob, tmp, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        fs::remove(tmp);
        fail(dst.string(), ": cannot copy from the cache: ", ec.message());
      }
    }
    fs::rename(tmp, dst);
  }
  return dir;
}

}  // namespace tribev2::hub

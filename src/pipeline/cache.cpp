#include "tribev2/pipeline/cache.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/pipeline/hash.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

StageCache::StageCache(fs::path root, Cleanup& cleanup, bool recompute)
    : root_(fs::absolute(root).lexically_normal()), cleanup_(cleanup), recompute_(recompute) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) fail(root_.string(), ": cannot create the cache folder: ", ec.message());
}

namespace {

// Entry integrity: entry.json lists the SHA-256 of every file of the entry ("content_sha256",
// relative name -> hash) and the SHA-256 of its own canonical dump without "entry_sha256".
// A lookup re-hashes everything, so a flipped byte, a truncated file, a missing or an extra
// file, or a hand-edited entry.json makes the entry invisible: it is recomputed and replaced,
// never used.
constexpr const char* kContentField = "content_sha256";
constexpr const char* kEntryField = "entry_sha256";

nlohmann::json hash_entry_files(const fs::path& dir) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = e.path().lexically_relative(dir).generic_string();
    if (rel == "entry.json") continue;
    files[rel] = sha256_file(e.path());
  }
  return files;
}

std::string entry_self_hash(nlohmann::json entry) {
  entry.erase(kEntryField);
  return sha256_hex(entry.dump());
}

}  // namespace

bool verify_cache_entry(const fs::path& dir) {
  try {
    std::error_code ec;
    if (!fs::is_regular_file(dir / "entry.json", ec)) return false;
    const nlohmann::json entry = io::read_json_object(dir / "entry.json");
    if (!entry.is_object() || !entry.contains(kEntryField) || !entry[kEntryField].is_string() ||
        !entry.contains(kContentField) || !entry[kContentField].is_object())
      return false;
    if (entry[kEntryField].get<std::string>() != entry_self_hash(entry)) return false;
    return hash_entry_files(dir) == entry[kContentField];
  } catch (const std::exception&) {  // unreadable, not JSON, vanished meanwhile: not an entry
    return false;
  }
}

std::optional<fs::path> StageCache::find(const std::string& stage, const std::string& key) const {
  if (recompute_) return std::nullopt;
  const fs::path dir = root_ / stage / key;
  if (verify_cache_entry(dir)) return dir;
  return std::nullopt;
}

namespace {
// This host's name, for temporary folder names: on a shared (NFS) cache, a pid only means
// something on the host that wrote it.
const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return std::string("localhost");
    std::string h(buf);
    for (char& c : h)
      if (c == '/' || c == '@') c = '_';
    return h;
  }();
  return name;
}

// Folders of other hosts are left alone unless they are older than this (a task of another
// node may still be writing them; entries are renamed into place, so this is only disk space).
constexpr auto kForeignTmpAge = std::chrono::hours(24);

// Removes .tmp-* folders of processes that no longer exist (the pid is in the name, the host
// after '@'; names without a host are from this host's older versions).
void remove_stale_tmp(const fs::path& stage_dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(stage_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) != 0) continue;
    if (const auto at = name.rfind('@'); at != std::string::npos) {
      const std::string host = name.substr(at + 1);
      name.resize(at);
      if (host != host_name()) {
        std::error_code tec;
        const auto mtime = fs::last_write_time(e.path(), tec);
        if (!tec && fs::file_time_type::clock::now() - mtime > kForeignTmpAge) fs::remove_all(e.path(), tec);
        continue;
      }
    }
    const auto dash2 = name.rfind('-');
    const auto dash1 = dash2 == std::string::npos || dash2 == 0 ? std::string::npos : name.rfind('-', dash2 - 1);
    if (dash1 == std::string::npos) continue;
    const long pid = std::strtol(name.c_str() + dash1 + 1, nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}
}  // namespace

fs::path StageCache::store(const std::string& stage, const std::string& key, const nlohmann::json& meta,
                           const std::function<void(const fs::path&)>& fill) {
  const fs::path stage_dir = root_ / stage;
  const fs::path final_dir = stage_dir / key;
  std::lock_guard lock(cleanup_.commit_mutex());
  std::error_code ec;
  fs::create_directories(stage_dir, ec);
  if (ec) fail(stage_dir.string(), ": cannot create: ", ec.message());
  remove_stale_tmp(stage_dir);
  const fs::path tmp = stage_dir / (".tmp-" + key.substr(0, 16) + "-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(counter_++) + "@" + host_name());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) fail(tmp.string(), ": cannot create: ", ec.message());
  try {
    fill(tmp);
    nlohmann::json entry = meta;
    entry["key"] = key;
    entry["stage"] = stage;
    entry[kContentField] = hash_entry_files(tmp);
    entry[kEntryField] = entry_self_hash(entry);
    io::write_text_file_atomic(tmp / "entry.json", entry.dump(1) + "\n");
    if (!recompute_ && verify_cache_entry(final_dir)) {
      // Another process stored the same entry meanwhile: keep theirs (it may be in use).
      fs::remove_all(tmp, ec);
      return final_dir;
    }
    // --recompute, a folder without a valid entry.json (corrupt, killed before the rename).
    if (fs::exists(final_dir)) fs::remove_all(final_dir, ec);
    fs::rename(tmp, final_dir, ec);
    if (ec) {
      // Another process renamed its (identical) entry into place between our check and our
      // rename (the commit mutex is per process): keep theirs if it is valid.
      const std::error_code rename_error = ec;
      if (verify_cache_entry(final_dir)) {
        fs::remove_all(tmp, ec);
        return final_dir;
      }
      fail(final_dir.string(), ": cannot move the new cache entry into place: ", rename_error.message());
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return final_dir;
}

fs::path StageCache::make_work_dir(const std::string& label) {
  const fs::path dir = root_ / "tmp" / (".tmp-" + label + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) +
                                         "@" + host_name());
  std::lock_guard lock(cleanup_.commit_mutex());
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  remove_stale_tmp(dir.parent_path());
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) fail(dir.string(), ": cannot create: ", ec.message());
  cleanup_.track_dir(dir);
  return dir;
}

void StageCache::release_work_dir(const fs::path& dir) {
  std::lock_guard lock(cleanup_.commit_mutex());
  std::error_code ec;
  fs::remove_all(dir, ec);
  cleanup_.untrack_dir(dir);
}

}  // namespace tribev2::pipeline

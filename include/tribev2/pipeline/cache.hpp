// The stage cache: one folder per (stage, key) under the cache root, where key is the
// SHA-256 of a canonical JSON description of everything the stage's result depends on
// (content hashes of the inputs, parameters, the compute precision, the versions of the code
// and tools), built by io::CacheKey.
//
// Layout: ROOT/<stage>/<key>/{files..., entry.json}. An entry is built in a temporary folder
// ROOT/<stage>/.tmp-<key>-<pid>-<n> and renamed into place under the commit mutex, so an
// entry is either complete or absent, also after Ctrl-C; lookups ignore folders without
// entry.json. Temporary folders left by a killed process (SIGKILL, power loss) are removed by
// the next store into the same stage. entry.json records the SHA-256 of every file of the
// entry and of itself; find() re-checks them, so a corrupted entry is recomputed, never used.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tribev2/io/cache_key.hpp"
#include "tribev2/pipeline/interrupt.hpp"

namespace tribev2::pipeline {

// Keys are built with io::CacheKey (the one key builder: canonical JSON, SHA-256, the compute
// precision stated in every key).
using io::CacheKey;

// True when `dir` holds a complete, unaltered entry: entry.json parses, its own hash matches,
// and the SHA-256 of every file (and the set of files) matches what it lists.
bool verify_cache_entry(const std::filesystem::path& dir);

class StageCache {
 public:
  // `recompute`: ignore existing entries (they are replaced by the new results).
  StageCache(std::filesystem::path root, Cleanup& cleanup, bool recompute = false);

  const std::filesystem::path& root() const { return root_; }
  std::optional<std::filesystem::path> find(const std::string& stage, const std::string& key) const;
  // Calls fill(tmp_folder) to write the entry's files, then writes entry.json (`meta` plus
  // the key) and renames the folder into place. `fill` runs with the commit mutex held, so
  // it should only write results computed beforehand. Returns the entry's folder.
  std::filesystem::path store(const std::string& stage, const std::string& key, const nlohmann::json& meta,
                              const std::function<void(const std::filesystem::path&)>& fill);
  // A fresh temporary folder under ROOT/tmp for work that runs outside the commit mutex
  // (e.g. a subprocess writing its outputs); tracked by the Cleanup until released.
  std::filesystem::path make_work_dir(const std::string& label);
  void release_work_dir(const std::filesystem::path& dir);

 private:
  std::filesystem::path root_;
  Cleanup& cleanup_;
  bool recompute_;
  int counter_ = 0;
};

}  // namespace tribev2::pipeline

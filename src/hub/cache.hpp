// The huggingface_hub cache layout (private to the hub library):
//   <cache>/models--org--name/blobs/<etag>                 file contents (etag: SHA-256 for LFS, git oid otherwise)
//   <cache>/models--org--name/snapshots/<commit>/<path>    relative symlink to ../../blobs/<etag>
//   <cache>/models--org--name/refs/<revision>              the commit (no newline)
//   <cache>/.locks/models--org--name/<etag>.lock           one lock file per blob
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tribev2::hub::detail {

bool is_commit_hash(const std::string& revision);  // 40 lower-case hex digits

// Exclusive flock(2) on a lock file, held for the object's lifetime (waits for other holders).
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// The commit a revision points to in the cache: the revision itself when it is a commit hash,
// else the content of refs/<revision>; nullopt when unknown.
std::optional<std::string> cached_commit(const std::filesystem::path& storage, const std::string& revision);
// Writes refs/<revision> atomically unless the revision is the commit itself or already stored.
void write_ref(const std::filesystem::path& storage, const std::string& revision, const std::string& commit);
// Points snapshots/<commit>/<path> at the blob with a relative symlink (atomic replace).
void link_pointer(const std::filesystem::path& blob, const std::filesystem::path& pointer);
// <cache>/CACHEDIR.TAG (the Cache Directory Tagging Standard), as huggingface_hub writes it.
void write_cachedir_tag(const std::filesystem::path& cache_dir);

}  // namespace tribev2::hub::detail

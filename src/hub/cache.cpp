#include "cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::hub::detail {

namespace fs = std::filesystem;

bool is_commit_hash(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (char c : revision)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

FileLock::FileLock(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
  if (fd_ < 0) fail(path.string(), ": cannot open the lock file: ", std::strerror(errno));
  // flock is per open file, so it also separates threads of one process; on Linux NFS it is
  // carried by fcntl locks, which the server sees (two Slurm tasks on two nodes).
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int e = errno;
    ::close(fd_);
    fail(path.string(), ": cannot lock: ", std::strerror(e));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

std::optional<std::string> cached_commit(const fs::path& storage, const std::string& revision) {
  if (is_commit_hash(revision)) return revision;
  std::ifstream in(storage / "refs" / revision);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string c = ss.str();
  while (!c.empty() && std::isspace(static_cast<unsigned char>(c.back()))) c.pop_back();
  if (c.empty()) return std::nullopt;
  return c;
}

void write_ref(const fs::path& storage, const std::string& revision, const std::string& commit) {
  if (revision == commit) return;
  if (cached_commit(storage, revision) == commit) return;  // a read-only cache stays usable
  const fs::path ref = storage / "refs" / revision;
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  io::write_text_file_atomic(ref, commit);
}

void link_pointer(const fs::path& blob, const fs::path& pointer) {
  std::error_code ec;
  fs::create_directories(pointer.parent_path(), ec);
  if (ec) fail(pointer.parent_path().string(), ": cannot create the snapshot folder: ", ec.message());
  const fs::path target = fs::relative(blob, pointer.parent_path(), ec);
  if (ec || target.empty()) fail(pointer.string(), ": cannot compute a relative path to ", blob.string());
  fs::path tmp = pointer;
  tmp += ".tmp." + std::to_string(::getpid());
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (ec) fail(pointer.string(), ": cannot create the symlink to ", target.string(), ": ", ec.message());
  fs::rename(tmp, pointer, ec);
  if (ec) {
    fs::remove(tmp);
    fail(pointer.string(), ": cannot place the symlink: ", ec.message());
  }
}

void write_cachedir_tag(const fs::path& cache_dir) {
  const fs::path tag = cache_dir / "CACHEDIR.TAG";
  std::error_code ec;
  if (fs::exists(tag, ec)) return;
  try {
    io::write_text_file_atomic(tag,
                               "Signature: 8a477f597d28d172789f06886806bc55\n"
                               "# This file is a cache directory tag created by huggingface_hub.\n"
                               "# For information about cache directory tags, see:\n"
                               "#\thttps://bford.info/cachedir/\n");
  } catch (const Error&) {
    // best effort, as upstream: a read-only cache is still readable
  }
}

}  // namespace tribev2::hub::detail

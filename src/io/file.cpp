#include "tribev2/io/file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "tribev2/core/error.hpp"

namespace tribev2::io {

namespace fs = std::filesystem;

std::shared_ptr<const MappedFile> MappedFile::open(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path.string(), ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    fail(path.string(), ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path.string(), ": not a regular file");
  }
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->path_ = path;
  m->size_ = static_cast<std::size_t>(st.st_size);
  if (m->size_ > 0) {
    void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      fail(path.string(), ": cannot map: ", std::strerror(e));
    }
    m->data_ = static_cast<const std::byte*>(p);
  }
  ::close(fd);
  return m;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::vector<std::byte> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open: ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) fail(path.string(), ": cannot determine size");
  in.seekg(0, std::ios::beg);
  std::vector<std::byte> out(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(out.data()), size))
    fail(path.string(), ": read failed");
  return out;
}

std::string read_text_file(const fs::path& path) {
  const auto bytes = read_file(path);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

namespace {
// Removes ".tmp-<name>-<pid>-<n>" files beside `path` left by processes that no longer exist
// (killed with SIGKILL or by a power loss before their commit or destructor ran).
void remove_stale_temporaries(const fs::path& dir, const std::string& name) {
  const std::string prefix = ".tmp-" + name + "-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() <= prefix.size() || f.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(f.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '-' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}
}  // namespace

AtomicFileWriter::AtomicFileWriter(fs::path path) : path_(std::move(path)) {
  const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(path_.string(), ": cannot create the folder ", dir.string(), ": ", ec.message());
  remove_stale_temporaries(dir, path_.filename().string());
  std::random_device rd;
  tmp_ = dir / (".tmp-" + path_.filename().string() + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(path_.string(), ": cannot create ", tmp_.string(), ": ", std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!f_) return;
  std::fclose(f_);
  std::error_code ec;
  fs::remove(tmp_, ec);
}

void AtomicFileWriter::write(std::span<const std::byte> bytes) {
  TRIBEV2_CHECK(f_, path_.string(), ": write after commit");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size())
    fail(path_.string(), ": write failed (disk full?): ", std::strerror(errno));
  size_ += bytes.size();
}

void AtomicFileWriter::overwrite(std::size_t offset, std::span<const std::byte> bytes) {
  TRIBEV2_CHECK(f_, path_.string(), ": write after commit");
  TRIBEV2_CHECK(offset + bytes.size() <= size_, path_.string(), ": overwrite past the end of what was written");
  const bool ok = ::fseeko(f_, static_cast<off_t>(offset), SEEK_SET) == 0 &&
                  std::fwrite(bytes.data(), 1, bytes.size(), f_) == bytes.size() &&
                  ::fseeko(f_, 0, SEEK_END) == 0;
  if (!ok) fail(path_.string(), ": write failed: ", std::strerror(errno));
}

void AtomicFileWriter::commit() {
  TRIBEV2_CHECK(f_, path_.string(), ": committed twice");
  const bool ok = std::fflush(f_) == 0;
  const int flush_errno = errno;
  const bool closed = std::fclose(f_) == 0;
  const int close_errno = errno;
  f_ = nullptr;
  std::error_code ec;
  if (!ok || !closed) {
    fs::remove(tmp_, ec);
    fail(path_.string(), ": write failed (disk full?): ", std::strerror(!ok ? flush_errno : close_errno));
  }
  fs::rename(tmp_, path_, ec);
  if (ec) {
    fs::remove(tmp_, ec);
    fail(path_.string(), ": cannot move the temporary file into place: ", ec.message());
  }
}

void write_file_atomic(const fs::path& path, std::span<const std::byte> bytes) {
  AtomicFileWriter w(path);
  w.write(bytes);
  w.commit();
}

void write_text_file_atomic(const fs::path& path, std::string_view text) {
  write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

}  // namespace tribev2::io

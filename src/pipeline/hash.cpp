#include "tribev2/pipeline/hash.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "tribev2/core/error.hpp"

namespace tribev2::pipeline {

namespace fs = std::filesystem;

namespace {
void hash_file_range(Sha256& h, const fs::path& path, std::uint64_t begin, std::uint64_t length) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open for hashing: ", std::strerror(errno));
  in.seekg(static_cast<std::streamoff>(begin));
  std::vector<char> buf(1 << 20);
  std::uint64_t left = length;
  while (left > 0) {
    const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
    in.read(buf.data(), want);
    const auto got = in.gcount();
    if (got <= 0) fail(path.string(), ": read error while hashing");
    h.update(std::as_bytes(std::span<const char>(buf.data(), static_cast<std::size_t>(got))));
    left -= static_cast<std::uint64_t>(got);
  }
}
}  // namespace

std::string fingerprint_path(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path.string(), ": does not exist");
  std::vector<std::pair<std::string, fs::path>> files;
  if (fs::is_directory(path)) {
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const std::string name = it->path().filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) files.emplace_back(fs::relative(it->path(), path).generic_string(), it->path());
    }
    if (ec) fail(path.string(), ": cannot list: ", ec.message());
  } else {
    files.emplace_back(path.filename().string(), path);
  }
  std::sort(files.begin(), files.end());
  constexpr std::uint64_t small = 64ull << 20, edge = 4ull << 20;
  Sha256 h;
  for (const auto& [rel, p] : files) {
    const auto size = fs::file_size(p);
    h.update(rel + "\n" + std::to_string(size) + "\n");
    if (size <= small) {
      h.update(sha256_file(p) + "\n");
    } else {
      Sha256 part;
      hash_file_range(part, p, 0, edge);
      hash_file_range(part, p, size - edge, edge);
      const auto mtime = fs::last_write_time(p).time_since_epoch().count();
      h.update(part.hex() + "\n" + std::to_string(mtime) + "\n");
    }
  }
  return h.hex();
}

}  // namespace tribev2::pipeline

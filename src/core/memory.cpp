#include "tribev2/core/memory.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace tribev2 {

namespace {

struct Mapping {
  std::uintptr_t begin = 0, end = 0;
  bool readonly_file = false;
};

#if defined(__linux__)
// /proc/self/maps: "begin-end perms offset dev inode path". A read-only (no 'w') mapping with a
// non-zero inode is a file mapping whose pages can always be re-read from the file.
std::vector<Mapping> read_maps() {
  std::vector<Mapping> out;
  std::ifstream f("/proc/self/maps");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string range, perms, offset, dev;
    unsigned long long inode = 0;
    if (!(s >> range >> perms >> offset >> dev >> inode)) continue;
    const auto dash = range.find('-');
    if (dash == std::string::npos) continue;
    Mapping m;
    m.begin = static_cast<std::uintptr_t>(std::stoull(range.substr(0, dash), nullptr, 16));
    m.end = static_cast<std::uintptr_t>(std::stoull(range.substr(dash + 1), nullptr, 16));
    m.readonly_file = inode != 0 && perms.size() >= 2 && perms[1] != 'w';
    out.push_back(m);
  }
  return out;
}
#endif

}  // namespace

std::size_t release_file_pages(const std::vector<std::pair<const void*, std::size_t>>& ranges) {
#if defined(__linux__)
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::vector<Mapping> maps = read_maps();
  std::size_t released = 0;
  for (const auto& [p, n] : ranges) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    // Whole pages inside the range only: the edges may hold other tensors still in use (that
    // would be harmless for a file mapping, but costs a re-fault).
    const std::uintptr_t lo = (a + page - 1) / page * page, hi = (a + n) / page * page;
    if (hi <= lo) continue;
    for (const Mapping& m : maps) {
      if (!m.readonly_file || m.end <= lo || m.begin >= hi) continue;
      const std::uintptr_t b = std::max(lo, m.begin), e = std::min(hi, m.end);
      if (e > b && madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED) == 0) released += e - b;
    }
  }
  return released;
#else
  (void)ranges;
  return 0;
#endif
}

bool is_file_mapping(const void* p, std::size_t n) {
#if defined(__linux__)
  if (n == 0) return false;
  std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t end = a + n;
  const std::vector<Mapping> maps = read_maps();  // sorted by address
  for (const Mapping& m : maps) {
    if (m.end <= a || m.begin > a) continue;
    if (!m.readonly_file) return false;
    a = m.end;  // covered up to here; the rest must follow in the next mappings
    if (a >= end) return true;
  }
  return false;
#else
  (void)p;
  (void)n;
  return false;
#endif
}

std::size_t peak_rss_bytes() {
#if defined(__linux__)
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<std::size_t>(u.ru_maxrss) * 1024;
#else
  return 0;
#endif
}

std::size_t current_rss_bytes() {
#if defined(__linux__)
  std::ifstream f("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#else
  return 0;
#endif
}

}  // namespace tribev2

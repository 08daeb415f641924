// Process memory helpers: resident-set accounting and giving back pages of read-only file
// mappings that are no longer needed (e.g. F32 weights after they were packed to bf16).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace tribev2 {

// Drops this process's page mappings for the parts of [p, p + n) that lie in read-only file
// mappings (e.g. a memory-mapped safetensors file): the pages leave our resident set but stay
// in the page cache, and a later access simply maps them again. Memory that is not a file
// mapping (heap, anonymous) is never touched. Returns the number of bytes released.
std::size_t release_file_pages(const std::vector<std::pair<const void*, std::size_t>>& ranges);

// Whether all of [p, p + n) lies in read-only file mappings (so release_file_pages can give
// its pages back and a later access re-reads them from the file).
bool is_file_mapping(const void* p, std::size_t n);

// Peak and current resident set size of this process in bytes (0 when unknown).
std::size_t peak_rss_bytes();
std::size_t current_rss_bytes();

}  // namespace tribev2

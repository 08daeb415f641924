// Downloading pinned files with libcurl and checking their SHA-256 (OpenSSL libcrypto EVP).
#pragma once

#include "tribev2/io/hash.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tribev2/viz/fsaverage.hpp"

namespace tribev2::viz {

// SHA-256 from io/hash.hpp (the project's one hash).
using io::sha256_file;
using io::sha256_hex;

// The body of a URL (http(s)://, file://); fails on HTTP errors, on bodies larger than
// `max_bytes` and after `timeout_s` seconds.
std::vector<std::byte> download(const std::string& url, long timeout_s = 300,
                                std::size_t max_bytes = std::size_t{64} << 20);

struct FetchOptions {
  std::string base_url;          // folder URL ending in '/'; empty: the pinned fsaverage5 URL
  bool force = false;            // download even files already present with the right hash
  long timeout_s = 300;
  std::function<void(const std::string&)> log;  // one line per file
};

struct FetchResult {
  int downloaded = 0;
  int already_present = 0;
};

// Puts every file of `files` into `dir`: a file already there with the right hash is kept
// (unless force); otherwise it is downloaded from base_url + name, its hash checked, and
// written atomically. A wrong hash is an error naming the file, the expected and the actual hash.
FetchResult fetch_files(const std::filesystem::path& dir, std::span<const PinnedFile> files,
                        const FetchOptions& options);
FetchResult fetch_fsaverage5(const std::filesystem::path& dir, const FetchOptions& options);

// Checks the hashes of the files present in `dir`; returns the names that are missing or wrong.
std::vector<std::string> verify_files(const std::filesystem::path& dir, std::span<const PinnedFile> files);

}  // namespace tribev2::viz

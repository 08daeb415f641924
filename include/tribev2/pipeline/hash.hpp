// Content hashes for the stage cache (SHA-256 from io/hash.hpp) and a fingerprint of model
// folders.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "tribev2/io/hash.hpp"

namespace tribev2::pipeline {

// The project's SHA-256 (io/hash.hpp).
using io::Sha256;
using io::sha256_file;
using io::sha256_hex;

// Identity of a model file or folder for cache keys. Every regular file under the path
// (recursively, hidden files skipped, sorted by relative name) contributes its relative name
// and size; files up to 64 MiB contribute their whole content hash, larger ones (weights)
// the hash of their first and last 4 MiB plus their modification time. Hashing multi-GB
// weights in full on every run would cost seconds; a changed weight file almost always
// changes its size, header, tail or mtime.
std::string fingerprint_path(const std::filesystem::path& path);

}  // namespace tribev2::pipeline

// Helpers shared by the tests: fixture paths, temp dirs, array comparison, running the CLI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "tribev2/core/tensor.hpp"
#include "tribev2/features/chunk_store.hpp"

namespace tribev2::test {

// Whether this build runs under AddressSanitizer (GCC defines __SANITIZE_ADDRESS__, clang has
// __has_feature): for the few checks the sanitizer's runtime cannot support (see their uses).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

std::filesystem::path fixtures();                 // tests/fixtures
std::filesystem::path fixture(const std::string& rel);
std::filesystem::path shared_data();              // ../shared/data (may not exist)

// A fresh temporary directory, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Every numeric comparison in the tests goes through MaxDiff (or the functions below built on
// it), never a hand-rolled std::max(d, |a - b|): with that loop a NaN output scores 0 and passes.
// Here any NaN on either side, or an infinity the other side does not match exactly, makes the
// difference +inf, so every EXPECT_LE(diff, tol) fails.
class MaxDiff {
 public:
  void add(double got, double expected);
  void add(std::span<const float> got, std::span<const float> expected);
  // max |got - expected| (+inf when poisoned; 0 before anything was added).
  double abs() const;
  // abs() / max |expected| over the finite expected values; 0 when both are all zeros, +inf
  // when the expected side is all zeros but got is not.
  double rel() const;

 private:
  double diff_ = 0.0, scale_ = 0.0;
  bool poisoned_ = false;
};

// max |got - expected| / max |expected| (0 when both are all zeros); shapes must match.
double max_rel_diff(const Tensor& got, const Tensor& expected);
double max_abs_diff(const Tensor& got, const Tensor& expected);
double max_rel_diff(std::span<const float> got, std::span<const float> expected);
double max_abs_diff(std::span<const float> got, std::span<const float> expected);
// max_rel_diff of each slice along dim 0 (one value per slice; {+inf} on a shape mismatch).
std::vector<double> rel_diff_per_slice(const Tensor& got, const Tensor& expected);

// n standard-normal floats from std::mt19937(seed): the random operands of kernel tests.
std::vector<float> rand_vec(std::size_t n, unsigned seed);

// A features::ChunkStore kept in memory (keyed by the chunk's offset and duration) that counts
// the chunks it had to compute: what the extractor tests pass where the commands pass the
// pipeline's stage cache. `store()` refers to this object, which must outlive its uses.
struct MemoryChunkStore {
  std::map<std::pair<double, double>, Tensor> kept;
  int computed = 0;
  features::ChunkStore store();
};

// Runs the tribev2 CLI with arguments; returns the exit code and captures stdout+stderr.
struct CliResult {
  int code = -1;
  std::string output;
};
CliResult run_cli(const std::vector<std::string>& args);

// Starts args[0] with args in the background, stderr into `stderr_file`, with the environment
// `envp` (nullptr: this process's). Returns its pid, or -1 when it could not be started.
int spawn_with_stderr(const std::vector<std::string>& args, const std::filesystem::path& stderr_file,
                      char* const* envp = nullptr);

// Writes bytes to a file (for corrupt-file tests).
void write_bytes(const std::filesystem::path& path, const std::string& bytes);
std::string read_bytes(const std::filesystem::path& path);

}  // namespace tribev2::test

// EXPECT_THROW with a check on the message.
#define EXPECT_THROW_MSG(stmt, substring)                                                   \
  do {                                                                                      \
    try {                                                                                   \
      stmt;                                                                                 \
      ADD_FAILURE() << "expected an exception containing \"" << (substring) << "\"";       \
    } catch (const std::exception& e__) {                                                   \
      EXPECT_NE(std::string(e__.what()).find(substring), std::string::npos)                 \
          << "message was: " << e__.what();                                                 \
    }                                                                                       \
  } while (0)

// Helpers shared by the tests: fixture paths, temp dirs, array comparison, running the CLI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tribev2/core/tensor.hpp"

namespace tribev2::test {

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

// max |got - expected| / max |expected| (0 when both are all zeros); shapes must match.
double max_rel_diff(const Tensor& got, const Tensor& expected);
double max_abs_diff(const Tensor& got, const Tensor& expected);

// Runs the tribev2 CLI with arguments; returns the exit code and captures stdout+stderr.
struct CliResult {
  int code = -1;
  std::string output;
};
CliResult run_cli(const std::vector<std::string>& args);

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

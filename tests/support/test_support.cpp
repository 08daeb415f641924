#include "support/test_support.hpp"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace tribev2::test {

namespace fs = std::filesystem;

fs::path fixtures() { return fs::path(TRIBEV2_FIXTURES); }
fs::path fixture(const std::string& rel) { return fixtures() / rel; }
fs::path shared_data() { return fs::path(TRIBEV2_SHARED_DATA); }

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("tribev2-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
std::vector<double> values(const Tensor& t) {
  const Tensor f = t.to_f32();
  const auto s = f.f32();
  return {s.begin(), s.end()};
}
}  // namespace

double max_abs_diff(const Tensor& got, const Tensor& expected) {
  EXPECT_EQ(shape_str(got.shape()), shape_str(expected.shape()));
  if (got.shape() != expected.shape()) return INFINITY;
  const auto a = values(got), b = values(expected);
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    m = std::max(m, std::abs(a[i] - b[i]));
  }
  return m;
}

double max_rel_diff(const Tensor& got, const Tensor& expected) {
  const double d = max_abs_diff(got, expected);
  const auto b = values(expected);
  double mx = 0.0;
  for (double v : b) mx = std::max(mx, std::abs(v));
  if (mx == 0.0) return d == 0.0 ? 0.0 : INFINITY;
  return d / mx;
}

CliResult run_cli(const std::vector<std::string>& args) {
  std::string cmd = std::string("'") + TRIBEV2_CLI + "'";
  for (const auto& a : args) {
    std::string q;
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += " '" + q + "'";
  }
  cmd += " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tribev2::test

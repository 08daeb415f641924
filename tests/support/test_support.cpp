#include "support/test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

void MaxDiff::add(double got, double expected) {
  if (std::isnan(got) || std::isnan(expected)) {
    poisoned_ = true;
    return;
  }
  if (std::isinf(got) || std::isinf(expected)) {
    if (got != expected) poisoned_ = true;  // an infinity matched only by the same infinity
    return;
  }
  diff_ = std::max(diff_, std::abs(got - expected));
  scale_ = std::max(scale_, std::abs(expected));
}

void MaxDiff::add(std::span<const float> got, std::span<const float> expected) {
  EXPECT_EQ(got.size(), expected.size()) << "compared arrays differ in length";
  if (got.size() != expected.size()) poisoned_ = true;
  const std::size_t n = std::min(got.size(), expected.size());
  for (std::size_t i = 0; i < n; ++i) add(got[i], expected[i]);
}

double MaxDiff::abs() const { return poisoned_ ? INFINITY : diff_; }

double MaxDiff::rel() const {
  if (poisoned_) return INFINITY;
  if (scale_ == 0.0) return diff_ == 0.0 ? 0.0 : INFINITY;
  return diff_ / scale_;
}

namespace {
MaxDiff tensor_diff(const Tensor& got, const Tensor& expected) {
  EXPECT_EQ(shape_str(got.shape()), shape_str(expected.shape()));
  MaxDiff d;
  if (got.shape() != expected.shape()) {
    d.add(INFINITY, 0.0);
    return d;
  }
  const Tensor a = got.to_f32(), b = expected.to_f32();
  d.add(a.f32(), b.f32());
  return d;
}
}  // namespace

double max_abs_diff(const Tensor& got, const Tensor& expected) { return tensor_diff(got, expected).abs(); }
double max_rel_diff(const Tensor& got, const Tensor& expected) { return tensor_diff(got, expected).rel(); }

std::vector<float> rand_vec(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

double max_abs_diff(std::span<const float> got, std::span<const float> expected) {
  MaxDiff d;
  d.add(got, expected);
  return d.abs();
}
double max_rel_diff(std::span<const float> got, std::span<const float> expected) {
  MaxDiff d;
  d.add(got, expected);
  return d.rel();
}

std::vector<double> rel_diff_per_slice(const Tensor& got, const Tensor& expected) {
  EXPECT_EQ(shape_str(got.shape()), shape_str(expected.shape()));
  if (got.shape() != expected.shape() || got.ndim() < 1) return {INFINITY};
  const Tensor a = got.to_f32(), b = expected.to_f32();
  const auto n = static_cast<std::size_t>(a.dim(0));
  const std::size_t per = n ? static_cast<std::size_t>(a.numel()) / n : 0;
  std::vector<double> out;
  for (std::size_t s = 0; s < n; ++s) out.push_back(max_rel_diff(a.f32().subspan(s * per, per), b.f32().subspan(s * per, per)));
  return out;
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

int spawn_with_stderr(const std::vector<std::string>& args, const fs::path& stderr_file, char* const* envp) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int r = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp ? envp : environ);
  posix_spawn_file_actions_destroy(&fa);
  return r == 0 ? pid : -1;
}

features::ChunkStore MemoryChunkStore::store() {
  return [this](const events::Chunk& c, const std::function<Tensor()>& compute) {
    const auto key = std::make_pair(c.offset, c.duration);
    if (auto it = kept.find(key); it != kept.end()) return features::StoredChunk{it->second, false};
    ++computed;
    Tensor t = compute();
    kept[key] = t;
    return features::StoredChunk{t, true};
  };
}

}  // namespace tribev2::test

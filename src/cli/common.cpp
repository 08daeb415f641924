#include "common.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "tribev2/core/error.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::cli {

namespace fs = std::filesystem;

Context GlobalOptions::make_context() const {
  Precision p = Precision::F32;
  if (precision == "bf16") {
    p = Precision::BF16;  // bf16 products, float32 accumulation (docs/performance.md)
  } else if (precision != "f32") {
    fail("--precision must be f32 or bf16, got '", precision, "'");
  }
  const int n = threads > 0 ? threads : threads_from_env(0);
  return Context(n, p);
}

model_io::LoadOptions GlobalOptions::load_options() const {
  model_io::LoadOptions o;
  if (subject_mode == "auto") o.subject_mode = model_io::SubjectMode::Auto;
  else if (subject_mode == "config") o.subject_mode = model_io::SubjectMode::Config;
  else if (subject_mode == "average") o.subject_mode = model_io::SubjectMode::Average;
  else fail("--subject-mode must be auto, config or average, got '", subject_mode, "'");
  return o;
}

std::pair<std::string, fs::path> split_modality_arg(const std::string& arg, const std::string& option) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    fail(option, " expects MODALITY=FILE (e.g. text=text.npy), got '", arg, "'");
  return {arg.substr(0, eq), fs::path(arg.substr(eq + 1))};
}

Shape parse_shape(const std::string& text) {
  Shape s;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find_first_of(",x", pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    const long long v = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v <= 0) fail("--shape: expected positive integers separated by commas, got '", text, "'");
    s.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return s;
}

Tensor load_feature_file(const fs::path& path, const std::string& modality, const std::optional<Shape>& bin_shape) {
  return io::read_feature_file(path, modality, bin_shape);
}

void log(const GlobalOptions& g, const std::string& line) {
  if (!g.quiet) std::cerr << line << "\n";
}

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(const GlobalOptions& g, std::string label)
    : enabled_(!g.quiet), tty_(::isatty(2) != 0), label_(std::move(label)), start_(now_s()) {}

void Progress::update(std::int64_t done, std::int64_t total) {
  if (!enabled_ || total <= 0) return;
  const double el = now_s() - start_;
  const auto pct = done * 100 / total;
  if (tty_) {
    const int width = 30;
    const int fill = static_cast<int>(width * done / total);
    const double eta = done > 0 ? el * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    std::fprintf(stderr, "\r%s [%.*s%*s] %lld/%lld  %.1fs elapsed, ETA %.1fs ", label_.c_str(), fill,
                 "##############################", width - fill, "", static_cast<long long>(done),
                 static_cast<long long>(total), el, eta);
    std::fflush(stderr);
  } else if (pct / 25 != last_pct_ / 25 || done == total) {
    std::fprintf(stderr, "%s: %lld/%lld (%lld%%) %.1fs\n", label_.c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), static_cast<long long>(pct), el);
  }
  last_pct_ = pct;
}

void Progress::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\n");
}

}  // namespace tribev2::cli

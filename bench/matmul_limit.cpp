// The machine's matmul limit, the yardstick of the extractor benchmark (bench/extractors.sh):
// the best throughput any matmul on this machine reaches on one large product, per precision,
// with the same number of threads as the networks are run with. Measured for our kernels and for
// OpenBLAS (sgemm); PyTorch's matmul (f32 and bf16) is
// measured by bench/matmul_limit_torch.py in the same run, and the report takes the best of all.
//
//   matmul_limit_bench [--threads N] [--m 2048] [--n 4096] [--k 4096] [--repeat 3]
//
// Prints one JSON line: {"command": "matmul-limit", "f32": {"ours": GFLOP/s, "openblas": ...},
// "bf16": {"ours": ...}, ...}. C = A[M,K] * W[N,K]^T, as a linear layer.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tribev2/core/context.hpp"
#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/dtype.hpp"
#include "tribev2/core/gemm.hpp"

using namespace tribev2;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Best of `repeat` timed calls after one warm-up, in GFLOP/s.
template <typename F>
double best_rate(double flops, int repeat, F&& call) {
  call();
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    const double t0 = now();
    call();
    best = std::min(best, now() - t0);
  }
  return flops / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) try {
  int threads = 2, repeat = 3;
  std::int64_t M = 2048, N = 4096, K = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--threads") threads = std::stoi(v);
    else if (k == "--m") M = std::stoll(v);
    else if (k == "--n") N = std::stoll(v);
    else if (k == "--k") K = std::stoll(v);
    else if (k == "--repeat") repeat = std::stoi(v);
    else {
      std::cerr << "matmul_limit_bench: unknown option " << k << "\n";
      return 2;
    }
  }
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(static_cast<std::size_t>(M * K)), w(static_cast<std::size_t>(N * K)), c(static_cast<std::size_t>(M * N));
  for (auto& x : a) x = u(rng);
  for (auto& x : w) x = u(rng);
  const MatView wv{DType::F32, w.data(), N, K, K};

  nlohmann::json out = {{"command", "matmul-limit"}, {"threads", threads}, {"M", M}, {"N", N}, {"K", K},
                        {"kernels", cpu::level_name(cpu::level())}};
  const Context f32(threads, Precision::F32);
  out["f32"]["ours"] = best_rate(flops, repeat, [&] { gemm(f32, true, M, N, K, a.data(), K, wv, 0.0f, c.data(), N); });
  const Context bf16(threads, Precision::BF16);
  const PackedBf16 packed = PackedBf16::pack(bf16, wv, true);
  out["bf16"]["ours"] = best_rate(flops, repeat, [&] {
    gemm_packed(bf16, M, a.data(), K, packed, c.data(), N, GemmEpilogue{});
  });

  openblas_set_num_threads(threads);
  out["f32"]["openblas"] = best_rate(flops, repeat, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(M), static_cast<blasint>(N),
                static_cast<blasint>(K), 1.0f, a.data(), static_cast<blasint>(K), w.data(), static_cast<blasint>(K), 0.0f,
                c.data(), static_cast<blasint>(N));
  });
  // Debian's OpenBLAS 0.3.21 declares cblas_sbgemm but is built without BUILD_BFLOAT16 (the
  // symbol is absent), so bf16 is ours and PyTorch's (oneDNN) only.
  out["openblas_config"] = openblas_get_config();
  std::cout << out.dump() << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "matmul_limit_bench: " << e.what() << "\n";
  return 1;
}

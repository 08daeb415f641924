#include "tribev2/core/context.hpp"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace tribev2 {

Context::Context(int threads, Precision precision) : precision_(precision) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_shared<ThreadPool>(threads);
  // All parallelism goes through our pool: BLAS is only ever called single-threaded, from
  // inside pool tasks (see gemm.cpp), so its threads can never oversubscribe the cores.
  openblas_set_num_threads(1);
}

int threads_from_env(int fallback) {
  const char* v = std::getenv("TRIBEV2_NUM_THREADS");
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n <= 0 || n > 1024) return fallback;
  return static_cast<int>(n);
}

}  // namespace tribev2

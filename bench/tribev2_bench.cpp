// Benchmark driver for the brain model (bench/run.sh calls it; not part of the unit tests).
//
//   tribev2_bench forward MODEL_DIR --T 200 --batch 1 --threads 2 [--precision f32|bf16]
//                 [--repeat 10] [--warmup 2] [--input-seed 0] [--save OUT.npy]
//       times model.forward on random inputs; one JSON line with median/min ms, GFLOP/s,
//       load time and peak RSS.
//   tribev2_bench gemm --T 200 --batch 1 --threads 2 [--repeat 10]
//       sgemm throughput (OpenBLAS, single-threaded calls split over our pool exactly as
//       the engine does, and our own kernels) on the forward's GEMM shapes; one JSON line
//       per shape plus the FLOP-weighted average the GEMM-bound limit is computed from.
//   tribev2_bench flops --T 200 --batch 1
//       the forward's FLOP count per part (upstream order and ours).
//   tribev2_bench load MODEL [--precision bf16 --threads N]
//       loads the model (and packs it for bf16) and exits: the start-up cost.
//   tribev2_bench predict MODEL --features text=X.npy,audio=Y.npy,video=Z.npy --output OUT.npy
//                 [--threads N --precision f32|bf16 --batch-size 8]
//       whole-stimulus predict() with the rows streamed to OUT.npy as they are computed
//       (PredictOptions::on_rows), so the predictions never sit in memory.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <cblas.h>


#include "tribev2/core/cpu_features.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/linear.hpp"
#include "tribev2/io/feature_file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/model/brain_model.hpp"
#include "tribev2/model/predict.hpp"
#include "tribev2/model_io/load.hpp"

using namespace tribev2;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

struct Args {
  std::string mode, model;
  std::map<std::string, std::string> opt;
  std::int64_t i(const std::string& k, std::int64_t d) const {
    auto it = opt.find(k);
    return it == opt.end() ? d : std::stoll(it->second);
  }
  std::string s(const std::string& k, const std::string& d) const {
    auto it = opt.find(k);
    return it == opt.end() ? d : it->second;
  }
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: tribev2_bench forward MODEL_DIR [--T N --batch B --threads N --precision f32|bf16 "
                         "--repeat R --warmup W] | gemm [--T N --batch B --threads N] | flops [--T N --batch B]\n");
    std::exit(2);
  }
  a.mode = argv[1];
  for (int k = 2; k < argc; ++k) {
    std::string s = argv[k];
    if (s.rfind("--", 0) == 0 && k + 1 < argc) {
      a.opt[s.substr(2)] = argv[++k];
    } else {
      a.model = s;
    }
  }
  return a;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The published architecture's dimensions (make_full_model.py).
struct Dims {
  std::int64_t H = 1152, depth = 8, heads = 8, ff = 4608, R = 2048, N = 20484, To = 100;
  std::vector<std::int64_t> proj_in = {6144, 2048, 2816};
  std::int64_t P = 384;
};

struct Flops {
  double projectors = 0, qkvo = 0, attention = 0, ff = 0, low_rank = 0, predictor = 0;
  double total() const { return projectors + qkvo + attention + ff + low_rank + predictor; }
};

// pooled_head: low-rank head and subject layer applied after pooling T -> To (our order).
Flops count_flops(const Dims& d, std::int64_t T, std::int64_t B, bool pooled_head) {
  Flops f;
  const double M = static_cast<double>(B * T);
  for (auto in : d.proj_in) f.projectors += 2.0 * M * static_cast<double>(in * d.P);
  f.qkvo = static_cast<double>(d.depth) * 4 * 2.0 * M * static_cast<double>(d.H * d.H);
  f.attention = static_cast<double>(d.depth) * 2 * 2.0 * static_cast<double>(B) * static_cast<double>(T * T * d.H);
  f.ff = static_cast<double>(d.depth) * 2 * 2.0 * M * static_cast<double>(d.H * d.ff);
  const double Mh = pooled_head ? static_cast<double>(B * std::min(T, d.To)) : M;
  f.low_rank = 2.0 * Mh * static_cast<double>(d.H * d.R);
  f.predictor = 2.0 * Mh * static_cast<double>(d.R * d.N);
  return f;
}

std::string flops_json(const Flops& f) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"projectors\": %.4g, \"qkvo\": %.4g, \"attention\": %.4g, \"ff\": %.4g, \"low_rank\": %.4g, "
                "\"predictor\": %.4g, \"total\": %.4g}",
                f.projectors, f.qkvo, f.attention, f.ff, f.low_rank, f.predictor, f.total());
  return buf;
}

Precision parse_precision(const std::string& p) {
  if (p == "f32") return Precision::F32;
  if (p == "bf16") return Precision::BF16;
  std::fprintf(stderr, "--precision must be f32 or bf16\n");
  std::exit(2);
}

int cmd_forward(const Args& a) {
  const std::int64_t T = a.i("T", 200), B = a.i("batch", 1);
  const int threads = static_cast<int>(a.i("threads", 1));
  const int repeat = static_cast<int>(a.i("repeat", 10)), warmup = static_cast<int>(a.i("warmup", 2));
  const Precision prec = parse_precision(a.s("precision", "f32"));
  const double t0 = now_s();
  Context ctx(threads, prec);
  auto loaded = model_io::load_brain_model(a.model);
  const double load_s = now_s() - t0;
  const auto& m = *loaded.model;
  model::Batch batch;
  std::mt19937_64 rng(static_cast<std::uint64_t>(a.i("input-seed", 0)));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const auto& fd : m.build_args().feature_dims) {
    if (!fd.layers_dim) continue;
    Tensor t = Tensor::empty(DType::F32, {B, fd.layers_dim->first, fd.layers_dim->second, T});
    for (float& v : t.f32()) v = nd(rng);
    batch.inputs.emplace_back(fd.modality, std::move(t));
  }
  if (m.needs_subject_ids()) batch.subject_ids.assign(static_cast<std::size_t>(B), 0);
  const std::string save = a.s("save", "");
  if (!save.empty()) {  // inputs and output for the parity check against PyTorch
    for (const auto& [mod, t] : batch.inputs) io::write_npy(save + ".input_" + mod + ".npy", t);
  }
  Tensor y;
  const double tw = now_s();
  for (int i = 0; i < warmup; ++i) y = m.forward(ctx, batch);
  const double first_s = now_s() - tw;
  std::vector<double> times, cpus;
  for (int i = 0; i < repeat; ++i) {
    const double t = now_s(), c = cpu_s();
    y = m.forward(ctx, batch);
    times.push_back(1e3 * (now_s() - t));
    cpus.push_back(1e3 * (cpu_s() - c));
  }
  if (!save.empty()) io::write_npy(save, y);
  Dims d;
  const Flops f = count_flops(d, T, B, true);
  const double med = median(times);
  std::printf(
      "{\"engine\": \"tribev2\", \"threads\": %d, \"precision\": \"%s\", \"T\": %lld, \"batch\": %lld, "
      "\"load_s\": %.4f, \"warmup_s\": %.4f, \"median_ms\": %.3f, \"min_ms\": %.3f, \"repeat\": %d, "
      "\"cpu_ms\": %.3f, \"gflop\": %.4f, \"gflops\": %.2f, \"peak_rss_mb\": %.1f, \"cpu\": \"%s\"}\n",
      threads, a.s("precision", "f32").c_str(), static_cast<long long>(T), static_cast<long long>(B), load_s,
      first_s, med, *std::min_element(times.begin(), times.end()), repeat, median(cpus), f.total() / 1e9,
      f.total() / 1e6 / med, peak_rss_mb(), cpu::describe().c_str());
  return 0;
}

// One GEMM shape C[M,N] = A[M,K] W[N,K]^T, timed with OpenBLAS (one call per thread tile,
// as the engine splits work) and with our gemm().
struct Shape3 {
  const char* name;
  std::int64_t M, N, K;
  double weight;  // how many times per forward
};

int cmd_gemm(const Args& a) {
  const std::int64_t T = a.i("T", 200), B = a.i("batch", 1);
  const int threads = static_cast<int>(a.i("threads", 1));
  const int repeat = static_cast<int>(a.i("repeat", 10));
  Context ctx(threads);
  Dims d;
  const std::int64_t M = B * T, Mh = B * std::min(T, d.To);
  const std::vector<Shape3> shapes = {
      {"projector_text", M, d.P, d.proj_in[0], 1},   {"projector_audio", M, d.P, d.proj_in[1], 1},
      {"projector_video", M, d.P, d.proj_in[2], 1},  {"qkvo", M, d.H, d.H, 4.0 * static_cast<double>(d.depth)},
      {"ff_up", M, d.ff, d.H, static_cast<double>(d.depth)}, {"ff_down", M, d.H, d.ff, static_cast<double>(d.depth)},
      {"low_rank", Mh, d.R, d.H, 1},                 {"predictor", Mh, d.N, d.R, 1},
  };
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
  double blas_time = 0, ours_time = 0, total_flops = 0, blas_cpu = 0, ours_cpu = 0, bf16_time = 0;
  const std::string only = a.s("only", "");
  for (const auto& s : shapes) {
    if (!only.empty() && only != s.name) continue;
    std::vector<float> A(static_cast<std::size_t>(s.M * s.K)), W(static_cast<std::size_t>(s.N * s.K)),
        C(static_cast<std::size_t>(s.M * s.N));
    for (auto& v : A) v = ud(rng);
    for (auto& v : W) v = ud(rng);
    const double flops = 2.0 * static_cast<double>(s.M * s.N * s.K);
    // OpenBLAS: columns split in `threads` tiles of multiples of 64, one single-threaded call each.
    auto blas = [&] {
      const std::int64_t per = ((s.N + threads - 1) / threads + 63) / 64 * 64;
      ctx.pool().parallel_for(threads, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
          const std::int64_t n0 = t * per, nn = std::min(per, s.N - n0);
          if (nn <= 0) continue;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(s.M), static_cast<blasint>(nn),
                      static_cast<blasint>(s.K), 1.0f, A.data(), static_cast<blasint>(s.K), W.data() + n0 * s.K,
                      static_cast<blasint>(s.K), 0.0f, C.data() + n0, static_cast<blasint>(s.N));
        }
      });
    };
    const MatView Wv{DType::F32, W.data(), s.N, s.K, s.K};
    const Linear layer(Wv);
    auto ours = [&] { layer.forward(ctx, A.data(), s.M, C.data()); };
    // Median wall time, and median CPU time (all threads) divided by the thread count: on a
    // loaded machine the second is what the kernels cost when they do run.
    double cpu_med = 0;
    auto time_it = [&](auto&& fn) {
      fn();
      std::vector<double> ts, cs;
      for (int i = 0; i < repeat; ++i) {
        const double t = now_s(), c = cpu_s();
        fn();
        ts.push_back(now_s() - t);
        cs.push_back((cpu_s() - c) / threads);
      }
      cpu_med = a.i("min", 0) ? *std::min_element(cs.begin(), cs.end()) : median(cs);
      return median(ts);
    };
    const double tb = time_it(blas);
    const double tbc = cpu_med;
    const double to = time_it(ours);
    const double toc = cpu_med;
    // bf16 products with the weight packed once (what --precision bf16 runs).
    const PackedBf16 packed = PackedBf16::pack(ctx, Wv, true);
    auto ours_bf16 = [&] { gemm_packed(ctx, s.M, A.data(), s.K, packed, C.data(), s.N, GemmEpilogue{}); };
    const double tbf = time_it(ours_bf16);
    const double tbfc = cpu_med;
    bf16_time += tbf * s.weight;
    blas_time += tb * s.weight;
    ours_time += to * s.weight;
    total_flops += flops * s.weight;
    blas_cpu += tbc * s.weight;
    ours_cpu += toc * s.weight;
    std::printf("{\"shape\": \"%s\", \"M\": %lld, \"N\": %lld, \"K\": %lld, \"threads\": %d, \"openblas_gflops\": %.2f, "
                "\"ours_gflops\": %.2f, \"openblas_cpu_gflops\": %.2f, \"ours_cpu_gflops\": %.2f, \"ours_bf16_gflops\": %.2f, "
                "\"ours_bf16_cpu_gflops\": %.2f}\n",
                s.name, static_cast<long long>(s.M), static_cast<long long>(s.N), static_cast<long long>(s.K), threads,
                flops / tb / 1e9, flops / to / 1e9, flops / tbc / 1e9 / threads, flops / toc / 1e9 / threads,
                flops / tbf / 1e9, flops / tbfc / 1e9 / threads);
  }
  std::printf("{\"shape\": \"forward_mix\", \"T\": %lld, \"batch\": %lld, \"threads\": %d, \"gflop\": %.4f, "
              "\"openblas_gflops\": %.2f, \"ours_gflops\": %.2f, \"openblas_ms\": %.3f, \"ours_ms\": %.3f, "
              "\"openblas_cpu_gflops_per_thread\": %.2f, \"ours_cpu_gflops_per_thread\": %.2f, \"ours_bf16_gflops\": %.2f}\n",
              static_cast<long long>(T), static_cast<long long>(B), threads, total_flops / 1e9,
              total_flops / blas_time / 1e9, total_flops / ours_time / 1e9, 1e3 * blas_time, 1e3 * ours_time,
              total_flops / blas_cpu / 1e9 / threads, total_flops / ours_cpu / 1e9 / threads,
              total_flops / bf16_time / 1e9);
  return 0;
}

int cmd_flops(const Args& a) {
  const std::int64_t T = a.i("T", 200), B = a.i("batch", 1);
  Dims d;
  std::printf("{\"T\": %lld, \"batch\": %lld, \"upstream\": %s, \"ours\": %s}\n", static_cast<long long>(T),
              static_cast<long long>(B), flops_json(count_flops(d, T, B, false)).c_str(),
              flops_json(count_flops(d, T, B, true)).c_str());
  return 0;
}

int cmd_load(const Args& a) {
  const double t0 = now_s();
  Context ctx(static_cast<int>(a.i("threads", 2)), parse_precision(a.s("precision", "f32")));
  auto loaded = model_io::load_brain_model(a.model);
  loaded.model->prepare(ctx);
  std::printf("{\"load_s\": %.4f, \"precision\": \"%s\", \"peak_rss_mb\": %.1f, \"parameters\": %lld}\n", now_s() - t0,
              a.s("precision", "f32").c_str(), peak_rss_mb(), static_cast<long long>(loaded.model->n_parameters()));
  return 0;
}

int cmd_predict(const Args& a) {
  const double t0 = now_s();
  Context ctx(static_cast<int>(a.i("threads", 2)), parse_precision(a.s("precision", "f32")));
  auto loaded = model_io::load_brain_model(a.model);
  const auto& m = *loaded.model;
  std::vector<model::FeatureSeries> feats;
  std::string spec = a.s("features", "");
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string one = spec.substr(0, comma);
    const auto eq = one.find('=');
    TRIBEV2_CHECK(eq != std::string::npos, "--features expects MOD=FILE[,MOD=FILE...]");
    io::FeatureFile ff = io::open_feature_file(one.substr(eq + 1), one.substr(0, eq));
    feats.push_back({one.substr(0, eq), ff.data, std::move(ff.read_window)});
    spec = comma == std::string::npos ? "" : spec.substr(comma + 1);
  }
  // The CLI's own streaming writer: the rows never sit in memory.
  io::NpyRowWriter out(a.s("output", "/tmp/tribev2_bench_preds.npy"), DType::F32, Shape{m.n_outputs()});
  model::PredictOptions o;
  o.batch_size = static_cast<int>(a.i("batch-size", 8));
  o.on_rows = [&](std::int64_t, const float* r, std::int64_t k) { out.append(r, k); };
  const auto p = model::predict(ctx, m, loaded.data, feats, o);
  out.commit();
  std::printf("{\"total_s\": %.4f, \"rows\": %zu, \"segments\": %zu, \"peak_rss_mb\": %.1f, \"threads\": %d, "
              "\"precision\": \"%s\"}\n",
              now_s() - t0, p.rows.size(), p.segments.size(), peak_rss_mb(), ctx.threads(), a.s("precision", "f32").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.mode == "forward") return cmd_forward(a);
    if (a.mode == "gemm") return cmd_gemm(a);
    if (a.mode == "flops") return cmd_flops(a);
    if (a.mode == "load") return cmd_load(a);
    if (a.mode == "predict") return cmd_predict(a);
    std::fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tribev2_bench: error: %s\n", e.what());
    return 1;
  }
}

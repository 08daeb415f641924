// core::Linear, the one linear layer of the four networks, against its plain twin
// reference::linear for every stored weight type (F32, F16, BF16, Q8_0), both layouts and both
// precisions; its packing policy (a packed F32 weight gives the per-call numbers bit for bit;
// BF16 packs every float weight); stacked weights (fused q/k/v); and its errors.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/core/linear.hpp"
#include "tribev2/core/tensor.hpp"

using namespace tribev2;

namespace {

using test::rand_vec;

// Float32 sums of K products in another order (and, under BF16, of the same exact products):
// a few ulps of sqrt(K)-sized values, as in test_gemm.
double tolerance(std::int64_t K) { return 1e-4 * std::sqrt(static_cast<double>(K)); }

// A weight [rows, cols] stored as `type`, owning its bytes.
struct StoredWeight {
  Tensor dense;                   // F32/F16/BF16
  std::vector<unsigned char> q8;  // Q8_0 blocks
  WeightMatrix w;
};

StoredWeight store(const std::vector<float>& f, std::int64_t rows, std::int64_t cols, WeightType type) {
  StoredWeight s;
  if (type == WeightType::Q8_0) {
    s.q8.resize(static_cast<std::size_t>(rows * cols / kQ8Block) * kQ8BlockBytes);
    for (std::int64_t r = 0; r < rows; ++r)
      quantize_q8_0(f.data() + r * cols, cols, s.q8.data() + static_cast<std::size_t>(r * cols / kQ8Block) * kQ8BlockBytes);
    s.w = WeightMatrix{WeightType::Q8_0, s.q8.data(), rows, cols};
    return s;
  }
  const DType dt = type == WeightType::F32 ? DType::F32 : type == WeightType::F16 ? DType::F16 : DType::BF16;
  s.dense = Tensor::from<float>({rows, cols}, f).to(dt);
  s.w = WeightMatrix::of(mat_view(s.dense));
  return s;
}

// Every epilogue at once: bias (the layer's), GELU, residual with a per-column scale.
struct Case {
  std::int64_t M, N, K;
  std::vector<float> x, bias, residual, scale;
  Case(std::int64_t m, std::int64_t n, std::int64_t k)
      : M(m), N(n), K(k), x(rand_vec(static_cast<std::size_t>(m * k), 11)), bias(rand_vec(static_cast<std::size_t>(n), 12)),
        residual(rand_vec(static_cast<std::size_t>(m * n), 13)), scale(rand_vec(static_cast<std::size_t>(n), 14)) {}
  GemmEpilogue epilogue() const {
    GemmEpilogue ep;
    ep.gelu = true;
    ep.residual = residual.data();
    ep.ldr = N;
    ep.residual_scale = scale.data();
    return ep;
  }
};

void expect_matches_reference(const Context& ctx, const Linear& layer, const Case& c, const std::string& what) {
  std::vector<float> y(static_cast<std::size_t>(c.M * c.N)), yr(y.size());
  layer.forward(ctx, c.x.data(), c.M, y.data(), c.epilogue());
  reference::linear(ctx, layer, c.x.data(), c.M, c.K, yr.data(), c.N, c.epilogue());
  EXPECT_LE(test::max_abs_diff(y, yr), tolerance(c.K)) << what;
}

const char* precision_name(Precision p) { return p == Precision::BF16 ? "bf16" : "f32"; }

}  // namespace

TEST(Linear, MatchesReferenceForEveryStoredTypeAndPrecision) {
  const Case c(7, 70, 96);  // K a multiple of Q8_0's 32-value blocks; N not of any panel width
  const auto wf = rand_vec(static_cast<std::size_t>(c.N * c.K), 21);
  for (WeightType t : {WeightType::F32, WeightType::F16, WeightType::BF16, WeightType::Q8_0})
    for (Precision p : {Precision::F32, Precision::BF16}) {
      const Context ctx(2, p);
      const StoredWeight s = store(wf, c.N, c.K, t);
      Linear layer(s.w, c.bias);
      expect_matches_reference(ctx, layer, c, std::string(weight_type_name(t)) + " per call, " + precision_name(p));
      layer.pack(ctx);
      expect_matches_reference(ctx, layer, c, std::string(weight_type_name(t)) + " after pack, " + precision_name(p));
    }
}

TEST(Linear, InOutLayoutIsXTimesW) {
  // y = x W + b with W stored [in, out] (the brain model's subject layer), by hand and vs the twin.
  const Context ctx(1);
  const float x[] = {1, 2, 3, 4, 5, 6};  // [2, 3]
  const float w[] = {1, 0, 0, 1, 0, 1};  // [3, 2]
  Tensor W = Tensor::from<float>({3, 2}, w);
  const Linear layer(mat_view(W), {10, 20}, Linear::Layout::InOut);
  EXPECT_EQ(layer.in(), 3);
  EXPECT_EQ(layer.out(), 2);
  float y[4];
  layer.forward(ctx, x, 2, y);
  EXPECT_FLOAT_EQ(y[0], 11);  // 1 + 0 + 10
  EXPECT_FLOAT_EQ(y[1], 25);  // 2 + 3 + 20
  EXPECT_FLOAT_EQ(y[2], 14);
  EXPECT_FLOAT_EQ(y[3], 31);

  const Case c(9, 40, 33);
  const auto wf = rand_vec(static_cast<std::size_t>(c.K * c.N), 22);
  Tensor Wb = Tensor::from<float>({c.K, c.N}, wf);
  for (Precision p : {Precision::F32, Precision::BF16}) {
    const Context pc(2, p);
    Linear l(mat_view(Wb), c.bias, Linear::Layout::InOut);
    expect_matches_reference(pc, l, c, std::string("InOut per call ") + precision_name(p));
    l.pack(pc);
    expect_matches_reference(pc, l, c, std::string("InOut after pack ") + precision_name(p));
  }
}

TEST(Linear, StridedRowsInAndOut) {
  const Context ctx(2);
  const std::int64_t M = 5, N = 24, K = 16, ldx = 20, ldy = 30;
  const auto wf = rand_vec(static_cast<std::size_t>(N * K), 23);
  Tensor W = Tensor::from<float>({N, K}, wf);
  const Linear layer(mat_view(W));
  const auto x = rand_vec(static_cast<std::size_t>(M * ldx), 24);
  std::vector<float> y(static_cast<std::size_t>(M * ldy), -7.0f), yr(y);
  layer.forward(ctx, x.data(), M, ldx, y.data(), ldy);
  reference::linear(ctx, layer, x.data(), M, ldx, yr.data(), ldy);
  EXPECT_LE(test::max_abs_diff(y, yr), tolerance(K));
  for (std::int64_t m = 0; m < M; ++m)  // the gap between rows is not written
    for (std::int64_t j = N; j < ldy; ++j) EXPECT_EQ(y[static_cast<std::size_t>(m * ldy + j)], -7.0f);
}

TEST(Linear, PackPolicy) {
  const std::int64_t N = 48, K = 32;
  const auto wf = rand_vec(static_cast<std::size_t>(N * K), 25);
  const Context f32(1, Precision::F32), bf16(1, Precision::BF16);
  for (WeightType t : {WeightType::F32, WeightType::F16, WeightType::BF16}) {
    const StoredWeight s = store(wf, N, K, t);
    Linear layer(s.w);
    layer.pack(f32);  // heap (or half-precision) storage: packing per call costs O(N K), kept as is
    EXPECT_FALSE(layer.packed_for(Precision::F32)) << weight_type_name(t);
    layer.pack(bf16);  // bf16 products: every float weight is packed once
    EXPECT_TRUE(layer.packed_for(Precision::BF16)) << weight_type_name(t);
    EXPECT_GT(layer.packed_bytes(), 0u);
  }
  const StoredWeight q = store(wf, N, K, WeightType::Q8_0);
  Linear layer(q.w);
  layer.pack(bf16);  // Q8_0 tiles are widened per call
  EXPECT_FALSE(layer.packed_for(Precision::BF16));
}

TEST(Linear, PackedFileMappedF32IsBitIdenticalToPerCall) {
  // A safetensors weight lies in a read-only file mapping: packing it for the f32 kernels gives
  // the same numbers as packing per call, and the source pages are given back (re-read later).
  const test::TempDir dir;
  const std::int64_t M = 13, N = 100, K = 72;
  const auto wf = rand_vec(static_cast<std::size_t>(N * K), 26);
  const auto path = dir.path() / "w.bin";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(wf.data(), sizeof(float), wf.size(), f), wf.size());
    std::fclose(f);
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const std::size_t bytes = wf.size() * sizeof(float);
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  {
    const Case c(M, N, K);
    const Context ctx(2);
    Linear layer(WeightMatrix{WeightType::F32, map, N, K}, c.bias);
    std::vector<float> per_call(static_cast<std::size_t>(M * N)), packed(per_call.size()), again(per_call.size());
    layer.forward(ctx, c.x.data(), M, per_call.data(), c.epilogue());
    layer.pack(ctx);
    EXPECT_TRUE(layer.packed_for(Precision::F32));
    layer.forward(ctx, c.x.data(), M, packed.data(), c.epilogue());
    EXPECT_EQ(per_call, packed);
    // The source was given back but stays readable: bf16 compute still packs from it.
    const Context bf(2, Precision::BF16);
    layer.forward(bf, c.x.data(), M, again.data(), c.epilogue());
    std::vector<float> ref(per_call.size());
    reference::linear(bf, layer, c.x.data(), M, K, ref.data(), N, c.epilogue());
    EXPECT_LE(test::max_abs_diff(again, ref), tolerance(K));
  }
  ::munmap(map, bytes);
}

TEST(Linear, StackIsTheConcatenationOfItsParts) {
  // Attention's q, k and v as one [3H, H] product; the middle part without bias.
  const std::int64_t M = 6, H = 40;
  const auto x = rand_vec(static_cast<std::size_t>(M * H), 27);
  std::vector<Tensor> ws;
  for (unsigned i = 0; i < 3; ++i) ws.push_back(Tensor::from<float>({H, H}, rand_vec(static_cast<std::size_t>(H * H), 30 + i)));
  const Linear q(mat_view(ws[0]), rand_vec(static_cast<std::size_t>(H), 40));
  const Linear k(mat_view(ws[1]));
  const Linear v(mat_view(ws[2]), rand_vec(static_cast<std::size_t>(H), 41));
  const Linear* parts[] = {&q, &k, &v};
  for (Precision p : {Precision::F32, Precision::BF16}) {
    const Context ctx(2, p);
    const Linear qkv = Linear::stack(ctx, parts);
    ASSERT_EQ(qkv.out(), 3 * H);
    ASSERT_EQ(qkv.in(), H);
    std::vector<float> y(static_cast<std::size_t>(M * 3 * H)), yp(y.size());
    qkv.forward(ctx, x.data(), M, y.data());
    for (int i = 0; i < 3; ++i) parts[i]->forward(ctx, x.data(), M, H, yp.data() + i * H, 3 * H);
    EXPECT_LE(test::max_abs_diff(y, yp), tolerance(H)) << precision_name(p);
    if (p == Precision::BF16) {
      // Only the bf16 panels are kept (the float32 stack would double the memory): a float32
      // forward says so instead of reading freed memory.
      EXPECT_TRUE(qkv.packed_for(Precision::BF16));
      const Context f32(1);
      EXPECT_THROW_MSG(qkv.forward(f32, x.data(), M, y.data()), "packed for bfloat16 only");
    }
  }
}

TEST(Linear, ClearErrors) {
  const Context ctx(1);
  Tensor W = Tensor::zeros(DType::F32, {4, 3});
  EXPECT_THROW_MSG(Linear(mat_view(W), {1, 2}), "bias of 2 values for 4 outputs");
  const Linear layer(mat_view(W), {1, 2, 3, 4});
  std::vector<float> x(6), y(8), b(4);
  GemmEpilogue ep;
  ep.bias = b.data();
  EXPECT_THROW_MSG(layer.forward(ctx, x.data(), 2, y.data(), ep), "the layer has a bias");
  EXPECT_THROW_MSG(layer.forward(ctx, x.data(), 2, 2, y.data(), 4), "rows of stride 2");
  std::vector<unsigned char> q8(kQ8BlockBytes * 4);
  EXPECT_THROW_MSG(Linear(WeightMatrix{WeightType::Q8_0, q8.data(), 4, 16}), "whole 32-value blocks");
  EXPECT_THROW_MSG(Linear(WeightMatrix{WeightType::Q8_0, q8.data(), 4, 32}, {}, Linear::Layout::InOut),
                   "Q8_0 weights must be stored [out, in]");
  EXPECT_THROW_MSG(Linear(WeightMatrix{WeightType::F32, nullptr, 4, 3}), "empty weight");
  const Linear empty;
  EXPECT_THROW_MSG(empty.forward(ctx, x.data(), 1, y.data()), "forward of an empty layer");
}

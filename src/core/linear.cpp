#include "tribev2/core/linear.hpp"

#include <algorithm>
#include <vector>

#include "tribev2/core/error.hpp"
#include "tribev2/core/memory.hpp"

namespace tribev2 {

namespace {

bool transposed(Linear::Layout l) { return l == Linear::Layout::OutIn; }

// The epilogue of columns [n0, n0 + n) of a product.
GemmEpilogue columns(const GemmEpilogue& ep, std::int64_t n0) {
  GemmEpilogue e = ep;
  if (e.bias) e.bias += n0;
  if (e.residual) e.residual += n0;
  if (e.residual_scale) e.residual_scale += n0;
  return e;
}

}  // namespace

Linear::Linear(const WeightMatrix& w, std::vector<float> bias, Layout layout)
    : w_(w), bias_(std::move(bias)), layout_(layout) {
  TRIBEV2_CHECK(w.rows > 0 && w.cols > 0 && w.data, "Linear: empty weight [", w.rows, ", ", w.cols, "]");
  TRIBEV2_CHECK(w.is_float() || layout == Layout::OutIn, "Linear: Q8_0 weights must be stored [out, in]");
  TRIBEV2_CHECK(w.type != WeightType::Q8_0 || w.cols % kQ8Block == 0, "Linear: a Q8_0 weight's rows hold whole ",
                kQ8Block, "-value blocks, got ", w.cols, " columns");
  out_ = transposed(layout) ? w.rows : w.cols;
  in_ = transposed(layout) ? w.cols : w.rows;
  TRIBEV2_CHECK(bias_.empty() || static_cast<std::int64_t>(bias_.size()) == out_, "Linear: bias of ", bias_.size(),
                " values for ", out_, " outputs");
}

Linear::Linear(const MatView& w, std::vector<float> bias, Layout layout)
    : Linear(WeightMatrix::of(w), std::move(bias), layout) {}

Linear Linear::stack(const Context& ctx, std::span<const Linear* const> parts) {
  TRIBEV2_CHECK(!parts.empty(), "Linear::stack: no parts");
  const std::int64_t K = parts.front()->in();
  std::int64_t N = 0;
  bool any_bias = false;
  for (const Linear* p : parts) {
    TRIBEV2_CHECK(p->layout_ == Layout::OutIn && p->in() == K && p->w_.data,
                  "Linear::stack: parts must be [out, ", K, "] weights with their source");
    N += p->out();
    any_bias = any_bias || !p->bias_.empty();
  }
  auto buf = std::make_shared<std::vector<float>>(static_cast<std::size_t>(N * K));
  std::vector<float> bias;
  if (any_bias) bias.assign(static_cast<std::size_t>(N), 0.0f);
  std::int64_t r0 = 0;
  for (const Linear* p : parts) {
    for (std::int64_t r = 0; r < p->out(); ++r) p->w_.row_to_f32(r, buf->data() + (r0 + r) * K);
    if (!p->bias_.empty()) std::copy(p->bias_.begin(), p->bias_.end(), bias.begin() + r0);
    r0 += p->out();
  }
  Linear out(WeightMatrix{WeightType::F32, buf->data(), N, K}, std::move(bias));
  if (ctx.precision() == Precision::BF16) {
    // Only the bf16 panels are kept: the float32 stack would double the layer's memory.
    out.bf16_ = std::make_shared<const PackedBf16>(PackedBf16::pack(ctx, out.w_.view(), true));
    out.w_.data = nullptr;
  } else {
    out.owned_ = buf;
  }
  return out;
}

void Linear::pack(const Context& ctx) {
  if (empty() || !w_.is_float() || !w_.data) return;
  const bool trans = transposed(layout_);
  const std::size_t bytes = w_.bytes();
  if (ctx.precision() == Precision::BF16) {
    if (bf16_) return;
    bf16_ = std::make_shared<const PackedBf16>(PackedBf16::pack(ctx, w_.view(), trans));
  } else {
    if (f32_ || w_.type != WeightType::F32 || !is_file_mapping(w_.data, bytes)) return;
    f32_ = std::make_shared<const PackedF32>(PackedF32::pack(ctx, w_.view(), trans));
  }
  // The packed copy replaces the source: give its pages back if they are a file mapping (a
  // later per-call use in the other precision maps them again).
  release_file_pages({{w_.data, bytes}});
}

std::size_t Linear::packed_bytes() const {
  return (bf16_ ? bf16_->bytes() : 0) + (f32_ ? f32_->bytes() : 0);
}

void Linear::forward(const Context& ctx, const float* x, std::int64_t M, std::int64_t ldx, float* y,
                     std::int64_t ldy, GemmEpilogue ep) const {
  TRIBEV2_CHECK(!empty(), "Linear: forward of an empty layer");
  if (!bias_.empty()) {
    TRIBEV2_CHECK(ep.bias == nullptr, "Linear: the layer has a bias; the epilogue must not bring another");
    ep.bias = bias_.data();
  }
  TRIBEV2_CHECK(M >= 0 && ldx >= in_ && ldy >= out_, "Linear: ", M, " rows of stride ", ldx, " into stride ", ldy,
                " for a layer [", out_, " <- ", in_, "]");
  if (M == 0) return;
  const bool bf16 = ctx.precision() == Precision::BF16;
  if (bf16 && bf16_) {
    TRIBEV2_CHECK(bf16_->k() == in_, "Linear: packed weight has ", bf16_->k(), " inputs, layer ", in_);
    gemm_packed(ctx, M, x, ldx, *bf16_, y, ldy, ep);
    return;
  }
  if (!bf16 && f32_) {
    gemm_packed(ctx, M, x, ldx, *f32_, y, ldy, ep);
    return;
  }
  TRIBEV2_CHECK(w_.data, "Linear: this layer was packed for bfloat16 only (its float32 source was not kept); ",
                "use it with --precision bf16");
  if (w_.is_float()) {
    gemm_ex(ctx, transposed(layout_), M, out_, in_, x, ldx, w_.view(), y, ldy, ep);
    return;
  }
  // Q8_0: each task widens a tile of weight rows to float32 and multiplies it (the nested
  // product runs single-threaded inside the pool task).
  constexpr std::int64_t tile = 64;
  const std::int64_t tiles = (out_ + tile - 1) / tile;
  ctx.pool().parallel_for(tiles, [&](std::int64_t t0, std::int64_t t1) {
    std::vector<float> buf(static_cast<std::size_t>(tile * in_));
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t n0 = t * tile, nn = std::min(tile, out_ - n0);
      for (std::int64_t r = 0; r < nn; ++r) w_.row_to_f32(n0 + r, buf.data() + r * in_);
      gemm_ex(ctx, true, M, nn, in_, x, ldx, MatView{DType::F32, buf.data(), nn, in_, in_}, y + n0, ldy,
              columns(ep, n0));
    }
  });
}

namespace reference {

void linear(const Context& ctx, const Linear& layer, const float* x, std::int64_t M, std::int64_t ldx, float* y,
            std::int64_t ldy, const GemmEpilogue& ep_in) {
  const WeightMatrix& w = layer.weight();
  TRIBEV2_CHECK(w.data, "reference::linear: the layer kept no source weight");
  GemmEpilogue ep = ep_in;
  if (!layer.bias().empty()) ep.bias = layer.bias().data();
  std::vector<float> dense(static_cast<std::size_t>(w.rows * w.cols));
  for (std::int64_t r = 0; r < w.rows; ++r) w.row_to_f32(r, dense.data() + r * w.cols);
  const MatView B{DType::F32, dense.data(), w.rows, w.cols, w.cols};
  const bool trans = layer.layout() == Linear::Layout::OutIn;
  if (ctx.precision() == Precision::BF16)
    reference::gemm_bf16(trans, M, layer.out(), layer.in(), x, ldx, B, y, ldy, ep);
  else
    reference::gemm_ex(trans, M, layer.out(), layer.in(), x, ldx, B, y, ldy, ep);
}

}  // namespace reference

}  // namespace tribev2

// The one linear layer of the brain model and the three extractors: nn.Linear's
//   y = act(x W^T + b) + residual * scale          (W stored [out, in], Layout::OutIn)
// or, for weights stored [in, out] (the brain model's subject layer), y = x W + b.
//
// The weight is viewed where it lies (a memory-mapped file, the model's buffers) in its stored
// type (F32, F16, BF16 or Q8_0) and packed ONCE per compute precision by pack():
//   BF16  every F32/F16/BF16 weight is rounded to bfloat16 into the bf16 kernels' panels: the
//         products are bf16 anyway, and a packed weight is streamed once per forward instead of
//         being converted and re-laid-out on every call;
//   F32   F32 weights served from a file mapping are packed into the f32 kernels' panels (the
//         same numbers as per-call packing, bit for bit); weights on the heap, and F16/BF16
//         storage that packing would widen to twice its size, stay as they are and are packed
//         per call (the cost is O(N K) against the product's O(M N K)).
// A packed copy replaces its source: the source's file pages are given back, so memory stays
// at one copy. Q8_0 weights are never packed: tiles of rows are widened to float32 per call.
// Whether to pack is each model's choice, by measurement (docs/performance.md, "Which weights
// are packed"): the brain model and V-JEPA2 (bf16) pack; w2v-BERT and Llama run per call.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/gemm.hpp"
#include "tribev2/core/weight_matrix.hpp"

namespace tribev2 {

class Linear {
 public:
  enum class Layout : std::uint8_t { OutIn, InOut };

  Linear() = default;
  // `w` must outlive the Linear (or its packs, for a source given back); bias: [out] or empty.
  explicit Linear(const WeightMatrix& w, std::vector<float> bias = {}, Layout layout = Layout::OutIn);
  explicit Linear(const MatView& w, std::vector<float> bias = {}, Layout layout = Layout::OutIn);
  // The parts' weights stacked along the output (e.g. attention's q, k and v as one [3H, H]
  // product), packed for ctx.precision(). Under BF16 only the packed panels are kept; under F32
  // the stacked float32 copy is owned by the result. Parts must be OutIn with equal `in`.
  static Linear stack(const Context& ctx, std::span<const Linear* const> parts);

  bool empty() const { return out_ == 0; }
  std::int64_t out() const { return out_; }
  std::int64_t in() const { return in_; }
  Layout layout() const { return layout_; }
  const WeightMatrix& weight() const { return w_; }
  std::span<const float> bias() const { return bias_; }

  // Packs the weight for ctx.precision() as described above (no-op when already packed for it
  // or when the policy keeps the source). Not thread-safe: models call it at load or under
  // their own std::call_once, before any forward with that precision.
  void pack(const Context& ctx);
  bool packed_for(Precision p) const { return p == Precision::BF16 ? bf16_ != nullptr : f32_ != nullptr; }
  std::size_t packed_bytes() const;

  // y[M, out] (row stride ldy) = epilogue(x[M, in] (row stride ldx) W^T) with the layer's bias
  // (ep.bias must be null when the layer has one) in ctx.precision(): bf16 products under
  // BF16 (packed or per call), float32 otherwise.
  void forward(const Context& ctx, const float* x, std::int64_t M, std::int64_t ldx, float* y, std::int64_t ldy,
               GemmEpilogue ep = {}) const;
  // The same for dense rows (ldx = in, ldy = out).
  void forward(const Context& ctx, const float* x, std::int64_t M, float* y, GemmEpilogue ep = {}) const {
    forward(ctx, x, M, in_, y, out_, ep);
  }

 private:
  WeightMatrix w_;
  std::vector<float> bias_;
  Layout layout_ = Layout::OutIn;
  std::int64_t out_ = 0, in_ = 0;
  bool source_released_ = false;               // the source's pages were given back after packing
  std::shared_ptr<const void> owned_;          // storage of a stacked weight
  std::shared_ptr<const PackedBf16> bf16_;
  std::shared_ptr<const PackedF32> f32_;
};

namespace reference {
// Linear::forward's twin: the weight widened row by row to float32 (bf16-rounded under BF16,
// with bf16-rounded inputs), a plain loop, then the epilogue element by element.
void linear(const Context& ctx, const Linear& layer, const float* x, std::int64_t M, std::int64_t ldx, float* y,
            std::int64_t ldy, const GemmEpilogue& ep = {});
}  // namespace reference

}  // namespace tribev2

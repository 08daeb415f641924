// V-JEPA2's 3-D rotary position embedding (HF VJEPA2RopeAttention; fixture README stage 3).
// Token n of a clip sits at frame n // g^2, row (n mod g^2) // g, column n mod g, with
// g = crop_size // patch_size from the config. Each head's dims split into three blocks of
// d = 2 * ((head_dim // 3) // 2) (frame, row, column); the remaining head_dim - 3d pass
// unrotated. Inside a block, with w_m = 1 / 10000^(m / (d/2)) (float32), component j has the
// angle pos * w_(j mod d/2) (frequencies tiled, not repeated pairwise) and neighbours rotate:
//   out[2i]   = x[2i]   cos a_2i   - x[2i+1] sin a_2i
//   out[2i+1] = x[2i+1] cos a_2i+1 + x[2i]   sin a_2i+1
#pragma once

#include <cstdint>
#include <vector>

#include "tribev2/core/context.hpp"

namespace tribev2::features::video {

class Rope3D {
 public:
  // Tables for positions of tokens [0, max_tokens) on a grid of g x g patches per frame.
  Rope3D(int head_dim, int grid_size, std::int64_t max_tokens);

  int block_dim() const { return d_; }
  int head_dim() const { return head_dim_; }

  // Rotates rows [0, rows) of x (row r = token first_token + r), every head, in place.
  void apply(const Context& ctx, float* x, std::int64_t rows, std::int64_t ld, int heads,
             std::int64_t first_token = 0) const;
  // One token's row of `heads` heads.
  void apply_token(float* x, int heads, std::int64_t token) const;

 private:
  int head_dim_, grid_, d_;
  std::int64_t max_tokens_;
  // cos/sin of pos * w_(j mod d/2) for j < d, per position value: [positions, d].
  std::vector<float> cos_, sin_;
  std::int64_t n_pos_ = 0;
};

namespace reference {
// Direct evaluation (angles and float32 frequencies recomputed per element, sin/cos in double).
void rope3d_apply_token(float* x, int heads, int head_dim, int grid_size, std::int64_t token);
}  // namespace reference

}  // namespace tribev2::features::video

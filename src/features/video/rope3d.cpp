#include "tribev2/features/video/rope3d.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"

namespace tribev2::features::video {

namespace {

// torch: omega = arange(d/2, float32) / (d/2); omega = 1.0 / 10000**omega (float32 each step).
float omega(int m, int d) {
  const float e = static_cast<float>(m) / static_cast<float>(static_cast<double>(d) / 2.0);
  const float p = static_cast<float>(std::pow(10000.0, static_cast<double>(e)));
  return 1.0f / p;
}

void positions(std::int64_t token, int grid, std::int64_t pos[3]) {
  const std::int64_t per_frame = static_cast<std::int64_t>(grid) * grid;
  pos[0] = token / per_frame;
  const std::int64_t in_frame = token - per_frame * pos[0];
  pos[1] = in_frame / grid;
  pos[2] = in_frame - static_cast<std::int64_t>(grid) * pos[1];
}

}  // namespace

Rope3D::Rope3D(int head_dim, int grid_size, std::int64_t max_tokens)
    : head_dim_(head_dim), grid_(grid_size), d_(2 * ((head_dim / 3) / 2)), max_tokens_(max_tokens) {
  TRIBEV2_CHECK(head_dim > 0 && grid_size > 0 && max_tokens >= 0, "Rope3D: bad sizes (head_dim ", head_dim,
                ", grid ", grid_size, ", tokens ", max_tokens, ")");
  const std::int64_t per_frame = static_cast<std::int64_t>(grid_size) * grid_size;
  n_pos_ = std::max<std::int64_t>({grid_size, max_tokens > 0 ? (max_tokens - 1) / per_frame + 1 : 1, 1});
  if (d_ == 0) return;
  const int half = d_ / 2;
  cos_.resize(static_cast<std::size_t>(n_pos_ * d_));
  sin_.resize(cos_.size());
  for (std::int64_t p = 0; p < n_pos_; ++p)
    for (int j = 0; j < d_; ++j) {
      const float a = static_cast<float>(p) * omega(j % half, d_);
      cos_[static_cast<std::size_t>(p * d_ + j)] = static_cast<float>(std::cos(static_cast<double>(a)));
      sin_[static_cast<std::size_t>(p * d_ + j)] = static_cast<float>(std::sin(static_cast<double>(a)));
    }
}

void Rope3D::apply_token(float* x, int heads, std::int64_t token) const {
  if (d_ == 0) return;
  std::int64_t pos[3];
  positions(token, grid_, pos);
  TRIBEV2_CHECK(pos[0] < n_pos_, "Rope3D: token ", token, " beyond the table (", max_tokens_, " tokens)");
  for (int h = 0; h < heads; ++h) {
    float* xh = x + static_cast<std::int64_t>(h) * head_dim_;
    for (int b = 0; b < 3; ++b) {
      float* xb = xh + b * d_;
      const float* c = cos_.data() + pos[b] * d_;
      const float* s = sin_.data() + pos[b] * d_;
      for (int i = 0; i < d_; i += 2) {
        const float x0 = xb[i], x1 = xb[i + 1];
        xb[i] = x0 * c[i] + (-x1) * s[i];
        xb[i + 1] = x1 * c[i + 1] + x0 * s[i + 1];
      }
    }
  }
}

void Rope3D::apply(const Context& ctx, float* x, std::int64_t rows, std::int64_t ld, int heads,
                   std::int64_t first_token) const {
  TRIBEV2_CHECK(first_token >= 0 && first_token + rows <= max_tokens_, "Rope3D: tokens [", first_token, ", ",
                first_token + rows, ") beyond the table of ", max_tokens_);
  ctx.pool().parallel_for(
      rows,
      [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) apply_token(x + r * ld, heads, first_token + r);
      },
      64);
}

namespace reference {

void rope3d_apply_token(float* x, int heads, int head_dim, int grid_size, std::int64_t token) {
  const int d = 2 * ((head_dim / 3) / 2);
  if (d == 0) return;
  std::int64_t pos[3];
  positions(token, grid_size, pos);
  for (int h = 0; h < heads; ++h)
    for (int b = 0; b < 3; ++b) {
      float* xb = x + static_cast<std::int64_t>(h) * head_dim + b * d;
      std::vector<float> in(xb, xb + d);
      for (int j = 0; j < d; ++j) {
        const float angle = static_cast<float>(pos[b]) * omega(j % (d / 2), d);
        const double c = std::cos(static_cast<double>(angle)), s = std::sin(static_cast<double>(angle));
        // rotate-pairs partner: y[2i] = -x[2i+1], y[2i+1] = x[2i]
        const double y = (j % 2 == 0) ? -static_cast<double>(in[static_cast<std::size_t>(j + 1)])
                                      : static_cast<double>(in[static_cast<std::size_t>(j - 1)]);
        xb[j] = static_cast<float>(in[static_cast<std::size_t>(j)] * c + y * s);
      }
    }
}

}  // namespace reference

}  // namespace tribev2::features::video

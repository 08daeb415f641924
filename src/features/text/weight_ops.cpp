#include "weight_ops.hpp"

namespace tribev2::text {

void round_bf16(float* x, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) x[i] = bf16_round(x[i]);
}

}  // namespace tribev2::text

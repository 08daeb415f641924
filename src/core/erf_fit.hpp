// THE erf of the project's GELU (private to core): erf(u) = sign(u) (1 - erfc(|u|)), with
// erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2) and P a degree-10 least-squares fit of
// log(erfc(z) / t) + z^2 over z in [0, 10] (Chebyshev nodes in t; fitted for this project,
// max |erf error| 2.4e-9), evaluated in double. simd_avx512.hpp has the same steps on 8
// doubles at a time; the reference twin is std::erf (kernels::reference::gelu_erf).
//
// Why this one (issue 16: there were two erf approximations): Abramowitz & Stegun 7.1.26,
// which core used on AVX-512, errs by up to 1.5e-7 (about 2 float ulps of GELU near |x| = 1);
// this fit is exact to float rounding, and GELU is < 0.1 % of the time of every network that
// uses it (one GELU per 2 x hidden multiply-adds), so the double evaluation costs nothing
// measurable. The goldens of the brain model and V-JEPA2 pass with it.
#pragma once

#include <cstdint>
#include <cstring>

namespace tribev2::detail {

// exp(v) for double: v = k ln2 + r, |r| <= ln2/2, k by the 1.5 * 2^52 rounding trick, e^r by
// its Taylor series to degree 11, 2^k through the exponent bits; v clamped to [-700, 700].
inline double exp_fit(double v) {
  v = v < -700.0 ? -700.0 : v;
  v = v > 700.0 ? 700.0 : v;
  const double k = (v * 1.4426950408889634074 + 6755399441055744.0) - 6755399441055744.0;
  double r = v - k * 6.93147180369123816490e-01;
  r = r - k * 1.90821492927058770002e-10;
  double p = 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::int64_t bits = static_cast<std::int64_t>(static_cast<std::int32_t>(k) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, 8);
  return p * scale;
}

// The fit's coefficients, highest degree first.
inline constexpr double kErfcFit[11] = {-0.14491330738655447, 0.9902578401685056, -2.8369157965013656,
                                        4.314971695042093,    -3.630209570578056, 1.7205867135582509,
                                        -0.7361437343066387,  0.2329245075964429, 0.35320147899389054,
                                        1.0018182174155177,   -1.2655780417109754};

inline double erf_fit(double u) {
  const double z = u < 0 ? -u : u;
  const double t = 1.0 / (1.0 + 0.5 * z);
  double p = kErfcFit[0];
  for (int i = 1; i < 11; ++i) p = p * t + kErfcFit[i];
  const double e = 1.0 - t * exp_fit(-z * z + p);
  return u < 0 ? -e : e;
}

// 0.5 x (1 + erf(x / sqrt 2)); x / sqrt 2 is taken in float, as PyTorch does.
inline float gelu_erf_fit(float x) {
  const auto e = static_cast<float>(erf_fit(static_cast<double>(x * 0.70710678118654752440f)));
  return 0.5f * x * (1.0f + e);
}

}  // namespace tribev2::detail

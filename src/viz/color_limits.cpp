#include "tribev2/viz/color_limits.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tribev2/core/error.hpp"

namespace tribev2::viz {

namespace {
// numpy.percentile's default ("linear"): position q/100 * (n - 1) in the sorted values.
double percentile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

std::vector<double> finite_sorted(std::span<const float> values, bool absolute) {
  std::vector<double> v;
  v.reserve(values.size());
  for (float x : values)
    if (std::isfinite(x)) v.push_back(absolute ? std::abs(static_cast<double>(x)) : static_cast<double>(x));
  std::sort(v.begin(), v.end());
  return v;
}

void check_q(double q) { TRIBEV2_CHECK(q >= 0 && q <= 100, "percentile must be in [0, 100], got ", q); }
}  // namespace

Symmetric parse_symmetric(std::string_view t) {
  if (t == "auto") return Symmetric::Auto;
  if (t == "yes" || t == "true" || t == "on" || t == "1") return Symmetric::Yes;
  if (t == "no" || t == "false" || t == "off" || t == "0") return Symmetric::No;
  fail("symmetric must be auto, yes or no, got '", t, "'");
}

double percentile(std::span<const float> values, double q) {
  check_q(q);
  return percentile_sorted(finite_sorted(values, false), q);
}

double abs_percentile(std::span<const float> values, double q) {
  check_q(q);
  return percentile_sorted(finite_sorted(values, true), q);
}

ColorLimits compute_limits(std::span<const float> values, const LimitOptions& o) {
  const double q = o.percentile.value_or(100.0);
  check_q(q);
  TRIBEV2_CHECK(q >= 50, "percentile for colour limits must be at least 50 (it is the upper one), got ", q);
  if (o.vmin && !std::isfinite(*o.vmin)) fail("vmin must be finite, got ", *o.vmin);
  if (o.vmax && !std::isfinite(*o.vmax)) fail("vmax must be finite, got ", *o.vmax);
  const auto sorted = finite_sorted(values, false);
  const double dmin = sorted.empty() ? 0.0 : sorted.front();
  const double dmax = sorted.empty() ? 0.0 : sorted.back();
  bool symmetric = o.symmetric == Symmetric::Yes;
  if (o.symmetric == Symmetric::Auto) {
    // nilearn: with a missing limit, symmetric when the data has both signs; with both limits
    // given, symmetric when vmin == -vmax.
    symmetric = (!o.vmin || !o.vmax) ? (dmin < 0 && dmax > 0) : std::abs(*o.vmin + *o.vmax) <= 1e-8 * std::abs(*o.vmax);
  }
  ColorLimits l;
  if (symmetric) {
    double m;
    if (o.vmax) m = *o.vmax;
    else if (o.vmin) m = -*o.vmin;
    else m = percentile_sorted(finite_sorted(values, true), q);
    if (o.vmin && o.vmax && *o.vmin >= *o.vmax) fail("vmin (", *o.vmin, ") must be below vmax (", *o.vmax, ")");
    if (!(m > 0) || !std::isfinite(m)) {
      if (o.vmin || o.vmax) fail("symmetric colour limits need a positive vmax (or negative vmin)");
      m = 1.0;
    }
    l = {-m, m};
  } else {
    l.vmin = o.vmin ? *o.vmin : (sorted.empty() ? 0.0 : percentile_sorted(sorted, 100.0 - q));
    l.vmax = o.vmax ? *o.vmax : (sorted.empty() ? 1.0 : percentile_sorted(sorted, q));
    if (o.vmin && o.vmax && *o.vmin >= *o.vmax) fail("vmin (", *o.vmin, ") must be below vmax (", *o.vmax, ")");
    if (l.vmin >= l.vmax) {
      // Constant data (or a limit given on the wrong side): a unit-wide range keeps colours defined.
      if (l.vmin == 0 && l.vmax == 0) l = {-1.0, 1.0};
      else if (o.vmax && !o.vmin) l.vmin = l.vmax - std::max(1.0, std::abs(l.vmax));
      else l.vmax = l.vmin + std::max(1e-8, std::abs(l.vmin) * 1e-6);
    }
  }
  return l;
}

std::vector<double> colorbar_ticks(const ColorLimits& limits, std::optional<double> threshold) {
  const int n = 5;
  std::vector<double> t(n);
  for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = limits.vmin + (limits.vmax - limits.vmin) * i / (n - 1);
  const double vmax = limits.vmax == 0 ? 1.1920929e-07 : limits.vmax;
  if (!threshold || !(*threshold / vmax > 0.12)) return t;
  // nilearn's rule: the two ticks whose |tick| is closest to the threshold become -threshold
  // and +threshold (not 0: then the first and third closest); with a four-way tie the middle two.
  const double off = *threshold;
  if (limits.vmin >= 0 || limits.vmax <= 0) {
    // One-signed bar (nilearn would put -threshold on it and clamp it away): move the interior
    // tick closest to the one threshold that is on the bar.
    const double target = limits.vmin >= 0 ? off : -off;
    std::size_t best = 1;
    for (std::size_t i = 2; i + 1 < t.size(); ++i)
      if (std::abs(t[i] - target) < std::abs(t[best] - target)) best = i;
    if (target > limits.vmin && target < limits.vmax) t[best] = target;
    return t;
  }
  std::vector<double> diff(n);
  for (std::size_t i = 0; i < t.size(); ++i) diff[i] = std::abs(std::abs(t[i]) - off);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return diff[a] < diff[b]; });
  const double best = diff[order[0]];
  std::vector<std::size_t> pick;
  if (std::count(diff.begin(), diff.end(), best) == 4) {
    std::vector<std::size_t> four(order.begin(), order.begin() + 4);
    std::sort(four.begin(), four.end(), [&](std::size_t a, std::size_t b) { return t[a] < t[b]; });
    pick = {four[1], four[2]};
  } else {
    pick = {order[0], order[1]};
    if (t[pick[0]] == 0 || t[pick[1]] == 0) pick = {order[0], order[1], order[2]};
    std::sort(pick.begin(), pick.end());
    if (pick.size() == 3) pick = {pick[0], pick[2]};
  }
  std::sort(pick.begin(), pick.end());
  t[pick[0]] = -off;
  t[pick[1]] = off;
  if (t[0] < limits.vmin) t[0] = limits.vmin;
  return t;
}

std::pair<double, double> robust_normalize(std::span<float> values, double pct) {
  TRIBEV2_CHECK(std::isfinite(pct) && pct >= 0 && pct <= 100, "norm percentile must be in [0, 100], got ", pct);
  const double hi = percentile(values, pct), lo = percentile(values, 100.0 - pct);
  const double span = hi - lo;
  for (float& v : values) {
    if (!std::isfinite(v)) continue;
    const double x = span != 0 ? (static_cast<double>(v) - lo) / span : 0.0;
    v = static_cast<float>(std::clamp(x, 0.0, 1.0));
  }
  return {lo, hi};
}

}  // namespace tribev2::viz

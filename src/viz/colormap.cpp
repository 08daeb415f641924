#include "tribev2/viz/colormap.hpp"

#include <cmath>

#include "colormap_data.hpp"
#include "tribev2/core/error.hpp"

namespace tribev2::viz {

namespace {
constexpr int kAlphaSize = 1024;  // upstream's get_alpha_cmap n_points

const detail::ColormapTable* find_table(std::string_view name) {
  for (int i = 0; i < detail::kColormapTableCount; ++i)
    if (name == detail::kColormapTables[i].name) return &detail::kColormapTables[i];
  return nullptr;
}

// numpy.linspace(0, 1, num)[i] (step multiplied by the index; the last point is exactly 1).
double linspace01(int i, int num) {
  if (num <= 1) return 0.0;
  if (i == num - 1) return 1.0;
  return i * (1.0 / (num - 1));
}
}  // namespace

std::vector<std::string> Colormap::names() {
  // Tables are stored once; "RdBu_r" is the reverse of the stored "RdBu", "gray_r" of "gray".
  std::vector<std::string> out;
  for (int i = 0; i < detail::kColormapTableCount; ++i) {
    const std::string n = detail::kColormapTables[i].name;
    out.push_back(n == "RdBu" ? "RdBu_r" : n);
  }
  return out;
}

Colormap Colormap::get(std::string_view name) {
  if (const auto* t = find_table(name)) return Colormap(std::string(name), t->rgb, false);
  if (name.size() > 2 && name.substr(name.size() - 2) == "_r")
    if (const auto* t = find_table(name.substr(0, name.size() - 2))) return Colormap(std::string(name), t->rgb, true);
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown colormap '", name, "' (known: ", known, "; add _r to reverse one)");
}

Colormap Colormap::get(std::string_view name, double alpha_threshold, double alpha_scale) {
  return get(name).with_alpha(alpha_threshold, alpha_scale, name == "seismic" || name == "bwr");
}

Colormap Colormap::with_alpha(double threshold, double scale, bool symmetric) const {
  TRIBEV2_CHECK(std::isfinite(threshold) && threshold >= 0 && threshold <= 1, "alpha colormap: threshold must be in [0, 1], got ",
                threshold);
  TRIBEV2_CHECK(std::isfinite(scale) && scale > 0, "alpha colormap: scale must be > 0, got ", scale);
  constexpr int n = kAlphaSize;
  // Python's int() truncates towards zero; both products are >= 0 here.
  const int lo = static_cast<int>(threshold * (n - 1));
  const long long hi_ll = static_cast<long long>((threshold + scale) * (n - 1));
  const int hi = static_cast<int>(std::min<long long>(hi_ll, 1LL << 30));
  TRIBEV2_CHECK(hi > lo, "alpha colormap: threshold + scale gives an empty ramp (", threshold, ", ", scale, ")");
  std::vector<float> a(n, 0.0f);
  const int ramp_n = hi - lo, end = std::min(hi, n);
  for (int j = lo; j < end; ++j) a[static_cast<std::size_t>(j)] = static_cast<float>(linspace01(j - lo, ramp_n));
  for (int j = end; j < n; ++j) a[static_cast<std::size_t>(j)] = 1.0f;
  if (symmetric) {
    // numpy: concatenate([alpha[::-2], alpha[::2]])
    std::vector<float> s;
    s.reserve(n);
    for (int j = n - 1; j >= 0; j -= 2) s.push_back(a[static_cast<std::size_t>(j)]);
    for (int j = 0; j < n; j += 2) s.push_back(a[static_cast<std::size_t>(j)]);
    a = std::move(s);
  }
  Colormap out = *this;
  out.alpha_ = std::move(a);
  return out;
}

int Colormap::size() const { return alpha_.empty() ? kSize : kAlphaSize; }

float Colormap::alpha_entry(int j) const {
  TRIBEV2_CHECK(j >= 0 && j < size(), "colormap alpha entry ", j, " out of range");
  return alpha_.empty() ? 1.0f : alpha_[static_cast<std::size_t>(j)];
}

Rgb Colormap::entry(int i) const {
  TRIBEV2_CHECK(i >= 0 && i < kSize, "colormap entry ", i, " out of range");
  // matplotlib's reversed LinearSegmentedColormap samples the mirrored segments at the same
  // points, and a reversed ListedColormap reverses the list: both are the table read backwards.
  const int k = reversed_ ? kSize - 1 - i : i;
  const float* p = table_ + 3 * k;
  return {p[0], p[1], p[2]};
}

// matplotlib's Colormap.__call__ index for a float x: floor(x * n), x == 1 maps to the last
// entry, x < 0 to the first ("under") and x > 1 to the last ("over"). NaN is the caller's
// business (we draw it as background).
int Colormap::index_of(double x, int n) const {
  const double xa = x * n;
  if (!(xa >= 0)) return 0;
  if (xa >= n) return n - 1;
  return static_cast<int>(xa);  // truncation == floor for xa >= 0
}

Rgb Colormap::operator()(double x) const {
  const Rgba c = rgba(x);
  return {c.r, c.g, c.b};
}

Rgba Colormap::rgba(double x) const {
  if (alpha_.empty()) {
    const Rgb c = entry(index_of(x, kSize));
    return {c.r, c.g, c.b, 1.0f};
  }
  // The 1024-entry ListedColormap: entry j holds base(linspace(0, 1, 1024)[j]).
  const int j = index_of(x, kAlphaSize);
  const Rgb c = entry(index_of(linspace01(j, kAlphaSize), kSize));
  return {c.r, c.g, c.b, alpha_[static_cast<std::size_t>(j)]};
}

}  // namespace tribev2::viz

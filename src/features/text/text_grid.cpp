#include "tribev2/features/text/text_grid.hpp"

#include <algorithm>
#include <cmath>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"

namespace tribev2::text {

Tensor text_grid(const std::vector<events::Word>& words, const Tensor& features, const std::vector<std::uint8_t>& has_features,
                 double seg_start, double seg_duration, double frequency) {
  TRIBEV2_CHECK(features.dtype() == DType::F32 && features.ndim() == 3 &&
                    features.dim(0) == static_cast<std::int64_t>(words.size()),
                "text_grid: features must be float32 [n_words = ", words.size(), ", n_groups, hidden], got ",
                shape_str(features.shape()));
  TRIBEV2_CHECK(has_features.empty() || has_features.size() == words.size(), "text_grid: has_features has ",
                has_features.size(), " entries for ", words.size(), " words");
  TRIBEV2_CHECK(std::isfinite(seg_start) && std::isfinite(seg_duration) && seg_duration >= 0,
                "text_grid: segment start/duration must be finite and the duration >= 0 (got ", seg_start, ", ",
                seg_duration, ")");
  const std::int64_t G = features.dim(1), H = features.dim(2);
  const std::int64_t T = features::segment_bins(seg_duration, frequency);
  Tensor grid = Tensor::zeros(DType::F32, {G, H, T});
  float* out = grid.data<float>();
  const float* f = features.data<float>();
  const double seg_stop = seg_start + seg_duration;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!has_features.empty() && !has_features[i]) continue;
    const auto& w = words[i];
    if (!(w.start < seg_stop && w.start + w.duration > seg_start)) continue;  // upstream's event filter
    features::add_event(out, G * H, T, seg_start, f + static_cast<std::int64_t>(i) * G * H, w.start, w.duration, frequency);
  }
  return grid;
}

void check_words_within(const std::vector<events::Word>& words, double media_duration) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i];
    if (!(w.start >= 0) || !(w.stop() <= media_duration))
      fail("word ", i, " '", w.text, "' spans [", w.start, ", ", w.stop(), "] s, outside the media duration [0, ",
           media_duration, "] s (transcript of another file, or wrong --media-duration?)");
  }
}

double words_end(const std::vector<events::Word>& words) {
  double end = 0.0;
  for (const auto& w : words) end = std::max(end, w.stop());
  return end;
}

}  // namespace tribev2::text

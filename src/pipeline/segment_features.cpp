#include "tribev2/pipeline/segment_features.hpp"

#include <algorithm>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"

namespace tribev2::pipeline {

namespace {

bool overlaps(double ev_start, double ev_duration, const model::SegmentPlan& s) {
  return ev_start < s.start + s.duration && ev_start + ev_duration > s.start;
}

std::int64_t check_segments(const std::vector<model::SegmentPlan>& segments, double frequency) {
  TRIBEV2_CHECK(!segments.empty(), "no segments to fill");
  const std::int64_t T = segments.front().steps;
  for (const auto& s : segments) {
    TRIBEV2_CHECK(s.steps == T, "segments must all have the same number of steps");
    TRIBEV2_CHECK(features::segment_bins(s.duration, frequency) == T, "segment of ", s.duration, " s has ", s.steps,
                  " steps, but the ", frequency, " Hz grid gives ", features::segment_bins(s.duration, frequency));
  }
  return T;
}

// Copies a [C, T] segment buffer into columns [k T, (k + 1) T) of out [C, n_seg T].
void put_segment(float* out, std::int64_t channels, std::int64_t n_seg, std::int64_t T, std::int64_t k,
                 const std::vector<float>& buf) {
  for (std::int64_t c = 0; c < channels; ++c)
    std::memcpy(out + c * n_seg * T + k * T, buf.data() + c * T, static_cast<std::size_t>(T) * sizeof(float));
}

}  // namespace

Tensor segment_word_features(const Tensor& word_features, const std::vector<events::Word>& words,
                             const std::vector<model::SegmentPlan>& segments, double frequency) {
  TRIBEV2_CHECK(word_features.dtype() == DType::F32 && word_features.ndim() == 3,
                "word features must be float32 [n_words, L, D], got ", shape_str(word_features.shape()));
  TRIBEV2_CHECK(word_features.dim(0) == static_cast<std::int64_t>(words.size()), "word features have ",
                word_features.dim(0), " rows for ", words.size(), " words");
  const std::int64_t L = word_features.dim(1), D = word_features.dim(2), C = L * D;
  const std::int64_t T = check_segments(segments, frequency);
  const auto n_seg = static_cast<std::int64_t>(segments.size());
  Tensor out = Tensor::zeros(DType::F32, {L, D, n_seg * T});
  const float* wf = word_features.data<float>();
  std::vector<float> buf(static_cast<std::size_t>(C * T));
  for (std::int64_t k = 0; k < n_seg; ++k) {
    const auto& seg = segments[static_cast<std::size_t>(k)];
    std::fill(buf.begin(), buf.end(), 0.0f);
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!overlaps(words[i].start, words[i].duration, seg)) continue;
      features::add_event(buf.data(), C, T, seg.start, wf + static_cast<std::int64_t>(i) * C, words[i].start,
                          words[i].duration, frequency);
    }
    put_segment(out.data<float>(), C, n_seg, T, k, buf);
  }
  return out;
}

Tensor segment_event_arrays(const std::vector<EventArray>& arrays, const std::vector<model::SegmentPlan>& segments,
                            double frequency) {
  TRIBEV2_CHECK(!arrays.empty(), "no feature arrays to place");
  const Shape& s0 = arrays.front().data.shape();
  for (const auto& a : arrays) {
    TRIBEV2_CHECK(a.data.dtype() == DType::F32 && (a.data.ndim() == 3 || a.data.ndim() == 2),
                  "feature arrays must be float32 [L, D, n], got ", shape_str(a.data.shape()));
    TRIBEV2_CHECK(a.data.ndim() == static_cast<std::int64_t>(s0.size()) &&
                      std::equal(s0.begin(), s0.end() - 1, a.data.shape().begin()),
                  "feature arrays of one modality must share [L, D]: ", shape_str(s0), " vs ",
                  shape_str(a.data.shape()));
    TRIBEV2_CHECK(a.data.dim(-1) > 0, "a feature array has no time steps");
  }
  Shape shape(s0.begin(), s0.end() - 1);
  std::int64_t C = 1;
  for (auto d : shape) C *= d;
  const std::int64_t T = check_segments(segments, frequency);
  const auto n_seg = static_cast<std::int64_t>(segments.size());
  shape.push_back(n_seg * T);
  Tensor out = Tensor::zeros(DType::F32, shape);
  std::vector<float> buf(static_cast<std::size_t>(C * T)), sub;
  for (std::int64_t k = 0; k < n_seg; ++k) {
    const auto& seg = segments[static_cast<std::size_t>(k)];
    std::fill(buf.begin(), buf.end(), 0.0f);
    for (const auto& a : arrays) {
      if (!overlaps(a.event_start, a.event_duration, seg)) continue;
      // Two steps, as upstream: ta.overlap(seg.start, seg.duration) cuts a sub-array (which
      // then starts at array_start + i0 / f and covers n / f seconds), and `buffer += sub`
      // applies the slice rule again on both sides.
      const std::int64_t len = a.data.dim(-1);
      const auto cut = features::overlap_slice(a.array_start, len, frequency, seg.start, seg.duration);
      if (!cut) continue;
      sub.resize(static_cast<std::size_t>(C * cut->length));
      const float* src = a.data.data<float>();
      for (std::int64_t c = 0; c < C; ++c)
        std::memcpy(sub.data() + c * cut->length, src + c * len + cut->begin,
                    static_cast<std::size_t>(cut->length) * sizeof(float));
      features::add_array(buf.data(), C, T, seg.start, sub.data(), cut->length,
                          a.array_start + static_cast<double>(cut->begin) / frequency, frequency);
    }
    put_segment(out.data<float>(), C, n_seg, T, k, buf);
  }
  return out;
}

}  // namespace tribev2::pipeline

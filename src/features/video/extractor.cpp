#include "tribev2/features/video/extractor.hpp"
#include "tribev2/io/hash.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include "tribev2/core/error.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

namespace tribev2::features::video {

namespace fs = std::filesystem;

// ---- layers --------------------------------------------------------------------------------

Tensor group_mean(const Tensor& layers, const std::vector<double>& fractions) {
  TRIBEV2_CHECK(layers.dtype() == DType::F32 && layers.ndim() == 3, "group_mean: expected float32 [L, D, n], got ",
                shape_str(layers.shape()));
  const auto L = static_cast<int>(layers.dim(0));
  const std::int64_t plane = layers.dim(1) * layers.dim(2);
  const auto b = group_bounds(L, fractions);
  const auto G = static_cast<std::int64_t>(b.size() - 1);
  Tensor out = Tensor::empty(DType::F32, {G, layers.dim(1), layers.dim(2)});
  const float* in = layers.data<float>();
  float* o = out.data<float>();
  for (std::int64_t g = 0; g < G; ++g) {
    const int l0 = b[static_cast<std::size_t>(g)], l1 = b[static_cast<std::size_t>(g + 1)];
    const auto count = static_cast<float>(l1 - l0);
    for (std::int64_t i = 0; i < plane; ++i) {
      float acc = in[l0 * plane + i];
      for (int l = l0 + 1; l < l1; ++l) acc += in[l * plane + i];
      o[g * plane + i] = acc / count;
    }
  }
  return out;
}

// ---- one event -----------------------------------------------------------------------------

FrameSource frame_source(media::VideoReader& reader) {
  return {[&reader](double t) { return reader.frame_index_at(t); },
          [&reader](std::int64_t i) { return reader.frame(i); }};
}

namespace {

int crop_side(const VJEPA2Model& model) {
  const ProcessorConfig& p = model.processor();
  TRIBEV2_CHECK(p.crop_height == p.crop_width, "the processor's crop must be square for V-JEPA2, got ",
                p.crop_width, "x", p.crop_height);
  return p.crop_height;
}

}  // namespace

Tensor bin_pixel_values(const VJEPA2Model& model, const FrameSource& frames, const std::vector<std::int64_t>& indices,
                        const VideoFeatureOptions& options, Tensor* crops) {
  const int S = crop_side(model);
  const auto n = static_cast<std::int64_t>(indices.size());
  Tensor pv = Tensor::empty(DType::F32, {n, 3, S, S});
  if (crops) *crops = Tensor::empty(DType::U8, {n, 3, S, S});
  const std::int64_t per = 3LL * S * S;
  for (std::int64_t i = 0; i < n; ++i) {
    const Tensor c = resize_crop(frames.frame(indices[static_cast<std::size_t>(i)]), model.processor(), options.resize);
    normalize_into(c, model.processor(), pv.data<float>() + i * per);
    if (crops) std::memcpy(crops->data<std::uint8_t>() + i * per, c.data<std::uint8_t>(), static_cast<std::size_t>(per));
  }
  return pv;
}

Tensor extract_event_layers(const Context& ctx, const VJEPA2Model& model, const FrameSource& frames, double offset,
                            double duration, const VideoFeatureOptions& options) {
  const auto indices = frame_indices(offset, duration, frames.index_at, options.sampling);
  const auto n = static_cast<std::int64_t>(indices.size());
  const int n_states = model.num_hidden_states();
  const auto sel = layer_selection(n_states, options.cache_n_layers);
  // hidden state -> output layers (a state can be selected twice when cache_n_layers > states)
  std::vector<std::vector<int>> slots(static_cast<std::size_t>(n_states));
  for (std::size_t i = 0; i < sel.size(); ++i) slots[static_cast<std::size_t>(sel[i])].push_back(static_cast<int>(i));
  const std::int64_t H = model.config().hidden_size;
  const auto L = static_cast<std::int64_t>(sel.size());
  Tensor out = Tensor::zeros(DType::F32, {L, H, n});
  if (n == 0) return out;

  const int S = crop_side(model);
  const std::int64_t F = options.sampling.frames_per_clip;
  const std::int64_t per = 3LL * S * S;
  std::vector<float> pixels(static_cast<std::size_t>(F * per));
  // Normalised frames shared by overlapping windows. Window starts never move backwards, so
  // frames before the current window's first are dropped.
  std::map<std::int64_t, std::vector<float>> ready;
  std::vector<double> sums(static_cast<std::size_t>(H));
  float* o = out.data<float>();
  for (std::int64_t k = 0; k < n; ++k) {
    const auto& idx = indices[static_cast<std::size_t>(k)];
    const std::int64_t first = *std::min_element(idx.begin(), idx.end());
    ready.erase(ready.begin(), ready.lower_bound(first));
    for (std::int64_t j = 0; j < F; ++j) {
      const std::int64_t fi = idx[static_cast<std::size_t>(j)];
      auto it = ready.find(fi);
      if (it == ready.end()) {
        std::vector<float> px(static_cast<std::size_t>(per));
        normalize_into(resize_crop(frames.frame(fi), model.processor(), options.resize), model.processor(), px.data());
        it = ready.emplace(fi, std::move(px)).first;
      }
      std::copy(it->second.begin(), it->second.end(), pixels.begin() + j * per);
    }
    model.forward(ctx, pixels.data(), F, S, [&](int state, const float* h, std::int64_t tokens, std::int64_t hidden) {
      const auto& targets = slots[static_cast<std::size_t>(state)];
      if (targets.empty()) return;
      // Mean over all tokens (double sums, then float32).
      std::fill(sums.begin(), sums.end(), 0.0);
      for (std::int64_t t = 0; t < tokens; ++t) {
        const float* row = h + t * hidden;
        for (std::int64_t d = 0; d < hidden; ++d) sums[static_cast<std::size_t>(d)] += row[d];
      }
      for (const int l : targets)
        for (std::int64_t d = 0; d < hidden; ++d)
          o[(l * H + d) * n + k] = static_cast<float>(sums[static_cast<std::size_t>(d)] / static_cast<double>(tokens));
    });
    if (options.progress) options.progress(k + 1, n);
  }
  return out;
}

// ---- chunks, grid ----------------------------------------------------------------------------

std::vector<ChunkFeatures> extract_chunks(const Context& ctx, const VJEPA2Model& model, const fs::path& video,
                                          const VideoFeatureOptions& options, double start, double* duration_out) {
  media::VideoReaderOptions ro;
  ro.cache_frames = 8;  // the extractor keeps its own cache of processed frames
  ro.vfr = options.vfr;
  media::VideoReader reader(video, ro);
  const double duration = reader.info().duration;
  if (duration_out) *duration_out = duration;
  const auto chunks = events::chunk_event(start, 0.0, duration, options.chunk_max_duration, options.chunk_min_duration);

  std::int64_t total = 0;
  for (const auto& c : chunks) total += n_bins(c.duration, options.sampling);
  std::int64_t done = 0;
  if (options.progress) options.progress(0, total);

  std::vector<ChunkFeatures> out;
  const FrameSource src = frame_source(reader);
  for (const auto& c : chunks) {
    ChunkFeatures cf;
    cf.chunk = c;
    const std::int64_t nb = n_bins(c.duration, options.sampling);
    const std::int64_t H = model.config().hidden_size;
    const std::int64_t base = done;
    const auto compute_layers = [&] {
      VideoFeatureOptions o = options;
      o.progress = [&](std::int64_t d, std::int64_t) {
        if (options.progress) options.progress(base + d, total);
      };
      return extract_event_layers(ctx, model, src, c.offset, c.duration, o);
    };
    if (options.store) {
      // The store keeps the group means (what `run` caches); the layers are not kept.
      StoredChunk got = options.store(c, [&] { return group_mean(compute_layers(), options.layers); });
      TRIBEV2_CHECK(got.data.dtype() == DType::F32 && got.data.ndim() == 3 && got.data.dim(1) == H &&
                        got.data.dim(2) == nb,
                    video.string(), ": the feature store returned ", shape_str(got.data.shape()), " for the chunk [",
                    c.offset, ", +", c.duration, ") s, expected [groups, ", H, ", ", nb, "]");
      cf.grouped = std::move(got.data);
      cf.from_store = !got.computed;
      done += nb;
      if (options.progress) options.progress(done, total);
      out.push_back(std::move(cf));
      continue;
    }
    cf.layers = compute_layers();
    done += nb;
    cf.grouped = group_mean(cf.layers, options.layers);
    out.push_back(std::move(cf));
  }
  return out;
}

Tensor segment_features(const std::vector<ChunkFeatures>& chunks, double seg_start, double seg_dur, double frequency) {
  TRIBEV2_CHECK(!chunks.empty(), "segment_features: no video chunks");
  const std::int64_t G = chunks.front().grouped.dim(0), H = chunks.front().grouped.dim(1);
  const std::int64_t T = segment_bins(seg_dur, frequency);
  Tensor buf = Tensor::zeros(DType::F32, {G, H, T});
  std::vector<float> sub;
  for (const auto& c : chunks) {
    const Tensor& g = c.grouped;
    TRIBEV2_CHECK(g.dim(0) == G && g.dim(1) == H, "segment_features: chunks disagree in shape");
    const std::int64_t len = g.dim(2);
    if (len == 0) continue;
    // neuralset: ta.with_start(event.start).overlap(seg_start, seg_dur) slices the chunk's
    // array (the slice starts at start + i0 / f) ...
    const auto s = overlap_slice(c.chunk.start, len, frequency, seg_start, seg_dur);
    if (!s) continue;
    sub.resize(static_cast<std::size_t>(G * H * s->length));
    for (std::int64_t ch = 0; ch < G * H; ++ch)
      std::copy_n(g.data<float>() + ch * len + s->begin, s->length, sub.data() + ch * s->length);
    // ... and the segment buffer += slice applies the slice rule on both sides again.
    add_array(buf.data<float>(), G * H, T, seg_start, sub.data(), s->length,
              c.chunk.start + static_cast<double>(s->begin) / frequency, frequency);
  }
  return buf;
}

Tensor extract_timeline(const Context& ctx, const VJEPA2Model& model, const fs::path& video,
                        const VideoFeatureOptions& options, double* duration_out) {
  double duration = 0.0;
  const auto chunks = extract_chunks(ctx, model, video, options, 0.0, &duration);
  if (duration_out) *duration_out = duration;
  return segment_features(chunks, 0.0, duration, options.sampling.frequency);
}

}  // namespace tribev2::features::video

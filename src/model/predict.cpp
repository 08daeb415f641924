#include "tribev2/model/predict.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/core/kernels.hpp"
#include "tribev2/core/memory.hpp"

namespace tribev2::model {

std::vector<SegmentPlan> plan_segments(double duration, const DataConfig& data, double t0, std::int64_t overlap_trs) {
  TRIBEV2_CHECK(std::isfinite(duration) && duration > 0.0, "stimulus duration must be positive, got ", duration);
  const double seg = data.segment_seconds();
  TRIBEV2_CHECK(seg > 0.0, "segment duration must be positive");
  TRIBEV2_CHECK(overlap_trs >= 0 && overlap_trs < data.duration_trs, "--overlap-trs must be in [0, ", data.duration_trs,
                ") (the segment length in TRs, config data.duration_trs), got ", overlap_trs);
  const auto steps = static_cast<std::int64_t>(std::nearbyint(data.frequency * seg));
  std::int64_t n = 0, stride_steps = steps;
  double stride = seg, skip_s = 0.0;
  if (overlap_trs == 0) {
    // neuralset list_segments (newest): n = ceil(span / stride - 1e-9), at least 1.
    n = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(duration / seg - 1e-9)));
  } else {
    const double tr = data.tr();
    const double steps_per_tr = data.frequency * tr;
    TRIBEV2_CHECK(std::abs(steps_per_tr - std::nearbyint(steps_per_tr)) < 1e-9, "--overlap-trs needs a whole number of ",
                  "feature steps per TR (", data.frequency, " Hz x ", tr, " s)");
    stride = static_cast<double>(data.duration_trs - overlap_trs) * tr;
    stride_steps = steps - overlap_trs * static_cast<std::int64_t>(std::nearbyint(steps_per_tr));
    skip_s = static_cast<double>(overlap_trs) * tr;
    // Segment k > 0 contributes rows from k * stride + K TRs on: the segments needed are those
    // whose first contributed row starts before the end (list_segments would add trailing
    // windows whose rows all belong to an earlier segment; they are not run).
    n = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((duration - skip_s) / stride - 1e-9)));
  }
  std::vector<SegmentPlan> out;
  for (std::int64_t k = 0; k < n; ++k) {
    SegmentPlan s;
    s.start = t0 + static_cast<double>(k) * stride;
    s.duration = seg;
    s.step0 = k * stride_steps;
    s.steps = steps;
    s.skip_trs = k == 0 ? 0 : overlap_trs;
    out.push_back(s);
  }
  return out;
}

std::vector<RowInfo> plan_rows(const std::vector<SegmentPlan>& segments, double duration,
                               const DataConfig& data, double t0) {
  const double tr = data.tr();
  const double stop = t0 + duration;
  std::vector<RowInfo> rows;
  std::int64_t index = 0;
  for (const auto& s : segments) {
    // np.arange(0, seg.duration - 1e-2, TR): the 1-TR sub-windows of the segment.
    const auto n = static_cast<std::int64_t>(std::ceil((s.duration - 1e-2) / tr));
    for (std::int64_t i = 0; i < n; ++i, ++index) {
      if (i < s.skip_trs) continue;  // overlap: this TR comes from the previous segment
      const double a = s.start + static_cast<double>(i) * tr;
      // Kept when the window overlaps an event (strictly); the dummy event spans [t0, stop).
      if (a < stop && a + tr > t0) rows.push_back({index, a, a + tr});
    }
  }
  return rows;
}

Prediction predict(const Context& ctx, const BrainModel& model, const DataConfig& data,
                   const std::vector<FeatureSeries>& features, const PredictOptions& options) {
  TRIBEV2_CHECK(!features.empty(), "predict: no feature time series given");
  TRIBEV2_CHECK(options.batch_size > 0, "predict: batch size must be positive");
  std::int64_t n_max = 0, n_min = INT64_MAX;
  for (const auto& f : features) {
    TRIBEV2_CHECK(f.data.dtype() == DType::F32, "features '", f.modality, "' must be float32");
    TRIBEV2_CHECK(f.data.ndim() == 2 || f.data.ndim() == 3, "features '", f.modality,
                  "' must be [L, D, N] or [width, N], got ", shape_str(f.data.shape()));
    n_max = std::max(n_max, f.data.dim(-1));
    n_min = std::min(n_min, f.data.dim(-1));
  }
  TRIBEV2_CHECK(n_max > 0, "predict: features have no time steps");
  if (n_min != n_max && !options.pad) {
    std::string lens;
    for (const auto& f : features) lens += (lens.empty() ? "" : ", ") + f.modality + " " + std::to_string(f.data.dim(-1));
    fail("modalities have different lengths (", lens, " steps at ", data.frequency,
         " Hz); pass --pad to zero-pad the shorter ones");
  }
  const double duration = options.duration ? *options.duration : static_cast<double>(n_max) / data.frequency;
  TRIBEV2_CHECK(std::isfinite(duration) && duration > 0.0, "stimulus duration must be positive, got ", duration);

  Prediction result;
  result.duration = duration;
  result.segments = plan_segments(duration, data, 0.0, options.overlap_trs);
  result.rows = plan_rows(result.segments, duration, data);
  const std::int64_t T = result.segments.front().steps;
  const std::int64_t To = model.n_output_timesteps();
  const std::int64_t N = model.n_outputs();
  const double tr = data.tr();
  TRIBEV2_CHECK(std::llround((T / data.frequency) / tr) == To, "the model pools to ", To,
                " timesteps but a segment has ", T, " steps at ", data.frequency, " Hz = ",
                T / data.frequency / tr, " TRs (config data.duration_trs / frequency disagree with the checkpoint)");

  if (model.needs_subject_ids()) {
    TRIBEV2_CHECK(options.subject.has_value(), "this model has per-subject weights (", model.n_subject_rows(),
                  " rows): choose one with --subject");
  }
  const auto n_seg = static_cast<std::int64_t>(result.segments.size());
  const auto n_rows = static_cast<std::int64_t>(result.rows.size());
  // Kept rows are, per segment, a contiguous run of its To rows starting at skip_trs (windows
  // starting before the end): first kept row (in result.rows) and count for each segment.
  // seg_first is where the segment's row `skip` would land in the output.
  std::vector<std::int64_t> seg_first(static_cast<std::size_t>(n_seg), 0), seg_keep(static_cast<std::size_t>(n_seg), 0);
  for (std::int64_t r = n_rows - 1; r >= 0; --r) {
    const std::int64_t idx = result.rows[static_cast<std::size_t>(r)].index;
    const auto sg = static_cast<std::size_t>(idx / To);
    seg_first[sg] = r - (idx % To - result.segments[sg].skip_trs);
    ++seg_keep[sg];
  }
  for (std::int64_t r = 0; r < n_rows; ++r) {
    const std::int64_t idx = result.rows[static_cast<std::size_t>(r)].index;
    const auto sg = static_cast<std::size_t>(idx / To);
    TRIBEV2_CHECK(r - seg_first[sg] == idx % To - result.segments[sg].skip_trs,
                  "predict: kept rows of a segment must be contiguous from its first contributed one (row ", idx, ")");
  }
  // Where segment k's T input steps start in the series.
  const auto input_step0 = [&](std::int64_t k) {
    return options.segment_major_input ? k * T : result.segments[static_cast<std::size_t>(k)].step0;
  };
  const std::int64_t steps_per_tr = T / To;
  if (!options.on_rows) result.preds = Tensor::empty(DType::F32, {n_rows, N});
  std::vector<float> lat;
  const std::int64_t H = model.hidden();
  // Latents on the timeline: segment k's steps from its first contributed TR on land at its
  // step0 (back to back when there is no overlap).
  const std::int64_t lat_steps = result.segments.back().step0 + T;
  if (options.emit_latents) lat.resize(static_cast<std::size_t>(lat_steps * H));

  std::vector<float> window;  // one segment of one series, [L*D, T], when read through read_window
  for (std::int64_t s0 = 0; s0 < n_seg; s0 += options.batch_size) {
    const std::int64_t B = std::min<std::int64_t>(options.batch_size, n_seg - s0);
    Batch batch;
    batch.check_finite = options.check_finite;
    batch.time_major = true;
    for (const auto& f : features) {
      // Time-major batch [B, T, L*D] (what the projectors multiply), zeros past the end of the
      // series: a blocked transpose of each segment's window of the [L*D, N] series.
      const std::int64_t n = f.data.dim(-1);
      const std::int64_t ch = f.data.numel() / n;
      Tensor bt = Tensor::empty(DType::F32, {B, T, ch});
      float* dst = bt.data<float>();
      for (std::int64_t b = 0; b < B; ++b) {
        const std::int64_t step0 = input_step0(s0 + b);
        const std::int64_t avail = std::clamp<std::int64_t>(n - step0, 0, T);
        float* db = dst + b * T * ch;
        if (avail > 0 && f.read_window) {
          window.resize(static_cast<std::size_t>(ch * avail));
          f.read_window(step0, avail, window.data());
          kernels::transpose(ctx, window.data(), ch, avail, avail, db, ch);
        } else if (avail > 0) {
          kernels::transpose(ctx, f.data.data<float>() + step0, ch, avail, n, db, ch);
        }
        std::fill(db + avail * ch, db + T * ch, 0.0f);
      }
      batch.inputs.emplace_back(f.modality, std::move(bt));
    }
    if (model.needs_subject_ids()) batch.subject_ids.assign(static_cast<std::size_t>(B), *options.subject);
    Tensor latents;
    Tensor* lat_out = options.emit_latents ? &latents : nullptr;
    // [B, To, N]: each segment's kept rows are contiguous, in output order. When every segment
    // of the batch keeps all its rows they are written straight into the predictions.
    bool direct = !options.on_rows;
    for (std::int64_t b = 0; b < B; ++b) direct = direct && seg_keep[static_cast<std::size_t>(s0 + b)] == To;
    // (a segment that skips overlap rows never keeps all To of them)
    if (direct) {
      model.forward_time_major_into(ctx, batch, result.preds.data<float>() + seg_first[static_cast<std::size_t>(s0)] * N,
                                    lat_out);
    } else {
      const Tensor y = model.forward_time_major(ctx, batch, true, lat_out);
      const float* yp = y.data<float>();
      for (std::int64_t b = 0; b < B; ++b) {
        const auto sg = static_cast<std::size_t>(s0 + b);
        if (seg_keep[sg] == 0) continue;
        const float* rows = yp + (b * To + result.segments[sg].skip_trs) * N;
        if (options.on_rows) options.on_rows(seg_first[sg], rows, seg_keep[sg]);
        else
          std::memcpy(result.preds.data<float>() + seg_first[sg] * N, rows, static_cast<std::size_t>(seg_keep[sg] * N) * 4);
      }
    }
    if (options.emit_latents) {
      TRIBEV2_CHECK(latents.dim(1) == T, "latents are only defined when the encoder sees T steps");
      for (std::int64_t b = 0; b < B; ++b) {
        const auto& sp = result.segments[static_cast<std::size_t>(s0 + b)];
        const std::int64_t skip = sp.skip_trs * steps_per_tr;
        std::copy(latents.data<float>() + (b * T + skip) * H, latents.data<float>() + (b + 1) * T * H,
                  lat.data() + (sp.step0 + skip) * H);
      }
    }
    if (options.release_consumed_inputs && s0 + B < n_seg) {
      // Every step before the next batch's first one has been read: give those pages of each
      // channel row ([L*D, N] series, time last) back to the page cache.
      const std::int64_t next0 = input_step0(s0 + B);
      std::vector<std::pair<const void*, std::size_t>> done;
      for (const auto& f : features) {
        if (f.read_window) continue;  // never mapped
        const std::int64_t n = f.data.dim(-1), ch = f.data.numel() / n;
        const std::int64_t upto = std::min(next0, n);
        const float* src = f.data.data<float>();
        for (std::int64_t c = 0; c < ch && upto > 0; ++c) done.emplace_back(src + c * n, static_cast<std::size_t>(upto) * 4);
      }
      release_file_pages(done);
    }
    if (options.progress) options.progress(s0 + B, n_seg);
  }

  if (options.emit_latents) {
    const auto n_steps = std::min<std::int64_t>(lat_steps, static_cast<std::int64_t>(std::ceil(duration * data.frequency - 1e-9)));
    result.latents = Tensor::empty(DType::F32, {n_steps, H});
    std::copy(lat.data(), lat.data() + n_steps * H, result.latents.data<float>());
  }
  return result;
}

}  // namespace tribev2::model

#include "tribev2/viz/figure.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/viz/surface_colors.hpp"
#include "frame_clip.hpp"
#include "roi_overlay.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFont = "DejaVu Sans";

// Text and spacing sizes in points (1/72 inch), converted to pixels with the DPI.
constexpr double kPadPt = 8, kTitlePt = 12, kTitleBandPt = 22, kLabelPt = 9, kLabelBandPt = 14, kTickPt = 8,
                 kCbarLabelPt = 9, kCbarBandPt = 62, kBarWidthPt = 9, kLegendBandPt = 18;
// Stimulus rows (upstream's plot_timesteps height ratios: video 0.7, audio 0.3, text 0.3 of a
// brain row; words at 10 pt, the waveform a 1.5 pt black line as matplotlib's default).
constexpr double kVideoRatio = 0.7, kAudioRatio = 0.3, kTextRatio = 0.3, kWordPt = 10, kRowLabelBandPt = 16,
                 kWaveLinePt = 1.0, kFrameRoundingPx = 200;

using HemiColors = std::array<std::vector<Rgb>, 2>;

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
};

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using CairoPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

SurfacePtr wrap(cairo_surface_t* s) { return SurfacePtr(s, &cairo_surface_destroy); }
CairoPtr wrap(cairo_t* c) { return CairoPtr(c, &cairo_destroy); }

void check_cairo(cairo_t* cr, const char* what) {
  const cairo_status_t st = cairo_status(cr);
  if (st != CAIRO_STATUS_SUCCESS) fail("cairo: ", what, ": ", cairo_status_to_string(st));
}

cairo_status_t append_to_vector(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::vector<std::byte>*>(closure);
  const auto* p = reinterpret_cast<const std::byte*>(data);
  out->insert(out->end(), p, p + length);
  return CAIRO_STATUS_SUCCESS;
}

// cairo writes no resolution into PNGs; a pHYs chunk after IHDR records the DPI.
void add_png_dpi(std::vector<std::byte>& png, double dpi) {
  constexpr std::size_t kAfterIhdr = 8 + 8 + 13 + 4;
  if (png.size() < kAfterIhdr) return;
  const auto ppm = static_cast<std::uint32_t>(std::lround(dpi / 0.0254));
  unsigned char chunk[4 + 4 + 9 + 4];
  auto be32 = [](unsigned char* p, std::uint32_t v) {
    p[0] = static_cast<unsigned char>(v >> 24);
    p[1] = static_cast<unsigned char>(v >> 16);
    p[2] = static_cast<unsigned char>(v >> 8);
    p[3] = static_cast<unsigned char>(v);
  };
  be32(chunk, 9);
  std::memcpy(chunk + 4, "pHYs", 4);
  be32(chunk + 8, ppm);
  be32(chunk + 12, ppm);
  chunk[16] = 1;  // unit: metre
  be32(chunk + 17, static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), chunk + 4, 13)));
  const auto* p = reinterpret_cast<const std::byte*>(chunk);
  png.insert(png.begin() + static_cast<std::ptrdiff_t>(kAfterIhdr), p, p + sizeof(chunk));
}

std::string format_tick(double v) {
  if (std::abs(v) < 1e-12) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2g", v);
  return buf;
}

// Straight-alpha RGBA to cairo's premultiplied native-endian ARGB32.
SurfacePtr to_cairo(const Image& img) {
  auto s = wrap(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, img.width, img.height));
  cairo_surface_flush(s.get());
  unsigned char* dst = cairo_image_surface_get_data(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  for (int y = 0; y < img.height; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(dst + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < img.width; ++x) {
      const std::uint8_t* p = img.pixel(x, y);
      const std::uint32_t a = p[3];
      auto pm = [a](std::uint32_t c) { return (c * a + 127) / 255; };
      row[x] = (a << 24) | (pm(p[0]) << 16) | (pm(p[1]) << 8) | pm(p[2]);
    }
  }
  cairo_surface_mark_dirty(s.get());
  return s;
}

}  // namespace

Layout parse_layout(std::string_view t) {
  if (t == "single") return Layout::Single;
  if (t == "lateral") return Layout::Lateral;
  if (t == "lateral-medial" || t == "lateral_medial") return Layout::LateralMedial;
  if (t == "4panel" || t == "four-panel") return Layout::FourPanel;
  if (t == "6view" || t == "six-view") return Layout::SixView;
  fail("layout must be single, lateral, lateral-medial, 4panel or 6view, got '", t, "'");
}

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::Single: return "single";
    case Layout::Lateral: return "lateral";
    case Layout::LateralMedial: return "lateral-medial";
    case Layout::FourPanel: return "4panel";
    case Layout::SixView: return "6view";
  }
  return "?";
}

PanelGrid layout_panels(Layout layout, View view, HemiSet hemi) {
  using V = View;
  using H = HemiSet;
  switch (layout) {
    case Layout::Single:
      camera_for(view, hemi);  // validates the view/hemisphere pair
      return {1, 1, {{view, hemi}}};
    case Layout::Lateral: return {2, 1, {{V::Lateral, H::Left}, {V::Lateral, H::Right}}};
    case Layout::LateralMedial:
      return {4, 1, {{V::Lateral, H::Left}, {V::Medial, H::Left}, {V::Medial, H::Right}, {V::Lateral, H::Right}}};
    case Layout::FourPanel:
      return {2, 2, {{V::Lateral, H::Left}, {V::Lateral, H::Right}, {V::Medial, H::Left}, {V::Medial, H::Right}}};
    case Layout::SixView:
      return {3, 2,
              {{V::Lateral, H::Left}, {V::Dorsal, H::Both}, {V::Lateral, H::Right}, {V::Medial, H::Left},
               {V::Ventral, H::Both}, {V::Medial, H::Right}}};
  }
  fail("unknown layout");
}

OutputFormat output_format_for(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return OutputFormat::Png;
  if (ext == ".svg") return OutputFormat::Svg;
  if (ext == ".pdf") return OutputFormat::Pdf;
  fail(path.string(), ": unknown figure format '", ext, "' (use .png, .svg or .pdf)");
}

void release_font_caches() {
  cairo_debug_reset_static_data();
  FcFini();
}

std::string time_label(double seconds) {
  char buf[48];
  if (std::abs(seconds - std::round(seconds)) < 1e-6) std::snprintf(buf, sizeof(buf), "t = %.0f s", seconds);
  else std::snprintf(buf, sizeof(buf), "t = %g s", seconds);
  return buf;
}

struct BrainFigure::Impl {
  const Context& ctx;
  const BrainSurface& surf;
  FigureOptions o;
  int n_blocks;
  bool labels;
  bool rgb_mode = false;
  PanelGrid grid;
  Colormap cmap;
  double k;                  // pixels per point
  int block_cols = 1, block_rows = 1;
  int panel_w = 0, panel_h = 0;
  int fig_w = 0, fig_h = 0;
  double top = 0, left = 0;  // origin of the block grid (px)
  double label_h = 0, title_h = 0, cbar_w = 0, legend_h = 0;
  double video_h = 0, audio_h = 0, text_h = 0;  // stimulus rows (0 without stimuli)
  std::vector<float> normals[2];
  HemiColors background;
  int winding[2] = {0, 0};
  float scale = 1;           // common pixels per millimetre of all panels
  mutable RenderScratch scratch;  // sample buffers reused by every panel and frame
  std::optional<ColorLimits> limits;
  detail::HemiEdges roi_edges;  // outline vertices of o.roi_overlay
  std::string caption;

  Impl(const Context& c, const BrainSurface& s, FigureOptions opt, int blocks, bool with_labels, bool rgb)
      : ctx(c), surf(s), o(std::move(opt)), n_blocks(blocks), labels(with_labels), rgb_mode(rgb),
        grid(layout_panels(o.layout, o.view, o.hemi)),
        cmap(o.alpha_cmap ? Colormap::get(o.cmap, o.alpha_cmap->first, o.alpha_cmap->second) : Colormap::get(o.cmap)),
        k(o.dpi / 72.0) {
    if (o.alpha_cmap) o.bg_on_data = false;  // upstream: bg_on_data only without alpha_cmap
    TRIBEV2_CHECK(n_blocks >= 1, "a figure needs at least one map");
    TRIBEV2_CHECK(o.dpi >= 10 && o.dpi <= 2400, "dpi must be in [10, 2400], got ", o.dpi);
    TRIBEV2_CHECK(o.columns >= 0, "columns must be >= 0, got ", o.columns);
    if (o.threshold) TRIBEV2_CHECK(*o.threshold >= 0 && std::isfinite(*o.threshold), "threshold must be >= 0, got ", *o.threshold);
    TRIBEV2_CHECK(o.bg_darkness >= 0 && o.bg_darkness <= 1, "background darkness must be in [0, 1], got ", o.bg_darkness);
    const int auto_cols = std::max(1, 6 / grid.columns);
    block_cols = std::min(n_blocks, o.columns > 0 ? o.columns : auto_cols);
    const auto* st = o.stimuli.get();
    if (st) {
      TRIBEV2_CHECK(!rgb_mode, "stimulus rows go with colour-mapped maps, not an RGB map");
      TRIBEV2_CHECK(st->frames.empty() || static_cast<int>(st->frames.size()) == n_blocks, "stimulus strip: ",
                    st->frames.size(), " video frames for ", n_blocks, " maps");
      block_cols = n_blocks;  // one row of time steps under the stimulus rows, as upstream
    }
    // Stimulus rows in units of one block's brain height.
    const double stim_ratio = st ? (st->frames.empty() ? 0.0 : kVideoRatio) + kAudioRatio + kTextRatio : 0.0;
    block_rows = (n_blocks + block_cols - 1) / block_cols;
    const double pad = kPadPt * k;
    title_h = (o.title.empty() ? 0 : kTitleBandPt * k) + (o.caption_band ? kLabelBandPt * k : 0);
    label_h = labels ? kLabelBandPt * k : 0;
    cbar_w = (!rgb_mode && o.colorbar) ? kCbarBandPt * k : 0;
    legend_h = rgb_mode ? kLegendBandPt * k : 0;
    const int pcols = block_cols * grid.columns, prows = block_rows * grid.rows;
    const double row_label_w = st ? kRowLabelBandPt * k : 0;
    if (o.size_in) {
      const auto [wi, hi] = *o.size_in;
      TRIBEV2_CHECK(wi > 0 && hi > 0 && wi <= 200 && hi <= 200, "figure size must be positive inches (at most 200), got ", wi,
                    "x", hi);
      fig_w = static_cast<int>(std::lround(wi * o.dpi));
      fig_h = static_cast<int>(std::lround(hi * o.dpi));
      panel_w = static_cast<int>(std::floor((fig_w - 2 * pad - cbar_w - row_label_w) / pcols));
      panel_h = static_cast<int>(
          std::floor((fig_h - 2 * pad - title_h - legend_h - block_rows * label_h) / (prows + stim_ratio * grid.rows)));
      TRIBEV2_CHECK(panel_w >= 16 && panel_h >= 16, "figure size ", wi, "x", hi, " in at ", o.dpi,
                    " dpi leaves panels of ", panel_w, "x", panel_h, " pixels; make it larger");
    } else {
      TRIBEV2_CHECK(o.panel_width_in > 0.2 && o.panel_width_in <= 40, "panel width must be in (0.2, 40] inches");
      panel_w = static_cast<int>(std::lround(o.panel_width_in * o.dpi));
      panel_h = static_cast<int>(std::lround(0.75 * o.panel_width_in * o.dpi));
      fig_w = static_cast<int>(std::ceil(2 * pad + row_label_w + pcols * panel_w + cbar_w));
      fig_h = static_cast<int>(std::ceil(2 * pad + title_h + legend_h + (prows + stim_ratio * grid.rows) * panel_h +
                                         block_rows * label_h));
    }
    if (st) {
      const double unit = grid.rows * panel_h;
      video_h = st->frames.empty() ? 0 : kVideoRatio * unit;
      audio_h = kAudioRatio * unit;
      text_h = kTextRatio * unit;
    }
    left = pad + row_label_w;
    top = pad + title_h + video_h + audio_h + text_h;
    if (!o.size_in) {
      // Widen an automatic figure so that the title (and RGB legend), centred over the panels,
      // fit inside it.
      const double blocks_w = pcols * panel_w;
      const double text_w = std::max(title_width(), rgb_mode ? legend_width() : 0.0);
      left = std::max(pad + row_label_w, pad + (text_w - blocks_w) / 2);
      fig_w = static_cast<int>(std::ceil(std::max(left + blocks_w + cbar_w + pad, left + blocks_w / 2 + text_w / 2 + pad)));
    }
    TRIBEV2_CHECK(static_cast<double>(fig_w) * fig_h <= 400e6, "figure of ", fig_w, "x", fig_h, " pixels is too large");
    // Geometry shared by every frame.
    float lo = INFINITY, hi = -INFINITY;
    for (const auto& h : surf.hemi)
      for (float v : h.background)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    for (int h = 0; h < 2; ++h) {
      normals[h] = vertex_normals(surf.hemi[h].mesh);
      winding[h] = closed_mesh_winding(surf.hemi[h].mesh);
      background[h].resize(static_cast<std::size_t>(surf.hemi[h].mesh.n_vertices()));
      // One normalisation over both hemispheres so their greys match.
      background_colors(surf.hemi[h].background, lo, hi, o.bg_darkness, background[h]);
    }
    if (o.roi_overlay) roi_edges = detail::overlay_edges(*o.roi_overlay, surf);
    scale = INFINITY;
    for (const auto& p : grid.panels) {
      const auto items = items_for(p.hemi, background);
      scale = std::min(scale, fit_scale(items, camera_for(p.view, p.hemi), panel_w, panel_h, 0.03f));
    }
  }

  // Text widths (pixels) measured on a scratch surface, for the automatic layout.
  double measure(const std::string& s, double pt, bool bold) const {
    if (s.empty()) return 0;
    auto probe = wrap(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
    auto cr = wrap(cairo_create(probe.get()));
    set_font(cr.get(), pt, bold);
    cairo_text_extents_t e;
    cairo_text_extents(cr.get(), s.c_str(), &e);
    return e.x_advance;
  }
  double title_width() const { return measure(o.title, kTitlePt, true); }
  double legend_width() const {
    double total = 0;
    for (const auto& l : o.rgb_labels) total += 14 * k + measure(l, kLabelPt, false) + 12 * k;
    return total;
  }

  std::vector<RenderItem> items_for(HemiSet hs, const HemiColors& colors) const {
    std::vector<RenderItem> items;
    for (int h = 0; h < 2; ++h) {
      if ((hs == HemiSet::Left && h == 1) || (hs == HemiSet::Right && h == 0)) continue;
      items.push_back({&surf.hemi[h].mesh, normals[h], colors[h], winding[h]});
    }
    return items;
  }

  Rect block_rect(int b) const {
    const int bc = b % block_cols, br = b / block_cols;
    const double w = grid.columns * panel_w, h = grid.rows * panel_h + label_h;
    return {left + bc * w, top + br * h, w, h};
  }

  void set_font(cairo_t* cr, double pt, bool bold = false) const {
    cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, pt * k);
  }

  // Draws text with its anchor at (x, y): ha in {0 left, 0.5 centre, 1 right}, vertically centred.
  void text(cairo_t* cr, const std::string& s, double x, double y, double ha) const {
    if (s.empty()) return;
    cairo_text_extents_t e;
    cairo_text_extents(cr, s.c_str(), &e);
    cairo_move_to(cr, x - ha * e.x_advance, y - (e.y_bearing + e.height / 2));
    cairo_show_text(cr, s.c_str());
  }

  void draw_image(cairo_t* cr, const Image& img, double x, double y) const {
    auto s = to_cairo(img);
    cairo_set_source_surface(cr, s.get(), std::round(x), std::round(y));
    cairo_paint(cr);
  }

  void draw_block(cairo_t* cr, int b, const HemiColors& colors, const std::string& label,
                  const HemiColors* per_panel = nullptr) const {
    const Rect r = block_rect(b);
    RenderOptions ro;
    ro.width = panel_w;
    ro.height = panel_h;
    ro.supersample = o.supersample;
    ro.scale = scale;
    for (std::size_t i = 0; i < grid.panels.size(); ++i) {
      const auto& p = grid.panels[i];
      const HemiColors* use = per_panel ? &per_panel[i] : &colors;
      HemiColors outlined;
      if (o.roi_overlay) {
        outlined = *use;
        detail::apply_outline(roi_edges, o.roi_overlay->line, outlined);
        use = &outlined;
      }
      const auto items = items_for(p.hemi, *use);
      const Image img = render(ctx, items, camera_for(p.view, p.hemi), ro, &scratch);
      const int pc = static_cast<int>(i) % grid.columns, pr = static_cast<int>(i) / grid.columns;
      draw_image(cr, img, r.x + pc * panel_w, r.y + pr * panel_h);
      if (o.roi_overlay && !o.roi_overlay->names.empty()) {
        const auto names = detail::overlay_names(*o.roi_overlay, surf, normals, winding, p.hemi, items, camera_for(p.view, p.hemi), ro);
        detail::draw_names(cr, names, r.x + pc * panel_w, r.y + pr * panel_h, panel_w, panel_h,
                           o.roi_overlay->name_pt * k, kFont);
      }
    }
    if (labels && !label.empty()) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      set_font(cr, kLabelPt);
      text(cr, label, r.x + r.w / 2, r.y + grid.rows * panel_h + label_h / 2, 0.5);
    }
  }

  void draw_title(cairo_t* cr) const {
    if (o.title.empty()) return;
    cairo_set_source_rgb(cr, 0, 0, 0);
    set_font(cr, kTitlePt, true);
    const double blocks_w = block_cols * grid.columns * panel_w;
    const double band = title_h - (o.caption_band ? kLabelBandPt * k : 0);
    text(cr, o.title, left + blocks_w / 2, kPadPt * k + band / 2, 0.5);
  }

  void draw_colorbar(cairo_t* cr, const ColorLimits& lim) const {
    if (cbar_w <= 0) return;
    const double blocks_h = block_rows * (grid.rows * panel_h + label_h);
    const double bar_h = std::min(blocks_h * 0.8, 3.5 * 72 * k);
    const double bar_w = kBarWidthPt * k;
    const double x = left + block_cols * grid.columns * panel_w + 6 * k;
    const double y = top + (blocks_h - bar_h) / 2;
    const double range = lim.vmax - lim.vmin;
    // The bar is a 1 x 256 image scaled up without smoothing: no seams between entries in
    // PNG, SVG or PDF.
    const int n = Colormap::kSize;
    auto strip = wrap(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, n));
    cairo_surface_flush(strip.get());
    unsigned char* data = cairo_image_surface_get_data(strip.get());
    const int stride = cairo_image_surface_get_stride(strip.get());
    for (int i = 0; i < n; ++i) {
      const double v = lim.vmin + (i + 0.5) / n * range;
      const Rgba ca = cmap.rgba((v - lim.vmin) / range);
      // An alpha colormap's bar shows its colours over the white figure, as matplotlib draws it.
      Rgb c{ca.a * ca.r + (1 - ca.a), ca.a * ca.g + (1 - ca.a), ca.a * ca.b + (1 - ca.a)};
      if (o.threshold && std::abs(v) < *o.threshold) c = {0.5f, 0.5f, 0.5f};  // as nilearn's thresholded bar
      auto q = [](float f) { return static_cast<std::uint32_t>(std::lround(std::clamp(f, 0.0f, 1.0f) * 255)); };
      const std::uint32_t px = (q(c.r) << 16) | (q(c.g) << 8) | q(c.b);
      std::memcpy(data + static_cast<std::ptrdiff_t>(n - 1 - i) * stride, &px, 4);  // row 0 is the top (vmax)
    }
    cairo_surface_mark_dirty(strip.get());
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, bar_w, bar_h / n);
    cairo_set_source_surface(cr, strip.get(), 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, 1, n);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.6 * k);
    cairo_rectangle(cr, x, y, bar_w, bar_h);
    cairo_stroke(cr);
    set_font(cr, kTickPt);
    double max_w = 0;
    for (double t : colorbar_ticks(lim, o.threshold)) {
      const double ty = y + bar_h - (t - lim.vmin) / range * bar_h;
      cairo_move_to(cr, x + bar_w, ty);
      cairo_line_to(cr, x + bar_w + 3 * k, ty);
      cairo_stroke(cr);
      const std::string s = format_tick(t);
      cairo_text_extents_t e;
      cairo_text_extents(cr, s.c_str(), &e);
      max_w = std::max(max_w, e.x_advance);
      text(cr, s, x + bar_w + 5 * k, ty, 0);
    }
    if (!o.colorbar_label.empty()) {
      set_font(cr, kCbarLabelPt);
      cairo_save(cr);
      cairo_translate(cr, x + bar_w + 5 * k + max_w + 8 * k, y + bar_h / 2);
      cairo_rotate(cr, M_PI / 2);
      text(cr, o.colorbar_label, 0, 0, 0.5);
      cairo_restore(cr);
    }
  }

  void draw_rgb_legend(cairo_t* cr) const {
    set_font(cr, kLabelPt);
    const Rgb colors[3] = {{1, 0, 0}, {0, 0.8f, 0}, {0, 0, 1}};
    const double total = legend_width();
    std::vector<double> widths;
    for (const auto& l : o.rgb_labels) widths.push_back(measure(l, kLabelPt, false));
    const double blocks_w = block_cols * grid.columns * panel_w;
    double x = left + (blocks_w - total) / 2;
    const double y = fig_h - kPadPt * k - legend_h / 2;
    for (int i = 0; i < 3; ++i) {
      cairo_set_source_rgb(cr, colors[i].r, colors[i].g, colors[i].b);
      cairo_rectangle(cr, x, y - 5 * k, 10 * k, 10 * k);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      text(cr, o.rgb_labels[static_cast<std::size_t>(i)], x + 14 * k, y, 0);
      x += 14 * k + widths[static_cast<std::size_t>(i)] + 12 * k;
    }
  }

  // upstream's plot_stimuli: video frames, the waveform and the words above the blocks.
  void draw_stimuli(cairo_t* cr) const {
    const auto* st = o.stimuli.get();
    if (!st) return;
    const double blocks_w = block_cols * grid.columns * panel_w;
    const double y_video = top - video_h - audio_h - text_h, y_audio = y_video + video_h, y_text = y_audio + audio_h;
    for (std::size_t b = 0; b < st->frames.size(); ++b) {
      const auto& f = st->frames[b];
      if (f.width <= 0 || f.height <= 0) continue;
      TRIBEV2_CHECK(f.rgb.size() == static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height) * 3,
                    "stimulus frame ", b, ": ", f.rgb.size(), " bytes for ", f.width, "x", f.height, " RGB");
      const Rect r = block_rect(static_cast<int>(b));
      auto img = wrap(cairo_image_surface_create(CAIRO_FORMAT_RGB24, f.width, f.height));
      cairo_surface_flush(img.get());
      unsigned char* d = cairo_image_surface_get_data(img.get());
      const int stride = cairo_image_surface_get_stride(img.get());
      for (int y = 0; y < f.height; ++y)
        for (int x = 0; x < f.width; ++x) {
          const std::uint8_t* p = f.rgb.data() + (static_cast<std::size_t>(y) * f.width + x) * 3;
          const std::uint32_t px = (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2];
          std::memcpy(d + static_cast<std::ptrdiff_t>(y) * stride + 4 * x, &px, 4);
        }
      cairo_surface_mark_dirty(img.get());
      // imshow with equal aspect, centred in the cell, clipped as upstream's FancyBboxPatch
      // (rounding_size = 200 pixels of the video's own frame, matplotlib's path: frame_clip.hpp).
      const double sc = std::min(r.w / f.width, video_h / f.height);
      const double w = f.width * sc, h = f.height * sc, x0 = r.x + (r.w - w) / 2, y0 = y_video + (video_h - h) / 2;
      const double source_w = f.source_width > 0 ? f.source_width : f.width;
      cairo_save(cr);
      detail::frame_clip_path(cr, x0, y0, w, h, kFrameRoundingPx * w / source_w);
      cairo_clip(cr);
      cairo_translate(cr, x0, y0);
      cairo_scale(cr, sc, sc);
      cairo_set_source_surface(cr, img.get(), 0, 0);
      cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
      cairo_paint(cr);
      cairo_restore(cr);
    }
    // The waveform: min/max of the samples under each pixel column (what a line plot of many
    // samples covers), y limits with matplotlib's 5 % margins.
    if (!st->waveform.empty()) {
      const auto& wv = st->waveform;
      float lo = INFINITY, hi = -INFINITY;
      for (float v : wv)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      if (lo <= hi) {
        const double margin = hi > lo ? 0.05 * (hi - lo) : 1.0;
        const double ylo = lo - margin, yhi = hi + margin;
        auto ypix = [&](double v) { return y_audio + (yhi - v) / (yhi - ylo) * audio_h; };
        const int cols = std::max(1, static_cast<int>(std::lround(blocks_w)));
        const double n = static_cast<double>(wv.size());
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, kWaveLinePt * k);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        std::vector<std::pair<double, double>> env;
        for (int c = 0; c < cols; ++c) {
          const auto a = static_cast<std::size_t>(std::floor(c * n / cols));
          const auto b = std::max(a + 1, static_cast<std::size_t>(std::floor((c + 1) * n / cols)));
          float mn = INFINITY, mx = -INFINITY;
          for (std::size_t i = a; i < b && i < wv.size(); ++i)
            if (std::isfinite(wv[i])) mn = std::min(mn, wv[i]), mx = std::max(mx, wv[i]);
          if (mn > mx) mn = mx = 0;
          env.emplace_back(mn, mx);
        }
        cairo_new_path(cr);  // no current point left by the text drawn before (it drew a stray line)
        for (int c = 0; c < cols; ++c) cairo_line_to(cr, left + c + 0.5, ypix(env[static_cast<std::size_t>(c)].second));
        for (int c = cols - 1; c >= 0; --c) cairo_line_to(cr, left + c + 0.5, ypix(env[static_cast<std::size_t>(c)].first));
        cairo_close_path(cr);
        cairo_fill_preserve(cr);
        cairo_stroke(cr);
      }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    set_font(cr, kWordPt);
    for (const auto& w : st->words) {
      if (w.text.empty() || !std::isfinite(w.x)) continue;
      cairo_save(cr);
      cairo_translate(cr, left + w.x * blocks_w, y_text + text_h / 2);
      cairo_rotate(cr, -M_PI / 4);  // matplotlib's rotation=45 turns counter-clockwise
      text(cr, w.text, 0, 0, 0.5);
      cairo_restore(cr);
    }
    // Row labels on the left, vertical, as upstream's.
    set_font(cr, kLabelPt);
    auto row_label = [&](const std::string& label, double y_mid) {
      cairo_save(cr);
      cairo_translate(cr, left - kRowLabelBandPt * k / 2, y_mid);
      cairo_rotate(cr, -M_PI / 2);
      text(cr, label, 0, 0, 0.5);
      cairo_restore(cr);
    };
    if (video_h > 0) row_label("Video", y_video + video_h / 2);
    row_label("Audio", y_audio + audio_h / 2);
    row_label("Text", y_text + text_h / 2);
    row_label(st->brain_label, top + grid.rows * panel_h / 2.0);
  }

  void colors_for_map(std::span<const float> values, const ColorLimits& lim, HemiColors& out) const {
    ColorOptions co;
    co.limits = lim;
    co.threshold = o.threshold;
    co.bg_darkness = o.bg_darkness;
    co.bg_on_data = o.bg_on_data;
    for (int h = 0; h < 2; ++h) {
      out[h].resize(background[h].size());
      map_colors(hemi_values(values, static_cast<Hemi>(h)), background[h], cmap, co, out[h]);
    }
  }

  ColorLimits limits_for(std::span<const MapFrame> frames) {
    if (limits) return *limits;
    std::vector<float> all;
    for (const auto& f : frames) all.insert(all.end(), f.values.begin(), f.values.end());
    limits = compute_limits(all, o.limits);
    return *limits;
  }

  void draw_maps(cairo_t* cr, std::span<const MapFrame> frames) {
    TRIBEV2_CHECK(!rgb_mode, "this figure was laid out for an RGB map");
    TRIBEV2_CHECK(static_cast<int>(frames.size()) == n_blocks, "figure laid out for ", n_blocks, " maps, got ", frames.size());
    for (const auto& f : frames) hemi_values(f.values, Hemi::Left);  // size check
    const ColorLimits lim = limits_for(frames);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    HemiColors colors;
    for (int b = 0; b < n_blocks; ++b) {
      colors_for_map(frames[static_cast<std::size_t>(b)].values, lim, colors);
      draw_block(cr, b, colors, frames[static_cast<std::size_t>(b)].label);
    }
    if (o.caption_band && !caption.empty()) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      set_font(cr, kLabelPt);
      text(cr, caption, left, top - kLabelBandPt * k / 2, 0);
    }
    draw_stimuli(cr);
    draw_title(cr);
    draw_colorbar(cr, lim);
    check_cairo(cr, "drawing the figure");
  }

  void draw_rgb(cairo_t* cr, const RgbFrame& f) {
    TRIBEV2_CHECK(n_blocks == 1, "an RGB figure has one map");
    for (auto s : {f.red, f.green, f.blue}) hemi_values(s, Hemi::Left);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    // Colours per panel: upstream normalises the hemisphere set each view shows.
    auto colors_for = [&](HemiSet hs, HemiColors& out) {
      const bool both = hs == HemiSet::Both || !o.rgb_per_hemisphere;
      if (both) {
        std::vector<Rgb> all(static_cast<std::size_t>(kFsaverage5Outputs));
        rgb_contributions(f.red, f.green, f.blue, o.rgb_percentile, all);
        out[0].assign(all.begin(), all.begin() + kFsaverage5Vertices);
        out[1].assign(all.begin() + kFsaverage5Vertices, all.end());
        return;
      }
      for (int h = 0; h < 2; ++h) {
        const auto hh = static_cast<Hemi>(h);
        out[h].resize(static_cast<std::size_t>(kFsaverage5Vertices));
        rgb_contributions(hemi_values(f.red, hh), hemi_values(f.green, hh), hemi_values(f.blue, hh), o.rgb_percentile, out[h]);
      }
    };
    std::vector<HemiColors> per_panel(grid.panels.size());
    for (std::size_t i = 0; i < grid.panels.size(); ++i) colors_for(grid.panels[i].hemi, per_panel[i]);
    draw_block(cr, 0, per_panel[0], f.label, per_panel.data());
    draw_title(cr);
    draw_rgb_legend(cr);
    check_cairo(cr, "drawing the figure");
  }

  template <class DrawFn>
  void save(const fs::path& path, DrawFn&& draw) {
    const OutputFormat fmt = output_format_for(path);
    std::vector<std::byte> bytes;
    if (fmt == OutputFormat::Png) {
      auto s = wrap(cairo_image_surface_create(CAIRO_FORMAT_RGB24, fig_w, fig_h));
      auto cr = wrap(cairo_create(s.get()));
      draw(cr.get());
      cairo_surface_flush(s.get());
      if (cairo_surface_write_to_png_stream(s.get(), append_to_vector, &bytes) != CAIRO_STATUS_SUCCESS)
        fail(path.string(), ": cairo could not encode the PNG");
      add_png_dpi(bytes, o.dpi);
    } else {
      const double wpt = fig_w / k, hpt = fig_h / k;
      auto s = wrap(fmt == OutputFormat::Svg ? cairo_svg_surface_create_for_stream(append_to_vector, &bytes, wpt, hpt)
                                             : cairo_pdf_surface_create_for_stream(append_to_vector, &bytes, wpt, hpt));
      {
        auto cr = wrap(cairo_create(s.get()));
        cairo_scale(cr.get(), 1 / k, 1 / k);  // draw in pixels of the DPI; panels embed at full resolution
        draw(cr.get());
      }
      cairo_surface_finish(s.get());
      if (cairo_surface_status(s.get()) != CAIRO_STATUS_SUCCESS)
        fail(path.string(), ": cairo: ", cairo_status_to_string(cairo_surface_status(s.get())));
    }
    io::write_file_atomic(path, bytes);
  }
};

BrainFigure::BrainFigure(const Context& ctx, const BrainSurface& surface, FigureOptions options, int n_blocks,
                         bool frame_labels, bool rgb)
    : impl_(std::make_unique<Impl>(ctx, surface, std::move(options), n_blocks, frame_labels, rgb)) {}
BrainFigure::~BrainFigure() = default;

int BrainFigure::pixel_width() const { return impl_->fig_w; }
int BrainFigure::pixel_height() const { return impl_->fig_h; }
const FigureOptions& BrainFigure::options() const { return impl_->o; }
void BrainFigure::set_limits(ColorLimits limits) { impl_->limits = limits; }
std::optional<ColorLimits> BrainFigure::limits() const { return impl_->limits; }
void BrainFigure::set_caption(std::string caption) { impl_->caption = std::move(caption); }

void BrainFigure::save_maps(std::span<const MapFrame> frames, const fs::path& path) {
  impl_->save(path, [&](cairo_t* cr) { impl_->draw_maps(cr, frames); });
}

void BrainFigure::save_rgb(const RgbFrame& frame, const fs::path& path) {
  TRIBEV2_CHECK(impl_->rgb_mode, "save_rgb: this figure was laid out for colour-mapped maps (construct it with rgb = true)");
  impl_->save(path, [&](cairo_t* cr) { impl_->draw_rgb(cr, frame); });
}

void BrainFigure::raster_maps(std::span<const MapFrame> frames, std::span<std::uint8_t> bgra, int stride) {
  TRIBEV2_CHECK(stride == cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, impl_->fig_w) &&
                    bgra.size() >= static_cast<std::size_t>(stride) * static_cast<std::size_t>(impl_->fig_h),
                "raster_maps: buffer too small or stride ", stride, " is not cairo's for width ", impl_->fig_w);
  auto s = wrap(cairo_image_surface_create_for_data(bgra.data(), CAIRO_FORMAT_RGB24, impl_->fig_w, impl_->fig_h, stride));
  auto cr = wrap(cairo_create(s.get()));
  impl_->draw_maps(cr.get(), frames);
  cairo_surface_flush(s.get());
}

void plot_maps(const Context& ctx, const BrainSurface& surface, std::span<const MapFrame> frames, const FigureOptions& options,
               const fs::path& out) {
  const bool labels = std::any_of(frames.begin(), frames.end(), [](const MapFrame& f) { return !f.label.empty(); });
  BrainFigure fig(ctx, surface, options, static_cast<int>(frames.size()), labels);
  fig.save_maps(frames, out);
}

void plot_rgb(const Context& ctx, const BrainSurface& surface, const RgbFrame& frame, const FigureOptions& options,
              const fs::path& out) {
  BrainFigure fig(ctx, surface, options, 1, !frame.label.empty(), /*rgb=*/true);
  fig.save_rgb(frame, out);
}

}  // namespace tribev2::viz

// Publication figures of brain maps on fsaverage5: panels rendered by the software renderer,
// laid out with cairo (title, time labels, colour bar with ticks and label, RGB legend), written
// as PNG, SVG or PDF. Sizes follow matplotlib's model: a figure size in inches and a DPI; text
// sizes are in points. Fonts come from fontconfig (DejaVu Sans, Debian fonts-dejavu-core).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/viz/color_limits.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/render.hpp"

namespace tribev2::viz {

// How the panels of one map are arranged.
//   single:          one panel (view + hemi)
//   lateral:         left lateral, right lateral
//   lateral-medial:  left lateral, left medial, right medial, right lateral (one row)
//   4panel:          left lateral, right lateral / left medial, right medial (nilearn's figure)
//   6view:           left and right lateral, dorsal / left and right medial, ventral
enum class Layout { Single, Lateral, LateralMedial, FourPanel, SixView };
Layout parse_layout(std::string_view text);
const char* layout_name(Layout l);

struct PanelSpec {
  View view = View::Lateral;
  HemiSet hemi = HemiSet::Left;
};
struct PanelGrid {
  int columns = 1, rows = 1;
  std::vector<PanelSpec> panels;  // row-major, columns * rows
};
PanelGrid layout_panels(Layout layout, View view, HemiSet hemi);

enum class OutputFormat { Png, Svg, Pdf };
OutputFormat output_format_for(const std::filesystem::path& path);  // from the extension

// Region outlines and names drawn over brain maps (`tribev2 plot --roi-outline / --annotate-rois`).
// Built by the roi layer from an atlas; the figure only needs a region number per vertex.
struct RoiOverlay {
  std::vector<std::int32_t> region;  // per output vertex (20,484): region number, -1 for none
  bool outline_all = false;          // outline every region; otherwise only the named ones
  std::vector<std::pair<std::int32_t, std::string>> names;  // regions to outline and name
  Rgb line{0.05f, 0.05f, 0.05f};     // outline colour
  double name_pt = 6.5;              // text size of the names (points)
};

// upstream's show_stimuli rows above the brains (PlotBrain.plot_timesteps / plot_stimuli): a
// video frame over each block (rounded corners), the audio waveform across the whole span and
// the words at their onsets, rotated 45 degrees. Built by the caller (which decodes the media).
struct StimulusStrip {
  struct Image {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;  // height x width x 3, row-major from the top-left
    // The video's own frame width when `rgb` was downscaled from it (0: `width`): upstream's
    // corner rounding is 200 pixels of the video's frame, so it scales with the original size.
    int source_width = 0;
  };
  struct Word {
    double x = 0;  // (onset - span start) / span duration; upstream skips words before the span
    std::string text;
  };
  std::vector<Image> frames;   // one per block, or empty: no video row (upstream: no clip)
  std::vector<float> waveform; // mono samples (channel mean) over the span; empty: blank row
  std::vector<Word> words;
  std::string brain_label = "Brain response";  // the brain row's label on the left
};

struct FigureOptions {
  Layout layout = Layout::FourPanel;
  View view = View::Lateral;      // for Layout::Single
  HemiSet hemi = HemiSet::Left;   // for Layout::Single
  std::string cmap = "RdBu_r";
  // upstream's alpha_cmap = (threshold, scale): the colormap's opacity ramps from 0 to 1 over
  // [threshold, threshold + scale] of its range (Colormap::with_alpha); as upstream, bg_on_data
  // is then off.
  std::optional<std::pair<double, double>> alpha_cmap;
  LimitOptions limits;
  std::optional<double> threshold;
  float bg_darkness = 0.7f;
  bool bg_on_data = false;
  std::string title;
  std::string colorbar_label;
  bool colorbar = true;
  double dpi = 150.0;
  std::optional<std::pair<double, double>> size_in;  // whole figure (inches); empty: from the layout
  double panel_width_in = 2.4;    // when the size is automatic (panel height = 0.75 x width)
  int columns = 0;                // blocks (time steps) per row; 0: up to 5
  int supersample = 2;
  // RGB maps (plot_rgb): labels of the red, green and blue channels, upstream's normalisation.
  std::array<std::string, 3> rgb_labels{"Text", "Audio", "Video"};
  double rgb_percentile = 95.0;
  bool rgb_per_hemisphere = true;  // upstream normalises each drawn hemisphere set on its own
  // Region outlines and names over the maps (none when empty).
  std::shared_ptr<const RoiOverlay> roi_overlay;
  // Keep a band at the top for a per-frame caption (the movie's words, upstream's
  // plot_timesteps_mp4: the last 8 words of the segment, 9 pt, top-left).
  bool caption_band = false;
  // Stimulus rows above the maps (all blocks then go in one row, as upstream).
  std::shared_ptr<const StimulusStrip> stimuli;
};

// One block of panels: a map over both hemispheres ([20484], left then right) and its label
// (e.g. "t = 12 s", drawn under the block; may be empty).
struct MapFrame {
  std::span<const float> values;
  std::string label;
};
struct RgbFrame {
  std::span<const float> red, green, blue;  // [20484] each
  std::string label;
};

// A figure layout bound to a surface: computes sizes, cameras and the common scale once, then
// draws any number of frames with the same geometry (the movie draws one frame per video frame).
// The context and the surface must outlive the figure.
class BrainFigure {
 public:
  // `frame_labels`: keep room for a label under each block. `rgb`: the figure draws RGB maps
  // (save_rgb) instead of colour-mapped ones.
  BrainFigure(const Context& ctx, const BrainSurface& surface, FigureOptions options, int n_blocks,
              bool frame_labels = true, bool rgb = false);
  ~BrainFigure();
  BrainFigure(const BrainFigure&) = delete;
  BrainFigure& operator=(const BrainFigure&) = delete;

  int pixel_width() const;
  int pixel_height() const;
  const FigureOptions& options() const;

  // Colour limits used by draw_maps (default: computed from the frames when first drawn).
  void set_limits(ColorLimits limits);
  // Text drawn top-left in the caption band (FigureOptions::caption_band) by the next draws.
  void set_caption(std::string caption);
  std::optional<ColorLimits> limits() const;

  void save_maps(std::span<const MapFrame> frames, const std::filesystem::path& path);
  void save_rgb(const RgbFrame& frame, const std::filesystem::path& path);

  // Draws frames into a BGRA buffer (cairo RGB24: B, G, R and an unused byte per pixel on
  // little-endian machines) of pixel_width x pixel_height with a row stride of 4 x width bytes.
  void raster_maps(std::span<const MapFrame> frames, std::span<std::uint8_t> bgra, int stride);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-call helpers.
void plot_maps(const Context& ctx, const BrainSurface& surface, std::span<const MapFrame> frames,
               const FigureOptions& options, const std::filesystem::path& out);
void plot_rgb(const Context& ctx, const BrainSurface& surface, const RgbFrame& frame, const FigureOptions& options,
              const std::filesystem::path& out);

// Frees cairo's and fontconfig's process-wide font caches (they are otherwise released only by
// the OS at exit, which leak checkers report). Call only when no figure is being drawn in any
// thread, e.g. at the end of a command-line tool; figures drawn afterwards work again.
void release_font_caches();

// "t = 12 s" / "t = 12.5 s".
std::string time_label(double seconds);

}  // namespace tribev2::viz

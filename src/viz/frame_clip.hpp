// Internal to the figure: the outline of a stimulus frame, as upstream clips its video frames
// (plot_stimuli: FancyBboxPatch, boxstyle "round,pad=0,rounding_size=200" in image pixels).
#pragma once

#include <cairo.h>

namespace tribev2::viz::detail {

// Appends matplotlib's BoxStyle.Round path for the box (x0, y0, w, h) with corner size `dr` to
// the current path: straight sides shortened by dr, each corner a quadratic Bezier through the
// box's corner, and no clamping (dr > h / 2, as for a 640 x 360 frame with dr = 200, makes the
// path cross itself; filled with cairo's default non-zero rule, as Agg fills it).
void frame_clip_path(cairo_t* cr, double x0, double y0, double w, double h, double dr);

}  // namespace tribev2::viz::detail

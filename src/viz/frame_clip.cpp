#include "frame_clip.hpp"

namespace tribev2::viz::detail {

namespace {

// A quadratic Bezier from the current point (px, py) through control (cx, cy) to (x, y), as
// the cubic cairo draws: control points 2/3 of the way from each end to (cx, cy).
void quad_to(cairo_t* cr, double px, double py, double cx, double cy, double x, double y) {
  cairo_curve_to(cr, px + 2.0 / 3.0 * (cx - px), py + 2.0 / 3.0 * (cy - py), x + 2.0 / 3.0 * (cx - x),
                 y + 2.0 / 3.0 * (cy - y), x, y);
}

}  // namespace

void frame_clip_path(cairo_t* cr, double x0, double y0, double w, double h, double dr) {
  const double x1 = x0 + w, y1 = y0 + h;
  cairo_new_sub_path(cr);
  cairo_move_to(cr, x0 + dr, y0);
  cairo_line_to(cr, x1 - dr, y0);
  quad_to(cr, x1 - dr, y0, x1, y0, x1, y0 + dr);
  cairo_line_to(cr, x1, y1 - dr);
  quad_to(cr, x1, y1 - dr, x1, y1, x1 - dr, y1);
  cairo_line_to(cr, x0 + dr, y1);
  quad_to(cr, x0 + dr, y1, x0, y1, x0, y1 - dr);
  cairo_line_to(cr, x0, y0 + dr);
  quad_to(cr, x0, y0 + dr, x0, y0, x0 + dr, y0);
  cairo_close_path(cr);
}

}  // namespace tribev2::viz::detail

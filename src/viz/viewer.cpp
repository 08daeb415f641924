#include "tribev2/viz/viewer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/viz/colormap.hpp"
#include "tribev2/viz/fsaverage.hpp"
#include "tribev2/viz/surface_colors.hpp"

namespace tribev2::viz {

namespace detail {
extern const char* const kViewerTemplate;
}

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string base64_encode(std::span<const std::uint8_t> b) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < b.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8) | b[i + 2];
    out += k[v >> 18], out += k[(v >> 12) & 63], out += k[(v >> 6) & 63], out += k[v & 63];
  }
  if (i < b.size()) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (i + 1 < b.size() ? std::uint32_t{b[i + 1]} << 8 : 0);
    out += k[v >> 18], out += k[(v >> 12) & 63];
    out += i + 1 < b.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

template <class T>
std::string b64_of(const std::vector<T>& v) {
  return base64_encode({reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(T)});
}

void replace_once(std::string& s, const std::string& key, const std::string& with) {
  const auto p = s.find(key);
  TRIBEV2_CHECK(p != std::string::npos, "viewer template: placeholder ", key, " missing");
  s.replace(p, key.size(), with);
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

}  // namespace

fs::path find_niivue_js(const fs::path& exe_dir) {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("TRIBEV2_NIIVUE_JS"); env && *env) {
    if (fs::is_regular_file(env)) return env;
    fail("TRIBEV2_NIIVUE_JS=", env, ": no such file (NiiVue's dist/niivue.umd.js)");
  }
#ifdef TRIBEV2_NIIVUE_JS_INSTALLED
  tried.emplace_back(TRIBEV2_NIIVUE_JS_INSTALLED);
#endif
  if (!exe_dir.empty()) tried.push_back(exe_dir / ".." / "share" / "tribev2" / "niivue.umd.js");
#ifdef TRIBEV2_NIIVUE_JS_SOURCE
  tried.emplace_back(TRIBEV2_NIIVUE_JS_SOURCE);
#endif
  for (const auto& p : tried)
    if (fs::is_regular_file(p)) return p;
  std::string list;
  for (const auto& p : tried) list += "\n  " + p.string();
  fail("NiiVue (niivue.umd.js) not found; looked at:", list,
       "\nInstall it with `npm ci --prefix viewer` in the source tree (scripts/install-deps.sh does), or set "
       "TRIBEV2_NIIVUE_JS to a copy of @niivue/niivue 0.69.0's dist/niivue.umd.js");
}

std::string build_viewer_html(const ViewerData& d, const ViewerOptions& o) {
  const std::size_t nv = static_cast<std::size_t>(kFsaverage5Outputs);
  TRIBEV2_CHECK(d.n_rows >= 1, "viewer: no rows to show");
  TRIBEV2_CHECK(d.rows.size() == static_cast<std::size_t>(d.n_rows) * nv, "viewer: ", d.rows.size(), " values for ", d.n_rows,
                " rows of ", nv);
  TRIBEV2_CHECK(d.row_start.size() == static_cast<std::size_t>(d.n_rows), "viewer: ", d.row_start.size(), " row times for ",
                d.n_rows, " rows");
  TRIBEV2_CHECK(o.bits == 8 || o.bits == 16, "viewer: bits must be 8 or 16, got ", o.bits);
  TRIBEV2_CHECK(o.surface == "pial" || o.surface == "half" || o.surface == "inflated", "viewer: surface must be pial, half or inflated, got '",
                o.surface, "'");
  Colormap::get(o.cmap);
  if (o.alpha_cmap) Colormap::get(o.cmap, o.alpha_cmap->first, o.alpha_cmap->second);
  const std::string niivue = io::read_text_file(o.niivue_js.empty() ? find_niivue_js() : o.niivue_js);

  json j;
  j["n_vertices"] = kFsaverage5Vertices;
  j["n_rows"] = d.n_rows;
  j["row_start"] = d.row_start;
  // Values quantised linearly over [min, max] of the finite values; the code above the range
  // marks NaN. Error <= (max - min) / (2 * levels).
  float lo = INFINITY, hi = -INFINITY;
  for (float v : d.rows)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi == lo) hi = lo + 1;
  const int qmax = o.bits == 16 ? 65534 : 254;
  auto quant = [&](float v) -> std::uint32_t {
    if (!std::isfinite(v)) return static_cast<std::uint32_t>(qmax + 1);
    return static_cast<std::uint32_t>(std::lround((static_cast<double>(v) - lo) / (static_cast<double>(hi) - lo) * qmax));
  };
  if (o.bits == 16) {
    std::vector<std::uint16_t> q(d.rows.size());
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<std::uint16_t>(quant(d.rows[i]));
    j["values"] = {{"bits", 16}, {"lo", lo}, {"hi", hi}, {"data", b64_of(q)}};
  } else {
    std::vector<std::uint8_t> q(d.rows.size());
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = static_cast<std::uint8_t>(quant(d.rows[i]));
    j["values"] = {{"bits", 8}, {"lo", lo}, {"hi", hi}, {"data", b64_of(q)}};
  }
  // Meshes: the same fsaverage5 geometry as the figures (upstream's hemisphere placement).
  json surfaces;
  std::vector<std::uint8_t> grey;
  std::vector<std::uint32_t> faces;
  for (const auto& [name, kind] : {std::pair{"pial", Surface::Pial}, std::pair{"half", Surface::HalfInflated},
                                   std::pair{"inflated", Surface::Inflated}}) {
    SurfaceOptions so;
    so.surface = kind;
    const BrainSurface s = load_fsaverage5(o.mesh_dir, so);
    std::vector<float> pts;
    for (const auto& h : s.hemi) pts.insert(pts.end(), h.mesh.vertices.begin(), h.mesh.vertices.end());
    surfaces[name] = b64_of(pts);
    if (grey.empty()) {
      for (const auto& f : s.hemi[0].mesh.faces) faces.push_back(static_cast<std::uint32_t>(f));
      float blo = INFINITY, bhi = -INFINITY;
      for (const auto& h : s.hemi)
        for (float v : h.background)
          if (std::isfinite(v)) blo = std::min(blo, v), bhi = std::max(bhi, v);
      for (const auto& h : s.hemi) {
        std::vector<Rgb> c(static_cast<std::size_t>(h.mesh.n_vertices()));
        background_colors(h.background, blo, bhi, 0.7f, c);
        for (const auto& x : c) grey.push_back(static_cast<std::uint8_t>(std::lround(std::clamp(x.r, 0.0f, 1.0f) * 255)));
      }
    }
  }
  j["surfaces"] = surfaces;
  j["faces"] = b64_of(faces);
  j["background"] = b64_of(grey);
  // Colormap tables, rounded to 8 bits as the PNG figures store them.
  json cm;
  auto names = Colormap::names();
  if (std::find(names.begin(), names.end(), o.cmap) == names.end()) names.push_back(o.cmap);
  for (const auto& n : names) {
    const Colormap c = Colormap::get(n);
    std::vector<std::uint8_t> t;
    for (int i = 0; i < Colormap::kSize; ++i) {
      const Rgb e = c.entry(i);
      for (float f : {e.r, e.g, e.b}) t.push_back(static_cast<std::uint8_t>(std::lround(std::clamp(f, 0.0f, 1.0f) * 255)));
    }
    cm[n] = base64_encode(t);
  }
  j["colormaps"] = cm;
  const ColorLimits lim = compute_limits(d.rows, o.limits);
  j["initial"] = {{"cmap", o.cmap}, {"vmin", lim.vmin}, {"vmax", lim.vmax}, {"threshold", o.threshold}, {"bg_on_data", o.bg_on_data},
                  {"surface", o.surface}, {"alpha", o.alpha_cmap ? json::array({o.alpha_cmap->first, o.alpha_cmap->second}) : json()}};
  json words = json::array();
  for (const auto& w : d.words) words.push_back({{"start", w.start}, {"text", w.text}});
  j["words"] = words;
  j["media"] = d.media_src.empty() ? json() : json{{"kind", d.media_kind}, {"src", d.media_src}, {"origin", d.media_origin}};
  if (!d.roi_labels.empty()) {
    TRIBEV2_CHECK(static_cast<std::int64_t>(d.roi_labels.size()) == kFsaverage5Outputs, "viewer: ", d.roi_labels.size(),
                  " ROI labels, expected one per output vertex (", kFsaverage5Outputs, ")");
    for (const std::int32_t l : d.roi_labels)
      TRIBEV2_CHECK(l >= -1 && l < static_cast<std::int64_t>(d.roi_names.size()), "viewer: ROI label ", l, " of ",
                    d.roi_names.size(), " names");
    j["roi_names"] = d.roi_names;
    j["roi_labels"] = d.roi_labels;
  }

  std::string data = j.dump(-1, ' ', false, json::error_handler_t::replace);
  // "</" inside a <script> would end it; "<\/" means the same in JSON and JavaScript strings.
  for (std::size_t p = 0; (p = data.find("</", p)) != std::string::npos; p += 3) data.replace(p, 2, "<\\/");
  std::string js = niivue;
  for (std::size_t p = 0; (p = js.find("</script", p)) != std::string::npos; p += 3) js.replace(p, 2, "<\\/");
  std::string html = detail::kViewerTemplate;
  replace_once(html, "__TITLE__", html_escape(d.title));
  replace_once(html, "/*__NIIVUE__*/", js);
  replace_once(html, "/*__DATA__*/", data);
  return html;
}

}  // namespace tribev2::viz

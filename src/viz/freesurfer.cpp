#include "tribev2/viz/freesurfer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "codec.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/viz/gifti.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;
using detail::BigEndianReader;

namespace {

std::int32_t magic3(std::span<const std::byte> b) {
  if (b.size() < 3) return -1;
  return (std::to_integer<std::int32_t>(b[0]) << 16) | (std::to_integer<std::int32_t>(b[1]) << 8) | std::to_integer<std::int32_t>(b[2]);
}

constexpr std::int32_t kTriangleMagic = 0xFFFFFE;
constexpr std::int32_t kQuadMagic = 0xFFFFFF;
constexpr std::int32_t kNewQuadMagic = 0xFFFFFD;
constexpr std::int32_t kNewCurvMagic = 0xFFFFFF;
// Limits far above any FreeSurfer surface (fsaverage: 163,842 vertices) that keep corrupt
// counts from asking for absurd allocations before the size check.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 28;

bool is_gifti_name(const fs::path& p) {
  const std::string s = p.filename().string();
  auto ends = [&](std::string_view suf) { return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0; };
  return ends(".gii") || ends(".gii.gz");
}

}  // namespace

Mesh parse_freesurfer_surface(std::span<const std::byte> bytes, std::string_view name) {
  const std::string what(name);
  const std::int32_t magic = magic3(bytes);
  if (magic == kQuadMagic || magic == kNewQuadMagic)
    fail(what, ": FreeSurfer quadrangle surfaces are not supported (convert with mris_convert)");
  if (magic != kTriangleMagic)
    fail(what, ": not a FreeSurfer triangle surface (magic bytes ", magic < 0 ? std::string("missing") : str_cat(std::hex, magic),
         ", expected fffffe)");
  BigEndianReader r(bytes, what);
  r.seek(3);
  // Two text lines ("created by ... on ...\n\n") precede the counts.
  std::size_t p = 3;
  while (true) {
    if (p + 1 >= bytes.size()) fail(what, ": truncated header (no end of the creator line)");
    if (bytes[p] == std::byte{'\n'} && bytes[p + 1] == std::byte{'\n'}) break;
    ++p;
  }
  r.seek(p + 2);
  const std::int32_t nv = r.i32();
  const std::int32_t nf = r.i32();
  if (nv <= 0 || nv > kMaxCount) fail(what, ": vertex count ", nv, " is not a positive count");
  if (nf <= 0 || nf > kMaxCount) fail(what, ": face count ", nf, " is not a positive count");
  const std::size_t need = static_cast<std::size_t>(nv) * 12 + static_cast<std::size_t>(nf) * 12;
  if (r.remaining() < need)
    fail(what, ": file truncated: ", nv, " vertices and ", nf, " faces need ", need, " bytes, ", r.remaining(), " left");
  Mesh m;
  m.vertices.resize(static_cast<std::size_t>(nv) * 3);
  for (auto& v : m.vertices) v = r.f32();
  m.faces.resize(static_cast<std::size_t>(nf) * 3);
  for (auto& f : m.faces) f = r.i32();
  // Optional trailing tags (volume geometry) are ignored.
  validate_mesh(m, what);
  return m;
}

std::vector<float> parse_freesurfer_morph(std::span<const std::byte> bytes, std::string_view name) {
  const std::string what(name);
  BigEndianReader r(bytes, what);
  std::vector<float> out;
  if (magic3(bytes) == kNewCurvMagic) {
    r.seek(3);
    const std::int32_t nv = r.i32();
    const std::int32_t nf = r.i32();
    const std::int32_t per_vertex = r.i32();
    if (nv <= 0 || nv > kMaxCount) fail(what, ": vertex count ", nv, " is not a positive count");
    if (nf < 0) fail(what, ": face count ", nf, " is negative");
    if (per_vertex != 1) fail(what, ": ", per_vertex, " values per vertex, expected 1");
    if (r.remaining() < static_cast<std::size_t>(nv) * 4)
      fail(what, ": file truncated: ", nv, " values need ", static_cast<std::size_t>(nv) * 4, " bytes, ", r.remaining(), " left");
    out.resize(static_cast<std::size_t>(nv));
    for (auto& v : out) v = r.f32();
    return out;
  }
  // Old format: 3-byte vertex and face counts, then int16 values scaled by 100.
  if (bytes.size() < 6) fail(what, ": not a FreeSurfer curv file (", bytes.size(), " bytes)");
  const std::int32_t nv = r.i24();
  (void)r.i24();
  if (nv <= 0) fail(what, ": vertex count ", nv, " is not a positive count");
  if (r.remaining() != static_cast<std::size_t>(nv) * 2)
    fail(what, ": not a FreeSurfer curv file (old format with ", nv, " vertices needs ", static_cast<std::size_t>(nv) * 2,
         " data bytes, found ", r.remaining(), ")");
  out.resize(static_cast<std::size_t>(nv));
  for (auto& v : out) v = static_cast<float>(r.i16()) / 100.0f;
  return out;
}

Annotation parse_freesurfer_annot(std::span<const std::byte> bytes, std::string_view name) {
  const std::string what(name);
  BigEndianReader r(bytes, what);
  const std::int32_t nv = r.i32();
  if (nv <= 0 || nv > kMaxCount) fail(what, ": vertex count ", nv, " is not a positive count");
  r.need(static_cast<std::size_t>(nv) * 8, "the vertex labels");
  std::vector<std::int32_t> values(static_cast<std::size_t>(nv), 0);
  std::vector<bool> seen(static_cast<std::size_t>(nv), false);
  for (std::int32_t i = 0; i < nv; ++i) {
    const std::int32_t vno = r.i32();
    const std::int32_t value = r.i32();
    if (vno < 0 || vno >= nv) fail(what, ": label entry ", i, " names vertex ", vno, ", expected 0 <= vertex < ", nv);
    values[static_cast<std::size_t>(vno)] = value;
    seen[static_cast<std::size_t>(vno)] = true;
  }
  const std::int32_t has_ctab = r.i32();
  if (has_ctab != 1) fail(what, ": no colour table (tag ", has_ctab, "); annotations without one are not supported");
  Annotation a;
  std::map<std::int64_t, std::int32_t> index_of_value;  // annotation value (r + g*256 + b*65536) -> entry
  auto read_string = [&](std::string_view field) {
    const std::int32_t len = r.i32();
    if (len < 0 || static_cast<std::size_t>(len) > r.remaining())
      fail(what, ": ", field, " length ", len, " is invalid (", r.remaining(), " bytes left)");
    std::string s = r.bytes_as_string(static_cast<std::size_t>(len));
    while (!s.empty() && s.back() == '\0') s.pop_back();
    return s;
  };
  auto add_entry = [&](std::string entry_name) {
    std::array<std::int32_t, 4> c{};
    for (auto& v : c) v = r.i32();
    // In 64 bits: corrupt colour components must not overflow.
    const std::int64_t value = std::int64_t{c[0]} + std::int64_t{c[1]} * 256 + std::int64_t{c[2]} * 65536;
    // nibabel maps a value to the first entry with that colour in sorted order; emplace keeps
    // the first one in file order, which is the same for tables without duplicate colours.
    index_of_value.emplace(value, static_cast<std::int32_t>(a.names.size()));
    a.ids.push_back(a.old_format ? value + std::int64_t{c[3]} * (std::int64_t{1} << 24) : value);
    a.names.push_back(std::move(entry_name));
    a.colors.push_back(c);
  };
  const std::int32_t n_entries = r.i32();
  a.old_format = n_entries > 0;
  if (n_entries > 0) {
    if (n_entries > 1 << 20) fail(what, ": colour table claims ", n_entries, " entries");
    (void)read_string("colour table file name");
    for (std::int32_t i = 0; i < n_entries; ++i) add_entry(read_string("label name"));
  } else {
    const std::int32_t version = -n_entries;
    if (version != 2) fail(what, ": colour table version ", version, " is not supported (expected 2)");
    const std::int32_t max_index = r.i32();
    if (max_index < 0 || max_index > 1 << 20) fail(what, ": colour table size ", max_index, " is invalid");
    (void)read_string("colour table file name");
    const std::int32_t to_read = r.i32();
    if (to_read < 0 || to_read > 1 << 20) fail(what, ": colour table entry count ", to_read, " is invalid");
    for (std::int32_t i = 0; i < to_read; ++i) {
      const std::int32_t structure = r.i32();
      if (structure < 0 || structure >= std::max(max_index, 1))
        fail(what, ": colour table entry ", i, " has structure index ", structure, ", expected < ", max_index);
      add_entry(read_string("label name"));
    }
  }
  a.labels.resize(static_cast<std::size_t>(nv));
  for (std::size_t v = 0; v < a.labels.size(); ++v) {
    // Value 0 means "no label" (nibabel sets those to -1 even when an entry is black).
    const auto it = seen[v] && values[v] != 0 ? index_of_value.find(values[v]) : index_of_value.end();
    a.labels[v] = it == index_of_value.end() ? -1 : it->second;
  }
  a.values = std::move(values);
  return a;
}

SurfaceLabel parse_freesurfer_label(std::string_view text, std::string_view name) {
  const std::string what(name);
  std::size_t pos = 0;
  int line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (pos >= text.size()) return false;
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    ++line_no;
    return true;
  };
  auto fields = [](std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const std::size_t b = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (i > b) out.push_back(line.substr(b, i - b));
    }
    return out;
  };
  auto to_int = [&](std::string_view f, std::string_view field) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || p != f.data() + f.size() || v < 0 || v > kMaxCount)
      fail(what, ": line ", line_no, ": ", field, " '", f, "' is not a non-negative integer");
    return static_cast<std::int32_t>(v);
  };
  auto to_float = [&](std::string_view f, std::string_view field) {
    float v = 0;
    const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || p != f.data() + f.size())
      fail(what, ": line ", line_no, ": ", field, " '", f, "' is not a number");
    return v;
  };
  SurfaceLabel l;
  std::string_view line;
  if (!next_line(line) || line.empty() || line[0] != '#')
    fail(what, ": not a FreeSurfer .label file (the first line must be a '#' comment)");
  l.comment = std::string(line.substr(1));
  if (!next_line(line)) fail(what, ": truncated: no vertex count line");
  const auto head = fields(line);
  if (head.size() != 1) fail(what, ": line 2: expected the vertex count alone, got ", head.size(), " fields");
  const std::int32_t n = to_int(head[0], "vertex count");
  l.vertices.reserve(static_cast<std::size_t>(std::min<std::int32_t>(n, 1 << 20)));
  while (next_line(line)) {
    const auto f = fields(line);
    if (f.empty()) continue;
    if (f.size() != 5) fail(what, ": line ", line_no, ": expected 5 fields (vno x y z value), got ", f.size());
    if (static_cast<std::int64_t>(l.vertices.size()) >= n)
      fail(what, ": line ", line_no, ": more vertex lines than the count ", n);
    l.vertices.push_back(to_int(f[0], "vertex number"));
    l.positions.push_back({to_float(f[1], "x"), to_float(f[2], "y"), to_float(f[3], "z")});
    l.values.push_back(to_float(f[4], "value"));
  }
  if (static_cast<std::int64_t>(l.vertices.size()) != n)
    fail(what, ": the header says ", n, " vertices, the file lists ", l.vertices.size());
  return l;
}

SurfaceLabel read_freesurfer_label(const fs::path& path) {
  const auto bytes = io::read_file(path);
  return parse_freesurfer_label(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string());
}

Mesh read_freesurfer_surface(const fs::path& path) { return parse_freesurfer_surface(io::read_file(path), path.string()); }
std::vector<float> read_freesurfer_morph(const fs::path& path) { return parse_freesurfer_morph(io::read_file(path), path.string()); }
Annotation read_freesurfer_annot(const fs::path& path) { return parse_freesurfer_annot(io::read_file(path), path.string()); }

Mesh read_surface(const fs::path& path) {
  if (is_gifti_name(path)) return gifti_surface(read_gifti(path), path.string());
  return read_freesurfer_surface(path);
}

std::vector<float> read_surface_map(const fs::path& path) {
  if (is_gifti_name(path)) return gifti_map(read_gifti(path), path.string());
  return read_freesurfer_morph(path);
}

}  // namespace tribev2::viz

#include "tribev2/viz/gifti.hpp"

#include <tinyxml2.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <limits>

#include "codec.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;

namespace {

// Element types of the NIFTI_TYPE_* names GIFTI uses.
struct TypeInfo {
  const char* name;
  std::size_t size;
  bool is_float;
  bool is_signed;
};
constexpr TypeInfo kTypes[] = {
    {"NIFTI_TYPE_UINT8", 1, false, false},  {"NIFTI_TYPE_INT8", 1, false, true},
    {"NIFTI_TYPE_INT16", 2, false, true},   {"NIFTI_TYPE_UINT16", 2, false, false},
    {"NIFTI_TYPE_INT32", 4, false, true},   {"NIFTI_TYPE_UINT32", 4, false, false},
    {"NIFTI_TYPE_INT64", 8, false, true},   {"NIFTI_TYPE_UINT64", 8, false, false},
    {"NIFTI_TYPE_FLOAT32", 4, true, true},  {"NIFTI_TYPE_FLOAT64", 8, true, true},
};

const TypeInfo* find_type(std::string_view name) {
  for (const auto& t : kTypes)
    if (name == t.name) return &t;
  return nullptr;
}

// Far above any cortical mesh or time series we handle; guards against absurd Dim values.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 34;

// All text and CDATA children of an element, concatenated (a value may be split across
// several CDATA sections).
std::string text_of(const tinyxml2::XMLElement* e) {
  std::string out;
  if (!e) return out;
  for (const tinyxml2::XMLNode* n = e->FirstChild(); n; n = n->NextSibling())
    if (const auto* t = n->ToText()) out += t->Value();
  return out;
}

GiftiMeta parse_meta(const tinyxml2::XMLElement* meta) {
  GiftiMeta out;
  if (!meta) return out;
  for (auto* md = meta->FirstChildElement("MD"); md; md = md->NextSiblingElement("MD"))
    out.emplace_back(text_of(md->FirstChildElement("Name")), text_of(md->FirstChildElement("Value")));
  return out;
}

std::string meta_lookup(const GiftiMeta& m, std::string_view key) {
  for (const auto& [k, v] : m)
    if (k == key) return v;
  return {};
}

// Reads one element of `type` at p (already in native byte order after swapping).
template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void swap_bytes(std::vector<std::byte>& raw, std::size_t size) {
  if (size == 1) return;
  for (std::size_t i = 0; i + size <= raw.size(); i += size) std::reverse(raw.begin() + static_cast<std::ptrdiff_t>(i), raw.begin() + static_cast<std::ptrdiff_t>(i + size));
}

void store_binary(const std::vector<std::byte>& raw, const TypeInfo& t, GiftiDataArray& a, const std::string& what) {
  const std::size_t n = raw.size() / t.size;
  const std::byte* p = raw.data();
  if (t.is_float) {
    a.floats.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      a.floats[i] = t.size == 4 ? load<float>(p + 4 * i) : static_cast<float>(load<double>(p + 8 * i));
    return;
  }
  a.ints.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* q = p + t.size * i;
    long double v = 0;
    switch (t.size) {
      case 1: v = t.is_signed ? load<std::int8_t>(q) : load<std::uint8_t>(q); break;
      case 2: v = t.is_signed ? load<std::int16_t>(q) : load<std::uint16_t>(q); break;
      case 4: v = t.is_signed ? static_cast<long double>(load<std::int32_t>(q)) : static_cast<long double>(load<std::uint32_t>(q)); break;
      default: v = t.is_signed ? static_cast<long double>(load<std::int64_t>(q)) : static_cast<long double>(load<std::uint64_t>(q)); break;
    }
    if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
      fail(what, ": value ", static_cast<double>(v), " at element ", i, " does not fit in int32");
    a.ints[i] = static_cast<std::int32_t>(v);
  }
}

void parse_ascii(const std::string& text, const TypeInfo& t, std::int64_t numel, GiftiDataArray& a, const std::string& what) {
  const char* s = text.c_str();
  const char* end = s + text.size();
  std::int64_t count = 0;
  auto next_token = [&](std::string& tok) {
    while (s < end && std::isspace(static_cast<unsigned char>(*s))) ++s;
    const char* b = s;
    while (s < end && !std::isspace(static_cast<unsigned char>(*s))) ++s;
    tok.assign(b, s);
    return !tok.empty();
  };
  std::string tok;
  while (next_token(tok)) {
    if (count >= numel) fail(what, ": ASCII data holds more than the ", numel, " values of its dimensions");
    char* stop = nullptr;
    errno = 0;
    if (t.is_float) {
      const double v = std::strtod(tok.c_str(), &stop);
      if (*stop != '\0') fail(what, ": ASCII value ", count, " is not a number: '", tok.substr(0, 40), "'");
      a.floats.push_back(static_cast<float>(v));
    } else {
      const long long v = std::strtoll(tok.c_str(), &stop, 10);
      if (*stop != '\0' || errno == ERANGE) fail(what, ": ASCII value ", count, " is not an integer: '", tok.substr(0, 40), "'");
      if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
        fail(what, ": value ", v, " at element ", count, " does not fit in int32");
      a.ints.push_back(static_cast<std::int32_t>(v));
    }
    ++count;
  }
  if (count != numel) fail(what, ": ASCII data holds ", count, " values, expected ", numel, " from its dimensions");
}

// Column-major (Fortran) element order to row-major.
template <class T>
void to_row_major(std::vector<T>& v, const std::vector<std::int64_t>& dims) {
  if (dims.size() < 2) return;
  std::vector<T> out(v.size());
  const std::size_t nd = dims.size();
  std::vector<std::int64_t> idx(nd, 0);
  for (std::size_t lin = 0; lin < v.size(); ++lin) {
    // idx is the multi-index of column-major element `lin` (first index fastest).
    std::int64_t row_major = 0;
    for (std::size_t k = 0; k < nd; ++k) row_major = row_major * dims[k] + idx[k];
    out[static_cast<std::size_t>(row_major)] = v[lin];
    for (std::size_t k = 0; k < nd; ++k) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  v = std::move(out);
}

std::int64_t parse_dim(const char* text, const std::string& what, int k) {
  if (!text) fail(what, ": missing attribute Dim", k);
  char* stop = nullptr;
  errno = 0;
  const long long v = std::strtoll(text, &stop, 10);
  if (stop == text || *stop != '\0' || errno == ERANGE || v <= 0)
    fail(what, ": attribute Dim", k, " must be a positive integer, got '", text, "'");
  return v;
}

GiftiDataArray parse_array(const tinyxml2::XMLElement* e, const std::string& what) {
  GiftiDataArray a;
  const char* intent = e->Attribute("Intent");
  a.intent = intent ? intent : "NIFTI_INTENT_NONE";
  const char* dtype = e->Attribute("DataType");
  if (!dtype) fail(what, ": missing attribute DataType");
  const TypeInfo* t = find_type(dtype);
  if (!t) fail(what, ": unsupported DataType '", dtype, "' (expected a NIFTI_TYPE_ integer or float type)");
  a.data_type = dtype;
  const char* dim_text = e->Attribute("Dimensionality");
  if (!dim_text) fail(what, ": missing attribute Dimensionality");
  int nd = 0;
  if (e->QueryIntAttribute("Dimensionality", &nd) != tinyxml2::XML_SUCCESS || nd < 1 || nd > 6)
    fail(what, ": Dimensionality must be 1 to 6, got '", dim_text, "'");
  std::int64_t numel = 1;
  for (int k = 0; k < nd; ++k) {
    const std::string attr = "Dim" + std::to_string(k);
    const std::int64_t d = parse_dim(e->Attribute(attr.c_str()), what, k);
    if (d > kMaxElements / numel) fail(what, ": dimensions too large (more than ", kMaxElements, " elements)");
    numel *= d;
    a.dims.push_back(d);
  }
  const char* order = e->Attribute("ArrayIndexingOrder");
  const std::string order_s = order ? order : "RowMajorOrder";
  if (order_s != "RowMajorOrder" && order_s != "ColumnMajorOrder")
    fail(what, ": ArrayIndexingOrder must be RowMajorOrder or ColumnMajorOrder, got '", order_s, "'");
  const char* enc = e->Attribute("Encoding");
  if (!enc) fail(what, ": missing attribute Encoding");
  const std::string enc_s = enc;
  const char* endian = e->Attribute("Endian");
  const std::string endian_s = endian ? endian : "LittleEndian";
  if (endian_s != "LittleEndian" && endian_s != "BigEndian")
    fail(what, ": Endian must be LittleEndian or BigEndian, got '", endian_s, "'");
  a.meta = parse_meta(e->FirstChildElement("MetaData"));
  const auto* data_el = e->FirstChildElement("Data");
  if (!data_el) fail(what, ": missing <Data> element");
  const std::string text = text_of(data_el);
  const auto n_bytes = static_cast<std::size_t>(numel) * t->size;

  if (enc_s == "ASCII") {
    parse_ascii(text, *t, numel, a, what);
  } else if (enc_s == "Base64Binary" || enc_s == "GZipBase64Binary") {
    std::vector<std::byte> raw = detail::base64_decode(text, what);
    if (enc_s == "GZipBase64Binary") raw = detail::inflate_bytes(raw, n_bytes, true, what);
    else if (raw.size() != n_bytes)
      fail(what, ": Base64 data holds ", raw.size(), " bytes, expected ", n_bytes, " (", numel, " x ", t->size, " bytes)");
    const bool file_big = endian_s == "BigEndian";
    if (file_big != (std::endian::native == std::endian::big)) swap_bytes(raw, t->size);
    store_binary(raw, *t, a, what);
  } else if (enc_s == "ExternalFileBinary") {
    fail(what, ": Encoding ExternalFileBinary (data in a separate file) is not supported; convert the file with "
               "nibabel or wb_command to an embedded encoding");
  } else {
    fail(what, ": unknown Encoding '", enc_s, "' (expected ASCII, Base64Binary or GZipBase64Binary)");
  }
  if (order_s == "ColumnMajorOrder") {
    if (t->is_float) to_row_major(a.floats, a.dims);
    else to_row_major(a.ints, a.dims);
  }
  return a;
}

void append_cdata(std::string& out, const std::string& s) {
  // "]]>" cannot appear inside CDATA: split it across two sections.
  out += "<![CDATA[";
  std::size_t start = 0;
  for (std::size_t pos; (pos = s.find("]]>", start)) != std::string::npos; start = pos + 2) {
    out.append(s, start, pos + 2 - start);
    out += "]]><![CDATA[";
  }
  out.append(s, start, std::string::npos);
  out += "]]>";
}

void append_meta(std::string& out, const GiftiMeta& meta, const std::string& indent) {
  if (meta.empty()) {
    out += indent + "<MetaData/>\n";
    return;
  }
  out += indent + "<MetaData>\n";
  for (const auto& [k, v] : meta) {
    out += indent + "   <MD>\n" + indent + "      <Name>";
    append_cdata(out, k);
    out += "</Name>\n" + indent + "      <Value>";
    append_cdata(out, v);
    out += "</Value>\n" + indent + "   </MD>\n";
  }
  out += indent + "</MetaData>\n";
}

std::string format_float(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return buf;
}

}  // namespace

GiftiEncoding parse_gifti_encoding(std::string_view text) {
  if (text == "ascii" || text == "ASCII") return GiftiEncoding::Ascii;
  if (text == "base64" || text == "Base64Binary") return GiftiEncoding::Base64Binary;
  if (text == "gzip" || text == "GZipBase64Binary") return GiftiEncoding::GZipBase64Binary;
  fail("GIFTI encoding must be ascii, base64 or gzip, got '", text, "'");
}

bool GiftiDataArray::is_integer() const {
  const TypeInfo* t = find_type(data_type);
  return t ? !t->is_float : !ints.empty();
}

std::int64_t GiftiDataArray::numel() const {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return dims.empty() ? 0 : n;
}

std::string GiftiDataArray::meta_value(std::string_view key) const { return meta_lookup(meta, key); }
std::string GiftiImage::meta_value(std::string_view key) const { return meta_lookup(meta, key); }

GiftiImage parse_gifti(std::span<const std::byte> bytes, std::string_view name) {
  const std::string file(name);
  std::vector<std::byte> inflated;
  if (detail::is_gzip(bytes)) {
    // A .gii.gz: the XML is at most a few hundred MB for anything we handle.
    inflated = detail::inflate_bytes(bytes, std::size_t{1} << 32, false, file);
    bytes = inflated;
  }
  tinyxml2::XMLDocument doc;
  if (doc.Parse(reinterpret_cast<const char*>(bytes.data()), bytes.size()) != tinyxml2::XML_SUCCESS)
    fail(file, ": not a valid GIFTI file (XML error: ", doc.ErrorStr() ? doc.ErrorStr() : "unknown", ")");
  const auto* root = doc.FirstChildElement("GIFTI");
  if (!root) fail(file, ": not a GIFTI file (no <GIFTI> root element)");
  GiftiImage img;
  img.meta = parse_meta(root->FirstChildElement("MetaData"));
  int index = 0;
  for (auto* e = root->FirstChildElement("DataArray"); e; e = e->NextSiblingElement("DataArray"), ++index)
    img.arrays.push_back(parse_array(e, file + ": DataArray " + std::to_string(index)));
  if (const char* n = root->Attribute("NumberOfDataArrays")) {
    int declared = -1;
    if (root->QueryIntAttribute("NumberOfDataArrays", &declared) != tinyxml2::XML_SUCCESS || declared != index)
      fail(file, ": NumberOfDataArrays is '", n, "' but the file holds ", index, " DataArray elements");
  }
  return img;
}

GiftiImage read_gifti(const fs::path& path) {
  const auto bytes = io::read_file(path);
  return parse_gifti(bytes, path.string());
}

std::string encode_gifti(const GiftiImage& image, GiftiEncoding encoding) {
  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<!DOCTYPE GIFTI SYSTEM \"http://www.nitrc.org/frs/download.php/115/gifti.dtd\">\n";
  out += "<GIFTI Version=\"1.0\" NumberOfDataArrays=\"" + std::to_string(image.arrays.size()) + "\">\n";
  append_meta(out, image.meta, "   ");
  out += "   <LabelTable/>\n";
  for (std::size_t ai = 0; ai < image.arrays.size(); ++ai) {
    const auto& a = image.arrays[ai];
    const bool ints = !a.ints.empty() || (a.floats.empty() && a.is_integer());
    const std::int64_t held = static_cast<std::int64_t>(ints ? a.ints.size() : a.floats.size());
    TRIBEV2_CHECK(!a.dims.empty() && held == a.numel(), "encode_gifti: DataArray ", ai, " holds ", held,
                  " values but its dimensions say ", a.numel());
    const char* enc = encoding == GiftiEncoding::Ascii ? "ASCII"
                      : encoding == GiftiEncoding::Base64Binary ? "Base64Binary" : "GZipBase64Binary";
    out += "   <DataArray Intent=\"" + a.intent + "\"\n";
    out += std::string("              DataType=\"") + (ints ? "NIFTI_TYPE_INT32" : "NIFTI_TYPE_FLOAT32") + "\"\n";
    out += "              ArrayIndexingOrder=\"RowMajorOrder\"\n";
    out += "              Dimensionality=\"" + std::to_string(a.dims.size()) + "\"\n";
    for (std::size_t k = 0; k < a.dims.size(); ++k)
      out += "              Dim" + std::to_string(k) + "=\"" + std::to_string(a.dims[k]) + "\"\n";
    out += std::string("              Encoding=\"") + enc + "\"\n";
    out += "              Endian=\"LittleEndian\"\n";
    out += "              ExternalFileName=\"\"\n";
    out += "              ExternalFileOffset=\"\">\n";
    append_meta(out, a.meta, "      ");
    if (a.intent == "NIFTI_INTENT_POINTSET") {
      out += "      <CoordinateSystemTransformMatrix>\n"
             "         <DataSpace><![CDATA[NIFTI_XFORM_TALAIRACH]]></DataSpace>\n"
             "         <TransformedSpace><![CDATA[NIFTI_XFORM_TALAIRACH]]></TransformedSpace>\n"
             "         <MatrixData>1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1</MatrixData>\n"
             "      </CoordinateSystemTransformMatrix>\n";
    }
    out += "      <Data>";
    if (encoding == GiftiEncoding::Ascii) {
      const std::int64_t row = a.dims.size() > 1 ? a.numel() / a.dims[0] : 1;
      out += "\n";
      for (std::int64_t i = 0; i < held; ++i) {
        out += ints ? std::to_string(a.ints[static_cast<std::size_t>(i)]) : format_float(a.floats[static_cast<std::size_t>(i)]);
        out += (i + 1) % row == 0 ? "\n" : " ";
      }
      out += "      ";
    } else {
      std::vector<std::byte> raw(static_cast<std::size_t>(held) * 4);
      // GIFTI data is written little-endian whatever the machine.
      for (std::size_t i = 0; i < static_cast<std::size_t>(held); ++i) {
        std::uint32_t bits = ints ? static_cast<std::uint32_t>(a.ints[i]) : std::bit_cast<std::uint32_t>(a.floats[i]);
        for (int k = 0; k < 4; ++k) raw[4 * i + static_cast<std::size_t>(k)] = static_cast<std::byte>((bits >> (8 * k)) & 0xFFu);
      }
      if (encoding == GiftiEncoding::GZipBase64Binary) raw = detail::deflate_zlib(raw);
      out += detail::base64_encode(raw);
    }
    out += "</Data>\n";
    out += "   </DataArray>\n";
  }
  out += "</GIFTI>\n";
  return out;
}

void write_gifti(const fs::path& path, const GiftiImage& image, GiftiEncoding encoding) {
  const std::string xml = encode_gifti(image, encoding);
  const auto* p = reinterpret_cast<const std::byte*>(xml.data());
  if (path.extension() == ".gz") {
    io::write_file_atomic(path, detail::deflate_gzip({p, xml.size()}));
  } else {
    io::write_file_atomic(path, {p, xml.size()});
  }
}

Mesh gifti_surface(const GiftiImage& image, std::string_view name) {
  const GiftiDataArray* points = nullptr;
  const GiftiDataArray* tris = nullptr;
  for (const auto& a : image.arrays) {
    if (a.intent == "NIFTI_INTENT_POINTSET" && !points) points = &a;
    if (a.intent == "NIFTI_INTENT_TRIANGLE" && !tris) tris = &a;
  }
  if (!points || !tris)
    fail(name, ": not a GIFTI surface (needs a NIFTI_INTENT_POINTSET and a NIFTI_INTENT_TRIANGLE DataArray; found ",
         points ? "" : "no POINTSET", !points && !tris ? ", " : "", tris ? "" : "no TRIANGLE", ")");
  if (points->dims.size() != 2 || points->dims[1] != 3 || points->is_integer())
    fail(name, ": POINTSET must be float [n, 3], got ", points->data_type, " with ", points->dims.size(), " dims");
  if (tris->dims.size() != 2 || tris->dims[1] != 3 || !tris->is_integer())
    fail(name, ": TRIANGLE must be integer [m, 3], got ", tris->data_type, " with ", tris->dims.size(), " dims");
  Mesh m;
  m.vertices = points->floats;
  m.faces = tris->ints;
  validate_mesh(m, name);
  return m;
}

std::vector<float> gifti_map(const GiftiImage& image, std::string_view name) {
  const GiftiDataArray* found = nullptr;
  if (image.arrays.size() == 1) found = &image.arrays[0];
  for (const auto& a : image.arrays)
    if (!found && a.dims.size() == 1) found = &a;
  if (!found) fail(name, ": no per-vertex map (expected a single DataArray or a 1-D one; the file holds ", image.arrays.size(), ")");
  const std::int64_t n = found->numel();
  if (!(found->dims.size() == 1 || (found->dims.size() == 2 && found->dims[1] == 1)))
    fail(name, ": a per-vertex map must be 1-D, got ", found->dims.size(), " dimensions");
  if (!found->is_integer()) return found->floats;
  std::vector<float> out(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(found->ints[i]);
  return out;
}

GiftiImage make_surface_gifti(const Mesh& mesh, std::string_view anatomical_structure) {
  validate_mesh(mesh, "make_surface_gifti");
  GiftiImage img;
  GiftiDataArray p;
  p.intent = "NIFTI_INTENT_POINTSET";
  p.data_type = "NIFTI_TYPE_FLOAT32";
  p.dims = {mesh.n_vertices(), 3};
  p.floats = mesh.vertices;
  p.meta = {{"AnatomicalStructurePrimary", std::string(anatomical_structure)}};
  GiftiDataArray t;
  t.intent = "NIFTI_INTENT_TRIANGLE";
  t.data_type = "NIFTI_TYPE_INT32";
  t.dims = {mesh.n_faces(), 3};
  t.ints = mesh.faces;
  img.arrays.push_back(std::move(p));
  img.arrays.push_back(std::move(t));
  return img;
}

}  // namespace tribev2::viz

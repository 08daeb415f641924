#include "tribev2/io/npy.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/zip.hpp"

namespace tribev2::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct Header {
  DType dtype = DType::F32;
  bool big_endian = false;
  bool fortran = false;
  Shape shape;
};

// A tiny parser for the Python dict literal in .npy headers:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view name) : s_(text), name_(name) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        parse_descr(parse_string(), h);
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = parse_shape();
        have_shape = true;
      } else {
        bad("unknown header key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
    }
    if (!have_descr || !have_order || !have_shape)
      bad("header must have 'descr', 'fortran_order' and 'shape'");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(name_, ": invalid .npy header (", what, "): ", std::string(s_.substr(0, 120)));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a string");
    ++i_;
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) ++i_;
    if (i_ >= s_.size()) bad("unterminated string");
    std::string out(s_.substr(start, i_ - start));
    ++i_;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    bad("expected True or False");
  }
  Shape parse_shape() {
    expect('(');
    Shape shape;
    for (;;) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        break;
      }
      if (peek() < '0' || peek() > '9') bad("expected a dimension");
      std::int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (std::int64_t{1} << 50)) bad("dimension too large");
        v = v * 10 + (peek() - '0');
        ++i_;
      }
      if (peek() == 'L') ++i_;  // Python 2 longs
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') ++i_;
      else if (peek() != ')') bad("expected ',' or ')' in shape");
    }
    if (shape.size() > 32) bad("too many dimensions");
    return shape;
  }
  void parse_descr(const std::string& d, Header& h) const {
    if (d.size() < 2) bad("descr '" + d + "'");
    const char order = d[0];
    const std::string t = d.substr(1);
    if (order == '>') h.big_endian = true;
    else if (order != '<' && order != '|' && order != '=') bad("descr '" + d + "'");
    if (t == "f4") h.dtype = DType::F32;
    else if (t == "f8") h.dtype = DType::F64;
    else if (t == "f2") h.dtype = DType::F16;
    else if (t == "i8") h.dtype = DType::I64;
    else if (t == "i4") h.dtype = DType::I32;
    else if (t == "i2") h.dtype = DType::I16;
    else if (t == "i1") h.dtype = DType::I8;
    else if (t == "u1") h.dtype = DType::U8;
    else if (t == "b1") h.dtype = DType::Bool;
    else
      fail(name_, ": unsupported .npy dtype '", d,
           "' (supported: float16/32/64, int8/16/32/64, uint8, bool)");
    if (dtype_size(h.dtype) == 1) h.big_endian = false;
  }

  std::string_view s_;
  std::string_view name_;
  std::size_t i_ = 0;
};

void byteswap_inplace(std::byte* p, std::int64_t n, std::size_t esz) {
  for (std::int64_t i = 0; i < n; ++i) std::reverse(p + i * static_cast<std::int64_t>(esz), p + (i + 1) * static_cast<std::int64_t>(esz));
}

// Converts a Fortran-ordered buffer (first index fastest) into C order.
void fortran_to_c(const std::byte* src, std::byte* dst, const Shape& shape, std::size_t esz) {
  const int nd = static_cast<int>(shape.size());
  const std::int64_t n = shape_numel(shape);
  std::vector<std::int64_t> fstride(static_cast<std::size_t>(nd));
  std::int64_t s = 1;
  for (int d = 0; d < nd; ++d) {
    fstride[static_cast<std::size_t>(d)] = s;
    s *= shape[static_cast<std::size_t>(d)];
  }
  std::vector<std::int64_t> idx(static_cast<std::size_t>(nd), 0);
  for (std::int64_t c = 0; c < n; ++c) {
    std::int64_t f = 0;
    for (int d = 0; d < nd; ++d) f += idx[static_cast<std::size_t>(d)] * fstride[static_cast<std::size_t>(d)];
    std::memcpy(dst + c * static_cast<std::int64_t>(esz), src + f * static_cast<std::int64_t>(esz), esz);
    for (int d = nd - 1; d >= 0; --d) {
      if (++idx[static_cast<std::size_t>(d)] < shape[static_cast<std::size_t>(d)]) break;
      idx[static_cast<std::size_t>(d)] = 0;
    }
  }
}

}  // namespace

NpyLayout parse_npy_layout(std::span<const std::byte> bytes, std::string_view name) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    fail(name, ": not a .npy file (missing \\x93NUMPY magic)");
  const auto major = static_cast<unsigned>(bytes[6]);
  std::size_t header_len = 0;
  std::size_t pos = 0;
  if (major == 1) {
    header_len = static_cast<std::size_t>(bytes[8]) | (static_cast<std::size_t>(bytes[9]) << 8);
    pos = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(bytes[8 + static_cast<std::size_t>(i)]) << (8 * i);
    pos = 12;
  } else {
    fail(name, ": unsupported .npy format version ", major);
  }
  if (header_len > bytes.size() - pos) fail(name, ": truncated .npy header (", header_len, " bytes declared)");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + pos), header_len);
  const Header h = HeaderParser(text, name).parse();
  pos += header_len;
  const std::size_t esz = dtype_size(h.dtype);
  const std::int64_t numel = shape_numel(h.shape);
  const std::size_t need = static_cast<std::size_t>(numel) * esz;
  if (numel > 0 && need / esz != static_cast<std::size_t>(numel)) fail(name, ": array too large");
  if (bytes.size() - pos < need)
    fail(name, ": truncated data: shape ", shape_str(h.shape), " needs ", need, " bytes, file has ",
         bytes.size() - pos);
  NpyLayout l;
  l.dtype = h.dtype;
  l.shape = h.shape;
  l.data_offset = pos;
  l.little_endian = !h.big_endian || esz == 1;
  l.c_order = !h.fortran || h.shape.size() <= 1;
  return l;
}

Tensor parse_npy(std::span<const std::byte> bytes, std::string_view name,
                 std::shared_ptr<const void> owner) {
  const NpyLayout l = parse_npy_layout(bytes, name);
  const std::size_t esz = dtype_size(l.dtype);
  const std::int64_t numel = shape_numel(l.shape);
  const std::size_t need = static_cast<std::size_t>(numel) * esz;
  const std::byte* src = bytes.data() + l.data_offset;
  const bool aligned = reinterpret_cast<std::uintptr_t>(src) % esz == 0;
  const bool native = l.little_endian;
  if (owner && aligned && native && l.c_order) return Tensor::view(l.dtype, l.shape, src, std::move(owner));
  Tensor t = Tensor::empty(l.dtype, l.shape);
  auto* dst = static_cast<std::byte*>(t.raw_mut());
  if (l.c_order) std::memcpy(dst, src, need);
  else fortran_to_c(src, dst, l.shape, esz);
  if (!native) byteswap_inplace(dst, numel, esz);
  return t;
}

Tensor read_npy(const std::filesystem::path& path) {
  auto map = MappedFile::open(path);
  const auto bytes = map->bytes();
  return parse_npy(bytes, path.string(), std::move(map));
}

namespace {

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::F32: return "<f4";
    case DType::F64: return "<f8";
    case DType::F16: return "<f2";
    case DType::I64: return "<i8";
    case DType::I32: return "<i4";
    case DType::I16: return "<i2";
    case DType::I8: return "|i1";
    case DType::U8: return "|u1";
    case DType::Bool: return "|b1";
    case DType::BF16: break;
  }
  fail("cannot write a BF16 tensor as .npy (numpy has no bfloat16); convert it first");
}

// Magic, version 1.0, header length and the header dict, padded with spaces so that the data
// starts on a 64-byte boundary (at least `min_size` bytes in all, so that a header written
// before the row count is known can be rewritten in place).
std::vector<std::byte> npy_header(DType dtype, const Shape& shape, std::size_t min_size = 0) {
  std::string dims = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dims += std::to_string(shape[i]);
    dims += (shape.size() == 1 || i + 1 < shape.size()) ? ", " : "";
  }
  if (shape.size() == 1) dims.pop_back();
  dims += ")";
  std::string header = std::string("{'descr': '") + npy_descr(dtype) + "', 'fortran_order': False, 'shape': " + dims + ", }";
  std::size_t total = 10 + header.size() + 1;
  std::size_t padded = (total + 63) / 64 * 64;
  padded = std::max(padded, (min_size + 63) / 64 * 64);
  header.append(padded - total, ' ');
  header += '\n';
  TRIBEV2_CHECK(header.size() <= 0xffff, "npy header too long");
  std::vector<std::byte> out(10 + header.size());
  std::memcpy(out.data(), kMagic, 6);
  out[6] = std::byte{1};
  out[7] = std::byte{0};
  out[8] = static_cast<std::byte>(header.size() & 0xff);
  out[9] = static_cast<std::byte>((header.size() >> 8) & 0xff);
  std::memcpy(out.data() + 10, header.data(), header.size());
  return out;
}

}  // namespace

std::vector<std::byte> encode_npy(const Tensor& t) {
  std::vector<std::byte> out = npy_header(t.dtype(), t.shape());
  const std::size_t h = out.size();
  out.resize(h + t.nbytes());
  if (t.nbytes()) std::memcpy(out.data() + h, t.raw(), t.nbytes());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& t) {
  // Header and data straight from the tensor: no second copy of a large array in memory.
  AtomicFileWriter w(path);
  w.write(npy_header(t.dtype(), t.shape()));
  w.write(std::span<const std::byte>(static_cast<const std::byte*>(t.raw()), t.nbytes()));
  w.commit();
}

NpyRowWriter::NpyRowWriter(const std::filesystem::path& path, DType dtype, Shape row_shape)
    : file_(path), dtype_(dtype), row_shape_(std::move(row_shape)) {
  row_bytes_ = static_cast<std::size_t>(shape_numel(row_shape_)) * dtype_size(dtype_);
  // Room for a 20-digit row count: the header is rewritten in place by commit().
  Shape widest{std::numeric_limits<std::int64_t>::max()};
  widest.insert(widest.end(), row_shape_.begin(), row_shape_.end());
  header_size_ = npy_header(dtype_, widest).size();
  Shape now{0};
  now.insert(now.end(), row_shape_.begin(), row_shape_.end());
  file_.write(npy_header(dtype_, now, header_size_));
}

void NpyRowWriter::append(const void* rows, std::int64_t n) {
  TRIBEV2_CHECK(n >= 0, file_.path().string(), ": negative row count");
  file_.write(std::span<const std::byte>(static_cast<const std::byte*>(rows), static_cast<std::size_t>(n) * row_bytes_));
  rows_ += n;
}

void NpyRowWriter::commit() {
  Shape full{rows_};
  full.insert(full.end(), row_shape_.begin(), row_shape_.end());
  const auto header = npy_header(dtype_, full, header_size_);
  TRIBEV2_CHECK(header.size() == header_size_, file_.path().string(), ": npy header size changed");
  file_.overwrite(0, header);
  file_.commit();
}

std::vector<std::pair<std::string, Tensor>> read_npz(const std::filesystem::path& path) {
  ZipReader zip(path);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& entry : zip.entries()) {
    std::string key = entry.name;
    if (key.size() > 4 && key.ends_with(".npy")) key.resize(key.size() - 4);
    auto data = std::make_shared<std::vector<std::byte>>(zip.read(entry.name));
    const std::span<const std::byte> bytes(data->data(), data->size());
    out.emplace_back(key, parse_npy(bytes, path.string() + ":" + entry.name, data));
  }
  if (out.empty()) fail(path.string(), ": .npz archive has no arrays");
  return out;
}

void write_npz(const std::filesystem::path& path,
               const std::vector<std::pair<std::string, Tensor>>& arrays) {
  std::vector<std::pair<std::string, std::vector<std::byte>>> entries;
  entries.reserve(arrays.size());
  for (const auto& [name, t] : arrays) entries.emplace_back(name + ".npy", encode_npy(t));
  write_zip_stored(path, entries);
}

}  // namespace tribev2::io

#include "tribev2/features/text/gguf.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::text::gguf {

namespace {

struct TypeInfo {
  std::uint32_t id;
  const char* name;
  std::uint64_t block;  // elements per block
  std::uint64_t bytes;  // bytes per block (0: unknown)
};

constexpr TypeInfo kTypes[] = {
    {0, "F32", 1, 4},      {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},   {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},   {7, "Q5_1", 32, 24},    {8, "Q8_0", 32, 34},   {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84}, {11, "Q3_K", 256, 110}, {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210}, {15, "Q8_K", 256, 292}, {24, "I8", 1, 1},     {25, "I16", 1, 2},
    {26, "I32", 1, 4},     {27, "I64", 1, 8},      {28, "F64", 1, 8},     {30, "BF16", 1, 2},
};

const TypeInfo* type_info(std::uint32_t t) {
  for (const auto& i : kTypes)
    if (i.id == t) return &i;
  return nullptr;
}

constexpr std::uint64_t kMaxDims = 4;  // GGML_MAX_DIMS

class Reader {
 public:
  Reader(std::span<const std::byte> b, const std::string& name) : b_(b), name_(name) {}
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return b_.size() - pos_; }

  template <class T>
  T read(const char* what) {
    if (remaining() < sizeof(T)) fail(name_, ": truncated GGUF file while reading ", what, " at offset ", pos_);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string(const char* what) {
    const auto n = read<std::uint64_t>(what);
    if (n > remaining()) fail(name_, ": ", what, " has length ", n, " but only ", remaining(), " bytes remain (corrupt GGUF)");
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }

 private:
  std::span<const std::byte> b_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

std::size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
  }
}

// Reads one scalar of type t into v (as i/u/f/s); for arrays appends to the vectors instead.
void read_scalar(Reader& r, ValueType t, Value& v, bool into_array, const std::string& where, const std::string& name) {
  std::int64_t iv = 0;
  std::uint64_t uv = 0;
  double fv = 0.0;
  bool is_int = true, is_float = false;
  switch (t) {
    case ValueType::U8: uv = r.read<std::uint8_t>(where.c_str()); iv = static_cast<std::int64_t>(uv); break;
    case ValueType::I8: iv = r.read<std::int8_t>(where.c_str()); uv = static_cast<std::uint64_t>(iv); break;
    case ValueType::U16: uv = r.read<std::uint16_t>(where.c_str()); iv = static_cast<std::int64_t>(uv); break;
    case ValueType::I16: iv = r.read<std::int16_t>(where.c_str()); uv = static_cast<std::uint64_t>(iv); break;
    case ValueType::U32: uv = r.read<std::uint32_t>(where.c_str()); iv = static_cast<std::int64_t>(uv); break;
    case ValueType::I32: iv = r.read<std::int32_t>(where.c_str()); uv = static_cast<std::uint64_t>(iv); break;
    case ValueType::U64:
      uv = r.read<std::uint64_t>(where.c_str());
      if (into_array && uv > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        fail(name, ": ", where, ": U64 array value ", uv, " is out of range");
      iv = static_cast<std::int64_t>(uv);
      break;
    case ValueType::I64: iv = r.read<std::int64_t>(where.c_str()); uv = static_cast<std::uint64_t>(iv); break;
    case ValueType::Bool: {
      const auto b = r.read<std::uint8_t>(where.c_str());
      if (b > 1) fail(name, ": ", where, ": bool value ", int(b), " is not 0 or 1");
      iv = b, uv = b;
      break;
    }
    case ValueType::F32: fv = r.read<float>(where.c_str()); is_int = false, is_float = true; break;
    case ValueType::F64: fv = r.read<double>(where.c_str()); is_int = false, is_float = true; break;
    case ValueType::String: {
      std::string s = r.string(where.c_str());
      if (into_array) v.strings.push_back(std::move(s));
      else v.s = std::move(s);
      return;
    }
    default: fail(name, ": ", where, ": unknown value type ", static_cast<std::uint32_t>(t));
  }
  if (into_array) {
    if (is_int) v.ints.push_back(iv);
    if (is_float) v.floats.push_back(fv);
  } else {
    v.i = iv, v.u = uv, v.f = is_float ? fv : static_cast<double>(iv);
  }
}

void put(std::vector<std::byte>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}
template <class T>
void put(std::vector<std::byte>& out, T v) {
  put(out, &v, sizeof v);
}
void put_string(std::vector<std::byte>& out, const std::string& s) {
  put<std::uint64_t>(out, s.size());
  put(out, s.data(), s.size());
}

}  // namespace

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "UINT8";
    case ValueType::I8: return "INT8";
    case ValueType::U16: return "UINT16";
    case ValueType::I16: return "INT16";
    case ValueType::U32: return "UINT32";
    case ValueType::I32: return "INT32";
    case ValueType::F32: return "FLOAT32";
    case ValueType::Bool: return "BOOL";
    case ValueType::String: return "STRING";
    case ValueType::Array: return "ARRAY";
    case ValueType::U64: return "UINT64";
    case ValueType::I64: return "INT64";
    case ValueType::F64: return "FLOAT64";
  }
  return "?";
}

std::string tensor_type_name(std::uint32_t type) {
  if (const auto* i = type_info(type)) return i->name;
  return "type " + std::to_string(type);
}

std::optional<std::uint64_t> tensor_nbytes(std::uint32_t type, const std::vector<std::uint64_t>& ne) {
  const TypeInfo* ti = type_info(type);
  if (!ti || ne.empty()) return std::nullopt;
  if (ne[0] % ti->block != 0) return std::nullopt;
  std::uint64_t rows = 1;
  for (std::size_t d = 1; d < ne.size(); ++d) {
    if (ne[d] != 0 && rows > std::numeric_limits<std::uint64_t>::max() / ne[d]) return std::nullopt;
    rows *= ne[d];
  }
  const std::uint64_t row = ne[0] / ti->block * ti->bytes;
  if (row != 0 && rows > std::numeric_limits<std::uint64_t>::max() / row) return std::nullopt;
  return rows * row;
}

std::size_t Value::array_size() const { return strings.size() + ints.size() + floats.size(); }

File File::open(const std::filesystem::path& path) {
  auto map = io::MappedFile::open(path);
  const auto bytes = map->bytes();
  return parse(bytes, path.string(), std::move(map));
}

File File::parse(std::span<const std::byte> bytes, const std::string& name, std::shared_ptr<const void> owner) {
  File f;
  f.name_ = name;
  f.bytes_ = bytes;
  f.owner_ = std::move(owner);
  Reader r(bytes, f.name_);
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0) fail(name, ": not a GGUF file (no 'GGUF' magic)");
  r.read<std::uint32_t>("magic");
  f.version_ = r.read<std::uint32_t>("version");
  if (f.version_ == 1) fail(name, ": GGUF version 1 is not supported (re-convert the model with a current llama.cpp)");
  if (f.version_ != 2 && f.version_ != 3) {
    if (__builtin_bswap32(f.version_) == 2 || __builtin_bswap32(f.version_) == 3)
      fail(name, ": big-endian GGUF files are not supported");
    fail(name, ": unsupported GGUF version ", f.version_, " (supported: 2, 3)");
  }
  const auto n_tensors = r.read<std::uint64_t>("tensor count");
  const auto n_kv = r.read<std::uint64_t>("metadata count");
  // Each key/value needs at least 12 bytes and each tensor descriptor at least 28.
  if (n_kv > r.remaining() / 12) fail(name, ": metadata count ", n_kv, " does not fit in the file (corrupt GGUF)");
  if (n_tensors > r.remaining() / 28) fail(name, ": tensor count ", n_tensors, " does not fit in the file (corrupt GGUF)");
  for (std::uint64_t k = 0; k < n_kv; ++k) {
    std::string key = r.string("metadata key");
    const std::string where = "metadata '" + key + "'";
    Value v;
    v.type = static_cast<ValueType>(r.read<std::uint32_t>(where.c_str()));
    if (v.type == ValueType::Array) {
      v.elem = static_cast<ValueType>(r.read<std::uint32_t>(where.c_str()));
      const auto n = r.read<std::uint64_t>(where.c_str());
      if (v.elem == ValueType::Array) fail(name, ": ", where, ": nested arrays are not supported");
      const std::size_t min_size = v.elem == ValueType::String ? 8 : scalar_size(v.elem);
      if (min_size == 0) fail(name, ": ", where, ": unknown array element type ", static_cast<std::uint32_t>(v.elem));
      if (n > r.remaining() / min_size) fail(name, ": ", where, ": array of ", n, " elements does not fit in the file (corrupt GGUF)");
      if (v.elem == ValueType::String) v.strings.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) read_scalar(r, v.elem, v, true, where, name);
    } else {
      read_scalar(r, v.type, v, false, where, name);
    }
    if (!f.kv_.emplace(std::move(key), std::move(v)).second) fail(name, ": duplicate ", where);
  }
  std::uint64_t alignment = 32;
  if (const Value* a = f.find("general.alignment")) {
    if (a->type != ValueType::U32) fail(name, ": general.alignment must be UINT32, got ", value_type_name(a->type));
    alignment = a->u;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > (1u << 20))
      fail(name, ": general.alignment ", alignment, " is not a power of two (up to 1 MiB)");
  }
  f.tensors_.reserve(static_cast<std::size_t>(n_tensors));
  for (std::uint64_t t = 0; t < n_tensors; ++t) {
    TensorInfo ti;
    ti.name = r.string("tensor name");
    const std::string where = "tensor '" + ti.name + "'";
    const auto nd = r.read<std::uint32_t>(where.c_str());
    if (nd == 0 || nd > kMaxDims) fail(name, ": ", where, " has ", nd, " dimensions (1 to 4 allowed)");
    for (std::uint32_t d = 0; d < nd; ++d) {
      const auto n = r.read<std::uint64_t>(where.c_str());
      if (n == 0 || n > (1ull << 40)) fail(name, ": ", where, " has dimension ", d, " of size ", n);
      ti.ne.push_back(n);
    }
    ti.type = r.read<std::uint32_t>(where.c_str());
    ti.offset = r.read<std::uint64_t>(where.c_str());
    if (ti.offset % alignment != 0) fail(name, ": ", where, " offset ", ti.offset, " is not aligned to ", alignment);
    if (!f.by_name_.emplace(ti.name, f.tensors_.size()).second) fail(name, ": duplicate ", where);
    f.tensors_.push_back(std::move(ti));
  }
  const std::uint64_t data_start = (r.pos() + alignment - 1) / alignment * alignment;
  f.header_ = bytes.subspan(0, r.pos());
  const std::uint64_t data_size = data_start <= bytes.size() ? bytes.size() - data_start : 0;
  if (!f.tensors_.empty() && data_start > bytes.size())
    fail(name, ": truncated GGUF file: the data section would start at ", data_start, " but the file has ", bytes.size(), " bytes");
  for (auto& ti : f.tensors_) {
    const auto nb = tensor_nbytes(ti.type, ti.ne);
    if (!nb) {
      if (type_info(ti.type) && ti.ne[0] % type_info(ti.type)->block != 0)
        fail(name, ": tensor '", ti.name, "' of type ", tensor_type_name(ti.type), " has ne[0] = ", ti.ne[0],
             ", not a multiple of its block size");
      if (type_info(ti.type)) fail(name, ": tensor '", ti.name, "' is too large");
      continue;  // unknown type: size unknown, unusable (checked when used)
    }
    if (ti.offset > data_size || *nb > data_size - ti.offset)
      fail(name, ": tensor '", ti.name, "' (", *nb, " bytes at data offset ", ti.offset, ") extends past the end of the file (",
           data_size, " data bytes): truncated or corrupt GGUF");
    ti.nbytes = *nb;
    ti.data = bytes.data() + data_start + ti.offset;
  }
  return f;
}

const Value* File::find(const std::string& key) const {
  const auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const TensorInfo* File::tensor(const std::string& n) const {
  const auto it = by_name_.find(n);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

std::string File::get_string(const std::string& key) const {
  const Value* v = find(key);
  if (!v) fail(name_, ": missing metadata '", key, "'");
  if (v->type != ValueType::String) fail(name_, ": metadata '", key, "' must be STRING, got ", value_type_name(v->type));
  return v->s;
}

std::optional<std::uint64_t> File::get_uint_opt(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  switch (v->type) {
    case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64: return v->u;
    case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64:
      if (v->i < 0) fail(name_, ": metadata '", key, "' must not be negative, got ", v->i);
      return static_cast<std::uint64_t>(v->i);
    default: fail(name_, ": metadata '", key, "' must be an integer, got ", value_type_name(v->type));
  }
}

std::uint64_t File::get_uint(const std::string& key) const {
  const auto v = get_uint_opt(key);
  if (!v) fail(name_, ": missing metadata '", key, "'");
  return *v;
}

std::optional<double> File::get_float_opt(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == ValueType::F32 || v->type == ValueType::F64) return v->f;
  if (v->type == ValueType::Array || v->type == ValueType::String || v->type == ValueType::Bool)
    fail(name_, ": metadata '", key, "' must be a number, got ", value_type_name(v->type));
  return v->type == ValueType::U64 ? static_cast<double>(v->u) : static_cast<double>(v->i);
}

double File::get_float(const std::string& key) const {
  const auto v = get_float_opt(key);
  if (!v) fail(name_, ": missing metadata '", key, "'");
  return *v;
}

// ---- writer ----------------------------------------------------------------------------------

void Writer::add_string(const std::string& key, const std::string& v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::String));
  put_string(kv.encoded, v);
  kv_.push_back(std::move(kv));
}
void Writer::add_u32(const std::string& key, std::uint32_t v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::U32));
  put(kv.encoded, v);
  kv_.push_back(std::move(kv));
}
void Writer::add_i32(const std::string& key, std::int32_t v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::I32));
  put(kv.encoded, v);
  kv_.push_back(std::move(kv));
}
void Writer::add_f32(const std::string& key, float v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::F32));
  put(kv.encoded, v);
  kv_.push_back(std::move(kv));
}
void Writer::add_bool(const std::string& key, bool v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::Bool));
  put<std::uint8_t>(kv.encoded, v ? 1 : 0);
  kv_.push_back(std::move(kv));
}
void Writer::add_string_array(const std::string& key, const std::vector<std::string>& v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::Array));
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::String));
  put<std::uint64_t>(kv.encoded, v.size());
  for (const auto& s : v) put_string(kv.encoded, s);
  kv_.push_back(std::move(kv));
}
void Writer::add_i32_array(const std::string& key, const std::vector<std::int32_t>& v) {
  KV kv{key, {}};
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::Array));
  put<std::uint32_t>(kv.encoded, static_cast<std::uint32_t>(ValueType::I32));
  put<std::uint64_t>(kv.encoded, v.size());
  for (const auto x : v) put(kv.encoded, x);
  kv_.push_back(std::move(kv));
}

void Writer::add_tensor(const std::string& name, std::vector<std::uint64_t> ne, std::uint32_t type, std::vector<std::byte> data) {
  const auto nb = tensor_nbytes(type, ne);
  TRIBEV2_CHECK(nb && *nb == data.size(), "gguf::Writer: tensor '", name, "' has ", data.size(), " bytes, its type and shape need ",
                nb ? std::to_string(*nb) : std::string("a valid shape"));
  tensors_.push_back({name, std::move(ne), type, std::move(data)});
}

std::vector<std::byte> Writer::finish(std::uint32_t alignment) const {
  std::vector<std::byte> out;
  put(out, "GGUF", 4);
  put<std::uint32_t>(out, 3);
  put<std::uint64_t>(out, tensors_.size());
  put<std::uint64_t>(out, kv_.size() + (alignment != 32 ? 1 : 0));
  for (const auto& kv : kv_) {
    put_string(out, kv.key);
    put(out, kv.encoded.data(), kv.encoded.size());
  }
  if (alignment != 32) {
    put_string(out, "general.alignment");
    put<std::uint32_t>(out, static_cast<std::uint32_t>(ValueType::U32));
    put<std::uint32_t>(out, alignment);
  }
  std::uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.ne.size()));
    for (const auto n : t.ne) put<std::uint64_t>(out, n);
    put<std::uint32_t>(out, t.type);
    put<std::uint64_t>(out, offset);
    offset = (offset + t.data.size() + alignment - 1) / alignment * alignment;
  }
  out.resize((out.size() + alignment - 1) / alignment * alignment);
  for (const auto& t : tensors_) {
    put(out, t.data.data(), t.data.size());
    out.resize((out.size() + alignment - 1) / alignment * alignment);
  }
  return out;
}

void Writer::write(const std::filesystem::path& path, std::uint32_t alignment) const {
  const auto bytes = finish(alignment);
  io::write_file_atomic(path, bytes);
}

}  // namespace tribev2::text::gguf

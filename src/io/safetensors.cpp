#include "tribev2/io/safetensors.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"

namespace tribev2::io {

namespace {

constexpr std::uint64_t kMaxHeader = 100u << 20;  // the format's own limit (100 MB)

DType parse_dtype(const std::string& s, const std::string& where) {
  if (s == "F32") return DType::F32;
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  if (s == "F64") return DType::F64;
  if (s == "I64") return DType::I64;
  if (s == "I32") return DType::I32;
  if (s == "I16") return DType::I16;
  if (s == "I8") return DType::I8;
  if (s == "U8") return DType::U8;
  if (s == "BOOL") return DType::Bool;
  fail(where, ": unsupported dtype '", s, "' (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  auto map = MappedFile::open(path);
  const auto bytes = map->bytes();
  return parse(bytes, path.string(), std::move(map));
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, const std::string& name,
                                       const std::shared_ptr<const void>& owner) {
  SafetensorsFile f;
  f.path_ = name;
  if (bytes.size() < 8) fail(name, ": not a safetensors file (", bytes.size(), " bytes, need an 8-byte header length)");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  if (n > kMaxHeader) fail(name, ": safetensors header length ", n, " exceeds the 100 MB limit (not a safetensors file?)");
  if (n > bytes.size() - 8) fail(name, ": truncated safetensors file: header of ", n, " bytes, file has ", bytes.size());
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(n));
  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(name, ": safetensors header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(name, ": safetensors header must be a JSON object");
  const std::byte* data = bytes.data() + 8 + n;
  const std::uint64_t data_size = bytes.size() - 8 - n;

  struct Span {
    std::uint64_t begin, end;
    std::string key;
  };
  std::vector<Span> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(name, ": __metadata__ must be an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(name, ": __metadata__['", m.key(), "'] must be a string");
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = name + ": tensor '" + key + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      fail(where, ": entry must have dtype, shape and data_offsets");
    if (!v["dtype"].is_string()) fail(where, ": dtype must be a string");
    const DType dt = parse_dtype(v["dtype"].get<std::string>(), where);
    const auto& js = v["shape"];
    if (!js.is_array()) fail(where, ": shape must be an array");
    Shape shape;
    for (const auto& d : js) {
      if (!d.is_number_unsigned()) fail(where, ": shape entries must be non-negative integers");
      const auto dv = d.get<std::uint64_t>();
      if (dv > (std::uint64_t{1} << 48)) fail(where, ": dimension ", dv, " is too large");
      shape.push_back(static_cast<std::int64_t>(dv));
    }
    const auto& jo = v["data_offsets"];
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned())
      fail(where, ": data_offsets must be [begin, end]");
    const auto b = jo[0].get<std::uint64_t>();
    const auto e = jo[1].get<std::uint64_t>();
    if (b > e) fail(where, ": data_offsets [", b, ", ", e, "] are reversed");
    if (e > data_size) fail(where, ": data_offsets [", b, ", ", e, "] run past the end of the data (", data_size, " bytes): truncated file?");
    std::int64_t numel = 0;
    try {
      numel = shape_numel(shape);
    } catch (const Error&) {
      fail(where, ": shape ", shape_str(shape), " is too large");
    }
    const std::uint64_t need = static_cast<std::uint64_t>(numel) * dtype_size(dt);
    if (e - b != need)
      fail(where, ": shape ", shape_str(shape), " of ", dtype_name(dt), " needs ", need, " bytes, data_offsets give ", e - b);
    spans.push_back({b, e, key});
    const std::byte* p = data + b;
    Tensor t;
    if (reinterpret_cast<std::uintptr_t>(p) % dtype_size(dt) == 0) {
      t = Tensor::view(dt, shape, p, owner);
    } else {
      t = Tensor::empty(dt, shape);
      if (need) std::memcpy(t.raw_mut(), p, need);
    }
    f.names_.push_back(key);
    f.tensors_.emplace(key, std::move(t));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end && spans[i].end > spans[i].begin)
      fail(name, ": tensors '", spans[i - 1].key, "' and '", spans[i].key, "' have overlapping data_offsets");
  }
  return f;
}

const Tensor& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) fail(path_, ": no tensor named '", name, "'");
  return it->second;
}

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t off = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", std::string(dtype_name(t.dtype()))},
                    {"shape", t.shape()},
                    {"data_offsets", {off, off + t.nbytes()}}};
    off += t.nbytes();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + h.size() + off);
  const std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, h.data(), h.size());
  std::size_t pos = 8 + h.size();
  for (const auto& [name, t] : tensors) {
    if (t.nbytes()) std::memcpy(out.data() + pos, t.raw(), t.nbytes());
    pos += t.nbytes();
  }
  write_file_atomic(path, out);
}

}  // namespace tribev2::io

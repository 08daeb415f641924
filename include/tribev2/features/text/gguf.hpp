// GGUF files (llama.cpp's format, versions 2 and 3, little endian): a metadata key/value
// table, tensor descriptors and an aligned data section. The reader validates every count,
// length, offset and size against the file before anything is used; tensors stay mapped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tribev2::text::gguf {

enum class ValueType : std::uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12
};
const char* value_type_name(ValueType t);

// ggml tensor types (the ones this project reads, plus the names of the rest for errors).
enum class TensorType : std::uint32_t { F32 = 0, F16 = 1, Q8_0 = 8, BF16 = 30 };
std::string tensor_type_name(std::uint32_t type);

struct Value {
  ValueType type = ValueType::U8;
  ValueType elem = ValueType::U8;  // for arrays
  std::int64_t i = 0;              // signed integer and bool scalars
  std::uint64_t u = 0;             // unsigned integer scalars
  double f = 0.0;                  // float scalars
  std::string s;                   // string scalars
  std::vector<std::string> strings;  // string arrays
  std::vector<std::int64_t> ints;    // integer / bool arrays (U64 values above 2^63 are rejected)
  std::vector<double> floats;        // float arrays
  std::size_t array_size() const;
};

struct TensorInfo {
  std::string name;
  std::vector<std::uint64_t> ne;   // ggml order: ne[0] is the contiguous (innermost) dimension
  std::uint32_t type = 0;
  std::uint64_t offset = 0;        // relative to the data section
  const std::byte* data = nullptr; // null when the type's size is unknown to this reader
  std::uint64_t nbytes = 0;
};

class File {
 public:
  static File open(const std::filesystem::path& path);
  // Parses an in-memory image; `owner` keeps the bytes alive (may be null for the fuzzer).
  static File parse(std::span<const std::byte> bytes, const std::string& name, std::shared_ptr<const void> owner);

  std::uint32_t version() const { return version_; }
  const std::string& name() const { return name_; }
  const std::map<std::string, Value>& metadata() const { return kv_; }
  const Value* find(const std::string& key) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(const std::string& name) const;
  // The bytes before the data section (header, metadata, descriptors): the file's identity.
  std::span<const std::byte> header_bytes() const { return header_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Typed metadata access with errors naming the key and the types.
  std::string get_string(const std::string& key) const;
  std::uint64_t get_uint(const std::string& key) const;
  std::optional<std::uint64_t> get_uint_opt(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::optional<double> get_float_opt(const std::string& key) const;

 private:
  std::string name_;
  std::uint32_t version_ = 0;
  std::map<std::string, Value> kv_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t> by_name_;
  std::span<const std::byte> header_;
  std::span<const std::byte> bytes_;
  std::shared_ptr<const void> owner_;
};

// Builds a GGUF v3 file in memory (tests and conversions).
class Writer {
 public:
  void add_string(const std::string& key, const std::string& v);
  void add_u32(const std::string& key, std::uint32_t v);
  void add_i32(const std::string& key, std::int32_t v);
  void add_f32(const std::string& key, float v);
  void add_bool(const std::string& key, bool v);
  void add_string_array(const std::string& key, const std::vector<std::string>& v);
  void add_i32_array(const std::string& key, const std::vector<std::int32_t>& v);
  // ne in ggml order; data must have the type's exact size.
  void add_tensor(const std::string& name, std::vector<std::uint64_t> ne, std::uint32_t type, std::vector<std::byte> data);
  std::vector<std::byte> finish(std::uint32_t alignment = 32) const;
  void write(const std::filesystem::path& path, std::uint32_t alignment = 32) const;

 private:
  struct KV {
    std::string key;
    std::vector<std::byte> encoded;  // type + value
  };
  struct T {
    std::string name;
    std::vector<std::uint64_t> ne;
    std::uint32_t type;
    std::vector<std::byte> data;
  };
  std::vector<KV> kv_;
  std::vector<T> tensors_;
};

// Bytes of a tensor of `type` with ne (nullopt if the type is unknown or the shape does not fit
// its blocks).
std::optional<std::uint64_t> tensor_nbytes(std::uint32_t type, const std::vector<std::uint64_t>& ne);

}  // namespace tribev2::text::gguf

#include "tribev2/io/torch_archive.hpp"

#include <cstring>
#include <unordered_map>

#include "tribev2/core/error.hpp"
#include "tribev2/io/zip.hpp"

namespace tribev2::io {

namespace {

using pickle::Kind;
using pickle::Value;
using pickle::ValuePtr;

struct Storage {
  DType dtype = DType::F32;
  std::shared_ptr<std::vector<std::byte>> bytes;
  std::int64_t numel = 0;
};

bool storage_dtype(const std::string& name, DType& out) {
  static const std::pair<const char*, DType> table[] = {
      {"FloatStorage", DType::F32}, {"DoubleStorage", DType::F64}, {"HalfStorage", DType::F16},
      {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16}, {"CharStorage", DType::I8}, {"ByteStorage", DType::U8},
      {"BoolStorage", DType::Bool}};
  for (const auto& [n, t] : table)
    if (name == n) {
      out = t;
      return true;
    }
  return false;
}

std::int64_t as_int(const ValuePtr& v, const std::string& what) {
  if (!v || (v->kind != Kind::Int && v->kind != Kind::Bool)) fail(what, " must be an int, got ", v ? v->describe() : "nothing");
  return v->kind == Kind::Bool ? (v->b ? 1 : 0) : v->i;
}

std::vector<std::int64_t> as_int_tuple(const ValuePtr& v, const std::string& what) {
  if (!v || (v->kind != Kind::Tuple && v->kind != Kind::List)) fail(what, " must be a tuple, got ", v ? v->describe() : "nothing");
  std::vector<std::int64_t> out;
  for (const auto& x : v->items) out.push_back(as_int(x, what));
  return out;
}

class TorchLoader {
 public:
  TorchLoader(const ZipReader& zip, std::string prefix, std::string source)
      : zip_(zip), prefix_(std::move(prefix)), src_(std::move(source)) {}

  ValuePtr persistent_load(pickle::Arena& arena, ValuePtr pid) {
    // ('storage', <global torch.XStorage>, key, location, numel)
    if (!pid || pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::String ||
        pid->items[0]->s != "storage")
      fail(src_, ": unsupported persistent id ", pid ? pid->describe() : "?", " (expected a torch storage)");
    const ValuePtr& type = pid->items[1];
    DType dt{};
    if (type->kind != Kind::Global || !storage_dtype(type->name, dt))
      fail(src_, ": unsupported storage type ", type->describe());
    const ValuePtr& key = pid->items[2];
    if (key->kind != Kind::String) fail(src_, ": storage key must be a string");
    const std::int64_t numel = as_int(pid->items[4], src_ + ": storage size");
    auto it = storages_.find(key->s);
    if (it == storages_.end()) {
      const std::string entry = prefix_ + "/data/" + key->s;
      Storage s;
      s.dtype = dt;
      s.numel = numel;
      s.bytes = std::make_shared<std::vector<std::byte>>(zip_.read(entry));
      const auto need = static_cast<std::uint64_t>(numel) * dtype_size(dt);
      if (numel < 0 || s.bytes->size() < need)
        fail(src_, ": storage '", entry, "' has ", s.bytes->size(), " bytes, its ", numel, " ",
             dtype_name(dt), " elements need ", need, " (truncated checkpoint?)");
      it = storages_.emplace(key->s, std::move(s)).first;
    }
    auto v = arena.make(Kind::External);
    v->external_type = "storage";
    v->external = std::make_shared<Storage>(it->second);
    return v;
  }

  ValuePtr call(pickle::Arena& arena, const std::string& module, const std::string& name, ValuePtr args) {
    if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor"))
      return rebuild_tensor(arena, args);
    if (module == "torch._utils" && (name == "_rebuild_parameter" || name == "_rebuild_parameter_with_state")) {
      if (args->items.empty()) fail(src_, ": _rebuild_parameter without arguments");
      return args->items[0];  // a Parameter is its tensor for inference
    }
    if (module == "collections" && name == "OrderedDict") return arena.make(Kind::Dict);
    return nullptr;  // anything else stays an opaque object: recorded, never run
  }

 private:
  ValuePtr rebuild_tensor(pickle::Arena& arena, ValuePtr args) {
    if (args->items.size() < 4) fail(src_, ": _rebuild_tensor_v2 expects at least 4 arguments, got ", args->items.size());
    const ValuePtr& st = args->items[0];
    if (st->kind != Kind::External || st->external_type != "storage")
      fail(src_, ": _rebuild_tensor_v2's first argument is not a storage (", st->describe(), ")");
    const auto& s = *static_cast<const Storage*>(st->external.get());
    const std::int64_t offset = as_int(args->items[1], src_ + ": storage offset");
    const auto size = as_int_tuple(args->items[2], src_ + ": tensor size");
    const auto stride = as_int_tuple(args->items[3], src_ + ": tensor stride");
    if (size.size() != stride.size()) fail(src_, ": tensor size and stride differ in length");
    Shape shape(size.begin(), size.end());
    const std::int64_t numel = shape_numel(shape);
    // The furthest element must lie inside the storage.
    std::int64_t last = offset;
    for (std::size_t d = 0; d < size.size(); ++d) {
      if (stride[d] < 0) fail(src_, ": negative tensor strides are not supported");
      if (size[d] > 0) last += (size[d] - 1) * stride[d];
    }
    if (offset < 0 || (numel > 0 && last >= s.numel))
      fail(src_, ": tensor of shape ", shape_str(shape), " at offset ", offset, " runs past its storage of ", s.numel, " elements");
    bool contiguous = true;
    std::int64_t expect = 1;
    for (std::size_t d = size.size(); d-- > 0;) {
      if (size[d] != 1 && stride[d] != expect) contiguous = false;
      expect *= size[d];
    }
    const std::size_t esz = dtype_size(s.dtype);
    const std::byte* base = s.bytes->data() + static_cast<std::size_t>(offset) * esz;
    Tensor t;
    if (contiguous) {
      t = Tensor::view(s.dtype, shape, base, s.bytes);
    } else {
      t = Tensor::empty(s.dtype, shape);
      auto* dst = static_cast<std::byte*>(t.raw_mut());
      std::vector<std::int64_t> idx(size.size(), 0);
      for (std::int64_t c = 0; c < numel; ++c) {
        std::int64_t off = 0;
        for (std::size_t d = 0; d < size.size(); ++d) off += idx[d] * stride[d];
        std::memcpy(dst + c * static_cast<std::int64_t>(esz), base + off * static_cast<std::int64_t>(esz), esz);
        for (std::size_t d = size.size(); d-- > 0;) {
          if (++idx[d] < size[d]) break;
          idx[d] = 0;
        }
      }
    }
    auto v = arena.make(Kind::External);
    v->external_type = "tensor";
    v->external = std::make_shared<Tensor>(std::move(t));
    return v;
  }

  const ZipReader& zip_;
  std::string prefix_;
  std::string src_;
  std::unordered_map<std::string, Storage> storages_;
};

}  // namespace

TorchArchive read_torch_archive(const std::filesystem::path& path) {
  const ZipReader zip(path);
  std::string pkl;
  for (const auto& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl" &&
        e.name.find('/', slash + 1) == std::string::npos) {
      pkl = e.name;
      break;
    }
  }
  if (pkl.empty())
    fail(path.string(), ": zip archive is not a PyTorch checkpoint (no <folder>/data.pkl entry)");
  TorchArchive out;
  out.prefix = pkl.substr(0, pkl.find('/'));
  const auto bytes = zip.read(pkl);
  TorchLoader loader(zip, out.prefix, path.string() + ":" + pkl);
  pickle::Hooks hooks;
  hooks.persistent_load = [&](pickle::Arena& a, ValuePtr pid) { return loader.persistent_load(a, pid); };
  hooks.call = [&](pickle::Arena& a, const std::string& m, const std::string& n, ValuePtr args) { return loader.call(a, m, n, args); };
  auto doc = pickle::unpickle(bytes, path.string() + ":" + pkl, hooks);
  out.arena = std::move(doc.arena);
  out.root = doc.root;
  return out;
}

const Tensor* as_tensor(pickle::ValuePtr v) {
  if (!v || v->kind != pickle::Kind::External || v->external_type != "tensor") return nullptr;
  return static_cast<const Tensor*>(v->external.get());
}

}  // namespace tribev2::io

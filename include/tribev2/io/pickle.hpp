// A restricted Python unpickler (protocols 0-5) for the subset PyTorch checkpoints use.
//
// It builds a tree of plain values and never executes anything: a GLOBAL is only a name, and
// calling it (REDUCE, NEWOBJ) asks the host's `call` hook, which may build a value for the
// names it knows (torch's tensor rebuild functions, OrderedDict); every other call becomes an
// opaque Object that records its class and arguments, so unknown Lightning entries load and
// can be ignored. Opcodes that only exist to run code we cannot model (INST, OBJ, the EXT
// registry, out-of-band buffers) are refused with a clear error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tribev2::io::pickle {

struct Value;
// Values live in an Arena and point at each other without owning (pickles can be cyclic:
// a list may contain itself), so the whole graph is freed with its arena.
using ValuePtr = Value*;

enum class Kind { None, Bool, Int, Float, String, Bytes, List, Tuple, Dict, Set, Global, Object, External };

struct Value {
  Kind kind = Kind::None;
  bool b = false;
  std::int64_t i = 0;
  double f = 0.0;
  std::string s;                                    // String, Bytes; Global: module
  std::string name;                                 // Global: qualified name
  std::vector<ValuePtr> items;                      // List, Tuple, Set
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;  // Dict, in insertion order
  ValuePtr cls, args, state;                        // Object: callable, arguments, BUILD state
  std::shared_ptr<const void> external;             // External: host object (e.g. a tensor)
  std::string external_type;                        // External: what `external` points to

  // Convenience accessors; they throw tribev2::Error naming `what` on a type mismatch.
  const ValuePtr* find(std::string_view key) const;  // Dict lookup by string key
  std::string describe() const;                       // short type description for errors
};

class Arena {
 public:
  ValuePtr make(Kind kind);
  ValuePtr make_int(std::int64_t v);
  ValuePtr make_string(std::string v);
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::unique_ptr<Value>> values_;
};

struct Hooks {
  // Resolves a persistent id (BINPERSID/PERSID); required if the pickle uses them.
  std::function<ValuePtr(Arena& arena, ValuePtr pid)> persistent_load;
  // Builds the result of calling `module.name(*args)`; return nullptr for an opaque Object.
  std::function<ValuePtr(Arena& arena, const std::string& module, const std::string& name, ValuePtr args)> call;
};

struct Document {
  std::shared_ptr<Arena> arena;  // owns every value
  ValuePtr root = nullptr;
};

// `source` names the stream in error messages (e.g. "best.ckpt:archive/data.pkl").
Document unpickle(std::span<const std::byte> data, const std::string& source, const Hooks& hooks);

}  // namespace tribev2::io::pickle

#include "tribev2/io/pickle.hpp"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "tribev2/core/error.hpp"

namespace tribev2::io::pickle {

namespace {

constexpr std::size_t kMaxStack = 1u << 20;
constexpr std::size_t kMaxMemo = 1u << 24;
constexpr std::size_t kMaxValues = 1u << 26;

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> data, const std::string& source, const Hooks& hooks, Arena& arena)
      : d_(data), src_(source), hooks_(hooks), arena_(arena) {}

  ValuePtr run() {
    for (;;) {
      const std::size_t at = pos_;
      const auto op = static_cast<unsigned char>(u8());
      if (op == '.') {  // STOP
        if (stack_.empty()) bad(at, "STOP with an empty stack");
        return stack_.back();
      }
      step(op, at);
    }
  }

 private:
  [[noreturn]] void bad(std::size_t at, const std::string& what) const {
    fail(src_, ": invalid pickle at byte ", at, ": ", what);
  }
  void need(std::size_t n) const {
    if (n > d_.size() - pos_) fail(src_, ": truncated pickle (needs ", n, " more bytes at byte ", pos_, ")");
  }
  std::byte u8() {
    need(1);
    return d_[pos_++];
  }
  std::uint64_t le(std::size_t n) {
    need(n);
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(d_[pos_ + k]) << (8 * k);
    pos_ += n;
    return v;
  }
  std::string bytes(std::uint64_t n) {
    if (n > d_.size() - pos_) fail(src_, ": truncated pickle (string of ", n, " bytes at byte ", pos_, ")");
    std::string s(reinterpret_cast<const char*>(d_.data() + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::string line() {
    const std::size_t start = pos_;
    while (pos_ < d_.size() && d_[pos_] != std::byte{'\n'}) ++pos_;
    if (pos_ >= d_.size()) fail(src_, ": truncated pickle (unterminated line at byte ", start, ")");
    std::string s(reinterpret_cast<const char*>(d_.data() + start), pos_ - start);
    ++pos_;
    return s;
  }

  void push(ValuePtr v) {
    if (stack_.size() >= kMaxStack) fail(src_, ": pickle stack too deep");
    stack_.push_back(v);
  }
  ValuePtr pop(std::size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      bad(at, "stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr& top(std::size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) bad(at, "stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark(std::size_t at) {
    if (marks_.empty()) bad(at, "no MARK on the stack");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void memo_put(std::uint64_t idx, std::size_t at) {
    if (idx >= kMaxMemo) bad(at, "memo index too large");
    memo_[idx] = top(at);
  }
  ValuePtr memo_get(std::uint64_t idx, std::size_t at) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) bad(at, "memo key " + std::to_string(idx) + " is not defined");
    return it->second;
  }

  ValuePtr make_tuple(std::vector<ValuePtr> items) {
    auto t = arena_.make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }

  ValuePtr call(const ValuePtr& callable, const ValuePtr& args, std::size_t at) {
    if (!args || args->kind != Kind::Tuple) bad(at, "call arguments must be a tuple, got " + (args ? args->describe() : "nothing"));
    if (callable->kind == Kind::Global && hooks_.call) {
      if (ValuePtr v = hooks_.call(arena_, callable->s, callable->name, args)) return v;
    }
    auto o = arena_.make(Kind::Object);
    o->cls = callable;
    o->args = args;
    return o;
  }

  void set_items(ValuePtr& target, std::vector<ValuePtr>& kv, std::size_t at) {
    if (kv.size() % 2) bad(at, "SETITEMS needs key/value pairs");
    if (target->kind == Kind::Dict) {
      for (std::size_t k = 0; k < kv.size(); k += 2) target->dict.emplace_back(kv[k], kv[k + 1]);
    } else if (target->kind == Kind::Object) {
      // e.g. a dict subclass we do not model: keep the items as its state.
      if (!target->state) target->state = arena_.make(Kind::Dict);
      if (target->state->kind == Kind::Dict)
        for (std::size_t k = 0; k < kv.size(); k += 2) target->state->dict.emplace_back(kv[k], kv[k + 1]);
    } else {
      bad(at, "SETITEM on a " + target->describe());
    }
  }

  void append_items(ValuePtr& target, std::vector<ValuePtr>& items, std::size_t at) {
    if (target->kind == Kind::List || target->kind == Kind::Set) {
      for (auto& v : items) target->items.push_back(v);
    } else if (target->kind == Kind::Object) {
      // list subclass we do not model: ignore contents.
    } else {
      bad(at, "APPEND on a " + target->describe());
    }
  }

  ValuePtr parse_int_text(const std::string& text, std::size_t at) {
    std::string t = text;
    if (!t.empty() && t.back() == 'L') t.pop_back();
    if (t == "00") return make_bool(false);
    if (t == "01") return make_bool(true);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || errno == ERANGE) bad(at, "bad integer literal '" + text + "'");
    return arena_.make_int(v);
  }
  ValuePtr make_bool(bool b) {
    auto v = arena_.make(Kind::Bool);
    v->b = b;
    return v;
  }
  ValuePtr long_bytes(std::uint64_t n, std::size_t at) {
    if (n > 8) bad(at, "integer wider than 64 bits");
    need(static_cast<std::size_t>(n));
    std::uint64_t u = 0;
    for (std::uint64_t k = 0; k < n; ++k) u |= static_cast<std::uint64_t>(d_[pos_ + k]) << (8 * k);
    if (n > 0 && n < 8 && (static_cast<unsigned>(d_[pos_ + n - 1]) & 0x80u)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    pos_ += static_cast<std::size_t>(n);
    return arena_.make_int(static_cast<std::int64_t>(u));
  }

  void step(unsigned char op, std::size_t at) {
    switch (op) {
      case 0x80: {  // PROTO
        const auto v = static_cast<unsigned>(u8());
        if (v > 5) bad(at, "unsupported pickle protocol " + std::to_string(v));
        return;
      }
      case 0x95: le(8); return;  // FRAME (framing is transparent here)
      case '(': marks_.push_back(stack_.size()); return;
      case '0': pop(at); return;
      case '1': pop_mark(at); return;
      case '2': push(top(at)); return;
      case 'N': push(arena_.make(Kind::None)); return;
      case 0x88: push(make_bool(true)); return;
      case 0x89: push(make_bool(false)); return;
      case 'I':  // INT (text; "00"/"01" are the protocol-0 booleans)
      case 'L':  // LONG (text, optional trailing L)
        push(parse_int_text(line(), at));
        return;
      case 'J': push(arena_.make_int(static_cast<std::int32_t>(static_cast<std::uint32_t>(le(4))))); return;
      case 'K': push(arena_.make_int(static_cast<std::int64_t>(le(1)))); return;
      case 'M': push(arena_.make_int(static_cast<std::int64_t>(le(2)))); return;
      case 0x8a: push(long_bytes(le(1), at)); return;
      case 0x8b: push(long_bytes(le(4), at)); return;
      case 'F': {
        const std::string t = line();
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || *end != '\0') bad(at, "bad float literal '" + t + "'");
        auto f = arena_.make(Kind::Float);
        f->f = v;
        push(f);
        return;
      }
      case 'G': {
        need(8);
        std::uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<std::uint64_t>(d_[pos_ + static_cast<std::size_t>(k)]);
        pos_ += 8;
        auto f = arena_.make(Kind::Float);
        f->f = std::bit_cast<double>(u);  // big-endian IEEE double
        push(f);
        return;
      }
      case 'X': push(arena_.make_string(bytes(le(4)))); return;
      case 0x8c: push(arena_.make_string(bytes(le(1)))); return;
      case 0x8d: push(arena_.make_string(bytes(le(8)))); return;
      case 'V': push(arena_.make_string(line())); return;  // raw-unicode-escape; ASCII in practice
      case 'S': {
        std::string t = line();
        if (t.size() >= 2 && (t.front() == '\'' || t.front() == '"') && t.back() == t.front()) t = t.substr(1, t.size() - 2);
        push(arena_.make_string(t));
        return;
      }
      case 'T': case 'B': { auto b = arena_.make(Kind::Bytes); b->s = bytes(le(4)); push(b); return; }
      case 'U': case 'C': { auto b = arena_.make(Kind::Bytes); b->s = bytes(le(1)); push(b); return; }
      case 0x8e: case 0x96: { auto b = arena_.make(Kind::Bytes); b->s = bytes(le(8)); push(b); return; }
      case ']': push(arena_.make(Kind::List)); return;
      case 'l': { auto l = arena_.make(Kind::List); l->items = pop_mark(at); push(l); return; }
      case ')': push(arena_.make(Kind::Tuple)); return;
      case 't': push(make_tuple(pop_mark(at))); return;
      case 0x85: { auto a = pop(at); push(make_tuple({a})); return; }
      case 0x86: { auto b = pop(at); auto a = pop(at); push(make_tuple({a, b})); return; }
      case 0x87: { auto c = pop(at); auto b = pop(at); auto a = pop(at); push(make_tuple({a, b, c})); return; }
      case '}': push(arena_.make(Kind::Dict)); return;
      case 'd': {
        auto kv = pop_mark(at);
        auto dct = arena_.make(Kind::Dict);
        set_items(dct, kv, at);
        push(dct);
        return;
      }
      case 0x8f: push(arena_.make(Kind::Set)); return;
      case 0x91: { auto s = arena_.make(Kind::Set); s->items = pop_mark(at); push(s); return; }
      case 0x90: { auto items = pop_mark(at); append_items(top(at), items, at); return; }
      case 'a': { auto v = pop(at); std::vector<ValuePtr> one{v}; append_items(top(at), one, at); return; }
      case 'e': { auto items = pop_mark(at); append_items(top(at), items, at); return; }
      case 's': { auto v = pop(at); auto k = pop(at); std::vector<ValuePtr> kv{k, v}; set_items(top(at), kv, at); return; }
      case 'u': { auto kv = pop_mark(at); set_items(top(at), kv, at); return; }
      case 'p': memo_put(static_cast<std::uint64_t>(parse_int_text(line(), at)->i), at); return;
      case 'q': memo_put(le(1), at); return;
      case 'r': memo_put(le(4), at); return;
      case 0x94: memo_put(memo_.size(), at); return;
      case 'g': push(memo_get(static_cast<std::uint64_t>(parse_int_text(line(), at)->i), at)); return;
      case 'h': push(memo_get(le(1), at)); return;
      case 'j': push(memo_get(le(4), at)); return;
      case 'c': {
        auto g = arena_.make(Kind::Global);
        g->s = line();
        g->name = line();
        push(g);
        return;
      }
      case 0x93: {
        auto name = pop(at);
        auto module = pop(at);
        if (module->kind != Kind::String || name->kind != Kind::String) bad(at, "STACK_GLOBAL needs two strings");
        auto g = arena_.make(Kind::Global);
        g->s = module->s;
        g->name = name->s;
        push(g);
        return;
      }
      case 'R': {
        auto args = pop(at);
        auto fn = pop(at);
        push(call(fn, args, at));
        return;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        auto args = pop(at);
        auto cls = pop(at);
        push(call(cls, args, at));
        return;
      }
      case 0x92: {  // NEWOBJ_EX: cls, args, kwargs
        pop(at);
        auto args = pop(at);
        auto cls = pop(at);
        push(call(cls, args, at));
        return;
      }
      case 'b': {  // BUILD: obj.__setstate__(state) -- recorded, never run
        auto state = pop(at);
        ValuePtr& obj = top(at);
        if (obj->kind == Kind::Object || obj->kind == Kind::External) obj->state = state;
        else if (obj->kind != Kind::Dict) bad(at, "BUILD on a " + obj->describe());
        return;
      }
      case 'Q': {
        auto pid = pop(at);
        if (!hooks_.persistent_load) bad(at, "persistent id without a loader");
        push(hooks_.persistent_load(arena_, pid));
        return;
      }
      case 'P': {
        if (!hooks_.persistent_load) bad(at, "persistent id without a loader");
        push(hooks_.persistent_load(arena_, arena_.make_string(line())));
        return;
      }
      case 'i': bad(at, "opcode INST is not supported (old-style class instantiation)");
      case 'o': bad(at, "opcode OBJ is not supported (old-style class instantiation)");
      case 0x82: case 0x83: case 0x84: bad(at, "extension-registry opcodes (EXT1/2/4) are not supported");
      case 0x97: case 0x98: bad(at, "out-of-band buffers (protocol 5) are not supported");
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        bad(at, std::string("unknown opcode ") + hex);
      }
    }
  }

  std::span<const std::byte> d_;
  std::string src_;
  const Hooks& hooks_;
  Arena& arena_;
  std::size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr Arena::make(Kind kind) {
  if (values_.size() >= kMaxValues) fail("pickle: more than ", kMaxValues, " values (not a checkpoint?)");
  values_.push_back(std::make_unique<Value>());
  values_.back()->kind = kind;
  return values_.back().get();
}
ValuePtr Arena::make_int(std::int64_t v) {
  auto p = make(Kind::Int);
  p->i = v;
  return p;
}
ValuePtr Arena::make_string(std::string v) {
  auto p = make(Kind::String);
  p->s = std::move(v);
  return p;
}

const ValuePtr* Value::find(std::string_view key) const {
  if (kind != Kind::Dict) return nullptr;
  for (const auto& [k, v] : dict)
    if (k && k->kind == Kind::String && k->s == key) return &v;
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
    case Kind::Set: return "set";
    case Kind::Global: return "global " + s + "." + name;
    case Kind::Object: return "object " + (cls && cls->kind == Kind::Global ? cls->s + "." + cls->name : std::string("?"));
    case Kind::External: return external_type;
  }
  return "?";
}

Document unpickle(std::span<const std::byte> data, const std::string& source, const Hooks& hooks) {
  Document doc;
  doc.arena = std::make_shared<Arena>();
  doc.root = Unpickler(data, source, hooks, *doc.arena).run();
  return doc;
}

}  // namespace tribev2::io::pickle

// The restricted unpickler on pickles written by CPython (protocols 0, 2 and 4), unknown
// classes (recorded, never run), and malformed streams.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/io/pickle.hpp"

using namespace tribev2;
using namespace tribev2::io::pickle;

namespace {
template <std::size_t N>
std::span<const std::byte> bytes(const char (&s)[N]) {
  return {reinterpret_cast<const std::byte*>(s), N - 1};
}
// The document keeps its arena alive for the duration of the test.
Document g_doc;
ValuePtr load(std::span<const std::byte> b) {
  g_doc = unpickle(b, "test.pkl", Hooks{});
  return g_doc.root;
}

// pickle.dumps({'a':1,'b':[2.5,True,None,-1],'c':(1,2,3),'big':2**40,'neg':-300000,'s':'hé'}, protocol=2)
const char kP2[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x4b\x01\x58\x01\x00\x00\x00\x62\x71\x02\x5d\x71\x03\x28\x47\x40\x04\x00\x00\x00\x00\x00\x00\x88\x4e\x4a\xff\xff\xff\xff\x65\x58\x01\x00\x00\x00\x63\x71\x04\x4b\x01\x4b\x02\x4b\x03\x87\x71\x05\x58\x03\x00\x00\x00\x62\x69\x67\x71\x06\x8a\x06\x00\x00\x00\x00\x00\x01\x58\x03\x00\x00\x00\x6e\x65\x67\x71\x07\x4a\x20\x6c\xfb\xff\x58\x01\x00\x00\x00\x73\x71\x08\x58\x03\x00\x00\x00\x68\xc3\xa9\x71\x09\x75\x2e";
// pickle.dumps({'a':1,'b':[2.5,True,None,-1],'c':(1,2,3),'st':{1,2},'by':b'xy'}, protocol=4)
const char kP4[] =
    "\x80\x04\x95\x46\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x61\x94\x4b\x01\x8c\x01\x62\x94\x5d\x94\x28\x47\x40\x04\x00\x00\x00\x00\x00\x00\x88\x4e\x4a\xff\xff\xff\xff\x65\x8c\x01\x63\x94\x4b\x01\x4b\x02\x4b\x03\x87\x94\x8c\x02\x73\x74\x94\x8f\x94\x28\x4b\x01\x4b\x02\x90\x8c\x02\x62\x79\x94\x43\x02\x78\x79\x94\x75\x2e";
// pickle.dumps({'a':1,'b':[2.5,True,None,-1],'c':(1,2,3)}, protocol=0)
const char kP0[] =
    "\x28\x64\x70\x30\x0a\x56\x61\x0a\x70\x31\x0a\x49\x31\x0a\x73\x56\x62\x0a\x70\x32\x0a\x28\x6c\x70\x33\x0a\x46\x32\x2e\x35\x0a\x61\x49\x30\x31\x0a\x61\x4e\x61\x49\x2d\x31\x0a\x61\x73\x56\x63\x0a\x70\x34\x0a\x28\x49\x31\x0a\x49\x32\x0a\x49\x33\x0a\x74\x70\x35\x0a\x73\x2e";
// pickle.dumps({'p': pathlib.PurePosixPath('/a/b'), 'k': 3}, protocol=2)
const char kPath[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x70\x71\x01\x63\x70\x61\x74\x68\x6c\x69\x62\x0a\x50\x75\x72\x65\x50\x6f\x73\x69\x78\x50\x61\x74\x68\x0a\x71\x02\x58\x01\x00\x00\x00\x2f\x71\x03\x58\x01\x00\x00\x00\x61\x71\x04\x58\x01\x00\x00\x00\x62\x71\x05\x87\x71\x06\x52\x71\x07\x58\x01\x00\x00\x00\x6b\x71\x08\x4b\x03\x75\x2e";

void check_common(ValuePtr v) {
  ASSERT_EQ(v->kind, Kind::Dict);
  EXPECT_EQ((*v->find("a"))->i, 1);
  const ValuePtr b = *v->find("b");
  ASSERT_EQ(b->kind, Kind::List);
  ASSERT_EQ(b->items.size(), 4u);
  EXPECT_EQ(b->items[0]->f, 2.5);
  EXPECT_TRUE(b->items[1]->b);
  EXPECT_EQ(b->items[2]->kind, Kind::None);
  EXPECT_EQ(b->items[3]->i, -1);
  const ValuePtr c = *v->find("c");
  ASSERT_EQ(c->kind, Kind::Tuple);
  EXPECT_EQ(c->items[2]->i, 3);
}
}  // namespace

TEST(Pickle, Protocol2) {
  const auto v = load(bytes(kP2));
  check_common(v);
  EXPECT_EQ((*v->find("big"))->i, std::int64_t{1} << 40);
  EXPECT_EQ((*v->find("neg"))->i, -300000);
  EXPECT_EQ((*v->find("s"))->s, "h\xc3\xa9");
}

TEST(Pickle, Protocol4FramesSetsBytes) {
  const auto v = load(bytes(kP4));
  check_common(v);
  EXPECT_EQ((*v->find("st"))->kind, Kind::Set);
  EXPECT_EQ((*v->find("st"))->items.size(), 2u);
  EXPECT_EQ((*v->find("by"))->s, "xy");
}

TEST(Pickle, Protocol0Text) { check_common(load(bytes(kP0))); }

TEST(Pickle, UnknownClassesAreRecordedNotRun) {
  const auto v = load(bytes(kPath));
  const ValuePtr p = *v->find("p");
  ASSERT_EQ(p->kind, Kind::Object);
  EXPECT_EQ(p->cls->s, "pathlib");
  EXPECT_EQ(p->cls->name, "PurePosixPath");
  EXPECT_EQ(p->args->items.size(), 3u);
  EXPECT_EQ((*v->find("k"))->i, 3);
}

TEST(Pickle, HookBuildsKnownCalls) {
  Hooks h;
  h.call = [](Arena& a, const std::string& m, const std::string& n, ValuePtr) -> ValuePtr {
    if (m == "pathlib" && n == "PurePosixPath") return a.make_string("a path");
    return nullptr;
  };
  const auto doc = unpickle(bytes(kPath), "t", h);
  EXPECT_EQ((*doc.root->find("p"))->s, "a path");
}

TEST(Pickle, CyclesAreFreedWithTheArena) {
  // l = []; l.append(l); pickle.dumps(l, 2): a list containing itself (leaks with refcounts).
  const auto v = load(bytes("\x80\x02]q\x00" "h\x00" "a."));
  ASSERT_EQ(v->kind, Kind::List);
  ASSERT_EQ(v->items.size(), 1u);
  EXPECT_EQ(v->items[0], v);
}

TEST(Pickle, MalformedStreamsAreErrors) {
  const std::string p2(kP2, sizeof kP2 - 1);
  for (std::size_t cut : {std::size_t{1}, std::size_t{5}, std::size_t{30}, p2.size() - 1}) {
    const std::string s = p2.substr(0, cut);
    EXPECT_THROW(unpickle({reinterpret_cast<const std::byte*>(s.data()), s.size()}, "t", Hooks{}), Error) << cut;
  }
  EXPECT_THROW_MSG(load(bytes("\x80\x02(i__main__\nX\n.")), "opcode INST is not supported");
  EXPECT_THROW_MSG(load(bytes("\x80\x02\x82\x01.")), "EXT1/2/4");
  EXPECT_THROW_MSG(load(bytes("\x80\x02h\x05.")), "memo key 5 is not defined");
  EXPECT_THROW_MSG(load(bytes("\x80\x02\xff.")), "unknown opcode 0xff");
  EXPECT_THROW_MSG(load(bytes("\x80\x09N.")), "unsupported pickle protocol 9");
  EXPECT_THROW_MSG(load(bytes("\x80\x02s.")), "stack underflow");
  EXPECT_THROW_MSG(load(bytes("\x80\x02N\x8a\x09\x01\x01\x01\x01\x01\x01\x01\x01\x01.")), "wider than 64 bits");
  EXPECT_THROW_MSG(load(bytes("\x80\x02Q.")), "stack underflow");
  EXPECT_THROW_MSG(load(bytes("\x80\x02NQ.")), "persistent id without a loader");
}

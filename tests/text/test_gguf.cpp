// GGUF: the tiny model written in llama.cpp's layout (names, permuted q/k, rope_freqs,
// llama-bpe vocabulary) and read back must give the HuggingFace forward; Q8_0 warns; corrupt
// and mismatched files give clear errors and never crash.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "support/test_support.hpp"
#include "tribev2/features/text/gguf.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::text;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fixture("text_features/tiny-llama");

std::vector<std::int32_t> fixture_ids() {
  return json::parse(io::read_text_file(fixture("text_features/llama_hidden_states.json")))["ids"].get<std::vector<std::int32_t>>();
}

double worst_state_rel(const Tensor& got, const Tensor& want) {
  const std::int64_t S = want.dim(0), n = want.dim(1) * want.dim(2);
  double worst = 0;
  for (std::int64_t s = 0; s < S; ++s) {
    const auto off = static_cast<std::size_t>(s * n), len = static_cast<std::size_t>(n);
    worst = std::max(worst, max_rel_diff(got.f32().subspan(off, len), want.f32().subspan(off, len)));
  }
  return worst;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> b(s.size());
  std::memcpy(b.data(), s.data(), s.size());
  return b;
}

gguf::File parse(const std::vector<std::byte>& b) { return gguf::File::parse(b, "test.gguf", nullptr); }

// A small valid GGUF: two metadata keys and two F32 tensors.
gguf::Writer small_writer() {
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_u32("answer", 42);
  std::vector<std::byte> a(4 * 8), b(4 * 3);
  w.add_tensor("a", {8}, 0, a);
  w.add_tensor("b", {3}, 0, b);
  return w;
}

}  // namespace

TEST(Gguf, ConvertedTinyModelMatchesTheHuggingFaceForward) {
  TempDir tmp;
  const Context ctx(2);
  const auto ids = fixture_ids();
  const Tensor want = io::read_npy(fixture("text_features/llama_hidden_states.npy"));
  const Tensor hf = LlamaModel::load(kDir).hidden_states(ctx, ids);
  for (const auto type : {WeightType::F32, WeightType::BF16, WeightType::F16}) {
    const fs::path p = tmp / (std::string("tiny-") + weight_type_name(type) + ".gguf");
    write_llama_gguf(kDir, p, type);
    std::vector<std::string> warnings;
    LlamaLoadOptions o;
    o.warn = [&](const std::string& s) { warnings.push_back(s); };
    const LlamaModel g = LlamaModel::load(p, o);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(g.weights().rope_layout, RopeLayout::Interleaved);
    const Tensor got = g.hidden_states(ctx, ids);
    const double vs_hf = worst_state_rel(got, hf), vs_fixture = worst_state_rel(got, want);
    std::cout << "[ gguf " << weight_type_name(type) << " ] vs HF forward " << vs_hf << ", vs fixture " << vs_fixture << "\n";
    EXPECT_LE(vs_fixture, 1e-4) << weight_type_name(type);
    EXPECT_LE(vs_hf, 1e-4) << weight_type_name(type);
    // The GGUF vocabulary tokenizes like tokenizer.json.
    const json cases = json::parse(io::read_text_file(fixture("text_features/tokenizer_cases.json")));
    for (const auto& c : cases)
      EXPECT_EQ(g.tokenizer().encode(c["text"].get<std::string>()), c["ids"].get<std::vector<std::int32_t>>()) << c["text"];
  }
}

TEST(Gguf, Q8_0WarnsAndStaysClose) {
  TempDir tmp;
  const Context ctx(2);
  const fs::path p = tmp / "tiny-q8.gguf";
  write_llama_gguf(kDir, p, WeightType::Q8_0);
  std::vector<std::string> warnings;
  LlamaLoadOptions o;
  o.warn = [&](const std::string& s) { warnings.push_back(s); };
  const LlamaModel g = LlamaModel::load(p, o);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Q8_0-quantised weights: the text features will differ from upstream"), std::string::npos);
  const auto ids = fixture_ids();
  const Tensor want = io::read_npy(fixture("text_features/llama_hidden_states.npy"));
  const double rel = worst_state_rel(g.hidden_states(ctx, ids), want);
  std::cout << "[ gguf Q8_0 ] vs fixture " << rel << "\n";
  EXPECT_GT(rel, 1e-6);  // quantisation does change the states...
  EXPECT_LT(rel, 0.1);   // ...by about its resolution
  LlamaLoadOptions b;
  b.compute = LlamaCompute::BF16;
  b.warn = o.warn;
  EXPECT_THROW_MSG(LlamaModel::load(p, b), "bf16 compute needs F32/F16/BF16 weights, not Q8_0");
}

TEST(Gguf, TokenizerOverrideAndMissingVocabulary) {
  TempDir tmp;
  const fs::path p = tmp / "tiny.gguf";
  write_llama_gguf(kDir, p, WeightType::F32);
  // Rewrite the file with tokenizer.ggml.pre set to something we cannot honour.
  const gguf::File f = gguf::File::open(p);
  gguf::Writer w;
  for (const auto& [k, v] : f.metadata()) {
    if (k == "tokenizer.ggml.pre") w.add_string(k, "qwen2");
    else if (v.type == gguf::ValueType::String) w.add_string(k, v.s);
    else if (v.type == gguf::ValueType::U32) w.add_u32(k, static_cast<std::uint32_t>(v.u));
    else if (v.type == gguf::ValueType::F32) w.add_f32(k, static_cast<float>(v.f));
    else if (v.elem == gguf::ValueType::String) w.add_string_array(k, v.strings);
    else {
      std::vector<std::int32_t> ints(v.ints.begin(), v.ints.end());
      w.add_i32_array(k, ints);
    }
  }
  for (const auto& t : f.tensors()) {
    std::vector<std::byte> data(t.data, t.data + t.nbytes);
    w.add_tensor(t.name, t.ne, t.type, data);
  }
  const fs::path q = tmp / "noqwen.gguf";
  w.write(q);
  EXPECT_THROW_MSG(LlamaModel::load(q), "tokenizer.ggml.pre is 'qwen2', not Llama 3's 'llama-bpe'); pass the model's tokenizer.json");
  LlamaLoadOptions o;
  o.tokenizer = kDir / "tokenizer.json";
  const LlamaModel m = LlamaModel::load(q, o);
  EXPECT_EQ(m.tokenizer().encode("Hello world"), (std::vector<std::int32_t>{182, 86, 363, 363, 372, 189, 372, 19, 363, 309}));
}

TEST(Gguf, ReaderRoundTrip) {
  gguf::Writer w = small_writer();
  w.add_f32("pi", 3.5f);
  w.add_bool("flag", true);
  w.add_i32_array("ints", {1, -2, 3});
  w.add_string_array("strs", {"x", "", "yz"});
  for (const std::uint32_t align : {32u, 64u}) {
    const auto b = w.finish(align);
    const gguf::File f = parse(b);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_uint("answer"), 42u);
    EXPECT_DOUBLE_EQ(f.get_float("pi"), 3.5);
    EXPECT_EQ(f.find("flag")->i, 1);
    EXPECT_EQ(f.find("ints")->ints, (std::vector<std::int64_t>{1, -2, 3}));
    EXPECT_EQ(f.find("strs")->strings, (std::vector<std::string>{"x", "", "yz"}));
    ASSERT_EQ(f.tensors().size(), 2u);
    EXPECT_EQ(f.tensor("b")->nbytes, 12u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.tensor("b")->data) - reinterpret_cast<std::uintptr_t>(b.data()), b.size() - align);
    EXPECT_THROW_MSG(f.get_uint("pi"), "metadata 'pi' must be an integer, got FLOAT32");
    EXPECT_THROW_MSG(f.get_string("nothing"), "missing metadata 'nothing'");
  }
}

TEST(Gguf, CorruptFilesGiveClearErrors) {
  const auto good = small_writer().finish();
  auto patched = [&](std::size_t at, const void* v, std::size_t n) {
    auto b = good;
    std::memcpy(b.data() + at, v, n);
    return b;
  };
  EXPECT_THROW_MSG(parse(bytes_of("GGML....")), "not a GGUF file (no 'GGUF' magic)");
  EXPECT_THROW_MSG(parse(bytes_of("GG")), "not a GGUF file");
  const std::uint32_t v1 = 1, v9 = 9, vbe = 0x03000000;
  EXPECT_THROW_MSG(parse(patched(4, &v1, 4)), "GGUF version 1 is not supported");
  EXPECT_THROW_MSG(parse(patched(4, &v9, 4)), "unsupported GGUF version 9");
  EXPECT_THROW_MSG(parse(patched(4, &vbe, 4)), "big-endian GGUF files are not supported");
  const std::uint64_t huge = 1ull << 60;
  EXPECT_THROW_MSG(parse(patched(8, &huge, 8)), "tensor count 1152921504606846976 does not fit in the file");
  EXPECT_THROW_MSG(parse(patched(16, &huge, 8)), "metadata count 1152921504606846976 does not fit in the file");
  // The first key's length.
  EXPECT_THROW_MSG(parse(patched(24, &huge, 8)), "metadata key has length 1152921504606846976");
  // The first value's type (after the 8-byte length and "general.architecture").
  const std::uint32_t bad_type = 77, array = 9;
  EXPECT_THROW_MSG(parse(patched(24 + 8 + 20, &bad_type, 4)), "unknown value type 77");
  {  // an array of arrays
    auto b = patched(24 + 8 + 20, &array, 4);
    std::memcpy(b.data() + 24 + 8 + 20 + 4, &array, 4);
    EXPECT_THROW_MSG(parse(b), "nested arrays are not supported");
  }
  // Every truncation before the end of the last tensor's data fails cleanly (the padding after
  // it is optional).
  const gguf::File whole = parse(good);
  const auto data_end = static_cast<std::size_t>(whole.tensor("b")->data + whole.tensor("b")->nbytes - good.data());
  for (std::size_t n = 0; n < data_end; n += 3) {
    std::vector<std::byte> t(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse(t), Error) << "truncated to " << n;
  }
  {  // a tensor beyond the end, a misaligned offset, a bad dimension count, an odd Q8_0 shape
    gguf::Writer w = small_writer();
    auto b = w.finish();
    const gguf::File f = parse(b);
    // Locate tensor 'b' descriptor: name length(8) + "b" + n_dims(4) + ne(8) + type(4) + offset(8) at the end of the header.
    const std::size_t off_pos = f.header_bytes().size() - 8;
    const std::uint64_t far = 1 << 20, odd = 33;
    EXPECT_THROW_MSG(parse(patched(off_pos, &far, 8)), "extends past the end of the file");
    EXPECT_THROW_MSG(parse(patched(off_pos, &odd, 8)), "offset 33 is not aligned to 32");
    const std::uint32_t dims = 7, q8 = 8, q4k = 12;
    EXPECT_THROW_MSG(parse(patched(off_pos - 4 - 8 - 4, &dims, 4)), "has 7 dimensions (1 to 4 allowed)");
    EXPECT_THROW_MSG(parse(patched(off_pos - 4, &q8, 4)), "has ne[0] = 3, not a multiple of its block size");
    EXPECT_THROW_MSG(parse(patched(off_pos - 4, &q4k, 4)), "has ne[0] = 3, not a multiple of its block size");
  }
  {
    gguf::Writer w = small_writer();
    w.add_u32("answer", 43);
    EXPECT_THROW_MSG(parse(w.finish()), "duplicate metadata 'answer'");
  }
}

TEST(Gguf, MismatchedModelsGiveClearErrors) {
  TempDir tmp;
  {
    gguf::Writer w = small_writer();
    w.add_u32("llama.embedding_length", 64);
    w.write(tmp / "partial.gguf");
    EXPECT_THROW_MSG(LlamaModel::load(tmp / "partial.gguf"), "missing metadata 'llama.feed_forward_length'");
  }
  {
    gguf::Writer w;
    w.add_string("general.architecture", "gpt2");
    w.write(tmp / "gpt2.gguf");
    EXPECT_THROW_MSG(LlamaModel::load(tmp / "gpt2.gguf"), "general.architecture is 'gpt2'; only 'llama'");
  }
  {  // A quantisation type we do not read, for a used tensor.
    write_llama_gguf(kDir, tmp / "ok.gguf", WeightType::F32);
    const gguf::File f = gguf::File::open(tmp / "ok.gguf");
    auto b = std::vector<std::byte>(f.bytes().begin(), f.bytes().end());
    // Find the descriptor of blk.0.attn_q.weight and set its type to Q4_0 (2): F32 [64, 64]
    // = 16384 bytes; Q4_0 needs 2304, so the layout stays inside the file.
    const std::string name = "blk.0.attn_q.weight";
    const auto* hdr = reinterpret_cast<const char*>(b.data());
    const std::string_view all(hdr, f.header_bytes().size());
    const auto at = all.find(name);
    ASSERT_NE(at, std::string::npos);
    const std::uint32_t q4 = 2;
    std::memcpy(b.data() + at + name.size() + 4 + 16, &q4, 4);
    io::write_file_atomic(tmp / "q4.gguf", b);
    EXPECT_THROW_MSG(LlamaModel::load(tmp / "q4.gguf"),
                     "tensor 'blk.0.attn_q.weight' has type Q4_0; supported GGUF tensor types are F32, F16, BF16 and Q8_0");
  }
}

TEST(Gguf, RandomCorruptionNeverCrashes) {
  TempDir tmp;
  write_llama_gguf(kDir, tmp / "ok.gguf", WeightType::Q8_0);
  const gguf::File f = gguf::File::open(tmp / "ok.gguf");
  const std::vector<std::byte> good(f.bytes().begin(), f.bytes().begin() + static_cast<std::ptrdiff_t>(f.header_bytes().size()));
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int trial = 0; trial < 400; ++trial) {
    auto b = good;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) b[rng() % b.size()] = static_cast<std::byte>(rng());
    try {
      parse(b);
      ++parsed;
    } catch (const Error&) {
    }
  }
  SUCCEED() << parsed << " of 400 mutated headers still parsed";
}

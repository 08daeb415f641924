// The Llama forward pass against the fixture's 29 hidden states, the scaled RoPE frequencies,
// the key/value cache, the bf16 mode, and errors for broken checkpoints and configs.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::text;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fixture("text_features/tiny-llama");

json hs_json() { return json::parse(io::read_text_file(fixture("text_features/llama_hidden_states.json"))); }

// max|got - want| / max|want| of state s.
double state_rel(const Tensor& got, const Tensor& want, std::int64_t s) {
  const std::int64_t n = want.dim(1) * want.dim(2);
  const auto off = static_cast<std::size_t>(s * n), len = static_cast<std::size_t>(n);
  return max_rel_diff(got.f32().subspan(off, len), want.f32().subspan(off, len));
}

// Copy of the tiny model folder (for corrupt variants).
fs::path copy_model(const TempDir& tmp) {
  const fs::path d = tmp / "llama";
  fs::create_directories(d);
  for (const auto& e : fs::directory_iterator(kDir)) fs::copy_file(e.path(), d / e.path().filename());
  return d;
}

}  // namespace

TEST(Llama, ConfigOfTheFixture) {
  const LlamaConfig c = read_llama_config(kDir / "config.json");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.n_layers, 28);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_hidden_states(), 29);
  EXPECT_EQ(c.rope_scaling.type, RopeScalingType::Llama3);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(Llama, ScaledRopeFrequencies) {
  const auto inv = rope_inv_freq(read_llama_config(kDir / "config.json"));
  const auto want = hs_json()["inv_freq"].get<std::vector<double>>();
  ASSERT_EQ(inv.size(), want.size());
  for (std::size_t i = 0; i < inv.size(); ++i) EXPECT_NEAR(inv[i], want[i], 2e-7 * want[i]) << i;
}

TEST(Llama, All29HiddenStatesMatchTheFixture) {
  const LlamaModel m = LlamaModel::load(kDir);
  const Context ctx(2);
  const auto ids = hs_json()["ids"].get<std::vector<std::int32_t>>();
  const Tensor want = io::read_npy(fixture("text_features/llama_hidden_states.npy"));
  ASSERT_EQ(want.shape(), (Shape{29, static_cast<std::int64_t>(ids.size()), 64}));
  const Tensor got = m.hidden_states(ctx, ids);
  double worst = 0;
  for (std::int64_t s = 0; s < 29; ++s) {
    const double r = state_rel(got, want, s);
    worst = std::max(worst, r);
    EXPECT_LE(r, 1e-4) << "hidden state " << s;
  }
  RecordProperty("max_rel_diff", std::to_string(worst));
  std::cout << "[ hidden states ] worst max|diff|/max|expected| over 29 states: " << worst << "\n";
}

TEST(Llama, KvCacheContinuationEqualsOnePass) {
  const LlamaModel m = LlamaModel::load(kDir);
  const Context ctx(2);
  const auto ids = hs_json()["ids"].get<std::vector<std::int32_t>>();
  const Tensor full = m.hidden_states(ctx, ids);
  // Feed 1, 7, then the rest: every state of every position must agree.
  Tensor pieces = Tensor::zeros(DType::F32, full.shape());
  KvCache cache;
  const std::int64_t T = full.dim(1), H = 64;
  std::size_t at = 0;
  for (std::size_t len : {std::size_t{1}, std::size_t{7}, ids.size() - 8}) {
    m.forward(ctx, std::span<const std::int32_t>(ids.data() + at, len), cache, [&](int s, std::int64_t p0, const float* r, std::int64_t n) {
      std::copy(r, r + n * H, pieces.data<float>() + (s * T + p0) * H);
    });
    at += len;
  }
  EXPECT_EQ(cache.size(), T);
  EXPECT_LE(max_rel_diff(pieces, full), 1e-5);
  // Truncating and re-running the tail reproduces it too.
  cache.truncate(20);
  Tensor tail = Tensor::zeros(DType::F32, full.shape());
  m.forward(ctx, std::span<const std::int32_t>(ids.data() + 20, ids.size() - 20), cache,
            [&](int s, std::int64_t p0, const float* r, std::int64_t n) {
              std::copy(r, r + n * H, tail.data<float>() + (s * T + p0) * H);
            });
  const float* a = tail.data<float>();
  const float* b = full.data<float>();
  MaxDiff d;
  for (std::int64_t s = 0; s < 29; ++s)
    for (std::int64_t t = 20; t < T; ++t)
      for (std::int64_t h = 0; h < H; ++h) d.add(a[(s * T + t) * H + h], b[(s * T + t) * H + h]);
  EXPECT_LE(d.abs(), 1e-4);
}

TEST(Llama, Bf16ModeStaysCloseToFloat32) {
  // The bf16 emulation rounds every stored activation: the states move by about bf16's
  // resolution (2^-8 relative) per operation, not more.
  const Context ctx(2);
  const auto ids = hs_json()["ids"].get<std::vector<std::int32_t>>();
  const Tensor f32 = LlamaModel::load(kDir).hidden_states(ctx, ids);
  LlamaLoadOptions o;
  o.compute = LlamaCompute::BF16;
  const Tensor b16 = LlamaModel::load(kDir, o).hidden_states(ctx, ids);
  EXPECT_EQ(max_rel_diff(b16, f32) > 0, true);
  for (std::int64_t s = 0; s < 29; ++s) EXPECT_LE(state_rel(b16, f32, s), 0.1) << s;
  // Every value is a bf16 number.
  for (const float v : b16.f32()) ASSERT_EQ(v, bf16_to_f32(f32_to_bf16(v)));
}

TEST(Llama, Bf16ProductsStayCloseToFloat32) {
  // --precision bf16 (the Context's precision): every GEMM takes bf16 products with float32
  // accumulation in core's bf16 kernels; activations stay float32. The states move by about
  // bf16's resolution per product (2^-8 relative on each operand): the same bound as the
  // emulation above, per layer (measured 9.2e-3 of max|state| on the tiny model).
  const auto ids = hs_json()["ids"].get<std::vector<std::int32_t>>();
  const auto model = LlamaModel::load(kDir);
  const Tensor f32 = model.hidden_states(Context(2), ids);
  const Tensor b16 = model.hidden_states(Context(2, Precision::BF16), ids);
  EXPECT_GT(max_rel_diff(b16, f32), 0.0) << "the precision must reach the GEMMs";
  double worst = 0.0;
  for (std::int64_t s = 0; s < 29; ++s) {
    EXPECT_LE(state_rel(b16, f32, s), 0.1) << s;
    worst = std::max(worst, state_rel(b16, f32, s));
  }
  std::printf("[ measured ] Llama --precision bf16 vs f32: worst layer %.3g of max|state|\n", worst);
}

TEST(Llama, BrokenCheckpointsGiveClearErrors) {
  {
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    fs::remove(d / "model-00002-of-00002.safetensors");
    EXPECT_THROW_MSG(LlamaModel::load(d), "shard 'model-00002-of-00002.safetensors' is missing");
  }
  {  // a tensor in the wrong dtype
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    const auto st = io::SafetensorsFile::open(kDir / "model-00002-of-00002.safetensors");
    std::vector<std::pair<std::string, Tensor>> ts;
    std::string changed;
    for (const auto& n : st.names()) {
      Tensor t = st.get(n).clone();
      if (changed.empty() && n.find("proj") != std::string::npos) {
        t = t.to(DType::F64);
        changed = n;
      }
      ts.emplace_back(n, t);
    }
    io::write_safetensors(d / "model-00002-of-00002.safetensors", ts);
    EXPECT_THROW_MSG(LlamaModel::load(d), "'" + changed + "' has dtype F64; expected F32, F16 or BF16");
  }
  {  // wrong shape vs config
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    json c = json::parse(io::read_text_file(d / "config.json"));
    c["intermediate_size"] = 128;
    io::write_text_file_atomic(d / "config.json", c.dump());
    EXPECT_THROW_MSG(LlamaModel::load(d), "has shape [96, 64], expected [128, 64] from config.json");
  }
  {  // index naming a tensor that the shard lacks
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    json idx = json::parse(io::read_text_file(d / "model.safetensors.index.json"));
    idx["weight_map"]["model.norm.weight"] = idx["weight_map"]["model.norm.weight"] == "model-00001-of-00002.safetensors"
                                                 ? "model-00002-of-00002.safetensors"
                                                 : "model-00001-of-00002.safetensors";
    io::write_text_file_atomic(d / "model.safetensors.index.json", idx.dump());
    EXPECT_THROW_MSG(LlamaModel::load(d), "tensor 'model.norm.weight' is not in this shard although the index lists it there");
  }
  {
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    fs::remove(d / "tokenizer.json");
    EXPECT_THROW_MSG(LlamaModel::load(d), "tokenizer.json: missing");
  }
  {  // a tokenizer.json of another type
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    json t = json::parse(io::read_text_file(d / "tokenizer.json"));
    t["model"]["type"] = "WordPiece";
    io::write_text_file_atomic(d / "tokenizer.json", t.dump());
    EXPECT_THROW_MSG(LlamaModel::load(d), "only byte-level BPE (Llama 3) tokenizers are supported");
  }
  {  // a truncated shard
    TempDir tmp;
    const fs::path d = copy_model(tmp);
    const std::string bytes = read_bytes(d / "model-00001-of-00002.safetensors");
    write_bytes(d / "model-00001-of-00002.safetensors", bytes.substr(0, bytes.size() / 2));
    EXPECT_THROW_MSG(LlamaModel::load(d), "model-00001-of-00002.safetensors");
  }
  EXPECT_THROW_MSG(LlamaModel::load("/nonexistent/llama"), "no such Llama checkpoint folder or GGUF file");
}

TEST(Llama, UnsupportedConfigsGiveClearErrors) {
  const json base = json::parse(io::read_text_file(kDir / "config.json"));
  auto expect = [&](const std::function<void(json&)>& edit, const std::string& msg) {
    json c = base;
    edit(c);
    EXPECT_THROW_MSG(parse_llama_config(c.dump(), "config.json"), msg);
  };
  expect([](json& c) { c["model_type"] = "mistral"; }, "model_type is \"mistral\", expected \"llama\"");
  expect([](json& c) { c["hidden_act"] = "gelu"; }, "hidden_act 'gelu' is not supported");
  expect([](json& c) { c["rope_scaling"]["rope_type"] = "yarn"; }, "rope type 'yarn' is not supported");
  expect([](json& c) { c["attention_bias"] = true; }, "attention_bias=true is not supported");
  expect([](json& c) { c["num_key_value_heads"] = 3; }, "must be a positive multiple of num_key_value_heads (3)");
  expect([](json& c) { c.erase("hidden_size"); }, "missing integer field 'hidden_size'");
  expect([](json& c) { c["architectures"] = {"GPT2LMHeadModel"}; }, "only LlamaForCausalLM / LlamaModel are supported");
  expect([](json& c) { c["head_dim"] = 15; }, "head_dim must be positive and even");
  EXPECT_THROW_MSG(parse_llama_config("{", "config.json"), "config.json: not valid JSON");
  // Supported variants parse: no scaling, linear scaling, rope_parameters (transformers >= 5).
  json c = base;
  c["rope_scaling"] = nullptr;
  EXPECT_EQ(parse_llama_config(c.dump(), "c").rope_scaling.type, RopeScalingType::None);
  c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  const auto lin = parse_llama_config(c.dump(), "c");
  EXPECT_EQ(lin.rope_scaling.type, RopeScalingType::Linear);
  LlamaConfig plain = lin;
  plain.rope_scaling = {};
  EXPECT_FLOAT_EQ(rope_inv_freq(lin)[3], rope_inv_freq(plain)[3] / 2.0f);
  json v5 = base;
  v5.erase("rope_scaling");
  v5.erase("rope_theta");
  v5["rope_parameters"] = base["rope_scaling"];
  v5["rope_parameters"]["rope_theta"] = 500000.0;
  EXPECT_EQ(rope_inv_freq(parse_llama_config(v5.dump(), "c")), rope_inv_freq(parse_llama_config(base.dump(), "c")));
}

// The w2v-BERT forward against the fixtures: unit layer cases, all 25 hidden states from the
// golden input features; F16/BF16 weights; strict checkpoint and config errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "audio_test_util.hpp"
#include "tribev2/features/audio/w2v_bert.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;
using namespace tribev2::features::audio;
namespace fs = std::filesystem;

namespace {


// A copy of the tiny checkpoint folder whose tensors pass through `edit`.
fs::path edited_copy(const TempDir& tmp, const std::string& name,
                     const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit) {
  const fs::path dir = tmp / name;
  fs::create_directories(dir);
  fs::copy_file(af("tiny-w2v-bert/config.json"), dir / "config.json");
  fs::copy_file(af("tiny-w2v-bert/preprocessor_config.json"), dir / "preprocessor_config.json");
  const auto f = io::SafetensorsFile::open(af("tiny-w2v-bert/model.safetensors"));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& n : f.names()) tensors.emplace_back(n, f.get(n).clone());
  edit(tensors);
  io::write_safetensors(dir / "model.safetensors", tensors);
  return dir;
}

}  // namespace

TEST(W2vBert, ConfigMatchesFixture) {
  const auto& c = tiny().config();
  EXPECT_EQ(c.hidden, 32);
  EXPECT_EQ(c.heads, 4);
  EXPECT_EQ(c.head_dim(), 8);
  EXPECT_EQ(c.intermediate, 64);
  EXPECT_EQ(c.layers, 24);
  EXPECT_EQ(c.input_dim, 160);
  EXPECT_EQ(c.conv_kernel, 31);
  EXPECT_EQ(c.left_max, 64);
  EXPECT_EQ(c.right_max, 8);
  EXPECT_EQ(tiny().num_hidden_states(), 25);
  EXPECT_EQ(tiny().fingerprint().size(), 64u);  // SHA-256 hex
}

TEST(W2vBert, UnitLayerCases) {
  const Context ctx(2);
  struct Case {
    const char* name;
    int kind;  // 0 attention, 1 conv module, 2 whole layer
  };
  for (const Case c : {Case{"attn_T3", 0}, Case{"attn_T80", 0}, Case{"conv_T40", 1}, Case{"layer_T70", 2}}) {
    SCOPED_TRACE(c.name);
    const Tensor in = npy(std::string("unit/") + c.name + "_in.npy");
    const Tensor expected = npy(std::string("unit/") + c.name + "_out.npy");
    ASSERT_EQ(in.ndim(), 3);
    const std::int64_t T = in.dim(1);
    Tensor got = in.clone();
    if (c.kind == 0) tiny().self_attention(ctx, 0, in.data<float>(), T, got.data<float>());
    if (c.kind == 1) tiny().conv_module(ctx, 0, in.data<float>(), T, got.data<float>());
    if (c.kind == 2) tiny().conformer_layer(ctx, 0, got.data<float>(), T);
    const double d = max_rel_diff(got, expected);
    EXPECT_LE(d, 1e-5);
    std::cout << "  " << c.name << ": max rel diff " << d << "\n";
  }
}

TEST(W2vBert, AllHiddenStatesFromGoldenFeatures) {
  const Context ctx(2);
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const Tensor feats = npy(std::string(clip) + "/fbank_input_features.npy");
    const Tensor expected = npy(std::string(clip) + "/hidden_states.npy");
    const Tensor got = tiny().forward_all(ctx, feats);
    const auto d = rel_diff_per_slice(got, expected);
    ASSERT_EQ(d.size(), 25u);
    double worst = 0.0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      EXPECT_LE(d[i], 1e-4) << "hidden state " << i;
      worst = std::max(worst, d[i]);
    }
    std::cout << "  " << clip << ": hidden states, worst max rel diff " << worst << "\n";
  }
}

TEST(W2vBert, ThreadCountDoesNotChangeResults) {
  const Tensor feats = npy("mono16k/fbank_input_features.npy");
  const Tensor a = tiny().forward_all(Context(1), feats);
  const Tensor b = tiny().forward_all(Context(3), feats);
  EXPECT_LE(max_rel_diff(a, b), 1e-6);
}

TEST(W2vBert, HalfPrecisionWeights) {
  TempDir tmp;
  const Context ctx(2);
  const Tensor feats = npy("mono16k/fbank_input_features.npy");
  for (const DType dt : {DType::F16, DType::BF16}) {
    SCOPED_TRACE(dtype_name(dt));
    const auto half = edited_copy(tmp, std::string("half_") + std::string(dtype_name(dt)), [&](auto& ts) {
      for (auto& [n, t] : ts) t = t.to(dt);
    });
    // The same weights rounded to the half type, stored as F32: the gemm widens exactly.
    const auto rounded = edited_copy(tmp, std::string("rounded_") + std::string(dtype_name(dt)), [&](auto& ts) {
      for (auto& [n, t] : ts) t = t.to(dt).to(DType::F32);
    });
    const Tensor a = W2vBertModel::load(half).forward_all(ctx, feats);
    const Tensor b = W2vBertModel::load(rounded).forward_all(ctx, feats);
    EXPECT_LE(max_rel_diff(a, b), 1e-6);
  }
}

TEST(W2vBert, CheckpointErrors) {
  TempDir tmp;
  auto drop = [](const std::string& key) {
    return [key](std::vector<std::pair<std::string, Tensor>>& ts) {
      std::erase_if(ts, [&](const auto& p) { return p.first == key; });
    };
  };
  EXPECT_THROW_MSG(W2vBertModel::load(edited_copy(tmp, "missing", drop("encoder.layers.7.conv_module.pointwise_conv2.weight"))),
                   "missing encoder.layers.7.conv_module.pointwise_conv2.weight");
  EXPECT_THROW_MSG(W2vBertModel::load(edited_copy(tmp, "shape", [](auto& ts) {
                     for (auto& [n, t] : ts)
                       if (n == "encoder.layers.3.self_attn.distance_embedding.weight") t = Tensor::zeros(DType::F32, {72, 8});
                   })),
                   "distance_embedding.weight: expected [73, 8], got [72, 8]");
  EXPECT_THROW_MSG(W2vBertModel::load(edited_copy(tmp, "extra", [](auto& ts) {
                     ts.emplace_back("encoder.layers.0.self_attn.linear_pos.weight", Tensor::zeros(DType::F32, {32, 32}));
                   })),
                   "unexpected encoder.layers.0.self_attn.linear_pos.weight");
  EXPECT_THROW_MSG(W2vBertModel::load(edited_copy(tmp, "prefix", [](auto& ts) {
                     for (auto& [n, t] : ts) n = "wav2vec2_bert." + n;
                   })),
                   "wav2vec2_bert.");
  EXPECT_THROW_MSG(W2vBertModel::load(edited_copy(tmp, "int", [](auto& ts) {
                     for (auto& [n, t] : ts)
                       if (n == "feature_projection.projection.bias") t = Tensor::zeros(DType::I32, {32});
                   })),
                   "dtype I32");
  // Folder-level problems.
  EXPECT_THROW_MSG(W2vBertModel::load(tmp / "nope"), "expected a w2v-BERT checkpoint folder");
  const fs::path d = edited_copy(tmp, "files", [](auto&) {});
  fs::remove(d / "model.safetensors");
  EXPECT_THROW_MSG(W2vBertModel::load(d), "model.safetensors: missing");
  const fs::path t = edited_copy(tmp, "trunc", [](auto&) {});
  const std::string bytes = read_bytes(t / "model.safetensors");
  write_bytes(t / "model.safetensors", bytes.substr(0, bytes.size() / 2));
  EXPECT_THROW(W2vBertModel::load(t), Error);
}

TEST(W2vBert, ConfigErrors) {
  TempDir tmp;
  const auto base = nlohmann::json::parse(read_bytes(af("tiny-w2v-bert/config.json")));
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    static int counter = 0;
    const fs::path dir = edited_copy(tmp, "cfg_" + key + std::to_string(counter++), [](auto&) {});
    auto j = base;
    if (value.is_discarded())
      j.erase(key);
    else
      j[key] = value;
    write_bytes(dir / "config.json", j.dump());
    return dir;
  };
  EXPECT_THROW_MSG(W2vBertModel::load(with("position_embeddings_type", "rotary")), "relative_key");
  EXPECT_THROW_MSG(W2vBertModel::load(with("hidden_act", "gelu")), "hidden_act");
  EXPECT_THROW_MSG(W2vBertModel::load(with("add_adapter", true)), "add_adapter");
  EXPECT_THROW_MSG(W2vBertModel::load(with("num_attention_heads", 5)), "multiple of num_attention_heads");
  EXPECT_THROW_MSG(W2vBertModel::load(with("hidden_size", nlohmann::json::value_t::discarded)), "missing key 'hidden_size'");
  EXPECT_THROW_MSG(W2vBertModel::load(with("hidden_size", "32")), "hidden_size: expected an integer");
  EXPECT_THROW_MSG(W2vBertModel::load(with("num_hidden_layers", 23)), "does not match");
  EXPECT_THROW_MSG(W2vBertModel::load(with("feature_projection_input_dim", 80)), "feature_projection_input_dim");
  const fs::path bad = edited_copy(tmp, "badjson", [](auto&) {});
  write_bytes(bad / "config.json", "{\"hidden_size\": ");
  EXPECT_THROW_MSG(W2vBertModel::load(bad), "not valid JSON");
}

TEST(W2vBert, InputErrors) {
  const Context ctx(1);
  EXPECT_THROW_MSG(tiny().forward_all(ctx, Tensor::zeros(DType::F32, {4, 80})), "input_features must be float32 [T, 160]");
  EXPECT_THROW_MSG(tiny().forward_all(ctx, Tensor::zeros(DType::F32, {0, 160})), "no input frames");
}

TEST(W2vBert, Bf16ProductsStayCloseToFloat32) {
  // --precision bf16: every product's operands rounded to bfloat16 (8 bits of mantissa, relative
  // rounding 2^-9), float32 sums. Against the float32 golden, one attention module (whose
  // relative_key term is a bf16 product computed inside the attention's score hook) and all 25
  // hidden states stay within a few bf16 roundings of the largest value.
  const Context ctx(2, Precision::BF16);
  for (const char* name : {"attn_T3", "attn_T80"}) {
    SCOPED_TRACE(name);
    const Tensor in = npy(std::string("unit/") + name + "_in.npy");
    const Tensor expected = npy(std::string("unit/") + name + "_out.npy");
    Tensor got = in.clone();
    tiny().self_attention(ctx, 0, in.data<float>(), in.dim(1), got.data<float>());
    const double d = max_rel_diff(got, expected);
    std::cout << "  " << name << " bf16: max rel diff " << d << "\n";
    EXPECT_LE(d, 2e-2);
  }
  const Tensor feats = npy("mono16k/fbank_input_features.npy");
  const auto d = rel_diff_per_slice(tiny().forward_all(ctx, feats), npy("mono16k/hidden_states.npy"));
  const double worst = *std::max_element(d.begin(), d.end());
  std::cout << "  mono16k bf16: hidden states, worst max rel diff " << worst << "\n";
  EXPECT_LE(worst, 5e-2);
}

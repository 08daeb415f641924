// Bad inputs and bad weights give clear errors (naming the key, the file, expected vs got).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/model_io/load.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {
const fs::path kCase = fixture("brain_model/tribe_like");

model::Batch fixture_batch() {
  model::Batch b;
  for (const char* m : {"text", "audio", "video"}) b.inputs.emplace_back(m, io::read_npy(kCase / (std::string("input_") + m + ".npy")));
  return b;
}

// Copies the tribe_like case with a modified tensor list.
fs::path write_variant(const TempDir& tmp, const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit) {
  const auto st = io::SafetensorsFile::open(kCase / "model.safetensors");
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& n : st.names()) ts.emplace_back(n, st.get(n).clone());
  edit(ts);
  io::write_safetensors(tmp / "model.safetensors", ts);
  fs::copy_file(kCase / "config.yaml", tmp / "config.yaml", fs::copy_options::overwrite_existing);
  fs::copy_file(kCase / "build_args.json", tmp / "build_args.json", fs::copy_options::overwrite_existing);
  return tmp.path();
}
}  // namespace

TEST(StrictLoad, MissingWrongShapeAndUnexpectedTensors) {
  {
    TempDir tmp;
    write_variant(tmp, [](auto& ts) { std::erase_if(ts, [](const auto& p) { return p.first == "encoder.layers.0.1.to_k.weight"; }); });
    EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "missing 'encoder.layers.0.1.to_k.weight' (expected shape [96, 96])");
  }
  {
    TempDir tmp;
    write_variant(tmp, [](auto& ts) {
      for (auto& [n, t] : ts)
        if (n == "low_rank_head.weight") t = Tensor::zeros(DType::F32, {41, 96});
    });
    EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "'low_rank_head.weight' has shape [41, 96], expected [40, 96]");
  }
  {
    TempDir tmp;
    write_variant(tmp, [](auto& ts) { ts.emplace_back("extra.weight", Tensor::zeros(DType::F32, {2})); });
    EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "unexpected 'extra.weight' [2]");
  }
}

TEST(StrictLoad, MissingFiles) {
  TempDir tmp;
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp / "nope"), "no such file or folder");
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "no model.safetensors or best.ckpt in this folder");
  fs::copy_file(kCase / "model.safetensors", tmp / "model.safetensors");
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "config.yaml: missing");
  fs::copy_file(kCase / "config.yaml", tmp / "config.yaml");
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "build_args.json: missing");
  // A truncated weights file.
  fs::copy_file(kCase / "build_args.json", tmp / "build_args.json");
  const std::string full = read_bytes(kCase / "model.safetensors");
  write_bytes(tmp / "model.safetensors", full.substr(0, full.size() - 100));
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "truncated file?");
  // A zip that is not a torch checkpoint, named best.ckpt.
  fs::remove(tmp / "model.safetensors");
  io::write_npz(tmp / "best.ckpt", {{"a", Tensor::zeros(DType::F32, {1})}});
  EXPECT_THROW_MSG(model_io::load_brain_model(tmp.path()), "not a PyTorch checkpoint");
}

TEST(ForwardErrors, BadInputs) {
  const auto loaded = model_io::load_brain_model(kCase);
  const auto& m = *loaded.model;
  Context ctx(1);
  {
    auto b = fixture_batch();
    b.inputs[0].second = Tensor::zeros(DType::F32, {1, 2, 25, 20});
    EXPECT_THROW_MSG(m.forward(ctx, b), "input 'text' has shape [1, 2, 25, 20], expected [B, 2, 24, T]");
  }
  {
    auto b = fixture_batch();
    b.inputs.emplace_back("smell", Tensor::zeros(DType::F32, {1, 2, 4, 20}));
    EXPECT_THROW_MSG(m.forward(ctx, b), "input modality 'smell' is not a modality of this model (known: text, audio, video)");
  }
  {
    model::Batch b;
    b.inputs.emplace_back("text", Tensor::zeros(DType::F32, {1, 2, 24, 65}));  // max_seq_len 64
    EXPECT_THROW_MSG(m.forward(ctx, b), "longer than the model's max_seq_len (64)");
  }
  {
    auto b = fixture_batch();
    Tensor t = b.inputs[1].second.clone();
    t.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
    b.inputs[1].second = t;
    EXPECT_THROW_MSG(m.forward(ctx, b), "input 'audio' contains NaN or Inf (first at flat index 7)");
    b.check_finite = false;
    EXPECT_NO_THROW(m.forward(ctx, b));
  }
  {
    auto b = fixture_batch();
    b.inputs[2].second = Tensor::zeros(DType::F32, {1, 2, 16, 19});
    EXPECT_THROW_MSG(m.forward(ctx, b), "batch size and time steps must match");
  }
  EXPECT_THROW_MSG(m.forward(ctx, model::Batch{}), "the batch has no inputs");
}

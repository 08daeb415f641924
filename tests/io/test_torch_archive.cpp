#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"
#include "tribev2/io/torch_archive.hpp"
#include "tribev2/io/zip.hpp"

using namespace tribev2;
using namespace tribev2::test;
using io::pickle::Kind;

TEST(TorchArchive, ReadsLightningCheckpointLikeSafetensors) {
  for (const char* c : {"tribe_like", "mlp_projector_combiner", "linear_baseline_multisubject"}) {
    const auto dir = fixture(std::string("brain_model/") + c);
    const auto ar = io::read_torch_archive(dir / "best.ckpt");
    EXPECT_EQ(ar.prefix, "best");  // not "archive": the folder name is discovered
    const auto* sd = ar.root->find("state_dict");
    ASSERT_NE(sd, nullptr);
    const auto st = io::SafetensorsFile::open(dir / "model.safetensors");
    EXPECT_EQ((*sd)->dict.size(), st.names().size());
    for (const auto& [k, v] : (*sd)->dict) {
      ASSERT_EQ(k->s.rfind("model.", 0), 0u) << k->s;
      const Tensor* t = io::as_tensor(v);
      ASSERT_NE(t, nullptr) << k->s;
      EXPECT_EQ(max_abs_diff(*t, st.get(k->s.substr(6))), 0.0) << k->s;
    }
    const auto* mba = ar.root->find("model_build_args");
    ASSERT_NE(mba, nullptr);
    EXPECT_EQ((*(*mba)->find("feature_dims"))->kind, Kind::Dict);
    EXPECT_EQ((*ar.root->find("optimizer_states"))->kind, Kind::List);  // unknown Lightning keys load fine
  }
}

TEST(TorchArchive, BadArchivesGiveClearErrors) {
  TempDir tmp;
  write_bytes(tmp / "x.ckpt", "this is not a zip file at all");
  EXPECT_THROW_MSG(io::read_torch_archive(tmp / "x.ckpt"), "not a readable zip archive");
  io::write_zip_stored(tmp / "y.ckpt", {{"foo/bar.txt", {std::byte{'h'}, std::byte{'i'}}}});
  EXPECT_THROW_MSG(io::read_torch_archive(tmp / "y.ckpt"), "not a PyTorch checkpoint");
  const std::string full = read_bytes(fixture("brain_model/tribe_like/best.ckpt"));
  write_bytes(tmp / "cut.ckpt", full.substr(0, full.size() - 5000));
  EXPECT_THROW(io::read_torch_archive(tmp / "cut.ckpt"), Error);
  // A checkpoint whose storage entry is shorter than its tensors need.
  io::ZipReader z(fixture("brain_model/tribe_like/best.ckpt"));
  std::vector<std::pair<std::string, std::vector<std::byte>>> entries;
  for (const auto& e : z.entries()) {
    auto data = z.read(e.name);
    if (e.name == "best/data/0") data.resize(data.size() / 2);
    entries.emplace_back(e.name, std::move(data));
  }
  io::write_zip_stored(tmp / "short.ckpt", entries);
  EXPECT_THROW_MSG(io::read_torch_archive(tmp / "short.ckpt"), "truncated checkpoint?");
  EXPECT_THROW_MSG(io::read_torch_archive(tmp / "missing.ckpt"), "missing.ckpt");
}

// Written by torch.save (Debian torch 1.13): F32, F16 and BF16 storages and a transposed
// (non-contiguous) view: torch.arange(6.).reshape(2, 3).t().
TEST(TorchArchive, DtypesAndStrides) {
  const auto ar = io::read_torch_archive(fixtures().parent_path() / "data/tiny_mixed_dtypes.ckpt");
  EXPECT_EQ(ar.prefix, "tiny");  // the name it was saved under, not the file name
  const auto& sd = *ar.root->find("state_dict");
  const Tensor* w = io::as_tensor(*sd->find("model.w"));
  const Tensor* h = io::as_tensor(*sd->find("model.h"));
  const Tensor* b = io::as_tensor(*sd->find("model.b"));
  const Tensor* t = io::as_tensor(*sd->find("model.t"));
  ASSERT_TRUE(w && h && b && t);
  EXPECT_EQ(h->dtype(), DType::F16);
  EXPECT_EQ(b->dtype(), DType::BF16);
  EXPECT_EQ(shape_str(t->shape()), "[3, 2]");
  const float want[] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t->data<float>()[i], want[i]);
  EXPECT_EQ(w->data<float>()[5], 5.0f);
  const auto& fd = *(*ar.root->find("model_build_args"))->find("feature_dims");
  EXPECT_EQ((*fd->find("audio"))->kind, Kind::None);
  EXPECT_EQ((*fd->find("text"))->kind, Kind::Tuple);
}

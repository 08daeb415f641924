// The compute-time estimate of `tribev2 run`: FLOP counts of the three extractor networks
// (hand-counted small shapes, and the full-size models against their published parameter
// counts), the calibrated throughput and the printed lines.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/pipeline/estimate.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;

TEST(Estimate, LlamaFlopsByHand) {
  // 2 layers, hidden 8, q 8, kv 4, ffn 16: per token and layer 8*8 + 2*8*4 + 8*8 + 3*8*16 = 576
  // multiply-adds of weights, + 2 * 8 * context for QK^T and AV.
  const LlamaShape s{2, 8, 8, 4, 16};
  EXPECT_DOUBLE_EQ(llama_flops(s, 1, 0), 2.0 * 576 * 2);
  EXPECT_DOUBLE_EQ(llama_flops(s, 10, 5), 2.0 * (576 + 2 * 8 * 5) * 2 * 10);
}

TEST(Estimate, LlamaFullSizeMatchesItsParameterCount) {
  // Llama-3.2-3B: 3.213 B parameters, of which the 128256 x 3072 embedding (tied) is not
  // multiplied for hidden states: 2 FLOPs per remaining weight per token (norms are ~0.1 M).
  const LlamaShape s{28, 3072, 3072, 1024, 8192};
  const double weights = 3.2128e9 - 128256.0 * 3072.0;
  EXPECT_NEAR(llama_flops(s, 1, 0) / (2.0 * weights), 1.0, 0.001);
  // Attention grows linearly with the context a token sees.
  EXPECT_DOUBLE_EQ(llama_flops(s, 1, 512) - llama_flops(s, 1, 0), 2.0 * 2.0 * 512 * 3072 * 28);
}

TEST(Estimate, ConformerFlopsByHand) {
  // 1 layer, hidden 4, ffn 8, kernel 3, input 6, 10 frames per second, 1 s -> T = 10 frames:
  // per frame 4*4*8 + 4*16 + 3*16 + 3*4 + 3*10*4 = 372, + 6*4 for the input projection.
  ConformerShape s;
  s.layers = 1;
  s.hidden = 4;
  s.ffn = 8;
  s.conv_kernel = 3;
  s.input_dim = 6;
  s.frames_per_second = 10.0;
  EXPECT_DOUBLE_EQ(conformer_flops(s, 1.0), 2.0 * 10 * (372 + 24));
}

TEST(Estimate, W2vBertFullSize) {
  // w2v-BERT 2.0: 24 layers of 1024, ffn 4096: ~580 M weights in the layers; 60 s of audio is
  // 3000 frames. Without the attention pairs, FLOPs = 2 * weights * frames within 2 %.
  ConformerShape s;
  s.layers = 24;
  s.hidden = 1024;
  s.ffn = 4096;
  const double T = 3000;
  const double pairs = 2.0 * T * 3.0 * T * 1024 * 24;
  EXPECT_NEAR((conformer_flops(s, 60.0) - pairs) / (2.0 * 0.58e9 * T), 1.0, 0.02);
  // Attention is quadratic in the chunk: two 30 s chunks cost less than one 60 s chunk.
  EXPECT_LT(2.0 * conformer_flops(s, 30.0), conformer_flops(s, 60.0));
}

TEST(Estimate, VitFlopsByHandAndFullSize) {
  // 1 layer, hidden 2, mlp 4, patch 3, 5 tokens: per token 4*4 + 2*2*4 + 2*5*2 + 3*2 = 58.
  EXPECT_DOUBLE_EQ(vit_clip_flops(VitShape{1, 2, 4, 3, 5}), 2.0 * 5 * 58);
  // V-JEPA2 ViT-g/16 at 256 px, 64 frames: 8192 tokens, ~1.01 B weights; ~31.7 TFLOP per clip.
  const VitShape g{40, 1408, 6144, 3 * 2 * 16 * 16, 32 * 16 * 16};
  EXPECT_NEAR(vit_clip_flops(g) / 31.7e12, 1.0, 0.01);
}

TEST(Estimate, SecondsAndLines) {
  std::vector<StageEstimate> st(2);
  st[0].stage = "text features";
  st[0].network = Network::Llama;
  st[0].flops = 100e9 * network_efficiency(Network::Llama, Precision::F32);  // 1 s at 100 GFLOP/s
  st[0].detail = "3 words";
  st[1].stage = "video features";
  st[1].network = Network::Vjepa2;
  st[1].flops = 100e9 * 7200 * network_efficiency(Network::Vjepa2, Precision::F32);
  estimate_seconds(st, 100.0, Precision::F32);
  EXPECT_NEAR(st[0].seconds, 1.0, 1e-9);
  EXPECT_NEAR(st[1].seconds, 7200.0, 1e-6);
  // bf16 video and text run on core's bf16 kernels, faster than f32 (bench/video_bench.sh,
  // bench/text_bench.sh): the estimate says so.
  EXPECT_GT(network_efficiency(Network::Vjepa2, Precision::BF16), network_efficiency(Network::Vjepa2, Precision::F32));
  EXPECT_GT(network_efficiency(Network::Llama, Precision::BF16), network_efficiency(Network::Llama, Precision::F32));
  EXPECT_EQ(human_duration(3.44), "3.4 s");
  EXPECT_EQ(human_duration(42.0), "42 s");
  EXPECT_EQ(human_duration(1500.0), "25 min");
  EXPECT_EQ(human_duration(7201.0), "2 h 00 min");
  EXPECT_EQ(human_duration(60.0 * 62), "1 h 02 min");
  const auto lines = format_estimate(st, 100.0, 2);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("100 GFLOP/s with 2 thread(s)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("text features: 1.0 s (Llama"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("video features: 2 h 00 min (V-JEPA2"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("total feature extraction: 2 h 00 min"), std::string::npos) << lines[3];
  EXPECT_THROW_MSG(estimate_seconds(st, 0.0, Precision::F32), "calibrated throughput must be positive");
}

TEST(Estimate, CalibratedThroughputIsPlausible) {
  const Context ctx(1);
  const double g = calibrate_gemm_gflops(ctx, 0.05);
  EXPECT_GT(g, 0.5);     // any CPU of this century
  EXPECT_LT(g, 1e5);
}

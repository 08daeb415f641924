// The extractor stages 5-8 of the audio fixtures (group means, nearest indices, 2 Hz features,
// segment grids), each from the previous stage's golden and end to end from the WAV files;
// 60 s chunking of a 90 s file; odd inputs (silence, too short, 8 kHz, 48 kHz stereo); the
// per-chunk disk cache.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "audio_test_util.hpp"
#include "tribev2/features/audio/extractor.hpp"
#include "tribev2/features/audio/waveform.hpp"
#include "tribev2/features/timeline.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using namespace tribev2::test;
using namespace tribev2::test::audio;
using namespace tribev2::features::audio;
namespace fs = std::filesystem;

namespace {

// The tiny model cut to its first 2 conformer layers: for the long-input tests, where the
// chunking, not the depth, is under test.
const W2vBertModel& shallow() {
  static const W2vBertModel m = [] {
    static TempDir dir;
    const fs::path d = dir / "shallow";
    fs::create_directories(d);
    fs::copy_file(af("tiny-w2v-bert/preprocessor_config.json"), d / "preprocessor_config.json");
    auto cfg = nlohmann::json::parse(read_bytes(af("tiny-w2v-bert/config.json")));
    cfg["num_hidden_layers"] = 2;
    write_bytes(d / "config.json", cfg.dump());
    const auto f = io::SafetensorsFile::open(af("tiny-w2v-bert/model.safetensors"));
    std::vector<std::pair<std::string, Tensor>> keep;
    for (const auto& n : f.names())
      if (n.rfind("encoder.layers.", 0) != 0 || n.rfind("encoder.layers.0.", 0) == 0 || n.rfind("encoder.layers.1.", 0) == 0)
        keep.emplace_back(n, f.get(n));
    io::write_safetensors(d / "model.safetensors", keep);
    return W2vBertModel::load(d);
  }();
  return m;
}

const FbankExtractor& fbank() {
  static const FbankExtractor f(tiny().preprocessor());
  return f;
}

nlohmann::json meta(const std::string& clip) { return nlohmann::json::parse(read_bytes(af(clip + "/meta.json"))); }

Tensor group(const Tensor& hidden) {
  GroupMeanAccumulator acc(layer_groups(25, std::vector<double>{0.5, 0.75, 1.0}), hidden.dim(1), hidden.dim(2));
  for (int i = 0; i < 25; ++i) acc.add(i, hidden.data<float>() + static_cast<std::int64_t>(i) * hidden.dim(1) * hidden.dim(2));
  return acc.result();
}

// Checks the grids of a clip from its 2 Hz features placed as one chunk at event_start.
void check_grids(const std::string& clip, const Tensor& features_2hz, double tolerance, const char* what) {
  const auto m = meta(clip);
  AudioChunkFeatures c;
  c.chunk = {m["event_start"].get<double>(), 0.0, m["duration"].get<double>()};
  c.features = features_2hz;
  for (const auto& s : m["segments"]) {
    SCOPED_TRACE(s["file"].get<std::string>());
    const Tensor expected = npy(clip + "/" + s["file"].get<std::string>());
    const Tensor got = place_on_grid(std::span(&c, 1), s["segment_start"].get<double>(), s["segment_duration"].get<double>());
    ASSERT_EQ(got.dim(2), s["T"].get<std::int64_t>());
    const auto d = rel_diff_per_slice(got, expected);
    for (const double v : d) EXPECT_LE(v, tolerance);
    // Bins outside grid_slice are exactly 0.
    const std::int64_t g0 = s["grid_slice"][0].get<std::int64_t>(), g1 = s["grid_slice"][1].get<std::int64_t>();
    const std::int64_t T = got.dim(2);
    for (std::int64_t r = 0; r < got.dim(0) * got.dim(1); ++r)
      for (std::int64_t t = 0; t < T; ++t)
        if (t < g0 || t >= g1) {
          ASSERT_EQ(got.data<float>()[r * T + t], 0.0f);
        }
    std::cout << "  " << clip << " " << s["file"].get<std::string>() << " (" << what << "): " << std::max(d[0], d[1]) << "\n";
  }
}

}  // namespace

TEST(AudioExtractor, IndexRules) {
  const auto g = layer_groups(25, std::vector<double>{0.5, 0.75, 1.0});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0], (std::pair<int, int>{12, 18}));
  EXPECT_EQ(g[1], (std::pair<int, int>{18, 25}));
  for (const char* clip : {"mono16k", "stereo44k"}) {
    const auto m = meta(clip);
    EXPECT_EQ(m["layer_groups"][0][0].get<int>(), 12);
    EXPECT_EQ(m["layer_groups"][1][1].get<int>(), 25);
    const auto n_out = m["n_out"].get<std::int64_t>();
    EXPECT_EQ(static_cast<std::int64_t>(features::py_round(2.0 * m["duration"].get<double>())), n_out);
    const Tensor expected = npy(std::string(clip) + "/interp_index.npy");
    const auto idx = nearest_indices(m["T50"].get<std::int64_t>(), n_out);
    ASSERT_EQ(static_cast<std::int64_t>(idx.size()), expected.numel());
    for (std::size_t i = 0; i < idx.size(); ++i) EXPECT_EQ(idx[i], expected.data<std::int64_t>()[i]) << clip << " " << i;
  }
  // The shape conventions of a 60 s and a 90 s chunk.
  EXPECT_EQ(fbank_frame_count(960000), 5998);
  EXPECT_EQ(fbank_frame_count(1440000), 8998);
  EXPECT_EQ(nearest_indices(2999, 120).back(), 2974);
  EXPECT_EQ(nearest_indices(4, 8), (std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));
  EXPECT_THROW_MSG(layer_groups(25, std::vector<double>{1.0}), "no group");
  EXPECT_THROW_MSG(layer_groups(25, std::vector<double>{0.5, 1.5}), "outside [0, 1]");
}

TEST(AudioExtractor, StagesFromPreviousGoldens) {
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const auto m = meta(clip);
    // grouped from hidden_states.npy
    const Tensor grouped = group(npy(std::string(clip) + "/hidden_states.npy"));
    const Tensor grouped_expected = npy(std::string(clip) + "/grouped.npy");
    for (const double d : rel_diff_per_slice(grouped, grouped_expected)) EXPECT_LE(d, 1e-4);
    // features_2hz from grouped.npy: nearest resampling only copies columns.
    const Tensor f2 = resample_nearest(grouped_expected, m["n_out"].get<std::int64_t>());
    const Tensor f2_expected = npy(std::string(clip) + "/features_2hz.npy");
    EXPECT_EQ(max_abs_diff(f2, f2_expected), 0.0);
    // grids from features_2hz.npy
    check_grids(clip, f2_expected, 0.0, "from features_2hz.npy");
  }
}

TEST(AudioExtractor, FromGoldenInputFeatures) {
  const Context ctx(2);
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const auto m = meta(clip);
    const Tensor feats = npy(std::string(clip) + "/fbank_input_features.npy");
    GroupMeanAccumulator acc(layer_groups(25, std::vector<double>{0.5, 0.75, 1.0}), feats.dim(0), 32);
    tiny().forward(ctx, feats, [&](int i, const float* h, std::int64_t) { acc.add(i, h); });
    const Tensor grouped = acc.result();
    double worst = 0.0;
    for (const double d : rel_diff_per_slice(grouped, npy(std::string(clip) + "/grouped.npy"))) {
      EXPECT_LE(d, 1e-4);
      worst = std::max(worst, d);
    }
    const Tensor f2 = resample_nearest(grouped, m["n_out"].get<std::int64_t>());
    for (const double d : rel_diff_per_slice(f2, npy(std::string(clip) + "/features_2hz.npy"))) EXPECT_LE(d, 1e-4);
    std::cout << "  " << clip << ": grouped from input features " << worst << "\n";
    check_grids(clip, f2, 1e-4, "from fbank_input_features.npy");
  }
}

TEST(AudioExtractor, EndToEndFromWav) {
  const Context ctx(2);
  for (const char* clip : {"mono16k", "stereo44k"}) {
    SCOPED_TRACE(clip);
    const auto m = meta(clip);
    const auto wav = media::decode_audio(af(m["input_wav"].get<std::string>()));
    ChunkStages st;
    const Tensor f2 = chunk_features(ctx, tiny(), fbank(), wav, AudioFeatureOptions{}, -1.0, &st);
    EXPECT_EQ(st.log_mel.dim(0), m["n_frames"].get<std::int64_t>());
    EXPECT_EQ(st.input_features.dim(0), m["T50"].get<std::int64_t>());
    EXPECT_LE(max_abs_diff(st.input_features, npy(std::string(clip) + "/fbank_input_features.npy")), 1e-2);
    double worst = 0.0;
    for (const double d : rel_diff_per_slice(st.grouped, npy(std::string(clip) + "/grouped.npy"))) {
      EXPECT_LE(d, 1e-3);
      worst = std::max(worst, d);
    }
    for (const double d : rel_diff_per_slice(f2, npy(std::string(clip) + "/features_2hz.npy"))) EXPECT_LE(d, 1e-3);
    std::cout << "  " << clip << ": end to end, grouped " << worst << "\n";
    // The whole path from the file: one chunk at event_start, placed on each segment's grid
    // (extract_timeline for the first segment, the chunks computed once for the others).
    const auto chunks = extract_chunks(ctx, tiny(), af(m["input_wav"].get<std::string>()), m["event_start"].get<double>(),
                                       AudioFeatureOptions{});
    ASSERT_EQ(chunks.size(), 1u);
    bool first = true;
    for (const auto& s : m["segments"]) {
      TimelineWindow w;
      w.event_start = m["event_start"].get<double>();
      w.start = s["segment_start"].get<double>();
      w.duration = s["segment_duration"].get<double>();
      const Tensor grid = first ? extract_timeline(ctx, tiny(), af(m["input_wav"].get<std::string>()), w, AudioFeatureOptions{})
                                : place_on_grid(chunks, w.start, w.duration);
      first = false;
      const auto d = rel_diff_per_slice(grid, npy(std::string(clip) + "/" + s["file"].get<std::string>()));
      for (const double v : d) EXPECT_LE(v, 1e-3);
      std::cout << "  " << clip << " " << s["file"].get<std::string>() << " end to end: " << std::max(d[0], d[1]) << "\n";
    }
  }
}

TEST(AudioExtractor, NinetySecondsMakeTwoChunks) {
  const Context ctx(2);
  TempDir tmp;
  auto buf = synth(16000, 1, 90.0, 11);
  for (float& v : buf.samples) v = std::nearbyint(v * 32768.0f) / 32768.0f;
  media::write_wav(tmp / "long.wav", buf, false);
  const auto chunks = extract_chunks(ctx, shallow(), tmp / "long.wav", 0.0, AudioFeatureOptions{});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].chunk.duration, 60.0);
  EXPECT_EQ(chunks[1].chunk.duration, 30.0);
  EXPECT_EQ(chunks[1].chunk.offset, 60.0);
  EXPECT_EQ(chunks[0].features.dim(0), 1);  // 3 hidden states: one group [1, 3)
  EXPECT_EQ(chunks[0].features.dim(2), 120);
  EXPECT_EQ(chunks[1].features.dim(2), 60);
  // The second chunk is computed on its own samples only (soundfile.read of [60 s, 90 s)).
  media::AudioBuffer tail{16000, 1, std::vector<float>(buf.samples.begin() + 960000, buf.samples.end())};
  const Tensor direct = chunk_features(ctx, shallow(), fbank(), tail, AudioFeatureOptions{}, 30.0);
  EXPECT_EQ(max_abs_diff(direct, chunks[1].features), 0.0);
  // On the grid of [0, 90): the chunks side by side, 180 bins.
  const Tensor grid = place_on_grid(chunks, 0.0, 90.0);
  ASSERT_EQ(grid.dim(2), 180);
  for (std::int64_t r = 0; r < 32; ++r) {
    EXPECT_EQ(grid.data<float>()[r * 180 + 119], chunks[0].features.data<float>()[r * 120 + 119]);
    EXPECT_EQ(grid.data<float>()[r * 180 + 120], chunks[1].features.data<float>()[r * 60 + 0]);
  }
}

TEST(AudioExtractor, OddInputs) {
  const Context ctx(2);
  AudioFeatureOptions o;
  // Silence: the waveform z-scores to 0, every mel bin sits on the floor.
  // (1223 frames: enough for float32 roundoff in the CMVN of the constant bins, see fbank.hpp)
  const media::AudioBuffer silence{16000, 1, std::vector<float>(196000, 0.0f)};
  const Tensor s_ref = chunk_features(ctx, tiny(), fbank(), silence, o);
  o.constant_bins = ConstantBins::Zero;
  const Tensor s_zero = chunk_features(ctx, tiny(), fbank(), silence, o);
  o.constant_bins = ConstantBins::Reference;
  EXPECT_EQ(s_ref.dim(2), 24);
  for (const float v : s_ref.f32()) ASSERT_TRUE(std::isfinite(v));
  for (const float v : s_zero.f32()) ASSERT_TRUE(std::isfinite(v));
  EXPECT_GT(max_abs_diff(s_ref, s_zero), 0.0);
  // Too short: less than one 25 ms frame, and less than a quarter second (0 bins).
  const media::AudioBuffer tiny_clip{16000, 1, std::vector<float>(300, 0.1f)};
  EXPECT_THROW_MSG(chunk_features(ctx, tiny(), fbank(), tiny_clip, o), "0 feature bins");
  EXPECT_THROW_MSG(chunk_features(ctx, tiny(), fbank(), tiny_clip, o, 0.3), "fbank frame(s)");
  EXPECT_THROW_MSG(chunk_features(ctx, tiny(), fbank(), synth(16000, 1, 0.2), o), "0 feature bins");
  const Tensor quarter = chunk_features(ctx, tiny(), fbank(), synth(16000, 1, 0.26), o);
  EXPECT_EQ(quarter.dim(2), 1);
  // 8 kHz mono and 48 kHz stereo: resampled to 16 kHz first (the resample/ cases pin the
  // numbers); here the shapes and the file path = buffer path.
  TempDir tmp;
  for (const auto& [rate, ch] : {std::pair{8000, 1}, std::pair{48000, 2}}) {
    SCOPED_TRACE(rate);
    auto b = synth(rate, ch, 3.3, 5);
    for (float& v : b.samples) v = std::nearbyint(v * 32768.0f) / 32768.0f;
    const Tensor f = chunk_features(ctx, tiny(), fbank(), b, o);
    EXPECT_EQ(f.dim(0), 2);
    EXPECT_EQ(f.dim(1), 32);
    EXPECT_EQ(f.dim(2), 7);  // round(6.6)
    const auto path = tmp / ("in" + std::to_string(rate) + ".wav");
    media::write_wav(path, b, false);
    TimelineWindow w;
    const Tensor grid = extract_timeline(ctx, tiny(), path, w, o);
    EXPECT_EQ(max_abs_diff(grid, f), 0.0);
  }
}

TEST(AudioExtractor, ChunkStore) {
  // The ChunkStore (a map here; the commands pass the pipeline's stage cache) is asked once per
  // chunk with the chunk's place in the file; what it returns is what the grid gets.
  const Context ctx(2);
  AudioFeatureOptions o;
  test::MemoryChunkStore mem;
  o.store = mem.store();
  std::int64_t last_done = -1, last_total = -1;
  o.progress = [&](std::int64_t d, std::int64_t t) {
    last_done = d;
    last_total = t;
  };
  const auto first = extract_chunks(ctx, tiny(), af("audio/mono16k.wav"), 2.25, o);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].from_store);
  EXPECT_EQ(mem.computed, 1);
  EXPECT_EQ(last_done, 24);
  EXPECT_EQ(last_total, 24);
  const auto second = extract_chunks(ctx, tiny(), af("audio/mono16k.wav"), 2.25, o);
  EXPECT_TRUE(second[0].from_store);
  EXPECT_EQ(mem.computed, 1);
  EXPECT_EQ(last_done, 24);
  EXPECT_EQ(max_abs_diff(first[0].features, second[0].features), 0.0);
  // Without a store: the same numbers.
  AudioFeatureOptions plain;
  EXPECT_EQ(max_abs_diff(extract_chunks(ctx, tiny(), af("audio/mono16k.wav"), 2.25, plain)[0].features, first[0].features),
            0.0);
  // A store that returns the wrong shape is a clear error.
  o.store = [](const events::Chunk&, const std::function<Tensor()>&) {
    return features::StoredChunk{Tensor::zeros(DType::F32, {2, 3, 4}), false};
  };
  try {
    (void)extract_chunks(ctx, tiny(), af("audio/mono16k.wav"), 2.25, o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the feature store returned [2, 3, 4]"), std::string::npos) << e.what();
  }
}

// Per-segment feature placement against the goldens: words onto the text grids
// (text_features/ctx*/grid_*.npy), audio chunk arrays onto the audio grids
// (audio_features/<case>/grid_*.npy, meta.json), video chunk arrays onto the video grids
// (video_features/cases.json). Tolerance (fixtures README): 1e-4 * max|expected|.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/io/npy.hpp"
#include "tribev2/pipeline/segment_features.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
using nlohmann::json;

namespace {
model::SegmentPlan seg(double start, double duration) {
  model::SegmentPlan s;
  s.start = start;
  s.duration = duration;
  s.steps = static_cast<std::int64_t>(std::nearbyint(2.0 * duration));
  return s;
}
}  // namespace

TEST(SegmentFeatures, WordsOnTheTextGrids) {
  for (const char* dir : {"ctx1024", "ctx8"}) {
    const auto base = fixture(std::string("text_features/") + dir);
    const auto words = events::read_words_json(base / "words.json");
    const Tensor wf = io::read_npy(base / "word_features.npy");  // [46, 2, 64]
    for (auto [start, dur, file] : {std::tuple{0.0, 100.0, "grid_start0_dur100.npy"},
                                    std::tuple{10.25, 12.0, "grid_start10.25_dur12.npy"}}) {
      const Tensor got = segment_word_features(wf, words, {seg(start, dur)});
      const Tensor expected = io::read_npy(base / file);
      const double err = max_rel_diff(got, expected);
      EXPECT_LE(err, 1e-4) << dir << " " << file;
      std::cout << "[measured] " << dir << "/" << file << " max rel diff " << err << "\n";
    }
  }
}

TEST(SegmentFeatures, AudioChunkOnTheAudioGrids) {
  for (const char* c : {"mono16k", "stereo44k"}) {
    const auto base = fixture(std::string("audio_features/") + c);
    const json meta = json::parse(read_bytes(base / "meta.json"));
    const Tensor feats = io::read_npy(base / "features_2hz.npy");
    const double start = meta["event_start"].get<double>();
    const double duration = meta["duration"].get<double>();
    for (const auto& s : meta["segments"]) {
      const Tensor got = segment_event_arrays({EventArray{start, duration, start, feats}},
                                              {seg(s["segment_start"].get<double>(), s["segment_duration"].get<double>())});
      const Tensor expected = io::read_npy(base / s["file"].get<std::string>());
      EXPECT_LE(max_rel_diff(got, expected), 1e-4) << c << " " << s["file"];
    }
  }
}

TEST(SegmentFeatures, VideoChunksOnTheVideoGrids) {
  const auto base = fixture("video_features");
  const json cases = json::parse(read_bytes(base / "cases.json"));
  for (const auto& g : cases["grids"]) {
    std::vector<EventArray> arrays;
    for (const auto& e : g["events"]) {
      const double offset = e["offset"].get<double>(), duration = e["duration"].get<double>();
      // The whole-clip event uses features.npy; the chunk events chunk{0,1}_features.npy.
      std::string file = "features.npy";
      for (const auto& ch : cases["chunks"])
        if (ch["offset"].get<double>() == offset && ch["duration"].get<double>() == duration &&
            g["file"].get<std::string>().find("chunks") != std::string::npos)
          file = ch["name"].get<std::string>() + "_features.npy";
      arrays.push_back({e["start"].get<double>(), duration, e["start"].get<double>(), io::read_npy(base / file)});
    }
    const Tensor got = segment_event_arrays(arrays, {seg(g["segment_start"].get<double>(), g["segment_duration"].get<double>())});
    const Tensor expected = io::read_npy(base / g["file"].get<std::string>());
    EXPECT_LE(max_rel_diff(got, expected), 1e-4) << g["file"];
  }
}

TEST(SegmentFeatures, SegmentsAreBuiltOneByOne) {
  // A word straddling the 15 s boundary between two segments lands in both (upstream builds
  // each segment's buffer on its own); a word entirely in segment 1 only there.
  std::vector<events::Word> words(2);
  words[0].text = "across";
  words[0].start = 14.8;
  words[0].duration = 0.5;
  words[1].text = "later";
  words[1].start = 20.0;
  words[1].duration = 0.2;
  Tensor wf = Tensor::zeros(DType::F32, {2, 1, 2});
  wf.data<float>()[0] = 1.0f;  // word 0, [1, 2] = ones
  wf.data<float>()[1] = 1.0f;
  wf.data<float>()[2] = 10.0f;
  wf.data<float>()[3] = 10.0f;
  const Tensor got = segment_word_features(wf, words, {seg(0.0, 15.0), seg(15.0, 15.0)});
  ASSERT_EQ(shape_str(got.shape()), "[1, 2, 60]");
  const float* p = got.data<float>();
  EXPECT_EQ(p[29], 1.0f);       // last bin of segment 0
  EXPECT_EQ(p[30], 1.0f);       // first bin of segment 1
  EXPECT_EQ(p[30 + 10], 10.0f);  // 20 s = 5 s into segment 1
  float sum = 0.0f;
  for (int i = 0; i < 60; ++i) sum += p[i];
  EXPECT_EQ(sum, 12.0f);
  // Zero-duration words at a segment start are not events of that segment (start < stop and
  // stop > start), as in SegmentDataset.
  std::vector<events::Word> edge(1);
  edge[0].start = 15.0;
  const Tensor e = segment_word_features(Tensor::zeros(DType::F32, {1, 1, 2}), edge, {seg(0.0, 15.0), seg(15.0, 15.0)});
  EXPECT_EQ(e.dim(-1), 60);
  EXPECT_THROW_MSG(segment_word_features(wf, edge, {seg(0.0, 15.0)}), "2 rows for 1 words");
  EXPECT_THROW_MSG(segment_event_arrays({}, {seg(0.0, 15.0)}), "no feature arrays");
}

// `tribev2 text-features` end to end: the grid and word features of the fixtures, a rerun from
// the cache, the GGUF route, the text64 brain model reading the output, and input errors.
#include <gtest/gtest.h>

#include <sstream>

#include "support/test_support.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/io/npy.hpp"

using namespace tribev2;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {
const std::string kLlama = fixture("text_features/tiny-llama").string();
const std::string kWords8 = fixture("text_features/ctx8/words.json").string();
const std::string kWords1024 = fixture("text_features/ctx1024/words.json").string();
}  // namespace

TEST(TextFeaturesCli, GridAndWordFeaturesMatchTheFixtures) {
  TempDir tmp;
  const auto r = run_cli({"text-features", "--llama", kLlama, "--words", kWords8, "--max-context-len", "8", "--output",
                          (tmp / "grid.npy").string(), "--word-features", (tmp / "words.npy").string(), "--start", "10.25",
                          "--duration", "12", "--cache-dir", (tmp / "cache").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "grid.npy"), io::read_npy(fixture("text_features/ctx8/grid_start10.25_dur12.npy"))), 1e-4);
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "words.npy"), io::read_npy(fixture("text_features/ctx8/word_features.npy"))), 1e-4);
  EXPECT_NE(r.output.find("46 words (46 with context), "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("from the stage cache"), std::string::npos) << r.output;
  // The rerun takes the word list's features from the stage cache (the model is not even
  // loaded) and gives identical files; the entry is a verified stage-cache entry.
  const auto again = run_cli({"text-features", "--llama", kLlama, "--words", kWords8, "--max-context-len", "8", "--output",
                              (tmp / "grid2.npy").string(), "--start", "10.25", "--duration", "12", "--cache-dir",
                              (tmp / "cache").string()});
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("46 words (46 with context), all from the stage cache"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("tiny-llama"), std::string::npos) << "the model was loaded: " << again.output;
  EXPECT_EQ(read_bytes(tmp / "grid.npy"), read_bytes(tmp / "grid2.npy"));
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp / "cache" / "text-features")) {
    if (e.path().filename().string().rfind(".tmp", 0) == 0) continue;
    ++entries;
    EXPECT_TRUE(fs::is_regular_file(e.path() / "entry.json")) << e.path();
    EXPECT_TRUE(fs::is_regular_file(e.path() / "word_features.npy")) << e.path();
  }
  EXPECT_EQ(entries, 1u);
  // In units of 7 words (each range computed alone, no key/value cache shared across ranges):
  // the same features at the fixtures' tolerance.
  const auto units = run_cli({"text-features", "--llama", kLlama, "--words", kWords8, "--max-context-len", "8",
                              "--output", (tmp / "grid7.npy").string(), "--word-features", (tmp / "words7.npy").string(),
                              "--start", "10.25", "--duration", "12", "--no-cache", "--text-unit-words", "7"});
  ASSERT_EQ(units.code, 0) << units.output;
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "grid7.npy"), io::read_npy(fixture("text_features/ctx8/grid_start10.25_dur12.npy"))), 1e-4);
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "words7.npy"), io::read_npy(fixture("text_features/ctx8/word_features.npy"))), 1e-4);
  // Options that change the values are other entries: --per-word computes again.
  const auto per_word = run_cli({"text-features", "--llama", kLlama, "--words", kWords8, "--max-context-len", "8",
                                 "--output", (tmp / "grid3.npy").string(), "--start", "10.25", "--duration", "12",
                                 "--cache-dir", (tmp / "cache").string(), "--per-word"});
  ASSERT_EQ(per_word.code, 0) << per_word.output;
  EXPECT_EQ(per_word.output.find("from the stage cache"), std::string::npos) << per_word.output;
}

TEST(TextFeaturesCli, WordsWithoutSentencesGetThemFromRules) {
  // A words.tsv (text, start, duration) as a transcription tool writes it: the sentences are
  // computed (AddText + AddSentenceToWords without spaCy), so every word gets a context.
  TempDir tmp;
  std::string tsv = "text\tstart\tduration\n";
  for (const auto& w : events::read_words(kWords8)) {
    std::ostringstream line;
    line << w.text << "\t" << w.start << "\t" << w.duration << "\n";
    tsv += line.str();
  }
  write_bytes(tmp / "words.tsv", tsv);
  const auto r = run_cli({"text-features", "--llama", kLlama, "--words", (tmp / "words.tsv").string(), "--max-context-len",
                          "8", "--output", (tmp / "grid.npy").string(), "--no-cache"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sentences: 5 from rules"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("46 words (46 with context"), std::string::npos) << r.output;
  EXPECT_EQ(io::read_npy(tmp / "grid.npy").dim(0), 2);
}

TEST(TextFeaturesCli, DefaultWindowPerWordLoopAndGgufRoute) {
  TempDir tmp;
  // Default S = 0, D = end of the last word (28.942 s -> round(57.884) = 58 bins).
  const auto r = run_cli({"--quiet", "text-features", "--llama", kLlama, "--words", kWords1024, "--output",
                          (tmp / "grid.npy").string(), "--no-cache", "--per-word"});
  ASSERT_EQ(r.code, 0) << r.output;
  const Tensor grid = io::read_npy(tmp / "grid.npy");
  EXPECT_EQ(grid.shape(), (Shape{2, 64, 58}));
  // Its first 58 bins are those of the fixture's 100 s grid (same start).
  const Tensor g100 = io::read_npy(fixture("text_features/ctx1024/grid_start0_dur100.npy"));
  MaxDiff d;
  for (std::int64_t c = 0; c < 128; ++c)
    for (std::int64_t t = 0; t < 58; ++t) d.add(grid.data<float>()[c * 58 + t], g100.data<float>()[c * 200 + t]);
  EXPECT_LE(d.rel(), 1e-4);
  // The same from a BF16 GGUF conversion of the checkpoint.
  text::write_llama_gguf(kLlama, tmp / "tiny.gguf", tribev2::WeightType::BF16);
  const auto rg = run_cli({"--quiet", "text-features", "--llama", (tmp / "tiny.gguf").string(), "--words", kWords1024,
                           "--output", (tmp / "grid_gguf.npy").string(), "--no-cache"});
  ASSERT_EQ(rg.code, 0) << rg.output;
  EXPECT_LE(max_rel_diff(io::read_npy(tmp / "grid_gguf.npy"), grid), 1e-4);
}

TEST(TextFeaturesCli, PredictReadsTheGrid) {
  TempDir tmp;
  ASSERT_EQ(run_cli({"--quiet", "text-features", "--llama", kLlama, "--words", kWords1024, "--output",
                     (tmp / "text.npy").string(), "--duration", "30", "--no-cache"})
                .code,
            0);
  const auto r = run_cli({"--quiet", "predict", "--model", fixture("brain_model/text64_pipeline").string(), "--features",
                          "text=" + (tmp / "text.npy").string(), "--output", (tmp / "preds.npy").string()});
  ASSERT_EQ(r.code, 0) << r.output;
  const Tensor p = io::read_npy(tmp / "preds.npy");
  EXPECT_EQ(p.ndim(), 2);
  EXPECT_EQ(p.dim(0), 30);  // one row per second
}

TEST(TextFeaturesCli, BadInputsGiveClearErrors) {
  TempDir tmp;
  const std::string out = (tmp / "o.npy").string();
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"text-features", "--output", out, "--no-cache"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  auto expect_error = [&](const std::vector<std::string>& extra, const std::string& msg) {
    const auto r = run(extra);
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_NE(r.output.find(msg), std::string::npos) << r.output;
  };
  expect_error({"--llama", kLlama, "--words", kWords8, "--media-duration", "20"}, "outside the media duration [0, 20] s");
  write_bytes(tmp / "empty.json", R"({"words": []})");
  expect_error({"--llama", kLlama, "--words", (tmp / "empty.json").string()}, "empty.json: no words");
  write_bytes(tmp / "notext.json",
              R"({"words": [{"text": "", "start": 0.1, "duration": 0.2, "sentence": "Hi. ", "sentence_char": 0}]})");
  expect_error({"--llama", kLlama, "--words", (tmp / "notext.json").string()}, "word 0 has empty text");
  write_bytes(tmp / "t.tsv", "text\tstart\tduration\tsequence_id\tsentence\nHello\t0.5\t0.25\t0\tHello world.\n");
  expect_error({"--llama", kLlama, "--words", (tmp / "t.tsv").string(), "--sentences", "given"},
               "no word has a sentence and sentence_char (--sentences given)");
  expect_error({"--llama", kLlama, "--words", (tmp / "t.tsv").string(), "--sentences", "spacy"}, "--sentences must be");
  expect_error({"--llama", kLlama, "--words", (tmp / "t.tsv").string(), "--text-case", "title"}, "--text-case must be");
  expect_error({"--llama", (tmp / "nothing").string(), "--words", kWords8}, "nothing: no such file or folder (and not a Hugging Face repo id");
  expect_error({"--llama", kLlama, "--words", kWords8, "--start", "40"}, "the segment needs a positive duration");
  expect_error({"--llama", kLlama, "--words", kWords8, "--llama-precision", "f8"}, "--llama-precision must be f32 or bf16");
  write_bytes(tmp / "tok.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  expect_error({"--llama", kLlama, "--words", kWords8, "--tokenizer", (tmp / "tok.json").string()},
               "model.type is \"Unigram\"; only byte-level BPE (Llama 3) tokenizers are supported");
  write_bytes(tmp / "bad.gguf", "GGUF\x03\x00\x00\x00");
  expect_error({"--llama", (tmp / "bad.gguf").string(), "--words", kWords8}, "truncated GGUF file");
  EXPECT_FALSE(fs::exists(out));
}

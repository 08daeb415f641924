// Issue 18: shard specs, the cost-balanced shard assignment, manifest parsing (and every error
// naming the file, row and column), Slurm script generation, batch.tsv; and `tribev2 run
// --shard` on the tiny models: shards into one cache, then a plain run, byte-identical to a
// single-process run.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "tribev2/pipeline/batch.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
namespace fs = std::filesystem;

namespace {

EnvFn env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& name) -> std::optional<std::string> {
    const auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST(Batch, ParseShard) {
  const auto none = env_of({});
  const Shard s = parse_shard("2/8", none);
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.str(), "2/8");
  EXPECT_EQ(parse_shard("1/1", none).count, 1);
  EXPECT_THROW_MSG(parse_shard("0/4", none), "K must be in 1..N");
  EXPECT_THROW_MSG(parse_shard("5/4", none), "K must be in 1..N");
  EXPECT_THROW_MSG(parse_shard("2", none), "must be K/N");
  EXPECT_THROW_MSG(parse_shard("a/b", none), "must be K/N");
  EXPECT_THROW_MSG(parse_shard("-1/4", none), "must be K/N");
  EXPECT_THROW_MSG(parse_shard("auto", none), "SLURM_ARRAY_TASK_ID");
  // Slurm arrays: 0-based (--array=0-3) and 1-based (--array=1-4) both give shards 1..4.
  Shard a = parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                        {"SLURM_ARRAY_TASK_MIN", "0"}}));
  EXPECT_EQ(a.index, 1);
  EXPECT_EQ(a.count, 4);
  a = parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                  {"SLURM_ARRAY_TASK_MIN", "1"}}));
  EXPECT_EQ(a.index, 4);
  // A resubmission of tasks 2 and 4 of 4: COUNT is 2, TRIBEV2_SHARD_COUNT keeps N.
  a = parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "2"},
                                  {"SLURM_ARRAY_TASK_MIN", "2"}, {"TRIBEV2_SHARD_COUNT", "4"}}));
  EXPECT_EQ(a.index, 4);
  EXPECT_EQ(a.count, 4);
  EXPECT_THROW_MSG(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
                   "SLURM_ARRAY_TASK_ID is 'x'");
  EXPECT_THROW_MSG(parse_shard("auto", env_of({{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_COUNT", "4"}})),
                   "is not a shard");
}

TEST(Batch, AssignShardsIsDeterministicAndBalanced) {
  const std::vector<double> costs = {10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9};
  const auto a = assign_shards(costs, 2);
  EXPECT_EQ(a, assign_shards(costs, 2));
  ASSERT_EQ(a.size(), costs.size());
  double load[2] = {0, 0};
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_GE(a[i], 1);
    ASSERT_LE(a[i], 2);
    load[a[i] - 1] += costs[i];
  }
  EXPECT_EQ(load[0] + load[1], 29.0);
  EXPECT_LE(std::abs(load[0] - load[1]), 1.0) << "greedy by decreasing cost: within the smallest unit";
  EXPECT_NE(a[0], a[11]) << "the two big units go to different shards";
  // Equal costs: round robin over the shards, every shard gets work.
  const auto b = assign_shards(std::vector<double>(8, 1.0), 4);
  EXPECT_EQ(b, (std::vector<int>{1, 2, 3, 4, 1, 2, 3, 4}));
  // More shards than units: the extra shards are empty.
  EXPECT_EQ(assign_shards({3.0, 5.0}, 4), (std::vector<int>{2, 1}));
  EXPECT_EQ(assign_shards({}, 3).size(), 0u);
  EXPECT_THROW_MSG(assign_shards({1.0}, 0), "must be >= 1");
  EXPECT_THROW_MSG(assign_shards({1.0, -1.0}, 2), "unit 1 has cost");
}

TEST(Batch, ParseManifestTsvAndCsv) {
  TempDir tmp;
  write_bytes(tmp / "a.txt", "Hello there. A test.");
  write_bytes(tmp / "b.wav", std::string(32000, 'x'));
  write_bytes(tmp / "b.json", "{}");
  write_bytes(tmp / "m.tsv", "id\ttext\taudio\ttranscript\tlanguage\n"
                             "# a comment\n"
                             "first\ta.txt\t\t\t\n"
                             "\n"
                             "second\t\tb.wav\tb.json\tfr\n");
  const auto items = parse_manifest(tmp / "m.tsv");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].id, "first");
  EXPECT_EQ(items[0].kind, "text");
  EXPECT_EQ(items[0].row, 3u);
  EXPECT_EQ(items[0].path, fs::absolute(tmp / "a.txt").lexically_normal());
  EXPECT_TRUE(items[0].options.empty());
  EXPECT_EQ(items[1].kind, "audio");
  EXPECT_EQ(items[1].row, 5u);
  EXPECT_EQ(items[1].options.at("language"), "fr");
  EXPECT_EQ(items[1].options.at("transcript"), fs::absolute(tmp / "b.json").lexically_normal().string());
  EXPECT_GT(items[0].cost, 0.0);
  EXPECT_GT(items[1].cost, 0.0);

  write_bytes(tmp / "m.csv", "id,audio,transcript\n\"x,1\",b.wav,\"b.json\"\n");
  EXPECT_THROW_MSG(parse_manifest(tmp / "m.csv"), "column 'id': 'x,1' is not usable");
  write_bytes(tmp / "m.csv", "id,audio,transcript\nx1,b.wav,\"b.json\"\n");
  const auto c = parse_manifest(tmp / "m.csv");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, "x1");
  EXPECT_EQ(c[0].kind, "audio");
}

TEST(Batch, ManifestErrorsNameFileRowAndColumn) {
  TempDir tmp;
  write_bytes(tmp / "a.txt", "Hello.");
  const fs::path m = tmp / "m.tsv";
  auto bad = [&](const std::string& text, const std::string& msg) {
    write_bytes(m, text);
    EXPECT_THROW_MSG(parse_manifest(m), msg);
    EXPECT_THROW_MSG(parse_manifest(m), m.string());
  };
  EXPECT_THROW_MSG(parse_manifest(tmp / "none.tsv"), "no such file");
  bad("", "empty");
  bad("id\ttext\n", "no items");
  bad("name\ttext\nx\ta.txt\n", "row 1 (header): unknown column 'name'");
  bad("text\nx\n", "row 1 (header): no 'id' column");
  bad("id\tlanguage\nx\ten\n", "no stimulus column");
  bad("id\ttext\tid\nx\ta.txt\tx\n", "column 'id' appears twice");
  bad("id\ttext\nx\ta.txt\textra\n", "row 2: 3 fields, expected 2");
  bad("id\ttext\nx\ta.txt\n\t a.txt\n", "row 3, column 'id': empty");
  bad("id\ttext\nx\ta.txt\nx\ta.txt\n", "row 3, column 'id': 'x' appears twice");
  bad("id\ttext\n../up\ta.txt\n", "row 2, column 'id': '../up' is not usable");
  bad("id\ttext\nslurm\ta.txt\n", "not slurm");
  bad("id\ttext\nx\tmissing.txt\n", "row 2, column 'text': ");
  bad("id\ttext\nx\tmissing.txt\n", "missing.txt does not exist");
  bad("id\ttext\taudio\nx\ta.txt\ta.txt\n", "row 2: both 'text' and 'audio' are filled");
  bad("id\ttext\taudio\nx\t\t\n", "row 2: no stimulus");
  bad("id\taudio\ttranscript\nx\ta.txt\tnone.json\n", "row 2, column 'transcript': ");
  bad("id\ttext\ttranscript\nx\ta.txt\ta.txt\n", "a text stimulus has no transcript");
  bad("id\ttext\tspeech_rate\nx\ta.txt\tfast\n", "row 2, column 'speech_rate': 'fast'");
  write_bytes(tmp / "m.csv", "id,text\n\"x,a.txt\n");
  EXPECT_THROW_MSG(parse_manifest(tmp / "m.csv"), "row 2: unterminated");
}

TEST(Batch, SbatchScripts) {
  EXPECT_EQ(array_spec(4, {}, 2), "1-4%2");
  EXPECT_EQ(array_spec(1, {}, 0), "1");
  EXPECT_EQ(array_spec(8, {2, 5}, 3), "2,5%3");
  SlurmOptions o;
  o.partition = "cpu";
  o.time = "04:00:00";
  o.mem = "16G";
  o.account = "lab";
  o.cpus = 8;
  o.max_parallel = 2;
  o.sbatch_args = {"--qos=low"};
  const std::string a = array_sbatch("tribev2-batch-x", "/d/slurm/logs", "/work/dir", o, 4, {}, "/bin/tribev2 batch m.tsv --out x --shard auto");
  EXPECT_EQ(a.rfind("#!/bin/bash\n", 0), 0u);
  for (const char* line : {"#SBATCH --array=1-4%2\n", "#SBATCH --job-name=tribev2-batch-x\n", "#SBATCH --chdir=/work/dir\n",
                           "#SBATCH --output=/d/slurm/logs/task-%a-%A.log\n", "#SBATCH --partition=cpu\n",
                           "#SBATCH --time=04:00:00\n", "#SBATCH --mem=16G\n", "#SBATCH --account=lab\n",
                           "#SBATCH --cpus-per-task=8\n", "#SBATCH --qos=low\n", "export TRIBEV2_SHARD_COUNT=4\n",
                           "exec /bin/tribev2 batch m.tsv --out x --shard auto\n"})
    EXPECT_NE(a.find(line), std::string::npos) << line << " not in\n" << a;
  // #SBATCH lines must all come before the first command.
  EXPECT_LT(a.rfind("#SBATCH"), a.find("set -euo pipefail"));
  const std::string r = array_sbatch("j", "/l", "/w", SlurmOptions{}, 4, {1, 3}, "cmd");
  EXPECT_NE(r.find("#SBATCH --array=1,3\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("--partition"), std::string::npos);
  EXPECT_NE(r.find("export TRIBEV2_SHARD_COUNT=4\n"), std::string::npos);
  const std::string gs = gather_sbatch("j-gather", "/l", "/w", o, "/bin/tribev2 batch-status x --gather");
  EXPECT_EQ(gs.find("--array"), std::string::npos);
  EXPECT_NE(gs.find("#SBATCH --output=/l/gather-%j.log\n"), std::string::npos);
  EXPECT_NE(gs.find("exec /bin/tribev2 batch-status x --gather\n"), std::string::npos);
  EXPECT_EQ(shell_quote("plain/path"), "plain/path");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

TEST(Batch, StatusFilesAndBatchTsv) {
  TempDir tmp;
  ItemStatus s;
  s.id = "a";
  s.status = "failed";
  s.shard = 2;
  s.seconds = 1.5;
  s.error = "bad\tthing\nhere";
  write_item_status(tmp.path(), s);
  const auto r = read_item_status(tmp.path(), "a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, "failed");
  EXPECT_EQ(r->error, s.error);
  EXPECT_FALSE(read_item_status(tmp.path(), "b"));
  ManifestItem a, b;
  a.id = "a";
  a.kind = "text";
  b.id = "b";
  b.kind = "video";
  const std::string tsv = format_batch_tsv({a, b}, {2, 1}, {r, std::nullopt});
  EXPECT_EQ(tsv, "id\tkind\tshard\tstatus\tseconds\tstarted\tfinished\thost\tjob\terror\n"
                 "a\ttext\t2\tfailed\t1.500\t\t\t\t\tbad thing here\n"
                 "b\tvideo\t1\tpending\t0.000\t\t\t\t\t\n");
}

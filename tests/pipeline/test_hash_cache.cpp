// SHA-256 against the FIPS 180-4 / NIST example vectors, file hashing, model fingerprints and
// the stage cache's atomic entries.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"
#include "tribev2/io/cache_key.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/pipeline/cache.hpp"
#include "tribev2/pipeline/feature_store.hpp"
#include "tribev2/pipeline/hash.hpp"

using namespace tribev2;
using namespace tribev2::pipeline;
using namespace tribev2::test;
namespace fs = std::filesystem;

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                       "mnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  Sha256 h;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShotOnAwkwardSplits) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7 + 3);
  const std::string expected = sha256_hex(data);
  for (std::size_t split : {1u, 55u, 56u, 63u, 64u, 65u, 127u, 999u}) {
    Sha256 h;
    h.update(std::string_view(data).substr(0, split));
    h.update(std::string_view(data).substr(split));
    EXPECT_EQ(h.hex(), expected) << split;
  }
  TempDir tmp;
  write_bytes(tmp / "f.bin", data);
  EXPECT_EQ(sha256_file(tmp / "f.bin"), expected);
  EXPECT_THROW_MSG(sha256_file(tmp / "missing"), "cannot read");
}

TEST(Sha256, FingerprintChangesWithContentAndNames) {
  TempDir tmp;
  fs::create_directories(tmp / "m" / "sub");
  write_bytes(tmp / "m" / "config.json", "{}");
  write_bytes(tmp / "m" / "sub" / "w.bin", "weights");
  write_bytes(tmp / "m" / ".hidden", "ignored");
  const std::string a = fingerprint_path(tmp / "m");
  write_bytes(tmp / "m" / ".hidden", "changed");
  EXPECT_EQ(fingerprint_path(tmp / "m"), a);
  write_bytes(tmp / "m" / "sub" / "w.bin", "weightz");
  const std::string b = fingerprint_path(tmp / "m");
  EXPECT_NE(b, a);
  fs::rename(tmp / "m" / "sub" / "w.bin", tmp / "m" / "sub" / "v.bin");
  EXPECT_NE(fingerprint_path(tmp / "m"), b);
  EXPECT_THROW_MSG(fingerprint_path(tmp / "nope"), "does not exist");
}

TEST(StageCache, StoreFindRecompute) {
  TempDir tmp;
  Cleanup cleanup;
  StageCache cache(tmp / "c", cleanup);
  const std::string key = CacheKey("s").precision(Precision::F32).set("b", 1).set("a", "x").hex();
  EXPECT_EQ(key, CacheKey("s").set("a", "x").precision(Precision::F32).set("b", 1).hex()) << "keys are canonical (sorted)";
  EXPECT_FALSE(cache.find("s", key));
  const fs::path dir = cache.store("s", key, {{"n", 3}}, [](const fs::path& d) { write_bytes(d / "x.txt", "hi"); });
  ASSERT_TRUE(cache.find("s", key));
  EXPECT_EQ(*cache.find("s", key), dir);
  EXPECT_EQ(read_bytes(dir / "x.txt"), "hi");
  EXPECT_NE(read_bytes(dir / "entry.json").find("\"n\": 3"), std::string::npos);
  // A failing fill leaves nothing behind.
  EXPECT_THROW(cache.store("s", "k2", {}, [](const fs::path&) { throw std::runtime_error("boom"); }), std::runtime_error);
  EXPECT_FALSE(cache.find("s", "k2"));
  for (const auto& e : fs::directory_iterator(tmp / "c" / "s"))
    EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << e.path();
  // An entry folder without entry.json (e.g. copied by hand) is not an entry.
  fs::create_directories(tmp / "c" / "s" / "k3");
  EXPECT_FALSE(cache.find("s", "k3"));
  // Recompute ignores entries and replaces them.
  StageCache again(tmp / "c", cleanup, true);
  EXPECT_FALSE(again.find("s", key));
  again.store("s", key, {}, [](const fs::path& d) { write_bytes(d / "x.txt", "new"); });
  EXPECT_EQ(read_bytes(*cache.find("s", key) / "x.txt"), "new");
}

TEST(StageCache, StaleTemporaryFoldersOfDeadProcessesAreRemoved) {
  TempDir tmp;
  Cleanup cleanup;
  StageCache cache(tmp / "c", cleanup);
  // pid 0x7ffffff0 does not exist.
  const fs::path stale = tmp / "c" / "s" / ".tmp-0123456789abcdef-2147483632-0";
  fs::create_directories(stale);
  write_bytes(stale / "half.npy", "x");
  cache.store("s", "k", {}, [](const fs::path&) {});
  EXPECT_FALSE(fs::exists(stale));
  // Work folders are tracked for the interrupt cleanup and removed on release.
  const fs::path w = cache.make_work_dir("asr");
  EXPECT_TRUE(fs::is_directory(w));
  EXPECT_EQ(cleanup.run_now(), 1u);
  EXPECT_FALSE(fs::exists(w));
}

// On a shared (NFS) cache a pid means something only on its host: temporaries are named
// ...@<host>; another host's are kept (that task may still be writing), this host's dead ones go.
TEST(StageCache, TemporariesOfOtherHostsAreKept) {
  TempDir tmp;
  Cleanup cleanup;
  StageCache cache(tmp / "c", cleanup);
  const fs::path foreign = tmp / "c" / "s" / ".tmp-0123456789abcdef-2147483632-0@some-other-node.cluster";
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const fs::path local_dead = tmp / "c" / "s" / (".tmp-0123456789abcdef-2147483632-1@" + std::string(host));
  fs::create_directories(foreign);
  fs::create_directories(local_dead);
  const fs::path entry = cache.store("s", "k", {}, [](const fs::path& d) { write_bytes(d / "x", "1"); });
  EXPECT_TRUE(fs::exists(foreign)) << "another node's task may still be writing it";
  EXPECT_FALSE(fs::exists(local_dead));
  EXPECT_TRUE(verify_cache_entry(entry));
  // The store's own temporary carried this host's name and is gone after the rename.
  for (const auto& e : fs::directory_iterator(tmp / "c" / "s")) {
    if (e.path() != foreign) {
      EXPECT_EQ(e.path().filename().string().rfind(".tmp-", 0), std::string::npos) << e.path();
    }
  }
}

TEST(StageCache, CorruptedEntriesAreDetectedAndRecomputed) {
  TempDir tmp;
  Cleanup cleanup;
  StageCache cache(tmp / "c", cleanup);
  const std::string key = CacheKey("s").precision_independent().set("k", 1).hex();
  const auto store = [&](const std::string& payload) {
    return cache.store("s", key, {{"n", 3}, {"x", 0.1}}, [&](const fs::path& d) {
      write_bytes(d / "a.npy", payload);
      fs::create_directories(d / "sub");
      write_bytes(d / "sub" / "b.txt", "bbb");
    });
  };
  const fs::path dir = store("payload");
  ASSERT_TRUE(cache.find("s", key));
  EXPECT_TRUE(verify_cache_entry(dir));
  // Each corruption hides the entry; storing again replaces it with a valid one.
  const std::vector<std::pair<std::string, std::function<void()>>> corruptions = {
      {"flipped byte", [&] { write_bytes(dir / "a.npy", "paylOad"); }},
      {"truncated file", [&] { write_bytes(dir / "a.npy", "pay"); }},
      {"file in a subfolder", [&] { write_bytes(dir / "sub" / "b.txt", "bbc"); }},
      {"missing file", [&] { fs::remove(dir / "sub" / "b.txt"); }},
      {"extra file", [&] { write_bytes(dir / "extra", "x"); }},
      {"edited entry.json", [&] {
         std::string e = read_bytes(dir / "entry.json");
         e.replace(e.find("\"n\": 3"), 6, "\"n\": 4");
         write_bytes(dir / "entry.json", e);
       }},
      {"truncated entry.json", [&] { write_bytes(dir / "entry.json", read_bytes(dir / "entry.json").substr(0, 20)); }},
      {"entry.json without hashes", [&] { write_bytes(dir / "entry.json", "{\"n\": 3, \"key\": \"" + key + "\"}"); }},
  };
  for (const auto& [what, corrupt] : corruptions) {
    corrupt();
    EXPECT_FALSE(verify_cache_entry(dir)) << what;
    EXPECT_FALSE(cache.find("s", key)) << what;
    EXPECT_EQ(store("payload"), dir) << what;
    ASSERT_TRUE(cache.find("s", key)) << what;
    EXPECT_EQ(read_bytes(dir / "a.npy"), "payload") << what;
    EXPECT_FALSE(fs::exists(dir / "extra")) << what;
  }
  // A valid entry stored by someone else is kept, not replaced.
  store("other");
  EXPECT_EQ(read_bytes(dir / "a.npy"), "payload");
}

TEST(AtomicFile, TemporariesOfDeadProcessesAreRemovedAndFolderErrorsAreClear) {
  TempDir tmp;
  // pid 0x7ffffff0 does not exist; the live pid's file (ours) and other names are kept.
  const fs::path stale = tmp / ".tmp-out.npy-2147483632-12345";
  const fs::path ours = tmp / (".tmp-out.npy-" + std::to_string(::getpid()) + "-1");
  const fs::path other = tmp / ".tmp-other.npy-2147483632-1";
  for (const auto& p : {stale, ours, other}) write_bytes(p, "half");
  io::write_text_file_atomic(tmp / "out.npy", "whole");
  EXPECT_EQ(read_bytes(tmp / "out.npy"), "whole");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(ours));
  EXPECT_TRUE(fs::exists(other));
  // A folder that cannot be created (a file is in the way) is named in the error.
  write_bytes(tmp / "file", "x");
  EXPECT_THROW_MSG(io::write_text_file_atomic(tmp / "file" / "sub" / "out.txt", "x"), "cannot create the folder");
}

TEST(UserCacheDir, OneRootForTheExtractorCommands) {
  // $TRIBEV2_CACHE_DIR, else $XDG_CACHE_HOME/tribev2, else ~/.cache/tribev2; each restored after.
  struct Env {
    std::string name;
    std::optional<std::string> old;
    explicit Env(std::string n) : name(std::move(n)) {
      if (const char* v = std::getenv(name.c_str())) old = v;
    }
    ~Env() { old ? ::setenv(name.c_str(), old->c_str(), 1) : ::unsetenv(name.c_str()); }
  } t("TRIBEV2_CACHE_DIR"), x("XDG_CACHE_HOME"), h("HOME");
  ::setenv("TRIBEV2_CACHE_DIR", "/c/t", 1);
  ::setenv("XDG_CACHE_HOME", "/c/x", 1);
  ::setenv("HOME", "/c/h", 1);
  EXPECT_EQ(io::user_cache_dir("audio"), std::filesystem::path("/c/t/audio"));
  ::unsetenv("TRIBEV2_CACHE_DIR");
  EXPECT_EQ(io::user_cache_dir("video"), std::filesystem::path("/c/x/tribev2/video"));
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(io::user_cache_dir("text-features"), std::filesystem::path("/c/h/.cache/tribev2/text-features"));
  ::unsetenv("HOME");
  EXPECT_TRUE(io::user_cache_dir("audio").empty());
}

// The extractors' entries (pipeline::FeatureStore): word ranges, their concatenation, and keys
// that change with everything a feature depends on.
TEST(FeatureStore, TextRangesCoverTheWordsInOrder) {
  using R = std::vector<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(pipeline::text_ranges(0, 4), R{});
  EXPECT_EQ(pipeline::text_ranges(3, 4), (R{{0, 3}}));
  EXPECT_EQ(pipeline::text_ranges(8, 4), (R{{0, 4}, {4, 8}}));
  EXPECT_EQ(pipeline::text_ranges(9, 4), (R{{0, 4}, {4, 8}, {8, 9}}));
  EXPECT_THROW(pipeline::text_ranges(9, 0), Error);
  const Tensor a = Tensor::from<float>({2, 1, 2}, std::vector<float>{1, 2, 3, 4});
  const Tensor b = Tensor::from<float>({1, 1, 2}, std::vector<float>{5, 6});
  const Tensor c = pipeline::concat_word_features({a, b}, 3);
  EXPECT_EQ(c.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(std::vector<float>(c.f32().begin(), c.f32().end()), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  try {
    (void)pipeline::concat_word_features({a, Tensor::zeros(DType::F32, {1, 2, 2})}, 3);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("word ranges disagree in shape"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)pipeline::concat_word_features({a}, 3), Error);
}

TEST(FeatureStore, KeysFollowContentChunkModelExtractorAndPrecision) {
  test::TempDir tmp;
  write_bytes(tmp / "a.wav", "one");
  write_bytes(tmp / "b.wav", "two");
  fs::create_directories(tmp / "model");
  write_bytes(tmp / "model" / "config.json", "{}");
  pipeline::Cleanup cleanup;
  pipeline::StageCache cache(tmp / "cache", cleanup);
  const Context f32(1), bf16(1, Precision::BF16);
  pipeline::FeatureStore s(f32, cache), s16(bf16, cache);
  const events::MediaEvent c{"Audio", tmp / "a.wav", 0.0, 0.0, 60.0, 16000.0};
  const std::string k = s.media_key("audio", tmp / "model", "x/1", c);
  EXPECT_EQ(k, s.media_key("audio", tmp / "model", "x/1", events::MediaEvent{"Audio", tmp / "a.wav", 5.0, 0.0, 60.0, 16000.0}))
      << "the timeline start is not part of the key (the chunk's content is)";
  EXPECT_NE(k, s.media_key("audio", tmp / "model", "x/1", events::MediaEvent{"Audio", tmp / "b.wav", 0.0, 0.0, 60.0, 16000.0}));
  EXPECT_NE(k, s.media_key("audio", tmp / "model", "x/1", events::MediaEvent{"Audio", tmp / "a.wav", 0.0, 1.0, 60.0, 16000.0}));
  EXPECT_NE(k, s.media_key("audio", tmp / "model", "x/1", events::MediaEvent{"Audio", tmp / "a.wav", 0.0, 0.0, 59.0, 16000.0}));
  EXPECT_NE(k, s.media_key("audio", tmp / "model", "x/1 layers=0.5,1", c));
  EXPECT_NE(k, s.media_key("video", tmp / "model", "x/1", c));
  EXPECT_NE(k, s16.media_key("audio", tmp / "model", "x/1", c));
  write_bytes(tmp / "model" / "config.json", "{\"changed\": 1}");
  pipeline::FeatureStore fresh(f32, cache);
  EXPECT_NE(k, fresh.media_key("audio", tmp / "model", "x/1", c)) << "another model is another key";
  // Find-or-compute: computed once, then found; the entry holds what was computed.
  int computed = 0;
  const auto compute = [&] {
    ++computed;
    return Tensor::from<float>({1, 1, 2}, std::vector<float>{7, 8});
  };
  const auto g1 = fresh.media_chunk("audio", tmp / "model", "x/1", c, compute);
  const auto g2 = fresh.media_chunk("audio", tmp / "model", "x/1", c, compute);
  EXPECT_TRUE(g1.computed);
  EXPECT_FALSE(g2.computed);
  EXPECT_EQ(computed, 1);
  EXPECT_EQ(std::vector<float>(g2.data.f32().begin(), g2.data.f32().end()), (std::vector<float>{7, 8}));
  EXPECT_TRUE(pipeline::verify_cache_entry(cache.root() / "audio-features" / g1.key));
  // A wrong shape from an extractor is refused before anything is stored.
  EXPECT_THROW((void)fresh.media_chunk("audio", tmp / "model", "x/2", c, [] { return Tensor::zeros(DType::F32, {3}); }),
               Error);
}

#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tribev2/viz/fetch.hpp"
#include "viz_test_support.hpp"

using namespace tribev2;
using namespace tribev2::viz;
namespace fs = std::filesystem;

namespace {
std::string file_url(const fs::path& dir) { return "file://" + fs::absolute(dir).string() + "/"; }
std::span<const std::byte> bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
}  // namespace

TEST(Fetch, Sha256KnownValues) {
  EXPECT_EQ(sha256_hex(bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(bytes("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Fetch, PinnedListMatchesTheSharedFiles) {
  const fs::path real = vtest::real_fsaverage5_dir();
  ASSERT_EQ(fsaverage5_files().size(), 12u);
  EXPECT_EQ(fsaverage5_base_url().substr(0, 34), "https://raw.githubusercontent.com/");
  if (real.empty()) GTEST_SKIP() << "needs ../shared/data/fsaverage5 to check the pinned hashes";
  EXPECT_TRUE(verify_files(real, fsaverage5_files()).empty());
}

// A local "server" (a folder behind a file:// URL) stands in for the network.
TEST(Fetch, DownloadsChecksAndSkips) {
  tribev2::test::TempDir tmp;
  fs::create_directories(tmp / "server");
  tribev2::test::write_bytes(tmp / "server" / "a.bin", "first file");
  tribev2::test::write_bytes(tmp / "server" / "b.bin", "second file");
  const std::string ha = sha256_hex(bytes("first file")), hb = sha256_hex(bytes("second file"));
  const PinnedFile files[] = {{"a.bin", ha}, {"b.bin", hb}};
  FetchOptions o;
  o.base_url = file_url(tmp / "server");
  std::vector<std::string> lines;
  o.log = [&](const std::string& l) { lines.push_back(l); };
  auto r = fetch_files(tmp / "dest", files, o);
  EXPECT_EQ(r.downloaded, 2);
  EXPECT_EQ(tribev2::test::read_bytes(tmp / "dest" / "b.bin"), "second file");
  EXPECT_TRUE(verify_files(tmp / "dest", files).empty());
  r = fetch_files(tmp / "dest", files, o);  // already there: nothing downloaded
  EXPECT_EQ(r.downloaded, 0);
  EXPECT_EQ(r.already_present, 2);
  // A damaged local copy is detected and replaced.
  tribev2::test::write_bytes(tmp / "dest" / "a.bin", "tampered");
  EXPECT_EQ(verify_files(tmp / "dest", files), (std::vector<std::string>{"a.bin"}));
  r = fetch_files(tmp / "dest", files, o);
  EXPECT_EQ(r.downloaded, 1);
  EXPECT_EQ(tribev2::test::read_bytes(tmp / "dest" / "a.bin"), "first file");
}

TEST(Fetch, CorruptDownloadIsRejectedAndNotSaved) {
  tribev2::test::TempDir tmp;
  fs::create_directories(tmp / "server");
  tribev2::test::write_bytes(tmp / "server" / "a.bin", "corrupted in transit");
  const std::string want = sha256_hex(bytes("the real content"));  // PinnedFile holds views
  const PinnedFile files[] = {{"a.bin", want}};
  FetchOptions o;
  o.base_url = file_url(tmp / "server");
  EXPECT_THROW_MSG(fetch_files(tmp / "dest", files, o), "SHA-256 mismatch");
  EXPECT_FALSE(fs::exists(tmp / "dest" / "a.bin"));
  const PinnedFile missing[] = {{"nothere.bin", "00"}};
  EXPECT_THROW_MSG(fetch_files(tmp / "dest", missing, o), "nothere.bin failed");
  EXPECT_THROW_MSG(download("file://" + (tmp / "server" / "a.bin").string(), 10, 5), "larger than the limit of 5 bytes");
}

TEST(Fetch, RealFsaverage5ThroughFileUrl) {
  const fs::path real = vtest::real_fsaverage5_dir();
  if (real.empty()) GTEST_SKIP() << "needs ../shared/data/fsaverage5 (the pinned hashes are those files')";
  tribev2::test::TempDir tmp;
  FetchOptions o;
  o.base_url = file_url(real);
  const auto r = fetch_fsaverage5(tmp / "fs5", o);
  EXPECT_EQ(r.downloaded, 12);
  EXPECT_TRUE(verify_files(tmp / "fs5", fsaverage5_files()).empty());
  // A corrupt mirror: one file differs from its pinned hash.
  fs::create_directories(tmp / "mirror");
  for (const auto& f : fsaverage5_files()) fs::copy_file(real / std::string(f.name), tmp / "mirror" / std::string(f.name));
  tribev2::test::write_bytes(tmp / "mirror" / "sulc_left.gii.gz", "not the mesh");
  o.base_url = file_url(tmp / "mirror");
  o.force = true;
  EXPECT_THROW_MSG(fetch_fsaverage5(tmp / "fs5b", o), "sulc_left.gii.gz: SHA-256 mismatch (expected bd0f87e0");
}

TEST(Fetch, DefaultMeshDirFollowsEnvironment) {
  // Runs the CLI with a controlled environment rather than changing this process's.
  tribev2::test::TempDir tmp;
  const std::string cli = TRIBEV2_CLI;
  auto run = [&](const std::string& env) {
    const std::string cmd = "env -u TRIBEV2_MESH_DIR " + env + " '" + cli + "' fetch-mesh --check 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof(buf), p)) out += buf;
    if (p) pclose(p);
    return out;
  };
  EXPECT_NE(run("XDG_DATA_HOME=" + (tmp / "xdg").string()).find((tmp / "xdg" / "tribev2" / "fsaverage5").string()), std::string::npos);
  EXPECT_NE(run("-u XDG_DATA_HOME HOME=" + (tmp / "home").string()).find((tmp / "home" / ".local/share/tribev2/fsaverage5").string()),
            std::string::npos);
  EXPECT_NE(run("TRIBEV2_MESH_DIR=" + (tmp / "m").string()).find((tmp / "m").string() + ": missing or corrupt"), std::string::npos);
}

// Pinned atlas downloads, served by an HTTP server on 127.0.0.1 that the test starts (Python's
// http.server); nothing here touches the internet. Checks: the digest is verified, a wrong one
// is refused with nothing written, files already present are kept, zip members are extracted,
// the base-URL override (option and $TRIBEV2_ATLAS_BASE_URL) and the CLI.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support/test_support.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/zip.hpp"
#include "tribev2/roi/fetch_atlas.hpp"

extern char** environ;

using namespace tribev2;
using namespace tribev2::roi;
namespace fs = std::filesystem;

namespace {

std::span<const std::byte> bytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }
std::vector<std::byte> vec(const std::string& s) {
  const auto b = bytes(s);
  return {b.begin(), b.end()};
}

// Serves `root` on 127.0.0.1 at a free port until destroyed.
class LocalServer {
 public:
  explicit LocalServer(const fs::path& root, const fs::path& scratch) {
    const fs::path port_file = scratch / "port";
    const std::string script =
        "import http.server, functools, os, sys\n"
        "class Quiet(http.server.SimpleHTTPRequestHandler):\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=sys.argv[1]))\n"
        "open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1])); os.rename(sys.argv[2] + '.tmp', sys.argv[2])\n"
        "s.serve_forever()\n";
    const std::string root_s = root.string(), port_s = port_file.string();
    std::vector<std::string> args = {"/usr/bin/python3", "-c", script, root_s, port_s};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 200 && pid_ > 0 && !fs::exists(port_file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(port_file)) port_ = std::stoi(tribev2::test::read_bytes(port_file));
  }
  ~LocalServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
    }
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  bool ok() const { return port_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

bool have_python() { return fs::exists("/usr/bin/python3"); }

std::vector<std::string> files_in(const fs::path& d) {
  std::vector<std::string> out;
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(FetchAtlas, Digests) {
  EXPECT_EQ(digest_hex("md5", bytes("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(digest_hex("sha256", bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW_MSG(digest_hex("crc", bytes("abc")), "unknown algorithm 'crc'");
  // The pins are MNE's (md5) and every atlas has some.
  for (const AtlasKind k : {AtlasKind::HcpMmp1, AtlasKind::HcpMmp1Combined, AtlasKind::Desikan, AtlasKind::Destrieux})
    for (const auto& d : atlas_downloads(k)) {
      EXPECT_EQ(d.digest.rfind("md5:", 0), 0u);
      EXPECT_EQ(d.digest.size(), 36u);
      EXPECT_EQ(d.url.rfind("https://", 0), 0u);
    }
  EXPECT_EQ(atlas_downloads(AtlasKind::HcpMmp1)[0].digest, "md5:46a102b59b2fb1bb4bd62d51bf02e975");
}

TEST(FetchAtlas, FromLocalHttpServer) {
  if (!have_python()) GTEST_SKIP() << "needs /usr/bin/python3 for the local HTTP server";
  tribev2::test::TempDir tmp;
  fs::create_directories(tmp / "srv");
  tribev2::test::write_bytes(tmp / "srv" / "lh.a.annot", "left bytes");
  tribev2::test::write_bytes(tmp / "srv" / "rh.a.annot", "right bytes");
  io::write_zip_stored(tmp / "srv" / "root.zip", {{"fsaverage/label/lh.x.annot", vec("L")}, {"fsaverage/label/rh.x.annot", vec("R")}});
  const std::string zip_md5 = digest_hex("md5", io::read_file(tmp / "srv" / "root.zip"));
  LocalServer server(tmp / "srv", tmp.path());
  ASSERT_TRUE(server.ok()) << "the local HTTP server did not start";

  AtlasFetchOptions o;
  o.base_url = server.url();
  std::vector<PinnedDownload> items = {
      {"https://unused.invalid/1", "lh.a.annot", "md5:" + digest_hex("md5", bytes("left bytes")), "lh.a.annot", {}},
      {"https://unused.invalid/2", "rh.a.annot", "sha256:" + digest_hex("sha256", bytes("right bytes")), "rh.a.annot", {}},
      {"https://unused.invalid/3", "root.zip", "md5:" + zip_md5, "", {{"fsaverage/label/lh.x.annot", "lh.x.annot"}, {"label/rh.x.annot", "rh.x.annot"}}},
  };
  EXPECT_EQ(fetch_pinned(tmp / "data", items, o), 3);
  EXPECT_EQ(tribev2::test::read_bytes(tmp / "data" / "lh.a.annot"), "left bytes");
  EXPECT_EQ(tribev2::test::read_bytes(tmp / "data" / "rh.x.annot"), "R");
  EXPECT_EQ(files_in(tmp / "data"), (std::vector<std::string>{"lh.a.annot", "lh.x.annot", "rh.a.annot", "rh.x.annot"}));
  EXPECT_EQ(fetch_pinned(tmp / "data", items, o), 0);  // all present
  o.force = true;
  EXPECT_EQ(fetch_pinned(tmp / "data", items, o), 3);
  o.force = false;

  // A wrong pin: refused, nothing written, no temporary left.
  std::vector<PinnedDownload> bad = {{"x", "lh.a.annot", "md5:00000000000000000000000000000000", "lh.a.annot", {}}};
  EXPECT_THROW_MSG(fetch_pinned(tmp / "fresh", bad, o), "md5 mismatch (expected 00000000000000000000000000000000");
  EXPECT_TRUE(files_in(tmp / "fresh").empty());
  std::vector<PinnedDownload> bad_zip = {{"x", "root.zip", "md5:" + zip_md5, "", {{"label/lh.nothere.annot", "lh.n.annot"}}}};
  EXPECT_THROW_MSG(fetch_pinned(tmp / "fresh", bad_zip, o), "the archive has no member label/lh.nothere.annot");
  EXPECT_TRUE(files_in(tmp / "fresh").empty());
  std::vector<PinnedDownload> missing = {{"x", "nothere.annot", "md5:00", "n.annot", {}}};
  EXPECT_THROW_MSG(fetch_pinned(tmp / "fresh", missing, o), "nothere.annot failed");
  EXPECT_TRUE(files_in(tmp / "fresh").empty());
}

TEST(FetchAtlas, CliRefusesWrongDigestFromEnvBaseUrl) {
  if (!have_python()) GTEST_SKIP() << "needs /usr/bin/python3 for the local HTTP server";
  tribev2::test::TempDir tmp;
  fs::create_directories(tmp / "srv");
  // Not the real HCP-MMP1 files: their MD5 differs from MNE's pin.
  tribev2::test::write_bytes(tmp / "srv" / "lh.HCPMMP1.annot", "not the atlas");
  tribev2::test::write_bytes(tmp / "srv" / "rh.HCPMMP1.annot", "not the atlas");
  LocalServer server(tmp / "srv", tmp.path());
  ASSERT_TRUE(server.ok());
  const std::string cmd = "TRIBEV2_ATLAS_BASE_URL=" + server.url() + " '" + std::string(TRIBEV2_CLI) + "' fetch-atlas hcp-mmp1 --dir '" +
                          (tmp / "data").string() + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  const int rc = p ? pclose(p) : -1;
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("md5 mismatch (expected 46a102b59b2fb1bb4bd62d51bf02e975"), std::string::npos) << out;
  EXPECT_NE(out.find(server.url() + "lh.HCPMMP1.annot"), std::string::npos) << out;
  EXPECT_TRUE(files_in(tmp / "data").empty());
  const auto r = tribev2::test::run_cli({"fetch-atlas", "nonesuch", "--dir", (tmp / "data").string()});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("unknown atlas 'nonesuch'"), std::string::npos) << r.output;
}

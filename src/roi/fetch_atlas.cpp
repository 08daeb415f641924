#include "tribev2/roi/fetch_atlas.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/zip.hpp"
#include "tribev2/viz/fetch.hpp"

namespace tribev2::roi {

namespace fs = std::filesystem;

namespace {

// MNE's pins (mne/datasets/utils.py). HCP-MMP1: Mills' fsaverage annotations on figshare.
// Desikan (aparc) and Destrieux (aparc.a2009s): members of MNE's fsaverage archive (root.zip);
// nilearn's fetch_atlas_surf_destrieux serves the same Destrieux labels from NITRC already cut to
// fsaverage5 but pins no digest, so the archive MNE pins is used.
constexpr std::string_view kFsaverageRootUrl = "https://osf.io/3bxqt/download?version=2";
constexpr std::string_view kFsaverageRootMd5 = "md5:5133fe92b7b8f03ae19219d5f46e4177";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::vector<PinnedDownload> atlas_downloads(AtlasKind kind) {
  switch (kind) {
    case AtlasKind::HcpMmp1:
    case AtlasKind::HcpMmp1Combined:
      return {
          {"https://ndownloader.figshare.com/files/5528816", "lh.HCPMMP1.annot", "md5:46a102b59b2fb1bb4bd62d51bf02e975",
           "lh.HCPMMP1.annot", {}},
          {"https://ndownloader.figshare.com/files/5528819", "rh.HCPMMP1.annot", "md5:75e96b331940227bbcb07c1c791c2463",
           "rh.HCPMMP1.annot", {}},
      };
    case AtlasKind::Desikan:
    case AtlasKind::Destrieux: {
      const auto [l, r] = atlas_annot_files(kind);
      PinnedDownload d{std::string(kFsaverageRootUrl), "fsaverage-root.zip", std::string(kFsaverageRootMd5), "",
                       {{"fsaverage/label/" + l, l}, {"fsaverage/label/" + r, r}}};
      d.max_bytes = std::size_t{1} << 30;
      return {d};
    }
  }
  return {};
}

std::string digest_hex(std::string_view algorithm, std::span<const std::byte> bytes) {
  if (algorithm == "sha256") return viz::sha256_hex(bytes);
  if (algorithm != "md5") fail("digest: unknown algorithm '", algorithm, "' (expected md5 or sha256)");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (!md || EVP_DigestInit_ex(md.get(), EVP_md5(), nullptr) != 1 || EVP_DigestUpdate(md.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(md.get(), out.data(), &len) != 1)
    fail("MD5: libcrypto failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

int fetch_pinned(const fs::path& dir, const std::vector<PinnedDownload>& items, const AtlasFetchOptions& options) {
  std::string base = options.base_url.empty() ? env("TRIBEV2_ATLAS_BASE_URL") : options.base_url;
  if (!base.empty() && base.back() != '/') base += '/';
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create the data folder ", dir.string(), ": ", ec.message());
  int downloads = 0;
  for (const auto& item : items) {
    std::vector<std::string> outputs;
    if (item.members.empty()) outputs.push_back(item.save_as);
    for (const auto& m : item.members) outputs.push_back(m.second);
    bool present = !options.force;
    for (const auto& o : outputs) present = present && fs::exists(dir / o);
    if (present) {
      if (options.log) options.log(item.remote_name + ": present");
      continue;
    }
    const std::string url = base.empty() ? item.url : base + item.remote_name;
    const auto colon = item.digest.find(':');
    TRIBEV2_CHECK(colon != std::string::npos, "pinned digest '", item.digest, "' has no algorithm prefix");
    const std::string algo = item.digest.substr(0, colon), want = item.digest.substr(colon + 1);
    const auto body = viz::download(url, options.timeout_s, item.max_bytes);
    const std::string got = digest_hex(algo, body);
    if (got != want)
      fail("download ", url, ": ", algo, " mismatch (expected ", want, ", got ", got, ", ", body.size(),
           " bytes); nothing was saved");
    ++downloads;
    if (item.members.empty()) {
      io::write_file_atomic(dir / item.save_as, body);
      if (options.log) options.log(item.save_as + ": downloaded " + std::to_string(body.size()) + " bytes, " + algo + " ok");
      continue;
    }
    // The archive goes to a temporary file (libzip reads files), its members are extracted in
    // memory first so that a bad archive leaves nothing behind, then written atomically.
    const fs::path tmp = dir / (".download-" + item.remote_name + ".part");
    io::write_file_atomic(tmp, body);
    std::vector<std::pair<std::string, std::vector<std::byte>>> extracted;
    try {
      const io::ZipReader zip(tmp);
      for (const auto& [suffix, save_as] : item.members) {
        const io::ZipEntry* hit = nullptr;
        for (const auto& e : zip.entries())
          if (e.name == suffix || e.name.ends_with("/" + suffix)) hit = &e;
        if (!hit) fail(url, ": the archive has no member ", suffix);
        extracted.emplace_back(save_as, zip.read(hit->name));
      }
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    fs::remove(tmp, ec);
    for (const auto& [name, bytes] : extracted) {
      io::write_file_atomic(dir / name, bytes);
      if (options.log) options.log(name + ": extracted from " + item.remote_name + " (" + algo + " ok)");
    }
  }
  return downloads;
}

int fetch_atlas(AtlasKind kind, const fs::path& dir, const AtlasFetchOptions& options) {
  return fetch_pinned(dir, atlas_downloads(kind), options);
}

}  // namespace tribev2::roi

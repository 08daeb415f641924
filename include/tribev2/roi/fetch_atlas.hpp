// `tribev2 fetch-atlas`: the annotation files upstream reads through MNE, from the URLs MNE pins
// (mne/datasets/utils.py: fetch_hcp_mmp_parcellation, fetch_fsaverage), checked against the
// digests MNE pins (MD5; MNE publishes no SHA-256 for these files), into the data folder next to
// the fsaverage5 meshes. A download whose digest differs is refused and nothing is written.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tribev2/roi/atlas.hpp"

namespace tribev2::roi {

// One download: `url` (or base URL + `remote_name` when a base URL is given), checked against
// `digest` ("md5:<hex>" or "sha256:<hex>"). With no `members`, the body is saved as `save_as`;
// otherwise the body is a zip and each member (matched by the end of its path) is saved as the
// paired file name.
struct PinnedDownload {
  std::string url;
  std::string remote_name;
  std::string digest;
  std::string save_as;
  std::vector<std::pair<std::string, std::string>> members;  // {path suffix in the zip, file name}
  std::size_t max_bytes = std::size_t{64} << 20;
};

// What fetch-atlas downloads for an atlas (hcp-mmp1-combined: the hcp-mmp1 files, combined on
// reading as MNE does).
std::vector<PinnedDownload> atlas_downloads(AtlasKind kind);

struct AtlasFetchOptions {
  // Folder URL that replaces every pinned URL (base + remote_name); empty: $TRIBEV2_ATLAS_BASE_URL
  // when set, else the pinned URLs. For mirrors and for tests (a server on 127.0.0.1).
  std::string base_url;
  bool force = false;
  long timeout_s = 600;
  std::function<void(const std::string&)> log;
};

// "md5" / "sha256" digest of bytes as lowercase hex.
std::string digest_hex(std::string_view algorithm, std::span<const std::byte> bytes);

// Downloads each item unless all its files are already in `dir` (or force); returns the number
// of downloads made.
int fetch_pinned(const std::filesystem::path& dir, const std::vector<PinnedDownload>& items, const AtlasFetchOptions& options);
int fetch_atlas(AtlasKind kind, const std::filesystem::path& dir, const AtlasFetchOptions& options);

}  // namespace tribev2::roi

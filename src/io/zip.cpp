#include "tribev2/io/zip.hpp"

#include <zip.h>

#include <random>

#include "tribev2/core/error.hpp"

namespace tribev2::io {

namespace {
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t{64} << 30;  // refuse zip bombs

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string msg = zip_error_strerror(&err);
  zip_error_fini(&err);
  return msg;
}
}  // namespace

ZipReader::ZipReader(const std::filesystem::path& path) : path_(path) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!z) fail(path.string(), ": not a readable zip archive (", zip_error_text(code), ")");
  zip_ = z;
  std::error_code ec;
  archive_size_ = std::filesystem::file_size(path, ec);
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
    if (!(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE)) continue;
    ZipEntry e;
    e.name = st.name;
    e.size = st.size;
    e.stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
    if (!e.name.empty() && e.name.back() == '/') continue;  // directory
    entries_.push_back(std::move(e));
  }
}

ZipReader::~ZipReader() {
  if (zip_) zip_discard(static_cast<zip_t*>(zip_));
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<std::byte> ZipReader::read(const std::string& name) const {
  const ZipEntry* e = find(name);
  if (!e) fail(path_.string(), ": zip entry '", name, "' is missing");
  // The declared size is untrusted: a stored entry cannot be larger than the archive, and
  // deflate cannot expand more than ~1032:1 (anything beyond is a corrupt file or a zip bomb).
  const std::uint64_t limit = e->stored ? archive_size_ : std::min<std::uint64_t>(kMaxEntryBytes, archive_size_ * 1032);
  if (e->size > limit)
    fail(path_.string(), ": zip entry '", name, "' declares ", e->size, " bytes, more than the archive can hold (corrupt file?)");
  auto* z = static_cast<zip_t*>(zip_);
  zip_file_t* f = zip_fopen(z, name.c_str(), 0);
  if (!f) fail(path_.string(), ": cannot open zip entry '", name, "': ", zip_strerror(z));
  std::vector<std::byte> out(static_cast<std::size_t>(e->size));
  std::uint64_t got = 0;
  while (got < e->size) {
    const zip_int64_t r = zip_fread(f, out.data() + got, e->size - got);
    if (r < 0) {
      const std::string msg = zip_file_strerror(f);
      zip_fclose(f);
      fail(path_.string(), ": corrupt zip entry '", name, "': ", msg);
    }
    if (r == 0) break;
    got += static_cast<std::uint64_t>(r);
  }
  // A CRC mismatch is reported when the entry is closed.
  const int close_code = zip_fclose(f);
  if (got != e->size) fail(path_.string(), ": zip entry '", name, "' is truncated (", got, " of ", e->size, " bytes)");
  if (close_code != 0) fail(path_.string(), ": zip entry '", name, "' is corrupt (", zip_error_text(close_code), ")");
  return out;
}

void write_zip_stored(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, std::vector<std::byte>>>& entries) {
  std::random_device rd;
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto tmp = dir / (".tmp-" + path.filename().string() + "-" + std::to_string(rd()));
  int code = 0;
  zip_t* z = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!z) fail(path.string(), ": cannot create zip (", zip_error_text(code), ")");
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    if (!src) {
      zip_discard(z);
      fail(path.string(), ": cannot add '", name, "'");
    }
    const zip_int64_t idx = zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      zip_discard(z);
      fail(path.string(), ": cannot add '", name, "'");
    }
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  if (zip_close(z) != 0) {
    const std::string msg = zip_strerror(z);
    zip_discard(z);
    std::filesystem::remove(tmp, ec);
    fail(path.string(), ": cannot write zip: ", msg);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail(path.string(), ": cannot move the temporary file into place");
}

}  // namespace tribev2::io

#include "tribev2/viz/fetch.hpp"

#include <curl/curl.h>

#include <array>
#include <cstdio>
#include <memory>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"

namespace tribev2::viz {

namespace fs = std::filesystem;



namespace {
struct Sink {
  std::vector<std::byte>* out;
  std::size_t max_bytes;
  bool too_big = false;
};

std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (s->out->size() + bytes > s->max_bytes) {
    s->too_big = true;
    return 0;  // aborts the transfer
  }
  const auto* p = reinterpret_cast<const std::byte*>(data);
  s->out->insert(s->out->end(), p, p + bytes);
  return bytes;
}
}  // namespace

std::vector<std::byte> download(const std::string& url, long timeout_s, std::size_t max_bytes) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) fail("download ", url, ": cannot initialise libcurl");
  std::vector<std::byte> body;
  Sink sink{&body, max_bytes};
  std::array<char, CURL_ERROR_SIZE> err{};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "tribev2-fetch-mesh");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err.data());
  const CURLcode rc = curl_easy_perform(curl.get());
  if (sink.too_big) fail("download ", url, ": larger than the limit of ", max_bytes, " bytes");
  if (rc != CURLE_OK)
    fail("download ", url, " failed: ", err[0] ? err.data() : curl_easy_strerror(rc),
         " (no network? copy the files by hand into the mesh folder, or use --base-url)");
  return body;
}

std::vector<std::string> verify_files(const fs::path& dir, std::span<const PinnedFile> files) {
  std::vector<std::string> bad;
  for (const auto& f : files) {
    const fs::path p = dir / std::string(f.name);
    if (!fs::exists(p) || sha256_file(p) != f.sha256) bad.emplace_back(f.name);
  }
  return bad;
}

FetchResult fetch_files(const fs::path& dir, std::span<const PinnedFile> files, const FetchOptions& options) {
  std::string base = options.base_url.empty() ? std::string(fsaverage5_base_url()) : options.base_url;
  if (!base.empty() && base.back() != '/') base += '/';
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create the mesh folder ", dir.string(), ": ", ec.message());
  FetchResult r;
  for (const auto& f : files) {
    const fs::path dst = dir / std::string(f.name);
    if (!options.force && fs::exists(dst) && sha256_file(dst) == f.sha256) {
      ++r.already_present;
      if (options.log) options.log(std::string(f.name) + ": present, SHA-256 ok");
      continue;
    }
    const std::string url = base + std::string(f.name);
    const auto body = download(url, options.timeout_s);
    const std::string got = sha256_hex(body);
    if (got != f.sha256)
      fail("download ", url, ": SHA-256 mismatch (expected ", f.sha256, ", got ", got, ", ", body.size(),
           " bytes); the file was not saved");
    io::write_file_atomic(dst, body);
    ++r.downloaded;
    if (options.log) options.log(std::string(f.name) + ": downloaded " + std::to_string(body.size()) + " bytes, SHA-256 ok");
  }
  return r;
}

FetchResult fetch_fsaverage5(const fs::path& dir, const FetchOptions& options) {
  return fetch_files(dir, fsaverage5_files(), options);
}

}  // namespace tribev2::viz

#include "http.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <memory>

namespace tribev2::hub::detail {

namespace {

constexpr const char* kUserAgent = "tribev2-cpp; hf_hub-compatible";

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using SlistPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header lines of the last response only (a redirect chain resets them at each status line).
std::size_t header_cb(char* data, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    r->headers.clear();
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  r->headers[lower(line.substr(0, colon))] = value;
  return size * n;
}

std::size_t body_cb(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

CurlPtr make_handle(const std::string& url, curl_slist* headers, std::array<char, CURL_ERROR_SIZE>& err) {
  CurlPtr curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) fail("cannot initialise libcurl");
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, err.data());
  return curl;
}

SlistPtr make_headers(const std::string& token) {
  curl_slist* list = curl_slist_append(nullptr, "Accept-Encoding: identity");  // true sizes
  if (!token.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + token).c_str());
  return SlistPtr(list, &curl_slist_free_all);
}

bool is_network_error(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING ||
         rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

Response perform(CURL* curl, const std::string& url, const std::array<char, CURL_ERROR_SIZE>& err, Response& r,
                 CURLcode rc) {
  if (rc != CURLE_OK) {
    const std::string msg = err[0] ? err.data() : curl_easy_strerror(rc);
    if (is_network_error(rc)) throw NetworkError(str_cat(url, ": ", msg));
    fail(url, ": ", msg);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

}  // namespace

std::string Response::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string url_netloc(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto end = url.find_first_of("/?#", start);
  return url.substr(0, end == std::string::npos ? url.size() : end);
}

std::string url_quote(const std::string& text, const std::string& safe) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || safe.find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Response http_head(const std::string& url, const std::string& token) {
  std::array<char, CURL_ERROR_SIZE> err{};
  const auto headers = make_headers(token);
  auto curl = make_handle(url, headers.get(), err);
  Response r;
  curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r);
  const CURLcode rc = curl_easy_perform(curl.get());
  return perform(curl.get(), url, err, r, rc);
}

Response http_get_small(const std::string& url, const std::string& token) {
  std::array<char, CURL_ERROR_SIZE> err{};
  const auto headers = make_headers(token);
  auto curl = make_handle(url, headers.get(), err);
  Response r;
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r.body);
  const CURLcode rc = curl_easy_perform(curl.get());
  return perform(curl.get(), url, err, r, rc);
}

namespace {
struct FileSink {
  CURL* curl;
  int fd;
  std::int64_t size;           // bytes in the file
  bool range_requested;
  bool checked_status = false;
  int write_errno = 0;
  const std::function<void(std::int64_t)>* on_bytes;
};

std::size_t file_cb(char* data, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<FileSink*>(user);
  const std::size_t bytes = size * n;
  if (!s->checked_status) {
    s->checked_status = true;
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300) return bytes;  // an error body: discarded, the status is reported
    if (s->range_requested && status == 200) {  // the server ignored Range: start over
      if (::ftruncate(s->fd, 0) != 0) {
        s->write_errno = errno;
        return 0;
      }
      s->size = 0;
    }
  }
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300) return bytes;
  std::size_t off = 0;
  while (off < bytes) {
    const ssize_t w = ::pwrite(s->fd, data + off, bytes - off, static_cast<off_t>(s->size));
    if (w < 0) {
      if (errno == EINTR) continue;
      s->write_errno = errno;
      return 0;  // aborts the transfer
    }
    off += static_cast<std::size_t>(w);
    s->size += w;
  }
  if (*s->on_bytes) (*s->on_bytes)(s->size);
  return bytes;
}
}  // namespace

StreamResult http_get_to_fd(const std::string& url, const std::string& token, int fd, std::int64_t offset,
                            const std::function<void(std::int64_t)>& on_bytes) {
  std::array<char, CURL_ERROR_SIZE> err{};
  const auto headers = make_headers(token);
  auto curl = make_handle(url, headers.get(), err);
  StreamResult out;
  FileSink sink{curl.get(), fd, offset, offset > 0, false, 0, &on_bytes};
  const std::string range = std::to_string(offset) + "-";
  if (offset > 0) curl_easy_setopt(curl.get(), CURLOPT_RANGE, range.c_str());
  // Redirects (a CDN): curl drops our Authorization header when the host changes
  // (CURLOPT_UNRESTRICTED_AUTH stays 0), which is what huggingface_hub does too.
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_UNRESTRICTED_AUTH, 0L);
  // A stalled transfer (under 1 byte/s for 60 s) counts as dropped and is resumed.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &out.response);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, file_cb);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.response.status);
  out.file_size = sink.size;
  out.write_errno = sink.write_errno;
  if (sink.write_errno != 0) return out;
  if (rc != CURLE_OK) {
    const std::string msg = err[0] ? err.data() : curl_easy_strerror(rc);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) throw NetworkError(str_cat(url, ": ", msg));
    out.transfer_error = true;
    out.error = msg;
  }
  return out;
}

}  // namespace tribev2::hub::detail

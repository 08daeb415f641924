// The few HTTP exchanges of the Hub protocol over libcurl (private to the hub library).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "tribev2/core/error.hpp"

namespace tribev2::hub::detail {

// The Hub could not be reached at all (DNS, refused connection, timeout before any answer):
// the caller may fall back to the cache.
class NetworkError : public Error {
 public:
  using Error::Error;
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

// "scheme://host:port" part of a URL, as urllib's netloc (compared to decide where a token goes).
std::string url_netloc(const std::string& url);
// urllib.parse.quote: percent-encodes everything but unreserved characters and `safe`.
std::string url_quote(const std::string& text, const std::string& safe);

// HEAD without following redirects (the Location header is what we want), or a small GET
// (JSON). `token` is sent as `Authorization: Bearer` when not empty.
Response http_head(const std::string& url, const std::string& token);
Response http_get_small(const std::string& url, const std::string& token);

// Streams a GET into the open file `fd` from byte `offset` (sends `Range: bytes=offset-` when
// offset > 0; a 200 answer to a Range request truncates the file and starts over). Redirects
// are followed; `token` is only sent to the URL's own host. Returns the response (status and
// headers; body empty). `on_bytes(total_written_in_file)` is called as data arrives.
struct StreamResult {
  Response response;
  bool transfer_error = false;  // connection dropped mid-body: retry with Range
  std::string error;            // curl's message when transfer_error
  int write_errno = 0;          // set when writing the file failed (ENOSPC...)
  std::int64_t file_size = 0;   // bytes in the file afterwards
};
StreamResult http_get_to_fd(const std::string& url, const std::string& token, int fd, std::int64_t offset,
                            const std::function<void(std::int64_t)>& on_bytes);

}  // namespace tribev2::hub::detail

// Environment, repo ids and globs, read the way huggingface_hub reads them (constants.py,
// utils/_auth.py, utils/_paths.py).
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "tribev2/core/error.hpp"
#include "tribev2/hub/hub.hpp"

namespace tribev2::hub {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool env_true(const std::string& v) {
  std::string u;
  for (char c : v) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u == "1" || u == "ON" || u == "YES" || u == "TRUE";
}

fs::path expand_user(const std::string& p) {
  if (!p.empty() && p[0] == '~') return fs::path(env("HOME") + p.substr(1));
  return fs::path(p);
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

}  // namespace

HubConfig resolve_config(const HubOptions& o) {
  HubConfig c;
  c.endpoint = o.endpoint ? *o.endpoint : env("HF_ENDPOINT");
  if (c.endpoint.empty()) c.endpoint = "https://huggingface.co";
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();

  std::string home = env("HF_HOME");
  if (home.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    home = (xdg.empty() ? (env("HOME") + "/.cache") : xdg) + "/huggingface";
  }
  const fs::path hf_home = expand_user(home);
  if (o.cache_dir) {
    c.cache_dir = *o.cache_dir;
  } else {
    std::string cache = env("HF_HUB_CACHE");
    if (cache.empty()) cache = env("HUGGINGFACE_HUB_CACHE");  // the legacy name, still honoured upstream
    c.cache_dir = cache.empty() ? hf_home / "hub" : expand_user(cache);
  }

  if (o.token) {
    c.token = trim(*o.token);
  } else {
    c.token = trim(env("HF_TOKEN"));
    if (c.token.empty()) c.token = trim(env("HUGGING_FACE_HUB_TOKEN"));
    if (c.token.empty()) {
      const std::string token_path = env("HF_TOKEN_PATH");
      std::ifstream in(token_path.empty() ? hf_home / "token" : expand_user(token_path));
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        c.token = trim(ss.str());
      }
    }
  }
  c.offline = o.offline ? *o.offline : (env_true(env("HF_HUB_OFFLINE")) || env_true(env("TRANSFORMERS_OFFLINE")));
  return c;
}

bool looks_like_repo_id(const std::string& text) {
  // huggingface_hub's validate_repo_id: [\w\-.]{1,96} per part, at most one '/', no '--' or '..'.
  static const std::regex re(R"(^([A-Za-z0-9_.\-]{1,96}/)?[A-Za-z0-9_.\-]{1,96}(@[^\s@]+)?$)");
  if (!std::regex_match(text, re)) return false;
  const std::string id = text.substr(0, text.find('@'));
  return id.find("--") == std::string::npos && id.find("..") == std::string::npos && id.front() != '.' &&
         id.front() != '-' && id.back() != '.' && id.back() != '-';
}

RepoRef parse_repo_ref(const std::string& text) {
  TRIBEV2_CHECK(looks_like_repo_id(text), "'", text,
                "' is not a Hugging Face repo id (expected org/name or org/name@revision)");
  RepoRef r;
  const auto at = text.find('@');
  r.repo_id = text.substr(0, at);
  if (at != std::string::npos) r.revision = text.substr(at + 1);
  return r;
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models";
  std::size_t start = 0;
  while (true) {
    const auto slash = repo_id.find('/', start);
    out += "--" + repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

namespace {
// One pattern element at p[pi] against character c: '?', a complete [set] ([!set], ranges,
// a leading ']' literal) or a literal (an unclosed '[' is literal). Sets the element's length.
bool element_matches(const std::string& p, std::size_t pi, char c, std::size_t& len) {
  len = 1;
  if (p[pi] == '?') return true;
  if (p[pi] == '[') {
    std::size_t j = pi + 1;
    if (j < p.size() && p[j] == '!') ++j;
    if (j < p.size() && p[j] == ']') ++j;
    while (j < p.size() && p[j] != ']') ++j;
    if (j < p.size()) {
      const bool negate = p[pi + 1] == '!';
      std::size_t k = pi + 1 + (negate ? 1 : 0);
      bool found = false;
      for (bool first = true; k < j || (first && p[k] == ']'); first = false) {
        if (k + 2 < j && p[k + 1] == '-') {
          found = found || (c >= p[k] && c <= p[k + 2]);
          k += 3;
        } else {
          found = found || c == p[k];
          ++k;
        }
      }
      len = j + 1 - pi;
      return found != negate;
    }
  }
  return p[pi] == c;
}

// fnmatch semantics ('*' matches any run, '/' included) in O(|p| * |s|): on a mismatch only the
// most recent '*' is extended, which is enough for patterns whose only wildcard run is '*'.
bool wildcard_match(const std::string& p, const std::string& s) {
  std::size_t pi = 0, si = 0, star = std::string::npos, star_si = 0;
  while (si < s.size()) {
    std::size_t len = 1;
    if (pi < p.size() && p[pi] == '*') {
      star = ++pi;
      star_si = si;
    } else if (pi < p.size() && element_matches(p, pi, s[si], len)) {
      pi += len;
      ++si;
    } else if (star != std::string::npos) {
      pi = star;
      si = ++star_si;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}
}  // namespace

bool glob_match(const std::string& pattern, const std::string& path) {
  std::string p = pattern;
  if (!p.empty() && p.back() == '/') p += '*';  // _add_wildcard_to_directories
  return wildcard_match(p, path);
}

}  // namespace tribev2::hub

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
// fnmatch.translate semantics, matched directly (no regex building from user text).
bool match_at(const std::string& p, std::size_t pi, const std::string& s, std::size_t si) {
  while (pi < p.size()) {
    const char c = p[pi];
    if (c == '*') {
      while (pi < p.size() && p[pi] == '*') ++pi;
      if (pi == p.size()) return true;
      for (std::size_t k = si; k <= s.size(); ++k)
        if (match_at(p, pi, s, k)) return true;
      return false;
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      ++pi;
      ++si;
      continue;
    }
    if (c == '[') {
      std::size_t j = pi + 1;
      if (j < p.size() && p[j] == '!') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') ++j;
      if (j < p.size()) {  // a complete set
        bool negate = p[pi + 1] == '!';
        std::size_t k = pi + 1 + (negate ? 1 : 0);
        bool found = false;
        bool first = true;
        while (k < j || (first && p[k] == ']')) {
          first = false;
          if (k + 2 < j && p[k + 1] == '-') {
            if (s[si] >= p[k] && s[si] <= p[k + 2]) found = true;
            k += 3;
          } else {
            if (s[si] == p[k]) found = true;
            ++k;
          }
        }
        if (found == negate) return false;
        pi = j + 1;
        ++si;
        continue;
      }
      // an unclosed '[' is a literal
    }
    if (c != s[si]) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}
}  // namespace

bool glob_match(const std::string& pattern, const std::string& path) {
  std::string p = pattern;
  if (!p.empty() && p.back() == '/') p += '*';  // _add_wildcard_to_directories
  return match_at(p, 0, path, 0);
}

}  // namespace tribev2::hub

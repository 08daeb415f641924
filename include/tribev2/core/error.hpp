// Errors raised by the library. One exception type carries a message that names what went
// wrong (the file, the key or field, expected versus got); the CLI prints it on one line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tribev2 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates any streamable values into a string: str_cat("expected ", 3, " got ", x).
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

// Re-throws the current exception with a context prefix ("while reading X: ...").
[[noreturn]] void rethrow_with_context(std::string_view context);

}  // namespace tribev2

// Checks a condition that depends on input data; throws tribev2::Error with the message.
#define TRIBEV2_CHECK(cond, ...)        \
  do {                                  \
    if (!(cond)) ::tribev2::fail(__VA_ARGS__); \
  } while (0)

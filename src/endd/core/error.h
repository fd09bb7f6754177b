#pragma once
// Errors for bad input (endd::Error, thrown by ENDD_CHECK) and for broken
// invariants (ENDD_ASSERT). Both survive release builds, unlike assert().
#include <sstream>
#include <stdexcept>
#include <string>

namespace endd {

/// Thrown for bad user input or failed I/O. The message names the file, line
/// or key, what was expected and what was found; the CLI prints it and exits 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A malformed command line (a missing or conflicting flag, a value out of
/// range): the CLI prints it like an Error and exits 2, not 1.
class UsageError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace endd

/// Checks user input: throws endd::Error with the concatenated message.
#define ENDD_CHECK(cond, ...)                                 \
  do {                                                        \
    if (!(cond)) throw ::endd::Error(::endd::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Checks the command line: throws endd::UsageError (exit code 2).
#define ENDD_USAGE_CHECK(cond, ...)                                            \
  do {                                                                         \
    if (!(cond)) throw ::endd::UsageError(::endd::detail::concat(__VA_ARGS__)); \
  } while (0)

/// Checks an internal invariant ("can't happen"); names the source location.
#define ENDD_ASSERT(cond, ...)                                                   \
  do {                                                                           \
    if (!(cond))                                                                 \
      throw std::logic_error(::endd::detail::concat(                             \
          __FILE__, ":", __LINE__, ": internal error: ", #cond, " ", ##__VA_ARGS__)); \
  } while (0)

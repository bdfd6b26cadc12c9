// qmath/error.hpp - the exception every host-side qmath entry point throws on bad input.
//
// Policy: a function that rejects its input throws qmath::error before it writes any output, with a message that
// names the function and the offending value ("qmath::symmetric_params: amax is NaN"). Device code never throws.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace qmath {

class error : public std::runtime_error {
 public:
  explicit error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {

// Builds a message from any streamable parts and throws qmath::error.
template <class... Parts>
[[noreturn]] void fail(const char* where, Parts&&... parts) {
  std::ostringstream os;
  os.precision(9);
  os << "qmath::" << where << ": ";
  (os << ... << std::forward<Parts>(parts));
  throw error(os.str());
}

// Throws qmath::error naming `where` unless `ok` holds.
template <class... Parts>
void require(bool ok, const char* where, Parts&&... parts) {
  if (!ok) fail(where, std::forward<Parts>(parts)...);
}

}  // namespace detail
}  // namespace qmath

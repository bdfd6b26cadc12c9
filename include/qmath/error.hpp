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

// Throws qmath::error("<prefix>::<where>: <parts...>"), the parts streamed with 9 significant digits.
template <class... Parts>
[[noreturn]] void fail_in(const char* prefix, const char* where, Parts&&... parts) {
  std::ostringstream os;
  os.precision(9);
  os << prefix << "::" << where << ": ";
  (os << ... << std::forward<Parts>(parts));
  throw error(os.str());
}

// Throws qmath::error("qmath::<where>: <parts...>").
template <class... Parts>
[[noreturn]] void fail(const char* where, Parts&&... parts) {
  fail_in("qmath", where, std::forward<Parts>(parts)...);
}

// Throws qmath::error naming `where` unless `ok` holds.
template <class... Parts>
void require(bool ok, const char* where, Parts&&... parts) {
  if (!ok) fail(where, std::forward<Parts>(parts)...);
}

}  // namespace detail
}  // namespace qmath

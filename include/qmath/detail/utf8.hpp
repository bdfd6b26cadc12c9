// qmath/detail/utf8.hpp - checking that text is well-formed UTF-8 (names that go into JSON and text formats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qmath {
namespace detail {

// The offset of the first byte of `s` that does not begin a well-formed UTF-8 sequence (overlong forms, surrogates
// and code points above U+10FFFF are not well-formed), or std::string::npos.
inline std::size_t invalid_utf8_offset(const std::string& s) {
  static const std::uint32_t min_code_point[5] = {0, 0, 0x80, 0x800, 0x10000};
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    const std::size_t len = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : (lead >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > s.size() - i) return i;
    std::uint32_t cp = len == 1 ? lead : lead & (0x7Fu >> len);
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      cp = cp << 6 | (next & 0x3Fu);
    }
    if (cp < min_code_point[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string::npos;
}

// "" when `s` is well-formed UTF-8; otherwise "<what> '<s with bytes >= 0x80 and controls shown as ?>' is not
// valid UTF-8 (byte N)".
inline std::string utf8_problem(const std::string& s, const char* what) {
  const std::size_t bad = invalid_utf8_offset(s);
  if (bad == std::string::npos) return "";
  std::string shown;
  for (char c : s) shown += static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  return std::string(what) + " '" + shown + "' is not valid UTF-8 (byte " + std::to_string(bad) + ")";
}

}  // namespace detail
}  // namespace qmath

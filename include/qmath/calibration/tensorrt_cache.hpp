// qmath/calibration/tensorrt_cache.hpp - read and write TensorRT's text calibration cache.
//
// Format (verified against real caches):
//   line 1:  TRT-<version>-<Algorithm>        e.g. TRT-8003-EntropyCalibration2, TRT-101303-MinMaxCalibration
//            version = major*1000 + minor*100 + patch up to TensorRT 8, major*10000 + minor*100 + patch from 10
//   then:    <tensor name>: <hex>             one line per tensor
//   <hex> is the big-endian IEEE-754 bit pattern of the float32 scale = amax / 127, lowercase, without leading zeros
//   ("0" for scale 0, "7f800000" for +inf). amax = scale * 127.
// Reading accepts what TensorRT and ONNX Runtime accept: 1 to 8 hex digits of either case (so "0" works, unlike
// Model Optimizer's reader), spaces around the value, CRLF line ends, blank lines (skipped), and a name that itself
// contains ':' (the value starts after the LAST colon). Anything else - a missing or malformed header, a line
// without a colon, a name the writer refuses, a non-hex or over-long value, a scale outside [+0, +inf], a duplicate
// name - is a qmath::error naming the line number.
// One rule for reader and writer, so that every cache either side accepts round-trips bit for bit:
//   - name: not empty, no control character (bytes < 0x20 and 0x7f: NUL, tab, line breaks), no leading or trailing
//     space (inner spaces and ':' are fine);
//   - scale: sign bit clear and not NaN, i.e. +0 .. +inf (real caches hold 0 and 7f800000);
//   - version: decimal digits; algorithm: not empty, no space and no control character.
// Writing produces exactly the canonical form above, replacing the file whole (qmath/detail/atomic_file.hpp), so a
// failure never leaves a half-written cache behind.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <qmath/detail/atomic_file.hpp>
#include <qmath/error.hpp>

namespace qmath {

struct TensorRTCacheEntry {
  std::string name;
  float scale;  // amax / 127
  float amax() const { return scale * 127.0f; }
};

struct TensorRTCache {
  std::string version = "8600";                // the digits between "TRT-" and the next "-"
  std::string algorithm = "EntropyCalibration2";  // e.g. EntropyCalibration2, EntropyCalibration, MinMaxCalibration
  std::vector<TensorRTCacheEntry> entries;     // in file order

  // Appends a tensor with scale = amax / 127 (float32 division, TensorRT's convention).
  void add_amax(const std::string& name, float amax) { entries.push_back({name, amax / 127.0f}); }
  // The entry of `name`, or nullptr.
  const TensorRTCacheEntry* find(const std::string& name) const {
    for (const TensorRTCacheEntry& e : entries)
      if (e.name == name) return &e;
    return nullptr;
  }
};

// The cache's hex form of a float32: big-endian bits, lowercase, no leading zeros ("0" for +0.0).
inline std::string tensorrt_scale_to_hex(float scale) {
  std::uint32_t u;
  std::memcpy(&u, &scale, sizeof u);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(u));
  return buf;
}

// Parses 1..8 hex digits (either case) into the float32 with those bits; throws on anything else.
inline float tensorrt_scale_from_hex(const std::string& hex) {
  detail::require(!hex.empty() && hex.size() <= 8, "tensorrt_scale_from_hex", "expected 1 to 8 hex digits, got '",
                  hex, "'");
  std::uint32_t u = 0;
  for (char ch : hex) {
    std::uint32_t d;
    if (ch >= '0' && ch <= '9') d = static_cast<std::uint32_t>(ch - '0');
    else if (ch >= 'a' && ch <= 'f') d = static_cast<std::uint32_t>(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') d = static_cast<std::uint32_t>(ch - 'A' + 10);
    else detail::fail("tensorrt_scale_from_hex", "'", hex, "' is not hexadecimal");
    u = (u << 4) | d;
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

namespace detail {
inline std::string trim_spaces(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return s.substr(a, b - a);
}
inline bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }
// `s` with control characters written as \xNN, for messages.
inline std::string escape_controls(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (!is_control(c)) {
      out += c;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    out += buf;
  }
  return out;
}
// The checks below return the problem ("" when there is none), so that reader and writer share them.
inline std::string cache_header_problem(const std::string& version, const std::string& algorithm) {
  if (version.empty()) return "empty version";
  for (char c : version)
    if (c < '0' || c > '9') return "version '" + version + "' is not a decimal number";
  if (algorithm.empty()) return "empty algorithm name";
  for (char c : algorithm)
    if (c == ' ' || is_control(c))
      return "algorithm '" + escape_controls(algorithm) + "' contains white space or a control character";
  return "";
}
inline std::string cache_name_problem(const std::string& name) {
  if (name.empty()) return "empty tensor name";
  for (char c : name)
    if (is_control(c))
      return "tensor name '" + escape_controls(name) + "' contains a control character (line break, tab, NUL)";
  if (name.front() == ' ' || name.back() == ' ')
    return "tensor name '" + name + "' has leading or trailing white space, which the format cannot keep";
  return "";
}
inline std::string cache_scale_problem(float scale) {
  std::uint32_t u;
  std::memcpy(&u, &scale, sizeof u);
  if (scale != scale) return "scale " + tensorrt_scale_to_hex(scale) + " is NaN";
  if (u >> 31) return "scale " + tensorrt_scale_to_hex(scale) + " is negative";
  return "";
}
inline void check_cache_header(const std::string& version, const std::string& algorithm, const char* where) {
  const std::string p = cache_header_problem(version, algorithm);
  require(p.empty(), where, p);
}
}  // namespace detail

// Parses the text of a cache. `source` names it in error messages (a path, "<string>").
inline TensorRTCache parse_tensorrt_cache(const std::string& text, const std::string& source = "<string>") {
  const char* where = "parse_tensorrt_cache";
  TensorRTCache cache;
  cache.entries.clear();
  std::istringstream in(text);
  std::string line;
  std::size_t line_no = 0;
  bool header = false;
  std::set<std::string> names;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string t = detail::trim_spaces(line);
    if (!header) {
      detail::require(t.size() > 4 && t.compare(0, 4, "TRT-") == 0, where, source, ":", line_no,
                      ": expected a header 'TRT-<version>-<Algorithm>', got '", t, "'");
      const std::size_t dash = t.find('-', 4);
      detail::require(dash != std::string::npos && dash > 4 && dash + 1 < t.size(), where, source, ":", line_no,
                      ": malformed header '", t, "'");
      cache.version = t.substr(4, dash - 4);
      cache.algorithm = t.substr(dash + 1);
      const std::string p = detail::cache_header_problem(cache.version, cache.algorithm);
      detail::require(p.empty(), where, source, ":", line_no, ": ", p);
      header = true;
      continue;
    }
    if (t.empty()) continue;
    const std::size_t colon = t.rfind(':');
    detail::require(colon != std::string::npos, where, source, ":", line_no, ": expected '<name>: <hex>', got '", t,
                    "'");
    const std::string name = detail::trim_spaces(t.substr(0, colon));
    const std::string hex = detail::trim_spaces(t.substr(colon + 1));
    const std::string name_problem = detail::cache_name_problem(name);
    detail::require(name_problem.empty(), where, source, ":", line_no, ": ", name_problem);
    bool ok = !hex.empty() && hex.size() <= 8;
    for (char ch : hex)
      ok = ok && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'));
    detail::require(ok, where, source, ":", line_no, ": '", hex, "' is not a scale of 1 to 8 hex digits");
    detail::require(names.insert(name).second, where, source, ":", line_no, ": duplicate tensor '", name, "'");
    const float scale = tensorrt_scale_from_hex(hex);
    const std::string scale_problem = detail::cache_scale_problem(scale);
    detail::require(scale_problem.empty(), where, source, ":", line_no, ": tensor '", name, "': ", scale_problem);
    cache.entries.push_back({name, scale});
  }
  detail::require(header, where, source, ": empty file (no 'TRT-<version>-<Algorithm>' header)");
  return cache;
}

// Reads a cache file; throws qmath::error naming the path if it cannot be opened or read (a directory, say) or is
// malformed (with the line number).
inline TensorRTCache read_tensorrt_cache(const std::string& path) {
  std::string text;
  try {
    std::ifstream f(path, std::ios::binary);
    detail::require(static_cast<bool>(f), "read_tensorrt_cache", "cannot open '", path, "': ", std::strerror(errno));
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    detail::require(!f.bad(), "read_tensorrt_cache", "error reading '", path, "'");
  } catch (const std::ios_base::failure& e) {  // libstdc++ throws this when reading a directory
    detail::fail("read_tensorrt_cache", "cannot read '", path, "' (a directory?): ", e.what());
  }
  return parse_tensorrt_cache(text, path);
}

// The canonical text of a cache. Throws on names that cannot be written (empty, containing a line break).
inline std::string format_tensorrt_cache(const TensorRTCache& cache) {
  const char* where = "format_tensorrt_cache";
  detail::check_cache_header(cache.version, cache.algorithm, where);
  std::string out = "TRT-" + cache.version + "-" + cache.algorithm + "\n";
  std::set<std::string> names;
  for (const TensorRTCacheEntry& e : cache.entries) {
    const std::string name_problem = detail::cache_name_problem(e.name);
    detail::require(name_problem.empty(), where, name_problem);
    const std::string scale_problem = detail::cache_scale_problem(e.scale);
    detail::require(scale_problem.empty(), where, "tensor '", e.name, "': ", scale_problem);
    detail::require(names.insert(e.name).second, where, "duplicate tensor '", e.name, "'");
    out += e.name + ": " + tensorrt_scale_to_hex(e.scale) + "\n";
  }
  return out;
}

// Writes the cache through qmath/detail/atomic_file.hpp: validated first, then a temporary file beside the
// destination (symbolic links followed) renamed over it, or written through to a character device or FIFO; on any
// failure the destination is left as it was and no temporary file remains.
inline void write_tensorrt_cache(const std::string& path, const TensorRTCache& cache) {
  const std::string text = format_tensorrt_cache(cache);  // validates before touching the file system
  detail::write_file_atomically(path, text, "write_tensorrt_cache");
}

}  // namespace qmath

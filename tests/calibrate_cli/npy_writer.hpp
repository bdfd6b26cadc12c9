// npy_writer.hpp - a test-only .npy writer, written from the format description (numpy.lib.format): magic
// "\x93NUMPY", version bytes, a little-endian header length (2 bytes for 1.0, 4 bytes for 2.0 / 3.0), a Python dict
// literal padded with spaces and ending in '\n' so that the data starts at a multiple of 64, then the raw data.
// Every field can be overridden so that the tests can build malformed files.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace npy_test {

inline std::string shape_literal(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

inline std::string header_dict(const std::string& descr, bool fortran, const std::vector<std::int64_t>& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape_literal(shape) + ", }";
}

// The bytes of a .npy file with the given header dict and raw data.
inline std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::uint32_t len = static_cast<std::uint32_t>(header.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + header + data;
}

inline std::string raw_f32(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t b;
    std::memcpy(&b, &v[i], 4);
    for (int k = 0; k < 4; ++k) s[4 * i + k] = static_cast<char>((b >> (8 * k)) & 0xff);
  }
  return s;
}

inline std::string raw_u16(const std::vector<std::uint16_t>& v) {
  std::string s(v.size() * 2, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    s[2 * i] = static_cast<char>(v[i] & 0xff);
    s[2 * i + 1] = static_cast<char>(v[i] >> 8);
  }
  return s;
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void write_f32(const std::string& path, const std::vector<float>& v, const std::vector<std::int64_t>& shape,
                      int major = 1) {
  write_file(path, npy_bytes(header_dict("<f4", false, shape), raw_f32(v), major));
}

inline void write_f16(const std::string& path, const std::vector<std::uint16_t>& bits,
                      const std::vector<std::int64_t>& shape, int major = 1) {
  write_file(path, npy_bytes(header_dict("<f2", false, shape), raw_u16(bits), major));
}

}  // namespace npy_test

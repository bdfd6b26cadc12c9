// Test-only reader of the conformance vectors in tests/formats/data/ (written by tests/formats/gen_vectors.py):
// one record per line, `tag hex hex ...`; `#` lines are comments. The directory comes from CMake as
// QMATH_FORMATS_DATA_DIR.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qmath_test {

struct Record {
  std::string tag;
  std::vector<std::uint32_t> words;
};

inline std::vector<Record> read_vectors(const std::string& file) {
  const std::string path = std::string(QMATH_FORMATS_DATA_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Record r;
    ls >> r.tag;
    std::string w;
    while (ls >> w) r.words.push_back(static_cast<std::uint32_t>(std::stoul(w, nullptr, 16)));
    out.push_back(std::move(r));
  }
  if (out.empty()) throw std::runtime_error("no records in " + path);
  return out;
}

// The records of `file` whose tag is `tag`, in file order.
inline std::vector<Record> read_vectors(const std::string& file, const std::string& tag) {
  std::vector<Record> out;
  for (Record& r : read_vectors(file))
    if (r.tag == tag) out.push_back(std::move(r));
  return out;
}

inline float as_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
inline std::uint32_t as_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
// Equal bit for bit, or both NaN (NaN payloads and signs are not specified by ONNX's float outputs).
inline bool same_float(float got, std::uint32_t want) {
  const float w = as_float(want);
  if (w != w) return got != got;
  return as_bits(got) == want;
}
inline std::vector<float> floats(const std::vector<std::uint32_t>& w) {
  std::vector<float> f(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) f[i] = as_float(w[i]);
  return f;
}

}  // namespace qmath_test

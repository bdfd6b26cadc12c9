// Test-only reader of the checked-in vector files (tests/formats/data/*.txt, tests/pytorch/data/*.txt): one record per
// line, `tag hex hex ...` (32-bit words in hexadecimal); empty lines and `#` lines are skipped.
#pragma once

#include <cstddef>
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

// The records of the file at `path` (those tagged `tag` when it is not null), in file order; throws when the file is
// missing or holds none.
inline std::vector<Record> read_record_file(const std::string& path, const char* tag = nullptr) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Record r;
    ls >> r.tag;
    if (tag != nullptr && r.tag != tag) continue;
    std::string w;
    while (ls >> w) r.words.push_back(static_cast<std::uint32_t>(std::stoul(w, nullptr, 16)));
    out.push_back(std::move(r));
  }
  if (out.empty()) throw std::runtime_error("no " + (tag ? "'" + std::string(tag) + "' " : std::string()) +
                                           "records in " + path);
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

// A sequential reader of one record's words; throws when the record is too short.
class Words {
 public:
  explicit Words(const Record& r) : tag_(r.tag), w_(r.words) {}
  std::uint32_t u32() { return at(); }
  std::int32_t i32() { return static_cast<std::int32_t>(at()); }
  std::size_t size() { return static_cast<std::size_t>(at()); }
  float f32() { return as_float(at()); }
  std::vector<float> floats(std::size_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = f32();
    return v;
  }
  std::vector<std::uint32_t> u32s(std::size_t n) {
    std::vector<std::uint32_t> v(n);
    for (std::uint32_t& u : v) u = u32();
    return v;
  }
  std::vector<std::int32_t> ints(std::size_t n) {
    std::vector<std::int32_t> v(n);
    for (std::int32_t& i : v) i = i32();
    return v;
  }
  bool done() const { return i_ == w_.size(); }

 private:
  std::uint32_t at() {
    if (i_ >= w_.size()) throw std::runtime_error("'" + tag_ + "' record too short");
    return w_[i_++];
  }
  const std::string& tag_;
  const std::vector<std::uint32_t>& w_;
  std::size_t i_ = 0;
};

}  // namespace qmath_test

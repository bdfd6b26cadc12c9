// Test-only reader of tests/pytorch/data/pytorch_vectors.txt (written by tests/pytorch/gen_pytorch_vectors.py from
// torch 1.13): one record per line, `tag hex hex ...`; `#` lines are comments. The directory comes from CMake as
// QMATH_PYTORCH_DATA_DIR. Used by tests/pytorch/pytorch_vectors_test.cpp (host paths) and tests/cuda/quantize_test.cpp
// (CUDA kernels through the host execution layer).
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
namespace pytorch {

struct Record {
  std::string tag;
  std::vector<std::uint32_t> words;
};

// The records whose tag is `tag`, in file order; throws when the file is missing or holds none.
inline std::vector<Record> read_records(const std::string& tag) {
  const std::string path = std::string(QMATH_PYTORCH_DATA_DIR) + "/pytorch_vectors.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Record> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Record r;
    ls >> r.tag;
    if (r.tag != tag) continue;
    std::string w;
    while (ls >> w) r.words.push_back(static_cast<std::uint32_t>(std::stoul(w, nullptr, 16)));
    out.push_back(std::move(r));
  }
  if (out.empty()) throw std::runtime_error("no '" + tag + "' records in " + path);
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

// A sequential reader of one record's words.
class Words {
 public:
  explicit Words(const Record& r) : w_(r.words) {}
  std::uint32_t u32() { return at(); }
  std::int32_t i32() { return static_cast<std::int32_t>(at()); }
  std::size_t size() { return static_cast<std::size_t>(at()); }
  float f32() { return as_float(at()); }
  std::vector<float> floats(std::size_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = f32();
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
    if (i_ >= w_.size()) throw std::runtime_error("pytorch_vectors.txt: record too short");
    return w_[i_++];
  }
  const std::vector<std::uint32_t>& w_;
  std::size_t i_ = 0;
};

// quantize_per_tensor (tag qt): dtype 0 qint8 / 1 quint8, scale, zero point, x, PyTorch's q.
struct TensorCase {
  int dtype;
  float scale;
  std::int32_t zero_point;
  std::vector<float> x;
  std::vector<std::int32_t> q;
};
inline std::vector<TensorCase> tensor_cases() {
  std::vector<TensorCase> out;
  for (const Record& r : read_records("qt")) {
    Words w(r);
    TensorCase c;
    c.dtype = w.i32();
    c.scale = w.f32();
    c.zero_point = w.i32();
    const std::size_t n = w.size();
    c.x = w.floats(n);
    c.q = w.ints(n);
    if (!w.done()) throw std::runtime_error("pytorch_vectors.txt: qt record too long");
    out.push_back(std::move(c));
  }
  return out;
}

// quantize_per_channel (tag qc) along axis 1 of [outer, channels, inner].
struct ChannelCase {
  int dtype;
  std::size_t outer, channels, inner;
  std::vector<float> scales;
  std::vector<std::int32_t> zero_points;
  std::vector<float> x;
  std::vector<std::int32_t> q;
};
inline std::vector<ChannelCase> channel_cases() {
  std::vector<ChannelCase> out;
  for (const Record& r : read_records("qc")) {
    Words w(r);
    ChannelCase c;
    c.dtype = w.i32();
    c.outer = w.size();
    c.channels = w.size();
    c.inner = w.size();
    c.scales = w.floats(c.channels);
    c.zero_points = w.ints(c.channels);
    const std::size_t n = c.outer * c.channels * c.inner;
    c.x = w.floats(n);
    c.q = w.ints(n);
    if (!w.done()) throw std::runtime_error("pytorch_vectors.txt: qc record too long");
    out.push_back(std::move(c));
  }
  return out;
}

// fake_quantize_per_tensor_affine (tag fq): [qmin, qmax], scale, zero point, x, PyTorch's y.
struct FakeCase {
  std::int32_t qmin, qmax;
  float scale;
  std::int32_t zero_point;
  std::vector<float> x;
  std::vector<std::uint32_t> y_bits;
};
inline std::vector<FakeCase> fake_cases() {
  std::vector<FakeCase> out;
  for (const Record& r : read_records("fq")) {
    Words w(r);
    FakeCase c;
    c.qmin = w.i32();
    c.qmax = w.i32();
    c.scale = w.f32();
    c.zero_point = w.i32();
    const std::size_t n = w.size();
    c.x = w.floats(n);
    for (std::size_t i = 0; i < n; ++i) c.y_bits.push_back(w.u32());
    if (!w.done()) throw std::runtime_error("pytorch_vectors.txt: fq record too long");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace pytorch
}  // namespace qmath_test

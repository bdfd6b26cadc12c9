// Test-only reader of tests/pytorch/data/pytorch_vectors.txt (written by tests/pytorch/gen_pytorch_vectors.py from
// torch 1.13), in the record format of tests/record_file.hpp. The directory comes from CMake as QMATH_PYTORCH_DATA_DIR. Used by tests/pytorch/pytorch_vectors_test.cpp (host paths) and tests/cuda/quantize_test.cpp
// (CUDA kernels through the host execution layer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../record_file.hpp"

namespace qmath_test {
namespace pytorch {

using qmath_test::as_bits;
using qmath_test::as_float;
using qmath_test::Record;
using qmath_test::Words;

// The records whose tag is `tag`, in file order; throws when the file is missing or holds none.
inline std::vector<Record> read_records(const char* tag) {
  return read_record_file(std::string(QMATH_PYTORCH_DATA_DIR) + "/pytorch_vectors.txt", tag);
}

// parse(Words&) -> Case for every record tagged `tag`; throws when a record holds more words than parse reads.
template <class Parse>
auto parse_records(const char* tag, Parse parse) {
  std::vector<decltype(parse(std::declval<Words&>()))> out;
  for (const Record& r : read_records(tag)) {
    Words w(r);
    out.push_back(parse(w));
    if (!w.done()) throw std::runtime_error(std::string("pytorch_vectors.txt: ") + tag + " record too long");
  }
  return out;
}

// quantize_per_tensor (tag qt): dtype 0 qint8 / 1 quint8, scale, zero point, x, PyTorch's q.
struct TensorCase {
  int dtype;
  float scale;
  std::int32_t zero_point;
  std::vector<float> x;
  std::vector<std::int32_t> q;
};
inline std::vector<TensorCase> tensor_cases() {
  return parse_records("qt", [](Words& w) {
    TensorCase c;
    c.dtype = w.i32();
    c.scale = w.f32();
    c.zero_point = w.i32();
    const std::size_t n = w.size();
    c.x = w.floats(n);
    c.q = w.ints(n);
    return c;
  });
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
  return parse_records("qc", [](Words& w) {
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
    return c;
  });
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
  return parse_records("fq", [](Words& w) {
    FakeCase c;
    c.qmin = w.i32();
    c.qmax = w.i32();
    c.scale = w.f32();
    c.zero_point = w.i32();
    const std::size_t n = w.size();
    c.x = w.floats(n);
    c.y_bits = w.u32s(n);
    return c;
  });
}

// torch.ops.quantized.linear_dynamic, engine qnnpack (tag dl): x quantized by torch to a_q (quint8, a_scale, a_zp),
// int8 weights w_q (n x k row-major, zero point 0) with 1 or n scales, a float bias, the operator's float output y.
struct DynamicLinearCase {
  int m, n, k;
  bool per_channel;
  float a_scale;
  std::int32_t a_zero_point;
  std::vector<float> w_scale, bias;
  std::vector<std::uint8_t> a_q;
  std::vector<std::int8_t> w_q;
  std::vector<std::uint32_t> y_bits;
};
inline std::vector<DynamicLinearCase> dynamic_linear_cases() {
  return parse_records("dl", [](Words& w) {
    DynamicLinearCase c;
    c.m = w.i32();
    c.n = w.i32();
    c.k = w.i32();
    c.per_channel = w.i32() != 0;
    c.a_scale = w.f32();
    c.a_zero_point = w.i32();
    c.w_scale = w.floats(c.per_channel ? std::size_t(c.n) : 1);
    c.bias = w.floats(std::size_t(c.n));
    for (std::int32_t v : w.ints(std::size_t(c.m) * c.k)) c.a_q.push_back(static_cast<std::uint8_t>(v));
    for (std::int32_t v : w.ints(std::size_t(c.n) * c.k)) c.w_q.push_back(static_cast<std::int8_t>(v));
    c.y_bits = w.u32s(std::size_t(c.m) * c.n);
    return c;
  });
}

}  // namespace pytorch
}  // namespace qmath_test

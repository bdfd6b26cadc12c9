// Tests for qmath/mx.hpp against the vectors of tests/formats/gen_vectors.py (element decode tables from ml_dtypes;
// blocks encoded by the generator's OCP MX v1.0 model, whose element conversion is ml_dtypes' after clipping):
// random blocks over many magnitudes, amax on and just below a power of two, ties of the element grid, all-zero
// blocks, float32 subnormals, NaN and Inf blocks. Plus the E8M0 scale, floor_log2 and the ragged last block.
#include <qmath/mx.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "formats/vector_file.hpp"

using qmath::MxFormat;
using qmath_test::floats;
using qmath_test::read_vectors;
using qmath_test::same_float;

namespace {
const MxFormat kFormats[] = {MxFormat::kFp8E4M3, MxFormat::kFp8E5M2, MxFormat::kFp6E2M3,
                             MxFormat::kFp6E3M2, MxFormat::kFp4E2M1, MxFormat::kInt8};
}  // namespace

TEST_CASE("mx element codes decode as ml_dtypes' float8/float6/float4 types", "[mx]") {
  std::size_t n = 0;
  for (const auto& r : read_vectors("mx.txt", "mxe")) {
    const MxFormat f = kFormats[r.words[0]];
    for (std::size_t c = 1; c < r.words.size(); ++c) {
      INFO("format " << r.words[0] << " code " << c - 1);
      CHECK(same_float(qmath::mx_element_decode(static_cast<std::uint8_t>(c - 1), f), r.words[c]));
    }
    ++n;
  }
  CHECK(n == 5);
}

TEST_CASE("mx blocks encode and decode as the OCP MX v1.0 model does, block by block and as one array", "[mx]") {
  const auto recs = read_vectors("mx.txt");
  std::map<std::uint32_t, std::vector<std::size_t>> by_format;
  for (std::size_t i = 0; i < recs.size(); ++i)
    if (recs[i].tag == "mx") by_format[recs[i].words[0]].push_back(i);
  REQUIRE(by_format.size() == 6);
  for (const auto& [fi, starts] : by_format) {
    const MxFormat f = kFormats[fi];
    std::vector<float> all_x, all_d;
    std::vector<std::uint8_t> all_s, all_q;
    for (std::size_t i : starts) {
      const auto x = floats(recs[i + 1].words);
      const auto& q = recs[i + 2].words;
      REQUIRE(x.size() == 32);
      std::uint8_t elems[32];
      const std::uint8_t code = qmath::mx_encode_block(x.data(), 32, f, elems);
      INFO("format " << fi << " block at record " << i);
      CHECK(code == q[0]);
      for (int k = 0; k < 32; ++k) CHECK(elems[k] == q[1 + k]);
      float d[32];
      qmath::mx_decode_block(code, elems, 32, f, d);
      for (int k = 0; k < 32; ++k) CHECK(same_float(d[k], recs[i + 3].words[k]));
      all_x.insert(all_x.end(), x.begin(), x.end());
      all_s.push_back(static_cast<std::uint8_t>(q[0]));
      for (int k = 0; k < 32; ++k) all_q.push_back(static_cast<std::uint8_t>(q[1 + k]));
      const auto dv = floats(recs[i + 3].words);
      all_d.insert(all_d.end(), dv.begin(), dv.end());
    }
    std::vector<std::uint8_t> s(qmath::mx_block_count(all_x.size())), q(all_x.size());
    qmath::mx_quantize(all_x.data(), all_x.size(), f, s.data(), q.data());
    CHECK(s == all_s);
    CHECK(q == all_q);
    std::vector<float> d(all_x.size());
    qmath::mx_dequantize(s.data(), q.data(), d.size(), f, d.data());
    for (std::size_t k = 0; k < d.size(); ++k) CHECK(same_float(d[k], qmath_test::as_bits(all_d[k])));
  }
}

TEST_CASE("mx: E8M0 scale, floor_log2, the documented choices and a ragged last block", "[mx]") {
  CHECK(qmath::e8m0_to_float(127) == 1.0f);
  CHECK(qmath::e8m0_to_float(0) == std::ldexp(1.0f, -127));
  CHECK(qmath::e8m0_to_float(254) == std::ldexp(1.0f, 127));
  CHECK(std::isnan(qmath::e8m0_to_float(255)));
  for (int e = -149; e <= 127; ++e) {
    const float p = std::ldexp(1.0f, e);
    CHECK(qmath::floor_log2(p) == e);
    if (e > -149) CHECK(qmath::floor_log2(std::nextafter(p, 0.0f)) == e - 1);
  }
  // amax 448 in MXFP8 E4M3: shared_exp = 8 - 8 = 0 (scale 1), 448 encodes as the element max 0x7E
  float x[33] = {448.0f, -1.0f};
  std::uint8_t s[2], q[33];
  qmath::mx_quantize(x, 33, MxFormat::kFp8E4M3, s, q);
  CHECK(s[0] == 127);
  CHECK(q[0] == 0x7E);
  CHECK(q[1] == 0xB8);
  // the ragged last block (one element, 0): smallest scale, element +0
  CHECK(s[1] == 0);
  CHECK(q[32] == 0);
  // amax 7 in MXFP4: shared_exp = 2 - 2 = 0; 7 is above the element max 6 and saturates (0x7)
  float y[2] = {7.0f, -0.25f};
  std::uint8_t qs, qe[2];
  qs = qmath::mx_encode_block(y, 2, MxFormat::kFp4E2M1, qe);
  CHECK(qs == 127);
  CHECK(qe[0] == 0x7);
  CHECK(qe[1] == 0x8);  // -0.25 is the tie between -0 and -0.5: even mantissa -> -0 (0x8)
  // MXINT8: -128 never produced; 1.984375 = 127/64 is the largest
  float z[2] = {-1.9999f, 1.0f};
  qs = qmath::mx_encode_block(z, 2, MxFormat::kInt8, qe);
  CHECK(qs == 127);
  CHECK(qe[0] == 0x81);  // -127
  CHECK(qe[1] == 64);
  // NaN / Inf blocks: NaN scale, zero elements, all NaN back
  float w[3] = {1.0f, std::numeric_limits<float>::infinity(), 2.0f};
  std::uint8_t qw[3] = {1, 2, 3};
  qs = qmath::mx_encode_block(w, 3, MxFormat::kFp8E5M2, qw);
  CHECK(qs == qmath::kE8M0Nan);
  CHECK((qw[0] == 0 && qw[1] == 0 && qw[2] == 0));
  float back[3];
  qmath::mx_decode_block(qs, qw, 2, MxFormat::kFp8E5M2, back);
  CHECK(std::isnan(back[0]));
  CHECK(std::isnan(back[1]));
}

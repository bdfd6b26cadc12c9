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
#include <random>
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

// ---- bit-packed element storage -------------------------------------------------------------------------------------

TEST_CASE("mx_pack_elements: hand-checked MXFP4 and MXFP6 bytes", "[mx][packed]") {
  {  // FP4: two per byte, low nibble first; an odd count leaves the last high nibble 0
    const std::uint8_t codes[3] = {0x1, 0xF, 0x7};
    std::uint8_t packed[2] = {0xEE, 0xEE};
    CHECK(qmath::mx_packed_size(3, MxFormat::kFp4E2M1) == 2);
    qmath::mx_pack_elements(codes, 3, MxFormat::kFp4E2M1, packed);
    CHECK(packed[0] == 0xF1);
    CHECK(packed[1] == 0x07);
  }
  {  // FP6: word = 1 | 2 << 6 | 3 << 12 | 63 << 18 = 0xFC3081 -> bytes 81 30 FC; a fifth code starts byte 3
    const std::uint8_t codes[5] = {0x01, 0x02, 0x03, 0x3F, 0x2A};
    std::uint8_t packed[4] = {0xEE, 0xEE, 0xEE, 0xEE};
    CHECK(qmath::mx_packed_size(4, MxFormat::kFp6E2M3) == 3);
    CHECK(qmath::mx_packed_size(5, MxFormat::kFp6E3M2) == 4);
    qmath::mx_pack_elements(codes, 5, MxFormat::kFp6E2M3, packed);
    CHECK(packed[0] == 0x81);
    CHECK(packed[1] == 0x30);
    CHECK(packed[2] == 0xFC);
    CHECK(packed[3] == 0x2A);
    std::uint8_t back[5] = {};
    qmath::mx_unpack_elements(packed, 5, MxFormat::kFp6E2M3, back);
    for (int i = 0; i < 5; ++i) CHECK(back[i] == codes[i]);
  }
  CHECK(qmath::mx_packed_size(32, MxFormat::kFp4E2M1) == 16);
  CHECK(qmath::mx_packed_size(32, MxFormat::kFp6E2M3) == 24);
  CHECK(qmath::mx_packed_size(7, MxFormat::kFp8E4M3) == 7);
  CHECK(qmath::mx_packed_size(7, MxFormat::kInt8) == 7);
}

TEST_CASE("mx_pack_elements is the LSB-first bit stream, and MXFP6 follows the four-in-three formulas",
          "[mx][packed]") {
  std::mt19937 rng(4);
  for (MxFormat f : {MxFormat::kFp4E2M1, MxFormat::kFp6E2M3, MxFormat::kFp6E3M2, MxFormat::kFp8E5M2}) {
    const unsigned w = static_cast<unsigned>(qmath::mx_element_bits(f));
    for (std::size_t n = 0; n <= 70; ++n) {
      std::vector<std::uint8_t> codes(n);
      for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & ((1u << w) - 1u));
      std::vector<std::uint8_t> packed(qmath::mx_packed_size(n, f) + 1, 0xEE);
      qmath::mx_pack_elements(codes.data(), n, f, packed.data());
      INFO("format " << int(f) << " n " << n);
      CHECK(packed.back() == 0xEE);  // nothing written past mx_packed_size
      std::size_t bad = 0;
      for (std::size_t j = 0; j < 8 * qmath::mx_packed_size(n, f); ++j) {
        const unsigned want = j < w * n ? (codes[j / w] >> (j % w)) & 1u : 0u;
        bad += ((packed[j / 8] >> (j % 8)) & 1u) != want;
      }
      CHECK(bad == 0);
      if (w == 6)
        for (std::size_t k = 0; 4 * k + 3 < n; ++k) {
          const std::uint8_t* b = &packed[3 * k];
          CHECK(codes[4 * k] == (b[0] & 0x3F));
          CHECK(codes[4 * k + 1] == ((b[0] >> 6) | ((b[1] & 0x0F) << 2)));
          CHECK(codes[4 * k + 2] == ((b[1] >> 4) | ((b[2] & 0x03) << 4)));
          CHECK(codes[4 * k + 3] == (b[2] >> 2));
        }
      std::vector<std::uint8_t> back(n, 0xEE);
      qmath::mx_unpack_elements(packed.data(), n, f, back.data());
      CHECK(back == codes);
    }
  }
}

TEST_CASE("mx_quantize_packed / mx_dequantize_packed equal the one-per-byte forms", "[mx][packed]") {
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> x(100);  // three full blocks and a ragged one of 4
  for (float& v : x) v = nd(rng);
  x[40] = std::numeric_limits<float>::infinity();  // a NaN-scaled block
  for (MxFormat f : {MxFormat::kFp8E4M3, MxFormat::kFp8E5M2, MxFormat::kFp6E2M3, MxFormat::kFp6E3M2,
                     MxFormat::kFp4E2M1, MxFormat::kInt8}) {
    INFO("format " << int(f));
    const std::size_t nb = qmath::mx_block_count(x.size());
    std::vector<std::uint8_t> s1(nb), s2(nb), codes(x.size()), packed(qmath::mx_packed_size(x.size(), f)),
        unpacked(x.size());
    qmath::mx_quantize(x.data(), x.size(), f, s1.data(), codes.data());
    qmath::mx_quantize_packed(x.data(), x.size(), f, s2.data(), packed.data());
    CHECK(s1 == s2);
    qmath::mx_unpack_elements(packed.data(), x.size(), f, unpacked.data());
    CHECK(unpacked == codes);
    std::vector<float> d1(x.size()), d2(x.size());
    qmath::mx_dequantize(s1.data(), codes.data(), x.size(), f, d1.data());
    qmath::mx_dequantize_packed(s2.data(), packed.data(), x.size(), f, d2.data());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(qmath_test::as_bits(d1[i]) == qmath_test::as_bits(d2[i]));
  }
}

TEST_CASE("mx_pack_elements: a code wider than the element is an error before anything is written", "[mx][packed]") {
  const std::uint8_t codes[3] = {0x3F, 0x40, 0x01};
  std::uint8_t packed[3] = {0xEE, 0xEE, 0xEE};
  CHECK_THROWS_WITH(qmath::mx_pack_elements(codes, 3, MxFormat::kFp6E3M2, packed),
                    Catch::Contains("code[1] = 64") && Catch::Contains("6 bits"));
  CHECK_THROWS_WITH(qmath::mx_pack_elements(codes, 1, MxFormat::kFp4E2M1, packed), Catch::Contains("4 bits"));
  for (std::uint8_t b : packed) CHECK(b == 0xEE);
}

// Tests for qmath/int4.hpp against the vectors of tests/formats/gen_vectors.py: the ONNX reference QuantizeLinear /
// DequantizeLinear to INT4 / UINT4 (per tensor, per axis, blocked with ragged last blocks, odd element counts,
// packed as onnx.numpy_helper packs them; the spec's saturation where the reference's int32 cast overflows) and
// ONNX Runtime's C++ MatMulNBits quantizer (quantize_matmul_4bits); plus packing and the error policy.
#include <qmath/int4.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "float_specials.hpp"
#include "formats/vector_file.hpp"

using qmath_test::kInf;
using qmath_test::kNaN;
using qmath::Int4Grid;
using qmath_test::as_float;
using qmath_test::floats;
using qmath_test::read_vectors;
using qmath_test::same_float;

namespace {
std::vector<std::int32_t> ints(const std::vector<std::uint32_t>& w) {
  return std::vector<std::int32_t>(w.begin(), w.end());
}
}  // namespace

TEST_CASE("int4 scalar QuantizeLinear matches the ONNX reference (ties, saturation, NaN, huge quotients)", "[int4]") {
  std::size_t n = 0;
  for (const auto& r : read_vectors("int4.txt", "q4")) {
    const bool is_signed = r.words[0] != 0;
    const float scale = as_float(r.words[1]);
    const auto zp = static_cast<std::int32_t>(r.words[2]);
    const float x = as_float(r.words[3]);
    INFO("signed " << is_signed << " scale " << scale << " zp " << zp << " x " << x);
    CHECK(qmath::int4_quantize_value(x, scale, zp, is_signed) == static_cast<std::int32_t>(r.words[4]));
    // the array form, per tensor, one element
    std::uint8_t byte = 0xFF;
    qmath::int4_quantize(&x, Int4Grid::per_tensor(1), &scale, &zp, is_signed, &byte);
    CHECK(qmath::int4_get(&byte, 0, is_signed) == static_cast<std::int32_t>(r.words[4]));
    CHECK((byte >> 4) == 0);  // odd count: the high nibble is 0
    ++n;
  }
  CHECK(n > 500);
}

TEST_CASE("int4 per-axis and blocked QuantizeLinear / DequantizeLinear match the ONNX reference, packed", "[int4]") {
  const auto recs = read_vectors("int4.txt");
  std::size_t cases = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].tag != "blk") continue;
    const auto& h = recs[i].words;
    const bool is_signed = h[0] != 0;
    const std::size_t rank = h[1];
    const std::vector<std::int64_t> shape(h.begin() + 2, h.begin() + 2 + static_cast<std::ptrdiff_t>(rank));
    const int axis = static_cast<int>(h[2 + rank]);
    const std::size_t block = h[3 + rank];
    const auto layout = qmath::channel_layout(shape, axis);
    const Int4Grid g = block ? Int4Grid::blocked(layout, block) : Int4Grid::per_axis(layout);
    const auto x = floats(recs[i + 1].words);
    const auto s = floats(recs[i + 2].words);
    const auto z = ints(recs[i + 3].words);
    const auto& want_q = recs[i + 4].words;
    const auto& want_d = recs[i + 5].words;
    REQUIRE(g.param_count() == s.size());
    REQUIRE(qmath::int4_packed_size(x.size()) == want_q.size());
    std::vector<std::uint8_t> q(want_q.size(), 0xEE);
    qmath::int4_quantize(x.data(), g, s.data(), z.data(), is_signed, q.data());
    std::vector<float> d(x.size());
    qmath::int4_dequantize(q.data(), g, s.data(), z.data(), is_signed, d.data());
    INFO("signed " << is_signed << " rank " << rank << " axis " << axis << " block " << block);
    for (std::size_t k = 0; k < q.size(); ++k) CHECK(q[k] == want_q[k]);
    for (std::size_t k = 0; k < d.size(); ++k) CHECK(same_float(d[k], want_d[k]));
    ++cases;
  }
  CHECK(cases == 12);
}

TEST_CASE("quantize_matmul_nbits4 matches ONNX Runtime's C++ quantize_matmul_4bits bit for bit", "[int4]") {
  const auto recs = read_vectors("int4.txt");
  std::size_t cases = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    if (recs[i].tag != "mnb") continue;
    const bool sym = recs[i].words[0] != 0;
    const qmath::MatMulNBitsShape s{recs[i].words[1], recs[i].words[2], recs[i].words[3]};
    const auto w = floats(recs[i + 1].words);
    const auto& want_q = recs[i + 2].words;
    const auto& want_s = recs[i + 3].words;
    const auto& want_z = recs[i + 4].words;
    REQUIRE(want_q.size() == s.packed_bytes());
    REQUIRE(want_s.size() == s.scale_count());
    REQUIRE(want_z.size() == s.zero_point_bytes());
    std::vector<std::uint8_t> q(s.packed_bytes(), 0xEE), z(s.zero_point_bytes(), 0xEE);
    std::vector<float> sc(s.scale_count());
    qmath::quantize_matmul_nbits4(w.data(), s, sym, q.data(), sc.data(), sym ? nullptr : z.data());
    INFO("symmetric " << sym << " K " << s.K << " N " << s.N << " block " << s.block_size);
    for (std::size_t k = 0; k < q.size(); ++k) CHECK(q[k] == want_q[k]);
    for (std::size_t k = 0; k < sc.size(); ++k) CHECK(same_float(sc[k], want_s[k]));
    if (!sym)
      for (std::size_t k = 0; k < z.size(); ++k) CHECK(z[k] == want_z[k]);
    // Dequantization reproduces every weight within half a step of its block's scale; symmetric blocks map the
    // largest magnitude to -8 steps, so the other side clips at +7 steps: up to one step there.
    std::vector<float> back(w.size());
    qmath::dequantize_matmul_nbits4(q.data(), sc.data(), sym ? nullptr : z.data(), s, back.data());
    for (std::size_t k = 0; k < s.K; ++k)
      for (std::size_t n = 0; n < s.N; ++n) {
        const float step = std::fabs(sc[n * s.blocks() + k / s.block_size]);
        CHECK(std::fabs(back[k * s.N + n] - w[k * s.N + n]) <= (sym ? 1.0f : 0.5f) * step * 1.0001f + 1e-30f);
      }
    ++cases;
  }
  CHECK(cases == 8);
}

TEST_CASE("int4 packing: low nibble first, two's complement, odd counts padded with 0", "[int4]") {
  const std::int32_t v[5] = {1, -2, 3, -8, 7};
  std::uint8_t p[3];
  qmath::int4_pack(v, 5, true, p);
  CHECK(p[0] == 0xE1);
  CHECK(p[1] == 0x83);
  CHECK(p[2] == 0x07);
  std::int32_t back[5];
  qmath::int4_unpack(p, 5, true, back);
  for (int i = 0; i < 5; ++i) CHECK(back[i] == v[i]);
  qmath::int4_unpack(p, 5, false, back);
  CHECK(back[1] == 14);
  const std::int32_t bad[2] = {1, 8};
  std::uint8_t untouched = 0x5A;
  CHECK_THROWS_WITH(qmath::int4_pack(bad, 2, true, &untouched), Catch::Contains("value[1] = 8 outside [-8, 7]"));
  CHECK(untouched == 0x5A);
}

TEST_CASE("int4: bad scales, zero points and block sizes throw qmath::error before anything is written", "[int4]") {
  const float x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  const auto layout = qmath::channel_layout({2, 2}, 1);
  std::uint8_t q[2] = {0xAA, 0xAA};
  float y[4] = {7, 7, 7, 7};
  for (float bad : {0.0f, -1.0f, kNaN, kInf}) {
    const float s[2] = {1.0f, bad};
    CHECK_THROWS_WITH(qmath::int4_quantize(x, Int4Grid::per_axis(layout), s, nullptr, true, q),
                      Catch::Contains("int4_quantize") && Catch::Contains("scale[1]"));
    CHECK_THROWS_AS(qmath::int4_dequantize(q, Int4Grid::per_axis(layout), s, nullptr, true, y), qmath::error);
  }
  const float s[2] = {1.0f, 1.0f};
  const std::int32_t zs[2] = {0, 8};   // 8 is outside int4
  const std::int32_t zu[2] = {0, -1};  // -1 is outside uint4
  CHECK_THROWS_WITH(qmath::int4_quantize(x, Int4Grid::per_axis(layout), s, zs, true, q),
                    Catch::Contains("zero point[1] = 8 outside [-8, 7]"));
  CHECK_THROWS_AS(qmath::int4_quantize(x, Int4Grid::per_axis(layout), s, zu, false, q), qmath::error);
  CHECK_THROWS_WITH(qmath::int4_quantize(x, Int4Grid::blocked(layout, 0), s, nullptr, true, q),
                    Catch::Contains("block_size must be >= 1"));
  CHECK(q[0] == 0xAA);
  CHECK(q[1] == 0xAA);
  CHECK(y[0] == 7.0f);
  // MatMulNBits: block sizes ONNX Runtime does not accept (odd ones among them), non-finite weights
  std::vector<float> w(64 * 2, 0.5f);
  std::vector<std::uint8_t> packed(64, 0xAA), zp(2, 0xAA);
  std::vector<float> sc(4, 9.0f);
  for (std::size_t bs : {0u, 15u, 24u, 8u, 512u})
    CHECK_THROWS_WITH(qmath::quantize_matmul_nbits4(w.data(), {64, 2, bs}, true, packed.data(), sc.data(), nullptr),
                      Catch::Contains("block_size must be a power of two in [16, 256]"));
  w[77] = kNaN;
  CHECK_THROWS_WITH(qmath::quantize_matmul_nbits4(w.data(), {64, 2, 32}, false, packed.data(), sc.data(), zp.data()),
                    Catch::Contains("weight (38, 1) is not finite"));
  CHECK_THROWS_AS(qmath::quantize_matmul_nbits4(w.data(), {64, 2, 32}, false, packed.data(), sc.data(), nullptr),
                  qmath::error);
  for (auto b : packed) CHECK(b == 0xAA);
  for (auto b : zp) CHECK(b == 0xAA);
  for (auto v : sc) CHECK(v == 9.0f);
}

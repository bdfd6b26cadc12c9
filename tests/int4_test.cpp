// Tests for qmath/int4.hpp against the vectors of tests/formats/gen_vectors.py: the ONNX reference QuantizeLinear /
// DequantizeLinear to INT4 / UINT4 (per tensor, per axis, blocked with ragged last blocks, odd element counts,
// packed as onnx.numpy_helper packs them; the spec's saturation where the reference's int32 cast overflows) and
// ONNX Runtime's C++ MatMulNBits quantizer (quantize_matmul_4bits); plus packing and the error policy; the AWQ and
// GPTQ group rules against AutoAWQ's and AutoGPTQ's own code (tests/formats/gen_group_rules.py) and by hand.
#include <qmath/int4.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
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

// ---- AWQ / GPTQ group rules ---------------------------------------------------------------------------------------
// Reference: tests/formats/data/group_rules.txt, written by tests/formats/gen_group_rules.py, which runs AutoAWQ
// 0.2.9's pseudo_quantize_tensor and AutoGPTQ 0.7.1's Quantizer (their own code, on torch float32) - an independent
// implementation of the rules. Dequantized values are compared as values: torch keeps a -0 where round(w / scale)
// is -0 (AWQ symmetric), qmath's float(q - zp) * scale gives +0.

namespace {
qmath::Int4GroupRule rule_named(const std::string& tag) {
  for (auto r : {qmath::Int4GroupRule::kAwqZeroPoint, qmath::Int4GroupRule::kAwqSymmetric,
                 qmath::Int4GroupRule::kGptqAsymmetric, qmath::Int4GroupRule::kGptqSymmetric})
    if (tag == qmath::int4_group_rule_name(r)) return r;
  throw std::runtime_error("unknown rule " + tag);
}
float dequantized(float w, qmath::Int4GroupParams p, qmath::Int4GroupRule r) {
  return qmath::int4_dequantize_value(
      qmath::int4_quantize_value(w, p.scale, p.zero_point, qmath::int4_group_rule_signed(r)), p.scale, p.zero_point);
}
}  // namespace

TEST_CASE("int4 group rules equal AutoAWQ's and AutoGPTQ's own code on their vectors", "[int4][group_rules]") {
  std::map<std::string, int> per_rule;
  for (const auto& rec : qmath_test::read_vectors("group_rules.txt")) {
    const auto rule = rule_named(rec.tag);
    const std::size_t n = rec.words[0];
    REQUIRE(rec.words.size() == 2 * n + 3);
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = qmath_test::as_float(rec.words[1 + i]);
    const auto p = qmath::int4_group_params(x.data(), n, rule);
    INFO(rec.tag << " group of " << n << " starting " << x[0]);
    CHECK(qmath_test::as_bits(p.scale) == rec.words[1 + n]);
    CHECK(p.zero_point == static_cast<std::int32_t>(rec.words[2 + n]));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += dequantized(x[i], p, rule) != qmath_test::as_float(rec.words[3 + n + i]);
    CHECK(bad == 0);
    ++per_rule[rec.tag];
  }
  CHECK(per_rule["awq_zero_point"] >= 19);
  CHECK(per_rule["awq_symmetric"] >= 19);
  CHECK(per_rule["gptq_asymmetric"] >= 19);
  CHECK(per_rule["gptq_symmetric"] >= 19);
}

TEST_CASE("int4 group rules on hand-checked groups", "[int4][group_rules]") {
  using R = qmath::Int4GroupRule;
  auto codes = [](const std::vector<float>& w, R r) {
    const auto p = qmath::int4_group_params(w.data(), w.size(), r);
    std::vector<std::int32_t> q;
    for (float v : w) q.push_back(qmath::int4_quantize_value(v, p.scale, p.zero_point, qmath::int4_group_rule_signed(r)));
    return std::make_pair(p, q);
  };
  {  // AWQ zero point: range 1.875 -> scale 0.125; zp = -round(-0.5 / 0.125) = 4; 0.3125 / 0.125 = 2.5 -> 2 (even)
    const auto [p, q] = codes({-0.5f, 0.25f, 0.3125f, 0.4375f, 1.375f}, R::kAwqZeroPoint);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 4);
    CHECK(q == std::vector<std::int32_t>{0, 6, 6, 8, 15});
  }
  {  // AWQ does not widen [min, max] to 0: [2, 3.875] -> scale 0.125, zp = -round(16) clamped to 0, 2 -> 16 -> 15
    const auto [p, q] = codes({2.0f, 3.875f}, R::kAwqZeroPoint);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 0);
    CHECK(q == std::vector<std::int32_t>{15, 15});
  }
  {  // AWQ's 1e-5 floor: an all-zero group gets scale 1e-5 / 15 and zero point 0
    const auto [p, q] = codes({0.0f, 0.0f, -0.0f}, R::kAwqZeroPoint);
    CHECK(p.scale == 1e-5f / 15.0f);
    CHECK(p.zero_point == 0);
    CHECK(q == std::vector<std::int32_t>{0, 0, 0});
  }
  {  // AWQ symmetric: amax 1.75 -> scale 0.25; 0.875 / 0.25 = 3.5 -> 4 (even); int4 codes
    const auto [p, q] = codes({-1.75f, 0.5f, 0.875f, -0.125f}, R::kAwqSymmetric);
    CHECK(p.scale == 0.25f);
    CHECK(p.zero_point == 0);
    CHECK(q == std::vector<std::int32_t>{-7, 2, 4, 0});
  }
  {  // GPTQ asymmetric: [-0.5, 1.375] -> scale 0.125, zp = round(0.5 / 0.125) = 4
    const auto [p, q] = codes({-0.5f, 0.0f, 1.375f}, R::kGptqAsymmetric);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 4);
    CHECK(q == std::vector<std::int32_t>{0, 4, 15});
  }
  {  // GPTQ widens to 0: [0.5, 1.875] -> lo 0, scale 0.125, zp round(-0 / 0.125) = 0
    const auto [p, q] = codes({0.5f, 1.875f}, R::kGptqAsymmetric);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 0);
    CHECK(q == std::vector<std::int32_t>{4, 15});
  }
  {  // GPTQ all-zero group: (lo, hi) = (-1, 1), scale = 2 / 15 = 0.13333334f; 1 / 0.13333334f = 7.4999995f, not
     // the tie 7.5, so zp = 7
    const auto [p, q] = codes({0.0f, 0.0f}, R::kGptqAsymmetric);
    CHECK(p.scale == 2.0f / 15.0f);
    CHECK(p.zero_point == 7);
    CHECK(q == std::vector<std::int32_t>{7, 7});
  }
  {  // GPTQ symmetric: hi = max(|-0.9375|, 0.5), lo = -hi -> scale 0.125, zp 8; -7.5 -> -8 (even) -> 0
    const auto [p, q] = codes({-0.9375f, 0.5f}, R::kGptqSymmetric);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 8);
    CHECK(q == std::vector<std::int32_t>{0, 12});
  }
  {  // GPTQ symmetric without a negative value: lo stays 0, scale = 1.875 / 15, zp 8: 1.875 saturates at 15 (7 steps)
    const auto [p, q] = codes({0.5f, 1.875f}, R::kGptqSymmetric);
    CHECK(p.scale == 0.125f);
    CHECK(p.zero_point == 8);
    CHECK(q == std::vector<std::int32_t>{12, 15});
    CHECK(qmath::int4_dequantize_value(q[1], p.scale, p.zero_point) == 0.875f);
  }
}

TEST_CASE("int4_quantize_groups: per row groups along the input dimension, ragged last group, errors first",
          "[int4][group_rules]") {
  const std::size_t rows = 3, cols = 70, gs = 32, groups = 3;
  std::mt19937 rng(9);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> w(rows * cols);
  for (float& v : w) v = nd(rng);
  for (auto rule : {qmath::Int4GroupRule::kAwqZeroPoint, qmath::Int4GroupRule::kAwqSymmetric,
                    qmath::Int4GroupRule::kGptqAsymmetric, qmath::Int4GroupRule::kGptqSymmetric}) {
    std::vector<std::int32_t> q(rows * cols, -99), zp(rows * groups, -99);
    std::vector<float> s(rows * groups, -1.0f);
    qmath::int4_quantize_groups(w.data(), rows, cols, gs, rule, q.data(), s.data(), zp.data());
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t len = g + 1 < groups ? gs : cols - 2 * gs;
        const auto p = qmath::int4_group_params(&w[r * cols + g * gs], len, rule);
        CHECK(s[r * groups + g] == p.scale);
        CHECK(zp[r * groups + g] == p.zero_point);
        for (std::size_t c = g * gs; c < g * gs + len; ++c)
          CHECK(q[r * cols + c] == qmath::int4_quantize_value(w[r * cols + c], p.scale, p.zero_point,
                                                              qmath::int4_group_rule_signed(rule)));
      }
  }
  std::vector<std::int32_t> q(rows * cols, -99), zp(rows * groups, -99);
  std::vector<float> s(rows * groups, -1.0f);
  auto untouched = [&] {
    for (auto v : q) CHECK(v == -99);
    for (auto v : zp) CHECK(v == -99);
    for (auto v : s) CHECK(v == -1.0f);
  };
  auto bad = w;
  bad[2 * cols + 69] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(qmath::int4_quantize_groups(bad.data(), rows, cols, gs, qmath::Int4GroupRule::kGptqSymmetric,
                                                q.data(), s.data(), zp.data()),
                    Catch::Contains("not finite"));
  untouched();
  CHECK_THROWS_WITH(qmath::int4_quantize_groups(w.data(), rows, cols, 0, qmath::Int4GroupRule::kAwqSymmetric, q.data(),
                                                s.data(), zp.data()),
                    Catch::Contains("group_size"));
  untouched();
  const float tiny[2] = {0.0f, std::numeric_limits<float>::denorm_min()};  // (hi - lo) / 15 underflows to 0
  CHECK_THROWS_WITH(qmath::int4_group_params(tiny, 2, qmath::Int4GroupRule::kGptqAsymmetric),
                    Catch::Contains("gptq_asymmetric") && Catch::Contains("scale"));
  const float huge[2] = {-3e38f, 3e38f};  // max - min overflows
  CHECK_THROWS_WITH(qmath::int4_group_params(huge, 2, qmath::Int4GroupRule::kAwqZeroPoint),
                    Catch::Contains("awq_zero_point"));
  CHECK_THROWS_WITH(qmath::int4_group_params(huge, 0, qmath::Int4GroupRule::kAwqZeroPoint), Catch::Contains("empty"));
}

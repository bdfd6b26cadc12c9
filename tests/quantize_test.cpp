// Tests for qmath/quantize.hpp and qmath/quantize_array.hpp: scalar semantics against an independent formulation,
// ONNX QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear worked examples, array and per-channel forms, and
// the error policy.
// (SIMD-vs-scalar bit-exactness of the array forms is in quantize_simd_test.cpp.)
#include <qmath/quantize_array.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "float_specials.hpp"
#include "core_reference.hpp"

using qmath_test::kInf;
using qmath_test::kNaN;
using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Round;
using Catch::Contains;

namespace {
const Round kModes[] = {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero};

// Inputs every array test uses: ties, NaN, infinities, huge, tiny, and random values around the range.
std::vector<float> test_inputs(std::size_t n, float scale, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-300.0f, 300.0f);
  std::uniform_int_distribution<int> k(-300, 300);
  const float specials[] = {0.0f, -0.0f, kNaN, kInf, -kInf, 3e38f, -3e38f, 1e-40f, 127.5f * scale, -128.5f * scale};
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (i % 4) {
      case 0: x[i] = specials[(i / 4) % 10]; break;
      case 1: x[i] = (static_cast<float>(k(rng)) + 0.5f) * scale; break;  // a tie when scale is a power of two
      default: x[i] = u(rng) * scale;
    }
  }
  return x;
}
}  // namespace

TEST_CASE("quantize_value: hand-worked ties for every rounding mode", "[quantize]") {
  // scale 0.5, zp 0: 1.25 / 0.5 = 2.5; -1.25 -> -2.5; 1.75 -> 3.5.
  const QuantParams p{0.5f, 0};
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  CHECK(qmath::quantize_value(1.25f, p, s8, Round::kHalfToEven) == 2);
  CHECK(qmath::quantize_value(1.25f, p, s8, Round::kHalfAwayFromZero) == 3);
  CHECK(qmath::quantize_value(1.25f, p, s8, Round::kHalfUp) == 3);
  CHECK(qmath::quantize_value(1.25f, p, s8, Round::kTowardZero) == 2);
  CHECK(qmath::quantize_value(-1.25f, p, s8, Round::kHalfToEven) == -2);
  CHECK(qmath::quantize_value(-1.25f, p, s8, Round::kHalfAwayFromZero) == -3);
  CHECK(qmath::quantize_value(-1.25f, p, s8, Round::kHalfUp) == -2);
  CHECK(qmath::quantize_value(-1.25f, p, s8, Round::kTowardZero) == -2);
  CHECK(qmath::quantize_value(1.75f, p, s8, Round::kHalfToEven) == 4);
  // the zero point is added after rounding: zp 7 moves the results, not the ties.
  CHECK(qmath::quantize_value(1.25f, QuantParams{0.5f, 7}, s8, Round::kHalfToEven) == 9);
  CHECK(qmath::quantize_value(-1.25f, QuantParams{0.5f, 7}, s8, Round::kHalfAwayFromZero) == 4);
}

TEST_CASE("quantize_value divides by the scale, it never multiplies by 1/scale", "[quantize]") {
  // scale = 0.3f (0x3e99999a), x = -0x1.2acccep+5 (-37.3500023): x / scale = -124.5 exactly in float32 and rounds
  // half to even to -124; x * f32(1 / scale) = -124.500008 would round to -125 (the FBGEMM pitfall). Found by a
  // search over k + 0.5 ties for scales with inexact reciprocals.
  const float scale = 0.3f, x = -0x1.2acccep+5f;
  REQUIRE(x / scale == -124.5f);
  REQUIRE(x * (1.0f / scale) != -124.5f);
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  CHECK(qmath::quantize_value(x, QuantParams{scale, 0}, s8) == -124);
  CHECK(qmath::quantize_value(-x, QuantParams{scale, 0}, s8) == 124);
  CHECK(qmath::quantize<std::int8_t>(x, QuantParams{scale, 0}) == -124);
}

TEST_CASE("quantize_value: NaN, infinities, overflow and saturation", "[quantize]") {
  const QuantRange u8 = qmath::full_range<std::uint8_t>();
  for (Round m : kModes) {
    CHECK(qmath::quantize_value(kNaN, QuantParams{0.1f, 77}, u8, m) == 77);  // NaN -> zero point
    CHECK(qmath::quantize_value(kInf, QuantParams{0.1f, 77}, u8, m) == 255);
    CHECK(qmath::quantize_value(-kInf, QuantParams{0.1f, 77}, u8, m) == 0);
    // x / scale overflows float to +inf and saturates.
    CHECK(qmath::quantize_value(3e38f, QuantParams{1e-30f, 0}, u8, m) == 255);
    CHECK(qmath::quantize_value(-3e38f, QuantParams{1e-30f, 0}, qmath::full_range<std::int16_t>(), m) == -32768);
  }
  // TensorRT narrow range never produces -128.
  const QuantParams trt = qmath::symmetric_params(2.0f, qmath::narrow_range<std::int8_t>());
  CHECK(qmath::quantize_value(2.0f, trt, qmath::narrow_range<std::int8_t>()) == 127);
  CHECK(qmath::quantize_value(-2.0f, trt, qmath::narrow_range<std::int8_t>()) == -127);
  CHECK(qmath::quantize_value(-2.1f, trt, qmath::narrow_range<std::int8_t>()) == -127);
  CHECK(qmath::quantize_value(-2.1f, trt, qmath::full_range<std::int8_t>()) == -128);
}

TEST_CASE("quantize_value agrees with the independent formulation on random inputs", "[quantize]") {
  const QuantRange range = GENERATE(values<QuantRange>({qmath::full_range<std::int8_t>(),
                                                        qmath::full_range<std::uint8_t>(),
                                                        qmath::narrow_range<std::int8_t>(), qmath::bit_range(4, true),
                                                        qmath::full_range<std::int16_t>()}));
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> logscale(-12.0f, 6.0f);
  std::uniform_int_distribution<std::int32_t> zpd(range.qmin, range.qmax);
  std::int64_t bad = 0;
  for (int t = 0; t < 200; ++t) {
    const QuantParams p{t % 2 ? std::exp2(std::round(logscale(rng))) : std::exp2(logscale(rng)), zpd(rng)};
    const std::vector<float> x = test_inputs(256, p.scale, rng());
    for (float v : x)
      for (Round m : kModes)
        bad += qmath::quantize_value(v, p, range, m) !=
               qref::quantize(v, p.scale, p.zero_point, range.qmin, range.qmax, m);
  }
  CHECK(bad == 0);
}

TEST_CASE("dequantize_value and fake_quantize_value", "[quantize]") {
  // scale * float(q - zp) in float32: 0.1f * 3 = 0.3000000119 (f32(0.1f * 3)).
  CHECK(qmath::dequantize_value(5, QuantParams{0.1f, 2}) == qref::mul_f32(0.1f, 3.0f));
  CHECK(qmath::dequantize_value(-128, QuantParams{0.5f, 127}) == -127.5f);
  CHECK(qmath::dequantize_value(255, QuantParams{2.0f, 0}) == 510.0f);
  // fake quantization snaps to the grid, saturates, and maps NaN to real 0.
  const QuantParams p{0.25f, -3};
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  CHECK(qmath::fake_quantize_value(1.1f, p, s8) == 1.0f);
  CHECK(qmath::fake_quantize_value(0.125f, p, s8) == 0.0f);  // 0.5 -> 0 (even)
  CHECK(qmath::fake_quantize_value(0.375f, p, s8) == 0.5f);  // 1.5 -> 2
  CHECK(qmath::fake_quantize_value(0.125f, p, s8, Round::kHalfAwayFromZero) == 0.25f);
  CHECK(qmath::fake_quantize_value(100.0f, p, s8) == 32.5f);    // (127 + 3) * 0.25
  CHECK(qmath::fake_quantize_value(-100.0f, p, s8) == -31.25f); // (-128 + 3) * 0.25
  CHECK(qmath::fake_quantize_value(kNaN, p, s8) == 0.0f);
}

TEST_CASE("ONNX QuantizeLinear and DequantizeLinear worked examples", "[quantize][onnx]") {
  // QuantizeLinear (operator docs example): x = [0, 2, 3, 1000, -254, -1000], y_scale 2, y_zero_point 128, uint8:
  // 0/2 = 0 -> 128; 1 -> 129; 1.5 -> 2 (even) -> 130; 500 -> 255 (sat); -127 -> 1; -500 -> 0 (sat).
  const std::vector<float> x{0.0f, 2.0f, 3.0f, 1000.0f, -254.0f, -1000.0f};
  std::vector<std::uint8_t> yu(6);
  qmath::quantize_array(x.data(), x.size(), yu.data(), QuantParams{2.0f, 128});
  CHECK(yu == std::vector<std::uint8_t>{128, 129, 130, 255, 1, 0});
  // The same with int8 and zero point -1: 0 -> -1; 1 -> 0; 2 -> 1; 500 -> 127; -127 - 1 = -128; -500 -> -128.
  std::vector<std::int8_t> ys(6);
  qmath::quantize_array(x.data(), x.size(), ys.data(), QuantParams{2.0f, -1});
  CHECK(ys == std::vector<std::int8_t>{-1, 0, 1, 127, -128, -128});
  // 2.5 / 1 and -2.5 / 1: ties to even in ONNX (2, -2), not away from zero.
  const float ties[] = {2.5f, -2.5f, 3.5f, -0.5f};
  std::int8_t yt[4];
  qmath::quantize_array(ties, 4, yt, QuantParams{1.0f, 0});
  CHECK((yt[0] == 2 && yt[1] == -2 && yt[2] == 4 && yt[3] == 0));
  // DequantizeLinear (operator docs example): x = [0, 3, 128, 255] uint8, scale 2, zp 128 -> [-256, -250, 0, 254].
  const std::uint8_t q[] = {0, 3, 128, 255};
  float d[4];
  qmath::dequantize_array(q, 4, d, QuantParams{2.0f, 128});
  CHECK((d[0] == -256.0f && d[1] == -250.0f && d[2] == 0.0f && d[3] == 254.0f));
}

TEST_CASE("ONNX DynamicQuantizeLinear worked examples: parameters then quantization", "[quantize][onnx]") {
  struct Example {
    std::vector<float> x;
    std::uint32_t scale_bits;
    std::int32_t zero_point;
    std::vector<std::uint8_t> y;
  };
  // Expected values derived with python3 float32 arithmetic from the operator definition (scale = (max' - min')
  // / 255, zp = rne(clamp(-min' / scale, 0, 255)), y = saturate(rne(x / scale) + zp)); the first example is the
  // one in the ONNX operator docs (scale 0.0196078438, zp 153).
  const Example ex = GENERATE(values<Example>({
      {{0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f}, 0x3ca0a0a1u, 153, {153, 255, 0, 26, 221, 179}},
      // all positive: range widened to [0, 4]; scale = f32(4 / 255) = 0x3c808081; 2.345 / scale = 149.49 -> 149.
      {{1.0f, 2.1f, 1.3f, 2.5f, 3.34f, 4.0f, 1.5f, 2.6f, 3.9f, 4.0f, 3.0f, 2.345f},
       0x3c808081u,
       0,
       {64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149}},
      // all negative: range widened to [-4, 0]; zp 255.
      {{-1.0f, -2.1f, -1.3f, -2.5f, -3.34f, -4.0f, -1.5f, -2.6f, -3.9f, -4.0f, -3.0f, -2.345f},
       0x3c808081u,
       255,
       {191, 121, 172, 96, 42, 0, 159, 89, 6, 0, 64, 106}},
  }));
  float lo = ex.x[0], hi = ex.x[0];
  for (float v : ex.x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const QuantParams p =
      qmath::asymmetric_params(lo, hi, qmath::full_range<std::uint8_t>(), qmath::AsymmetricConvention::kOnnx);
  CHECK(qref::float_bits(p.scale) == ex.scale_bits);
  CHECK(p.zero_point == ex.zero_point);
  std::vector<std::uint8_t> y(ex.x.size());
  qmath::quantize_array(ex.x.data(), ex.x.size(), y.data(), p);
  CHECK(y == ex.y);
}

TEMPLATE_TEST_CASE("quantize_array / dequantize_array / fake_quantize_array equal the scalar forms", "[quantize]",
                   std::int8_t, std::uint8_t, std::int16_t, std::uint16_t) {
  const QuantRange full = qmath::full_range<TestType>();
  const QuantRange range = GENERATE_COPY(values<QuantRange>({full, qmath::narrow_range<TestType>()}));
  const Round mode = GENERATE(Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero);
  // Lengths around vector widths (4, 8, 16, 32, 64 lanes) and their remainders.
  const std::size_t n = GENERATE(0u, 1u, 3u, 7u, 8u, 15u, 16u, 17u, 31u, 33u, 63u, 64u, 65u, 127u, 1000u);
  const QuantParams p{0.25f, (range.qmin + range.qmax) / 3};
  const std::vector<float> x = test_inputs(n, p.scale, static_cast<std::uint32_t>(n) * 7u + 1u);
  std::vector<TestType> q(n + 1, TestType(42));
  qmath::quantize_array(x.data(), n, q.data(), p, range, mode);
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (q[i] != static_cast<TestType>(qmath::quantize_value(x[i], p, range, mode))) ++bad;
  if (range.qmin == full.qmin)  // the full-range scalar template
    for (std::size_t i = 0; i < n; ++i) bad += q[i] != qmath::quantize<TestType>(x[i], p, mode);
  CHECK(bad == 0);
  CHECK(q[n] == TestType(42));  // nothing written past the end
  std::vector<float> d(n + 1, -7.0f);
  qmath::dequantize_array(q.data(), n, d.data(), p);
  for (std::size_t i = 0; i < n; ++i)
    if (d[i] != qmath::dequantize_value(q[i], p)) ++bad;
  CHECK(bad == 0);
  CHECK(d[n] == -7.0f);
  std::vector<float> f(x);
  qmath::fake_quantize_array(f.data(), n, f.data(), p, range, mode);  // in place (x and y alias)
  for (std::size_t i = 0; i < n; ++i)
    if (qref::float_bits(f[i]) != qref::float_bits(qmath::fake_quantize_value(x[i], p, range, mode))) ++bad;
  CHECK(bad == 0);
}

TEST_CASE("array forms: the error policy, and nothing is written when they throw", "[quantize][errors]") {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  std::int8_t q[3] = {9, 9, 9};
  std::uint8_t qu[3] = {9, 9, 9};
  float y[3] = {9.0f, 9.0f, 9.0f};
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  CHECK_THROWS_AS(qmath::quantize_array(x, 3, q, QuantParams{0.0f, 0}), qmath::error);
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{0.0f, 0}),
                    "qmath::quantize_array: scale must be finite and > 0, got 0");
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{-1.0f, 0}), Contains("got -1"));
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{kNaN, 0}), Contains("got nan"));
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{kInf, 0}), Contains("got inf"));
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{1.0f, 128}),
                    "qmath::quantize_array: zero point 128 outside the quantized range [-128, 127]");
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{1.0f, -128}, qmath::narrow_range<std::int8_t>()),
                    Contains("zero point -128 outside the quantized range [-127, 127]"));
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, qu, QuantParams{1.0f, 0}, s8),
                    Contains("quantized range [-128, 127] does not fit the output type's [0, 255]"));
  CHECK_THROWS_WITH(qmath::quantize_array(x, 3, q, QuantParams{1.0f, 0}, QuantRange{5, 5}),
                    Contains("empty quantized range"));
  CHECK_THROWS_WITH(qmath::dequantize_array(q, 3, y, QuantParams{0.0f, 0}), Contains("dequantize_array: scale"));
  CHECK_THROWS_WITH(qmath::dequantize_array(qu, 3, y, QuantParams{1.0f, -1}), Contains("zero point -1"));
  CHECK_THROWS_WITH(qmath::fake_quantize_array(x, 3, y, QuantParams{kNaN, 0}, s8),
                    Contains("fake_quantize_array: scale"));
  CHECK((q[0] == 9 && q[1] == 9 && q[2] == 9));
  CHECK((qu[0] == 9 && qu[1] == 9 && qu[2] == 9));
  CHECK((y[0] == 9.0f && y[1] == 9.0f && y[2] == 9.0f));
}

TEST_CASE("per-channel quantize and dequantize follow the ONNX axis", "[quantize][per_channel]") {
  // Tensor [2, 3, 4] quantized along each axis; element (i, j, k) uses params[axis coordinate].
  const std::vector<std::int64_t> shape{2, 3, 4};
  const int axis = GENERATE(0, 1, 2, -1, -2);
  const qmath::ChannelLayout layout = qmath::channel_layout(shape, axis);
  const int ax = axis < 0 ? axis + 3 : axis;
  std::vector<QuantParams> params(layout.channels);
  for (std::size_t c = 0; c < params.size(); ++c)
    params[c] = QuantParams{0.05f * static_cast<float>(c + 1), static_cast<std::int32_t>(c) * 3 - 2};
  std::vector<float> x(24);
  for (std::size_t e = 0; e < x.size(); ++e) x[e] = static_cast<float>(static_cast<int>(e * 37 % 29) - 14) * 0.3f;
  const QuantRange range = GENERATE(values<QuantRange>({qmath::full_range<std::int8_t>(), qmath::bit_range(4, true)}));
  std::vector<std::int8_t> q(24);
  qmath::quantize_per_channel(x.data(), layout, params.data(), q.data(), range);
  std::vector<float> d(24);
  qmath::dequantize_per_channel(q.data(), layout, params.data(), d.data());
  CAPTURE(axis, range.qmin);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) {
        const int e = (i * 3 + j) * 4 + k;
        const int coord[3] = {i, j, k};
        const QuantParams p = params[coord[ax]];
        const std::int32_t want = qref::quantize(x[e], p.scale, p.zero_point, range.qmin, range.qmax,
                                                 Round::kHalfToEven);
        CHECK(q[e] == want);
        CHECK(d[e] == qref::mul_f32(p.scale, static_cast<float>(want - p.zero_point)));
      }
}

TEST_CASE("per-channel forms: a bad channel is named and nothing is written", "[quantize][per_channel][errors]") {
  const qmath::ChannelLayout layout = qmath::channel_layout({2, 3}, 1);
  const float x[6] = {1, 2, 3, 4, 5, 6};
  std::uint8_t q[6] = {7, 7, 7, 7, 7, 7};
  float d[6] = {7, 7, 7, 7, 7, 7};
  const QuantParams bad_scale[3] = {{1.0f, 0}, {1.0f, 0}, {0.0f, 0}};
  const QuantParams bad_zp[3] = {{1.0f, 0}, {1.0f, 256}, {1.0f, 0}};
  CHECK_THROWS_WITH(qmath::quantize_per_channel(x, layout, bad_scale, q), Contains("quantize_per_channel: scale"));
  CHECK_THROWS_WITH(qmath::quantize_per_channel(x, layout, bad_zp, q), Contains("zero point 256"));
  CHECK_THROWS_WITH(qmath::quantize_per_channel(x, layout, bad_zp, q, qmath::full_range<std::int8_t>()),
                    Contains("does not fit"));
  CHECK_THROWS_WITH(qmath::dequantize_per_channel(q, layout, bad_scale, d), Contains("dequantize_per_channel"));
  for (int i = 0; i < 6; ++i) {
    CHECK(q[i] == 7);
    CHECK(d[i] == 7.0f);
  }
}

TEST_CASE("dequantize of int32 storage: q - zero_point is exact over the whole int32 range (no overflow)",
          "[quantize][hostile]") {
  // q - zero_point spans [-2^32 + 1, 2^32 - 1]: computed exactly (in int64), rounded once to float.
  const std::int32_t lo = std::numeric_limits<std::int32_t>::min(), hi = std::numeric_limits<std::int32_t>::max();
  CHECK(qmath::dequantize_value(hi, {1.0f, -1}) == 2147483648.0f);
  CHECK(qmath::dequantize_value(lo, {1.0f, 1}) == -2147483648.0f);
  CHECK(qmath::dequantize_value(hi, {0.5f, lo}) == 2147483648.0f);  // (2^32 - 1) * 0.5, rounded: 2^31
  CHECK(qmath::dequantize_value(lo, {1.0f, hi}) == -4294967296.0f);
  const std::int32_t q[4] = {hi, lo, 0, -5};
  float x[4];
  qmath::dequantize_array(q, 4, x, QuantParams{2.0f, lo});
  CHECK(x[0] == 2.0f * 4294967296.0f);
  CHECK(x[1] == 0.0f);
  CHECK(x[2] == 2.0f * 2147483648.0f);
  CHECK(x[3] == 2.0f * 2147483643.0f);
  // Valid int8 inputs: identical to the int32 expression.
  for (int v = -128; v <= 127; ++v)
    for (int zp = -128; zp <= 127; zp += 17)
      CHECK(qmath::dequantize_value(v, {0.1f, zp}) == 0.1f * static_cast<float>(v - zp));
}

TEST_CASE("array forms refuse a null pointer with n > 0 before writing; n == 0 accepts null",
          "[quantize][errors][hostile]") {
  const QuantParams p{0.5f, 0};
  std::int8_t q[4] = {9, 9, 9, 9};
  float x[4] = {1, 2, 3, 4};
  CHECK_THROWS_WITH(qmath::quantize_array<std::int8_t>(nullptr, 4, q, p), Catch::Contains("null"));
  CHECK_THROWS_WITH(qmath::quantize_array<std::int8_t>(x, 4, nullptr, p), Catch::Contains("null"));
  CHECK_THROWS_WITH(qmath::dequantize_array<std::int8_t>(nullptr, 4, x, p), Catch::Contains("null"));
  CHECK_THROWS_WITH(qmath::dequantize_array<std::int8_t>(q, 4, nullptr, p), Catch::Contains("null"));
  CHECK_THROWS_WITH(qmath::fake_quantize_array(nullptr, 4, x, p, qmath::full_range<std::int8_t>()),
                    Catch::Contains("null"));
  CHECK(q[0] == 9);
  CHECK(x[0] == 1.0f);
  qmath::quantize_array<std::int8_t>(nullptr, 0, nullptr, p);
  qmath::dequantize_array<std::int8_t>(nullptr, 0, nullptr, p);
}

TEST_CASE("subnormal scales are valid (ONNX QuantizeLinear divides by the scale): exact, not saturated",
          "[quantize][hostile]") {
  const float s = 1e-40f;  // subnormal; 1 / s overflows float
  const QuantParams p{s, 0};
  std::vector<float> x(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = s * static_cast<float>(static_cast<int>(i) - 32);
  std::vector<std::int8_t> q(x.size());
  qmath::quantize_array(x.data(), x.size(), q.data(), p);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(q[i] == static_cast<std::int8_t>(static_cast<int>(i) - 32));
    CHECK(q[i] == qmath::quantize<std::int8_t>(x[i], p));
  }
  std::vector<float> back(x.size());
  qmath::dequantize_array(q.data(), q.size(), back.data(), p);
  for (std::size_t i = 0; i < x.size(); ++i) CHECK(back[i] == x[i]);
}

// ---- the quantize rule (QuantizeRule) -----------------------------------------------------------------------------

namespace {
using qmath::QuantizeRule;

// Independent formulation of the multiply rules: v = f32(x * m) through an exact double product, rounded in double.
std::int32_t ref_quantize_multiply(float x, float m, std::int32_t zp, QuantRange r, Round mode) {
  const float v = qref::mul_f32(x, m);
  if (std::isnan(v)) return zp;
  if (std::isinf(v)) return v > 0 ? r.qmax : r.qmin;
  return static_cast<std::int32_t>(qref::clamp(qref::round(double(v), mode) + zp, r.qmin, r.qmax));
}
}  // namespace

TEST_CASE("kMultiplyReciprocal multiplies by f32(1 / scale): PyTorch's quantize_per_tensor on x86", "[quantize][rule]") {
  const QuantRange s8 = qmath::full_range<std::int8_t>(), u8 = qmath::full_range<std::uint8_t>();
  // FBGEMM's own example: scale 0.00214854861, x 0.273939937: x * f32(1 / scale) = 127.5 exactly -> 128 (half to
  // even), while x / scale = 127.499992 -> 127.
  const float scale = 0.00214854861f, x = 0.273939937f;
  REQUIRE(x * (1.0f / scale) == 127.5f);
  REQUIRE(x / scale != 127.5f);
  CHECK(qmath::quantize_value(x, QuantParams{scale, 0}, u8, Round::kHalfToEven, QuantizeRule::kMultiplyReciprocal) ==
        128);
  CHECK(qmath::quantize_value(x, QuantParams{scale, 0}, u8) == 127);
  // The pitfall of docs/arithmetic.md: x / 0.3f = -124.5 -> -124, x * f32(1 / 0.3f) = -124.500008 -> -125.
  CHECK(qmath::quantize_value(-0x1.2acccep+5f, QuantParams{0.3f, 0}, s8, Round::kHalfToEven,
                              QuantizeRule::kMultiplyReciprocal) == -125);
  // The zero point is added after rounding (FBGEMM Quantize<T, LEGACY = false>): x * r = 0.5 -> 0, + 3 = 3 (adding
  // it before would give rne(3.5) = 4).
  CHECK(qmath::quantize_value(0.5f, QuantParams{1.0f, 3}, s8, Round::kHalfToEven, QuantizeRule::kMultiplyReciprocal) ==
        3);
  CHECK(qmath::rule_operand(QuantParams{0.3f, 0}, s8, QuantizeRule::kMultiplyReciprocal) == 1.0f / 0.3f);
  CHECK(qmath::rule_operand(QuantParams{0.3f, 0}, s8, QuantizeRule::kDivide) == 0.3f);
  // Saturation and NaN as under kDivide.
  for (Round m : kModes) {
    CHECK(qmath::quantize_value(kNaN, QuantParams{0.1f, 77}, u8, m, QuantizeRule::kMultiplyReciprocal) == 77);
    CHECK(qmath::quantize_value(kInf, QuantParams{0.1f, 77}, u8, m, QuantizeRule::kMultiplyReciprocal) == 255);
    CHECK(qmath::quantize_value(-3e38f, QuantParams{1e-30f, 77}, u8, m, QuantizeRule::kMultiplyReciprocal) == 0);
  }
}

TEST_CASE("kMultiplyReciprocal agrees with the independent formulation; it differs from kDivide at near-ties",
          "[quantize][rule]") {
  const QuantRange range = GENERATE(values<QuantRange>({qmath::full_range<std::int8_t>(),
                                                        qmath::full_range<std::uint8_t>(),
                                                        qmath::narrow_range<std::int8_t>(), QuantRange{-64, 63},
                                                        QuantRange{0, 127}}));
  std::mt19937 rng(1913);
  std::uniform_real_distribution<float> logscale(-12.0f, 6.0f);
  std::uniform_int_distribution<std::int32_t> zpd(range.qmin, range.qmax);
  std::int64_t bad = 0, differ = 0;
  for (int t = 0; t < 200; ++t) {
    const QuantParams p{std::exp2(logscale(rng)), zpd(rng)};
    const float r = qref::div_f32(1.0f, p.scale);
    std::vector<float> x = test_inputs(256, p.scale, rng());
    for (int k = -130; k <= 130; ++k) {  // near-ties of x * r
      const float tie = (static_cast<float>(k) + 0.5f) * p.scale;
      x.insert(x.end(), {tie, std::nextafter(tie, kInf), std::nextafter(tie, -kInf)});
    }
    for (float v : x)
      for (Round m : kModes) {
        const std::int32_t q = qmath::quantize_value(v, p, range, m, QuantizeRule::kMultiplyReciprocal);
        bad += q != ref_quantize_multiply(v, r, p.zero_point, range, m);
        differ += q != qmath::quantize_value(v, p, range, m);
      }
  }
  CHECK(bad == 0);
  CHECK(differ > 0);  // the two rules are really different
}

TEST_CASE("kMultiplyBoundOverAmax: pytorch-quantization's round(x * f32(bound / amax)), no zero point",
          "[quantize][rule]") {
  const QuantRange narrow = qmath::narrow_range<std::int8_t>(), s8 = qmath::full_range<std::int8_t>(),
                   u8 = qmath::full_range<std::uint8_t>();
  const QuantizeRule rule = QuantizeRule::kMultiplyBoundOverAmax;
  // amax 2: m = 63.5; 1 * 63.5 -> 64 (tie to even), -1 -> -64, 3 -> saturates at -bound..bound.
  CHECK(qmath::rule_operand(QuantParams{2.0f, 0}, narrow, rule) == 63.5f);
  CHECK(qmath::quantize_value(1.0f, QuantParams{2.0f, 0}, narrow, Round::kHalfToEven, rule) == 64);
  CHECK(qmath::quantize_value(-1.0f, QuantParams{2.0f, 0}, narrow, Round::kHalfToEven, rule) == -64);
  CHECK(qmath::quantize_value(-3.0f, QuantParams{2.0f, 0}, narrow, Round::kHalfToEven, rule) == -127);
  CHECK(qmath::quantize_value(-3.0f, QuantParams{2.0f, 0}, s8, Round::kHalfToEven, rule) == -128);
  CHECK(qmath::rule_operand(QuantParams{2.0f, 0}, u8, rule) == 127.5f);  // unsigned: bound 255
  // m = f32(127 / amax) is not always f32(1 / f32(amax / 127)): amax 0.3 gives 423.333313 vs 423.333344, so the rule
  // needs amax itself, not the TensorRT scale amax / 127.
  const float amax = 0.3f;
  CHECK(qmath::rule_operand(QuantParams{amax, 0}, narrow, rule) == 127.0f / amax);
  CHECK(127.0f / amax != 1.0f / (amax / 127.0f));
  // amax <= 2^-24 quantizes everything to 0 (m = 0); just above it does not.
  for (float a : {0.0f, 0x1p-24f, 1e-30f}) {
    CHECK(qmath::rule_operand(QuantParams{a, 0}, narrow, rule) == 0.0f);
    CHECK(qmath::quantize_value(1e30f, QuantParams{a, 0}, narrow, Round::kHalfToEven, rule) == 0);
    CHECK(qmath::quantize_value(-1.0f, QuantParams{a, 0}, narrow, Round::kHalfToEven, rule) == 0);
  }
  CHECK(qmath::quantize_value(1.0f, QuantParams{0x1.000002p-24f, 0}, narrow, Round::kHalfToEven, rule) == 127);
  // Random values against the independent formulation.
  std::mt19937 rng(27);
  std::uniform_real_distribution<float> loga(-10.0f, 8.0f);
  std::int64_t bad = 0;
  for (const QuantRange& range : {narrow, s8, u8})
    for (int t = 0; t < 100; ++t) {
      const float a = std::exp2(loga(rng));
      const float m = qref::div_f32(static_cast<float>(range.qmax), a);
      for (float v : test_inputs(256, a / 127.0f, rng()))
        bad += qmath::quantize_value(v, QuantParams{a, 0}, range, Round::kHalfToEven, rule) !=
               ref_quantize_multiply(v, m, 0, range, Round::kHalfToEven);
    }
  CHECK(bad == 0);
}

TEMPLATE_TEST_CASE("array forms under every rule equal quantize_value", "[quantize][rule]", std::int8_t,
                   std::uint8_t, std::int16_t) {
  const QuantRange range = qmath::full_range<TestType>();
  const std::int32_t zp = std::is_signed<TestType>::value ? -3 : 7;
  for (QuantizeRule rule :
       {QuantizeRule::kDivide, QuantizeRule::kMultiplyReciprocal, QuantizeRule::kMultiplyBoundOverAmax}) {
    const QuantParams p = rule == QuantizeRule::kMultiplyBoundOverAmax ? QuantParams{2.7f, 0} : QuantParams{0.3f, zp};
    const std::vector<float> x = test_inputs(1000, 0.3f, 5);
    std::vector<TestType> q(x.size());
    qmath::quantize_array(x.data(), x.size(), q.data(), p, range, Round::kHalfToEven, qmath::Isa::kAuto, rule);
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
      bad += q[i] != static_cast<TestType>(qmath::quantize_value(x[i], p, range, Round::kHalfToEven, rule));
    CHECK(bad == 0);
    // Per channel: 3 channels of 40 (vector kernels) and of 1 (portable loop).
    for (std::size_t inner : {std::size_t{40}, std::size_t{1}}) {
      const qmath::ChannelLayout layout{2, 3, inner};
      const QuantParams params[3] = {p, {p.scale * 2.0f, p.zero_point}, {p.scale * 0.37f, 0}};
      std::vector<TestType> qc(layout.size());
      qmath::quantize_per_channel(x.data(), layout, params, qc.data(), range, Round::kHalfToEven, qmath::Isa::kAuto,
                                  rule);
      std::int64_t badc = 0;
      for (std::size_t e = 0; e < layout.size(); ++e)
        badc += qc[e] != static_cast<TestType>(qmath::quantize_value(x[e], params[(e / inner) % 3], range,
                                                                     Round::kHalfToEven, rule));
      CHECK(badc == 0);
    }
  }
  // fake quantization under kMultiplyReciprocal: dequantize(quantize(x)) with the multiply rule.
  const std::vector<float> x = test_inputs(300, 0.3f, 6);
  std::vector<float> y(x.size());
  const QuantParams p{0.3f, zp};
  const QuantRange r8 = std::is_signed<TestType>::value ? qmath::full_range<std::int8_t>() : qmath::full_range<std::uint8_t>();
  qmath::fake_quantize_array(x.data(), x.size(), y.data(), p, r8, Round::kHalfToEven, qmath::Isa::kAuto,
                             QuantizeRule::kMultiplyReciprocal);
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float e = qmath::dequantize_value(
        qmath::quantize_value(x[i], p, r8, Round::kHalfToEven, QuantizeRule::kMultiplyReciprocal), p);
    bad += !(y[i] == e || (std::isnan(y[i]) && std::isnan(e)));
  }
  CHECK(bad == 0);
}

TEST_CASE("rule errors: reciprocal overflow, bad amax, zero point under kMultiplyBoundOverAmax, fake-quantize",
          "[quantize][rule][errors]") {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  std::int8_t q[3] = {9, 9, 9};
  float y[3] = {9.0f, 9.0f, 9.0f};
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  const auto quantize = [&](QuantParams p, QuantizeRule rule) {
    qmath::quantize_array(x, 3, q, p, s8, Round::kHalfToEven, qmath::Isa::kAuto, rule);
  };
  // 1 / 1e-40 overflows float: PyTorch would multiply by inf; qmath refuses (kDivide accepts the scale).
  CHECK_THROWS_WITH(quantize(QuantParams{1e-40f, 0}, QuantizeRule::kMultiplyReciprocal),
                    Contains("quantize_array: kMultiplyReciprocal: 1 / scale overflows float"));
  CHECK_NOTHROW(qmath::quantize_array(x, 0, q, QuantParams{1e-40f, 0}, s8));
  CHECK_THROWS_WITH(quantize(QuantParams{0.0f, 0}, QuantizeRule::kMultiplyReciprocal), Contains("scale must be"));
  CHECK_THROWS_WITH(quantize(QuantParams{-1.0f, 0}, QuantizeRule::kMultiplyBoundOverAmax),
                    Contains("kMultiplyBoundOverAmax: amax (the scale field) must be finite and >= 0, got -1"));
  CHECK_THROWS_WITH(quantize(QuantParams{kNaN, 0}, QuantizeRule::kMultiplyBoundOverAmax), Contains("got nan"));
  CHECK_THROWS_WITH(quantize(QuantParams{kInf, 0}, QuantizeRule::kMultiplyBoundOverAmax), Contains("got inf"));
  CHECK_THROWS_WITH(quantize(QuantParams{1.0f, 1}, QuantizeRule::kMultiplyBoundOverAmax),
                    Contains("kMultiplyBoundOverAmax has no zero point, got 1"));
  CHECK_THROWS_WITH(qmath::fake_quantize_array(x, 3, y, QuantParams{1.0f, 0}, s8, Round::kHalfToEven,
                                               qmath::Isa::kAuto, QuantizeRule::kMultiplyBoundOverAmax),
                    Contains("fake_quantize_array: kMultiplyBoundOverAmax is not supported"));
  const QuantParams channels[2] = {{1.0f, 0}, {1e-40f, 0}};
  CHECK_THROWS_WITH(qmath::quantize_per_channel(x, qmath::ChannelLayout{1, 2, 1}, channels, q, s8, Round::kHalfToEven,
                                                qmath::Isa::kAuto, QuantizeRule::kMultiplyReciprocal),
                    Contains("quantize_per_channel: kMultiplyReciprocal"));
  CHECK((q[0] == 9 && q[1] == 9 && q[2] == 9));
  CHECK((y[0] == 9.0f && y[1] == 9.0f && y[2] == 9.0f));
  // amax 0 is valid (everything quantizes to 0).
  quantize(QuantParams{0.0f, 0}, QuantizeRule::kMultiplyBoundOverAmax);
  CHECK((q[0] == 0 && q[1] == 0 && q[2] == 0));
}

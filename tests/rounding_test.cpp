// Tests for qmath/rounding.hpp: every rounding mode on every float tie, ranges, saturation.
#include <qmath/rounding.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "core_reference.hpp"

using qmath::Round;

namespace {
const Round kModes[] = {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero};

// Compares round_to_integral with the independent double formulation on x, for every mode.
bool agrees_all_modes(float x) {
  for (Round m : kModes) {
    const float got = qmath::round_to_integral(x, m);
    const double want = qref::round(static_cast<double>(x), m);
    if (static_cast<double>(got) != want) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("round_to_integral: the documented examples, by hand", "[rounding]") {
  struct Row {
    float x;
    float even, away, up, zero;
  };
  // Expected values written by hand from the definitions in rounding.hpp.
  const Row row = GENERATE(values<Row>({
      {2.5f, 2, 3, 3, 2},      {-2.5f, -2, -3, -2, -2}, {3.5f, 4, 4, 4, 3},      {-3.5f, -4, -4, -3, -3},
      {0.5f, 0, 1, 1, 0},      {-0.5f, -0, -1, -0, -0}, {1.5f, 2, 2, 2, 1},      {-1.5f, -2, -2, -1, -1},
      {2.7f, 3, 3, 3, 2},      {-2.7f, -3, -3, -3, -2}, {2.2f, 2, 2, 2, 2},      {-2.2f, -2, -2, -2, -2},
      {0.49999997f, 0, 0, 0, 0}, {-0.49999997f, -0, -0, -0, -0}, {0.0f, 0, 0, 0, 0},
      {8388607.5f, 8388608, 8388608, 8388608, 8388607},  // 2^23 - 0.5: the largest float tie
      {-8388607.5f, -8388608, -8388608, -8388607, -8388607},
      {16777216.0f, 16777216, 16777216, 16777216, 16777216},  // 2^24: already integral
  }));
  CAPTURE(row.x);
  CHECK(qmath::round_to_integral(row.x, Round::kHalfToEven) == row.even);
  CHECK(qmath::round_to_integral(row.x, Round::kHalfAwayFromZero) == row.away);
  CHECK(qmath::round_to_integral(row.x, Round::kHalfUp) == row.up);
  CHECK(qmath::round_to_integral(row.x, Round::kTowardZero) == row.zero);
}

TEST_CASE("round_to_integral: NaN stays NaN, infinities and huge values are unchanged", "[rounding]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (Round m : kModes) {
    CHECK(std::isnan(qmath::round_to_integral(std::numeric_limits<float>::quiet_NaN(), m)));
    CHECK(qmath::round_to_integral(inf, m) == inf);
    CHECK(qmath::round_to_integral(-inf, m) == -inf);
    CHECK(qmath::round_to_integral(3.4028235e38f, m) == 3.4028235e38f);
    CHECK(qmath::round_to_integral(-3.4028235e38f, m) == -3.4028235e38f);
    CHECK(qmath::round_to_integral(1e-45f, m) == 0.0f);  // smallest subnormal
  }
  CHECK(qmath::round_to_integral(1e-45f, Round::kHalfUp) == 0.0f);
}

TEST_CASE("round_to_integral: ties k + 1/2 near 0 and near 2^23 agree with the double reference", "[rounding]") {
  // Every float tie is k + 0.5 with |k + 0.5| < 2^23. Here: |k| < 2^14 and the 2^14 ties below 2^23 on each side.
  // The exhaustive sweep over all 2^24 ties is the hidden [slow] test below.
  auto check_range = [](std::int32_t lo, std::int32_t hi) {
    std::int64_t bad = 0;
    for (std::int32_t k = lo; k < hi; ++k)
      if (!agrees_all_modes(static_cast<float>(k) + 0.5f)) ++bad;
    return bad;
  };
  CHECK(check_range(-(1 << 14), 1 << 14) == 0);
  CHECK(check_range((1 << 23) - (1 << 14), 1 << 23) == 0);
  CHECK(check_range(-(1 << 23), -(1 << 23) + (1 << 14)) == 0);
}

TEST_CASE("round_to_integral: 1M float bit patterns agree with the double reference", "[rounding]") {
  // Every 4099th bit pattern covers all exponents and both signs; NaNs are checked above.
  std::int64_t bad = 0, tested = 0;
  for (std::uint64_t u = 0; u <= 0xffffffffu; u += 4099) {
    const float x = qref::bits_float(static_cast<std::uint32_t>(u));
    if (!std::isfinite(x)) continue;
    ++tested;
    if (!agrees_all_modes(x)) ++bad;
  }
  CHECK(tested > 1000000);
  CHECK(bad == 0);
}

TEST_CASE("round_to_integral: every float tie, all modes (exhaustive)", "[.slow][rounding]") {
  std::int64_t bad = 0;
  for (std::int32_t k = -(1 << 23); k < (1 << 23); ++k)
    if (!agrees_all_modes(static_cast<float>(k) + 0.5f)) ++bad;
  CHECK(bad == 0);
  // And every 257th float bit pattern.
  for (std::uint64_t u = 0; u <= 0xffffffffu; u += 257) {
    const float x = qref::bits_float(static_cast<std::uint32_t>(u));
    if (std::isfinite(x) && !agrees_all_modes(x)) ++bad;
  }
  CHECK(bad == 0);
}

TEST_CASE("ranges: full, narrow and bit ranges", "[rounding]") {
  STATIC_REQUIRE(qmath::full_range<std::int8_t>().qmin == -128);
  STATIC_REQUIRE(qmath::full_range<std::int8_t>().qmax == 127);
  STATIC_REQUIRE(qmath::full_range<std::uint8_t>().qmin == 0);
  STATIC_REQUIRE(qmath::full_range<std::uint8_t>().qmax == 255);
  STATIC_REQUIRE(qmath::full_range<std::int16_t>().qmin == -32768);
  STATIC_REQUIRE(qmath::full_range<std::uint16_t>().qmax == 65535);
  STATIC_REQUIRE(qmath::narrow_range<std::int8_t>().qmin == -127);  // TensorRT
  STATIC_REQUIRE(qmath::narrow_range<std::int8_t>().qmax == 127);
  STATIC_REQUIRE(qmath::narrow_range<std::uint8_t>().qmin == 0);
  STATIC_REQUIRE(qmath::narrow_range<std::uint8_t>().qmax == 255);
  STATIC_REQUIRE(qmath::narrow_range<std::int16_t>().qmin == -32767);
  // bit_range(bits, signed, narrow) against 2^(b-1) and 2^b written out.
  const int bits = GENERATE(range(1, 17));
  const std::int64_t p = std::int64_t(1) << bits;
  CAPTURE(bits);
  CHECK(qmath::bit_range(bits, false).qmin == 0);
  CHECK(qmath::bit_range(bits, false).qmax == p - 1);
  CHECK(qmath::bit_range(bits, true).qmin == -p / 2);
  CHECK(qmath::bit_range(bits, true).qmax == p / 2 - 1);
  CHECK(qmath::bit_range(bits, true, true).qmin == -p / 2 + 1);
  if (bits == 4) {
    CHECK(qmath::bit_range(4, true).qmin == -8);
    CHECK(qmath::bit_range(4, true, true).qmin == -7);
    CHECK(qmath::bit_range(4, false).qmax == 15);
  }
  if (bits == 8) {
    CHECK(qmath::bit_range(8, true).qmin == qmath::full_range<std::int8_t>().qmin);
    CHECK(qmath::bit_range(8, false).qmax == qmath::full_range<std::uint8_t>().qmax);
  }
}

TEST_CASE("saturate_to_int32 and clamp_i64 around the int32 limits", "[rounding]") {
  const std::int64_t lo = INT32_MIN, hi = INT32_MAX;
  for (std::int64_t d = -3; d <= 3; ++d) {
    CHECK(qmath::saturate_to_int32(lo + d) == (d < 0 ? INT32_MIN : lo + d));
    CHECK(qmath::saturate_to_int32(hi + d) == (d > 0 ? INT32_MAX : hi + d));
  }
  CHECK(qmath::saturate_to_int32(INT64_MIN) == INT32_MIN);
  CHECK(qmath::saturate_to_int32(INT64_MAX) == INT32_MAX);
  CHECK(qmath::clamp_i64(5, -3, 4) == 4);
  CHECK(qmath::clamp_i64(-5, -3, 4) == -3);
  CHECK(qmath::clamp_i64(0, -3, 4) == 0);
  STATIC_REQUIRE(qmath::narrow_cast<std::int8_t>(-128) == std::int8_t(-128));
}

TEST_CASE("round_add_saturate: rounding, zero point, saturation, NaN and infinities", "[rounding]") {
  const qmath::QuantRange s8 = qmath::full_range<std::int8_t>(), u8 = qmath::full_range<std::uint8_t>();
  const float inf = std::numeric_limits<float>::infinity();
  // Hand-worked: 2.5 + zp 10 -> 12 (even) / 13 (away); -130.5 with zp 0 saturates to -128.
  CHECK(qmath::round_add_saturate(2.5f, 10, s8, Round::kHalfToEven) == 12);
  CHECK(qmath::round_add_saturate(2.5f, 10, s8, Round::kHalfAwayFromZero) == 13);
  CHECK(qmath::round_add_saturate(-2.5f, 10, s8, Round::kHalfUp) == 8);
  CHECK(qmath::round_add_saturate(-2.7f, 10, s8, Round::kTowardZero) == 8);
  CHECK(qmath::round_add_saturate(-130.5f, 0, s8, Round::kHalfToEven) == -128);
  CHECK(qmath::round_add_saturate(126.5f, 0, s8, Round::kHalfToEven) == 126);
  CHECK(qmath::round_add_saturate(126.5f, 0, s8, Round::kHalfAwayFromZero) == 127);
  CHECK(qmath::round_add_saturate(127.5f, 0, s8, Round::kHalfAwayFromZero) == 127);
  CHECK(qmath::round_add_saturate(-128.5f, 0, s8, Round::kHalfUp) == -128);
  // The zero point shifts the saturation bounds: uint8 with zp 128 saturates at real offsets -128 and +127.
  CHECK(qmath::round_add_saturate(-128.4f, 128, u8, Round::kHalfToEven) == 0);
  CHECK(qmath::round_add_saturate(127.4f, 128, u8, Round::kHalfToEven) == 255);
  CHECK(qmath::round_add_saturate(127.6f, 128, u8, Round::kHalfToEven) == 255);
  for (Round m : kModes) {
    CHECK(qmath::round_add_saturate(std::numeric_limits<float>::quiet_NaN(), 3, s8, m) == 3);
    CHECK(qmath::round_add_saturate(inf, 3, s8, m) == 127);
    CHECK(qmath::round_add_saturate(-inf, 3, s8, m) == -128);
    CHECK(qmath::round_add_saturate(3e38f, 0, u8, m) == 255);
    CHECK(qmath::round_add_saturate(-3e38f, 0, u8, m) == 0);
    CHECK(qmath::round_add_saturate(1e10f, 0, qmath::full_range<std::uint16_t>(), m) == 65535);
  }
}

TEST_CASE("round_add_saturate: random values and zero points agree with the reference", "[rounding]") {
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> val(-400.0f, 400.0f);
  std::uniform_int_distribution<int> zpd(-128, 127), tie(-400, 400);
  const qmath::QuantRange s8 = qmath::full_range<std::int8_t>();
  std::int64_t bad = 0;
  for (int i = 0; i < 200000; ++i) {
    const float v = (i & 1) ? val(rng) : static_cast<float>(tie(rng)) + 0.5f;  // half of them ties
    const std::int32_t zp = zpd(rng);
    for (Round m : kModes) {
      const auto want = qref::clamp(qref::round(v, m) + zp, s8.qmin, s8.qmax);
      if (qmath::round_add_saturate(v, zp, s8, m) != want) ++bad;
    }
  }
  CHECK(bad == 0);
}

// Tests for qmath/fixed_point.hpp.
//
//  - SaturatingRoundingDoublingHighMul, RoundingDivideByPOT and the double-rounding multiply (TFLite's
//    MultiplyByQuantizedMultiplier, rebuilt here from gemmlowp's primitives) are compared bit for bit with Debian's
//    gemmlowp fixedpoint.h on all edge inputs (+-2^i +-{0,1,2}, the int32 extremes, every exponent/shift) and on
//    one million fixed-seed random inputs (sixteen million in the hidden [slow] variant);
//  - the single-rounding variant (which gemmlowp does not define) against an exact __int128 formula;
//  - the two variants against each other (never more than 1 LSB apart; how often they differ);
//  - quantize_multiplier's edge cases and its error policy;
//  - requantization of every int8 x int8 product, of the int32 extremes' neighbourhoods, by both fixed-point
//    variants and by the float path, against independent int128 / double formulations.
#include <qmath/fixed_point.hpp>

#include <catch2/catch.hpp>

#include <gemmlowp/fixedpoint/fixedpoint.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "core_reference.hpp"

using Catch::Contains;
using qmath::FixedPointRounding;

namespace {

// TFLite's MultiplyByQuantizedMultiplier (double rounding) built from gemmlowp primitives. TFLite forms
// x * (1 << left_shift) in int32, which overflows (UB) for large x; callers here only pass x for which it fits.
std::int32_t gemmlowp_mbqm(std::int32_t x, std::int32_t m, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return gemmlowp::RoundingDivideByPOT(gemmlowp::SaturatingRoundingDoublingHighMul(x * (1 << left), m), right);
}

bool preshift_fits(std::int32_t x, int shift) {
  if (shift <= 0) return true;
  const std::int64_t v = static_cast<std::int64_t>(x) * (std::int64_t(1) << shift);
  return v >= INT32_MIN && v <= INT32_MAX;
}

// Random int32 of every magnitude: uniform bits shifted right by a random amount, random sign, and now and then an
// edge value.
struct RandomInt32 {
  std::mt19937_64 rng;
  std::vector<std::int32_t> edges = qref::edge_values();
  explicit RandomInt32(std::uint64_t seed) : rng(seed) {}
  std::int32_t operator()() {
    const std::uint64_t r = rng();
    switch (r & 7) {
      case 0: return edges[(r >> 8) % edges.size()];
      case 1:
      case 2: return static_cast<std::int32_t>(static_cast<std::uint32_t>(r >> 32));  // uniform
      default: {
        const std::int64_t mag = static_cast<std::int64_t>((r >> 32) >> ((r >> 3) % 32));
        return static_cast<std::int32_t>((r & 64) ? -mag : mag);
      }
    }
  }
  std::int32_t multiplier() {  // Q31 multipliers as quantize_multiplier produces them, plus a few edge ones
    const std::uint64_t r = rng();
    static const std::int32_t special[] = {0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1};
    if ((r & 15) == 0) return special[(r >> 8) % 6];
    return static_cast<std::int32_t>((std::int64_t(1) << 30) + static_cast<std::int64_t>((r >> 16) % (1u << 30)));
  }
  int shift() { return static_cast<int>(rng() % 62) - 31; }  // [-31, 30]
  int exponent() { return static_cast<int>(rng() % 32); }    // [0, 31]
};

// Runs `count` random cases and the edge cases of SRDHM, RDBPOT and both multiplies; returns the mismatch count.
std::int64_t gemmlowp_agreement(std::int64_t count, std::uint64_t seed) {
  const std::vector<std::int32_t> edges = qref::edge_values();
  std::int64_t bad = 0;
  auto srdhm = [&](std::int32_t a, std::int32_t b) {
    const std::int32_t got = qmath::saturating_rounding_doubling_high_mul(a, b);
    bad += got != gemmlowp::SaturatingRoundingDoublingHighMul(a, b);
    bad += got != qref::srdhm(a, b);
  };
  auto rdbpot = [&](std::int32_t x, int e) {
    const std::int32_t got = qmath::rounding_divide_by_pot(x, e);
    bad += got != gemmlowp::RoundingDivideByPOT(x, e);
    bad += got != qref::rdbpot(x, e);
  };
  auto mbqm = [&](std::int32_t x, std::int32_t m, int shift) {
    const std::int32_t d = qmath::multiply_by_quantized_multiplier_double_rounding(x, m, shift);
    if (preshift_fits(x, shift)) bad += d != gemmlowp_mbqm(x, m, shift);
    else  // qmath saturates the pre-shift where TFLite would overflow
      bad += d != gemmlowp_mbqm(qref::sat32(qref::i128(x) * (qref::i128(1) << shift)), m, 0);
    bad += d != qref::mbqm_double(x, m, shift);
    bad += d != qmath::multiply_by_quantized_multiplier(x, m, shift, FixedPointRounding::kDoubleRounding);
    const std::int32_t s = qmath::multiply_by_quantized_multiplier_single_rounding(x, m, shift);
    bad += s != qref::mbqm_single(x, m, shift);
    bad += s != qmath::multiply_by_quantized_multiplier(x, m, shift, FixedPointRounding::kSingleRounding);
  };
  // Edge inputs: all pairs for SRDHM, every exponent for RDBPOT, every shift and a set of multipliers for MBQM.
  const std::int32_t multipliers[] = {0, 1, 2, 1 << 30, (1 << 30) + 1, 1518500250 /* ~ 2^30.5 */, INT32_MAX - 1,
                                      INT32_MAX};
  for (std::int32_t a : edges) {
    for (std::int32_t b : edges) srdhm(a, b);
    for (int e = 0; e <= 31; ++e) rdbpot(a, e);
    for (std::int32_t m : multipliers)
      for (int shift = -31; shift <= 30; ++shift) mbqm(a, m, shift);
  }
  RandomInt32 r(seed);
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int32_t a = r(), b = (i & 1) ? r() : r.multiplier();
    srdhm(a, b);
    rdbpot(a, r.exponent());
    mbqm(r(), r.multiplier(), r.shift());
  }
  return bad;
}

}  // namespace

TEST_CASE("fixed point: documented examples, by hand", "[fixed_point]") {
  // SRDHM(a, b) = round-half-up(a * b / 2^31): 2^30 * 2^30 / 2^31 = 2^29; 1 * 2^30 / 2^31 = 0.5 -> 1;
  // -1 * 2^30 / 2^31 = -0.5 -> 0; -3 * 2^30 / 2^31 = -1.5 -> -1; INT32_MIN * INT32_MIN saturates.
  CHECK(qmath::saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == (1 << 29));
  CHECK(qmath::saturating_rounding_doubling_high_mul(1, 1 << 30) == 1);
  CHECK(qmath::saturating_rounding_doubling_high_mul(-1, 1 << 30) == 0);
  CHECK(qmath::saturating_rounding_doubling_high_mul(-3, 1 << 30) == -1);
  CHECK(qmath::saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN) == INT32_MAX);
  CHECK(qmath::saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX) == -INT32_MAX);
  CHECK(qmath::saturating_rounding_doubling_high_mul(INT32_MAX, INT32_MAX) == INT32_MAX - 1);
  // RDBPOT: ties away from zero. (3, 1) -> 2, (-3, 1) -> -2, (-5, 2) -> -1, (5, 1) -> 3, (-6, 2) -> -2.
  CHECK(qmath::rounding_divide_by_pot(3, 1) == 2);
  CHECK(qmath::rounding_divide_by_pot(-3, 1) == -2);
  CHECK(qmath::rounding_divide_by_pot(-5, 2) == -1);
  CHECK(qmath::rounding_divide_by_pot(5, 1) == 3);
  CHECK(qmath::rounding_divide_by_pot(-6, 2) == -2);
  CHECK(qmath::rounding_divide_by_pot(INT32_MIN, 31) == -1);
  CHECK(qmath::rounding_divide_by_pot(INT32_MAX, 31) == 1);
  CHECK(qmath::rounding_divide_by_pot(7, 0) == 7);
  // 0.75 = 2^30 * 2^(0 - 31) * 1.5: multiplier 3 * 2^29, shift 0. 10 * 0.75 = 7.5: double rounding goes
  // SRDHM(10, 3*2^29) = 7.5 -> 8; single rounding 7.5 -> 8 (both round half up here). -10 * 0.75 = -7.5: SRDHM -> -7,
  // single -> -7 (toward +inf).
  CHECK(qmath::multiply_by_quantized_multiplier_double_rounding(10, 3 << 29, 0) == 8);
  CHECK(qmath::multiply_by_quantized_multiplier_single_rounding(10, 3 << 29, 0) == 8);
  CHECK(qmath::multiply_by_quantized_multiplier_double_rounding(-10, 3 << 29, 0) == -7);
  CHECK(qmath::multiply_by_quantized_multiplier_single_rounding(-10, 3 << 29, 0) == -7);
  // Where the variants part: 0.375 = 3 * 2^29 * 2^(-1 - 31). x = -4: exact -1.5.
  //   double: SRDHM(-4, 3*2^29) = -3 (exact), RDBPOT(-3, 1) = -1.5 -> -2 (away from zero);
  //   single: (-4 * 3*2^29 + 2^31) >> 32 = floor(-1.5 + 0.5) = -1 (toward +inf).
  CHECK(qmath::multiply_by_quantized_multiplier_double_rounding(-4, 3 << 29, -1) == -2);
  CHECK(qmath::multiply_by_quantized_multiplier_single_rounding(-4, 3 << 29, -1) == -1);
  CHECK(qmath::multiply_by_quantized_multiplier(-4, 3 << 29, -1, FixedPointRounding::kDoubleRounding) == -2);
  CHECK(qmath::multiply_by_quantized_multiplier(-4, 3 << 29, -1, FixedPointRounding::kSingleRounding) == -1);
  // Double rounding of a non-tie: m = 2^30 + 1 (0.5 + 2^-31), shift -1: x = 3 -> exact 0.75000000035;
  // SRDHM(3, m) = round(1.5000000007) = 2, RDBPOT(2, 1) = 1; single: round(0.75...) = 1.
  CHECK(qmath::multiply_by_quantized_multiplier_double_rounding(3, (1 << 30) + 1, -1) == 1);
  // Pre-shift saturation (TFLite would overflow): x = 2^30, shift 2 -> x * 4 saturates to INT32_MAX first.
  CHECK(qmath::multiply_by_quantized_multiplier_double_rounding(1 << 30, 1 << 30, 2) ==
        qmath::saturating_rounding_doubling_high_mul(INT32_MAX, 1 << 30));
  // Single rounding saturates the result instead: 2^30 * 0.5 * 2^2 = 2^31 -> INT32_MAX.
  CHECK(qmath::multiply_by_quantized_multiplier_single_rounding(1 << 30, 1 << 30, 2) == INT32_MAX);
  CHECK(qmath::multiply_by_quantized_multiplier_single_rounding(INT32_MIN, INT32_MAX, 30) == INT32_MIN);
}

TEST_CASE("fixed point: bit-exact with gemmlowp on all edge inputs and 1M random inputs", "[fixed_point][gemmlowp]") {
  CHECK(gemmlowp_agreement(1000000, 20240521) == 0);
}

TEST_CASE("fixed point: bit-exact with gemmlowp on 16M random inputs", "[.slow][fixed_point][gemmlowp]") {
  CHECK(gemmlowp_agreement(16000000, 777) == 0);
}

TEST_CASE("fixed point: double and single rounding differ by at most 1 LSB, only for negative shifts",
          "[fixed_point]") {
  // Accumulator-like x (|x| < 2^24) and multipliers quantize_multiplier(M) for M log-uniform in [2^-16, 2^4].
  std::mt19937_64 rng(4242);
  std::uniform_real_distribution<double> log_m(-16.0, 4.0);
  std::uniform_int_distribution<std::int32_t> xd(-(1 << 24), 1 << 24);
  std::int64_t total = 0, differ = 0, worst = 0, differ_nonneg_shift = 0;
  for (int t = 0; t < 2000; ++t) {
    const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(std::exp2(log_m(rng)));
    for (int i = 0; i < 500; ++i) {
      const std::int32_t x = xd(rng);
      const std::int64_t d = qmath::multiply_by_quantized_multiplier_double_rounding(x, qm.multiplier, qm.shift);
      const std::int64_t s = qmath::multiply_by_quantized_multiplier_single_rounding(x, qm.multiplier, qm.shift);
      const std::int64_t diff = d > s ? d - s : s - d;
      worst = diff > worst ? diff : worst;
      ++total;
      differ += diff != 0;
      if (qm.shift >= 0 && preshift_fits(x, qm.shift)) differ_nonneg_shift += diff != 0;
    }
  }
  CHECK(worst <= 1);
  CHECK(differ > 0);
  CHECK(differ_nonneg_shift == 0);  // with shift >= 0 there is a single rounding in both
  WARN("double vs single rounding: " << differ << " of " << total << " outputs differ by 1 LSB ("
                                     << 100.0 * static_cast<double>(differ) / static_cast<double>(total) << " %)");
  // Also on every int8 x int8 product with the multiplier 0.0123 (a typical s_a * s_b / s_out).
  const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(0.0123);
  std::int64_t differ8 = 0, worst8 = 0;
  for (int a = -128; a <= 127; ++a)
    for (int b = -128; b <= 127; ++b) {
      const std::int32_t d = qmath::multiply_by_quantized_multiplier_double_rounding(a * b, qm.multiplier, qm.shift);
      const std::int32_t s = qmath::multiply_by_quantized_multiplier_single_rounding(a * b, qm.multiplier, qm.shift);
      worst8 = std::max<std::int64_t>(worst8, d > s ? d - s : s - d);
      differ8 += d != s;
    }
  CHECK(worst8 == 1);
  WARN("int8 x int8 products times 0.0123: " << differ8 << " of 65536 differ by 1 LSB");
}

TEST_CASE("quantize_multiplier: edge cases", "[fixed_point]") {
  using QM = qmath::QuantizedMultiplier;
  auto eq = [](QM a, QM b) { return a.multiplier == b.multiplier && a.shift == b.shift; };
  // real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31 - 1].
  CHECK(eq(qmath::quantize_multiplier(0.0), QM{0, 0}));
  CHECK(eq(qmath::quantize_multiplier(0.5), QM{1 << 30, 0}));
  CHECK(eq(qmath::quantize_multiplier(1.0), QM{1 << 30, 1}));
  CHECK(eq(qmath::quantize_multiplier(0.75), QM{3 << 29, 0}));
  CHECK(eq(qmath::quantize_multiplier(0.25), QM{1 << 30, -1}));
  CHECK(eq(qmath::quantize_multiplier(3.0), QM{3 << 29, 2}));
  // tie of the Q31 rounding: 0.5 + 2^-32 = (2^30 + 0.5) * 2^-31 rounds half away from zero to 2^30 + 1.
  CHECK(eq(qmath::quantize_multiplier(0.5 + std::ldexp(1.0, -32)), QM{(1 << 30) + 1, 0}));
  CHECK(eq(qmath::quantize_multiplier(0.5 + std::ldexp(1.0, -33)), QM{1 << 30, 0}));  // 2^30 + 0.25 -> 2^30
  // rounding reaches 2^31: 1 - 2^-33 = (2^31 - 0.25) * 2^-31 -> 2^31 -> halved to 2^30 with the shift bumped.
  CHECK(eq(qmath::quantize_multiplier(1.0 - std::ldexp(1.0, -33)), QM{1 << 30, 1}));
  CHECK(eq(qmath::quantize_multiplier(1.0 - std::ldexp(1.0, -31)), QM{INT32_MAX, 0}));  // 2^31 - 1 exactly
  // smallest kept: 2^-32 = 2^30 * 2^(-31 - 31); below that the shift would be < -31 and it flushes to zero.
  CHECK(eq(qmath::quantize_multiplier(std::ldexp(1.0, -32)), QM{1 << 30, -31}));
  CHECK(eq(qmath::quantize_multiplier(std::ldexp(1.0, -33)), QM{0, 0}));
  CHECK(eq(qmath::quantize_multiplier(1e-30), QM{0, 0}));
  CHECK(eq(qmath::quantize_multiplier(std::numeric_limits<double>::denorm_min()), QM{0, 0}));
  // just below 2^-32, the rounding bumps the shift back to -31: kept, equal to 2^-32.
  CHECK(eq(qmath::quantize_multiplier(std::ldexp(1.0 - std::ldexp(1.0, -40), -32)), QM{1 << 30, -31}));
  // largest kept: just below 2^30 (shift 30); 2^30 and above saturate to (2^31 - 1, 30).
  CHECK(eq(qmath::quantize_multiplier(std::ldexp(1.0, 29)), QM{1 << 30, 30}));
  CHECK(eq(qmath::quantize_multiplier(std::ldexp(1.0, 30)), QM{INT32_MAX, 30}));
  CHECK(eq(qmath::quantize_multiplier(1e300), QM{INT32_MAX, 30}));
  CHECK(eq(qmath::quantize_multiplier(std::numeric_limits<double>::max()), QM{INT32_MAX, 30}));
}

TEST_CASE("quantize_multiplier: error policy", "[fixed_point][errors]") {
  CHECK_THROWS_AS(qmath::quantize_multiplier(std::nan("")), qmath::error);
  CHECK_THROWS_WITH(qmath::quantize_multiplier(std::nan("")),
                    "qmath::quantize_multiplier: multiplier is not finite (nan)");
  CHECK_THROWS_WITH(qmath::quantize_multiplier(std::numeric_limits<double>::infinity()), Contains("not finite (inf)"));
  CHECK_THROWS_WITH(qmath::quantize_multiplier(-0.5), "qmath::quantize_multiplier: multiplier is negative (-0.5)");
  CHECK_THROWS_WITH(qmath::quantize_multiplier(-1e-300), Contains("negative"));
}

TEST_CASE("quantize_multiplier: nearest Q31 value, against an ilogb/ldexp formulation", "[fixed_point]") {
  // Independent: e = ilogb(real) + 1 puts real / 2^e in [0.5, 1); m = floor(real * 2^(31 - e) + 0.5), which is
  // half away from zero for positive values and exact in double (real * 2^(31 - e) < 2^31 keeps 53 bits).
  std::mt19937_64 rng(31337);
  std::uniform_real_distribution<double> logd(-31.5, 29.5);
  std::int64_t bad = 0;
  for (int i = 0; i < 200000; ++i) {
    const double real = std::exp2(logd(rng));
    int e = std::ilogb(real) + 1;
    double m = std::floor(std::ldexp(real, 31 - e) + 0.5);
    if (m == 2147483648.0) {
      m /= 2;
      ++e;
    }
    std::int32_t want_m = static_cast<std::int32_t>(m);
    int want_shift = e;
    if (want_shift < -31) want_m = 0, want_shift = 0;
    if (want_shift > 30) want_m = INT32_MAX, want_shift = 30;
    const qmath::QuantizedMultiplier got = qmath::quantize_multiplier(real);
    bad += got.multiplier != want_m || got.shift != want_shift;
    // and the representation error is at most half a Q31 step
    if (want_m != 0 && want_shift < 30)
      bad += std::fabs(std::ldexp(static_cast<double>(got.multiplier), got.shift - 31) - real) >
             std::ldexp(1.0, got.shift - 32);
  }
  CHECK(bad == 0);
}

namespace {
// Real multipliers used for requantization sweeps: typical s_a * s_b / s_out values, powers of two (exact ties),
// values just below/above powers of two, > 1, and the flush/saturation extremes.
const double kRealMultipliers[] = {1.0 / 255,  0.0123,    0.000371,      std::ldexp(1.0, -7), std::ldexp(1.0, -10),
                                   0.5,        0.75,      0.999999,      1.0,                 1.5,
                                   3.7,        100.25,    1.0 / 3.0,     0.0009765625 * 3,    std::ldexp(1.0, -20),
                                   2.5e-7,     1.0e-9,    std::ldexp(1.0, -31), 0.0625 + 1e-9, 0.2};

struct Requant {
  qmath::QuantRange range;
  std::int32_t zero_point;
};
}  // namespace

TEST_CASE("requantize: every int8 x int8 product, fixed point (both roundings) and float paths", "[fixed_point]") {
  const Requant rq = GENERATE(values<Requant>({{qmath::full_range<std::int8_t>(), 0},
                                               {qmath::full_range<std::int8_t>(), -5},
                                               {qmath::full_range<std::uint8_t>(), 128},
                                               {qmath::full_range<std::uint8_t>(), 3},
                                               {qmath::QuantRange{0, 6}, 0} /* ReLU6-like clamp */}));
  std::int64_t bad = 0, cases = 0;
  for (double real : kRealMultipliers) {
    const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(real);
    const float mf = static_cast<float>(real);
    for (int a = -128; a <= 127; ++a)
      for (int b = -128; b <= 127; ++b) {
        const std::int32_t acc = a * b;
        const std::int32_t lo = rq.range.qmin, hi = rq.range.qmax;
        bad += qmath::requantize_fixed_point(acc, qm.multiplier, qm.shift, rq.zero_point, rq.range,
                                             FixedPointRounding::kDoubleRounding) !=
               qref::requantize_fixed(acc, qm.multiplier, qm.shift, rq.zero_point, lo, hi, false);
        bad += qmath::requantize_fixed_point(acc, qm.multiplier, qm.shift, rq.zero_point, rq.range,
                                             FixedPointRounding::kSingleRounding) !=
               qref::requantize_fixed(acc, qm.multiplier, qm.shift, rq.zero_point, lo, hi, true);
        bad += qmath::requantize_float(acc, mf, rq.zero_point, rq.range) !=
               qref::requantize_float(acc, mf, rq.zero_point, lo, hi);
        cases += 3;
      }
  }
  CHECK(cases == 3 * 65536 * static_cast<std::int64_t>(sizeof(kRealMultipliers) / sizeof(double)));
  CHECK(bad == 0);
}

TEST_CASE("requantize: the neighbourhood of INT32_MIN and INT32_MAX, every shift", "[fixed_point]") {
  std::int64_t bad = 0;
  const std::int32_t multipliers[] = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX};
  for (std::int64_t base : {std::int64_t(INT32_MIN), std::int64_t(INT32_MAX) - 256, std::int64_t(-300)})
    for (std::int64_t d = 0; d <= 256; ++d) {
      const auto acc = static_cast<std::int32_t>(base + d);
      for (std::int32_t m : multipliers)
        for (int shift = -31; shift <= 30; ++shift) {
          const std::int32_t dr = qmath::multiply_by_quantized_multiplier_double_rounding(acc, m, shift);
          bad += dr != qref::mbqm_double(acc, m, shift);
          if (preshift_fits(acc, shift)) bad += dr != gemmlowp_mbqm(acc, m, shift);
          bad += qmath::multiply_by_quantized_multiplier_single_rounding(acc, m, shift) !=
                 qref::mbqm_single(acc, m, shift);
          bad += qmath::requantize_fixed_point(acc, m, shift, 7, qmath::full_range<std::int8_t>(),
                                               FixedPointRounding::kSingleRounding) !=
                 qref::requantize_fixed(acc, m, shift, 7, -128, 127, true);
        }
      for (float mf : {1e-9f, 0.0123f, 1.0f, 3.0f})
        bad += qmath::requantize_float(acc, mf, 100, qmath::full_range<std::uint8_t>()) !=
               qref::requantize_float(acc, mf, 100, 0, 255);
    }
  CHECK(bad == 0);
}

TEST_CASE("requantize_float: ONNX QLinearMatMul rounding, worked numbers", "[fixed_point][onnx]") {
  const qmath::QuantRange s8 = qmath::full_range<std::int8_t>(), u8 = qmath::full_range<std::uint8_t>();
  // 5 * 0.5 = 2.5 -> 2 (half to even), -5 * 0.5 = -2.5 -> -2, 7 * 0.5 = 3.5 -> 4; then the zero point.
  CHECK(qmath::requantize_float(5, 0.5f, 0, s8) == 2);
  CHECK(qmath::requantize_float(-5, 0.5f, 0, s8) == -2);
  CHECK(qmath::requantize_float(7, 0.5f, 0, s8) == 4);
  CHECK(qmath::requantize_float(7, 0.5f, 10, s8) == 14);
  CHECK(qmath::requantize_float(5, 0.5f, 0, s8, qmath::Round::kHalfAwayFromZero) == 3);
  // saturation after the zero point: 1000 * 0.5 + 128 -> 255; -1000 * 0.5 + 128 -> 0.
  CHECK(qmath::requantize_float(1000, 0.5f, 128, u8) == 255);
  CHECK(qmath::requantize_float(-1000, 0.5f, 128, u8) == 0);
  // float(acc) is the correctly rounded conversion, inexact above 2^24: 2^24 + 1 becomes 2^24, 2^24 + 3 becomes
  // 2^24 + 4 (ties to even), before the multiply.
  CHECK(qmath::requantize_float((1 << 24) + 1, 1.0f, 0, qmath::QuantRange{0, 1 << 25}) == (1 << 24));
  CHECK(qmath::requantize_float((1 << 24) + 3, 1.0f, 0, qmath::QuantRange{0, 1 << 25}) == (1 << 24) + 4);
  CHECK(qmath::requantize_float((1 << 24) + 3, 0.25f, 0, qmath::QuantRange{0, 1 << 25}) == (1 << 22) + 1);
}

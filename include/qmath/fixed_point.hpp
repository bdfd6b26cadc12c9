// qmath/fixed_point.hpp - integer-only requantization: gemmlowp / TFLite / ruy fixed-point arithmetic.
//
// A real multiplier M > 0 is represented as a Q31 integer `multiplier` in [2^30, 2^31 - 1] and an exponent
// `shift` with M ~= multiplier * 2^(shift - 31) (TFLite QuantizeMultiplier). Every function here is free of signed
// overflow undefined behaviour: products are formed in int64 and results saturate where stated.
#pragma once

#include <cmath>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// gemmlowp SaturatingRoundingDoublingHighMul, ARM NEON VQRDMULH: the high 32 bits of 2*a*b, rounded to nearest
// with ties toward +infinity, i.e. (a*b + nudge) / 2^31 truncated toward zero with nudge = 2^30 when a*b >= 0 and
// 1 - 2^30 otherwise. The only overflow, a = b = INT32_MIN, saturates to INT32_MAX.
QMATH_HOST_DEVICE std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = ab >= 0 ? (std::int64_t(1) << 30) : (1 - (std::int64_t(1) << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t(1) << 31));
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31.
// (3, 1) -> 2, (-3, 1) -> -2, (-5, 2) -> -1.
QMATH_HOST_DEVICE std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int64_t mask = (std::int64_t(1) << exponent) - 1;
  const std::int64_t remainder = static_cast<std::int64_t>(x) & mask;
  const std::int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<std::int32_t>((static_cast<std::int64_t>(x) >> exponent) + (remainder > threshold ? 1 : 0));
}

// A real multiplier in fixed point: real ~= multiplier * 2^(shift - 31).
struct QuantizedMultiplier {
  std::int32_t multiplier;  // Q31, in [2^30, 2^31 - 1], or 0 for a zero multiplier
  int shift;                // in [-31, 30]
};

// TFLite QuantizeMultiplier: frexp(real) = q * 2^shift with q in [0.5, 1); multiplier = round_half_away(q * 2^31);
// a rounding that reaches 2^31 is halved and shift incremented; shift < -31 flushes to (0, 0); shift > 30 saturates
// to (2^31 - 1, 30) (TFLite's single-rounding bound, applied to both variants). real must be finite and >= 0.
inline QuantizedMultiplier quantize_multiplier(double real) {
  detail::require(std::isfinite(real), "quantize_multiplier", "multiplier is not finite (", real, ")");
  detail::require(real >= 0.0, "quantize_multiplier", "multiplier is negative (", real, ")");
  if (real == 0.0) return {0, 0};
  int shift = 0;
  const double q = std::frexp(real, &shift);
  auto q_fixed = static_cast<std::int64_t>(std::round(q * static_cast<double>(std::int64_t(1) << 31)));
  if (q_fixed == (std::int64_t(1) << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) return {0, 0};
  if (shift > 30) return {INT32_MAX, 30};
  return {static_cast<std::int32_t>(q_fixed), shift};
}

// The rounding variant of multiply_by_quantized_multiplier.
enum class FixedPointRounding {
  // gemmlowp / classic TFLite: RDBPOT(SRDHM(x * 2^max(shift, 0), multiplier), max(-shift, 0)). Two roundings.
  kDoubleRounding,
  // ruy / TFLite with TFLITE_SINGLE_ROUNDING: (x * multiplier + 2^(30 - shift)) >> (31 - shift) in int64. One
  // rounding, ties toward +infinity.
  kSingleRounding,
};

// Double rounding. The pre-shift x * 2^shift (shift > 0) saturates to int32 instead of overflowing (TFLite leaves
// that overflow undefined). shift in [-31, 30].
QMATH_HOST_DEVICE std::int32_t multiply_by_quantized_multiplier_double_rounding(std::int32_t x,
                                                                                std::int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const std::int32_t shifted = saturate_to_int32(static_cast<std::int64_t>(x) * (std::int64_t(1) << left));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

// Single rounding; the result saturates to int32. multiplier >= 0, shift in [-31, 30].
QMATH_HOST_DEVICE std::int32_t multiply_by_quantized_multiplier_single_rounding(std::int32_t x,
                                                                                std::int32_t multiplier, int shift) {
  const int total_shift = 31 - shift;  // [1, 62]
  const std::int64_t round = std::int64_t(1) << (total_shift - 1);
  const std::int64_t result = (static_cast<std::int64_t>(x) * multiplier + round) >> total_shift;
  return saturate_to_int32(result);
}

// Either variant, chosen at run time.
QMATH_HOST_DEVICE std::int32_t multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift,
                                                                FixedPointRounding rounding) {
  return rounding == FixedPointRounding::kSingleRounding
             ? multiply_by_quantized_multiplier_single_rounding(x, multiplier, shift)
             : multiply_by_quantized_multiplier_double_rounding(x, multiplier, shift);
}

// Float-scale requantization, ONNX QLinearMatMul / QLinearConv semantics:
//   q = clamp(round_half_even(float(acc) * multiplier) + zero_point, qmin, qmax)
// float(acc) is the correctly rounded int32 -> float32 conversion (inexact above 2^24, as in ONNX Runtime, FBGEMM
// and CUTLASS). The rounding mode is explicit, never the FP environment's.
QMATH_HOST_DEVICE std::int32_t requantize_float(std::int32_t acc, float multiplier, std::int32_t zero_point,
                                                QuantRange range, Round mode = Round::kHalfToEven) {
#if defined(__CUDA_ARCH__)
  // __fmul_rn: a product nvcc / ptxas may never contract into an FMA with the rounding's subtraction (which would
  // change tie detection); the host computes the same correctly rounded product.
  const float v = __fmul_rn(static_cast<float>(acc), multiplier);
#else
  const float v = static_cast<float>(acc) * multiplier;
#endif
  return round_add_saturate(v, zero_point, range, mode);
}

// Fixed-point requantization, gemmlowp QuantizeDownInt32ByFixedPoint + clamp + saturating cast:
//   q = clamp(MBQM(acc, multiplier, shift) + zero_point, qmin, qmax)
QMATH_HOST_DEVICE std::int32_t requantize_fixed_point(std::int32_t acc, std::int32_t multiplier, int shift,
                                                      std::int32_t zero_point, QuantRange range,
                                                      FixedPointRounding rounding = FixedPointRounding::kDoubleRounding) {
  const std::int64_t v =
      static_cast<std::int64_t>(multiply_by_quantized_multiplier(acc, multiplier, shift, rounding)) + zero_point;
  return static_cast<std::int32_t>(clamp_i64(v, range.qmin, range.qmax));
}

}  // namespace qmath

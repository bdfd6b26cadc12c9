// tests/core_reference.hpp - independent formulations of qmath's core arithmetic, for the core tests only.
//
// Everything here is written differently from the headers under test on purpose: rounding in double with
// floor() and an exact fractional part, fixed-point results as exact rationals in __int128 with explicit floor
// division (no shifts of negative numbers), epilogues from the formulas in epilogue.hpp's comment. A test that
// compares qmath against these functions therefore compares two implementations, not one with itself.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include <qmath/epilogue.hpp>
#include <qmath/rounding.hpp>

namespace qref {

__extension__ typedef __int128 i128;  // __extension__: no -Wpedantic warning

// Rounds a double (|v| < 2^52) to an integral double with `mode`.
inline double round(double v, qmath::Round mode) {
  const double fl = std::floor(v);
  const double frac = v - fl;  // exact, in [0, 1)
  switch (mode) {
    case qmath::Round::kTowardZero:
      return v >= 0 ? fl : (frac == 0 ? fl : fl + 1);
    case qmath::Round::kHalfUp:
      return frac >= 0.5 ? fl + 1 : fl;
    case qmath::Round::kHalfAwayFromZero:
      if (frac != 0.5) return frac > 0.5 ? fl + 1 : fl;
      return v > 0 ? fl + 1 : fl;
    case qmath::Round::kHalfToEven:
    default:
      if (frac != 0.5) return frac > 0.5 ? fl + 1 : fl;
      return std::fmod(fl, 2.0) == 0 ? fl : fl + 1;
  }
}

// floor(a / 2^e) by division, not by an arithmetic shift.
inline i128 floor_div_pot(i128 a, int e) {
  const i128 d = i128(1) << e;
  i128 q = a / d;  // truncates toward zero
  if (a % d != 0 && a < 0) q -= 1;
  return q;
}

inline std::int32_t sat32(i128 v) {
  return v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : static_cast<std::int32_t>(v));
}

// SaturatingRoundingDoublingHighMul as a rational: round-half-up(a * b / 2^31), saturated.
inline std::int32_t srdhm(std::int32_t a, std::int32_t b) {
  return sat32(floor_div_pot(i128(a) * b + (i128(1) << 30), 31));
}

// RoundingDivideByPOT: x / 2^e rounded half away from zero.
inline std::int32_t rdbpot(std::int32_t x, int e) {
  if (e == 0) return x;
  const i128 half = i128(1) << (e - 1);
  return static_cast<std::int32_t>(x >= 0 ? floor_div_pot(i128(x) + half, e) : -floor_div_pot(-i128(x) + half, e));
}

// Double rounding, with the pre-shift saturated to int32 (qmath's documented choice).
inline std::int32_t mbqm_double(std::int32_t x, std::int32_t m, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return rdbpot(srdhm(sat32(i128(x) * (i128(1) << left)), m), right);
}

// Single rounding: round-half-up(x * m * 2^(shift - 31)), saturated.
inline std::int32_t mbqm_single(std::int32_t x, std::int32_t m, int shift) {
  return sat32(floor_div_pot(i128(x) * m + (i128(1) << (30 - shift)), 31 - shift));
}

// float32 product a * b, formed exactly in double and rounded once.
inline float mul_f32(float a, float b) { return static_cast<float>(static_cast<double>(a) * static_cast<double>(b)); }
// a + b correctly rounded to float, computed in double: rounding twice is innocuous for a sum (53 >= 2 * 24 + 2).
inline float add_f32(float a, float b) { return static_cast<float>(static_cast<double>(a) + static_cast<double>(b)); }

// float32 quotient a / b via double (double rounding is innocuous for division: 53 >= 2 * 24 + 2).
inline float div_f32(float a, float b) { return static_cast<float>(static_cast<double>(a) / static_cast<double>(b)); }

inline std::int64_t clamp(double v, std::int64_t lo, std::int64_t hi) {
  return v < double(lo) ? lo : (v > double(hi) ? hi : static_cast<std::int64_t>(v));
}

// ONNX QuantizeLinear: saturate(round(x / scale) + zp); NaN -> zp.
inline std::int32_t quantize(float x, float scale, std::int32_t zp, std::int32_t qmin, std::int32_t qmax,
                             qmath::Round mode) {
  const float v = div_f32(x, scale);
  if (std::isnan(v)) return zp;
  if (std::isinf(v)) return v > 0 ? qmax : qmin;
  return static_cast<std::int32_t>(clamp(round(double(v), mode) + zp, qmin, qmax));
}

// ONNX QLinearMatMul output: saturate(round_half_even(float(acc) * multiplier) + zp).
inline std::int32_t requantize_float(std::int32_t acc, float multiplier, std::int32_t zp, std::int32_t qmin,
                                     std::int32_t qmax, qmath::Round mode = qmath::Round::kHalfToEven) {
  const float p = mul_f32(static_cast<float>(acc), multiplier);
  if (std::isinf(p)) return p > 0 ? qmax : qmin;
  return static_cast<std::int32_t>(clamp(round(double(p), mode) + zp, qmin, qmax));
}

inline std::int32_t requantize_fixed(std::int32_t acc, std::int32_t m, int shift, std::int32_t zp, std::int32_t qmin,
                                     std::int32_t qmax, bool single) {
  const std::int64_t v = std::int64_t(single ? mbqm_single(acc, m, shift) : mbqm_double(acc, m, shift)) + zp;
  return static_cast<std::int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}

// The epilogue of epilogue.hpp, from its documented formula.
template <class OutT>
OutT epilogue(const qmath::Epilogue& e, std::int32_t acc, int n) {
  std::int64_t v = acc;
  if (e.bias()) v += e.bias()[n];
  const std::int32_t v32 = sat32(v);
  const int ch = e.per_channel() ? n : 0;
  if constexpr (std::is_same<OutT, float>::value) {
    float y = static_cast<float>(v32);
    if (e.scaling() == qmath::Scaling::kFloatMultiplier) y = mul_f32(y, e.float_multipliers()[ch]);
    if (e.float_bias()) y = add_f32(y, e.float_bias()[n]);
    if (y < e.float_clamp_min()) y = e.float_clamp_min();
    if (y > e.float_clamp_max()) y = e.float_clamp_max();
    return y;
  } else {
    const std::int64_t lo = std::max<std::int64_t>(e.clamp_min(), std::numeric_limits<OutT>::min());
    const std::int64_t hi = std::min<std::int64_t>(e.clamp_max(), std::numeric_limits<OutT>::max());
    std::int64_t q;
    switch (e.scaling()) {
      case qmath::Scaling::kFloatMultiplier:
        q = requantize_float(v32, e.float_multipliers()[ch], e.output_zero_point(), std::int32_t(lo), std::int32_t(hi));
        break;
      case qmath::Scaling::kFixedPointMultiplier:
        q = requantize_fixed(v32, e.fixed_point_multipliers()[ch], e.shifts()[ch], e.output_zero_point(), std::int32_t(lo),
                             std::int32_t(hi), e.rounding() == qmath::FixedPointRounding::kSingleRounding);
        break;
      default:
        q = v32 < lo ? lo : (v32 > hi ? hi : v32);
    }
    return static_cast<OutT>(q);
  }
}

// +-2^i +-{0, 1, 2} for every i in [0, 31], plus 0, +-1, +-2 and the int32 extremes and their neighbours.
inline std::vector<std::int32_t> edge_values() {
  std::vector<std::int64_t> v{0, 1, 2, -1, -2, INT32_MIN, INT32_MIN + 1, INT32_MIN + 2, INT32_MAX, INT32_MAX - 1,
                              INT32_MAX - 2};
  for (int i = 0; i <= 31; ++i)
    for (int d = -2; d <= 2; ++d) {
      v.push_back((std::int64_t(1) << i) + d);
      v.push_back(-(std::int64_t(1) << i) + d);
    }
  std::vector<std::int32_t> out;
  for (std::int64_t x : v)
    if (x >= INT32_MIN && x <= INT32_MAX) out.push_back(static_cast<std::int32_t>(x));
  return out;
}

inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace qref

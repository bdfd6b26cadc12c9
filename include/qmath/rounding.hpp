// qmath/rounding.hpp - rounding modes and saturation to a QuantRange (qmath/quant_range.hpp).
//
// Rounding is always an explicit parameter: nothing here reads or changes the floating-point environment
// (no fesetround, no lrintf/nearbyint whose result depends on the current mode).
#pragma once

#include <cmath>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/quant_range.hpp>

namespace qmath {

// How a real value is rounded to an integer.
enum class Round {
  kHalfToEven,        // ties to even: ONNX, PyTorch (nearbyint), numpy, CUDA cvt.rni, x86 default. 2.5 -> 2, -2.5 -> -2
  kHalfAwayFromZero,  // ties away from zero: std::round, TFLite reference.                      2.5 -> 3, -2.5 -> -3
  kHalfUp,            // ties toward +infinity: floor(x + 0.5) without its double-rounding bug.  2.5 -> 3, -2.5 -> -2
  kTowardZero,        // truncation: C casts, cvt.rzi.                                           2.7 -> 2, -2.7 -> -2
};

// Rounds x to an integral float with the given mode. Exact for every finite float: x - trunc(x) is the exact
// fractional part, so ties are detected exactly. NaN stays NaN, +-inf stay +-inf.
QMATH_HOST_DEVICE float round_to_integral(float x, Round mode) {
  const float t = ::truncf(x);
  const float frac = ::fabsf(x - t);  // exact, in [0, 1)
  const float away = x < 0.0f ? t - 1.0f : t + 1.0f;
  switch (mode) {
    case Round::kTowardZero:
      return t;
    case Round::kHalfAwayFromZero:
      return frac >= 0.5f ? away : t;
    case Round::kHalfUp:
      return (x >= 0.0f ? frac >= 0.5f : frac > 0.5f) ? away : t;
    case Round::kHalfToEven:
    default:
      if (frac > 0.5f) return away;
      if (frac < 0.5f) return t;
      return ::fmodf(t, 2.0f) == 0.0f ? t : away;
  }
}

// Clamps v to [lo, hi].
QMATH_HOST_DEVICE constexpr std::int64_t clamp_i64(std::int64_t v, std::int64_t lo, std::int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// Saturates a 64-bit value to int32.
QMATH_HOST_DEVICE constexpr std::int32_t saturate_to_int32(std::int64_t v) {
  return static_cast<std::int32_t>(clamp_i64(v, INT32_MIN, INT32_MAX));
}

// Converts an integer already inside T's range to T (callers clamp first).
template <class T>
QMATH_HOST_DEVICE constexpr T narrow_cast(std::int32_t v) {
  return static_cast<T>(v);
}

// Rounds v with `mode`, adds zero_point, and saturates to [range.qmin, range.qmax]:
//   q = clamp(round(v) + zero_point, qmin, qmax),  NaN -> zero_point (as CUDA cvt.rni.sat maps NaN to 0).
// Huge values and +-inf first saturate in float to +-2^32 (beyond every qmin - zero_point and qmax - zero_point),
// so the conversion to int64 is exact and defined; the zero point is then added and the result clamped in int64.
// This is exact for every range, including int32 ranges (int32 outputs of a float-scaled epilogue), whose bounds
// are not representable in float (float(2^31 - 1) is 2^31).
QMATH_HOST_DEVICE std::int32_t round_add_saturate(float v, std::int32_t zero_point, QuantRange range, Round mode) {
  if (!(v == v)) v = 0.0f;  // NaN
  constexpr float kLimit = 4294967296.0f;  // 2^32
  float r = round_to_integral(v, mode);
  r = r < -kLimit ? -kLimit : (r > kLimit ? kLimit : r);
  return static_cast<std::int32_t>(clamp_i64(static_cast<std::int64_t>(r) + zero_point, range.qmin, range.qmax));
}

}  // namespace qmath

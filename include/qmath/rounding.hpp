// qmath/rounding.hpp - rounding modes, integer ranges and saturation.
//
// Rounding is always an explicit parameter: nothing here reads or changes the floating-point environment
// (no fesetround, no lrintf/nearbyint whose result depends on the current mode).
#pragma once

#include <cmath>
#include <cstdint>

#include <qmath/config.hpp>

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

// An inclusive range of quantized integers [qmin, qmax], e.g. [-128, 127] for int8, [-127, 127] for TensorRT's
// narrow int8, [0, 255] for uint8, [-8, 7] for int4 stored in int8.
struct QuantRange {
  std::int32_t qmin;
  std::int32_t qmax;
};

namespace detail {
template <class T>
struct int_limits;
template <>
struct int_limits<std::int8_t> {
  static constexpr std::int32_t min = -128, max = 127;
};
template <>
struct int_limits<std::uint8_t> {
  static constexpr std::int32_t min = 0, max = 255;
};
template <>
struct int_limits<std::int16_t> {
  static constexpr std::int32_t min = -32768, max = 32767;
};
template <>
struct int_limits<std::uint16_t> {
  static constexpr std::int32_t min = 0, max = 65535;
};
template <>
struct int_limits<std::int32_t> {
  static constexpr std::int32_t min = INT32_MIN, max = INT32_MAX;
};
}  // namespace detail

// The whole range of a storage type T (int8, uint8, int16, uint16).
template <class T>
QMATH_HOST_DEVICE constexpr QuantRange full_range() {
  return {detail::int_limits<T>::min, detail::int_limits<T>::max};
}

// The symmetric "narrow" range of a signed type: [-127, 127] for int8 (TensorRT, TFLite weights). For an unsigned
// type it is the full range.
template <class T>
QMATH_HOST_DEVICE constexpr QuantRange narrow_range() {
  return {detail::int_limits<T>::min < 0 ? detail::int_limits<T>::min + 1 : 0, detail::int_limits<T>::max};
}

// The range of a `bits`-wide integer (1 <= bits <= 16): signed [-2^(b-1), 2^(b-1)-1] (or +1 on the low end when
// narrow), unsigned [0, 2^b - 1]. For sub-byte formats stored in a wider type, e.g. int4 as int8.
QMATH_HOST_DEVICE constexpr QuantRange bit_range(int bits, bool is_signed, bool narrow = false) {
  return is_signed ? QuantRange{-(std::int32_t(1) << (bits - 1)) + (narrow ? 1 : 0), (std::int32_t(1) << (bits - 1)) - 1}
                   : QuantRange{0, (std::int32_t(1) << bits) - 1};
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

// qmath/detail/lanes_scalar.hpp - the lane primitives on one lane: the normative definitions (see detail/lanes.hpp).
//
// Every other backend is tested against these lane by lane (tests/lanes_test.cpp). Each one is the library's scalar
// arithmetic itself (fixed_point.hpp, rounding.hpp), not a copy of it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <qmath/detail/lanes.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/quant_range.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace detail {
namespace lanes_scalar {

constexpr int kLanes = 1;
using I32 = std::int32_t;
using F32 = float;
using MF = bool;

inline I32 splat_i32(std::int32_t v) { return v; }
inline F32 splat_f32(float v) { return v; }
inline I32 load_i32(const std::int32_t* p) { return *p; }
inline F32 load_f32(const float* p) { return *p; }
inline void store_i32(std::int32_t* p, I32 v) { *p = v; }
inline void store_f32(float* p, F32 v) { *p = v; }
inline void stream_i32(std::int32_t* p, I32 v) { *p = v; }
inline void stream_f32(float* p, F32 v) { *p = v; }
inline void store_narrow(std::int8_t* p, I32 v) { *p = static_cast<std::int8_t>(v); }
inline void store_narrow(std::uint8_t* p, I32 v) { *p = static_cast<std::uint8_t>(v); }
inline I32 load_widen_i32(const std::int8_t* p) { return *p; }
inline I32 load_widen_i32(const std::uint8_t* p) { return *p; }

inline I32 add_i32(I32 a, I32 b) { return static_cast<I32>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b)); }
inline I32 sub_i32(I32 a, I32 b) { return static_cast<I32>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b)); }
inline I32 add_saturate_i32(I32 a, I32 b) { return saturate_to_int32(static_cast<std::int64_t>(a) + b); }
inline I32 min_i32(I32 a, I32 b) { return a < b ? a : b; }
inline I32 max_i32(I32 a, I32 b) { return a > b ? a : b; }
// store_narrow4: each lane clamped to the byte type's range, then stored.
template <class T>
inline void store_narrow4_saturated(T* p, I32 a, I32 b, I32 c, I32 d) {
  const I32 v[4] = {a, b, c, d};
  for (int k = 0; k < 4; ++k)
    p[k] = static_cast<T>(min_i32(max_i32(v[k], std::numeric_limits<T>::min()), std::numeric_limits<T>::max()));
}
inline void store_narrow4(std::int8_t* p, I32 a, I32 b, I32 c, I32 d) { store_narrow4_saturated(p, a, b, c, d); }
inline void store_narrow4(std::uint8_t* p, I32 a, I32 b, I32 c, I32 d) { store_narrow4_saturated(p, a, b, c, d); }

inline F32 to_f32(I32 v) { return static_cast<float>(v); }
inline F32 mul_f32(F32 a, F32 b) { return a * b; }
inline F32 add_f32(F32 a, F32 b) { return a + b; }
inline F32 sub_f32(F32 a, F32 b) { return a - b; }
inline F32 div_f32(F32 a, F32 b) { return a / b; }
inline F32 trunc_f32(F32 x) { return round_to_integral(x, Round::kTowardZero); }
inline F32 round_even_f32(F32 x) { return round_to_integral(x, Round::kHalfToEven); }
inline F32 min_f32(F32 a, F32 b) { return a < b ? a : b; }
inline F32 max_f32(F32 a, F32 b) { return a > b ? a : b; }
inline F32 clamp_f32(F32 x, F32 lo, F32 hi) { return x < lo ? lo : (x > hi ? hi : x); }
inline MF lt_f32(F32 a, F32 b) { return a < b; }
inline MF gt_f32(F32 a, F32 b) { return a > b; }
inline F32 select_f32(MF m, F32 a, F32 b) { return m ? a : b; }
inline F32 select_zero_f32(MF m, F32 a) { return m ? a : 0.0f; }
inline I32 bits_i32(F32 x) {
  I32 b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline MF lt_i32(I32 a, I32 b) { return a < b; }
inline MF eq_f32(F32 a, F32 b) { return a == b; }
inline MF and_mf(MF m, MF n) { return m && n; }
inline MF or_mf(MF m, MF n) { return m || n; }
inline bool all_mf(MF m) { return m; }
inline F32 abs_f32(F32 x) { return ::fabsf(x); }
inline I32 decrement_where(I32 v, MF m) { return m ? sub_i32(v, 1) : v; }
inline I32 trunc_i32(F32 x) { return static_cast<I32>(x); }
inline I32 add_saturate_integral(F32 x, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) {
  return round_add_saturate(x, zp, QuantRange{qmin, qmax}, Round::kHalfToEven);  // x integral: only the clamp acts
}

inline I32 srdhm_i32(I32 a, I32 b) { return saturating_rounding_doubling_high_mul(a, b); }
inline I32 rounding_divide_by_pot_i32(I32 x, I32 e) { return rounding_divide_by_pot(x, e); }
inline I32 shift_left_saturate_i32(I32 x, I32 s) {
  return saturate_to_int32(static_cast<std::int64_t>(x) * (std::int64_t(1) << s));
}
// The single-rounding multiply with shift = 31 - t.
inline I32 mul_round_shift_i32(I32 x, I32 m, I32 t) { return multiply_by_quantized_multiplier_single_rounding(x, m, 31 - t); }

}  // namespace lanes_scalar
}  // namespace detail
}  // namespace qmath

// qmath/detail/lanes_neon.hpp - the lane primitives on 4 lanes of AArch64 Advanced SIMD (contracts: detail/lanes.hpp).
//
// Advanced SIMD is part of the AArch64 baseline: no target attributes and no run-time check. Conversions and
// products round as FPCR says (round to nearest even unless a program changes it), as the scalar C++ code does.
// There is no non-temporal vector store intrinsic: stream_* are plain stores.
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/detail/lanes.hpp>

#if QMATH_LANES_NEON
#include <arm_neon.h>

namespace qmath {
namespace detail {
namespace lanes_neon {

constexpr int kLanes = 4;
using I32 = int32x4_t;
using F32 = float32x4_t;
using MF = uint32x4_t;

inline I32 splat_i32(std::int32_t v) { return vdupq_n_s32(v); }
inline F32 splat_f32(float v) { return vdupq_n_f32(v); }
inline I32 load_i32(const std::int32_t* p) { return vld1q_s32(p); }
inline F32 load_f32(const float* p) { return vld1q_f32(p); }
inline void store_i32(std::int32_t* p, I32 v) { vst1q_s32(p, v); }
inline void store_f32(float* p, F32 v) { vst1q_f32(p, v); }
inline void stream_i32(std::int32_t* p, I32 v) { vst1q_s32(p, v); }
inline void stream_f32(float* p, F32 v) { vst1q_f32(p, v); }
// XTN twice keeps the low byte of each lane: exact, the lanes are inside the byte type.
inline void store_narrow(std::int8_t* p, I32 v) {
  const int16x4_t h = vmovn_s32(v);
  const std::int32_t bytes = vget_lane_s32(vreinterpret_s32_s8(vmovn_s16(vcombine_s16(h, h))), 0);
  std::memcpy(p, &bytes, sizeof(bytes));
}
inline void store_narrow(std::uint8_t* p, I32 v) { store_narrow(reinterpret_cast<std::int8_t*>(p), v); }
// SQXTN to int16, then SQXTN / SQXTUN to the byte type: the saturation to the byte type; one 16-byte store.
inline void store_narrow4(std::int8_t* p, I32 a, I32 b, I32 c, I32 d) {
  const int16x8_t ab = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)), cd = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
  vst1q_s8(p, vcombine_s8(vqmovn_s16(ab), vqmovn_s16(cd)));
}
inline void store_narrow4(std::uint8_t* p, I32 a, I32 b, I32 c, I32 d) {
  const int16x8_t ab = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)), cd = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
  vst1q_u8(p, vcombine_u8(vqmovun_s16(ab), vqmovun_s16(cd)));
}

// 4 bytes, SXTL / UXTL twice.
inline I32 load_widen_i32(const std::int8_t* p) {
  std::int32_t bytes;
  std::memcpy(&bytes, p, sizeof(bytes));
  return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(bytes)))));
}
inline I32 load_widen_i32(const std::uint8_t* p) {
  std::int32_t bytes;
  std::memcpy(&bytes, p, sizeof(bytes));
  return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(vreinterpret_u8_s32(vdup_n_s32(bytes))))));
}

inline I32 add_i32(I32 a, I32 b) { return vaddq_s32(a, b); }
inline I32 sub_i32(I32 a, I32 b) { return vsubq_s32(a, b); }
inline I32 add_saturate_i32(I32 a, I32 b) { return vqaddq_s32(a, b); }  // SQADD
inline I32 min_i32(I32 a, I32 b) { return vminq_s32(a, b); }
inline I32 max_i32(I32 a, I32 b) { return vmaxq_s32(a, b); }

inline F32 to_f32(I32 v) { return vcvtq_f32_s32(v); }
inline F32 mul_f32(F32 a, F32 b) { return vmulq_f32(a, b); }
inline F32 add_f32(F32 a, F32 b) { return vaddq_f32(a, b); }
inline F32 sub_f32(F32 a, F32 b) { return vsubq_f32(a, b); }
inline F32 div_f32(F32 a, F32 b) { return vdivq_f32(a, b); }  // FDIV (AArch64)
inline F32 trunc_f32(F32 x) { return vrndq_f32(x); }         // FRINTZ
inline F32 round_even_f32(F32 x) { return vrndnq_f32(x); }  // FRINTN
inline F32 min_f32(F32 a, F32 b) { return vminq_f32(a, b); }
inline F32 max_f32(F32 a, F32 b) { return vmaxq_f32(a, b); }
// FMAX / FMIN propagate a NaN operand (FMAXNM / FMINNM would not).
inline F32 clamp_f32(F32 x, F32 lo, F32 hi) { return vminq_f32(vmaxq_f32(x, lo), hi); }
inline MF lt_f32(F32 a, F32 b) { return vcltq_f32(a, b); }
inline MF gt_f32(F32 a, F32 b) { return vcgtq_f32(a, b); }
inline F32 select_f32(MF m, F32 a, F32 b) { return vbslq_f32(m, a, b); }
inline F32 select_zero_f32(MF m, F32 a) { return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(a))); }
inline I32 bits_i32(F32 x) { return vreinterpretq_s32_f32(x); }
inline MF lt_i32(I32 a, I32 b) { return vcltq_s32(a, b); }
inline MF eq_f32(F32 a, F32 b) { return vceqq_f32(a, b); }
inline MF and_mf(MF m, MF n) { return vandq_u32(m, n); }
inline MF or_mf(MF m, MF n) { return vorrq_u32(m, n); }
inline bool all_mf(MF m) { return vminvq_u32(m) != 0; }  // UMINV: lanes are 0 / all ones
inline F32 abs_f32(F32 x) { return vabsq_f32(x); }
inline I32 decrement_where(I32 v, MF m) { return vaddq_s32(v, vreinterpretq_s32_u32(m)); }  // m lanes are 0 / -1
inline I32 trunc_i32(F32 x) { return vcvtq_s32_f32(x); }  // FCVTZS
// In double, as lanes_avx2.hpp: x + zp is exact wherever it can land inside [qmin, qmax]; the clamped value is an
// int32, so FCVTZS does not round.
inline int32x2_t add_saturate_integral2(float32x2_t x, float64x2_t zp, float64x2_t lo, float64x2_t hi) {
  const float64x2_t d = vaddq_f64(vcvt_f64_f32(x), zp);
  return vmovn_s64(vcvtq_s64_f64(vminq_f64(vmaxq_f64(d, lo), hi)));
}
inline I32 add_saturate_integral(F32 x, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) {
  const float64x2_t z = vdupq_n_f64(zp), lo = vdupq_n_f64(qmin), hi = vdupq_n_f64(qmax);
  return vcombine_s32(add_saturate_integral2(vget_low_f32(x), z, lo, hi),
                      add_saturate_integral2(vget_high_f32(x), z, lo, hi));
}

inline I32 srdhm_i32(I32 a, I32 b) { return vqrdmulhq_s32(a, b); }  // SQRDMULH: gemmlowp's definition
// SRSHL rounds half up; x - 1 for negative x (saturating: INT32_MIN is a multiple of every power) turns its ties
// away from zero (gemmlowp fixedpoint_neon.h's fix-up, with a per-lane exponent).
inline I32 rounding_divide_by_pot_i32(I32 x, I32 e) {
  const int32x4_t shift = vnegq_s32(e);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, shift), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), shift);
}
inline I32 shift_left_saturate_i32(I32 x, I32 s) { return vqshlq_s32(x, s); }  // SQSHL (register)
// SMULL, SRSHL by -t (the rounding constant is added without overflow), SQXTN.
inline I32 mul_round_shift_i32(I32 x, I32 m, I32 t) {
  const int64x2_t t_low = vnegq_s64(vmovl_s32(vget_low_s32(t))), t_high = vnegq_s64(vmovl_high_s32(t));
  const int64x2_t low = vrshlq_s64(vmull_s32(vget_low_s32(x), vget_low_s32(m)), t_low);
  const int64x2_t high = vrshlq_s64(vmull_high_s32(x, m), t_high);
  return vqmovn_high_s64(vqmovn_s64(low), high);
}

}  // namespace lanes_neon
}  // namespace detail
}  // namespace qmath

#endif  // QMATH_LANES_NEON

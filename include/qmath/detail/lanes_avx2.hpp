// qmath/detail/lanes_avx2.hpp - the lane primitives on 8 lanes of AVX2 + FMA (contracts: detail/lanes.hpp).
//
// Compiled with per-function target attributes (QMATH_LANES_PUSH_TARGET), so a baseline build carries them; call
// them only where isa_available(Isa::kAvx2). AVX2 has no 64-bit arithmetic shift, min or max and no float -> int64
// conversion: those are built from logical shifts, 64-bit compares and blends, or go through double.
#pragma once

#include <cstdint>

#include <qmath/detail/cpu_features.hpp>
#include <qmath/detail/lanes.hpp>

#if QMATH_CPU_X86
#include <immintrin.h>

QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
namespace qmath {
namespace detail {
namespace lanes_avx2 {

constexpr int kLanes = 8;
using I32 = __m256i;
using F32 = __m256;
using MF = __m256;

inline I32 splat_i32(std::int32_t v) { return _mm256_set1_epi32(v); }
inline F32 splat_f32(float v) { return _mm256_set1_ps(v); }
inline I32 load_i32(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline F32 load_f32(const float* p) { return _mm256_loadu_ps(p); }
inline void store_i32(std::int32_t* p, I32 v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
inline void store_f32(float* p, F32 v) { _mm256_storeu_ps(p, v); }
inline void stream_i32(std::int32_t* p, I32 v) { _mm256_stream_si256(reinterpret_cast<__m256i*>(p), v); }
inline void stream_f32(float* p, F32 v) { _mm256_stream_ps(p, v); }
// The 8 lanes as int16 (exact: they are inside the byte type), then bytes.
inline __m128i pack16(I32 v) { return _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)); }
inline void store_narrow(std::int8_t* p, I32 v) {
  const __m128i w = pack16(v);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w, w));
}
inline void store_narrow(std::uint8_t* p, I32 v) {
  const __m128i w = pack16(v);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(w, w));
}
// VPACKSSDW of (a, b) and (c, d) saturates to int16, VPACKSSWB / VPACKUSWB to the byte type (together: the
// saturation to the byte type); both packs work per 128-bit half, so dwords come out in the order 0 4 1 5 2 6 3 7
// and VPERMD restores element order.
template <bool kSigned>
inline __m256i pack4_bytes(I32 a, I32 b, I32 c, I32 d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  const __m256i bytes = kSigned ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}
inline void store_narrow4(std::int8_t* p, I32 a, I32 b, I32 c, I32 d) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), pack4_bytes<true>(a, b, c, d));
}
inline void store_narrow4(std::uint8_t* p, I32 a, I32 b, I32 c, I32 d) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), pack4_bytes<false>(a, b, c, d));
}

// VPMOVSXBD / VPMOVZXBD of 8 bytes.
inline I32 load_widen_i32(const std::int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline I32 load_widen_i32(const std::uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

inline I32 add_i32(I32 a, I32 b) { return _mm256_add_epi32(a, b); }
inline I32 sub_i32(I32 a, I32 b) { return _mm256_sub_epi32(a, b); }
// Overflow where a and b have one sign and the wrapped sum the other; it saturates toward a's sign.
inline I32 add_saturate_i32(I32 a, I32 b) {
  const __m256i s = _mm256_add_epi32(a, b);
  const __m256i overflow = _mm256_srai_epi32(_mm256_and_si256(_mm256_xor_si256(a, s), _mm256_xor_si256(b, s)), 31);
  const __m256i sat = _mm256_xor_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(INT32_MAX));
  return _mm256_blendv_epi8(s, sat, overflow);
}
inline I32 min_i32(I32 a, I32 b) { return _mm256_min_epi32(a, b); }
inline I32 max_i32(I32 a, I32 b) { return _mm256_max_epi32(a, b); }

// MXCSR rounding, as the scalar C++ conversion and product (round to nearest even by default).
inline F32 to_f32(I32 v) { return _mm256_cvtepi32_ps(v); }
inline F32 mul_f32(F32 a, F32 b) { return _mm256_mul_ps(a, b); }
inline F32 add_f32(F32 a, F32 b) { return _mm256_add_ps(a, b); }
inline F32 sub_f32(F32 a, F32 b) { return _mm256_sub_ps(a, b); }
inline F32 div_f32(F32 a, F32 b) { return _mm256_div_ps(a, b); }
inline F32 trunc_f32(F32 x) { return _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); }
inline F32 round_even_f32(F32 x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline F32 min_f32(F32 a, F32 b) { return _mm256_min_ps(a, b); }
inline F32 max_f32(F32 a, F32 b) { return _mm256_max_ps(a, b); }
// VMAXPS / VMINPS return their second operand when either is NaN or both are zeros: x < lo ? lo : x, then
// hi < y ? hi : y, which is the scalar definition bit for bit (NaN included).
inline F32 clamp_f32(F32 x, F32 lo, F32 hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, x)); }
inline MF lt_f32(F32 a, F32 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline MF gt_f32(F32 a, F32 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline F32 select_f32(MF m, F32 a, F32 b) { return _mm256_blendv_ps(b, a, m); }
inline F32 select_zero_f32(MF m, F32 a) { return _mm256_and_ps(m, a); }  // m lanes are 0 / all ones
inline I32 bits_i32(F32 x) { return _mm256_castps_si256(x); }
inline MF lt_i32(I32 a, I32 b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, a)); }
inline MF eq_f32(F32 a, F32 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline MF and_mf(MF m, MF n) { return _mm256_and_ps(m, n); }
inline MF or_mf(MF m, MF n) { return _mm256_or_ps(m, n); }
inline bool all_mf(MF m) { return _mm256_movemask_ps(m) == 0xFF; }
inline F32 abs_f32(F32 x) { return _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
inline I32 decrement_where(I32 v, MF m) { return _mm256_add_epi32(v, _mm256_castps_si256(m)); }  // m lanes are 0 / -1
inline I32 trunc_i32(F32 x) { return _mm256_cvttps_epi32(x); }
// In double: x + zp is exact wherever it can land inside [qmin, qmax] (|x| <= 2^33) and far outside otherwise; an
// infinite x stays infinite and clamps. The clamped value is an int32, so the conversion does not round.
inline __m128i add_saturate_integral4(__m128 x, __m256d zp, __m256d lo, __m256d hi) {
  const __m256d d = _mm256_add_pd(_mm256_cvtps_pd(x), zp);
  return _mm256_cvtpd_epi32(_mm256_min_pd(_mm256_max_pd(d, lo), hi));
}
inline I32 add_saturate_integral(F32 x, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) {
  const __m256d z = _mm256_set1_pd(zp), lo = _mm256_set1_pd(qmin), hi = _mm256_set1_pd(qmax);
  return _mm256_setr_m128i(add_saturate_integral4(_mm256_castps256_ps128(x), z, lo, hi),
                           add_saturate_integral4(_mm256_extractf128_ps(x, 1), z, lo, hi));
}

// The 64-bit products of the even lanes (VPMULDQ) and of the odd lanes, plus `add`; bits 31..62 of each are taken
// by a 64-bit shift right by 31 (even) or left by 1 (odd). (a*b + 2^30) >> 31 (floor) equals the scalar truncating
// division with the sign-dependent nudge for every product: for a*b >= 0 they are the same expression; for a*b < 0,
// y = a*b + 1 - 2^30 < 0, and trunc(y / 2^31) = ceil(y / 2^31) = floor((y + 2^31 - 1) / 2^31) = floor((a*b + 2^30)
// / 2^31). The one overflow, a = b = INT32_MIN, gives INT32_MIN and is flipped to INT32_MAX.
inline I32 srdhm_i32(I32 a, I32 b) {
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t(1) << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  const __m256i min = _mm256_set1_epi32(INT32_MIN);
  const __m256i both_min = _mm256_and_si256(_mm256_cmpeq_epi32(a, min), _mm256_cmpeq_epi32(b, min));
  return _mm256_xor_si256(high, both_min);
}
// (x >> e) + (remainder > threshold), the mask (1 << e) - 1 formed modulo 2^32 (e = 31 gives 0x7fffffff).
inline I32 rounding_divide_by_pot_i32(I32 x, I32 e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  const __m256i up = _mm256_cmpgt_epi32(remainder, threshold);  // -1 where rounding up
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), up);
}
// Saturates where shifting back does not give x.
inline I32 shift_left_saturate_i32(I32 x, I32 s) {
  const __m256i shifted = _mm256_sllv_epi32(x, s);
  const __m256i overflow = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, s), x);  // -1 where exact
  const __m256i sat = _mm256_xor_si256(_mm256_srai_epi32(x, 31), _mm256_set1_epi32(INT32_MAX));
  return _mm256_blendv_epi8(sat, shifted, overflow);
}
// Per 64-bit lane: floor(v / 2^t) = ~(~v >> t) for v < 0 (logical shifts of non-negative values), then the int64
// -> int32 saturation with 64-bit compares and blends.
inline __m256i mul_round_shift_half(__m256i x, __m256i m, __m256i t) {
  const __m256i one = _mm256_set1_epi64x(1);
  const __m256i round = _mm256_sllv_epi64(one, _mm256_sub_epi64(t, one));
  const __m256i v = _mm256_add_epi64(_mm256_mul_epi32(x, m), round);
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
  __m256i r = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), t), sign);
  const __m256i lo = _mm256_set1_epi64x(INT32_MIN), hi = _mm256_set1_epi64x(INT32_MAX);
  r = _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
  return _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
}
inline I32 mul_round_shift_i32(I32 x, I32 m, I32 t) {
  const __m256i even = mul_round_shift_half(x, m, _mm256_and_si256(t, _mm256_set1_epi64x(0xFFFFFFFF)));
  const __m256i odd =
      mul_round_shift_half(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32), _mm256_srli_epi64(t, 32));
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

}  // namespace lanes_avx2
}  // namespace detail
}  // namespace qmath
QMATH_LANES_POP_TARGET()

#endif  // QMATH_CPU_X86

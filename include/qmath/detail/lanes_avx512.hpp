// qmath/detail/lanes_avx512.hpp - the lane primitives on 16 lanes of AVX-512 F + BW + DQ + VL (contracts:
// detail/lanes.hpp).
//
// Compiled with per-function target attributes (QMATH_LANES_PUSH_TARGET); call them only where
// isa_available(Isa::kAvx512). Masked (maskz) forms throughout: GCC 12's unmasked intrinsics start from
// _mm512_undefined_*, which trips -Wmaybe-uninitialized (GCC PR 105593) in users' -Werror builds. The int32 -> float
// conversion and the product use embedded round-to-nearest-even.
#pragma once

#include <cstdint>

#include <qmath/detail/cpu_features.hpp>
#include <qmath/detail/lanes.hpp>

#if QMATH_CPU_X86
#include <immintrin.h>

QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX512_FEATURES)
namespace qmath {
namespace detail {
namespace lanes_avx512 {

constexpr int kLanes = 16;
using I32 = __m512i;
using F32 = __m512;
using MF = __mmask16;
constexpr __mmask16 kAll = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;
constexpr int kRn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

inline I32 splat_i32(std::int32_t v) { return _mm512_set1_epi32(v); }
inline F32 splat_f32(float v) { return _mm512_set1_ps(v); }
inline I32 load_i32(const std::int32_t* p) { return _mm512_maskz_loadu_epi32(kAll, p); }
inline F32 load_f32(const float* p) { return _mm512_maskz_loadu_ps(kAll, p); }
inline void store_i32(std::int32_t* p, I32 v) { _mm512_storeu_si512(static_cast<void*>(p), v); }
inline void store_f32(float* p, F32 v) { _mm512_storeu_ps(p, v); }
inline void stream_i32(std::int32_t* p, I32 v) { _mm512_stream_si512(reinterpret_cast<__m512i*>(p), v); }
inline void stream_f32(float* p, F32 v) { _mm512_stream_ps(p, v); }
// VPMOVDB keeps the low byte of each lane: exact, the lanes are inside the byte type.
inline void store_narrow(std::int8_t* p, I32 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_maskz_cvtepi32_epi8(kAll, v));
}
inline void store_narrow(std::uint8_t* p, I32 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_maskz_cvtepi32_epi8(kAll, v));
}
// VPACKSSDW, then VPACKSSWB / VPACKUSWB: the saturation to the byte type; the packs work per 128-bit quarter, so
// VPERMD puts the dwords back in element order (cheaper than four VPMOVSDB / VPMOVUSDB, and the unsigned one would
// saturate negative lanes to 255).
template <bool kSigned>
inline __m512i pack4_bytes(I32 a, I32 b, I32 c, I32 d) {
  constexpr __mmask32 kAll32 = ~__mmask32(0);  // the packs' masks count their output elements: 32 words, 64 bytes
  constexpr __mmask64 kAll64 = ~__mmask64(0);
  const __m512i ab = _mm512_maskz_packs_epi32(kAll32, a, b), cd = _mm512_maskz_packs_epi32(kAll32, c, d);
  const __m512i bytes = kSigned ? _mm512_maskz_packs_epi16(kAll64, ab, cd) : _mm512_maskz_packus_epi16(kAll64, ab, cd);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_maskz_permutexvar_epi32(kAll, order, bytes);
}
inline void store_narrow4(std::int8_t* p, I32 a, I32 b, I32 c, I32 d) {
  _mm512_storeu_si512(static_cast<void*>(p), pack4_bytes<true>(a, b, c, d));
}
inline void store_narrow4(std::uint8_t* p, I32 a, I32 b, I32 c, I32 d) {
  _mm512_storeu_si512(static_cast<void*>(p), pack4_bytes<false>(a, b, c, d));
}

// VPMOVSXBD / VPMOVZXBD of 16 bytes.
inline I32 load_widen_i32(const std::int8_t* p) {
  return _mm512_maskz_cvtepi8_epi32(kAll, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline I32 load_widen_i32(const std::uint8_t* p) {
  return _mm512_maskz_cvtepu8_epi32(kAll, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline I32 add_i32(I32 a, I32 b) { return _mm512_add_epi32(a, b); }
inline I32 sub_i32(I32 a, I32 b) { return _mm512_sub_epi32(a, b); }
// Overflow where a and b have one sign and the wrapped sum the other; it saturates toward a's sign.
inline I32 add_saturate_i32(I32 a, I32 b) {
  const __m512i s = _mm512_add_epi32(a, b);
  const __mmask16 overflow = _mm512_movepi32_mask(_mm512_and_si512(_mm512_xor_si512(a, s), _mm512_xor_si512(b, s)));
  const __m512i sat = _mm512_xor_si512(_mm512_maskz_srai_epi32(kAll, a, 31), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(s, overflow, sat);
}
inline I32 min_i32(I32 a, I32 b) { return _mm512_maskz_min_epi32(kAll, a, b); }
inline I32 max_i32(I32 a, I32 b) { return _mm512_maskz_max_epi32(kAll, a, b); }

inline F32 to_f32(I32 v) { return _mm512_maskz_cvt_roundepi32_ps(kAll, v, kRn); }
inline F32 mul_f32(F32 a, F32 b) { return _mm512_maskz_mul_round_ps(kAll, a, b, kRn); }
inline F32 add_f32(F32 a, F32 b) { return _mm512_maskz_add_round_ps(kAll, a, b, kRn); }
inline F32 sub_f32(F32 a, F32 b) { return _mm512_maskz_sub_round_ps(kAll, a, b, kRn); }
inline F32 div_f32(F32 a, F32 b) { return _mm512_maskz_div_round_ps(kAll, a, b, kRn); }
inline F32 trunc_f32(F32 x) { return _mm512_maskz_roundscale_ps(kAll, x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); }
// VRNDSCALEPS imm 0: round half to even for every finite float, keeps +-inf.
inline F32 round_even_f32(F32 x) { return _mm512_maskz_roundscale_ps(kAll, x, kRn); }
inline F32 min_f32(F32 a, F32 b) { return _mm512_maskz_min_ps(kAll, a, b); }
inline F32 max_f32(F32 a, F32 b) { return _mm512_maskz_max_ps(kAll, a, b); }
// VMAXPS / VMINPS return their second operand when either is NaN or both are zeros: the scalar definition.
inline F32 clamp_f32(F32 x, F32 lo, F32 hi) {
  return _mm512_maskz_min_ps(kAll, hi, _mm512_maskz_max_ps(kAll, lo, x));
}
inline MF lt_f32(F32 a, F32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline MF gt_f32(F32 a, F32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline F32 select_f32(MF m, F32 a, F32 b) { return _mm512_mask_mov_ps(b, m, a); }
inline F32 select_zero_f32(MF m, F32 a) { return _mm512_maskz_mov_ps(m, a); }
inline I32 bits_i32(F32 x) { return _mm512_castps_si512(x); }
inline MF lt_i32(I32 a, I32 b) { return _mm512_cmplt_epi32_mask(a, b); }
inline MF eq_f32(F32 a, F32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline MF and_mf(MF m, MF n) { return static_cast<MF>(m & n); }
inline MF or_mf(MF m, MF n) { return static_cast<MF>(m | n); }
inline bool all_mf(MF m) { return m == kAll; }
inline F32 abs_f32(F32 x) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}
inline I32 decrement_where(I32 v, MF m) { return _mm512_mask_sub_epi32(v, m, v, _mm512_set1_epi32(1)); }
inline I32 trunc_i32(F32 x) { return _mm512_maskz_cvttps_epi32(kAll, x); }
// x clamped to [-2^32, 2^32] (exact floats; +-inf lands there too), converted exactly to int64, the zero point and
// the clamp applied in int64, 8 lanes at a time.
inline __m256i add_saturate_integral8(__m256 h, __m512i zp, __m512i lo, __m512i hi) {
  const __m512i w = _mm512_add_epi64(_mm512_maskz_cvttps_epi64(kAll8, h), zp);
  return _mm512_maskz_cvtepi64_epi32(kAll8, _mm512_maskz_min_epi64(kAll8, _mm512_maskz_max_epi64(kAll8, w, lo), hi));
}
inline I32 add_saturate_integral(F32 x, std::int32_t zp, std::int32_t qmin, std::int32_t qmax) {
  x = _mm512_maskz_max_ps(kAll, x, _mm512_set1_ps(-4294967296.0f));
  x = _mm512_maskz_min_ps(kAll, x, _mm512_set1_ps(4294967296.0f));
  const __m512i z = _mm512_set1_epi64(zp), lo = _mm512_set1_epi64(qmin), hi = _mm512_set1_epi64(qmax);
  // (maskz extracts: GCC 12 implements the casts with undefined-based intrinsics, see above)
  const __m512d xd = _mm512_castps_pd(x);
  const __m256i low = add_saturate_integral8(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAll8, xd, 0)), z, lo, hi);
  const __m256i high = add_saturate_integral8(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAll8, xd, 1)), z, lo, hi);
  return _mm512_maskz_inserti64x4(kAll8, _mm512_castsi256_si512(low), high, 1);
}

// As lanes_avx2.hpp: even and odd 64-bit products (VPMULDQ) plus 2^30, bits 31..62, (INT32_MIN, INT32_MIN) flipped.
inline I32 srdhm_i32(I32 a, I32 b) {
  const __m512i nudge = _mm512_set1_epi64(std::int64_t(1) << 30);
  const __m512i even = _mm512_add_epi64(_mm512_maskz_mul_epi32(kAll8, a, b), nudge);
  const __m512i odd = _mm512_add_epi64(
      _mm512_maskz_mul_epi32(kAll8, _mm512_maskz_srli_epi64(kAll8, a, 32), _mm512_maskz_srli_epi64(kAll8, b, 32)),
      nudge);
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(kAll8, even, 31),
                                               _mm512_maskz_slli_epi64(kAll8, odd, 1));
  const __m512i min = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 both_min = _mm512_cmpeq_epi32_mask(a, min) & _mm512_cmpeq_epi32_mask(b, min);
  return _mm512_mask_mov_epi32(high, both_min, _mm512_set1_epi32(INT32_MAX));
}
inline I32 rounding_divide_by_pot_i32(I32 x, I32 e) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_maskz_sllv_epi32(kAll, one, e), one);
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold =
      _mm512_sub_epi32(_mm512_maskz_srli_epi32(kAll, mask, 1), _mm512_maskz_srai_epi32(kAll, x, 31));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  const __m512i q = _mm512_maskz_srav_epi32(kAll, x, e);
  return _mm512_mask_add_epi32(q, up, q, one);
}
inline I32 shift_left_saturate_i32(I32 x, I32 s) {
  const __m512i shifted = _mm512_maskz_sllv_epi32(kAll, x, s);
  const __mmask16 overflow = _mm512_cmpneq_epi32_mask(_mm512_maskz_srav_epi32(kAll, shifted, s), x);
  const __m512i sat = _mm512_xor_si512(_mm512_maskz_srai_epi32(kAll, x, 31), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_mov_epi32(shifted, overflow, sat);
}
// Per 64-bit lane with VPSRAVQ, then VPMINSQ / VPMAXSQ for the int64 -> int32 saturation.
inline __m512i mul_round_shift_half(__m512i x, __m512i m, __m512i t) {
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i round = _mm512_maskz_sllv_epi64(kAll8, one, _mm512_sub_epi64(t, one));
  const __m512i r = _mm512_maskz_srav_epi64(kAll8, _mm512_add_epi64(_mm512_maskz_mul_epi32(kAll8, x, m), round), t);
  return _mm512_maskz_min_epi64(kAll8, _mm512_maskz_max_epi64(kAll8, r, _mm512_set1_epi64(INT32_MIN)),
                                _mm512_set1_epi64(INT32_MAX));
}
inline I32 mul_round_shift_i32(I32 x, I32 m, I32 t) {
  const __m512i even = mul_round_shift_half(x, m, _mm512_maskz_and_epi64(kAll8, t, _mm512_set1_epi64(0xFFFFFFFF)));
  const __m512i odd = mul_round_shift_half(_mm512_maskz_srli_epi64(kAll8, x, 32), _mm512_maskz_srli_epi64(kAll8, m, 32),
                                           _mm512_maskz_srli_epi64(kAll8, t, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kAll8, odd, 32));
}

}  // namespace lanes_avx512
}  // namespace detail
}  // namespace qmath
QMATH_LANES_POP_TARGET()

#endif  // QMATH_CPU_X86

// qmath/detail/quantize_avx2.hpp - AVX2 kernels for quantize_array / dequantize_array (int8, uint8 outputs).
//
// Same semantics as quantize_avx512.hpp, and the same two kernels (read its header comment for the argument):
//  * quantize_division(): the correctly rounded x / scale by vdivps; rounding with vroundps and an explicit mode
//    (half away from zero and half up emulated exactly); clamp in float; NaN -> zero point.
//  * quantize(): t = x * RN(1 / scale) clamped to [qmin - zp - 1/4, qmax - zp + 1/4], rounded to nearest (nearest
//    modes) or truncated (toward zero), accepted per 32-element block only when every lane is more than
//    m = B * 2^-21 from its mode's decision boundaries (then it provably equals the division result); otherwise the
//    block is recomputed by division (with the same back-off as the AVX-512 kernel for adversarial input). Unlike the
//    AVX-512 kernel, NaN lanes are not zeroed up front: the NaN propagates into the check (vmaxps / vminps return
//    their second operand, the NaN, when one is NaN; a NaN's cleared-sign bit pattern is larger, as an integer, than
//    every finite distance), fails it, and the block is recomputed by division.
//  * quantize_multiply(): the multiply rules (QuantizeRule::kMultiplyReciprocal, kMultiplyBoundOverAmax): v = x * m
//    by vmulps (never fused with anything), m = rule_operand() computed once by the caller; then the division
//    kernel's rounding, clamp and NaN handling. Exact by construction: no fast path is needed.
//  * dequantize(): the lane body (detail/quantize_lanes-inl.hpp) on lanes_avx2. quantize stays hand-written here:
//    the lane body divides every vector and was slower than quantize() (docs/simd.md).
// AVX2 has no embedded rounding, so the division and multiplications use MXCSR's rounding mode, which must be the
// default round-to-nearest, exactly as the portable loop's `x / scale` assumes. Main loop: 32 elements; the
// remainder (< 32 elements) runs the portable loop, which is the reference itself.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <qmath/detail/quantize_lanes.hpp>
#include <qmath/detail/quantize_simd_common.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

// GCC 12 reports a false -Wmaybe-uninitialized / -Wuninitialized inside the AVX-512 intrinsics' own headers (the
// _mm512_undefined_ps self-initialisation; GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#define QMATH_QUANTIZE_TARGET_AVX2 __attribute__((target("avx2")))

namespace qmath {
namespace detail {
namespace avx2 {

struct QuantConsts {
  __m256 scale, lo, hi;
  __m256i zero_point;
};

QMATH_QUANTIZE_TARGET_AVX2 inline QuantConsts make_consts(QuantParams p, QuantRange range) {
  QuantConsts c;
  c.scale = _mm256_set1_ps(p.scale);
  c.lo = _mm256_set1_ps(static_cast<float>(range.qmin - p.zero_point));
  c.hi = _mm256_set1_ps(static_cast<float>(range.qmax - p.zero_point));
  c.zero_point = _mm256_set1_epi32(p.zero_point);
  return c;
}

template <Round M>
QMATH_QUANTIZE_TARGET_AVX2 inline __m256 round_integral(__m256 v) {
  if constexpr (M == Round::kHalfToEven) {
    return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  } else if constexpr (M == Round::kTowardZero) {
    return _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  } else {
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));  // exact
    const __m256 away = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, sign));
    __m256 up;
    if constexpr (M == Round::kHalfAwayFromZero) {
      up = _mm256_cmp_ps(frac, half, _CMP_GE_OQ);
    } else {  // kHalfUp
      const __m256 nonneg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
      up = _mm256_or_ps(_mm256_cmp_ps(frac, half, _CMP_GT_OQ),
                        _mm256_and_ps(nonneg, _mm256_cmp_ps(frac, half, _CMP_EQ_OQ)));
    }
    return _mm256_add_ps(t, _mm256_and_ps(up, away));
  }
}

// kMultiply: c.scale holds the multiplier m and v = x * m; otherwise v = x / scale. A NaN v (NaN x, or inf * 0)
// becomes 0, i.e. the zero point.
template <Round M, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX2 inline __m256i quantize8(const float* x, const QuantConsts& c) {
  const __m256 xv = _mm256_loadu_ps(x);
  const __m256 q = kMultiply ? _mm256_mul_ps(xv, c.scale) : _mm256_div_ps(xv, c.scale);
  const __m256 v = _mm256_and_ps(q, _mm256_cmp_ps(q, q, _CMP_ORD_Q));  // NaN -> 0
  __m256 r = round_integral<M>(v);
  r = _mm256_min_ps(_mm256_max_ps(r, c.lo), c.hi);
  return _mm256_add_epi32(_mm256_cvttps_epi32(r), c.zero_point);
}

// Four vectors of int32 lanes inside T's range -> 32 bytes in element order. The saturating packs are plain
// narrowing here; the permute undoes the 128-bit lane split.
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 inline void store32(T* q, __m256i a, __m256i b, __m256i d, __m256i e) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i ab = _mm256_packs_epi32(a, b), de = _mm256_packs_epi32(d, e);
  const __m256i bytes = std::is_signed<T>::value ? _mm256_packs_epi16(ab, de) : _mm256_packus_epi16(ab, de);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permutevar8x32_epi32(bytes, order));
}

template <Round M, class T, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX2 inline void division_block32(const float* x, T* q, const QuantConsts& c) {
  store32(q, quantize8<M, kMultiply>(x, c), quantize8<M, kMultiply>(x + 8, c), quantize8<M, kMultiply>(x + 16, c),
          quantize8<M, kMultiply>(x + 24, c));
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX2 void multiply_loop(const float* x, std::size_t n, T* q, const QuantConsts& c,
                                              float multiplier, std::int32_t zero_point, QuantRange range) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) division_block32<M, T, true>(x + i, q + i, c);
  // The remainder by the reference itself (both multiply rules are x * multiplier).
  for (; i < n; ++i)
    q[i] = static_cast<T>(
        quantize_value_with(x[i], multiplier, zero_point, range, M, QuantizeRule::kMultiplyReciprocal));
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX2 void division_loop(const float* x, std::size_t n, T* q, const QuantConsts& c, QuantParams p,
                                              QuantRange range) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) division_block32<M>(x + i, q + i, c);
  // The remainder by quantize_value's formula (the reference itself).
  for (; i < n; ++i) q[i] = static_cast<T>(round_add_saturate(x[i] / p.scale, p.zero_point, range, M));
}

// The fast path's constants: r = RN(1 / scale), the clamp [lo', hi'] and the bit pattern of the check's bound 1/2 - m.
struct FastConsts {
  __m256 r, lo, hi;
  __m256i limit_bits, zero_point, magic_minus_zp;  // magic_minus_zp: 0x4B400000 - zero_point
};

using detail::fast_path_scale;

QMATH_QUANTIZE_TARGET_AVX2 inline FastConsts make_fast_consts(QuantParams p, QuantRange range) {
  const FastBounds b = fast_bounds(p, range);
  FastConsts c;
  c.r = _mm256_set1_ps(1.0f / p.scale);
  c.lo = _mm256_set1_ps(b.lo);
  c.hi = _mm256_set1_ps(b.hi);
  c.limit_bits = _mm256_castps_si256(_mm256_set1_ps(b.limit));
  c.zero_point = _mm256_set1_epi32(p.zero_point);
  c.magic_minus_zp = _mm256_set1_epi32(0x4B400000 - p.zero_point);
  return c;
}

// 8 lanes of the fast path: returns the quantized int32 lanes (right where the check passes) and stores in `dist` the
// bit pattern of |w - RNE(w)| (a non-negative float, or a NaN), where w is the clamped t for the nearest modes and
// max(|t|, 1/2) - 1/2 for toward zero.
template <bool kTowardZero>
QMATH_QUANTIZE_TARGET_AVX2 inline __m256i fast8(const float* x, const FastConsts& c, __m256i& dist) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_mul_ps(_mm256_loadu_ps(x), c.r);
  const __m256 tc = _mm256_min_ps(c.hi, _mm256_max_ps(c.lo, t));  // a NaN t stays NaN (second operand)
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  if constexpr (kTowardZero) {
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 w = _mm256_sub_ps(_mm256_max_ps(half, _mm256_andnot_ps(sign, tc)), half);  // exact
    dist = _mm256_castps_si256(_mm256_andnot_ps(sign, _mm256_sub_ps(w, _mm256_round_ps(w, kNearest))));
    return _mm256_add_epi32(_mm256_cvttps_epi32(tc), c.zero_point);
  } else {
    // y = tc + 1.5 * 2^23 lies in [2^23, 2^24), where the float spacing is 1: y = 1.5 * 2^23 + n exactly, n = RNE(tc)
    // (for a lane that passes the check tc is no tie, so the tie rule is moot). Then n = y - 1.5 * 2^23 exactly, and
    // the bit pattern of y is 0x4B400000 + n, so n + zero_point is one integer subtraction away.
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 y = _mm256_add_ps(tc, magic);
    dist = _mm256_castps_si256(_mm256_andnot_ps(sign, _mm256_sub_ps(tc, _mm256_sub_ps(y, magic))));  // exact
    return _mm256_sub_epi32(_mm256_castps_si256(y), c.magic_minus_zp);
  }
}

// 32 elements by the fast path; returns false (storing nothing) unless every lane passes the check.
template <bool kTowardZero, class T>
QMATH_QUANTIZE_TARGET_AVX2 inline bool fast_block32(const float* x, T* q, const FastConsts& c) {
  __m256i d0, d1, d2, d3;
  const __m256i a = fast8<kTowardZero>(x, c, d0);
  const __m256i b = fast8<kTowardZero>(x + 8, c, d1);
  const __m256i d = fast8<kTowardZero>(x + 16, c, d2);
  const __m256i e = fast8<kTowardZero>(x + 24, c, d3);
  // Non-negative floats order like their bit patterns as signed integers; a NaN pattern exceeds every finite one.
  const __m256i worst = _mm256_max_epi32(_mm256_max_epi32(d0, d1), _mm256_max_epi32(d2, d3));
  if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(c.limit_bits, worst)) != -1) return false;
  store32(q, a, b, d, e);
  return true;
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX2 void fast_loop(const float* x, std::size_t n, T* q, const QuantConsts& dc,
                                          const FastConsts& fc, QuantParams p, QuantRange range) {
  ProbeSchedule<127> schedule;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if (schedule.probe() && schedule.record(fast_block32<M == Round::kTowardZero>(x + i, q + i, fc))) continue;
    division_block32<M>(x + i, q + i, dc);
  }
  // The remainder by quantize_value's formula (the reference itself).
  for (; i < n; ++i) q[i] = static_cast<T>(round_add_saturate(x[i] / p.scale, p.zero_point, range, M));
}

// quantize_array for T = int8 / uint8 by the division kernel only (kept as the fallback and for benchmarks).
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 void quantize_division(const float* x, std::size_t n, T* q, QuantParams p,
                                                  QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(p, range);
  with_round(mode, [&](auto m) { division_loop<decltype(m)::value>(x, n, q, c, p, range); });
}

// quantize_array for T = int8 / uint8 under a multiply rule: v = x * multiplier (multiplier = rule_operand()).
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 void quantize_multiply(const float* x, std::size_t n, T* q, float multiplier,
                                                  std::int32_t zero_point, QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(QuantParams{multiplier, zero_point}, range);
  with_round(mode, [&](auto m) { multiply_loop<decltype(m)::value>(x, n, q, c, multiplier, zero_point, range); });
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller): the fast path with
// per-block division fallback.
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 void quantize(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range,
                                         Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  if (!fast_path_scale(p.scale)) return quantize_division(x, n, q, p, range, mode);
  const QuantConsts c = make_consts(p, range);
  const FastConsts f = make_fast_consts(p, range);
  with_round(mode, [&](auto m) { fast_loop<decltype(m)::value>(x, n, q, c, f, p, range); });
}

// dequantize_array for T = int8 / uint8: x = scale * float(q - zero_point), the lane body of
// detail/quantize_lanes-inl.hpp on the AVX2 lane backend (at least as fast as the hand-written loop it replaced;
// docs/simd.md).
template <class T>
inline void dequantize(const T* q, std::size_t n, float* x, QuantParams p) {
  lanes_avx2::dequantize_lanes(q, n, x, p);
}

}  // namespace avx2
}  // namespace detail
}  // namespace qmath

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

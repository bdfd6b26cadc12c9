// qmath/detail/quantize_avx512.hpp - AVX-512 kernels for quantize_array / dequantize_array (int8, uint8 outputs).
//
// Included by detail/quantize_simd.hpp only on x86 with GCC or Clang; every function carries its own target
// attribute, so no -mavx512f flag is needed and nothing here runs unless the CPU reports AVX-512 F/BW/VL/DQ.
// Semantics are those of the portable loops in quantize.hpp, bit for bit:
//   q = clamp(round(x / scale) + zero_point, qmin, qmax),  NaN -> zero_point,  +-inf saturate,
// where x / scale is the correctly rounded float32 quotient. Arithmetic uses embedded rounding ({rn-sae}) and
// explicit rounding immediates, so the results never depend on MXCSR's rounding-control field. (Flush-to-zero /
// denormals-are-zero, if a caller sets them, act on this code and on the portable loop's divss alike; a denormal
// quotient maps to 0 in every mode either way.)
//
// Two kernels:
//  * quantize_division(): the quotient by one vdivps per 16 lanes, rounding by vrndscaleps (half away from zero and
//    half up built exactly from trunc(v) and |v - trunc(v)|, as in round_to_integral()). Exact by construction, but
//    vdivps zmm issues once per ~10 cycles on Skylake / Cascade Lake, which bounds it near 1.6 elements per cycle.
//  * quantize_multiply(): the multiply rules (QuantizeRule::kMultiplyReciprocal, kMultiplyBoundOverAmax):
//    v = x * m by vmulps {rn-sae}, m = rule_operand() computed once by the caller, then quantize_division()'s
//    rounding, clamp and NaN handling (a NaN product, e.g. inf * 0, maps to the zero point). Exact by construction.
//  * quantize(): the fast path below, falling back to quantize_division() per 64-element block where it cannot
//    prove its result, and for the whole array when the scale is outside [2^-125, 2^125].
//
// Fast path. Let v = x / scale (exact real), Q = RN(v) the quotient the reference rounds, r = RN(1 / scale)
// (computed once; a normal float because scale is in [2^-125, 2^125]; any r with |r - 1/scale| <= u / scale would do)
// and t = RN(x * r), u = 2^-24. With r = (1 / scale)(1 + d1), t = x r (1 + d2), |d1|, |d2| <= u:
//   |t - v| <= |v| (2u + u^2),   |Q - v| <= |v| u,   so  |t - Q| <= |v| (3u + u^2)   (+ 2^-149 if t or Q is subnormal).
// The fast path clamps t to [lo', hi'] = [qmin - zp - 1/4, qmax - zp + 1/4] (a block with a NaN input is left to the
// division kernel), so on lanes that the clamp leaves alone |t| <= B = max(-lo', hi') <= 383.25 and
// |t - Q| <= B * 3u * (1 + 4u) + 2^-149 < B * 2^-22.4 < m := B * 2^-21 (margin > 2.6x).
// The integer a mode produces depends only on where the value lies relative to that mode's decision boundaries:
// the half-integers k + 1/2 for the three round-to-nearest modes, the non-zero integers for toward zero. If t's
// distance to the nearest boundary exceeds m, then t and Q lie strictly inside the same gap between boundaries,
// neither sits on a boundary, and round(t) == round(Q) in that mode; for the nearest modes there is then no tie, so
// half to even, half away from zero and half up all equal RNE(t), which is what the fast path computes for all three.
// Checks, exact in float: nearest modes |t - RNE(t)| < 1/2 - m (vreduceps gives t - RNE(t) exactly); toward zero,
// with w = max(|t|, 1/2) - 1/2 (exact), the same test on w (the integer boundaries k >= 1 of |t| are the
// half-integer boundaries of w, and |t| < 1/2 is at least 1/2 away from every non-zero integer).
// Lanes the clamp moved: if t > hi' (>= 1/4) then Q >= v (1 - u) >= t (1 - u) / (1 + u)^2 > t (1 - 3u)
// > hi' - 2^-13 > hi = qmax - zp, so round(Q) >= hi in every mode and the reference saturates to qmax; the fast path
// rounds (or truncates) hi' = hi + 1/4 to hi, the same, and hi' passes the check (it is at least 1/4 from every
// boundary). Symmetrically below lo'. This includes overflow: if x * r overflows to inf then |v| >= 2^127 and Q is
// huge or inf; if Q overflows then |x * r| > 2^127: either way both lie far beyond hi' (or below lo') and saturate
// alike. Infinite x gives t = Q = +-inf. Tiny quotients (|t| < 1/4, subnormal included) are 1/4 or more from every
// boundary and round to 0 both ways.
// A 64-element block is stored from the fast path only if all 64 lanes pass; otherwise it is recomputed by the
// division kernel. Random data rarely fails (probability 2m per lane: m = 2^-14 for int8 with zero point 0, about
// 0.8 % of blocks); inputs at or within m of ties (e.g. x = (k + 1/2) * scale exactly) fail every block: the loop
// then backs off (after a failed probe it runs 2^j - 1 further blocks, j <= 6, by division before probing again), so
// adversarial input runs at about the division kernel's speed (bench/quantize_bench.md).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

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

#define QMATH_QUANTIZE_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))

namespace qmath {
namespace detail {
namespace avx512 {

constexpr int kRn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

struct QuantConsts {
  __m512 scale, lo, hi;
  __m512i zero_point;
};

QMATH_QUANTIZE_TARGET_AVX512 inline QuantConsts make_consts(QuantParams p, QuantRange range) {
  QuantConsts c;
  c.scale = _mm512_set1_ps(p.scale);
  c.lo = _mm512_set1_ps(static_cast<float>(range.qmin - p.zero_point));
  c.hi = _mm512_set1_ps(static_cast<float>(range.qmax - p.zero_point));
  c.zero_point = _mm512_set1_epi32(p.zero_point);
  return c;
}

// round_to_integral(v, M), lane-wise and exact.
template <Round M>
QMATH_QUANTIZE_TARGET_AVX512 inline __m512 round_integral(__m512 v) {
  if constexpr (M == Round::kHalfToEven) {
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  } else if constexpr (M == Round::kTowardZero) {
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  } else {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 frac = _mm512_abs_ps(_mm512_sub_round_ps(v, t, kRn));  // exact
    const __m512 away = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(v, _mm512_set1_ps(-0.0f)));  // +-1
    __mmask16 up;
    if constexpr (M == Round::kHalfAwayFromZero) {
      up = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
    } else {  // kHalfUp: a tie moves away from zero only for v >= 0
      const __mmask16 nonneg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ);
      up = _mm512_cmp_ps_mask(frac, half, _CMP_GT_OQ) | _mm512_mask_cmp_ps_mask(nonneg, frac, half, _CMP_EQ_OQ);
    }
    return _mm512_mask_add_round_ps(t, up, t, away, kRn);
  }
}

// 16 quantized values as int32 lanes, already inside [qmin, qmax]. kMultiply: c.scale holds the multiplier m and
// v = x * m (a NaN product -> 0); otherwise v = x / scale.
template <Round M, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX512 inline __m512i quantize16(__m512 x, const QuantConsts& c) {
  __m512 v;
  if constexpr (kMultiply) {
    const __m512 t = _mm512_mul_round_ps(x, c.scale, kRn);
    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), t);
  } else {
    const __mmask16 ordered = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
    v = _mm512_maskz_div_round_ps(ordered, x, c.scale, kRn);  // x / scale; NaN -> 0
  }
  __m512 r = round_integral<M>(v);
  r = _mm512_min_ps(_mm512_max_ps(r, c.lo), c.hi);
  return _mm512_add_epi32(_mm512_cvttps_epi32(r), c.zero_point);
}

// Four vectors of int32 lanes inside T's range -> 64 bytes in element order (the packs interleave 128-bit lanes;
// the dword permutation undoes it). Cheaper than four vpmovdb.
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 inline void store_packed64(T* q, __m512i ab, __m512i cd) {  // ab, cd: packs_epi32 results
  const __m512i bytes = std::is_signed<T>::value ? _mm512_packs_epi16(ab, cd) : _mm512_packus_epi16(ab, cd);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(q, _mm512_permutexvar_epi32(order, bytes));
}

template <class T>
QMATH_QUANTIZE_TARGET_AVX512 inline void store64(T* q, __m512i a, __m512i b, __m512i c, __m512i d) {
  store_packed64(q, _mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
}

// 64 elements by the division kernel (kMultiply: the multiply kernel).
template <Round M, class T, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX512 inline void division_block64(const float* x, T* q, const QuantConsts& c) {
  store64(q, quantize16<M, kMultiply>(_mm512_loadu_ps(x), c), quantize16<M, kMultiply>(_mm512_loadu_ps(x + 16), c),
          quantize16<M, kMultiply>(_mm512_loadu_ps(x + 32), c), quantize16<M, kMultiply>(_mm512_loadu_ps(x + 48), c));
}

// The remainder (< 64 elements, or any n) by the division (kMultiply: multiply) kernel with masked loads and stores.
template <Round M, class T, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX512 void division_tail(const float* x, std::size_t n, T* q, const QuantConsts& c) {
  for (std::size_t i = 0; i < n; i += 16) {
    const std::size_t left = n - i;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    const __m512i v = quantize16<M, kMultiply>(_mm512_maskz_loadu_ps(m, x + i), c);
    _mm512_mask_cvtepi32_storeu_epi8(q + i, m, v);
  }
}

template <Round M, class T, bool kMultiply = false>
QMATH_QUANTIZE_TARGET_AVX512 void division_loop(const float* x, std::size_t n, T* q, const QuantConsts& c) {
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) division_block64<M, T, kMultiply>(x + i, q + i, c);
  division_tail<M, T, kMultiply>(x + i, n - i, q + i, c);
}

// The fast path's constants (header comment): r = RN(1 / scale), the clamp [lo', hi'] and the check's bound 1/2 - m.
struct FastConsts {
  __m512 r, lo, hi, limit;
  __m512i zero_point16;  // zero point in 16-bit lanes
};

using detail::fast_path_scale;

QMATH_QUANTIZE_TARGET_AVX512 inline FastConsts make_fast_consts(QuantParams p, QuantRange range) {
  const FastBounds b = fast_bounds(p, range);
  FastConsts c;
  // 1 / scale rounded to nearest independently of MXCSR (the bound holds for any |r - 1/scale| <= u / scale).
  c.r = _mm512_set1_ps(_mm_cvtss_f32(_mm_div_round_ss(_mm_set_ss(1.0f), _mm_set_ss(p.scale), kRn)));
  c.lo = _mm512_set1_ps(b.lo);
  c.hi = _mm512_set1_ps(b.hi);
  c.limit = _mm512_set1_ps(b.limit);
  c.zero_point16 = _mm512_set1_epi16(static_cast<short>(p.zero_point));
  return c;
}

// 16 lanes of the fast path: returns round(t) clamped to [qmin - zp, qmax - zp] as int32 (right where the check passes;
// the zero point is added after the first pack) and stores in `dist`
// w - RNE(w), where w is the clamped t for the nearest modes and max(|t|, 1/2) - 1/2 for toward zero.
template <bool kTowardZero>
QMATH_QUANTIZE_TARGET_AVX512 inline __m512i fast16(__m512 xv, const FastConsts& c, __m512& dist) {
  const __m512 t = _mm512_mul_round_ps(xv, c.r, kRn);
  const __m512 tc = _mm512_min_ps(_mm512_max_ps(t, c.lo), c.hi);
  constexpr int kReduceNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;  // w - RNE(w), exact
  if constexpr (kTowardZero) {
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512 w = _mm512_sub_round_ps(_mm512_range_ps(tc, half, 0x0B), half, kRn);  // max(|tc|, 1/2) - 1/2, exact
    dist = _mm512_reduce_ps(w, kReduceNearest);
    return _mm512_cvtt_roundps_epi32(tc, _MM_FROUND_NO_EXC);
  } else {
    dist = _mm512_reduce_ps(tc, kReduceNearest);
    return _mm512_cvt_roundps_epi32(tc, kRn);
  }
}

// 64 elements by the fast path; returns false (storing nothing) unless every lane passes the check.
template <bool kTowardZero, class T>
QMATH_QUANTIZE_TARGET_AVX512 inline bool fast_block64(const float* x, T* q, const FastConsts& c) {
  const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
  const __m512 x2 = _mm512_loadu_ps(x + 32), x3 = _mm512_loadu_ps(x + 48);
  // A NaN input sends the whole block to the division kernel (which maps it to the zero point): vrangeps below
  // returns the other operand when one is a quiet NaN, so NaN must not reach it unnoticed. Two compares cover 64 lanes.
  const __mmask16 nan = _mm512_cmp_ps_mask(x0, x1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(x2, x3, _CMP_UNORD_Q);
  __m512 d0, d1, d2, d3;
  const __m512i a = fast16<kTowardZero>(x0, c, d0);
  const __m512i b = fast16<kTowardZero>(x1, c, d1);
  const __m512i e = fast16<kTowardZero>(x2, c, d2);
  const __m512i f = fast16<kTowardZero>(x3, c, d3);
  // vrangeps imm 0x0B: max(|a|, |b|) with the sign cleared.
  const __m512 worst = _mm512_range_ps(_mm512_range_ps(d0, d1, 0x0B), _mm512_range_ps(d2, d3, 0x0B), 0x0B);
  if ((_mm512_cmp_ps_mask(worst, c.limit, _CMP_LT_OQ) & ~nan) != __mmask16(0xFFFF)) return false;
  // |round(t)| <= 383 fits int16, and round(t) + zp is inside [qmin, qmax]: add the zero point in 16-bit lanes.
  store_packed64(q, _mm512_add_epi16(_mm512_packs_epi32(a, b), c.zero_point16),
                 _mm512_add_epi16(_mm512_packs_epi32(e, f), c.zero_point16));
  return true;
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX512 void fast_loop(const float* x, std::size_t n, T* q, const QuantConsts& dc,
                                            const FastConsts& fc) {
  ProbeSchedule<63> schedule;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if (schedule.probe() && schedule.record(fast_block64<M == Round::kTowardZero>(x + i, q + i, fc))) continue;
    division_block64<M>(x + i, q + i, dc);
  }
  division_tail<M>(x + i, n - i, q + i, dc);
}

// quantize_array for T = int8 / uint8 by the division kernel only (kept as the fallback and for benchmarks).
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 void quantize_division(const float* x, std::size_t n, T* q, QuantParams p,
                                                    QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(p, range);
  with_round(mode, [&](auto m) { division_loop<decltype(m)::value>(x, n, q, c); });
}

// quantize_array for T = int8 / uint8 under a multiply rule: v = x * multiplier (multiplier = rule_operand()).
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 void quantize_multiply(const float* x, std::size_t n, T* q, float multiplier,
                                                    std::int32_t zero_point, QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(QuantParams{multiplier, zero_point}, range);
  with_round(mode, [&](auto m) { division_loop<decltype(m)::value, T, true>(x, n, q, c); });
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller): the fast path with
// per-block division fallback (header comment).
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 void quantize(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range,
                                           Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  if (!fast_path_scale(p.scale)) return quantize_division(x, n, q, p, range, mode);
  const QuantConsts c = make_consts(p, range);
  const FastConsts f = make_fast_consts(p, range);
  with_round(mode, [&](auto m) { fast_loop<decltype(m)::value>(x, n, q, c, f); });
}

template <class T>
QMATH_QUANTIZE_TARGET_AVX512 inline __m512 dequantize16(__m128i bytes, __m512 scale, __m512i zero_point) {
  const __m512i w = std::is_signed<T>::value ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
  return _mm512_mul_round_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(w, zero_point)), kRn);  // int -> float exact
}

// dequantize_array for T = int8 / uint8: x = scale * float(q - zero_point).
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 void dequantize(const T* q, std::size_t n, float* x, QuantParams p) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const __m512 scale = _mm512_set1_ps(p.scale);
  const __m512i zp = _mm512_set1_epi32(p.zero_point);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, dequantize16<T>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i)), scale, zp));
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(x + i, m, dequantize16<T>(_mm_maskz_loadu_epi8(m, q + i), scale, zp));
  }
}

}  // namespace avx512
}  // namespace detail
}  // namespace qmath

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// qmath/detail/quantize_avx512.hpp - AVX-512 kernels for quantize_array / dequantize_array (int8, uint8 outputs).
//
// Included by detail/quantize_simd.hpp only on x86 with GCC or Clang; every function carries its own target
// attribute, so no -mavx512f flag is needed and nothing here runs unless the CPU reports AVX-512 F/BW/VL/DQ.
// Semantics are those of the portable loops in quantize.hpp, bit for bit:
//   q = clamp(round(x / scale) + zero_point, qmin, qmax),  NaN -> zero_point,  +-inf saturate.
// Arithmetic uses embedded rounding ({rn-sae}) and vrndscaleps with an explicit mode, so the results never depend
// on MXCSR's rounding-control field. (Flush-to-zero / denormals-are-zero, if a caller sets them, act on this code
// and on the portable loop's divss alike; a denormal quotient maps to 0 in every mode either way.) Half away from zero and half up, which vrndscaleps lacks, are built exactly from trunc(v) and the
// exact fraction |v - trunc(v)|, as in round_to_integral().
//
// The quotient is one vdivps per 16 lanes ({rn-sae}: the correctly rounded float32 division). On Skylake / Cascade
// Lake vdivps zmm issues once per ~10 cycles, which bounds this loop near 1.6 elements per cycle; a Markstein
// reciprocal-and-FMA-correction quotient was measured slower on this hardware (more port pressure) and is not used.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

// GCC 12 reports a false -Wmaybe-uninitialized inside the AVX-512 intrinsics' own headers (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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

// 16 quantized values as int32 lanes, already inside [qmin, qmax].
template <Round M>
QMATH_QUANTIZE_TARGET_AVX512 inline __m512i quantize16(__m512 x, const QuantConsts& c) {
  const __mmask16 ordered = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
  const __m512 v = _mm512_maskz_div_round_ps(ordered, x, c.scale, kRn);  // x / scale; NaN -> 0
  __m512 r = round_integral<M>(v);
  r = _mm512_min_ps(_mm512_max_ps(r, c.lo), c.hi);
  return _mm512_add_epi32(_mm512_cvttps_epi32(r), c.zero_point);
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX512 void quantize_loop(const float* x, std::size_t n, T* q, const QuantConsts c) {
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i a = quantize16<M>(_mm512_loadu_ps(x + i), c);
    const __m512i b = quantize16<M>(_mm512_loadu_ps(x + i + 16), c);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(a));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i + 16), _mm512_cvtepi32_epi8(b));
  }
  for (; i < n; i += 16) {
    const std::size_t left = n - i;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    const __m512i v = quantize16<M>(_mm512_maskz_loadu_ps(m, x + i), c);
    _mm512_mask_cvtepi32_storeu_epi8(q + i, m, v);
  }
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller).
template <class T>
QMATH_QUANTIZE_TARGET_AVX512 void quantize(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(p, range);
  switch (mode) {
    case Round::kHalfAwayFromZero:
      return quantize_loop<Round::kHalfAwayFromZero>(x, n, q, c);
    case Round::kHalfUp:
      return quantize_loop<Round::kHalfUp>(x, n, q, c);
    case Round::kTowardZero:
      return quantize_loop<Round::kTowardZero>(x, n, q, c);
    case Round::kHalfToEven:
    default:
      return quantize_loop<Round::kHalfToEven>(x, n, q, c);
  }
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

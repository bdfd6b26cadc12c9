// qmath/detail/quantize_avx2.hpp - AVX2 kernels for quantize_array / dequantize_array (int8, uint8 outputs).
//
// Same semantics as quantize_avx512.hpp (read its header comment): the correctly rounded x / scale by vdivps; rounding
// with vroundps and an explicit mode (half away from zero and half up emulated exactly); clamp in float; NaN -> zero
// point. AVX2 has no embedded rounding, so the division uses MXCSR's rounding mode, which must be the default
// round-to-nearest, exactly as the portable loop's `x / scale` assumes. Main loop: 32 elements; the remainder
// (< 32 elements) runs the portable loop, which is the reference itself.
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

template <Round M>
QMATH_QUANTIZE_TARGET_AVX2 inline __m256i quantize8(const float* x, const QuantConsts& c) {
  const __m256 xv = _mm256_loadu_ps(x);
  const __m256 v = _mm256_and_ps(_mm256_div_ps(xv, c.scale), _mm256_cmp_ps(xv, xv, _CMP_ORD_Q));  // NaN -> 0
  __m256 r = round_integral<M>(v);
  r = _mm256_min_ps(_mm256_max_ps(r, c.lo), c.hi);
  return _mm256_add_epi32(_mm256_cvttps_epi32(r), c.zero_point);
}

template <Round M, class T>
QMATH_QUANTIZE_TARGET_AVX2 void quantize_loop(const float* x, std::size_t n, T* q, const QuantConsts c, QuantParams p,
                                     QuantRange range) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = quantize8<M>(x + i, c);
    const __m256i b = quantize8<M>(x + i + 8, c);
    const __m256i d = quantize8<M>(x + i + 16, c);
    const __m256i e = quantize8<M>(x + i + 24, c);
    // Values are inside T's range, so the saturating packs are plain narrowing; the permute undoes the lane split.
    const __m256i ab = _mm256_packs_epi32(a, b), de = _mm256_packs_epi32(d, e);
    const __m256i bytes = std::is_signed<T>::value ? _mm256_packs_epi16(ab, de) : _mm256_packus_epi16(ab, de);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(bytes, order));
  }
  for (; i < n; ++i) q[i] = static_cast<T>(round_add_saturate(x[i] / p.scale, p.zero_point, range, M));  // quantize_value
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller).
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 void quantize(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const QuantConsts c = make_consts(p, range);
  switch (mode) {
    case Round::kHalfAwayFromZero:
      return quantize_loop<Round::kHalfAwayFromZero>(x, n, q, c, p, range);
    case Round::kHalfUp:
      return quantize_loop<Round::kHalfUp>(x, n, q, c, p, range);
    case Round::kTowardZero:
      return quantize_loop<Round::kTowardZero>(x, n, q, c, p, range);
    case Round::kHalfToEven:
    default:
      return quantize_loop<Round::kHalfToEven>(x, n, q, c, p, range);
  }
}

// dequantize_array for T = int8 / uint8: x = scale * float(q - zero_point).
template <class T>
QMATH_QUANTIZE_TARGET_AVX2 void dequantize(const T* q, std::size_t n, float* x, QuantParams p) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const __m256 scale = _mm256_set1_ps(p.scale);
  const __m256i zp = _mm256_set1_epi32(p.zero_point);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
    const __m256i w = std::is_signed<T>::value ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
    _mm256_storeu_ps(x + i, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(w, zp))));
  }
  for (; i < n; ++i) x[i] = p.scale * static_cast<float>(static_cast<std::int32_t>(q[i]) - p.zero_point);
}

}  // namespace avx2
}  // namespace detail
}  // namespace qmath

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// qmath/detail/quantize_avx512.hpp - the AVX-512 kernel of dequantize_array (int8, uint8 inputs).
//
// Included by detail/quantize_simd.hpp only on x86 with GCC or Clang; every function carries its own target
// attribute, so no -mavx512f flag is needed and nothing here runs unless the CPU reports AVX-512 F/BW/VL/DQ.
// x = scale * float(q - zero_point) with the product rounded by {rn-sae}: the portable loop's value bit for bit;
// the remainder (< 16 elements) with masked loads and stores. quantize on AVX-512 is the lane body
// (detail/quantize_lanes-inl.hpp on lanes_avx512); this dequantize stays hand-written because no AVX-512 machine
// has measured the lane body's dequantize against it.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <qmath/qparams.hpp>

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

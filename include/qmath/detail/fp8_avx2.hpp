// qmath/detail/fp8_avx2.hpp - AVX2 kernel of the FP8 array quantization (fp8_quantize_array, per-axis rows).
//
// The same arithmetic as detail::minifloat_encode (the normative scalar reference), lane by lane in 32-bit integers:
// exponent and mantissa of the float32 quotient, the shift to the target's mantissa width (clamped at 25, where
// everything rounds to 0), ties to even from the discarded bits, one formula for normal and subnormal codes, then
// the overflow / Inf / NaN / FNUZ-zero rules as blends. x / scale is vdivps, correctly rounded under the default
// MXCSR rounding mode, as the scalar `x / scale`. 32 elements per iteration; the remainder runs the scalar loop.
// Compiled with a target attribute; callers resolve the path first (qmath/isa.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/detail/minifloat.hpp>
#include <qmath/detail/quantize_simd.hpp>

#if QMATH_X86_SIMD
#include <immintrin.h>

#define QMATH_FP8_TARGET_AVX2 __attribute__((target("avx2")))

namespace qmath {
namespace detail {
namespace fp8_avx2 {

struct EncodeConsts {
  __m256i emin, shift_base, bias_m1, max_code, nan_val, ov_code, zero, one, fnuz_nan;
  __m128i man_bits, width;
  bool fnuz, finite_only, saturate;
};

QMATH_FP8_TARGET_AVX2 inline EncodeConsts make_consts(MinifloatSpec f, bool saturate) {
  EncodeConsts c;
  c.emin = _mm256_set1_epi32(1 - f.bias);
  c.shift_base = _mm256_set1_epi32(23 - f.man_bits);
  c.bias_m1 = _mm256_set1_epi32(f.bias - 1);
  c.max_code = _mm256_set1_epi32(static_cast<int>(f.max_code));
  c.man_bits = _mm_cvtsi32_si128(f.man_bits);
  c.width = _mm_cvtsi32_si128(f.exp_bits + f.man_bits);
  c.zero = _mm256_setzero_si256();
  c.one = _mm256_set1_epi32(1);
  c.fnuz = f.specials == MinifloatSpecials::kFnuz;
  c.finite_only = f.specials == MinifloatSpecials::kFiniteOnly;
  c.saturate = saturate;
  c.fnuz_nan = _mm256_set1_epi32(1 << (f.exp_bits + f.man_bits));
  // Magnitude code of an overflow (sign added later) for the formats whose overflow keeps the sign.
  std::uint32_t ov = f.max_code;
  if (!saturate && f.specials == MinifloatSpecials::kIeee) ov = ((1u << f.exp_bits) - 1u) << f.man_bits;
  if (!saturate && f.specials == MinifloatSpecials::kNanAllOnes) ov = f.nan_code;
  c.ov_code = _mm256_set1_epi32(static_cast<int>(ov));
  c.nan_val = _mm256_set1_epi32(static_cast<int>(f.nan_code));
  return c;
}

// Eight float32 -> eight codes in int32 lanes (minifloat_encode's contract).
QMATH_FP8_TARGET_AVX2 inline __m256i encode8(__m256 x, const EncodeConsts& c) {
  const __m256i b = _mm256_castps_si256(x);
  const __m256i sign = _mm256_sll_epi32(_mm256_srli_epi32(b, 31), c.width);
  const __m256i a = _mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i field = _mm256_srli_epi32(a, 23);
  const __m256i is_sub = _mm256_cmpeq_epi32(field, c.zero);
  const __m256i m = _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0x7FFFFF)),
                                    _mm256_andnot_si256(is_sub, _mm256_set1_epi32(0x800000)));
  const __m256i e = _mm256_blendv_epi8(_mm256_sub_epi32(field, _mm256_set1_epi32(127)), _mm256_set1_epi32(-126),
                                       is_sub);
  const __m256i eff = _mm256_max_epi32(e, c.emin);
  const __m256i shift =
      _mm256_min_epi32(_mm256_add_epi32(c.shift_base, _mm256_sub_epi32(eff, e)), _mm256_set1_epi32(25));
  const __m256i kept = _mm256_srlv_epi32(m, shift);
  const __m256i rest = _mm256_and_si256(m, _mm256_sub_epi32(_mm256_sllv_epi32(c.one, shift), c.one));
  const __m256i half = _mm256_sllv_epi32(c.one, _mm256_sub_epi32(shift, c.one));
  const __m256i up = _mm256_or_si256(  // all-ones where the magnitude rounds up (values < 2^25: signed compares)
      _mm256_cmpgt_epi32(rest, half),
      _mm256_and_si256(_mm256_cmpeq_epi32(rest, half), _mm256_cmpeq_epi32(_mm256_and_si256(kept, c.one), c.one)));
  const __m256i code =
      _mm256_add_epi32(_mm256_sll_epi32(_mm256_add_epi32(eff, c.bias_m1), c.man_bits), _mm256_sub_epi32(kept, up));
  const __m256i is_nan = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7F800000));
  const __m256i is_inf = _mm256_cmpeq_epi32(a, _mm256_set1_epi32(0x7F800000));
  const __m256i over = _mm256_or_si256(_mm256_cmpgt_epi32(code, c.max_code), is_inf);

  __m256i res = _mm256_or_si256(sign, code);
  __m256i ov_val = _mm256_or_si256(sign, c.ov_code);
  __m256i nan_val = _mm256_or_si256(sign, c.nan_val);
  if (c.fnuz) {
    res = _mm256_blendv_epi8(res, c.zero, _mm256_cmpeq_epi32(code, c.zero));
    ov_val = c.saturate ? _mm256_blendv_epi8(_mm256_or_si256(sign, c.max_code), c.fnuz_nan, is_inf) : c.fnuz_nan;
    nan_val = c.fnuz_nan;
  } else if (c.finite_only) {
    ov_val = _mm256_or_si256(sign, c.max_code);
    nan_val = c.zero;
  }
  res = _mm256_blendv_epi8(res, ov_val, over);
  return _mm256_blendv_epi8(res, nan_val, is_nan);
}

// q[i] = minifloat_quantize(x[i], scale, f, saturate) for i < n (vdivps keeps an input NaN, as that function).
QMATH_FP8_TARGET_AVX2 inline void quantize(const float* x, std::size_t n, std::uint8_t* q, float scale,
                                           MinifloatSpec f, bool saturate) {
  const EncodeConsts c = make_consts(f, saturate);
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v0 = encode8(_mm256_div_ps(_mm256_loadu_ps(x + i), s), c);
    const __m256i v1 = encode8(_mm256_div_ps(_mm256_loadu_ps(x + i + 8), s), c);
    const __m256i v2 = encode8(_mm256_div_ps(_mm256_loadu_ps(x + i + 16), s), c);
    const __m256i v3 = encode8(_mm256_div_ps(_mm256_loadu_ps(x + i + 24), s), c);
    const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(v0, v1), _mm256_packus_epi32(v2, v3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(p, order));
  }
  for (; i < n; ++i) q[i] = minifloat_quantize(x[i], scale, f, saturate);
}

}  // namespace fp8_avx2
}  // namespace detail
}  // namespace qmath
#endif  // QMATH_X86_SIMD

// qmath/cpu/detail/kernel_avx2.hpp - AVX2 micro-kernels and vectorised epilogue.
//
// kernel_avx2 (exact for every input): A' packed as int16, B' widened to int16 once at packing (BPackLayout::kInt16K2),
// VPMADDWD of a broadcast A' pair (k, k+1) with 8 columns x 2 k of B' gives per column A'0 B'0 + A'1 B'1 (at most
// 2 * 255 * 128 in magnitude: no overflow), added to int32 accumulators with wrapping VPADDD like the scalar kernel.
// Micro-tile 6 rows x 16 columns: 12 ymm accumulators, 2 B' loads and 6 A' broadcasts (VPBROADCASTD from memory)
// per k pair, 2 free registers; the kMr x kNr tile is swept as 2 x 2 micro-tiles. Each int32 lane is one column,
// so the tile is stored without a horizontal reduction.
//
// kernel_avx2_maddubs (exact only for a B whose packed pairs satisfy pairs_fit_int16, checked when B is packed):
// uint8 A', int8 B' in BPackLayout::kInt8K4; VPMADDUBSW gives the int16 pair sums A'0 B'0 + A'1 B'1 (never saturated
// under that bound), VPMADDWD with ones adds the two pairs of a 4-k group into int32. Same 6 x 16 micro-tile.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/cpu/detail/pack.hpp>
#include <qmath/epilogue.hpp>

#if QMATH_CPU_X86

#define QMATH_TARGET_AVX2 __attribute__((target("avx2,fma")))
// Lambdas inside a target function do not inherit its target (GCC); they need the attribute too.
#define QMATH_TARGET_AVX2_LAMBDA __attribute__((target("avx2,fma")))

namespace qmath {
namespace cpu {
namespace detail {

// Stores (or adds to) R rows x 16 columns of the int32 tile (row stride kNr).
template <int R>
QMATH_TARGET_AVX2 inline void store_tile_avx2(const __m256i (&acc)[R][2], std::int32_t* tile, bool accumulate) {
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) {
    QMATH_UNROLL
    for (int h = 0; h < 2; ++h) {
      __m256i* dst = reinterpret_cast<__m256i*>(tile + r * kNr + 8 * h);
      __m256i v = acc[r][h];
      if (accumulate) v = _mm256_add_epi32(v, _mm256_loadu_si256(dst));
      _mm256_storeu_si256(dst, v);
    }
  }
}

// Keeps the R x 2 accumulators in registers across loop iterations: without it GCC reassociates the int32 adds of a
// k group (legal for integers) and spills the accumulators to the stack.
template <int R>
QMATH_TARGET_AVX2 inline void pin_accumulators_avx2(__m256i (&acc)[R][2]) {
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) __asm__("" : "+x"(acc[r][0]), "+x"(acc[r][1]));
}

QMATH_TARGET_AVX2 inline __m256i broadcast32_avx2(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// R rows x 16 columns, int16 A' (packed A panel from row r0) and int16 B' (kInt16K2, from column c0).
template <int R>
QMATH_TARGET_AVX2 inline void kernel_avx2_int16_rows(int kgroups, const std::int16_t* a, const std::int16_t* b,
                                                     std::int32_t* tile, bool accumulate) {
  __m256i acc[R][2];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int g = 0; g < kgroups; ++g) {
    QMATH_UNROLL
    for (int t = 0; t < 2; ++t) {  // k pairs 2g, 2g + 1 of the group
      const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + t * (2 * kNr)));
      const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + t * (2 * kNr) + 16));
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m256i va = broadcast32_avx2(a + r * kKGroup + 2 * t);
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(va, b0));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(va, b1));
      }
      pin_accumulators_avx2<R>(acc);
    }
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  store_tile_avx2<R>(acc, tile, accumulate);
}

// R rows x 16 columns, uint8 A' and int8 B' (kInt8K4, from column c0); exact only under pairs_fit_int16.
template <int R>
QMATH_TARGET_AVX2 inline void kernel_avx2_maddubs_rows(int kgroups, const std::uint8_t* a, const std::int8_t* b,
                                                       std::int32_t* tile, bool accumulate) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[R][2];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int g = 0; g < kgroups; ++g) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32));
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256i va = broadcast32_avx2(a + r * kKGroup);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(va, b0), ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(va, b1), ones));
    }
    pin_accumulators_avx2<R>(acc);
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  store_tile_avx2<R>(acc, tile, accumulate);
}

// Sweeps the rows x kNr tile in micro-tiles of up to 6 rows x 16 columns, the rows split evenly over
// ceil(rows / 6) micro-tiles (8 = 4 + 4, not 6 + 2: micro-tiles of 4 to 6 rows run at one rate, those of 1 to 3 rows
// slower). AE: packed A element; BE: packed B element (int16 for kInt16K2, int8 for kInt8K4); c_step: B elements
// from one 16-column half to the next.
template <class AE, class BE, template <int> class Rows>
QMATH_TARGET_AVX2 inline void sweep_tile_avx2(int rows, int kgroups, const void* a_panel, const std::int8_t* b_bytes,
                                              std::int32_t* tile, bool accumulate) {
  const AE* a = static_cast<const AE*>(a_panel);
  const BE* b = reinterpret_cast<const BE*>(b_bytes);
  constexpr int c_step = sizeof(BE) == 2 ? 2 * 16 : kKGroup * 16;
  const int tiles = ceil_div(rows, 6);
  for (int c = 0; c < 2; ++c)
    for (int i = 0, r0 = 0; i < tiles; ++i) {
      const int n = (rows - r0) / (tiles - i);  // micro-tile i of the even split: rows - r0 over the tiles left
      const AE* ar = a + r0 * kKGroup;
      const BE* bc = b + c * c_step;
      std::int32_t* t = tile + r0 * kNr + 16 * c;
      r0 += n;
      switch (n) {
        case 1: Rows<1>::run(kgroups, ar, bc, t, accumulate); break;
        case 2: Rows<2>::run(kgroups, ar, bc, t, accumulate); break;
        case 3: Rows<3>::run(kgroups, ar, bc, t, accumulate); break;
        case 4: Rows<4>::run(kgroups, ar, bc, t, accumulate); break;
        case 5: Rows<5>::run(kgroups, ar, bc, t, accumulate); break;
        default: Rows<6>::run(kgroups, ar, bc, t, accumulate); break;
      }
    }
}

template <int R>
struct Int16Rows {
  QMATH_TARGET_AVX2 static void run(int kgroups, const std::int16_t* a, const std::int16_t* b, std::int32_t* tile,
                                    bool accumulate) {
    kernel_avx2_int16_rows<R>(kgroups, a, b, tile, accumulate);
  }
};
template <int R>
struct MaddubsRows {
  QMATH_TARGET_AVX2 static void run(int kgroups, const std::uint8_t* a, const std::int8_t* b, std::int32_t* tile,
                                    bool accumulate) {
    kernel_avx2_maddubs_rows<R>(kgroups, a, b, tile, accumulate);
  }
};

// KernelFn of the exact AVX2 path: int16 A' panel, kInt16K2 B' panel (passed as bytes).
QMATH_TARGET_AVX2 inline void kernel_avx2(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                          std::int32_t* tile, bool accumulate) {
  sweep_tile_avx2<std::int16_t, std::int16_t, Int16Rows>(rows, kgroups, a_panel, b, tile, accumulate);
}

// KernelFn of the VPMADDUBSW path: uint8 A' panel, kInt8K4 B' panel satisfying pairs_fit_int16.
QMATH_TARGET_AVX2 inline void kernel_avx2_maddubs(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                  std::int32_t* tile, bool accumulate) {
  sweep_tile_avx2<std::uint8_t, std::int8_t, MaddubsRows>(rows, kgroups, a_panel, b, tile, accumulate);
}

// PackAFn of the exact AVX2 path: pack_a_panel<std::int16_t, TA> (same layout, zero padding and row sums), 16 k of
// two rows at a time: A' bytes (sign bit flipped for int8 A) zero-extended to int16 with VPMOVZXBW, the two rows'
// 4-k groups interleaved with VPUNPCK{L,H}QDQ (rows r, r + 1 of a group are 16 contiguous bytes of the panel), row
// sums with VPSADBW. The k tail (K mod 16) is packed by the scalar loop.
template <class TA>
QMATH_TARGET_AVX2 inline void pack_a_panel_int16_avx2(int rows, int k, const TA* a, std::int64_t lda,
                                                      std::int16_t* dst, std::int32_t* row_sum) {
  constexpr int kGroupElems = kMr * kKGroup;  // 48 int16 per group
  const int kgroups = ceil_div(k, kKGroup), kvec = k / 16;
  std::memset(dst, 0, sizeof(std::int16_t) * std::size_t(kgroups) * kGroupElems);
  const __m128i flip = _mm_set1_epi8(a_offset<TA>() ? static_cast<char>(0x80) : 0);
  const __m128i zero = _mm_setzero_si128();
  for (int r = 0; r < rows; r += 2) {
    const bool pair = r + 1 < rows;
    const TA* src0 = a + std::int64_t(r) * lda;
    const TA* src1 = pair ? src0 + lda : src0;
    __m128i sum0 = zero, sum1 = zero;
    for (int v = 0; v < kvec; ++v) {
      const __m128i x0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src0 + 16 * v)), flip);
      __m128i x1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src1 + 16 * v)), flip);
      if (!pair) x1 = zero;
      sum0 = _mm_add_epi64(sum0, _mm_sad_epu8(x0, zero));
      sum1 = _mm_add_epi64(sum1, _mm_sad_epu8(x1, zero));
      const __m256i w0 = _mm256_cvtepu8_epi16(x0), w1 = _mm256_cvtepu8_epi16(x1);
      // lo: groups 4v and 4v + 2 of rows r, r + 1; hi: groups 4v + 1 and 4v + 3.
      const __m256i lo = _mm256_unpacklo_epi64(w0, w1), hi = _mm256_unpackhi_epi64(w0, w1);
      std::int16_t* out = dst + std::size_t(4 * v) * kGroupElems + r * kKGroup;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(lo));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kGroupElems), _mm256_castsi256_si128(hi));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * kGroupElems), _mm256_extracti128_si256(lo, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * kGroupElems), _mm256_extracti128_si256(hi, 1));
    }
    // The k tail, and the 64-bit halves of the byte sums (at most K * 255 each: no overflow).
    for (int i = 0; i < (pair ? 2 : 1); ++i) {
      const TA* src = i ? src1 : src0;
      const __m128i s = i ? sum1 : sum0;
      std::int64_t sum = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
      std::int16_t* out = dst + (r + i) * kKGroup;
      for (int kk = 16 * kvec; kk < k; ++kk) {
        const std::int16_t v = static_cast<std::int16_t>(a_prime(src[kk]));
        out[(kk / kKGroup) * kGroupElems + kk % kKGroup] = v;
        sum += v;
      }
      row_sum[r + i] = static_cast<std::int32_t>(sum);
    }
  }
  for (int r = rows; r < kMr; ++r) row_sum[r] = 0;
}

// 8-lane multiply_by_quantized_multiplier_avx512 (same contract and argument). AVX2 has no 64-bit arithmetic shift,
// min or max: the single-rounding shift is floor(v / 2^t) = ~(~v >> t) for v < 0 (logical shifts of non-negative
// values), and the int64 -> int32 saturation uses 64-bit compares and blends.
QMATH_TARGET_AVX2 inline __m256i multiply_by_quantized_multiplier_avx2(__m256i x, __m256i m, __m256i shift,
                                                                      FixedPointRounding rounding) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i x_odd = _mm256_srli_epi64(x, 32);
  const __m256i m_odd = _mm256_srli_epi64(m, 32);
  if (rounding == FixedPointRounding::kSingleRounding) {
    const __m256i total = _mm256_sub_epi32(_mm256_set1_epi32(31), shift);  // [1, 62]
    const __m256i one64 = _mm256_set1_epi64x(1);
    const __m256i lo = _mm256_set1_epi64x(INT32_MIN), hi = _mm256_set1_epi64x(INT32_MAX);
    auto half = [&](__m256i xs, __m256i ms, __m256i t) QMATH_TARGET_AVX2_LAMBDA {
      const __m256i round = _mm256_sllv_epi64(one64, _mm256_sub_epi64(t, one64));
      const __m256i v = _mm256_add_epi64(_mm256_mul_epi32(xs, ms), round);
      const __m256i sign = _mm256_cmpgt_epi64(zero, v);
      __m256i r = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), t), sign);
      r = _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
      return _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
    };
    const __m256i even = half(x, m, _mm256_and_si256(total, _mm256_set1_epi64x(0xFFFFFFFF)));
    const __m256i odd = half(x_odd, m_odd, _mm256_srli_epi64(total, 32));
    return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  }
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i left = _mm256_max_epi32(shift, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
  __m256i s = _mm256_sllv_epi32(x, left);
  const __m256i overflow = _mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_srav_epi32(s, left), x), _mm256_set1_epi32(-1));
  s = _mm256_blendv_epi8(s, _mm256_xor_si256(_mm256_srai_epi32(x, 31), _mm256_set1_epi32(INT32_MAX)), overflow);
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t(1) << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(s, m), nudge);
  const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(s, 32), m_odd), nudge);
  const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(high, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(high, 31));
  const __m256i up = _mm256_cmpgt_epi32(remainder, threshold);  // -1 where rounding up
  return _mm256_sub_epi32(_mm256_srav_epi32(high, right), up);
}

// round_add_saturate for 8 float lanes x that are already integers (rounded), for an int32 output: x plus the zero
// point, clamped to [qmin, qmax]. AVX2 has no float -> int64 conversion, so the sum is formed in double: exact
// wherever it can land inside [qmin, qmax] (|x| <= 2^33), and far outside it otherwise; an infinity from an
// overflowing product stays infinite and clamps. (The scalar rule's +-2^32 limit only protects its int64
// conversion and changes no result.) Scales are finite (validate_epilogue), so no lane is NaN.
QMATH_TARGET_AVX2 inline __m128i add_zero_point_saturate4_avx2(__m128 x, __m256d zero_point, __m256d qmin,
                                                               __m256d qmax) {
  const __m256d d = _mm256_add_pd(_mm256_cvtps_pd(x), zero_point);
  return _mm256_cvtpd_epi32(_mm256_min_pd(_mm256_max_pd(d, qmin), qmax));  // an exact int32 value: no rounding
}
QMATH_TARGET_AVX2 inline __m256i add_zero_point_saturate_avx2(__m256 x, std::int32_t zero_point, std::int32_t qmin,
                                                              std::int32_t qmax) {
  const __m256d zp = _mm256_set1_pd(zero_point), lo = _mm256_set1_pd(qmin), hi = _mm256_set1_pd(qmax);
  return _mm256_setr_m128i(add_zero_point_saturate4_avx2(_mm256_castps256_ps128(x), zp, lo, hi),
                           add_zero_point_saturate4_avx2(_mm256_extractf128_ps(x, 1), zp, lo, hi));
}

// 8-lane equivalent of epilogue_avx512 (same bit-exactness argument). The int32 -> float conversion and the
// multiply follow MXCSR as the scalar C++ code does (round to nearest even by default); rounding to an integer is
// explicit (VROUNDPS imm 8). A tail of fewer than 8 columns runs epilogue_scalar.
// kStream: 8-lane chunks of 4-byte outputs (int32, float) whose address is 32-byte aligned are written with
// non-temporal stores (VMOVNTDQ / VMOVNTPS); the caller issues _mm_sfence() before C is published.
template <class TC, bool kStream = false>
QMATH_TARGET_AVX2 inline void epilogue_avx2(const Epilogue& e, const std::int32_t* dot, int ld,
                                            const std::int32_t* row_comp, int rows, const std::int32_t* col_comp,
                                            int n0, int cols, TC* out, std::int64_t ldc) {
  constexpr bool kFloatOut = std::is_same<TC, float>::value;
  constexpr bool kInt32Out = std::is_same<TC, std::int32_t>::value;
  const bool scaled = e.scaling() == Scaling::kFloatMultiplier;
  const bool fixed = e.scaling() == Scaling::kFixedPointMultiplier;
  const __m256 scale_all = _mm256_set1_ps(scaled ? e.float_multipliers()[0] : 1.0f);
  const __m256i multiplier_all = _mm256_set1_epi32(fixed ? e.fixed_point_multipliers()[0] : 0);
  const __m256i shift_all = _mm256_set1_epi32(fixed ? e.shifts()[0] : 0);
  const OutputBounds ob = output_bounds<typename std::conditional<kFloatOut, std::int32_t, TC>::type>(e);
  for (int r = 0; r < rows; ++r) {
    const __m256i rc = _mm256_set1_epi32(row_comp[r]);
    const std::int32_t* drow = dot + std::int64_t(r) * ld;
    TC* orow = out + std::int64_t(r) * ldc;
    int j = 0;
    for (; j + 8 <= cols; j += 8) {
      const bool stream_chunk = kStream && (reinterpret_cast<std::uintptr_t>(orow + j) & 31) == 0;
      __m256i v = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(drow + j)), rc);
      v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col_comp + j)));
      if (e.bias()) {
        const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.bias() + n0 + j));
        const __m256i s = _mm256_add_epi32(v, bias);
        const __m256i overflow =
            _mm256_srai_epi32(_mm256_and_si256(_mm256_xor_si256(v, s), _mm256_xor_si256(bias, s)), 31);
        const __m256i sat = _mm256_xor_si256(_mm256_srai_epi32(v, 31), _mm256_set1_epi32(INT32_MAX));
        v = _mm256_blendv_epi8(s, sat, overflow);
      }
      __m256 sc = scale_all;
      if (scaled && e.per_channel()) sc = _mm256_loadu_ps(e.float_multipliers() + n0 + j);
      if constexpr (kFloatOut) {
        __m256 y = _mm256_cvtepi32_ps(v);
        if (scaled) y = _mm256_mul_ps(y, sc);
        const __m256 lo = _mm256_set1_ps(e.float_clamp_min()), hi = _mm256_set1_ps(e.float_clamp_max());
        y = _mm256_blendv_ps(y, lo, _mm256_cmp_ps(y, lo, _CMP_LT_OQ));
        y = _mm256_blendv_ps(y, hi, _mm256_cmp_ps(y, hi, _CMP_GT_OQ));
        if (stream_chunk)
          _mm256_stream_ps(orow + j, y);
        else
          _mm256_storeu_ps(orow + j, y);
      } else {
        if (scaled) {
          const std::int32_t zp = e.output_zero_point();
          __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(v), sc);
          x = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
          if constexpr (kInt32Out) {
            v = add_zero_point_saturate_avx2(x, zp, ob.qmin, ob.qmax);
          } else {
            x = _mm256_max_ps(x, _mm256_set1_ps(static_cast<float>(ob.lo)));  // int8 / uint8: exact floats
            x = _mm256_min_ps(x, _mm256_set1_ps(static_cast<float>(ob.hi)));
            v = _mm256_add_epi32(_mm256_cvttps_epi32(x), _mm256_set1_epi32(zp));
          }
        } else if (fixed) {
          __m256i mul = multiplier_all, sh = shift_all;
          if (e.per_channel()) {
            mul = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.fixed_point_multipliers() + n0 + j));
            sh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(e.shifts() + n0 + j));
          }
          v = multiply_by_quantized_multiplier_avx2(v, mul, sh, e.rounding());
          v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(ob.lo)), _mm256_set1_epi32(ob.hi));
          v = _mm256_add_epi32(v, _mm256_set1_epi32(e.output_zero_point()));
        } else {
          v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(ob.qmin)), _mm256_set1_epi32(ob.qmax));
        }
        if constexpr (kInt32Out) {
          if (stream_chunk)
            _mm256_stream_si256(reinterpret_cast<__m256i*>(orow + j), v);
          else
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(orow + j), v);
        } else {
          alignas(32) std::int32_t q[8];
          _mm256_store_si256(reinterpret_cast<__m256i*>(q), v);
          for (int i = 0; i < 8; ++i) orow[j + i] = static_cast<TC>(q[i]);
        }
      }
    }
    if (j < cols) epilogue_scalar<TC>(e, drow + j, ld, row_comp + r, 1, col_comp + j, n0 + j, cols - j, orow + j, ldc);
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_X86

// qmath/cpu/detail/kernel_avx512vnni.hpp - AVX-512 VNNI micro-kernel (512-bit VPDPBUSD) and vectorised epilogue.
//
// Micro-tile: up to kMr = 12 rows x kNr = 32 columns of int32 accumulators in 24 zmm registers. Per group of 4 k:
// two 64-byte loads of packed B (16 columns x 4 k each), one 4-byte broadcast of A' per row, 2 VPDPBUSD per row.
// VPDPBUSD (not the saturating VPDPBUSDS) wraps modulo 2^32 like the scalar kernel.
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

#define QMATH_TARGET_AVX512VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
// Lambdas inside a target function do not inherit its target (GCC); they need the attribute too.
#define QMATH_TARGET_AVX512VNNI_LAMBDA __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

namespace qmath {
namespace cpu {
namespace detail {

// Row counts up to kStreamRows prefetch all of B's lines kStreamPrefetchBytes ahead (see the loop).
constexpr int kStreamRows = 4;
constexpr int kStreamPrefetchBytes = 8192;

// U independent accumulator sets over consecutive groups: with few rows, one set would leave only 2R VPDPBUSD
// chains in flight, fewer than latency (5) x throughput (2) needs; the sets are added (wrapping) at the end.
template <int R, int U = (R <= 2 ? 4 : (R <= 5 ? 2 : 1))>
QMATH_TARGET_AVX512VNNI inline void kernel_avx512vnni_rows(int kgroups, const std::uint8_t* a, const std::int8_t* b,
                                                           std::int32_t* tile, bool accumulate) {
  __m512i c0[U][R], c1[U][R];
  QMATH_UNROLL
  for (int u = 0; u < U; ++u) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[u][r] = _mm512_setzero_si512();
      c1[u][r] = _mm512_setzero_si512();
    }
  }
  auto step = [&](int u, const std::uint8_t* ag, const std::int8_t* bg) QMATH_TARGET_AVX512VNNI_LAMBDA {
    const __m512i b0 = _mm512_load_si512(static_cast<const void*>(bg));
    const __m512i b1 = _mm512_load_si512(static_cast<const void*>(bg + 64));
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      std::int32_t a4;
      std::memcpy(&a4, ag + r * kKGroup, sizeof(a4));
      const __m512i va = _mm512_set1_epi32(a4);
      c0[u][r] = _mm512_dpbusd_epi32(c0[u][r], va, b0);
      c1[u][r] = _mm512_dpbusd_epi32(c1[u][r], va, b1);
    }
  };
  int g = 0;
  for (; g + U <= kgroups; g += U) {
    if (R <= kStreamRows) {
      // Few rows: B streams from L3 / DRAM (GEMV-like shapes) faster than the hardware prefetcher alone fetches it;
      // every line is prefetched kStreamPrefetchBytes ahead (the measurement behind the distance: docs/cpu-gemm.md).
      QMATH_UNROLL
      for (int u = 0; u < 2 * U; ++u) prefetch_l1(b, kStreamPrefetchBytes + 64 * u);
    } else {
      prefetch_l1(b, 8 * kNr * kKGroup);
    }
    QMATH_UNROLL
    for (int u = 0; u < U; ++u) step(u, a + u * kMr * kKGroup, b + u * kNr * kKGroup);
    a += U * kMr * kKGroup;
    b += U * kNr * kKGroup;
  }
  for (; g < kgroups; ++g) {
    step(0, a, b);
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  QMATH_UNROLL
  for (int u = 1; u < U; ++u) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[0][r] = _mm512_add_epi32(c0[0][r], c0[u][r]);
      c1[0][r] = _mm512_add_epi32(c1[0][r], c1[u][r]);
    }
  }
  if (accumulate) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[0][r] = _mm512_add_epi32(c0[0][r], _mm512_loadu_si512(static_cast<const void*>(tile + r * kNr)));
      c1[0][r] = _mm512_add_epi32(c1[0][r], _mm512_loadu_si512(static_cast<const void*>(tile + r * kNr + 16)));
    }
  }
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(static_cast<void*>(tile + r * kNr), c0[0][r]);
    _mm512_storeu_si512(static_cast<void*>(tile + r * kNr + 16), c1[0][r]);
  }
}

QMATH_TARGET_AVX512VNNI inline void kernel_avx512vnni(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                      std::int32_t* tile, bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  switch (rows) {
    case 1: return kernel_avx512vnni_rows<1>(kgroups, a, b, tile, accumulate);
    case 2: return kernel_avx512vnni_rows<2>(kgroups, a, b, tile, accumulate);
    case 3: return kernel_avx512vnni_rows<3>(kgroups, a, b, tile, accumulate);
    case 4: return kernel_avx512vnni_rows<4>(kgroups, a, b, tile, accumulate);
    case 5: return kernel_avx512vnni_rows<5>(kgroups, a, b, tile, accumulate);
    case 6: return kernel_avx512vnni_rows<6>(kgroups, a, b, tile, accumulate);
    case 7: return kernel_avx512vnni_rows<7>(kgroups, a, b, tile, accumulate);
    case 8: return kernel_avx512vnni_rows<8>(kgroups, a, b, tile, accumulate);
    case 9: return kernel_avx512vnni_rows<9>(kgroups, a, b, tile, accumulate);
    case 10: return kernel_avx512vnni_rows<10>(kgroups, a, b, tile, accumulate);
    case 11: return kernel_avx512vnni_rows<11>(kgroups, a, b, tile, accumulate);
    default: return kernel_avx512vnni_rows<12>(kgroups, a, b, tile, accumulate);
  }
}

// pack_a_panel<uint8_t> with AVX-512 (same layout, same row sums): 64 k of 4 rows at a time are loaded, flipped
// (int8 -> A' = a + 128), 4x4-transposed as 32-bit groups within each 128-bit lane, and stored as 16-byte runs (the
// 4 rows of one group are contiguous in the panel); row sums come from VPSADBW. Groups past the last full 64 k are
// packed by the scalar code.
template <class TA>
QMATH_TARGET_AVX512VNNI inline void pack_a_panel_avx512(int rows, int k, const TA* a, std::int64_t lda,
                                                        std::uint8_t* dst, std::int32_t* row_sum) {
  constexpr int kGroupBytes = kMr * kKGroup;  // 48
  const int kgroups = ceil_div(k, kKGroup), kvec = k / 64;
  const __m512i flip = _mm512_set1_epi8(a_offset<TA>() ? static_cast<char>(0x80) : 0);
  const __m512i zero = _mm512_setzero_si512();
  // All-true masks: the maskz forms avoid GCC 12's -Wmaybe-uninitialized on the unmasked intrinsics (see below).
  const __mmask16 kAll16 = 0xFFFF;
  const __mmask8 kAll8 = 0xFF, kAll4 = 0xF;
  std::int64_t sums[kMr] = {};
  for (int q = 0; q < kMr / 4; ++q) {
    __m512i sum4[4] = {zero, zero, zero, zero};
    for (int v = 0; v < kvec; ++v) {
      __m512i x[4];
      for (int i = 0; i < 4; ++i) {
        const int r = 4 * q + i;
        if (r < rows) {
          x[i] = _mm512_xor_si512(_mm512_loadu_si512(static_cast<const void*>(a + r * lda + 64 * v)), flip);
          // The same bytes of the next panel's row (a hint: never faults, even past the end of A).
          _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(a + r * lda + 64 * v) +
                                                     std::uintptr_t(kMr * lda * std::int64_t(sizeof(TA)))),
                       _MM_HINT_T0);
          sum4[i] = _mm512_add_epi64(sum4[i], _mm512_sad_epu8(x[i], zero));
        } else {
          x[i] = zero;
        }
      }
      const __m512i t0 = _mm512_maskz_unpacklo_epi32(kAll16, x[0], x[1]),
                    t1 = _mm512_maskz_unpackhi_epi32(kAll16, x[0], x[1]);
      const __m512i t2 = _mm512_maskz_unpacklo_epi32(kAll16, x[2], x[3]),
                    t3 = _mm512_maskz_unpackhi_epi32(kAll16, x[2], x[3]);
      const __m512i u[4] = {_mm512_maskz_unpacklo_epi64(kAll8, t0, t2), _mm512_maskz_unpackhi_epi64(kAll8, t0, t2),
                            _mm512_maskz_unpacklo_epi64(kAll8, t1, t3), _mm512_maskz_unpackhi_epi64(kAll8, t1, t3)};
      std::uint8_t* out = dst + std::size_t(16 * v) * kGroupBytes + 16 * q;
      // Lane l of u[i] holds rows 4q..4q+3 of group 4l + i.
      for (int i = 0; i < 4; ++i) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (0 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (4 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (8 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 2));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (12 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 3));
      }
    }
    for (int i = 0; i < 4; ++i) {
      alignas(64) std::int64_t lanes[8];
      _mm512_store_si512(static_cast<void*>(lanes), sum4[i]);
      for (const std::int64_t l : lanes) sums[4 * q + i] += l;
    }
  }
  // The remaining k (fewer than 64): zero the rest of the panel, then bytes.
  const int g0 = 16 * kvec;
  std::memset(dst + std::size_t(g0) * kGroupBytes, 0, std::size_t(kgroups - g0) * kGroupBytes);
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + r * lda;
    std::int64_t sum = sums[r];
    for (int kk = 64 * kvec; kk < k; ++kk) {
      const std::uint8_t v = a_prime(src[kk]);
      dst[std::size_t(kk / kKGroup) * kGroupBytes + r * kKGroup + kk % kKGroup] = v;
      sum += v;
    }
    row_sum[r] = static_cast<std::int32_t>(sum);
  }
  for (int r = rows; r < kMr; ++r) row_sum[r] = 0;
}

// multiply_by_quantized_multiplier (fixed_point.hpp) on 16 lanes, per-lane multiplier in [0, 2^31 - 1] and shift in
// [-31, 30] (validate_epilogue's contract). The int64 products are formed 8 at a time by VPMULDQ on the even and the
// odd lanes. Bit-exact with the scalar functions:
// - double rounding: the left pre-shift saturates where shifting back does not give x; SRDHM is
//   (x * m + 2^30) >> 31 (arithmetic): for x * m >= 0 that is the scalar (x * m + 2^30) / 2^31, and for x * m < 0 the
//   truncating division of x * m + 1 - 2^30 equals the floor division of that plus 2^31 - 1, the same expression;
//   (INT32_MIN, INT32_MIN), SRDHM's one saturating case, cannot occur with m >= 0); bits 31..62 of the sum are the
//   int32 result, taken with a 64-bit shift right by 31 (even lanes) or left by 1 (odd lanes). RDBPOT as in the
//   scalar code, with the mask (1 << right) - 1 computed modulo 2^32 (right = 31 gives 0x7fffffff);
// - single rounding: (x * m + 2^(30 - shift)) >> (31 - shift) with VPSRAVQ, then int64 -> int32 saturation.
QMATH_TARGET_AVX512VNNI inline __m512i multiply_by_quantized_multiplier_avx512(__m512i x, __m512i m, __m512i shift,
                                                                              FixedPointRounding rounding) {
  constexpr __mmask16 kAll = 0xFFFF;
  constexpr __mmask8 kAll8 = 0xFF;
  const __m512i zero = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i x_odd = _mm512_maskz_srli_epi64(kAll8, x, 32);
  const __m512i m_odd = _mm512_maskz_srli_epi64(kAll8, m, 32);
  if (rounding == FixedPointRounding::kSingleRounding) {
    const __m512i total = _mm512_sub_epi32(_mm512_set1_epi32(31), shift);  // [1, 62]
    const __m512i total_even = _mm512_maskz_and_epi64(kAll8, total, _mm512_set1_epi64(0xFFFFFFFF));
    const __m512i total_odd = _mm512_maskz_srli_epi64(kAll8, total, 32);
    const __m512i one64 = _mm512_set1_epi64(1);
    const __m512i lo = _mm512_set1_epi64(INT32_MIN), hi = _mm512_set1_epi64(INT32_MAX);
    auto half = [&](__m512i xs, __m512i ms, __m512i t) QMATH_TARGET_AVX512VNNI_LAMBDA {
      const __m512i round = _mm512_maskz_sllv_epi64(kAll8, one64, _mm512_sub_epi64(t, one64));
      const __m512i product = _mm512_maskz_mul_epi32(kAll8, xs, ms);
      const __m512i r = _mm512_maskz_srav_epi64(kAll8, _mm512_add_epi64(product, round), t);
      return _mm512_maskz_min_epi64(kAll8, _mm512_maskz_max_epi64(kAll8, r, lo), hi);
    };
    const __m512i even = half(x, m, total_even);
    const __m512i odd = half(x_odd, m_odd, total_odd);
    return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_maskz_slli_epi64(kAll8, odd, 32));
  }
  const __m512i left = _mm512_maskz_max_epi32(kAll, shift, zero);
  const __m512i right = _mm512_maskz_max_epi32(kAll, _mm512_sub_epi32(zero, shift), zero);
  __m512i s = _mm512_maskz_sllv_epi32(kAll, x, left);
  const __mmask16 overflow = _mm512_cmpneq_epi32_mask(_mm512_maskz_srav_epi32(kAll, s, left), x);
  s = _mm512_mask_mov_epi32(s, overflow,
                            _mm512_xor_si512(_mm512_maskz_srai_epi32(kAll, x, 31), _mm512_set1_epi32(INT32_MAX)));
  const __m512i nudge = _mm512_set1_epi64(std::int64_t(1) << 30);
  const __m512i even = _mm512_add_epi64(_mm512_maskz_mul_epi32(kAll8, s, m), nudge);
  const __m512i odd = _mm512_add_epi64(_mm512_maskz_mul_epi32(kAll8, _mm512_maskz_srli_epi64(kAll8, s, 32), m_odd),
                                       nudge);
  const __m512i high = _mm512_mask_blend_epi32(0xAAAA, _mm512_maskz_srli_epi64(kAll8, even, 31),
                                               _mm512_maskz_slli_epi64(kAll8, odd, 1));
  const __m512i mask = _mm512_sub_epi32(_mm512_maskz_sllv_epi32(kAll, one, right), one);
  const __m512i remainder = _mm512_and_si512(high, mask);
  const __m512i threshold =
      _mm512_sub_epi32(_mm512_maskz_srli_epi32(kAll, mask, 1), _mm512_maskz_srai_epi32(kAll, high, 31));
  const __mmask16 up = _mm512_cmpgt_epi32_mask(remainder, threshold);
  const __m512i q = _mm512_maskz_srav_epi32(kAll, high, right);
  return _mm512_mask_add_epi32(q, up, q, one);
}

// Vectorised equivalent of epilogue_scalar for every output type and scale mode. Bit-exact with apply_epilogue:
// - bias: 32-bit add with the overflow detected from the signs and replaced by INT32_MIN / INT32_MAX, which is
//   saturate_to_int32(int64(acc) + bias);
// - int32 -> float and the scale multiply use embedded round-to-nearest-even, as the C++ conversion and multiply do
//   in the default floating-point environment;
// - VRNDSCALEPS with imm 0 is round half to even for every finite float and keeps +-inf (round_to_integral's
//   kHalfToEven); then the float clamp to [qmin - zp, qmax - zp] (NaN cannot occur: the scale is finite) and the
//   exact truncating conversion, then + zp, as round_add_saturate;
// - masked (maskz) forms throughout: the unmasked GCC 12 intrinsics start from _mm512_undefined_*, which trips
//   -Wmaybe-uninitialized (GCC PR 105593) in users' -Werror builds;
// - full 16-lane chunks are stored with plain stores: masked stores that miss the cache are slow (docs/cpu-gemm.md
//   has the measurement).
// - float output clamps with ordered compares, so NaN bounds behave as the scalar ternaries.
// kStream: full 64-byte chunks of 4-byte outputs (int32, float) whose address is 64-byte aligned are written with
// non-temporal stores (VMOVNTDQ), which bypass the caches; the caller issues _mm_sfence() before C is published.
template <class TC, bool kStream = false>
QMATH_TARGET_AVX512VNNI inline void epilogue_avx512(const Epilogue& e, const std::int32_t* dot, int ld,
                                                    const std::int32_t* row_comp, int rows,
                                                    const std::int32_t* col_comp, int n0, int cols, TC* out,
                                                    std::int64_t ldc) {
  constexpr bool kFloatOut = std::is_same<TC, float>::value;
  constexpr bool kInt32Out = std::is_same<TC, std::int32_t>::value;
  constexpr int kRn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const bool scaled = e.scaling() == Scaling::kFloatMultiplier;
  const bool fixed = e.scaling() == Scaling::kFixedPointMultiplier;
  const __m512 scale_all = _mm512_set1_ps(scaled ? e.float_multipliers()[0] : 1.0f);
  const __m512i multiplier_all = _mm512_set1_epi32(fixed ? e.fixed_point_multipliers()[0] : 0);
  const __m512i shift_all = _mm512_set1_epi32(fixed ? e.shifts()[0] : 0);
  const OutputBounds ob = output_bounds<typename std::conditional<kFloatOut, std::int32_t, TC>::type>(e);
  for (int r = 0; r < rows; ++r) {
    const __m512i rc = _mm512_set1_epi32(row_comp[r]);
    const std::int32_t* drow = dot + std::int64_t(r) * ld;
    TC* orow = out + std::int64_t(r) * ldc;
    for (int j = 0; j < cols; j += 16) {
      const __mmask16 m = cols - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (cols - j)) - 1u);
      const bool stream_chunk = kStream && m == 0xFFFF && (reinterpret_cast<std::uintptr_t>(orow + j) & 63) == 0;
      __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, drow + j), rc);
      v = _mm512_add_epi32(v, _mm512_maskz_loadu_epi32(m, col_comp + j));
      if (e.bias()) {
        const __m512i bias = _mm512_maskz_loadu_epi32(m, e.bias() + n0 + j);
        const __m512i s = _mm512_add_epi32(v, bias);
        const __mmask16 overflow =
            _mm512_movepi32_mask(_mm512_and_si512(_mm512_xor_si512(v, s), _mm512_xor_si512(bias, s)));
        const __m512i sat = _mm512_xor_si512(_mm512_maskz_srai_epi32(m, v, 31), _mm512_set1_epi32(INT32_MAX));
        v = _mm512_mask_mov_epi32(s, overflow, sat);
      }
      __m512 sc = scale_all;
      if (scaled && e.per_channel()) sc = _mm512_maskz_loadu_ps(m, e.float_multipliers() + n0 + j);
      if constexpr (kFloatOut) {
        __m512 y = _mm512_maskz_cvt_roundepi32_ps(m, v, kRn);
        if (scaled) y = _mm512_maskz_mul_round_ps(m, y, sc, kRn);
        const __m512 lo = _mm512_set1_ps(e.float_clamp_min()), hi = _mm512_set1_ps(e.float_clamp_max());
        y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, lo, _CMP_LT_OQ), lo);
        y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, hi, _CMP_GT_OQ), hi);
        if (stream_chunk)
          _mm512_stream_ps(orow + j, y);
        else if (m == 0xFFFF)
          _mm512_storeu_ps(orow + j, y);
        else
          _mm512_mask_storeu_ps(orow + j, m, y);
      } else {
        if (scaled && kInt32Out) {
          // round_add_saturate for int32 outputs, whose bounds minus zp need not be floats: the rounded product is
          // clamped to [-2^32, 2^32] (exact floats; +-inf from an overflowing product lands there too), converted
          // exactly to int64, and the zero point and the clamp applied in int64, 8 lanes at a time.
          constexpr __mmask8 kAll8 = 0xFF;
          __m512 x = _mm512_maskz_mul_round_ps(m, _mm512_maskz_cvt_roundepi32_ps(m, v, kRn), sc, kRn);
          x = _mm512_maskz_roundscale_ps(m, x, kRn);
          x = _mm512_maskz_max_ps(m, x, _mm512_set1_ps(-4294967296.0f));
          x = _mm512_maskz_min_ps(m, x, _mm512_set1_ps(4294967296.0f));
          const __m512i zp64 = _mm512_set1_epi64(e.output_zero_point());
          const __m512i lo64 = _mm512_set1_epi64(ob.qmin), hi64 = _mm512_set1_epi64(ob.qmax);
          auto half = [&](__m256 h) QMATH_TARGET_AVX512VNNI_LAMBDA {
            const __m512i w = _mm512_add_epi64(_mm512_maskz_cvttps_epi64(kAll8, h), zp64);
            const __m512i c = _mm512_maskz_min_epi64(kAll8, _mm512_maskz_max_epi64(kAll8, w, lo64), hi64);
            return _mm512_maskz_cvtepi64_epi32(kAll8, c);
          };
          // (maskz extracts: GCC 12 implements the casts with undefined-based intrinsics, see above)
          const __m256i lo_half = half(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAll8, _mm512_castps_pd(x), 0)));
          const __m256i hi_half = half(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(kAll8, _mm512_castps_pd(x), 1)));
          v = _mm512_maskz_inserti64x4(kAll8, _mm512_castsi256_si512(lo_half), hi_half, 1);
        } else if (scaled) {
          const std::int32_t zp = e.output_zero_point();
          __m512 x = _mm512_maskz_mul_round_ps(m, _mm512_maskz_cvt_roundepi32_ps(m, v, kRn), sc, kRn);
          x = _mm512_maskz_roundscale_ps(m, x, kRn);
          x = _mm512_maskz_max_ps(m, x, _mm512_set1_ps(static_cast<float>(ob.lo)));  // int8 / uint8: exact floats
          x = _mm512_maskz_min_ps(m, x, _mm512_set1_ps(static_cast<float>(ob.hi)));
          v = _mm512_add_epi32(_mm512_maskz_cvttps_epi32(m, x), _mm512_set1_epi32(zp));
        } else if (fixed) {
          // clamp(MBQM + zp, qmin, qmax) == clamp(MBQM, lo, hi) + zp (output_bounds)
          __m512i mul = multiplier_all, sh = shift_all;
          if (e.per_channel()) {
            mul = _mm512_maskz_loadu_epi32(m, e.fixed_point_multipliers() + n0 + j);
            sh = _mm512_maskz_loadu_epi32(m, e.shifts() + n0 + j);
          }
          v = multiply_by_quantized_multiplier_avx512(v, mul, sh, e.rounding());
          v = _mm512_maskz_min_epi32(m, _mm512_maskz_max_epi32(m, v, _mm512_set1_epi32(ob.lo)),
                                     _mm512_set1_epi32(ob.hi));
          v = _mm512_add_epi32(v, _mm512_set1_epi32(e.output_zero_point()));
        } else {
          v = _mm512_maskz_min_epi32(m, _mm512_maskz_max_epi32(m, v, _mm512_set1_epi32(ob.qmin)),
                                     _mm512_set1_epi32(ob.qmax));
        }
        if constexpr (kInt32Out) {
          if (stream_chunk)
            _mm512_stream_si512(reinterpret_cast<__m512i*>(orow + j), v);
          else if (m == 0xFFFF)
            _mm512_storeu_si512(static_cast<void*>(orow + j), v);  // full-width plain store
          else
            _mm512_mask_storeu_epi32(orow + j, m, v);
        } else {
          if (m == 0xFFFF)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(orow + j), _mm512_maskz_cvtepi32_epi8(m, v));
          else
            _mm512_mask_cvtepi32_storeu_epi8(orow + j, m, v);
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_X86

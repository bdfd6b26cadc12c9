// qmath/cpu/detail/kernel_small_m.hpp - small-M (GEMV-like) kernels: few rows of A against the int8 packed B
// (BPackLayout::kInt8K4), without packing A into panels.
//
// At small M every packed weight is used by few rows, so the speed is that of reading B: these kernels read the
// int8 layout (1 byte per weight, half of kInt16K2) and keep the exact arithmetic of kernel_avx2. A' rows are
// widened to int16 once per call (widen_a_rows, O(M K)); the kernels accumulate over the whole K in registers.
//
// Contract of a SmallMKernelFn (every path): for r < rows, j < kNr,
//   tile[r * kNr + j] = sum over k < 4 * kgroups of a[r * lda + k] * B'[k][32 p + j]  (modulo 2^32)
// where a holds A' as int16 (zero beyond K) and b points at panel p of a kInt8K4 B.
//
// AVX2: small_m_rows_avx2 is one k-group loop over R rows x C chunks of the panel, parameterised by its inner step:
// SmallMStepInt16 (exact for every input) and SmallMStepU8 (uint8 A': exact for a 7-bit A,
// GemmOptions::activations_7bit; for a full-range A' it saturates each k pair as saturating_pair does, which is
// GemmOptions::saturate_int16_pairs).
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/pack.hpp>

namespace qmath {
namespace cpu {
namespace detail {

using SmallMKernelFn = void (*)(int rows, int kgroups, const std::int16_t* a, std::int64_t lda, const std::int8_t* b,
                                std::int32_t* tile);

// The largest M that runs the small-M kernels (GemmOptions and path permitting); larger M packs A and runs the
// cache-blocked kernels. Chosen from measurements (docs/cpu-gemm.md, "Small batch").
constexpr int kSmallMMax = 4;

// Rows [0, rows) of A (row stride lda) as A' = a + a_offset<TA>() in int16, row stride kpad = 4 * ceil(K / 4),
// zero beyond K; row_sum[r] = sum_k A'[r][k].
template <class TA>
void widen_a_rows(int rows, int k, const TA* a, std::int64_t lda, std::int16_t* dst, std::int32_t* row_sum) {
  const int kpad = ceil_div(k, kKGroup) * kKGroup;
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + std::int64_t(r) * lda;
    std::int16_t* out = dst + std::int64_t(r) * kpad;
    std::int32_t sum = 0;
    for (int kk = 0; kk < k; ++kk) {
      out[kk] = static_cast<std::int16_t>(a_prime(src[kk]));
      sum += out[kk];
    }
    for (int kk = k; kk < kpad; ++kk) out[kk] = 0;
    row_sum[r] = sum;
  }
}

// Portable SmallMKernelFn.
inline void small_m_kernel_scalar(int rows, int kgroups, const std::int16_t* a, std::int64_t lda,
                                  const std::int8_t* b, std::int32_t* tile) {
  for (int r = 0; r < rows; ++r) {
    std::uint32_t acc[kNr] = {};
    const std::int16_t* ar = a + std::int64_t(r) * lda;
    for (int g = 0; g < kgroups; ++g) {
      const std::int8_t* bg = b + std::size_t(g) * kNr * kKGroup;
      for (int j = 0; j < kNr; ++j)
        for (int t = 0; t < kKGroup; ++t)
          acc[j] += static_cast<std::uint32_t>(std::int32_t(ar[g * kKGroup + t]) * std::int32_t(bg[j * kKGroup + t]));
    }
    for (int j = 0; j < kNr; ++j) tile[r * kNr + j] = static_cast<std::int32_t>(acc[j]);
  }
}

// The small-M kernels over a uint8 A' (zero beyond K): for r < rows, j < kNr,
//   tile[r * kNr + j] = sum over k pairs (2i, 2i + 1), 2i < 4 * kgroups, of
//                       saturating_pair(a[r * lda + 2i], B'[2i][32 p + j], a[r * lda + 2i + 1], B'[2i + 1][32 p + j])
//   (modulo 2^32), saturating_pair as in detail/saturating.hpp: the pair sum clamped to int16.
// With every A' <= 127 (a 7-bit A, GemmOptions::activations_7bit) no pair sum leaves int16 and this is the exact
// contract of SmallMKernelFn; with a full-range A' it is the arithmetic of GemmOptions::saturate_int16_pairs.
using SmallMKernelU8Fn = void (*)(int rows, int kgroups, const std::uint8_t* a, std::int64_t lda, const std::int8_t* b,
                                  std::int32_t* tile);

// Rows [0, rows) of A (row stride lda) as A' = a + a_offset<TA>() in uint8 (a uint8 A unchanged, an int8 A with its
// sign bit flipped), row stride kpad = 4 * ceil(K / 4), zero beyond K; row_sum[r] = sum_k A'[r][k].
template <class TA>
void copy_a_rows_u8(int rows, int k, const TA* a, std::int64_t lda, std::uint8_t* dst, std::int32_t* row_sum) {
  const int kpad = ceil_div(k, kKGroup) * kKGroup;
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + std::int64_t(r) * lda;
    std::uint8_t* out = dst + std::int64_t(r) * kpad;
    std::int32_t sum = 0;
    for (int kk = 0; kk < k; ++kk) sum += out[kk] = a_prime(src[kk]);
    for (int kk = k; kk < kpad; ++kk) out[kk] = 0;
    row_sum[r] = sum;
  }
}

#if QMATH_CPU_X86

#define QMATH_TARGET_SMALL_M_AVX2 __attribute__((target("avx2,fma")))

// Distance of the software prefetch of B in the small-M kernels (a one-group-ahead hardware stream is not enough
// for a B that comes from memory; a longer distance costs the L2/L3-resident B: docs/cpu-gemm.md, "Small batch").
constexpr int kPrefetchBytes = 4096;

// The inner step of the exact small-M kernel (int16 A'): one 16-byte chunk of the panel is 4 columns x 4 k;
// VPMOVSXBW widens it to int16 (exact), VPMADDWD against the row's 4 A' values (one VPBROADCASTQ) gives per int32
// lane one k pair of one column: lanes (column 4c, pair 0), (4c, pair 1), ... (4c + 3, pair 1). The two pair sums
// of a column are added once at the end (store). 16 weights cost one load, one widening and one VPMADDWD per row.
struct SmallMStepInt16 {
  using AE = std::int16_t;
  static constexpr int kChunkBytes = 16;
  QMATH_TARGET_SMALL_M_AVX2 static __m256i broadcast_a(const AE* a) {
    std::int64_t v;
    std::memcpy(&v, a, sizeof(v));
    return _mm256_set1_epi64x(v);
  }
  QMATH_TARGET_SMALL_M_AVX2 static __m256i load_b(const std::int8_t* b) {
    return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
  QMATH_TARGET_SMALL_M_AVX2 static __m256i dot(__m256i a, __m256i b) { return _mm256_madd_epi16(a, b); }
  // VPHADDD of two chunks gives columns (0, 1, 4, 5 | 2, 3, 6, 7) of their 8; VPERMQ puts them in order.
  template <int R, int C>
  QMATH_TARGET_SMALL_M_AVX2 static void store(const __m256i (&acc)[R][C], std::int32_t* tile) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; c += 2) {
        const __m256i h = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][c], acc[r][c + 1]), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kNr + 4 * c), h);
      }
  }
};

// The inner step of the uint8 small-M kernel (SmallMKernelU8Fn): one 32-byte chunk is 8 columns x 4 k;
// VPMADDUBSW of the row's 4 A' bytes (broadcast) with it gives per int16 lane one k pair of one column, saturated to
// int16 (saturating_pair; for A' <= 127 it is at most 2 * 127 * 128 in magnitude: exact), and VPMADDWD with ones adds
// the two pairs of a column into its int32 lane (exact). 32 weights cost one load and two multiply instructions per
// row.
struct SmallMStepU8 {
  using AE = std::uint8_t;
  static constexpr int kChunkBytes = 32;
  QMATH_TARGET_SMALL_M_AVX2 static __m256i broadcast_a(const AE* a) {
    std::int32_t v;
    std::memcpy(&v, a, sizeof(v));
    return _mm256_set1_epi32(v);
  }
  QMATH_TARGET_SMALL_M_AVX2 static __m256i load_b(const std::int8_t* b) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
  }
  QMATH_TARGET_SMALL_M_AVX2 static __m256i dot(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
  }
  template <int R, int C>
  QMATH_TARGET_SMALL_M_AVX2 static void store(const __m256i (&acc)[R][C], std::int32_t* tile) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kNr + 8 * c), acc[r][c]);
  }
};

// R rows x C chunks of the panel (from the column of b), accumulated over all kgroups in registers; Step (above)
// supplies the A broadcast, the chunk load, the multiply-add and the store of the tile.
template <class Step, int R, int C>
QMATH_TARGET_SMALL_M_AVX2 inline void small_m_rows_avx2(int kgroups, const typename Step::AE* a, std::int64_t lda,
                                                        const std::int8_t* b, std::int32_t* tile) {
  __m256i acc[R][C];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r)
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_si256();
  for (int g = 0; g < kgroups; ++g) {
    // B is read once, from L3 or memory: fetch the lines of this column range kPrefetchBytes ahead.
    // (prefetch_l1 forms the address as an integer: it may lie past the end of B.)
    for (int line = 0; line < C * Step::kChunkBytes; line += 64) prefetch_l1(b, kPrefetchBytes + line);
    __m256i va[R];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) va[r] = Step::broadcast_a(a + r * lda + g * kKGroup);
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) {
      const __m256i w = Step::load_b(b + Step::kChunkBytes * c);
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) acc[r][c] = _mm256_add_epi32(acc[r][c], Step::dot(va[r], w));
    }
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; ++c) __asm__("" : "+x"(acc[r][c]));
    b += kNr * kKGroup;
  }
  Step::template store<R, C>(acc, tile);
}

// AVX2 SmallMKernelFn: one row reads the 32-column panel in order (8 chunks); 2 or 3 rows take the panel as two
// 16-column halves (one 64-byte line of each k group per half) to stay within 16 registers.
QMATH_TARGET_SMALL_M_AVX2 inline void small_m_kernel_avx2(int rows, int kgroups, const std::int16_t* a,
                                                          std::int64_t lda, const std::int8_t* b, std::int32_t* tile) {
  using S = SmallMStepInt16;
  for (int r0 = 0; r0 < rows; r0 += 3) {
    const std::int16_t* ar = a + r0 * lda;
    std::int32_t* t = tile + r0 * kNr;
    switch (rows - r0) {
      case 1: small_m_rows_avx2<S, 1, 8>(kgroups, ar, lda, b, t); break;
      case 2:
        for (int h = 0; h < 2; ++h) small_m_rows_avx2<S, 2, 4>(kgroups, ar, lda, b + 64 * h, t + 16 * h);
        break;
      default:
        for (int h = 0; h < 2; ++h) small_m_rows_avx2<S, 3, 4>(kgroups, ar, lda, b + 64 * h, t + 16 * h);
        break;
    }
  }
}

// AVX2 SmallMKernelU8Fn (the 7-bit and the saturating modes): 1 or 2 rows read the 32-column panel whole; 3 or 4
// rows take it as two 16-column halves.
QMATH_TARGET_SMALL_M_AVX2 inline void small_m_kernel_maddubs_avx2(int rows, int kgroups, const std::uint8_t* a,
                                                                  std::int64_t lda, const std::int8_t* b,
                                                                  std::int32_t* tile) {
  using S = SmallMStepU8;
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const std::uint8_t* ar = a + r0 * lda;
    std::int32_t* t = tile + r0 * kNr;
    switch (rows - r0) {
      case 1: small_m_rows_avx2<S, 1, 4>(kgroups, ar, lda, b, t); break;
      case 2: small_m_rows_avx2<S, 2, 4>(kgroups, ar, lda, b, t); break;
      case 3:
        for (int h = 0; h < 2; ++h) small_m_rows_avx2<S, 3, 2>(kgroups, ar, lda, b + 64 * h, t + 16 * h);
        break;
      default:
        for (int h = 0; h < 2; ++h) small_m_rows_avx2<S, 4, 2>(kgroups, ar, lda, b + 64 * h, t + 16 * h);
        break;
    }
  }
}

#undef QMATH_TARGET_SMALL_M_AVX2

#endif  // QMATH_CPU_X86

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

// qmath/cpu/detail/kernel_small_m.hpp - small-M (GEMV-like) kernels: few rows of A against the int8 packed B
// (BPackLayout::kInt8K4), without packing A into panels.
//
// At small M every packed weight is used by few rows, so the speed is that of reading B: these kernels read the
// int8 layout (1 byte per weight, half of kInt16K2) and keep the exact arithmetic of kernel_avx2. A' rows are
// copied once per call (widen_a_rows to int16, copy_a_rows_u8 to uint8, O(M K)); the kernels accumulate over the
// whole K in registers.
//
// Contract of a SmallMKernelFn (every path): for r < rows, j < kNr,
//   tile[r * kNr + j] = sum over k < 4 * kgroups of a[r * lda + k] * B'[k][32 p + j]  (modulo 2^32)
// where a holds A' as int16 (zero beyond K) and b points at panel p of a kInt8K4 B.
//
// x86: one loop (small_m_rows / small_m_run, detail/kernel_small_m_rows-inl.hpp, compiled once per target) over
// R rows x C chunks of the panel with U accumulator sets, parameterised by its inner step and by a per-kernel plan
// (rows per pass, chunks, sets: SmallMPlan* below):
// - AVX2: SmallMStepInt16 (exact for every input) and SmallMStepU8 (uint8 A': exact for a 7-bit A,
//   GemmOptions::activations_7bit; for a full-range A' it saturates each k pair as saturating_pair does, which is
//   GemmOptions::saturate_int16_pairs);
// - AVX-VNNI and AVX-512 VNNI: SmallMStepAvxVnni / SmallMStepAvx512Vnni (uint8 A', VPDPBUSD on ymm / zmm: exact for
//   every input).
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/kernel_avx2.hpp>
#include <qmath/cpu/detail/kernel_avx512vnni.hpp>
#include <qmath/cpu/detail/kernel_avxvnni.hpp>
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

// The small-M kernels over a uint8 A' (zero beyond K), a as in SmallMKernelFn but uint8. Two contracts:
// - the VPDPBUSD kernels (small_m_kernel_avxvnni, small_m_kernel_avx512vnni): SmallMKernelFn's, exact for every A';
// - the VPMADDUBSW kernel (small_m_kernel_maddubs_avx2): for r < rows, j < kNr,
//   tile[r * kNr + j] = sum over k pairs (2i, 2i + 1), 2i < 4 * kgroups, of
//                       saturating_pair(a[r * lda + 2i], B'[2i][32 p + j], a[r * lda + 2i + 1], B'[2i + 1][32 p + j])
//   (modulo 2^32), saturating_pair as in detail/saturating.hpp: the pair sum clamped to int16.
//   With every A' <= 127 (a 7-bit A, GemmOptions::activations_7bit) no pair sum leaves int16 and this is the exact
//   contract of SmallMKernelFn; with a full-range A' it is the arithmetic of GemmOptions::saturate_int16_pairs.
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

// The kernels below use the target attributes of the cache-blocked kernels of the same paths: QMATH_TARGET_AVX2
// (kernel_avx2.hpp), QMATH_TARGET_AVXVNNI (kernel_avxvnni.hpp), QMATH_TARGET_AVX512VNNI (kernel_avx512vnni.hpp).

// Distance of the software prefetch of B in the small-M kernels (a one-group-ahead hardware stream is not enough
// for a B that comes from memory; a longer distance costs the L2/L3-resident B: docs/cpu-gemm.md, "Small batch").
constexpr int kPrefetchBytes = 4096;

// The steps: what one chunk of the panel (Step::kChunkBytes bytes = kChunkCols columns x 4 k) costs per row.
// broadcast_a(a): the row's 4 A' values of the group in every 64-bit (int16) or 32-bit (uint8) lane; load_b(b): the
// chunk (aligned); accumulate(acc, a, b): acc plus the chunk's products into the accumulator lanes (wrapping);
// store<R, C>(acc, tile): the R x (C * kChunkCols) accumulators as int32 columns in order, row stride kNr. V: the
// accumulator's vector type, with zero(), add(x, y) (wrapping) and keep_in_register(v) (an empty asm with v as a
// register operand, once per round of the loop: without it GCC 12 copies accumulators between registers every round).

// The ymm steps' vector operations.
struct SmallMStepYmm {
  using V = __m256i;
  QMATH_TARGET_AVX2 static V zero() { return _mm256_setzero_si256(); }
  QMATH_TARGET_AVX2 static V add(V x, V y) { return _mm256_add_epi32(x, y); }
  QMATH_TARGET_AVX2 static void keep_in_register(V& v) { __asm__("" : "+x"(v)); }
};

// The inner step of the exact small-M kernel (int16 A'): one 16-byte chunk of the panel is 4 columns x 4 k;
// VPMOVSXBW widens it to int16 (exact), VPMADDWD against the row's 4 A' values (one VPBROADCASTQ) gives per int32
// lane one k pair of one column: lanes (column 4c, pair 0), (4c, pair 1), ... (4c + 3, pair 1). The two pair sums
// of a column are added once at the end (store). 16 weights cost one load, one widening and one VPMADDWD per row.
struct SmallMStepInt16 : SmallMStepYmm {
  using AE = std::int16_t;
  static constexpr int kChunkBytes = 16, kChunkCols = 4;
  QMATH_TARGET_AVX2 static __m256i broadcast_a(const AE* a) {
    std::int64_t v;
    std::memcpy(&v, a, sizeof(v));
    return _mm256_set1_epi64x(v);
  }
  QMATH_TARGET_AVX2 static __m256i load_b(const std::int8_t* b) {
    return _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b)));
  }
  QMATH_TARGET_AVX2 static __m256i accumulate(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
  // VPHADDD of two chunks gives columns (0, 1, 4, 5 | 2, 3, 6, 7) of their 8; VPERMQ puts them in order.
  template <int R, int C>
  QMATH_TARGET_AVX2 static void store(const __m256i (&acc)[R][C], std::int32_t* tile) {
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
struct SmallMStepU8 : SmallMStepYmm {
  using AE = std::uint8_t;
  static constexpr int kChunkBytes = 32, kChunkCols = 8;
  QMATH_TARGET_AVX2 static __m256i broadcast_a(const AE* a) {
    std::int32_t v;
    std::memcpy(&v, a, sizeof(v));
    return _mm256_set1_epi32(v);
  }
  QMATH_TARGET_AVX2 static __m256i load_b(const std::int8_t* b) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
  }
  QMATH_TARGET_AVX2 static __m256i accumulate(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
  }
  template <int R, int C>
  QMATH_TARGET_AVX2 static void store(const __m256i (&acc)[R][C], std::int32_t* tile) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; ++c) _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kNr + 8 * c), acc[r][c]);
  }
};

// The inner steps of the VNNI small-M kernels (SmallMKernelU8Fn, exact for every input): one VPDPBUSD per chunk and
// row: per int32 lane (column) the 4 products uint8 A' x int8 B' of the group summed exactly and added to the
// accumulator modulo 2^32 (VPDPBUSD, not the saturating VPDPBUSDS). AVX-VNNI: the chunk, broadcast and store of
// SmallMStepU8 and the VEX form on ymm (32 weights per load and instruction); AVX-512 VNNI: zmm, 64-byte chunks of
// 16 columns x 4 k (64 weights per load and instruction), registers zmm0-31.
#if QMATH_CPU_HAS_AVXVNNI_TARGET
struct SmallMStepAvxVnni : SmallMStepU8 {
  QMATH_TARGET_AVXVNNI static __m256i accumulate(__m256i acc, __m256i a, __m256i b) {
    return _mm256_dpbusd_avx_epi32(acc, a, b);
  }
};
#endif
struct SmallMStepAvx512Vnni {
  using AE = std::uint8_t;
  using V = __m512i;
  static constexpr int kChunkBytes = 64, kChunkCols = 16;
  QMATH_TARGET_AVX512VNNI static V zero() { return _mm512_setzero_si512(); }
  QMATH_TARGET_AVX512VNNI static V add(V x, V y) { return _mm512_add_epi32(x, y); }
  QMATH_TARGET_AVX512VNNI static void keep_in_register(V& v) { __asm__("" : "+v"(v)); }
  QMATH_TARGET_AVX512VNNI static V broadcast_a(const AE* a) {
    std::int32_t v;
    std::memcpy(&v, a, sizeof(v));
    return _mm512_set1_epi32(v);
  }
  QMATH_TARGET_AVX512VNNI static V load_b(const std::int8_t* b) {
    return _mm512_load_si512(static_cast<const void*>(b));
  }
  QMATH_TARGET_AVX512VNNI static V accumulate(V acc, V a, V b) { return _mm512_dpbusd_epi32(acc, a, b); }
  template <int R, int C>
  QMATH_TARGET_AVX512VNNI static void store(const V (&acc)[R][C], std::int32_t* tile) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; ++c) _mm512_storeu_si512(static_cast<void*>(tile + r * kNr + 16 * c), acc[r][c]);
  }
};

// The plans: how small_m_run (kernel_small_m_rows-inl.hpp) covers a rows x 32 tile. kMaxRows: rows per pass (more
// rows pass again over the panel); chunks(R): chunks per column part at R rows (the panel is read in
// 32 / (chunks * kChunkCols) parts, each one stream of the k groups); sets(R): independent accumulator sets over
// alternating k groups. Registers per pass: R * chunks * sets accumulators, R broadcasts and one chunk of B.

// AVX2, int16 A': one row reads the 32-column panel in order (8 chunks); 2 or 3 rows take the panel as two
// 16-column halves (one 64-byte line of each k group per half) to stay within 16 registers.
struct SmallMPlanAvx2Int16 {
  static constexpr int kMaxRows = 3;
  static constexpr int chunks(int r) { return r == 1 ? 8 : 4; }
  static constexpr int sets(int) { return 1; }
};

// AVX2, uint8 A' (the 7-bit and the saturating modes): 1 or 2 rows read the 32-column panel whole; 3 or 4 rows take
// it as two 16-column halves.
struct SmallMPlanAvx2U8 {
  static constexpr int kMaxRows = 4;
  static constexpr int chunks(int r) { return r <= 2 ? 4 : 2; }
  static constexpr int sets(int) { return 1; }
};

// The VNNI plans. Each accumulator is one dependency chain of VPDPBUSD (latency about 5 cycles, 2 per cycle):
// about 10 chains keep the multiplier busy, so few rows take several accumulator sets (as kernel_avx512vnni_rows
// does). Rows of one pass share each B chunk, so every row count up to 4 runs in one pass over B.
// AVX-VNNI, 16 ymm (accumulators + R broadcasts + one chunk <= 15): 1 row: the whole panel (4 chunks) x 3 sets
// (12 chains); 2 rows: two halves (2 chunks) x 3 sets (12 chains); 3 and 4 rows: two halves, one set (6 and 8
// chains: the whole panel or a second set would take 16 registers or more).
struct SmallMPlanAvxVnni {
  static constexpr int kMaxRows = 4;
  static constexpr int chunks(int r) { return r == 1 ? 4 : 2; }
  static constexpr int sets(int r) { return r <= 2 ? 3 : 1; }
};
// AVX-512 VNNI, zmm (SmallMStepAvx512Vnni: 64-byte chunks of 16 columns): the whole panel (2 chunks) at every row
// count, one stream of B; 1 row x 4 sets (8 chains), 2-4 rows x 2 sets (8-16 chains; at most 16 accumulators + 4
// broadcasts + one chunk of 32 registers). Measured on an AMD Zen 5 (docs/cpu-gemm.md, "Small batch"): zmm took
// 1x768x768 from 287 to 424 GOP/s against the earlier ymm plan (with the stack scratch of run_small_m), and 2 sets
// at 4 rows gave up to 1.1x over 1. On Intel a zmm VPDPBUSD issues once per cycle, so there the chunk width
// does not double the rate either way.
struct SmallMPlanAvx512Vnni {
  static constexpr int kMaxRows = 4;
  static constexpr int chunks(int) { return 2; }
  static constexpr int sets(int r) { return r == 1 ? 4 : 2; }
};

// The loop (kernel_small_m_rows-inl.hpp) once per target: small_m_rows<Step, R, C, U>, small_m_run<Step, Plan>.
#define QMATH_SMALL_M_TARGET QMATH_TARGET_AVX2
namespace small_m_avx2 {
#include <qmath/cpu/detail/kernel_small_m_rows-inl.hpp>
}  // namespace small_m_avx2
#undef QMATH_SMALL_M_TARGET
#if QMATH_CPU_HAS_AVXVNNI_TARGET
#define QMATH_SMALL_M_TARGET QMATH_TARGET_AVXVNNI
namespace small_m_avxvnni {
#include <qmath/cpu/detail/kernel_small_m_rows-inl.hpp>
}  // namespace small_m_avxvnni
#undef QMATH_SMALL_M_TARGET
#endif
#define QMATH_SMALL_M_TARGET QMATH_TARGET_AVX512VNNI
namespace small_m_avx512vnni {
#include <qmath/cpu/detail/kernel_small_m_rows-inl.hpp>
}  // namespace small_m_avx512vnni
#undef QMATH_SMALL_M_TARGET

// AVX2 SmallMKernelFn.
QMATH_TARGET_AVX2 inline void small_m_kernel_avx2(int rows, int kgroups, const std::int16_t* a, std::int64_t lda,
                                                   const std::int8_t* b, std::int32_t* tile) {
  small_m_avx2::small_m_run<SmallMStepInt16, SmallMPlanAvx2Int16>(rows, kgroups, a, lda, b, tile);
}

// AVX2 SmallMKernelU8Fn (the 7-bit and the saturating modes).
QMATH_TARGET_AVX2 inline void small_m_kernel_maddubs_avx2(int rows, int kgroups, const std::uint8_t* a,
                                                           std::int64_t lda, const std::int8_t* b, std::int32_t* tile) {
  small_m_avx2::small_m_run<SmallMStepU8, SmallMPlanAvx2U8>(rows, kgroups, a, lda, b, tile);
}

// AVX-VNNI SmallMKernelU8Fn, exact for every input.
#if QMATH_CPU_HAS_AVXVNNI_TARGET
QMATH_TARGET_AVXVNNI inline void small_m_kernel_avxvnni(int rows, int kgroups, const std::uint8_t* a,
                                                         std::int64_t lda, const std::int8_t* b, std::int32_t* tile) {
  small_m_avxvnni::small_m_run<SmallMStepAvxVnni, SmallMPlanAvxVnni>(rows, kgroups, a, lda, b, tile);
}
#endif

// AVX-512 VNNI SmallMKernelU8Fn, exact for every input.
QMATH_TARGET_AVX512VNNI inline void small_m_kernel_avx512vnni(int rows, int kgroups, const std::uint8_t* a,
                                                               std::int64_t lda, const std::int8_t* b,
                                                               std::int32_t* tile) {
  small_m_avx512vnni::small_m_run<SmallMStepAvx512Vnni, SmallMPlanAvx512Vnni>(rows, kgroups, a, lda, b, tile);
}

#endif  // QMATH_CPU_X86

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

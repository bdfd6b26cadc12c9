// qmath/cpu/detail/kernel_small_m_neon.hpp - small-M (GEMV-like) kernels of the AArch64 paths: up to
// kSmallMMaxNeon rows of A against the packed B that the path's blocked kernel reads, without packing A into panels.
//
// A is copied once per call into int8 rows (copy_a_rows_i8: A' - a_shift, row stride a multiple of 16 bytes, zero
// beyond K); each B panel is read once for all rows, its columns swept in chunks that keep every accumulator of the
// chunk in registers over the whole K; the path's fused epilogue (the lane layer) then runs on the rows x 32 tile.
//
// Contract of a SmallMKernelI8Fn: for r < rows <= kSmallMMaxNeon, j < kNr,
//   tile[r * kNr + j] = sum over k < 4 * kgroups of a[r * lda + k] * B'[k][32 p + j]  (modulo 2^32)
// where b points at panel p of a B packed in the kernel's SmallMKernelI8::b_layout and a holds A' - a_shift
// (SmallMKernelI8::a_shift): int8 A' - 128 for the signed kernels (SMULL, SDOT), the uint8 A' itself for USMMLA;
// lda is a multiple of 16 and a row is zero from k = K to lda. gemm.hpp adds a_shift * column sum of B' back.
//
//   kNeon        SMULL / SMULL2 + SADALP over kInt8K4: per 16 bytes of B (4 columns x 4 k) and row, the row's 4 k
//                broadcast (LD1R), two int8 x int8 -> int16 multiplies (|product| <= 128 * 128, exact) and two
//                pairwise int16 -> int32 accumulations; a final ADDP gives one sum per column.
//   kNeonDotprod SDOT by element over kInt8K4: one 16-byte load of an A row holds 4 groups (4 k each), selected as the
//                lane of the SDOT; per 16 bytes of B one SDOT per row (16 MACs).
//   kNeonI8mm    USMMLA over kInt8K8, the layout a PackedB of this path holds (so a batch-1 call converts nothing):
//                per 16 bytes of B (2 columns x 8 k) one USMMLA per row pair (2 x 2 x 8 MACs; an odd last row is a
//                zero row); an odd last k group (4-k form) is widened to 8 k with zeros, as kernel_neon_i8mm does.
// The sub-tiles keep 8 to 16 independent accumulators (kNeon: 6 at M = 3, and 2 to 6 for the rows beyond 4 of
// M = 5..7), so that consecutive multiply-accumulates seldom wait on each other's result.
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/kernel_neon_dotprod.hpp>
#include <qmath/cpu/detail/kernel_neon_i8mm.hpp>
#include <qmath/cpu/detail/pack.hpp>
#include <qmath/isa.hpp>

namespace qmath {
namespace cpu {
namespace detail {

using SmallMKernelI8Fn = void (*)(int rows, int kgroups, const std::int8_t* a, std::int64_t lda, const std::int8_t* b,
                                  std::int32_t* tile);

// The small-M kernel of an AArch64 path: the function, the offset its A rows carry and the B layout it reads.
struct SmallMKernelI8 {
  SmallMKernelI8Fn fn = nullptr;  // null: the path has none (or M is too large)
  std::int32_t a_shift = 0;       // 128: a holds A' - 128 as int8; 0: a holds A' as uint8
  BPackLayout b_layout = BPackLayout::kInt8K4;
};

// The largest M that runs the AArch64 small-M kernels; larger M packs A and runs the 12-row blocked kernels. Not
// measured (no AArch64 hardware): see docs/cpu-gemm.md, "Small batch on AArch64".
constexpr int kSmallMMaxNeon = 8;

// The row stride of copy_a_rows_i8 for K: 16 * ceil(K / 16) bytes.
inline int small_m_i8_row_stride(int k) { return ceil_div(k, 16) * 16; }

// Rows [0, rows) of A (row stride lda) as A' - a_shift in 8 bits (a_shift 128: A' ^ 0x80 read as int8; 0: A'),
// row stride small_m_i8_row_stride(k), zero beyond K; row_sum[r] = sum_k A'[r][k].
template <class TA>
void copy_a_rows_i8(int rows, int k, const TA* a, std::int64_t lda, std::int32_t a_shift, std::int8_t* dst,
                    std::int32_t* row_sum) {
  const int ld = small_m_i8_row_stride(k);
  const std::uint8_t flip = a_shift ? 0x80u : 0u;
  for (int r = 0; r < rows; ++r) {
    const TA* src = a + std::int64_t(r) * lda;
    std::uint8_t* out = reinterpret_cast<std::uint8_t*>(dst) + std::int64_t(r) * ld;
    std::int32_t sum = 0;
    for (int kk = 0; kk < k; ++kk) {
      const std::uint8_t v = a_prime(src[kk]);
      sum += v;
      out[kk] = static_cast<std::uint8_t>(v ^ flip);
    }
    for (int kk = k; kk < ld; ++kk) out[kk] = 0;
    row_sum[r] = sum;
  }
}

#if QMATH_CPU_AARCH64

// R rows x 4C columns (C chunks of 4 columns from b's first column), SMULL + SADALP. acc[r][2c], acc[r][2c + 1]: the
// two k-pair sums of columns 4c, 4c + 1 and 4c + 2, 4c + 3.
template <int R, int C>
inline void small_m_rows_neon(int kgroups, const std::int8_t* a, std::int64_t lda, const std::int8_t* b,
                              std::int32_t* tile) {
  int32x4_t acc[R][2 * C];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r)
    QMATH_UNROLL
    for (int c = 0; c < 2 * C; ++c) acc[r][c] = vdupq_n_s32(0);
  for (int g = 0; g < kgroups; ++g) {
    int8x16_t va[R];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      std::int32_t a4;
      std::memcpy(&a4, a + r * lda + g * kKGroup, sizeof(a4));
      va[r] = vreinterpretq_s8_s32(vdupq_n_s32(a4));
    }
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) {
      const int8x16_t w = vld1q_s8(b + 16 * c);
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        acc[r][2 * c] = vpadalq_s16(acc[r][2 * c], vmull_s8(vget_low_s8(w), vget_low_s8(va[r])));
        acc[r][2 * c + 1] = vpadalq_s16(acc[r][2 * c + 1], vmull_high_s8(w, va[r]));
      }
    }
    b += kNr * kKGroup;
  }
  QMATH_UNROLL
  for (int r = 0; r < R; ++r)
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) vst1q_s32(tile + r * kNr + 4 * c, vpaddq_s32(acc[r][2 * c], acc[r][2 * c + 1]));
}

// Columns [0, 32) of rows [0, R) in 32 / (4C) chunks of 4C columns; R > 4 rows as 4 + (R - 4), the second
// group reading the chunk of B again from L1. The sub-tile functions small_m_chunks_* are called once per panel and
// kept out of line: each (R, C) is then one function of the binary, whose inner loop scripts/arm_kernel_cost.py
// reads.
template <int R, int C>
__attribute__((noinline)) void small_m_chunks_neon(int kgroups, const std::int8_t* a, std::int64_t lda,
                                                   const std::int8_t* b, std::int32_t* tile) {
  for (int c0 = 0; c0 < kNr; c0 += 4 * C) {
    if constexpr (R <= 4) {
      small_m_rows_neon<R, C>(kgroups, a, lda, b + c0 * kKGroup, tile + c0);
    } else {
      small_m_rows_neon<4, C>(kgroups, a, lda, b + c0 * kKGroup, tile + c0);
      small_m_rows_neon<R - 4, C>(kgroups, a + 4 * lda, lda, b + c0 * kKGroup, tile + 4 * kNr + c0);
    }
  }
}

// kNeon SmallMKernelI8Fn (kInt8K4 B, a = A' - 128): 8 accumulators per group of rows, so that the 8 int16 products
// of a step and the operands fit the 32 registers beside them (more accumulators made GCC spill).
inline void small_m_kernel_neon(int rows, int kgroups, const std::int8_t* a, std::int64_t lda, const std::int8_t* b,
                                std::int32_t* tile) {
  switch (rows) {
    case 1: small_m_chunks_neon<1, 4>(kgroups, a, lda, b, tile); break;
    case 2: small_m_chunks_neon<2, 2>(kgroups, a, lda, b, tile); break;
    case 3: small_m_chunks_neon<3, 1>(kgroups, a, lda, b, tile); break;
    case 4: small_m_chunks_neon<4, 1>(kgroups, a, lda, b, tile); break;
    case 5: small_m_chunks_neon<5, 1>(kgroups, a, lda, b, tile); break;
    case 6: small_m_chunks_neon<6, 1>(kgroups, a, lda, b, tile); break;
    case 7: small_m_chunks_neon<7, 1>(kgroups, a, lda, b, tile); break;
    default: small_m_chunks_neon<8, 1>(kgroups, a, lda, b, tile); break;
  }
}

#endif  // QMATH_CPU_AARCH64

#if QMATH_CPU_HAS_ARM_I8MM_TARGET

// One k group (lane L of each row's A register) of R rows x 4C columns, SDOT by element.
template <int L, int R, int C>
QMATH_TARGET_ARM_DOTPROD inline void small_m_group_dotprod(int32x4_t (&acc)[R][C], const int8x16_t (&va)[R],
                                                           const std::int8_t* b) {
  QMATH_UNROLL
  for (int c = 0; c < C; ++c) {
    const int8x16_t w = vld1q_s8(b + 16 * c);
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) acc[r][c] = vdotq_laneq_s32(acc[r][c], w, va[r], L);
  }
}

// R rows x 4C columns (C chunks of 4 columns from b's first column), SDOT: acc[r][c] holds columns 4c .. 4c + 3.
template <int R, int C>
QMATH_TARGET_ARM_DOTPROD inline void small_m_rows_dotprod(int kgroups, const std::int8_t* a, std::int64_t lda,
                                                          const std::int8_t* b, std::int32_t* tile) {
  constexpr std::size_t kGroupBytes = kNr * kKGroup;
  int32x4_t acc[R][C];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r)
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) acc[r][c] = vdupq_n_s32(0);
  int g = 0;
  for (; g + 4 <= kgroups; g += 4) {  // one 16-byte load per row: 4 groups, lane L = group g + L
    int8x16_t va[R];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) va[r] = vld1q_s8(a + r * lda + g * kKGroup);
    small_m_group_dotprod<0>(acc, va, b);
    small_m_group_dotprod<1>(acc, va, b + kGroupBytes);
    small_m_group_dotprod<2>(acc, va, b + 2 * kGroupBytes);
    small_m_group_dotprod<3>(acc, va, b + 3 * kGroupBytes);
    b += 4 * kGroupBytes;
  }
  for (; g < kgroups; ++g) {  // the last kgroups % 4 groups
    int8x16_t va[R];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      std::int32_t a4;
      std::memcpy(&a4, a + r * lda + g * kKGroup, sizeof(a4));
      va[r] = vreinterpretq_s8_s32(vdupq_n_s32(a4));
    }
    small_m_group_dotprod<0>(acc, va, b);
    b += kGroupBytes;
  }
  QMATH_UNROLL
  for (int r = 0; r < R; ++r)
    QMATH_UNROLL
    for (int c = 0; c < C; ++c) vst1q_s32(tile + r * kNr + 4 * c, acc[r][c]);
}

template <int R, int C>
QMATH_TARGET_ARM_DOTPROD __attribute__((noinline)) void small_m_chunks_dotprod(int kgroups, const std::int8_t* a,
                                                                              std::int64_t lda, const std::int8_t* b,
                                                                              std::int32_t* tile) {
  for (int c0 = 0; c0 < kNr; c0 += 4 * C)
    small_m_rows_dotprod<R, C>(kgroups, a, lda, b + c0 * kKGroup, tile + c0);
}

// kNeonDotprod SmallMKernelI8Fn (kInt8K4 B, a = A' - 128): 8 to 16 accumulators.
QMATH_TARGET_ARM_DOTPROD inline void small_m_kernel_neon_dotprod(int rows, int kgroups, const std::int8_t* a,
                                                                 std::int64_t lda, const std::int8_t* b,
                                                                 std::int32_t* tile) {
  switch (rows) {
    case 1: small_m_chunks_dotprod<1, 8>(kgroups, a, lda, b, tile); break;
    case 2: small_m_chunks_dotprod<2, 8>(kgroups, a, lda, b, tile); break;
    case 3: small_m_chunks_dotprod<3, 4>(kgroups, a, lda, b, tile); break;
    case 4: small_m_chunks_dotprod<4, 4>(kgroups, a, lda, b, tile); break;
    case 5: small_m_chunks_dotprod<5, 2>(kgroups, a, lda, b, tile); break;
    case 6: small_m_chunks_dotprod<6, 2>(kgroups, a, lda, b, tile); break;
    case 7: small_m_chunks_dotprod<7, 2>(kgroups, a, lda, b, tile); break;
    default: small_m_chunks_dotprod<8, 2>(kgroups, a, lda, b, tile); break;
  }
}

// RP row pairs x 2CP columns (CP column pairs from column c0) of the kInt8K8 panel b, USMMLA: acc[q][c] =
// [r0c0 r0c1 r1c0 r1c1] of rows 2q, 2q + 1 and columns c0 + 2c, + 1. `rows` (<= 2 RP) rows are read and stored.
template <int RP, int CP>
QMATH_TARGET_ARM_I8MM inline void small_m_rows_i8mm(int rows, int kgroups, const std::uint8_t* a, std::int64_t lda,
                                                    const std::int8_t* b, int c0, std::int32_t* tile) {
  int32x4_t acc[RP][CP];
  QMATH_UNROLL
  for (int q = 0; q < RP; ++q)
    QMATH_UNROLL
    for (int c = 0; c < CP; ++c) acc[q][c] = vdupq_n_s32(0);
  const bool odd_rows = (rows & 1) != 0;  // row 2 RP - 1 is a zero row
  // Row pair q's 8 k at byte offset `at` of each row as one USMMLA operand.
  const auto a_pair = [&](int q, int at) {
    const uint8x8_t lo = vld1_u8(a + 2 * q * lda + at);
    const uint8x8_t hi = (q == RP - 1 && odd_rows) ? vdup_n_u8(0) : vld1_u8(a + (2 * q + 1) * lda + at);
    return vcombine_u8(lo, hi);
  };
  const int octets = kgroups / 2;
  for (int o = 0; o < octets; ++o) {
    const std::int8_t* bo = b + std::size_t(o) * 2 * kNr * kKGroup + 8 * c0;
    int8x16_t vb[CP];
    QMATH_UNROLL
    for (int c = 0; c < CP; ++c) vb[c] = vld1q_s8(bo + 16 * c);
    QMATH_UNROLL
    for (int q = 0; q < RP; ++q) {
      const uint8x16_t va = a_pair(q, 8 * o);
      QMATH_UNROLL
      for (int c = 0; c < CP; ++c) acc[q][c] = vusmmlaq_s32(acc[q][c], va, vb[c]);
    }
  }
  if (kgroups & 1) {  // the last group, in the 4-k form (column j at 4j); A's k 4 .. 7 there are zero
    const std::int8_t* bt = b + std::size_t(octets) * 2 * kNr * kKGroup + kKGroup * c0;
    int8x16_t vb[CP];
    QMATH_UNROLL
    for (int c = 0; c < CP; ++c) vb[c] = vreinterpretq_s8_u8(k4_pair_as_k8(bt + 8 * c));
    QMATH_UNROLL
    for (int q = 0; q < RP; ++q) {
      const uint8x16_t va = a_pair(q, 8 * octets);
      QMATH_UNROLL
      for (int c = 0; c < CP; ++c) acc[q][c] = vusmmlaq_s32(acc[q][c], va, vb[c]);
    }
  }
  QMATH_UNROLL
  for (int q = 0; q < RP; ++q)
    QMATH_UNROLL
    for (int h = 0; h < 2; ++h) {
      if (2 * q + h >= rows) break;
      QMATH_UNROLL
      for (int c = 0; c < CP; c += 2) {  // columns 2c .. 2c + 3 of row 2q + h
        const int64x2_t x = vreinterpretq_s64_s32(acc[q][c]), y = vreinterpretq_s64_s32(acc[q][c + 1]);
        vst1q_s32(tile + (2 * q + h) * kNr + c0 + 2 * c,
                  vreinterpretq_s32_s64(h == 0 ? vzip1q_s64(x, y) : vzip2q_s64(x, y)));
      }
    }
}

// kNeonI8mm SmallMKernelI8Fn (kInt8K8 B, a = A' as uint8): the panel in chunks of 2 CP columns, 8 or 16
// accumulators.
template <int RP, int CP>
QMATH_TARGET_ARM_I8MM __attribute__((noinline)) void small_m_chunks_i8mm(int rows, int kgroups, const std::uint8_t* a,
                                                                        std::int64_t lda, const std::int8_t* b,
                                                                        std::int32_t* tile) {
  for (int c0 = 0; c0 < kNr; c0 += 2 * CP) small_m_rows_i8mm<RP, CP>(rows, kgroups, a, lda, b, c0, tile);
}

QMATH_TARGET_ARM_I8MM inline void small_m_kernel_neon_i8mm(int rows, int kgroups, const std::int8_t* a,
                                                           std::int64_t lda, const std::int8_t* b, std::int32_t* tile) {
  const std::uint8_t* au = reinterpret_cast<const std::uint8_t*>(a);
  switch ((rows + 1) / 2) {
    case 1: small_m_chunks_i8mm<1, 8>(rows, kgroups, au, lda, b, tile); break;
    case 2: small_m_chunks_i8mm<2, 8>(rows, kgroups, au, lda, b, tile); break;
    case 3: small_m_chunks_i8mm<3, 4>(rows, kgroups, au, lda, b, tile); break;
    default: small_m_chunks_i8mm<4, 4>(rows, kgroups, au, lda, b, tile); break;
  }
}

#endif  // QMATH_CPU_HAS_ARM_I8MM_TARGET

// The small-M kernel of a resolved AArch64 path for an exact GEMM of M rows; {} (fn null) for the other paths and
// for M outside [1, kSmallMMaxNeon] (an empty A has nothing to run).
inline SmallMKernelI8 small_m_kernel_i8_for(Isa isa, int m) {
  if (m < 1 || m > kSmallMMaxNeon) return {};
  switch (isa) {
#if QMATH_CPU_AARCH64
    case Isa::kNeon: return {small_m_kernel_neon, 128, BPackLayout::kInt8K4};
#endif
#if QMATH_CPU_HAS_ARM_I8MM_TARGET
    case Isa::kNeonDotprod: return {small_m_kernel_neon_dotprod, 128, BPackLayout::kInt8K4};
    case Isa::kNeonI8mm: return {small_m_kernel_neon_i8mm, 0, BPackLayout::kInt8K8};
#endif
    default: return {};
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

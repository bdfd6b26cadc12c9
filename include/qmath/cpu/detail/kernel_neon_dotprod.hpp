// qmath/cpu/detail/kernel_neon_dotprod.hpp - AArch64 DotProd micro-kernel: SDOT by element (FEAT_DotProd, Armv8.2-A
// optional, Armv8.4-A mandatory). Compiled with a per-function target("arch=armv8.2-a+dotprod"); run only where the
// CPU has it.
//
// SDOT is signed x signed, so the A panel holds A' - 128 as int8 (pack_a_panel_s8) and the kernel computes
// tile = sum (A' - 128) B' (PathOps::a_shift = 128). Each SDOT adds, per 32-bit lane, the 4-term dot product of one
// column's 4 k (kInt8K4 B: 16 bytes = 4 columns x 4 k) with one row's 4 k, selected as a lane of a register that
// holds 4 rows x 4 k of the A panel (the 4-k form: 16 bytes = rows r .. r + 3 of one group). Per group: one 16-byte
// load of A per 4 rows, two of B per 8 columns, 16 MACs per SDOT. Sub-tile up to 12 rows x 8 columns
// (24 accumulators), swept over the kNr columns. int32 lanes wrap, so the sums are exact modulo 2^32.
#pragma once

#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/pack.hpp>

#if QMATH_CPU_HAS_ARM_I8MM_TARGET

#define QMATH_TARGET_ARM_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

namespace qmath {
namespace cpu {
namespace detail {

// Rows [0, rows) of the tile with RC = ceil(rows / 4) groups of 4 rows (rows beyond `rows` are computed from the
// panel's zero padding and not stored).
template <int RC>
QMATH_TARGET_ARM_DOTPROD inline void kernel_neon_dotprod_rows(int rows, int kgroups, const std::int8_t* a,
                                                              const std::int8_t* b, std::int32_t* tile,
                                                              bool accumulate) {
  for (int c0 = 0; c0 < kNr; c0 += 8) {
    int32x4_t lo[RC * 4], hi[RC * 4];  // row r: columns c0 .. c0 + 3, c0 + 4 .. c0 + 7
    QMATH_UNROLL
    for (int r = 0; r < RC * 4; ++r) lo[r] = hi[r] = vdupq_n_s32(0);
    const std::int8_t* ag = a;
    const std::int8_t* bg = b + c0 * kKGroup;
    for (int g = 0; g < kgroups; ++g) {
      const int8x16_t b0 = vld1q_s8(bg);
      const int8x16_t b1 = vld1q_s8(bg + 16);
      QMATH_UNROLL
      for (int q = 0; q < RC; ++q) {
        const int8x16_t va = vld1q_s8(ag + q * 4 * kKGroup);  // rows 4q .. 4q + 3
        lo[4 * q + 0] = vdotq_laneq_s32(lo[4 * q + 0], b0, va, 0);
        hi[4 * q + 0] = vdotq_laneq_s32(hi[4 * q + 0], b1, va, 0);
        lo[4 * q + 1] = vdotq_laneq_s32(lo[4 * q + 1], b0, va, 1);
        hi[4 * q + 1] = vdotq_laneq_s32(hi[4 * q + 1], b1, va, 1);
        lo[4 * q + 2] = vdotq_laneq_s32(lo[4 * q + 2], b0, va, 2);
        hi[4 * q + 2] = vdotq_laneq_s32(hi[4 * q + 2], b1, va, 2);
        lo[4 * q + 3] = vdotq_laneq_s32(lo[4 * q + 3], b0, va, 3);
        hi[4 * q + 3] = vdotq_laneq_s32(hi[4 * q + 3], b1, va, 3);
      }
      ag += kMr * kKGroup;
      bg += kNr * kKGroup;
    }
    QMATH_UNROLL
    for (int r = 0; r < RC * 4; ++r) {
      if (r >= rows) break;
      std::int32_t* t = tile + r * kNr + c0;
      if (accumulate) {
        lo[r] = vaddq_s32(lo[r], vld1q_s32(t));
        hi[r] = vaddq_s32(hi[r], vld1q_s32(t + 4));
      }
      vst1q_s32(t, lo[r]);
      vst1q_s32(t + 4, hi[r]);
    }
  }
}

// The kernel contract of kernel_scalar, for an A panel of A' - 128 (see the top of this file).
QMATH_TARGET_ARM_DOTPROD inline void kernel_neon_dotprod(int rows, int kgroups, const void* a_panel,
                                                         const std::int8_t* b, std::int32_t* tile, bool accumulate) {
  const std::int8_t* a = static_cast<const std::int8_t*>(a_panel);
  switch ((rows + 3) / 4) {
    case 1: kernel_neon_dotprod_rows<1>(rows, kgroups, a, b, tile, accumulate); break;
    case 2: kernel_neon_dotprod_rows<2>(rows, kgroups, a, b, tile, accumulate); break;
    default: kernel_neon_dotprod_rows<3>(rows, kgroups, a, b, tile, accumulate); break;
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_HAS_ARM_I8MM_TARGET

// qmath/cpu/detail/kernel_neon.hpp - AArch64 Advanced SIMD (NEON) micro-kernel, the baseline of every AArch64 CPU:
// SMULL / SMULL2 (int8 x int8 -> int16 products) and SADALP (pairwise add of int16 into int32 lanes).
//
// Signed operands: the A panel holds A' - 128 as int8 (pack_a_panel_s8) and B' is int8, so each product has
// magnitude <= 128 * 128 = 16384 and fits int16 exactly; SADALP adds adjacent pairs into wrapping int32 lanes, so
// no step saturates. (Adding two products in int16, as SMLAL would, can reach 32768 and is not used.) The kernel
// computes tile = sum (A' - 128) B' (PathOps::a_shift = 128: gemm.hpp adds 128 * column sum of B' back).
//
// Layouts: kInt8K4 B (16 bytes = 4 columns x 4 k), A panel in the 4-k form (4 bytes = one row's 4 k, broadcast to
// every 32-bit lane with LD1R). Sub-tile R <= 4 rows x 8 columns (4 R accumulators of int32x4, each holding the two
// k-pair sums of 2 columns; a final ADDP folds them into one sum per column), swept over the kMr x kNr tile.
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/pack.hpp>

#if QMATH_CPU_AARCH64

namespace qmath {
namespace cpu {
namespace detail {

template <int R>
inline void kernel_neon_rows(int kgroups, const std::int8_t* a, const std::int8_t* b, std::int32_t* tile,
                             bool accumulate) {
  for (int c0 = 0; c0 < kNr; c0 += 8) {
    int32x4_t acc[R][4];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int q = 0; q < 4; ++q) acc[r][q] = vdupq_n_s32(0);
    const std::int8_t* ag = a;
    const std::int8_t* bg = b + c0 * kKGroup;
    for (int g = 0; g < kgroups; ++g) {
      const int8x16_t b0 = vld1q_s8(bg);       // columns c0 .. c0 + 3, 4 k each
      const int8x16_t b1 = vld1q_s8(bg + 16);  // columns c0 + 4 .. c0 + 7
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        std::int32_t a4;
        std::memcpy(&a4, ag + r * kKGroup, sizeof(a4));
        const int8x16_t va = vreinterpretq_s8_s32(vdupq_n_s32(a4));
        acc[r][0] = vpadalq_s16(acc[r][0], vmull_s8(vget_low_s8(b0), vget_low_s8(va)));
        acc[r][1] = vpadalq_s16(acc[r][1], vmull_high_s8(b0, va));
        acc[r][2] = vpadalq_s16(acc[r][2], vmull_s8(vget_low_s8(b1), vget_low_s8(va)));
        acc[r][3] = vpadalq_s16(acc[r][3], vmull_high_s8(b1, va));
      }
      ag += kMr * kKGroup;
      bg += kNr * kKGroup;
    }
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      std::int32_t* t = tile + r * kNr + c0;
      int32x4_t lo = vpaddq_s32(acc[r][0], acc[r][1]);  // columns c0 .. c0 + 3
      int32x4_t hi = vpaddq_s32(acc[r][2], acc[r][3]);  // columns c0 + 4 .. c0 + 7
      if (accumulate) {
        lo = vaddq_s32(lo, vld1q_s32(t));
        hi = vaddq_s32(hi, vld1q_s32(t + 4));
      }
      vst1q_s32(t, lo);
      vst1q_s32(t + 4, hi);
    }
  }
}

// The kernel contract of kernel_scalar, for an A panel of A' - 128 (see the top of this file).
inline void kernel_neon(int rows, int kgroups, const void* a_panel, const std::int8_t* b, std::int32_t* tile,
                        bool accumulate) {
  const std::int8_t* a = static_cast<const std::int8_t*>(a_panel);
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const std::int8_t* ar = a + r0 * kKGroup;
    std::int32_t* t = tile + r0 * kNr;
    switch (rows - r0) {
      case 1: kernel_neon_rows<1>(kgroups, ar, b, t, accumulate); break;
      case 2: kernel_neon_rows<2>(kgroups, ar, b, t, accumulate); break;
      case 3: kernel_neon_rows<3>(kgroups, ar, b, t, accumulate); break;
      default: kernel_neon_rows<4>(kgroups, ar, b, t, accumulate); break;
    }
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_AARCH64

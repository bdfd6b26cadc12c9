// qmath/cpu/detail/kernel_neon_i8mm.hpp - AArch64 I8MM micro-kernel: USMMLA (FEAT_I8MM, Armv8.6-A). Compiled with a
// per-function target("arch=armv8.2-a+dotprod+i8mm"); run only where the CPU has both.
//
// USMMLA multiplies a 2 x 8 matrix of uint8 (two rows of A', 8 k each) by the transpose of a 2 x 8 matrix of int8
// (two columns of B', 8 k each) and adds the 2 x 2 int32 result to an accumulator: 32 MACs per instruction, and
// unsigned x signed is exactly the A' x B' of every kernel, so A needs no offset (PathOps::a_shift = 0).
// Layouts (detail/pack.hpp, the 8-k form): B kInt8K8 (16 bytes = 2 columns x 8 k), the A panel in the 8-k form
// (pack_a_panel_k8: 16 bytes = 2 rows x 8 k). The K blocks of run_block start at even groups (PathOps::kc_align = 2);
// an odd last group (K mod 8 in 1..4) is still in the 4-k form and is widened to 8 k with zeros in registers.
// Sub-tile up to 12 rows x 8 columns: 6 row pairs x 4 column pairs = 24 accumulators of [r0c0 r0c1 r1c0 r1c1],
// 4 B registers held, A streamed one row pair at a time. int32 lanes wrap: exact modulo 2^32.
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/pack.hpp>

#if QMATH_CPU_HAS_ARM_I8MM_TARGET

#define QMATH_TARGET_ARM_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))

namespace qmath {
namespace cpu {
namespace detail {

// Two adjacent 4-k lanes of a 4-k group (8 bytes at p: lane w's 4 k, then lane w + 1's) as one 8-k operand with
// zeros for k 4 .. 7: [w k0..3, 0, w+1 k0..3, 0].
QMATH_TARGET_ARM_I8MM inline uint8x16_t k4_pair_as_k8(const void* p) {
  std::uint64_t bytes;
  std::memcpy(&bytes, p, sizeof(bytes));
  const uint32x4_t v = vreinterpretq_u32_u64(vdupq_n_u64(bytes));
  return vreinterpretq_u8_u32(vzip1q_u32(v, vdupq_n_u32(0)));
}

// Rows [0, rows) of the tile with RP = ceil(rows / 2) row pairs (a row beyond `rows` is computed from the panel's
// zero padding and not stored).
template <int RP>
QMATH_TARGET_ARM_I8MM inline void kernel_neon_i8mm_rows(int rows, int kgroups, const std::uint8_t* a,
                                                        const std::int8_t* b, std::int32_t* tile, bool accumulate) {
  const int octets = kgroups / 2;
  const bool tail = (kgroups & 1) != 0;
  for (int c0 = 0; c0 < kNr; c0 += 8) {
    int32x4_t acc[RP][4];  // row pair q, column pair c: [r0c0 r0c1 r1c0 r1c1] of rows 2q, 2q+1, columns c0 + 2c, +1
    QMATH_UNROLL
    for (int q = 0; q < RP; ++q)
      QMATH_UNROLL
      for (int c = 0; c < 4; ++c) acc[q][c] = vdupq_n_s32(0);
    const std::uint8_t* ao = a;
    const std::int8_t* bo = b + c0 * 8;
    for (int o = 0; o < octets; ++o) {
      int8x16_t vb[4];
      QMATH_UNROLL
      for (int c = 0; c < 4; ++c) vb[c] = vld1q_s8(bo + 16 * c);
      QMATH_UNROLL
      for (int q = 0; q < RP; ++q) {
        const uint8x16_t va = vld1q_u8(ao + 16 * q);
        QMATH_UNROLL
        for (int c = 0; c < 4; ++c) acc[q][c] = vusmmlaq_s32(acc[q][c], va, vb[c]);
      }
      ao += 2 * kMr * kKGroup;
      bo += 2 * kNr * kKGroup;
    }
    if (tail) {  // one group in the 4-k form: A at ao (kMr rows x 4 k), B at b's group (columns x 4 k)
      const std::int8_t* bt = b + std::size_t(2 * octets) * kNr * kKGroup + c0 * kKGroup;
      int8x16_t vb[4];
      QMATH_UNROLL
      for (int c = 0; c < 4; ++c) vb[c] = vreinterpretq_s8_u8(k4_pair_as_k8(bt + 8 * c));
      QMATH_UNROLL
      for (int q = 0; q < RP; ++q) {
        const uint8x16_t va = k4_pair_as_k8(ao + 8 * q);
        QMATH_UNROLL
        for (int c = 0; c < 4; ++c) acc[q][c] = vusmmlaq_s32(acc[q][c], va, vb[c]);
      }
    }
    QMATH_UNROLL
    for (int q = 0; q < RP; ++q) {
      QMATH_UNROLL
      for (int h = 0; h < 2; ++h) {  // row 2q + h
        if (2 * q + h >= rows) break;
        std::int32_t* t = tile + (2 * q + h) * kNr + c0;
        QMATH_UNROLL
        for (int c = 0; c < 4; c += 2) {  // columns c0 + 2c .. c0 + 2c + 3
          const int64x2_t x = vreinterpretq_s64_s32(acc[q][c]), y = vreinterpretq_s64_s32(acc[q][c + 1]);
          int32x4_t v = vreinterpretq_s32_s64(h == 0 ? vzip1q_s64(x, y) : vzip2q_s64(x, y));
          if (accumulate) v = vaddq_s32(v, vld1q_s32(t + 2 * c));
          vst1q_s32(t + 2 * c, v);
        }
      }
    }
  }
}

// The kernel contract of kernel_scalar, for an A panel and a B in the 8-k form (see the top of this file).
QMATH_TARGET_ARM_I8MM inline void kernel_neon_i8mm(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                   std::int32_t* tile, bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  switch ((rows + 1) / 2) {
    case 1: kernel_neon_i8mm_rows<1>(rows, kgroups, a, b, tile, accumulate); break;
    case 2: kernel_neon_i8mm_rows<2>(rows, kgroups, a, b, tile, accumulate); break;
    case 3: kernel_neon_i8mm_rows<3>(rows, kgroups, a, b, tile, accumulate); break;
    case 4: kernel_neon_i8mm_rows<4>(rows, kgroups, a, b, tile, accumulate); break;
    case 5: kernel_neon_i8mm_rows<5>(rows, kgroups, a, b, tile, accumulate); break;
    default: kernel_neon_i8mm_rows<6>(rows, kgroups, a, b, tile, accumulate); break;
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_HAS_ARM_I8MM_TARGET

// qmath/cuda/arch/mma.cuh - warp-wide integer tensor-core MMA (arch layer: one device definition, inline PTX).
//
//   mma_m16n8k32<TA, TB>(d, a, b, c)   D(16x8) = A(16x32) * B(32x8) + C   (mma.sync.aligned.m16n8k32.row.col, sm_80+)
//   mma_m8n8k16<TA, TB>(d, a, b, c)    D(8x8)  = A(8x16)  * B(16x8) + C   (mma.sync.aligned.m8n8k16.row.col, sm_75+)
//
// TA, TB: std::int8_t (.s8) or std::uint8_t (.u8); C and D are int32 and the sums wrap modulo 2^32 (no .satfinite).
// All 32 lanes of the warp call it together (.sync.aligned), each with its own fragment registers. With
// lane = 4 * g + t (g = lane / 4, t = lane % 4), the fragments are (PTX ISA, "Matrix fragments for mma.m16n8k32"
// and "mma.m8n8k16"; checked against CuTe's MMA_Traits by tests/cuda/shim_test.cpp):
//   m16n8k32  a[r] byte j: A[g + 8 * (r % 2)][16 * (r / 2) + 4 * t + j]      r < 4, j < 4
//             b[r] byte j: B[16 * r + 4 * t + j][g]                         r < 2
//             c[r], d[r]:  C[g + 8 * (r / 2)][2 * t + r % 2]                 r < 4
//   m8n8k16   a[0] byte j: A[g][4 * t + j],  b[0] byte j: B[4 * t + j][g],  c[r], d[r]: C[g][2 * t + r]  r < 2
// "row.col": A is K-contiguous per row, B K-contiguous per column, which is what ldmatrix (non-transposed) gives
// from M x K and N x K shared-memory tiles.
#pragma once

#include <cstdint>
#include <type_traits>

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

#if defined(__CUDACC__)

#define QMATH_ARCH_MMA16832(ta, tb)                                                                              \
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32." ta "." tb ".s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, " \
               "{%10,%11,%12,%13};\n"                                                                            \
               : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])                                                  \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]),         \
                 "r"(c[2]), "r"(c[3]))
#define QMATH_ARCH_MMA8816(ta, tb)                                                                \
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32." ta "." tb ".s32 {%0,%1}, {%2}, {%3}, {%4,%5};\n" \
               : "=r"(d[0]), "=r"(d[1])                                                           \
               : "r"(a[0]), "r"(b[0]), "r"(c[0]), "r"(c[1]))

template <class TA, class TB>
__device__ __forceinline__ void mma_m16n8k32(std::int32_t (&d)[4], const std::uint32_t (&a)[4],
                                             const std::uint32_t (&b)[2], const std::int32_t (&c)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (std::is_signed<TA>::value && std::is_signed<TB>::value) {
    QMATH_ARCH_MMA16832("s8", "s8");
  } else if constexpr (std::is_signed<TA>::value) {
    QMATH_ARCH_MMA16832("s8", "u8");
  } else if constexpr (std::is_signed<TB>::value) {
    QMATH_ARCH_MMA16832("u8", "s8");
  } else {
    QMATH_ARCH_MMA16832("u8", "u8");
  }
#else
  (void)d, (void)a, (void)b, (void)c;
  __trap();  // m16n8k32 needs sm_80; the host side never launches the sm_80 kernel on older devices
#endif
}

template <class TA, class TB>
__device__ __forceinline__ void mma_m8n8k16(std::int32_t (&d)[2], const std::uint32_t (&a)[1],
                                            const std::uint32_t (&b)[1], const std::int32_t (&c)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
  if constexpr (std::is_signed<TA>::value && std::is_signed<TB>::value) {
    QMATH_ARCH_MMA8816("s8", "s8");
  } else if constexpr (std::is_signed<TA>::value) {
    QMATH_ARCH_MMA8816("s8", "u8");
  } else if constexpr (std::is_signed<TB>::value) {
    QMATH_ARCH_MMA8816("u8", "s8");
  } else {
    QMATH_ARCH_MMA8816("u8", "u8");
  }
#else
  (void)d, (void)a, (void)b, (void)c;
  __trap();
#endif
}

#undef QMATH_ARCH_MMA16832
#undef QMATH_ARCH_MMA8816

#else
// Host compilers: declared only; the host runtime that provides <cuda_runtime.h> (the tests' shim) defines it.
template <class TA, class TB>
__device__ void mma_m16n8k32(std::int32_t (&d)[4], const std::uint32_t (&a)[4],
                                  const std::uint32_t (&b)[2], const std::int32_t (&c)[4]);
template <class TA, class TB>
__device__ void mma_m8n8k16(std::int32_t (&d)[2], const std::uint32_t (&a)[1],
                                 const std::uint32_t (&b)[1], const std::int32_t (&c)[2]);
#endif  // __CUDACC__

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

// qmath/cuda/arch/ldmatrix.cuh - warp-wide loads of 8x8 b16 matrices from shared memory into mma fragments
// (arch layer: one device definition, inline PTX; ldmatrix.sync.aligned.m8n8.x{1,2,4}[.trans].shared.b16, sm_75+).
//
//   ldmatrix<N, Trans>(r, row)   N in {1, 2, 4} matrices; all 32 lanes call it together.
// Lane 8 * i + j (i < N, j < 8) passes the address of row j of matrix i (16 bytes, 16-byte aligned, shared memory);
// the other lanes' addresses are ignored. Lane l = 4 * g + t then receives in r[i] the 32-bit word t of row g of
// matrix i (its b16 elements (g, 2t) and (g, 2t + 1), low half first); with Trans, the elements (2t, g) and
// (2t + 1, g) instead. For int8 data a "b16 element" is a pair of bytes, so r[i] holds bytes 4t..4t+3 of row g: the
// row-major A / column-major B fragment of mma (see mma.cuh).
#pragma once

#include <cstdint>

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

#if defined(__CUDACC__)
template <int N, bool Trans = false>
__device__ __forceinline__ void ldmatrix(std::uint32_t (&r)[N], const void* row) {
  static_assert(N == 1 || N == 2 || N == 4, "ldmatrix loads 1, 2 or 4 matrices");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 750
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(row));
  if constexpr (N == 1 && !Trans) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(addr));
  } else if constexpr (N == 1) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(r[0]) : "r"(addr));
  } else if constexpr (N == 2 && !Trans) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n" : "=r"(r[0]), "=r"(r[1]) : "r"(addr));
  } else if constexpr (N == 2) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1])
                 : "r"(addr));
  } else if constexpr (!Trans) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  } else {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
  }
#else
  (void)r, (void)row;
  __trap();
#endif
}
#else
// Host compilers: declared only; the host runtime that provides <cuda_runtime.h> (the tests' shim) defines it.
template <int N, bool Trans = false>
__device__ void ldmatrix(std::uint32_t (&r)[N], const void* row);
#endif  // __CUDACC__

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

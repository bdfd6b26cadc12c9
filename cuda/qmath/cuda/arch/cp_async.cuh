// qmath/cuda/arch/cp_async.cuh - asynchronous global -> shared copies (arch layer: one device definition, inline
// PTX; cp.async.cg.shared.global / commit_group / wait_group, sm_80+).
//
//   cp_async_16(dst, src, src_bytes)   starts copying src_bytes (0..16) bytes from global src to shared dst and
//                                      zero-fills the rest of the 16 (both 16-byte aligned; src is not read when
//                                      src_bytes == 0). The data is NOT visible until a wait covers it.
//   cp_async_commit()                  closes the calling thread's current group of copies.
//   cp_async_wait<N>()                 waits until at most N of the calling thread's committed groups are pending.
// Copies are per thread: other threads see the data only after the issuing thread's wait AND a barrier.
#pragma once

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

#if defined(__CUDACC__)
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, int src_bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned addr = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(src), "r"(src_bytes));
#else
  (void)dst, (void)src, (void)src_bytes;
  __trap();
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}
#else
// Host compilers: declared only; the host runtime that provides <cuda_runtime.h> (the tests' shim) defines it.
__device__ void cp_async_16(void* dst, const void* src, int src_bytes);
__device__ void cp_async_commit();
template <int N>
__device__ void cp_async_wait();
#endif  // __CUDACC__

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

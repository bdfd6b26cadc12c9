// qmath/cuda/platform.cuh - what every qmath CUDA header includes first: the CUDA runtime under nvcc, or the
// test-only host execution layer (qmath/cuda/emulation/) when QMATH_CUDA_HOST_EMULATION is defined.
//
// Kernels written against this header compile unchanged with nvcc and with a host compiler. The subset they may
// use: __global__ / __device__ / __forceinline__ / __launch_bounds__, threadIdx / blockIdx / blockDim / gridDim,
// __syncthreads, atomics (atomicAdd/Max/Min/CAS/Exch on int, unsigned, unsigned long long; atomicAdd on float),
// the vector types char4 ... float4, __dp4a (prefer qmath::cuda::dp4a), and shared memory declared ONLY through
// the macros below (never `__shared__` directly):
//
//   QMATH_SHARED(type, name, count);           // __shared__ type name[count]         (16-byte aligned)
//   QMATH_SHARED_2D(type, name, rows, cols);   // __shared__ type name[rows][cols]    (16-byte aligned)
//   QMATH_DYNAMIC_SHARED(type, name);          // type* name = the launch's dynamic shared memory
//
// Rules for the emulated mode: every thread of a block must execute the same shared-memory declarations in the
// same order (put them at the top of the kernel, outside any branch); `name` is a pointer there, so do not apply
// sizeof to it; no warp-level intrinsics (__shfl*, __ballot*, __syncwarp) and no inline PTX.
#pragma once

#include <qmath/config.hpp>

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#define QMATH_SHARED(type, name, count) __shared__ __align__(16) type name[count]
#define QMATH_SHARED_2D(type, name, rows, cols) __shared__ __align__(16) type name[rows][cols]
#define QMATH_DYNAMIC_SHARED(type, name)                      \
  extern __shared__ __align__(16) unsigned char qmath_dynamic_smem_[]; \
  type* const name = reinterpret_cast<type*>(qmath_dynamic_smem_)
#define QMATH_CUDA_EMULATED 0

#elif defined(QMATH_CUDA_HOST_EMULATION)

#include <qmath/cuda/emulation/intrinsics.hpp>
#include <qmath/cuda/emulation/runtime.hpp>

#define QMATH_SHARED(type, name, count) type* const name = ::qmath::cuda::emu::shared_alloc<type>(count)
#define QMATH_SHARED_2D(type, name, rows, cols)                                                              \
  type(*const name)[cols] = reinterpret_cast<type(*)[cols]>(::qmath::cuda::emu::shared_alloc<type>(      \
      static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)))
#define QMATH_DYNAMIC_SHARED(type, name) \
  type* const name = static_cast<type*>(::qmath::cuda::emu::context().launch->dynamic_shared())
#define QMATH_CUDA_EMULATED 1

#else
#error "qmath/cuda headers need nvcc, or QMATH_CUDA_HOST_EMULATION (test-only host execution) with a host compiler"
#endif

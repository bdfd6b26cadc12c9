// qmath/cuda/arch/runtime.cuh - the CUDA runtime and built-ins (threadIdx, __syncthreads, __dp4a, atomics, vector
// types, cudaLaunchKernelEx, ...), and the shared-memory declaration macros every qmath kernel uses.
//
// <cuda_runtime.h> is nvcc's own. The qmath tests compile the same kernels with a host compiler by putting their
// shim (tests/cuda/shim, never installed) first on the include path: it provides its own <cuda_runtime.h> and its
// own copy of this header, with host definitions of the same names.
//
// Shared memory is declared only through these macros (at the top of a kernel, unconditionally, in the same order
// in every thread; never `__shared__` directly, never sizeof on the name):
//
//   QMATH_SHARED(type, name, count);           // __shared__ type name[count]         (16-byte aligned)
//   QMATH_SHARED_2D(type, name, rows, cols);   // __shared__ type name[rows][cols]    (16-byte aligned)
//   QMATH_DYNAMIC_SHARED(type, name);          // type* name = the launch's dynamic shared memory
#pragma once

#include <cuda_runtime.h>

#define QMATH_SHARED(type, name, count) __shared__ __align__(16) type name[count]
#define QMATH_SHARED_2D(type, name, rows, cols) __shared__ __align__(16) type name[rows][cols]
#define QMATH_DYNAMIC_SHARED(type, name)                               \
  extern __shared__ __align__(16) unsigned char qmath_dynamic_smem_[]; \
  type* const name = reinterpret_cast<type*>(qmath_dynamic_smem_)

// qmath/cuda/arch/memory.cuh - 16-byte vector loads and stores (arch layer: one device definition each).
//
//   load_16(p)       the 16 bytes at p (16-byte aligned; global or shared memory) as one 128-bit load
//   store_16(p, v)   stores them at p (16-byte aligned) as one 128-bit store
#pragma once

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

#if defined(__CUDACC__)
__device__ __forceinline__ uint4 load_16(const void* p) { return *static_cast<const uint4*>(p); }
__device__ __forceinline__ void store_16(void* p, uint4 v) { *static_cast<uint4*>(p) = v; }
#else
// Host compilers: declared only; the host runtime that provides <cuda_runtime.h> (the tests' shim) defines them.
__device__ uint4 load_16(const void* p);
__device__ void store_16(void* p, uint4 v);
#endif  // __CUDACC__

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

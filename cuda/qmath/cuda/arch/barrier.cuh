// qmath/cuda/arch/barrier.cuh - block and warp barriers (arch layer: one device definition each).
//
//   sync_block()     __syncthreads(): every non-exited thread of the block arrives; shared and global memory
//                    written before it by any thread of the block is visible after it to all of them (bar.sync 0).
//   sync_warp(mask)  __syncwarp(mask): the lanes in `mask` (which must include the caller) wait for each other, with
//                    the same memory ordering among them (bar.warp.sync, sm_70+).
#pragma once

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

__device__ __forceinline__ void sync_block() { __syncthreads(); }

__device__ __forceinline__ void sync_warp(unsigned mask = 0xFFFFFFFFu) { __syncwarp(mask); }

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

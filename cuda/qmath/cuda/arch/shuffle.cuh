// qmath/cuda/arch/shuffle.cuh - warp shuffles and votes (arch layer: one device definition each; sm_70+ .sync forms).
//
// `mask` names the lanes taking part; every lane in it must execute the same call (same mask) and the caller must be
// in it. A lane that reads a lane outside `mask` gets an undefined value (the tests' shim returns 0xA5A5A5A5 there).
//   shfl(mask, v, src)        the value v of lane src (src taken modulo 32)
//   shfl_xor(mask, v, m)      the value v of lane (lane ^ m)
//   shfl_down(mask, v, d)     the value v of lane (lane + d), or the caller's own v when lane + d > 31
//   ballot(mask, pred)        bit l set when lane l (in mask) has pred != 0
#pragma once

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

template <class T>
__device__ __forceinline__ T shfl(unsigned mask, T v, int src) {
  return __shfl_sync(mask, v, src);
}
template <class T>
__device__ __forceinline__ T shfl_xor(unsigned mask, T v, int lane_mask) {
  return __shfl_xor_sync(mask, v, lane_mask);
}
template <class T>
__device__ __forceinline__ T shfl_down(unsigned mask, T v, unsigned delta) {
  return __shfl_down_sync(mask, v, delta);
}
__device__ __forceinline__ unsigned ballot(unsigned mask, bool pred) { return __ballot_sync(mask, pred ? 1 : 0); }

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

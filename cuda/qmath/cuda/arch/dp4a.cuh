// qmath/cuda/arch/dp4a.cuh - the 4-way 8-bit dot product with 32-bit accumulation (arch layer: one device definition).
//
//   dp4a(a, b, c)    = c + sum_{i<4} int8(a.byte[i]) * int8(b.byte[i])      (PTX dp4a.s32.s32, SASS IDP.4A)
//   dp4a_u8(a, b, c) = c + sum_{i<4} uint8(a.byte[i]) * uint8(b.byte[i])    (PTX dp4a.u32.u32)
//
// byte[i] is bits [8i, 8i + 8) (the i-th byte in memory). The sum wraps modulo 2^32 with no intermediate saturation,
// exactly like the instruction (sm_61+).
#pragma once

#include <cstdint>

#include <qmath/cuda/arch/runtime.cuh>

namespace qmath {
namespace cuda {
namespace arch {

__device__ __forceinline__ std::int32_t dp4a(std::int32_t a, std::int32_t b, std::int32_t c) { return __dp4a(a, b, c); }

__device__ __forceinline__ std::uint32_t dp4a_u8(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  return __dp4a(a, b, c);
}

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

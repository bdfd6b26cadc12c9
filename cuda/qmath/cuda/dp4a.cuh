// qmath/cuda/dp4a.cuh - the 4-way int8 dot product with int32 accumulation, one function for device and host.
//
//   dp4a(a, b, c)    = c + sum_{i<4} int8(a.byte[i]) * int8(b.byte[i])      (PTX dp4a.s32.s32, SASS IDP.4A)
//   dp4a_u8(a, b, c) = c + sum_{i<4} uint8(a.byte[i]) * uint8(b.byte[i])    (PTX dp4a.u32.u32)
//
// byte[i] is bits [8i, 8i + 8) (little-endian: the i-th int8 in memory). The sum wraps modulo 2^32, with no
// intermediate saturation, exactly like the instruction. In device code (sm_61+) it is the __dp4a intrinsic; on the
// host it is the four-term scalar loop, so host tests exercise the same function the kernels call.
#pragma once

#include <cstdint>

#include <qmath/config.hpp>

namespace qmath {
namespace cuda {

QMATH_HOST_DEVICE std::int32_t dp4a(std::int32_t a, std::int32_t b, std::int32_t c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(a, b, c);
#else
  std::uint32_t acc = static_cast<std::uint32_t>(c);
  for (int i = 0; i < 4; ++i) {
    const auto ai = static_cast<std::int8_t>(static_cast<std::uint32_t>(a) >> (8 * i));
    const auto bi = static_cast<std::int8_t>(static_cast<std::uint32_t>(b) >> (8 * i));
    acc += static_cast<std::uint32_t>(std::int32_t(ai) * std::int32_t(bi));
  }
  return static_cast<std::int32_t>(acc);
#endif
}

QMATH_HOST_DEVICE std::uint32_t dp4a_u8(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(a, b, c);
#else
  std::uint32_t acc = c;
  for (int i = 0; i < 4; ++i) acc += ((a >> (8 * i)) & 0xFFu) * ((b >> (8 * i)) & 0xFFu);
  return acc;
#endif
}

}  // namespace cuda
}  // namespace qmath

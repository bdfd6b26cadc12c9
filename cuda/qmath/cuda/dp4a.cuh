// qmath/cuda/dp4a.cuh - qmath::cuda::dp4a / dp4a_u8, the 4-way 8-bit dot product of the arch layer
// (qmath/cuda/arch/dp4a.cuh) under the names the kernels have always used.
//
//   dp4a(a, b, c)    = c + sum_{i<4} int8(a.byte[i]) * int8(b.byte[i])      (PTX dp4a.s32.s32, SASS IDP.4A)
//   dp4a_u8(a, b, c) = c + sum_{i<4} uint8(a.byte[i]) * uint8(b.byte[i])    (PTX dp4a.u32.u32)
#pragma once

#include <qmath/cuda/arch/dp4a.cuh>

namespace qmath {
namespace cuda {

using arch::dp4a;
using arch::dp4a_u8;

}  // namespace cuda
}  // namespace qmath

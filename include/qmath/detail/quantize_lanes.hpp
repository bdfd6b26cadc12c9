// qmath/detail/quantize_lanes.hpp - quantize / dequantize of int8 and uint8 arrays, one body over the lane primitives.
//
// detail/quantize_lanes-inl.hpp holds the body; it is included here once per lane backend (qmath/detail/lanes.hpp
// explains the pattern), giving qmath::detail::lanes_<isa>::quantize_lanes<T> and dequantize_lanes<T> with the
// contracts of the portable loops in qmath/quantize_array.hpp. The NEON copy is the kNeon kernel of the array forms
// (detail/quantize_simd.hpp); the scalar, AVX2 and AVX-512 copies are checked against the portable loops by
// tests/quantize_simd_test.cpp (the x86 dispatch runs the hand-written kernels of quantize_avx2.hpp / _avx512.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx2.hpp>
#include <qmath/detail/lanes_avx512.hpp>
#include <qmath/detail/lanes_neon.hpp>
#include <qmath/detail/lanes_scalar.hpp>
#include <qmath/detail/quantize_simd_common.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace detail {
namespace lanes_scalar {
#include <qmath/detail/quantize_lanes-inl.hpp>
}  // namespace lanes_scalar
}  // namespace detail
}  // namespace qmath

#if QMATH_CPU_X86 && !defined(__CUDACC__) && !defined(__CUDA__)
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
namespace qmath {
namespace detail {
namespace lanes_avx2 {
#include <qmath/detail/quantize_lanes-inl.hpp>
}  // namespace lanes_avx2
}  // namespace detail
}  // namespace qmath
QMATH_LANES_POP_TARGET()

QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX512_FEATURES)
namespace qmath {
namespace detail {
namespace lanes_avx512 {
#include <qmath/detail/quantize_lanes-inl.hpp>
}  // namespace lanes_avx512
}  // namespace detail
}  // namespace qmath
QMATH_LANES_POP_TARGET()
#endif

#if QMATH_LANES_NEON
namespace qmath {
namespace detail {
namespace lanes_neon {
#include <qmath/detail/quantize_lanes-inl.hpp>
}  // namespace lanes_neon
}  // namespace detail
}  // namespace qmath
#endif

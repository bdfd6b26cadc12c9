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

#define QMATH_LANES_BODY <qmath/detail/quantize_lanes-inl.hpp>
#include <qmath/detail/lanes_body_scalar.hpp>
#if !defined(__CUDACC__) && !defined(__CUDA__)  // CUDA translation units compile the x86 kernels out (quantize_simd.hpp)
#include <qmath/detail/lanes_body_avx2.hpp>
#include <qmath/detail/lanes_body_avx512.hpp>
#endif
#include <qmath/detail/lanes_body_neon.hpp>
#undef QMATH_LANES_BODY

// qmath/detail/quantize_lanes.hpp - quantize / dequantize of int8 and uint8 arrays, one body over the lane primitives.
//
// detail/quantize_lanes-inl.hpp holds the body; it is included here once per lane backend (qmath/detail/lanes.hpp
// explains the pattern), giving qmath::detail::lanes_<isa>::quantize_lanes<T> and dequantize_lanes<T> with the
// contracts of the portable loops in qmath/quantize_array.hpp. The AVX2, AVX-512 and NEON copies are the quantize
// kernels of the array forms on kAvx2, kAvx512 and kNeon, and the dequantize kernels on kAvx2 and kNeon
// (detail/quantize_simd.hpp); every copy, the scalar one included, is checked against the portable loops by
// tests/quantize_simd_test.cpp.
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

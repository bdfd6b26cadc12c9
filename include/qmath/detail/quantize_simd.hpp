// qmath/detail/quantize_simd.hpp - the AVX2, AVX-512 and NEON kernels of the array quantize / dequantize loops,
// behind one call per direction that takes the (already resolved) path.
//
// The portable loops in quantize_array.hpp are normative; the kernels here must match them bit for bit (tests/
// quantize_simd_test.cpp checks every path). The kernels are compiled with per-function target attributes, so this
// header builds with plain compiler flags; which path runs is decided by qmath/isa.hpp. Only int8 and uint8 outputs
// have vector kernels; everything else, other targets, CUDA translation units, non-GCC/Clang compilers (on x86) and
// builds with QMATH_DISABLE_SIMD use the portable loops. quantize on every vector path (kAvx2, kAvx512, kNeon) is the
// lane body of detail/quantize_lanes-inl.hpp on that path's lane backend (kDivide: its reciprocal fast path with the
// exact fallback; the multiply rules: the product per lane); dequantize is the lane body on kAvx2 and kNeon and the
// hand-written kernel of detail/quantize_avx512.hpp on kAvx512. kNeonDotprod and kNeonI8mm resolve to kNeon.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <qmath/detail/lanes.hpp>
#include <qmath/isa.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

#if !defined(QMATH_DISABLE_SIMD) && !defined(__CUDACC__) && !defined(__CUDA__) && QMATH_CPU_X86
#define QMATH_X86_SIMD 1
#else
#define QMATH_X86_SIMD 0
#endif

#if !defined(QMATH_DISABLE_SIMD) && !defined(__CUDACC__) && !defined(__CUDA__) && QMATH_LANES_NEON
#define QMATH_NEON_SIMD 1
#else
#define QMATH_NEON_SIMD 0
#endif

#if QMATH_X86_SIMD
#include <qmath/detail/quantize_avx512.hpp>
#endif
#if QMATH_X86_SIMD || QMATH_NEON_SIMD
#include <qmath/detail/quantize_lanes.hpp>
#endif

namespace qmath {
namespace detail {

// The paths the array loops have kernels for (kScalar: the portable loops).
constexpr unsigned kQuantizeKernels =
    isa_bit(Isa::kScalar) | (QMATH_X86_SIMD ? isa_bit(Isa::kAvx2) | isa_bit(Isa::kAvx512) : 0u) |
    (QMATH_NEON_SIMD ? isa_bit(Isa::kNeon) : 0u);

template <class T>
inline constexpr bool kSimdStorage = std::is_same<T, std::int8_t>::value || std::is_same<T, std::uint8_t>::value;

// Quantizes with the kernel of `isa` (kAvx2, kAvx512 or kNeon) and returns true, or returns false (writing nothing) when
// there is no such kernel for T, isa is another path, or the path is not available; the caller then runs the
// portable loop. Parameters are already checked. The lane body computes rule_operand(p, range, rule) once.
template <class T>
bool quantize_array_simd(Isa isa, const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode,
                         QuantizeRule rule = QuantizeRule::kDivide) {
#if QMATH_X86_SIMD
  if constexpr (kSimdStorage<T>) {
    if ((isa != Isa::kAvx2 && isa != Isa::kAvx512) || !isa_available(isa)) return false;
    if (isa == Isa::kAvx512)
      lanes_avx512::quantize_lanes(x, n, q, p, range, mode, rule);
    else
      lanes_avx2::quantize_lanes(x, n, q, p, range, mode, rule);
    return true;
  }
#endif
#if QMATH_NEON_SIMD
  if constexpr (kSimdStorage<T>) {
    if (isa != Isa::kNeon || !isa_available(isa)) return false;
    lanes_neon::quantize_lanes(x, n, q, p, range, mode, rule);
    return true;
  }
#endif
  (void)isa, (void)x, (void)n, (void)q, (void)p, (void)range, (void)mode, (void)rule;
  return false;
}

// Dequantizes with the kernel of `isa`, or returns false as above.
template <class T>
bool dequantize_array_simd(Isa isa, const T* q, std::size_t n, float* x, QuantParams p) {
#if QMATH_X86_SIMD
  if constexpr (kSimdStorage<T>) {
    if ((isa != Isa::kAvx2 && isa != Isa::kAvx512) || !isa_available(isa)) return false;
    if (isa == Isa::kAvx512)
      avx512::dequantize(q, n, x, p);
    else
      lanes_avx2::dequantize_lanes(q, n, x, p);
    return true;
  }
#endif
#if QMATH_NEON_SIMD
  if constexpr (kSimdStorage<T>) {
    if (isa != Isa::kNeon || !isa_available(isa)) return false;
    lanes_neon::dequantize_lanes(q, n, x, p);
    return true;
  }
#endif
  (void)isa, (void)q, (void)n, (void)x, (void)p;
  return false;
}

}  // namespace detail
}  // namespace qmath

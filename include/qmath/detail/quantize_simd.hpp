// qmath/detail/quantize_simd.hpp - run-time dispatch of the array quantize / dequantize loops to AVX2 or AVX-512.
//
// The portable loops in quantize.hpp are normative; the kernels here must match them bit for bit (tests/
// quantize_simd_test.cpp checks every path). The kernels are compiled with per-function target attributes, so this
// header builds with plain compiler flags and the instruction set is chosen at run time from the CPU's features.
// Only int8 and uint8 outputs have vector kernels; everything else, non-x86 targets, CUDA translation units and
// non-GCC/Clang compilers use the portable loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

#if !defined(QMATH_DISABLE_SIMD) && !defined(__CUDACC__) && !defined(__CUDA__) && \
    (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define QMATH_X86_SIMD 1
#else
#define QMATH_X86_SIMD 0
#endif

#if QMATH_X86_SIMD
#include <qmath/detail/quantize_avx2.hpp>
#include <qmath/detail/quantize_avx512.hpp>
#endif

namespace qmath {
namespace detail {

// The instruction sets an array loop can run on, in increasing order.
enum class SimdIsa {
  kScalar,  // the portable loops in quantize.hpp (normative)
  kAvx2,    // AVX2, 8 lanes
  kAvx512,  // AVX-512 F/BW/VL/DQ, 16 lanes
};

// True when the running CPU supports `isa` (and this build has kernels for it).
inline bool simd_isa_supported(SimdIsa isa) {
#if QMATH_X86_SIMD
  switch (isa) {
    case SimdIsa::kScalar:
      return true;
    case SimdIsa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case SimdIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }
  return false;
#else
  return isa == SimdIsa::kScalar;
#endif
}

// The widest supported instruction set, detected once.
inline SimdIsa best_simd_isa() {
  static const SimdIsa best = simd_isa_supported(SimdIsa::kAvx512) ? SimdIsa::kAvx512
                              : simd_isa_supported(SimdIsa::kAvx2) ? SimdIsa::kAvx2
                                                                   : SimdIsa::kScalar;
  return best;
}

template <class T>
inline constexpr bool kSimdStorage = std::is_same<T, std::int8_t>::value || std::is_same<T, std::uint8_t>::value;

// Quantizes with the kernel of `isa` and returns true, or returns false (writing nothing) when there is no such
// kernel for T or the CPU lacks `isa`; the caller then runs the portable loop. Parameters are already checked.
template <class T>
bool quantize_array_simd(SimdIsa isa, const float* x, std::size_t n, T* q, QuantParams p, QuantRange range,
                         Round mode) {
#if QMATH_X86_SIMD
  if constexpr (kSimdStorage<T>) {
    if (isa == SimdIsa::kScalar || !simd_isa_supported(isa)) return false;
    if (isa == SimdIsa::kAvx512)
      avx512::quantize(x, n, q, p, range, mode);
    else
      avx2::quantize(x, n, q, p, range, mode);
    return true;
  }
#endif
  (void)isa, (void)x, (void)n, (void)q, (void)p, (void)range, (void)mode;
  return false;
}

// Dequantizes with the kernel of `isa`, or returns false as above.
template <class T>
bool dequantize_array_simd(SimdIsa isa, const T* q, std::size_t n, float* x, QuantParams p) {
#if QMATH_X86_SIMD
  if constexpr (kSimdStorage<T>) {
    if (isa == SimdIsa::kScalar || !simd_isa_supported(isa)) return false;
    if (isa == SimdIsa::kAvx512)
      avx512::dequantize(q, n, x, p);
    else
      avx2::dequantize(q, n, x, p);
    return true;
  }
#endif
  (void)isa, (void)q, (void)n, (void)x, (void)p;
  return false;
}

}  // namespace detail
}  // namespace qmath

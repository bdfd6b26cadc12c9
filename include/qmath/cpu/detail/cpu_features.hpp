// qmath/cpu/detail/cpu_features.hpp - the build-side macros of the GEMM kernels and the intrinsics they use: the
// x86 intrinsics header on x86-64, arm_neon.h on AArch64 (each only on its own architecture).
//
// QMATH_CPU_X86, QMATH_CPU_HAS_AVXVNNI_TARGET, QMATH_CPU_AARCH64 and QMATH_CPU_HAS_ARM_I8MM_TARGET come from
// qmath/detail/cpu_features.hpp, the one place that reads the CPU's features; which path runs is decided by
// qmath/isa.hpp.
#pragma once

#include <qmath/detail/cpu_features.hpp>

#include <cstddef>
#include <cstdint>

#if QMATH_CPU_X86
#include <immintrin.h>

namespace qmath {
namespace cpu {
namespace detail {

// Prefetches the cache line `bytes` past p into L1. The address is formed as an integer because it may lie past
// the end of the buffer (a prefetch never faults), where pointer arithmetic would be undefined behaviour.
inline void prefetch_l1(const void* p, std::ptrdiff_t bytes) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(p) + bytes), _MM_HINT_T0);
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath
#endif

#if QMATH_CPU_AARCH64
#include <arm_neon.h>
#endif

// qmath/cpu/detail/cpu_features.hpp - the build-side macros of the GEMM kernels and the intrinsics they use.
//
// QMATH_CPU_X86 and QMATH_CPU_HAS_AVXVNNI_TARGET come from qmath/detail/cpu_features.hpp, the one place that reads
// the CPU's features; which path runs is decided by qmath/isa.hpp.
#pragma once

#include <qmath/detail/cpu_features.hpp>

#if QMATH_CPU_X86
#include <immintrin.h>
#endif

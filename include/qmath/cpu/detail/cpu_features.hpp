// qmath/cpu/detail/cpu_features.hpp - which x86 instruction sets the compiler can target and the CPU can run.
//
// The SIMD kernels are compiled with GCC/Clang target attributes (no global -m flags), so one binary carries every
// path and picks one at run time. QMATH_CPU_X86 is 1 when the compiler can emit them (GCC or Clang on x86-64);
// QMATH_CPU_HAS_AVXVNNI_TARGET is 1 when it also knows target("avxvnni") (GCC >= 11, Clang >= 12).
#pragma once

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define QMATH_CPU_X86 1
#else
#define QMATH_CPU_X86 0
#endif

#if QMATH_CPU_X86 && ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && __GNUC__ >= 11))
#define QMATH_CPU_HAS_AVXVNNI_TARGET 1
#else
#define QMATH_CPU_HAS_AVXVNNI_TARGET 0
#endif

#if QMATH_CPU_X86
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace qmath {
namespace cpu {
namespace detail {

// CPU feature bits, read once (the GCC/Clang runtime also checks that the OS saves the AVX / AVX-512 state).
struct CpuFeatures {
  bool avx2 = false;
  bool avx512vnni = false;  // AVX-512 F + BW + VL + VNNI
  bool avxvnni = false;     // AVX2 + the VEX-encoded VNNI (Alder Lake, Sapphire Rapids and later)
};

inline CpuFeatures read_cpu_features() {
  CpuFeatures f;
#if QMATH_CPU_X86
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
  f.avx512vnni = __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("avx512bw") != 0 &&
                 __builtin_cpu_supports("avx512vl") != 0 && __builtin_cpu_supports("avx512vnni") != 0;
#if QMATH_CPU_HAS_AVXVNNI_TARGET
  // CPUID.(EAX=7, ECX=1):EAX bit 4 (read directly: Clang < 16 has no "avxvnni" for __builtin_cpu_supports). The
  // ymm state it needs is the one AVX2 needs, which __builtin_cpu_supports("avx2") has checked with the OS.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  f.avxvnni = f.avx2 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && ((eax >> 4) & 1u) != 0;
#endif
#endif
  return f;
}

inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = read_cpu_features();
  return features;
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

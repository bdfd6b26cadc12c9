// qmath/detail/cpu_features.hpp - the one place that asks the CPU and the OS which instructions it may use.
//
// Read once per process (cpu_features()).
// x86-64: the CPUID instruction and XGETBV through inline assembly: no intrinsics header, no compiler run-time
// support function. A vector extension counts only when the OS saves its register state on context switches (XCR0:
// bits 1-2 for the ymm state of AVX/AVX2/FMA/AVX-VNNI, bits 5-7 for the opmask and zmm state of AVX-512).
// AArch64 Linux: the kernel's hardware capability words, getauxval(AT_HWCAP) (HWCAP_ASIMD bit 1, HWCAP_ASIMDDP
// bit 20) and getauxval(AT_HWCAP2) (HWCAP2_I8MM bit 13); the kernel sets a bit only when it lets user space use the
// feature, and the emulators (qemu-user) set them for the CPU model they emulate. AArch64 macOS (untested): the
// sysctls hw.optional.arm.FEAT_DotProd and hw.optional.arm.FEAT_I8MM; Advanced SIMD is always there. Other AArch64
// systems: Advanced SIMD only (part of the AArch64 base architecture).
//
// Build side: QMATH_CPU_X86 is 1 when the compiler can emit the SIMD kernels with per-function target attributes
// (GCC or Clang on x86-64; no global -m flags needed); QMATH_CPU_HAS_AVXVNNI_TARGET is 1 when it also knows
// target("avxvnni") (GCC >= 11, Clang >= 12). QMATH_CPU_AARCH64 is 1 for GCC or Clang on AArch64 (little-endian)
// and QMATH_CPU_HAS_ARM_I8MM_TARGET is 1 when the compiler also takes target("arch=armv8.2-a+dotprod+i8mm") on one
// function with the matching arm_neon.h intrinsics (GCC >= 10; Clang is left out until tested), which the DotProd
// and I8MM kernels need. Everything else (other architectures, other compilers) has only the scalar paths, and every
// field below stays false.
#pragma once

#include <cstddef>
#include <cstdint>

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

#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(__AARCH64EB__) && (defined(__GNUC__) || defined(__clang__))
#define QMATH_CPU_AARCH64 1
#else
#define QMATH_CPU_AARCH64 0
#endif

#if QMATH_CPU_AARCH64 && !defined(__clang__) && __GNUC__ >= 10
#define QMATH_CPU_HAS_ARM_I8MM_TARGET 1
#else
#define QMATH_CPU_HAS_ARM_I8MM_TARGET 0
#endif

#if QMATH_CPU_AARCH64 && defined(__linux__)
#include <sys/auxv.h>
#elif QMATH_CPU_AARCH64 && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace qmath {
namespace detail {

// Instruction-set features of the running CPU, each true only when the OS also saves the state it needs.
struct CpuFeatures {
  // x86-64 (detected).
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vnni = false;  // EVEX VPDPBUSD (Cascade Lake, Ice Lake, Zen 4 and later)
  bool avxvnni = false;     // VEX VPDPBUSD (Alder Lake, Sapphire Rapids, Zen 5 and later)
  // AArch64 (detected).
  bool neon = false;         // Advanced SIMD (every AArch64 CPU)
  bool arm_dotprod = false;  // SDOT/UDOT (FEAT_DotProd)
  bool arm_i8mm = false;     // SMMLA/UMMLA/USMMLA/USDOT (FEAT_I8MM)
  // Not detected yet (always false): room for future paths.
  bool amx_int8 = false;  // x86 AMX-INT8 (also needs the Linux XTILEDATA permission request)
};

#if QMATH_CPU_X86
struct CpuidRegs {
  std::uint32_t eax, ebx, ecx, edx;
};

inline CpuidRegs x86_cpuid(std::uint32_t leaf, std::uint32_t subleaf) {
  CpuidRegs r{};
  __asm__ __volatile__("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// XCR0: the register state the OS saves. Only valid when CPUID.1:ECX.OSXSAVE[bit 27] is set.
inline std::uint64_t x86_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
  return (std::uint64_t(hi) << 32) | lo;
}
#endif

inline CpuFeatures read_cpu_features() {
  CpuFeatures f;
#if QMATH_CPU_X86
  auto bit = [](std::uint32_t reg, int b) { return ((reg >> b) & 1u) != 0; };
  const std::uint32_t max_leaf = x86_cpuid(0, 0).eax;
  if (max_leaf < 7) return f;
  const CpuidRegs l1 = x86_cpuid(1, 0);
  if (!bit(l1.ecx, 27) || !bit(l1.ecx, 28)) return f;  // no OSXSAVE or no AVX: no vector path at all
  const std::uint64_t xcr0 = x86_xcr0();
  const bool os_ymm = (xcr0 & 0x6u) == 0x6u;             // SSE + AVX state
  const bool os_zmm = os_ymm && (xcr0 & 0xe0u) == 0xe0u;  // opmask + ZMM_Hi256 + Hi16_ZMM state
  if (!os_ymm) return f;
  const CpuidRegs l7 = x86_cpuid(7, 0);
  f.avx2 = bit(l7.ebx, 5);
  f.fma = bit(l1.ecx, 12);
  if (l7.eax >= 1) f.avxvnni = f.avx2 && bit(x86_cpuid(7, 1).eax, 4);
  if (os_zmm) {
    f.avx512f = bit(l7.ebx, 16);
    f.avx512dq = bit(l7.ebx, 17);
    f.avx512bw = bit(l7.ebx, 30);
    f.avx512vl = bit(l7.ebx, 31);
    f.avx512vnni = f.avx512f && bit(l7.ecx, 11);
  }
#elif QMATH_CPU_AARCH64
  f.neon = true;  // part of the AArch64 base architecture (the build requires __ARM_NEON)
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  f.neon = ((hwcap >> 1) & 1u) != 0;                    // HWCAP_ASIMD
  f.arm_dotprod = f.neon && ((hwcap >> 20) & 1u) != 0;  // HWCAP_ASIMDDP
  f.arm_i8mm = f.neon && ((hwcap2 >> 13) & 1u) != 0;    // HWCAP2_I8MM
#elif defined(__APPLE__)
  auto sysctl_flag = [](const char* name) {
    int value = 0;
    std::size_t size = sizeof(value);
    return sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value != 0;
  };
  f.arm_dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
  f.arm_i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
#endif
#endif
  return f;
}

// The features of this CPU, read on first use (thread-safe initialisation) and constant afterwards.
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = read_cpu_features();
  return features;
}

}  // namespace detail
}  // namespace qmath

// qmath/isa.hpp - the instruction-set paths of the host dispatchers, the process-wide cap and how a path is chosen.
//
// One enum of paths, qmath::Isa. Each architecture has its own family of levels, ordered like oneDNN's ISA cap;
// kScalar lies below every family:
//   x86-64:  kScalar < kAvx2 < kAvxVnni < kAvx512 < kAvx512Vnni
//   AArch64: kScalar < kNeon < kNeonDotprod < kNeonI8mm
//   (kAuto: "choose for me", not a level)
//   kScalar      the portable C++ code, built with the compiler's baseline flags. SSE2 belongs to the x86-64
//                baseline, so code that uses it (the histogram fill, batch statistics) does so at kScalar; Advanced
//                SIMD belongs to the AArch64 baseline too, but there the hand-written NEON kernels form kNeon, so
//                that a test or a cap can choose between them and the portable loops.
//   kAvx2        AVX2 + FMA.
//   kAvxVnni     kAvx2 + the VEX-encoded VPDPBUSD (AVX-VNNI).
//   kAvx512      AVX-512 F + BW + DQ + VL.
//   kAvx512Vnni  kAvx512 + AVX-512 VNNI.
//   kNeon        AArch64 Advanced SIMD (every AArch64 CPU).
//   kNeonDotprod kNeon + SDOT/UDOT (FEAT_DotProd, Armv8.2-A optional, Armv8.4-A mandatory).
//   kNeonI8mm    kNeonDotprod + SMMLA/UMMLA/USMMLA/USDOT (FEAT_I8MM, Armv8.6-A).
// A CPU may have a level without a lower one (AVX-512 without AVX-VNNI: Skylake-X, Ice Lake), so availability is
// asked level by level. isa_available(isa) = this build can compile the path (GCC/Clang on x86-64, AVX-VNNI also
// needing GCC >= 11 / Clang >= 12; GCC >= 10 on AArch64) and this CPU and OS run it (detail/cpu_features.hpp, read
// once). The paths of the other architecture's family are never available.
//
// Dispatchers (the array forms of quantize_array.hpp, Histogram::collect's fill, cpu::gemm) each have kernels for
// some of the levels; each takes a requested path per call (kAuto by default) and runs:
//   - kAuto: its best kernel at or below the cap that this CPU runs;
//   - a named path: its best kernel at or below that path, in the path's family, that this CPU runs. A dispatcher
//     with a kernel for the path runs exactly that kernel; one without runs a lower kernel (cpu::gemm at kAvx512
//     runs AVX-VNNI or AVX2; the histogram fill at kAvx2 runs its kScalar kernel). The named path itself must be
//     available and at or below the cap, else the call throws qmath::error naming the path - never a silent
//     fallback (an x86 path on AArch64 is "not available", and the other way round).
// Each dispatcher has a query (resolved_isa_for_quantize, resolved_isa_for_histogram_fill, cpu::resolved_isa_for_gemm)
// that returns the kernel a request resolves to, with the same checks.
//
// The cap (max_isa()): the environment variable QMATH_MAX_ISA, read once at the first dispatch, names the highest
// path any dispatcher may use (auto, scalar, avx2, avxvnni, avx512, avx512vnni, neon, neondotprod, neoni8mm;
// case-insensitive; unset, empty or "auto" = no cap). A cap is a level of one family (isa_within): it caps the paths
// of its own family and leaves only kScalar to the other family's, so QMATH_MAX_ISA=avx2 on an AArch64 machine runs
// every dispatcher's scalar kernel and a named NEON path is "above the cap". An unknown name makes every dispatch
// (and max_isa()) throw qmath::error naming the variable and the value, until set_max_isa() replaces it.
// set_max_isa(cap) overrides the environment for the whole process (kAuto removes the cap); reset_max_isa() returns
// to the environment's value. The cap is an atomic: setting it is safe while other threads dispatch, and a dispatch
// that runs concurrently sees the old or the new cap.
#pragma once

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <qmath/detail/cpu_features.hpp>
#include <qmath/error.hpp>

namespace qmath {

enum class Isa : int {
  kScalar = 0,
  kAvx2 = 1,
  kAvxVnni = 2,
  kAvx512 = 3,
  kAvx512Vnni = 4,
  kNeon = 5,
  kNeonDotprod = 6,
  kNeonI8mm = 7,
  kAuto = 255,
};

// The concrete paths: kScalar, then each family lowest first.
inline constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2,        Isa::kAvxVnni,  Isa::kAvx512,
                                   Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm};

// The architecture family of a path: kScalar (and kAuto) belong to every machine.
enum class IsaFamily { kPortable, kX86, kAarch64 };
constexpr IsaFamily isa_family(Isa isa) {
  return isa == Isa::kScalar || isa == Isa::kAuto ? IsaFamily::kPortable
         : isa <= Isa::kAvx512Vnni               ? IsaFamily::kX86
                                                 : IsaFamily::kAarch64;
}

// Whether `isa` lies at or below the cap `cap`: always for kAuto (no cap) and for kScalar; otherwise only within
// one family (isa <= cap there). A cap of the other family leaves only kScalar.
constexpr bool isa_within(Isa isa, Isa cap) {
  return cap == Isa::kAuto || isa == Isa::kScalar || (isa_family(isa) == isa_family(cap) && isa <= cap);
}

// The path's name as QMATH_MAX_ISA and parse_isa spell it.
constexpr const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx512Vnni: return "avx512vnni";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDotprod: return "neondotprod";
    case Isa::kNeonI8mm: return "neoni8mm";
    case Isa::kAuto: return "auto";
  }
  return "unknown";
}

// The path named `name` (any case), or nullopt for a name that is none of isa_name's.
inline std::optional<Isa> parse_isa(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  if (lower == "auto") return Isa::kAuto;
  for (Isa isa : kAllIsas)
    if (lower == isa_name(isa)) return isa;
  return std::nullopt;
}

// Whether this build can compile the path's kernels (kScalar and kAuto always).
constexpr bool isa_built(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
    case Isa::kAuto: return true;
    case Isa::kAvx2:
    case Isa::kAvx512:
    case Isa::kAvx512Vnni: return QMATH_CPU_X86 != 0;
    case Isa::kAvxVnni: return QMATH_CPU_HAS_AVXVNNI_TARGET != 0;
    case Isa::kNeon: return QMATH_CPU_AARCH64 != 0;
    case Isa::kNeonDotprod:
    case Isa::kNeonI8mm: return QMATH_CPU_HAS_ARM_I8MM_TARGET != 0;
  }
  return false;
}

// Whether this CPU (and OS) runs the path's instructions (kScalar and kAuto always).
inline bool isa_on_this_cpu(Isa isa) {
  const detail::CpuFeatures& f = detail::cpu_features();
  const bool avx2 = f.avx2 && f.fma;
  const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl;
  switch (isa) {
    case Isa::kScalar:
    case Isa::kAuto: return true;
    case Isa::kAvx2: return avx2;
    case Isa::kAvxVnni: return avx2 && f.avxvnni;
    case Isa::kAvx512: return avx512;
    case Isa::kAvx512Vnni: return avx512 && f.avx512vnni;
    case Isa::kNeon: return f.neon;
    case Isa::kNeonDotprod: return f.neon && f.arm_dotprod;
    case Isa::kNeonI8mm: return f.neon && f.arm_dotprod && f.arm_i8mm;
  }
  return false;
}

// Build and CPU: whether a dispatcher may run the path.
inline bool isa_available(Isa isa) { return isa_built(isa) && isa_on_this_cpu(isa); }

// The highest available path (what kAuto reaches without a cap); only one family is ever available.
inline Isa best_available_isa() {
  Isa best = Isa::kScalar;
  for (Isa isa : kAllIsas)
    if (isa_available(isa)) best = isa;
  return best;
}

// The cap that QMATH_MAX_ISA=value sets: nullptr, "" and "auto" are no cap (kAuto). Throws qmath::error naming the
// variable and the value when the value is not a path name.
inline Isa parse_max_isa_env(const char* value) {
  if (value == nullptr || *value == '\0') return Isa::kAuto;
  const std::optional<Isa> isa = parse_isa(value);
  detail::require(isa.has_value(), "max_isa", "environment variable QMATH_MAX_ISA=\"", value,
                  "\" is not a path name (auto, scalar, avx2, avxvnni, avx512, avx512vnni, neon, neondotprod, ",
                  "neoni8mm)");
  return *isa;
}

namespace detail {

// set_max_isa's value, or kNoOverride: then the environment's cap applies.
constexpr int kNoIsaOverride = -1;
inline std::atomic<int>& isa_cap_override() {
  static std::atomic<int> cap{kNoIsaOverride};
  return cap;
}

// QMATH_MAX_ISA, read once: the cap, or the message of the error that every use throws.
struct EnvIsaCap {
  Isa cap = Isa::kAuto;
  std::string error;
};
inline const EnvIsaCap& env_isa_cap() {
  static const EnvIsaCap env = [] {
    EnvIsaCap e;
    try {
      e.cap = parse_max_isa_env(std::getenv("QMATH_MAX_ISA"));
    } catch (const qmath::error& err) {
      e.error = err.what();
    }
    return e;
  }();
  return env;
}

}  // namespace detail

// The process-wide cap: set_max_isa's value if one was set, else QMATH_MAX_ISA's (kAuto = no cap). Throws
// qmath::error when QMATH_MAX_ISA holds an unknown name and no set_max_isa overrides it.
inline Isa max_isa() {
  const int set = detail::isa_cap_override().load(std::memory_order_acquire);
  if (set != detail::kNoIsaOverride) return Isa(set);
  const detail::EnvIsaCap& env = detail::env_isa_cap();
  if (!env.error.empty()) throw error(env.error);
  return env.cap;
}

// Caps every dispatcher of the process at `cap` (kAuto: no cap), overriding QMATH_MAX_ISA. Thread-safe (atomic).
inline void set_max_isa(Isa cap) { detail::isa_cap_override().store(int(cap), std::memory_order_release); }

// Drops set_max_isa's value: the cap is QMATH_MAX_ISA's again.
inline void reset_max_isa() { detail::isa_cap_override().store(detail::kNoIsaOverride, std::memory_order_release); }

// One bit per path, for a dispatcher's set of kernels.
constexpr unsigned isa_bit(Isa isa) { return 1u << unsigned(isa); }

// The kernel a dispatcher with the kernels `kernels` (isa_bit mask, kScalar always included) runs for `requested`
// (see the file comment). Throws qmath::error naming `where` and the path when a named path is unavailable or above
// the cap, or when QMATH_MAX_ISA is invalid.
inline Isa resolve_isa(Isa requested, unsigned kernels, const char* where) {
  const Isa cap = max_isa();
  Isa level = cap == Isa::kAuto ? best_available_isa() : cap;
  if (requested != Isa::kAuto) {
    detail::require(requested >= Isa::kScalar && requested <= Isa::kNeonI8mm, where, "unknown path value ",
                    int(requested));
    detail::require(isa_built(requested), where, "path ", isa_name(requested),
                    " is not available: this build (compiler and target architecture) cannot run it");
    detail::require(isa_on_this_cpu(requested), where, "path ", isa_name(requested),
                    " is not available: this CPU does not run it");
    detail::require(isa_within(requested, cap), where, "path ", isa_name(requested), " is above the cap ",
                    isa_name(cap), " (QMATH_MAX_ISA / qmath::set_max_isa)");
    level = requested;
  }
  Isa best = Isa::kScalar;
  for (Isa isa : kAllIsas)
    if (isa_within(isa, level) && (kernels & isa_bit(isa)) != 0 && isa_available(isa)) best = isa;
  return best;
}

}  // namespace qmath

// Instruction-mix ceilings of the x86 GEMM micro-kernels, registered in cpu_gemm_bench so that a GEMM's GOPs can be
// divided by its ceiling in one run (scripts/bench_ratio.py).
//
// Each benchmark runs one micro-kernel's arithmetic for one k step, on registers only: no loads, no stores, no
// dependences but the accumulators' own. Its GOPs (2 per multiply-accumulate) is the most that instruction mix reaches
// on this core, whatever the blocking, packing and memory do; a kernel at its ceiling can only get faster by changing
// the mix. Three mixes, each 12 accumulators (a 6 x 16 micro-tile of 32-bit lanes, or 6 x 2 ymm):
//   ceiling_avx2_exact    VPMADDWD + VPADDD per accumulator, in the order of kernel_avx2's 6 x 16 tile (per row: two
//                         VPMADDWD, then their two VPADDD); 16 MACs per pair;
//   ceiling_avx2_maddubs  VPMADDUBSW + VPMADDWD (ones) + VPADDD, the u8s8 mix of oneDNN's and MLAS's AVX2 kernels
//                         and of qmath's 7-bit and saturating kernels; 32 MACs per triple;
//   ceiling_avx2_fma      VFMADD231PS, FP32 SGEMM's mix; 8 MACs per instruction.
// and the two VNNI mixes, one VPDPBUSD per accumulator (4 MACs per 32-bit lane):
//   ceiling_avxvnni       VEX VPDPBUSD on ymm, 12 accumulators (kernel_avxvnni's 6 x 16 tile); 32 MACs each;
//   ceiling_avx512vnni    EVEX VPDPBUSD on zmm, 24 accumulators (kernel_avx512vnni's 12 x 32 tile); 64 MACs each.
// x86 with a GNU-compatible compiler only (inline assembly); elsewhere nothing is registered.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <qmath/isa.hpp>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

namespace {

// One k step per macro: 12 accumulators ymm0..ymm11, sources ymm12/ymm13, temporaries from ymm14 (ymm15: VPMADDWD's
// second operand in the u8s8 mix). The sources are zero: only the throughput is measured.
#define QMATH_MADD_ADD_PAIR(acc0, acc1)                     \
  "vpmaddwd %%ymm12, %%ymm13, %%ymm14\n\t"                  \
  "vpmaddwd %%ymm13, %%ymm12, %%ymm15\n\t"                  \
  "vpaddd %%ymm14, %%ymm" #acc0 ", %%ymm" #acc0 "\n\t"      \
  "vpaddd %%ymm15, %%ymm" #acc1 ", %%ymm" #acc1 "\n\t"
#define QMATH_EXACT_STEP                                                                              \
  QMATH_MADD_ADD_PAIR(0, 1) QMATH_MADD_ADD_PAIR(2, 3) QMATH_MADD_ADD_PAIR(4, 5) QMATH_MADD_ADD_PAIR(6, 7) \
  QMATH_MADD_ADD_PAIR(8, 9) QMATH_MADD_ADD_PAIR(10, 11)

#define QMATH_MADDUBS_TRIPLE(acc)                  \
  "vpmaddubsw %%ymm12, %%ymm13, %%ymm14\n\t"       \
  "vpmaddwd %%ymm15, %%ymm14, %%ymm14\n\t"         \
  "vpaddd %%ymm14, %%ymm" #acc ", %%ymm" #acc "\n\t"
#define QMATH_MADDUBS_STEP                                                                                    \
  QMATH_MADDUBS_TRIPLE(0) QMATH_MADDUBS_TRIPLE(1) QMATH_MADDUBS_TRIPLE(2) QMATH_MADDUBS_TRIPLE(3)             \
  QMATH_MADDUBS_TRIPLE(4) QMATH_MADDUBS_TRIPLE(5) QMATH_MADDUBS_TRIPLE(6) QMATH_MADDUBS_TRIPLE(7)             \
  QMATH_MADDUBS_TRIPLE(8) QMATH_MADDUBS_TRIPLE(9) QMATH_MADDUBS_TRIPLE(10) QMATH_MADDUBS_TRIPLE(11)

#define QMATH_FMA(acc) "vfmadd231ps %%ymm12, %%ymm13, %%ymm" #acc "\n\t"
#define QMATH_FMA_STEP                                                                                      \
  QMATH_FMA(0) QMATH_FMA(1) QMATH_FMA(2) QMATH_FMA(3) QMATH_FMA(4) QMATH_FMA(5) QMATH_FMA(6) QMATH_FMA(7)   \
  QMATH_FMA(8) QMATH_FMA(9) QMATH_FMA(10) QMATH_FMA(11)

#define QMATH_YMM_CLOBBERS                                                                                  \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
      "xmm13", "xmm14", "xmm15", "cc"

// Steps per loop iteration (the loop's own two instructions are then negligible).
#define QMATH_CEILING_STEPS 8
#define QMATH_CEILING_STR_(x) #x
#define QMATH_CEILING_STR(x) QMATH_CEILING_STR_(x)
constexpr int kSteps = QMATH_CEILING_STEPS;

// Zeroes the accumulators (finite values for the FMA mix, whatever the registers held) and the sources.
#define QMATH_ZERO(r) "vpxor %%xmm" #r ", %%xmm" #r ", %%xmm" #r "\n\t"
#define QMATH_ZERO_ALL                                                                                      \
  QMATH_ZERO(0) QMATH_ZERO(1) QMATH_ZERO(2) QMATH_ZERO(3) QMATH_ZERO(4) QMATH_ZERO(5) QMATH_ZERO(6)          \
  QMATH_ZERO(7) QMATH_ZERO(8) QMATH_ZERO(9) QMATH_ZERO(10) QMATH_ZERO(11) QMATH_ZERO(12) QMATH_ZERO(13)     \
  QMATH_ZERO(15)

#define QMATH_DEFINE_MIX(name, step)                                                              \
  __attribute__((target("avx2,fma"), noinline)) void name(std::int64_t iterations) {              \
    __asm__ volatile(QMATH_ZERO_ALL "1:\n\t"                                                         \
                     ".rept " QMATH_CEILING_STR(QMATH_CEILING_STEPS) "\n\t" step ".endr\n\t"        \
                     "dec %0\n\t"                                                                 \
                     "jnz 1b\n\t"                                                                 \
                     "vzeroupper"                                                                 \
                     : "+r"(iterations)                                                           \
                     :                                                                            \
                     : QMATH_YMM_CLOBBERS);                                                       \
  }

// VNNI: accumulators ymm0..ymm11 (zmm0..zmm23), sources ymm12/ymm13 (zmm24/zmm25).
#define QMATH_VNNI_YMM(acc) "%{vex%} vpdpbusd %%ymm12, %%ymm13, %%ymm" #acc "\n\t"
#define QMATH_AVXVNNI_STEP                                                                                  \
  QMATH_VNNI_YMM(0) QMATH_VNNI_YMM(1) QMATH_VNNI_YMM(2) QMATH_VNNI_YMM(3) QMATH_VNNI_YMM(4) QMATH_VNNI_YMM(5) \
  QMATH_VNNI_YMM(6) QMATH_VNNI_YMM(7) QMATH_VNNI_YMM(8) QMATH_VNNI_YMM(9) QMATH_VNNI_YMM(10) QMATH_VNNI_YMM(11)
#define QMATH_VNNI_ZMM(acc) "vpdpbusd %%zmm24, %%zmm25, %%zmm" #acc "\n\t"
#define QMATH_AVX512VNNI_STEP                                                                                 \
  QMATH_VNNI_ZMM(0) QMATH_VNNI_ZMM(1) QMATH_VNNI_ZMM(2) QMATH_VNNI_ZMM(3) QMATH_VNNI_ZMM(4) QMATH_VNNI_ZMM(5)   \
  QMATH_VNNI_ZMM(6) QMATH_VNNI_ZMM(7) QMATH_VNNI_ZMM(8) QMATH_VNNI_ZMM(9) QMATH_VNNI_ZMM(10) QMATH_VNNI_ZMM(11) \
  QMATH_VNNI_ZMM(12) QMATH_VNNI_ZMM(13) QMATH_VNNI_ZMM(14) QMATH_VNNI_ZMM(15) QMATH_VNNI_ZMM(16)              \
  QMATH_VNNI_ZMM(17) QMATH_VNNI_ZMM(18) QMATH_VNNI_ZMM(19) QMATH_VNNI_ZMM(20) QMATH_VNNI_ZMM(21)              \
  QMATH_VNNI_ZMM(22) QMATH_VNNI_ZMM(23)
#define QMATH_ZMM_ZERO(r) "vpxord %%zmm" #r ", %%zmm" #r ", %%zmm" #r "\n\t"
#define QMATH_ZMM_ZERO_HIGH                                                                                   \
  QMATH_ZMM_ZERO(16) QMATH_ZMM_ZERO(17) QMATH_ZMM_ZERO(18) QMATH_ZMM_ZERO(19) QMATH_ZMM_ZERO(20)              \
  QMATH_ZMM_ZERO(21) QMATH_ZMM_ZERO(22) QMATH_ZMM_ZERO(23) QMATH_ZMM_ZERO(24) QMATH_ZMM_ZERO(25)

QMATH_DEFINE_MIX(mix_avx2_exact, QMATH_EXACT_STEP)
QMATH_DEFINE_MIX(mix_avx2_maddubs, QMATH_MADDUBS_STEP)
QMATH_DEFINE_MIX(mix_avx2_fma, QMATH_FMA_STEP)

// The VNNI mixes: the assembler knows the instructions; the compiler needs AVX-512 F only to name zmm16 and up.
__attribute__((noinline)) void mix_avxvnni(std::int64_t iterations) {
  __asm__ volatile(QMATH_ZERO_ALL "1:\n\t"
                   ".rept " QMATH_CEILING_STR(QMATH_CEILING_STEPS) "\n\t" QMATH_AVXVNNI_STEP ".endr\n\t"
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   "vzeroupper"
                   : "+r"(iterations)
                   :
                   : QMATH_YMM_CLOBBERS);
}
__attribute__((target("avx512f"), noinline)) void mix_avx512vnni(std::int64_t iterations) {
  __asm__ volatile(QMATH_ZERO_ALL QMATH_ZMM_ZERO_HIGH "1:\n\t"
                   ".rept " QMATH_CEILING_STR(QMATH_CEILING_STEPS) "\n\t" QMATH_AVX512VNNI_STEP ".endr\n\t"
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   "vzeroupper"
                   : "+r"(iterations)
                   :
                   : QMATH_YMM_CLOBBERS, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
                     "xmm24", "xmm25");
}

// macs_per_step: multiply-accumulates of one step (all accumulators' worth); isa: the path whose instructions the mix
// needs (kAvx2 stands for AVX2 + FMA).
void run_mix(benchmark::State& state, void (*mix)(std::int64_t), double macs_per_step,
             qmath::Isa isa = qmath::Isa::kAvx2) {
  if (!qmath::isa_on_this_cpu(isa)) {
    state.SkipWithError((std::string("the CPU cannot run path ") + qmath::isa_name(isa)).c_str());
    return;
  }
  constexpr std::int64_t kIterations = 1 << 14;
  for (auto _ : state) mix(kIterations);
  state.counters["GOPs"] = benchmark::Counter(2.0 * macs_per_step * kSteps * kIterations / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void ceiling_avx2_exact(benchmark::State& state) { run_mix(state, mix_avx2_exact, 12 * 16); }
void ceiling_avx2_maddubs(benchmark::State& state) { run_mix(state, mix_avx2_maddubs, 12 * 32); }
void ceiling_avx2_fma(benchmark::State& state) { run_mix(state, mix_avx2_fma, 12 * 8); }

void ceiling_avxvnni(benchmark::State& state) { run_mix(state, mix_avxvnni, 12 * 32, qmath::Isa::kAvxVnni); }
void ceiling_avx512vnni(benchmark::State& state) {
  run_mix(state, mix_avx512vnni, 24 * 64, qmath::Isa::kAvx512Vnni);
}

BENCHMARK(ceiling_avx2_exact);
BENCHMARK(ceiling_avx2_maddubs);
BENCHMARK(ceiling_avx2_fma);
BENCHMARK(ceiling_avxvnni);
BENCHMARK(ceiling_avx512vnni);

}  // namespace

#endif

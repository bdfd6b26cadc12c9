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
// x86 with a GNU-compatible compiler only (inline assembly); elsewhere nothing is registered.
#include <benchmark/benchmark.h>

#include <cstdint>

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

QMATH_DEFINE_MIX(mix_avx2_exact, QMATH_EXACT_STEP)
QMATH_DEFINE_MIX(mix_avx2_maddubs, QMATH_MADDUBS_STEP)
QMATH_DEFINE_MIX(mix_avx2_fma, QMATH_FMA_STEP)

bool has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// macs_per_step: multiply-accumulates of one step (12 accumulators' worth).
void run_mix(benchmark::State& state, void (*mix)(std::int64_t), double macs_per_step) {
  if (!has_avx2_fma()) {
    state.SkipWithError("the CPU has no AVX2 + FMA");
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

BENCHMARK(ceiling_avx2_exact);
BENCHMARK(ceiling_avx2_maddubs);
BENCHMARK(ceiling_avx2_fma);

}  // namespace

#endif

// Array quantize (fp32 -> int8, per tensor, half to even) and dequantize (int8 -> fp32): qmath's portable loop (the
// normative reference), a plain loop as users write it (std::nearbyint under the default rounding mode, no NaN
// rule: the "plain scalar loop" baseline), each vector quantize kernel (the dispatched lane body of
// detail/quantize_lanes-inl.hpp, whose kDivide runs the reciprocal fast path with the exact fallback, and the body's
// exact path alone, which divides every vector), uint8 and the multiply rule kMultiplyReciprocal on AVX2, the
// public dispatching entry point, and a memcpy of the same input bytes, at sizes that live in L1, L2 and DRAM. The
// vector kernels also run on an adversarial input made only of ties x = RN((k + 1/2) * scale), where the fast path
// falls back to the exact path on every block. Reported as elements/s (items) and bytes/s, where bytes = bytes read +
// bytes written (quantize and dequantize move 5 bytes per element, memcpy of n floats moves 8).
//
// Issue 2's target: quantize >= 5 G elements/s on one core, >= 3x the portable loop.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include <qmath/detail/quantize_lanes.hpp>
#include <qmath/quantize_array.hpp>

#include "bench_support.hpp"

namespace {

using SimdIsa = qmath::Isa;

// 4 Ki elements (20 KB moved: L1), 128 Ki (640 KB: L2), 16 Mi (80 MB: DRAM).
void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t(1) << 12, std::int64_t(1) << 17, std::int64_t(1) << 24}) b->Arg(n);
}

using qbench::NormalInput;
using qbench::time_elements;

constexpr qmath::QuantParams kParams{0.03125f * 1.37f, 0};  // amax ~ 5.5 over [-127, 127]-ish

// Ties: x = RN((k + 1/2) * scale), |k| <= 127, so x / scale rounds to k + 1/2 or to within an ulp or two of it - far
// inside the fast path's margin. Every block of the fast path fails its check (the adversarial case).
std::vector<float> ties(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = (static_cast<float>(static_cast<int>(i % 255) - 127) + 0.5f) * kParams.scale;
  return x;
}

void BM_Memcpy(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<float> y(in.n);
  time_elements(state, in.n, [&] {
    std::memcpy(y.data(), in.x.data(), in.n * sizeof(float));
    benchmark::ClobberMemory();
  }, 8);
}

// Times quantize(x, n, q) per iteration from the normal input into int8, 5 bytes moved per element.
template <class Quantize>
void time_quantize(benchmark::State& state, Quantize quantize) {
  const NormalInput in(state);
  std::vector<std::int8_t> q(in.n);
  time_elements(state, in.n, [&] {
    quantize(in.x.data(), in.n, q.data());
    benchmark::ClobberMemory();
  }, 5);
}

void BM_QuantizeScalar(benchmark::State& state) {
  time_quantize(state, [](const float* x, std::size_t n, std::int8_t* q) {
    qmath::detail::quantize_array_scalar(x, n, q, kParams, qmath::full_range<std::int8_t>(), qmath::Round::kHalfToEven);
  });
}

// What a user would write without qmath: correct for finite inputs under the default FP environment only.
void BM_QuantizePlainLoop(benchmark::State& state) {
  time_quantize(state, [](const float* x, std::size_t n, std::int8_t* q) {
    const float scale = kParams.scale;
    for (std::size_t i = 0; i < n; ++i) {
      const float r = std::nearbyint(x[i] / scale);
      q[i] = static_cast<std::int8_t>(r < -128.0f ? -128.0f : (r > 127.0f ? 127.0f : r));
    }
  });
}

enum class Kernel { kDispatched, kExact };
enum class Data { kRandom, kTies };

// uint8 runs with zero point 128, so that the normal input spreads over the range as int8's does with 0.
template <class T>
constexpr qmath::QuantParams params_for() {
  return {kParams.scale, std::is_signed<T>::value ? 0 : 128};
}

// Runs one quantize kernel of kIsa directly: kDispatched is what quantize_array_simd runs (the lane body of
// detail/quantize_lanes-inl.hpp on that ISA's lane backend; kDivide with its reciprocal fast path), kExact the lane
// body's exact path alone (a division or product per vector: the fast path's fallback).
template <SimdIsa kIsa, Kernel kKernel, class T, qmath::QuantizeRule kRule>
void run_kernel(const float* x, std::size_t n, T* q) {
  const qmath::QuantRange range = qmath::full_range<T>();
  constexpr qmath::QuantParams p = params_for<T>();
  constexpr qmath::Round mode = qmath::Round::kHalfToEven;
  if constexpr (kKernel == Kernel::kDispatched) {
    qmath::detail::quantize_array_simd(kIsa, x, n, q, p, range, mode, kRule);
  } else {
#if QMATH_X86_SIMD
    if constexpr (kIsa == SimdIsa::kAvx512)
      qmath::detail::lanes_avx512::quantize_lanes_exact(x, n, q, p, range, mode, kRule);
    else
      qmath::detail::lanes_avx2::quantize_lanes_exact(x, n, q, p, range, mode, kRule);
#else
    (void)x, (void)n, (void)q, (void)range, (void)p, (void)mode;
#endif
  }
}

template <SimdIsa kIsa, Kernel kKernel, Data kData, class T = std::int8_t,
          qmath::QuantizeRule kRule = qmath::QuantizeRule::kDivide>
void BM_QuantizeSimd(benchmark::State& state) {
  if (!QMATH_X86_SIMD || !qmath::isa_available(kIsa)) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = kData == Data::kTies ? ties(n) : qbench::normal_input(n);
  std::vector<T> q(n);
  time_elements(state, n, [&] {
    run_kernel<kIsa, kKernel, T, kRule>(x.data(), n, q.data());
    benchmark::ClobberMemory();
  }, 5);
}

void BM_QuantizeArray(benchmark::State& state) {
  time_quantize(state, [](const float* x, std::size_t n, std::int8_t* q) { qmath::quantize_array(x, n, q, kParams); });
}

// The input, quantized by the portable loop (the dequantize benchmarks' input).
struct QuantizedInput {
  explicit QuantizedInput(const benchmark::State& state) : in(state), q(in.n) {
    qmath::detail::quantize_array_scalar(in.x.data(), in.n, q.data(), kParams, qmath::full_range<std::int8_t>(),
                                         qmath::Round::kHalfToEven);
  }
  NormalInput in;
  std::vector<std::int8_t> q;
};

void BM_DequantizeScalar(benchmark::State& state) {
  const QuantizedInput in(state);
  std::vector<float> x(in.q.size());
  time_elements(state, x.size(), [&] {
    qmath::detail::dequantize_array_scalar(in.q.data(), x.size(), x.data(), kParams);
    benchmark::ClobberMemory();
  }, 5);
}

// The lane body's dequantize on the lane backend of kIsa.
template <SimdIsa kIsa>
void BM_DequantizeLanes(benchmark::State& state) {
  if (!QMATH_X86_SIMD || !qmath::isa_available(kIsa)) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  const QuantizedInput in(state);
  std::vector<float> x(in.q.size());
  time_elements(state, x.size(), [&] {
#if QMATH_X86_SIMD
    if constexpr (kIsa == SimdIsa::kAvx512)
      qmath::detail::lanes_avx512::dequantize_lanes(in.q.data(), x.size(), x.data(), kParams);
    else
      qmath::detail::lanes_avx2::dequantize_lanes(in.q.data(), x.size(), x.data(), kParams);
#endif
    benchmark::ClobberMemory();
  }, 5);
}

template <SimdIsa kIsa>
void BM_DequantizeSimd(benchmark::State& state) {
  if (!qmath::isa_available(kIsa)) {
    state.SkipWithError("instruction set not supported by this CPU");
    return;
  }
  const QuantizedInput in(state);
  std::vector<float> x(in.q.size());
  time_elements(state, x.size(), [&] {
    qmath::detail::dequantize_array_simd(kIsa, in.q.data(), x.size(), x.data(), kParams);
    benchmark::ClobberMemory();
  }, 5);
}

BENCHMARK(BM_Memcpy)->Apply(sizes);
BENCHMARK(BM_QuantizeScalar)->Apply(sizes);
BENCHMARK(BM_QuantizePlainLoop)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kExact, Data::kRandom)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kDispatched, Data::kRandom)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx512, Kernel::kExact, Data::kRandom)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx512, Kernel::kDispatched, Data::kRandom)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kExact, Data::kTies)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kDispatched, Data::kTies)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx512, Kernel::kExact, Data::kTies)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx512, Kernel::kDispatched, Data::kTies)->Apply(sizes);
// uint8 (zero point 128) and the multiply rule kMultiplyReciprocal.
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kDispatched, Data::kRandom, std::uint8_t)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kDispatched, Data::kRandom, std::int8_t,
                   qmath::QuantizeRule::kMultiplyReciprocal)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_QuantizeSimd, SimdIsa::kAvx2, Kernel::kDispatched, Data::kRandom, std::uint8_t,
                   qmath::QuantizeRule::kMultiplyReciprocal)->Apply(sizes);
BENCHMARK(BM_QuantizeArray)->Apply(sizes);
BENCHMARK(BM_DequantizeScalar)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_DequantizeSimd, SimdIsa::kAvx2)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_DequantizeSimd, SimdIsa::kAvx512)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_DequantizeLanes, SimdIsa::kAvx2)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_DequantizeLanes, SimdIsa::kAvx512)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();

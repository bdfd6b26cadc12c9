// Quantize throughput of the sub-INT8 formats next to INT8, per tensor, fp32 input, one core: INT8 (qmath's
// dispatching quantize_array, vector kernels where the CPU has them), INT8 through its portable scalar loop, FP8
// E4M3FN and E5M2 (fp8_quantize_array: the AVX2 kernel where the CPU has AVX2) and FP8 E4M3FN through its portable
// loop, INT4 packed (int4_quantize per tensor, scalar), MXFP8 E4M3 and MXFP4
// (mx_quantize, scalar), and ONNX Runtime's MatMulNBits 4-bit weight quantizer (blocks of 32 along K). Elements/s
// are reported as items; sizes 4 Ki (L1) and 1 Mi (beyond L2) elements.
// W4A8 GEMM (gemm_w4a8: the dispatching path, AVX2 where the CPU has it; gemm_w4a8_reference: the scalar loop) next
// to qmath's INT8 GEMM with pre-packed int8 weights and int32 output (cpu::gemm, one thread), at M x 4096 x 4096 for
// M = 1 (decoding) and 16; W4A8 groups of 32 and 128 along K, asymmetric weights, per-row activation zero points.
// Counters: GOP/s (2 M N K per call) and weight bytes/s (the bytes of B read per call: N K / 2 packed nibbles plus
// the group scales and zero points for W4A8, N K for INT8).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include <qmath/cpu/gemm.hpp>
#include <qmath/fp8.hpp>
#include <qmath/gemm_w4a8.hpp>
#include <qmath/int4.hpp>
#include <qmath/mx.hpp>
#include <qmath/quantize_array.hpp>

#include "bench_support.hpp"

namespace {

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t(1) << 12, std::int64_t(1) << 20}) b->Arg(n);
}

using qbench::NormalInput;
using qbench::time_elements;

void BM_Int8Quantize(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::int8_t> q(in.n);
  time_elements(state, in.n, [&] {
    qmath::quantize_array(in.x.data(), in.n, q.data(), qmath::QuantParams{0.05f, 0});
    benchmark::ClobberMemory();
  });
}

void BM_Int8QuantizeScalar(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::int8_t> q(in.n);
  time_elements(state, in.n, [&] {
    qmath::detail::quantize_array_scalar(in.x.data(), in.n, q.data(), qmath::QuantParams{0.05f, 0},
                                         qmath::full_range<std::int8_t>(), qmath::Round::kHalfToEven);
    benchmark::ClobberMemory();
  });
}

template <qmath::Fp8Format F>
void BM_Fp8Quantize(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::uint8_t> q(in.n);
  const float scale = qmath::fp8_scale_from_amax(8.0f, F);
  time_elements(state, in.n, [&] {
    qmath::fp8_quantize_array(in.x.data(), in.n, q.data(), scale, F);
    benchmark::ClobberMemory();
  });
}

void BM_Fp8QuantizeScalar(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::uint8_t> q(in.n);
  const float scale = qmath::fp8_scale_from_amax(8.0f, qmath::Fp8Format::kE4M3FN);
  time_elements(state, in.n, [&] {
    qmath::detail::fp8_quantize_array_scalar(in.x.data(), in.n, q.data(), scale, qmath::Fp8Format::kE4M3FN, true);
    benchmark::ClobberMemory();
  });
}

void BM_Int4Quantize(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::uint8_t> q(qmath::int4_packed_size(in.n));
  const float scale = 1.0f;
  const std::int32_t zp = 0;
  time_elements(state, in.n, [&] {
    qmath::int4_quantize(in.x.data(), qmath::Int4Grid::per_tensor(in.n), &scale, &zp, true, q.data());
    benchmark::ClobberMemory();
  });
}

template <qmath::MxFormat F>
void BM_MxQuantize(benchmark::State& state) {
  const NormalInput in(state);
  std::vector<std::uint8_t> s(qmath::mx_block_count(in.n)), q(in.n);
  time_elements(state, in.n, [&] {
    qmath::mx_quantize(in.x.data(), in.n, F, s.data(), q.data());
    benchmark::ClobberMemory();
  });
}

void BM_MatMulNBits4(benchmark::State& state) {
  const NormalInput w(state);
  const qmath::MatMulNBitsShape shape{w.n / 256, 256, 32};
  std::vector<std::uint8_t> q(shape.packed_bytes()), zp(shape.zero_point_bytes());
  std::vector<float> s(shape.scale_count());
  time_elements(state, w.n, [&] {
    qmath::quantize_matmul_nbits4(w.x.data(), shape, false, q.data(), s.data(), zp.data());
    benchmark::ClobberMemory();
  });
}

struct W4A8Problem {
  std::size_t M, K = 4096, N = 4096;
  qmath::MatMulNBitsShape shape;
  std::vector<std::int8_t> a;
  std::vector<float> a_scale, w_scale, c;
  std::vector<std::int32_t> a_zp;
  std::vector<std::uint8_t> wq, wzp;
  W4A8Problem(std::size_t m, std::size_t block) : M(m), shape{4096, 4096, block} {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> ai(-128, 127);
    for (std::size_t i = 0; i < M * K; ++i) a.push_back(static_cast<std::int8_t>(ai(rng)));
    for (std::size_t i = 0; i < M; ++i) {
      a_scale.push_back(0.02f);
      a_zp.push_back(ai(rng));
    }
    const std::vector<float> w = qbench::normal_input(K * N);
    wq.resize(shape.packed_bytes());
    wzp.resize(shape.zero_point_bytes());
    w_scale.resize(shape.scale_count());
    qmath::quantize_matmul_nbits4(w.data(), shape, false, wq.data(), w_scale.data(), wzp.data());
    c.resize(M * N);
  }
  qmath::W4A8GemmArgs args() {
    return {M, a.data(), a_scale.data(), a_zp.data(), shape, wq.data(), w_scale.data(), wzp.data(), c.data()};
  }
};

void set_gemm_counters(benchmark::State& state, std::size_t M, std::size_t K, std::size_t N, double weight_bytes) {
  state.counters["GOP/s"] = benchmark::Counter(2.0 * double(M) * double(K) * double(N) * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight_bytes/s"] = benchmark::Counter(weight_bytes, benchmark::Counter::kIsIterationInvariantRate,
                                                        benchmark::Counter::kIs1024);
}

template <bool kReference>
void BM_W4A8Gemm(benchmark::State& state) {
  W4A8Problem p(static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
  const qmath::W4A8GemmArgs args = p.args();
  for (auto _ : state) {
    if (kReference) qmath::gemm_w4a8_reference(args);
    else qmath::gemm_w4a8(args);
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, p.M, p.K, p.N,
                    double(p.wq.size() + p.wzp.size() + p.w_scale.size() * sizeof(float)));
  state.SetLabel(qmath::isa_name(kReference ? qmath::Isa::kScalar : qmath::resolved_isa_for_w4a8()));
}

void BM_Int8Gemm(benchmark::State& state) {
  const std::size_t M = static_cast<std::size_t>(state.range(0)), K = 4096, N = 4096;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<std::int8_t> a(M * K), b(K * N);
  for (auto& v : a) v = static_cast<std::int8_t>(dist(rng));
  for (auto& v : b) v = static_cast<std::int8_t>(dist(rng));
  std::vector<std::int32_t> c(M * N);
  const auto packed =
      qmath::cpu::pack_b(qmath::MatrixView<const std::int8_t>(qmath::col_major(b.data(), int(K), int(N))), 0);
  for (auto _ : state) {
    qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{qmath::row_major(a.data(), int(M), int(K)), &packed,
                                                qmath::row_major(c.data(), int(M), int(N)), 0, qmath::Epilogue{}});
    benchmark::ClobberMemory();
  }
  set_gemm_counters(state, M, K, N, double(K * N));
  state.SetLabel(qmath::isa_name(qmath::cpu::resolved_isa_for_gemm()));
}

}  // namespace

BENCHMARK(BM_Int8Quantize)->Apply(sizes);
BENCHMARK(BM_Int8QuantizeScalar)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Fp8Quantize, qmath::Fp8Format::kE4M3FN)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Fp8Quantize, qmath::Fp8Format::kE5M2)->Apply(sizes);
BENCHMARK(BM_Fp8QuantizeScalar)->Apply(sizes);
BENCHMARK(BM_Int4Quantize)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_MxQuantize, qmath::MxFormat::kFp8E4M3)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_MxQuantize, qmath::MxFormat::kFp4E2M1)->Apply(sizes);
BENCHMARK(BM_MatMulNBits4)->Apply(sizes);

// Arguments: M, group size.
BENCHMARK_TEMPLATE(BM_W4A8Gemm, false)->Args({1, 32})->Args({1, 128})->Args({16, 32})->Args({16, 128})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_W4A8Gemm, true)->Args({1, 32})->Args({16, 32})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Int8Gemm)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

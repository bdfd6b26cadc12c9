// Quantize throughput of the sub-INT8 formats next to INT8, per tensor, fp32 input, one core: INT8 (qmath's
// dispatching quantize_array, vector kernels where the CPU has them), INT8 through its portable scalar loop, FP8
// E4M3FN and E5M2 (fp8_quantize_array: the AVX2 kernel where the CPU has AVX2) and FP8 E4M3FN through its portable
// loop, INT4 packed (int4_quantize per tensor, scalar), MXFP8 E4M3 and MXFP4
// (mx_quantize, scalar), and ONNX Runtime's MatMulNBits 4-bit weight quantizer (blocks of 32 along K). Elements/s
// are reported as items; sizes 4 Ki (L1) and 1 Mi (beyond L2) elements.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include <qmath/fp8.hpp>
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

BENCHMARK_MAIN();

// Quantize throughput of the sub-INT8 formats next to INT8, per tensor, fp32 input, one core: INT8 (qmath's
// dispatching quantize_array, vector kernels where the CPU has them), INT8 through its portable scalar loop, FP8
// E4M3FN and E5M2 (fp8_quantize_array: the AVX2 kernel where the CPU has AVX2) and FP8 E4M3FN through its portable
// loop, INT4 packed (int4_quantize per tensor, scalar), MXFP8 E4M3 and MXFP4
// (mx_quantize, scalar), and ONNX Runtime's MatMulNBits 4-bit weight quantizer (blocks of 32 along K). Elements/s
// are reported as items; sizes 4 Ki (L1) and 1 Mi (beyond L2) elements.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include <qmath/fp8.hpp>
#include <qmath/int4.hpp>
#include <qmath/mx.hpp>
#include <qmath/quantize_array.hpp>

namespace {

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t(1) << 12, std::int64_t(1) << 20}) b->Arg(n);
}

std::vector<float> input(std::size_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

void items(benchmark::State& state, std::size_t n) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

void BM_Int8Quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::int8_t> q(n);
  for (auto _ : state) {
    qmath::quantize_array(x.data(), n, q.data(), qmath::QuantParams{0.05f, 0});
    benchmark::ClobberMemory();
  }
  items(state, n);
}

void BM_Int8QuantizeScalar(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::int8_t> q(n);
  for (auto _ : state) {
    qmath::detail::quantize_array_scalar(x.data(), n, q.data(), qmath::QuantParams{0.05f, 0},
                                         qmath::full_range<std::int8_t>(), qmath::Round::kHalfToEven);
    benchmark::ClobberMemory();
  }
  items(state, n);
}

template <qmath::Fp8Format F>
void BM_Fp8Quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::uint8_t> q(n);
  const float scale = qmath::fp8_scale_from_amax(8.0f, F);
  for (auto _ : state) {
    qmath::fp8_quantize_array(x.data(), n, q.data(), scale, F);
    benchmark::ClobberMemory();
  }
  items(state, n);
}

void BM_Fp8QuantizeScalar(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::uint8_t> q(n);
  const float scale = qmath::fp8_scale_from_amax(8.0f, qmath::Fp8Format::kE4M3FN);
  for (auto _ : state) {
    qmath::detail::fp8_quantize_array_scalar(x.data(), n, q.data(), scale, qmath::Fp8Format::kE4M3FN, true);
    benchmark::ClobberMemory();
  }
  items(state, n);
}

void BM_Int4Quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::uint8_t> q(qmath::int4_packed_size(n));
  const float scale = 1.0f;
  const std::int32_t zp = 0;
  for (auto _ : state) {
    qmath::int4_quantize(x.data(), qmath::Int4Grid::per_tensor(n), &scale, &zp, true, q.data());
    benchmark::ClobberMemory();
  }
  items(state, n);
}

template <qmath::MxFormat F>
void BM_MxQuantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto x = input(n);
  std::vector<std::uint8_t> s(qmath::mx_block_count(n)), q(n);
  for (auto _ : state) {
    qmath::mx_quantize(x.data(), n, F, s.data(), q.data());
    benchmark::ClobberMemory();
  }
  items(state, n);
}

void BM_MatMulNBits4(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const qmath::MatMulNBitsShape shape{n / 256, 256, 32};
  const auto w = input(n);
  std::vector<std::uint8_t> q(shape.packed_bytes()), zp(shape.zero_point_bytes());
  std::vector<float> s(shape.scale_count());
  for (auto _ : state) {
    qmath::quantize_matmul_nbits4(w.data(), shape, false, q.data(), s.data(), zp.data());
    benchmark::ClobberMemory();
  }
  items(state, n);
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

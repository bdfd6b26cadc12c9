// Calibration benchmarks: histogram collection throughput (elements/s) and threshold-search latency.
// Baselines in the same run: a plain scalar histogram loop (what a straightforward C++ port of numpy / torch.histc
// does: one 64-bit counter array, a division per element) and the direct O(bins^2) KL definition.
//   ./build/bench/calibration_bench --benchmark_filter=Collect    (collection)
//   ./build/bench/calibration_bench --benchmark_filter='FillKernel|IncrementCeiling' (each fill kernel, data in L2,
//                                                      against the increments-only loop that bounds them)
//   ./build/bench/calibration_bench --benchmark_filter=Search     (entropy / MSE / percentile)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <qmath/calibration/calibration.hpp>

#include "bench_support.hpp"

namespace {

const std::vector<float>& gaussian_data() {
  static const std::vector<float> x = [] {
    std::mt19937 g(1);
    std::normal_distribution<float> d;
    std::vector<float> v(std::size_t(1) << 22);  // 16 MiB: one large activation batch
    for (float& f : v) f = d(g);
    for (int k = 0; k < 50; ++k) v[static_cast<std::size_t>(k) * 80000] = 10.0f + 0.17f * static_cast<float>(k);
    return v;
  }();
  return x;
}

const qmath::Histogram& gaussian_histogram(qmath::HistogramOptions o = {}) {
  static const qmath::Histogram h = [&] {
    qmath::Histogram r(o);
    r.collect(gaussian_data().data(), gaussian_data().size());
    return r;
  }();
  return h;
}

// Baseline: the textbook loop, bin = min(int(|x| / width), bins - 1), 64-bit counters.
void BM_CollectBaselineScalar(benchmark::State& state) {
  const auto& x = gaussian_data();
  std::vector<std::uint64_t> counts(2048);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  const float width = amax / 2048.0f;
  qbench::time_elements(state, x.size(), [&] {
    for (float v : x) {
      int b = static_cast<int>(std::fabs(v) / width);
      b = b < 2047 ? b : 2047;
      ++counts[static_cast<std::size_t>(b)];
    }
    benchmark::DoNotOptimize(counts.data());
  });
}
BENCHMARK(BM_CollectBaselineScalar)->Unit(benchmark::kMillisecond);

// Times h.collect over all of x per iteration, in batches of `batch` floats (x.size() a multiple of it).
void time_collect(benchmark::State& state, const std::vector<float>& x, qmath::Histogram& h, std::size_t batch) {
  qbench::time_elements(state, x.size(), [&] {
    for (std::size_t i = 0; i < x.size(); i += batch) h.collect(x.data() + i, batch);
    benchmark::DoNotOptimize(h.counts().data());
  });
}

// qmath: 2048-bin absolute histogram, power-of-two growth, NaN/Inf check included (one batch of 4M floats).
void BM_CollectAbs2048(benchmark::State& state) {
  qmath::Histogram h;
  time_collect(state, gaussian_data(), h, gaussian_data().size());
}
BENCHMARK(BM_CollectAbs2048)->Unit(benchmark::kMillisecond);

// Post-ReLU data: half the values are exact zeros, i.e. long runs of increments of bin 0 (the case the two
// interleaved sub-histograms are for).
void BM_CollectAbs2048Relu(benchmark::State& state) {
  static const std::vector<float> x = [] {
    std::vector<float> v = gaussian_data();
    for (float& f : v) f = f > 0.0f ? f : 0.0f;
    return v;
  }();
  qmath::Histogram h;
  time_collect(state, x, h, x.size());
}
BENCHMARK(BM_CollectAbs2048Relu)->Unit(benchmark::kMillisecond);

// The same, in batches of 64K floats (per-batch statistics and growth checks).
void BM_CollectAbs2048Batches64K(benchmark::State& state) {
  qmath::Histogram h;
  time_collect(state, gaussian_data(), h, 65536);
}
BENCHMARK(BM_CollectAbs2048Batches64K)->Unit(benchmark::kMillisecond);

// Signed 2048-bin histogram (scalar rule path).
void BM_CollectSigned2048(benchmark::State& state) {
  qmath::HistogramOptions o;
  o.kind = qmath::HistogramKind::kSigned;
  qmath::Histogram h(o);
  time_collect(state, gaussian_data(), h, gaussian_data().size());
}
BENCHMARK(BM_CollectSigned2048)->Unit(benchmark::kMillisecond);

// The fill kernels alone (0 portable, 1 SSE2 - both Isa::kScalar -, 2 AVX-512 - Isa::kAvx512), 2048-bin absolute
// histogram, 64K floats per call (256 KiB: in L2), so the kernels compare without the DRAM stream; the unavailable
// ones are skipped.
void BM_FillKernel(benchmark::State& state) {
  const qmath::Isa kernel = state.range(0) == 2 ? qmath::Isa::kAvx512 : qmath::Isa::kScalar;
  const bool baseline_vector = state.range(0) != 0;
  const bool built = (qmath::detail::kHistogramFillKernels & qmath::isa_bit(kernel)) != 0;
#if defined(__SSE2__)
  const bool sse2 = true;
#else
  const bool sse2 = false;
#endif
  if (!built || !qmath::isa_available(kernel) || (state.range(0) == 1 && !sse2)) {
    state.SkipWithError("kernel not available on this CPU / build");
    return;
  }
  const std::vector<float> x(gaussian_data().begin(), gaussian_data().begin() + 65536);
  const qmath::HistogramRange r{256.0f, 0.0f, 2048, 0, true};
  std::vector<std::uint64_t> counts(2048);
  qbench::time_elements(state, x.size(), [&] {
    benchmark::DoNotOptimize(
        qmath::detail::fill_histogram_abs(x.data(), x.size(), r, counts.data(), kernel, baseline_vector));
    benchmark::DoNotOptimize(counts.data());
  });
}
BENCHMARK(BM_FillKernel)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// The physical reference of the fill kernels: nothing but one 16-bit read-modify-write increment per element, from
// bin indices computed beforehand (the same 64K Gaussian values and 2048-bin layout as BM_FillKernel), into four
// sub-histograms round robin. Every exact histogram that increments a counter per element pays at least this; the
// kernels add the index computation, the input stream and the min / max / non-finite scan. /0: 32-bit indices,
// counter = base[index] (the kernel's form); /1: precomputed counter addresses (the fastest loop found).
void BM_IncrementCeiling(benchmark::State& state) {
  const std::size_t n = 65536, stride = 2048 + 32;
  std::vector<std::uint16_t> sub(4 * stride);
  std::vector<std::uint32_t> index(n);
  std::vector<std::uint16_t*> address(n);
  const float inv_width = 256.0f;  // as BM_FillKernel: bins of width 1/256
  for (std::size_t i = 0; i < n; ++i) {
    const float b = std::min(std::fabs(gaussian_data()[i]) * inv_width, 2047.0f);
    index[i] = static_cast<std::uint32_t>(b);
    address[i] = sub.data() + (i % 4) * stride + index[i];
  }
  std::uint16_t* const h0 = sub.data();
  std::uint16_t* const h1 = h0 + stride;
  std::uint16_t* const h2 = h1 + stride;
  std::uint16_t* const h3 = h2 + stride;
  for (auto _ : state) {
    if (state.range(0) == 0) {
      const std::uint32_t* q = index.data();
      for (std::size_t i = 0; i < n; i += 4) {
        ++h0[q[i]];
        ++h1[q[i + 1]];
        ++h2[q[i + 2]];
        ++h3[q[i + 3]];
      }
    } else {
      std::uint16_t* const* a = address.data();
      for (std::size_t i = 0; i < n; i += 4) {
        ++*a[i];
        ++*a[i + 1];
        ++*a[i + 2];
        ++*a[i + 3];
      }
    }
    benchmark::DoNotOptimize(sub.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_IncrementCeiling)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond);

// Times search(gaussian_histogram()) per iteration.
template <class Search>
void time_search(benchmark::State& state, Search search) {
  const qmath::Histogram& h = gaussian_histogram();
  for (auto _ : state) benchmark::DoNotOptimize(search(h));
}

// Entropy search, TensorRT mode, 2048 bins (target <= 1 ms).
void BM_SearchEntropyTensorRT2048(benchmark::State& state) {
  time_search(state, [](const qmath::Histogram& h) { return qmath::entropy_calibrate(h); });
}
BENCHMARK(BM_SearchEntropyTensorRT2048)->Unit(benchmark::kMicrosecond);

// Baseline: the direct definition of every candidate, O(bins^2) (what a straightforward port does).
void BM_SearchEntropyDirect2048(benchmark::State& state) {
  const auto& h = gaussian_histogram();
  for (auto _ : state) {
    double best = 1e300;
    for (std::size_t i = 128; i <= 2048; ++i)
      best = std::min(best, qmath::entropy_divergence(h.counts().data(), 2048, i, 128));
    benchmark::DoNotOptimize(best);
  }
}
BENCHMARK(BM_SearchEntropyDirect2048)->Unit(benchmark::kMillisecond);

// pytorch-quantization compatible search (operation-by-operation numpy semantics; pure Python takes ~2.8 s).
void BM_SearchEntropyPyTorch2048(benchmark::State& state) {
  const auto& h = gaussian_histogram();
  qmath::EntropyOptions o;
  o.mode = qmath::EntropyMode::kPyTorchQuantization;
  for (auto _ : state) benchmark::DoNotOptimize(qmath::entropy_calibrate(h, o));
}
BENCHMARK(BM_SearchEntropyPyTorch2048)->Unit(benchmark::kMillisecond);

// Baseline: the direct O(n^2) transcription of pytorch-quantization's loop (the definition the search is tested
// against; the search chooses the same index).
void BM_SearchEntropyPyTorchDirect2048(benchmark::State& state) {
  const auto& h = gaussian_histogram();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        qmath::detail::pytorch_search_reference(h.counts().data(), h.counts().size(), 128, 128, 1));
}
BENCHMARK(BM_SearchEntropyPyTorchDirect2048)->Unit(benchmark::kMillisecond);

// Growth in the bin count: pytorch-quantization mode on 2^16 bins (a Gaussian over them; the O(n^2) loop takes
// about half a minute here) and TensorRT mode on 2^20 bins (its former memo needed 68 GB).
std::vector<std::uint64_t> wide_counts(std::size_t n) {
  std::vector<std::uint64_t> c(n, 0);
  for (std::size_t k = 0; k < n; ++k) {
    const double z = static_cast<double>(k) / (static_cast<double>(n) / 6.0);
    c[k] = static_cast<std::uint64_t>(1e6 * std::exp(-0.5 * z * z));
  }
  c[n - 2] += 3;
  return c;
}
void BM_SearchEntropyPyTorch65536(benchmark::State& state) {
  const std::vector<std::uint64_t> c = wide_counts(std::size_t(1) << 16);
  qmath::EntropyOptions o;
  o.mode = qmath::EntropyMode::kPyTorchQuantization;
  for (auto _ : state) benchmark::DoNotOptimize(qmath::entropy_search(c.data(), c.size(), o));
}
BENCHMARK(BM_SearchEntropyPyTorch65536)->Unit(benchmark::kMillisecond);
void BM_SearchEntropyTensorRT1M(benchmark::State& state) {
  const std::vector<std::uint64_t> c = wide_counts(std::size_t(1) << 20);
  for (auto _ : state) benchmark::DoNotOptimize(qmath::entropy_search(c.data(), c.size()));
}
BENCHMARK(BM_SearchEntropyTensorRT1M)->Unit(benchmark::kMillisecond);

const qmath::Histogram& signed_histogram_8001() {
  static const qmath::Histogram h = [] {
    const auto& x = gaussian_data();
    qmath::Histogram r(qmath::fixed_range_options(18.33f, qmath::HistogramKind::kSigned, 8001));
    r.collect(x.data(), x.size());
    return r;
  }();
  return h;
}

// MXNet/TVM mode, 8001 signed bins (target <= 20 ms): the O(L)-per-candidate evaluation in double.
void BM_SearchEntropyMxnet8001(benchmark::State& state) {
  qmath::EntropyOptions o;
  o.mode = qmath::EntropyMode::kMxnet;
  for (auto _ : state) benchmark::DoNotOptimize(qmath::entropy_calibrate(signed_histogram_8001(), o));
}
BENCHMARK(BM_SearchEntropyMxnet8001)->Unit(benchmark::kMillisecond);

// The same with mxnet_float32: MXNet / TVM's float32 operations in their order, O(bins) per candidate.
void BM_SearchEntropyMxnet8001Float32(benchmark::State& state) {
  qmath::EntropyOptions o;
  o.mode = qmath::EntropyMode::kMxnet;
  o.mxnet_float32 = true;
  for (auto _ : state) benchmark::DoNotOptimize(qmath::entropy_calibrate(signed_histogram_8001(), o));
}
BENCHMARK(BM_SearchEntropyMxnet8001Float32)->Unit(benchmark::kMillisecond);

void BM_SearchMse2048(benchmark::State& state) {
  time_search(state, [](const qmath::Histogram& h) { return qmath::mse_calibrate(h); });
}
BENCHMARK(BM_SearchMse2048)->Unit(benchmark::kMillisecond);

void BM_SearchPercentile2048(benchmark::State& state) {
  time_search(state, [](const qmath::Histogram& h) { return qmath::percentile_amax(h, 99.99); });
}
BENCHMARK(BM_SearchPercentile2048)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

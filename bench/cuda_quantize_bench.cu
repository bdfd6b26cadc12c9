// GPU microbenchmarks of qmath/cuda/quantize.cuh and qmath/cuda/calibration.cuh. Timing with CUDA events
// (manual time), counters in bytes per second of the kernel's own traffic.
//
// Baselines in the same run: a device-to-device cudaMemcpy moving the same number of bytes (the bandwidth these
// memory-bound kernels should approach), the vector path against the all-scalar path (input and output misaligned
// differently), and the privatised shared-memory histogram against the global-atomic one.
// Without a CUDA device the program says so and exits 0.
#include <qmath/cuda/calibration.cuh>
#include <qmath/cuda/quantize.cuh>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

void check(cudaError_t e) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "CUDA error: %s\n", cudaGetErrorString(e));
    std::exit(1);
  }
}

// Device buffers shared by every benchmark: normal(0, 1) floats with a few outliers, int8 output, a second float
// buffer, histogram counters.
struct Buffers {
  std::size_t n = 0;
  float* x = nullptr;
  float* y = nullptr;
  std::int8_t* q = nullptr;
  unsigned long long* counts = nullptr;
  qmath::cuda::DeviceRangeState* state = nullptr;
  qmath::QuantParams* params = nullptr;

  void ensure(std::size_t count) {
    if (count <= n) return;
    release();
    n = count;
    check(cudaMalloc(&x, (n + 4) * sizeof(float)));
    check(cudaMalloc(&y, (n + 4) * sizeof(float)));
    check(cudaMalloc(&q, n + 4));
    check(cudaMalloc(&counts, 32768 * sizeof(unsigned long long)));
    check(cudaMalloc(&state, sizeof(qmath::cuda::DeviceRangeState)));
    check(cudaMalloc(&params, 4096 * sizeof(qmath::QuantParams)));
    std::vector<float> host(n + 4);
    std::mt19937 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : host) v = dist(rng);
    for (std::size_t i = 0; i < host.size(); i += 100003) host[i] = 40.0f;
    check(cudaMemcpy(x, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
    std::vector<qmath::QuantParams> p(4096);
    for (std::size_t c = 0; c < p.size(); ++c) p[c] = {0.02f + 0.001f * static_cast<float>(c % 7), 0};
    check(cudaMemcpy(params, p.data(), p.size() * sizeof(qmath::QuantParams), cudaMemcpyHostToDevice));
  }
  void release() {
    cudaFree(x);
    cudaFree(y);
    cudaFree(q);
    cudaFree(counts);
    cudaFree(state);
    cudaFree(params);
  }
};

Buffers& buffers(std::size_t n) {
  static Buffers b;
  b.ensure(n);
  return b;
}

// Times `body` (which enqueues work on the default stream) with CUDA events; reports `bytes` per iteration.
template <class Body>
void run_timed(benchmark::State& state, std::size_t bytes, Body body) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start));
  check(cudaEventCreate(&stop));
  body();  // warm-up
  check(cudaDeviceSynchronize());
  for (auto _ : state) {
    check(cudaEventRecord(start));
    body();
    check(cudaEventRecord(stop));
    check(cudaEventSynchronize(stop));
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start, stop));
    state.SetIterationTime(static_cast<double>(ms) * 1e-3);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
  check(cudaEventDestroy(start));
  check(cudaEventDestroy(stop));
}

const qmath::QuantParams kParams{0.03f, 0};

void BM_memcpy_baseline_5n(benchmark::State& state) {  // the traffic of quantize to int8: read 4n, write n bytes
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 5 * n, [&] { check(cudaMemcpyAsync(b.y, b.x, 5 * n / 2, cudaMemcpyDeviceToDevice)); });
}

void BM_quantize_int8(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 5 * n, [&] { qmath::cuda::quantize(b.x, n, b.q, kParams); });
}

void BM_quantize_int8_scalar_path(benchmark::State& state) {  // input and output misaligned differently
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 5 * n, [&] { qmath::cuda::quantize(b.x + 1, n, b.q + 2, kParams); });
}

void BM_dequantize_int8(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 5 * n, [&] { qmath::cuda::dequantize(b.q, n, b.y, kParams); });
}

void BM_fake_quantize(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 8 * n, [&] { qmath::cuda::fake_quantize(b.x, n, b.y, kParams, qmath::narrow_range<std::int8_t>()); });
}

void BM_quantize_per_channel_int8(benchmark::State& state) {  // NCHW activations, 256 channels of 56 x 56
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  const qmath::ChannelLayout layout{n / (256 * 3136), 256, 3136};
  run_timed(state, 5 * layout.size(), [&] { qmath::cuda::quantize_per_channel(b.x, layout, b.params, b.q); });
}

void BM_range(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  run_timed(state, 4 * n, [&] {
    qmath::cuda::reset_range(b.state);
    qmath::cuda::accumulate_range(b.x, n, b.state);
  });
}

void BM_histogram(benchmark::State& state) {  // range(1): bins (<= 12288 privatised, above: global atomics)
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto bins = static_cast<std::int32_t>(state.range(1));
  Buffers& b = buffers(n);
  const qmath::HistogramRange r{static_cast<float>(bins) / 64.0f, 0.0f, bins, 0, true};  // covers [0, 64)
  run_timed(state, 4 * n, [&] { qmath::cuda::accumulate_histogram(b.x, n, r, b.counts); });
}

void BM_workspace_collect(benchmark::State& state) {  // the synchronous path: two passes, two copies back
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  Buffers& b = buffers(n);
  qmath::cuda::CalibrationWorkspace ws;
  qmath::HistogramOptions o;
  o.non_finite = qmath::NonFinitePolicy::kSkip;
  qmath::Histogram h(o);
  run_timed(state, 8 * n, [&] { ws.collect(h, b.x, n); });
}

const std::int64_t kSizes[] = {1 << 20, 1 << 24, 1 << 26};

void sizes(benchmark::internal::Benchmark* bm) {
  for (std::int64_t n : kSizes) bm->Arg(n);
  bm->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_memcpy_baseline_5n)->Apply(sizes);
BENCHMARK(BM_quantize_int8)->Apply(sizes);
BENCHMARK(BM_quantize_int8_scalar_path)->Apply(sizes);
BENCHMARK(BM_dequantize_int8)->Apply(sizes);
BENCHMARK(BM_fake_quantize)->Apply(sizes);
BENCHMARK(BM_quantize_per_channel_int8)->Arg(256 * 3136 * 16)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_range)->Apply(sizes);
BENCHMARK(BM_histogram)
    ->Args({1 << 24, 2048})
    ->Args({1 << 24, 8001})
    ->Args({1 << 24, 20000})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_workspace_collect)->Arg(1 << 24)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("cuda_quantize_bench: no CUDA device, nothing measured\n");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// GPU GEMM microbenchmarks (Google Benchmark, timed with CUDA events, manual time):
//   dp4a_int32   qmath::cuda::gemm_dp4a, int8 x int8 -> int32
//   dp4a_int8    qmath::cuda::gemm_dp4a, int8 x int8 -> int8 with per-channel fixed-point requantization + bias
//   fp32_simt    qmath::cuda::gemm_fp32 (same tiling as the DP4A kernel)
//   cublas_sgemm cublasSgemm (FP32, TN)
//   cublaslt_i8  cublasLtMatmul int8 x int8 -> int32 (TN; tensor cores where the GPU has them)
// over square sizes 512..8192 and inference shapes: conv-as-GEMM layers (M = batch * H * W, N = out channels,
// K = in channels * 9), transformer linear layers (M = tokens) and decode-size batches (M = 16).
// Counters: TOPS / TFLOPS = 2 * M * N * K / time. Compare ratios within one run: scripts/gpu_bench.sh runs this with
// JSON output and scripts/gpu_bench_report.py prints the per-shape table and the ratios.
// Without a CUDA device the program says so and exits 0.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <qmath/cuda/cublas.cuh>
#include <qmath/cuda/gemm_dp4a.cuh>
#include <qmath/cuda/gemm_fp32.cuh>
#include <qmath/fixed_point.hpp>

namespace {

using qmath::GemmShape;
using qmath::cuda::check_cuda;

template <class T>
struct Device {
  T* p = nullptr;
  explicit Device(std::size_t n) {
    check_cuda(cudaMalloc(reinterpret_cast<void**>(&p), sizeof(T) * n), "bench malloc");
    check_cuda(cudaMemset(p, 1, sizeof(T) * n), "bench memset");
  }
  ~Device() { cudaFree(p); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
};

// Times `run` with CUDA events: one warm-up call, then one event pair per benchmark iteration.
template <class Run>
void timed(benchmark::State& state, GemmShape s, const char* unit, Run&& run) {
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "event");
  check_cuda(cudaEventCreate(&stop), "event");
  run();
  check_cuda(cudaDeviceSynchronize(), "warm-up");
  for (auto _ : state) {
    cudaEventRecord(start);
    run();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
  }
  check_cuda(cudaGetLastError(), "benchmark");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  state.counters[unit] = benchmark::Counter(2.0 * s.m * s.n * s.k / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k));
}

GemmShape shape_of(const benchmark::State& state) {
  return {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), static_cast<int>(state.range(2))};
}

void dp4a_int32(benchmark::State& state) {
  const GemmShape s = shape_of(state);
  Device<std::int8_t> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k);
  Device<std::int32_t> c(std::size_t(s.m) * s.n);
  timed(state, s, "TOPS",
        [&] {
          qmath::cuda::gemm_dp4a(qmath::GemmArgs{qmath::row_major(a.p, s.m, s.k), qmath::col_major(b.p, s.k, s.n),
                                                 qmath::row_major(c.p, s.m, s.n)});
        });
}

void dp4a_int8(benchmark::State& state) {
  const GemmShape s = shape_of(state);
  Device<std::int8_t> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k), c(std::size_t(s.m) * s.n);
  const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(0.0007);
  std::vector<std::int32_t> mult(s.n, q.multiplier), shift(s.n, q.shift), bias(s.n, 100);
  Device<std::int32_t> dm(s.n), ds(s.n), db(s.n);
  check_cuda(cudaMemcpy(dm.p, mult.data(), 4 * s.n, cudaMemcpyHostToDevice), "copy");
  check_cuda(cudaMemcpy(ds.p, shift.data(), 4 * s.n, cudaMemcpyHostToDevice), "copy");
  check_cuda(cudaMemcpy(db.p, bias.data(), 4 * s.n, cudaMemcpyHostToDevice), "copy");
  const qmath::Epilogue e =
      qmath::Epilogue::fixed_point_multiplier(dm.p, ds.p, qmath::Granularity::kPerChannel).with_bias(db.p).with_clamp(0, INT32_MAX);
  const qmath::GemmArgs args{qmath::row_major(a.p, s.m, s.k), qmath::col_major(b.p, s.k, s.n), qmath::row_major(c.p, s.m, s.n),
                             0, 0, e};
  timed(state, s, "TOPS", [&] { qmath::cuda::gemm_dp4a(args); });
}

void fp32_simt(benchmark::State& state) {
  const GemmShape s = shape_of(state);
  Device<float> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k), c(std::size_t(s.m) * s.n);
  timed(state, s, "TFLOPS", [&] { qmath::cuda::gemm_fp32(qmath::row_major(a.p, s.m, s.k), qmath::col_major(b.p, s.k, s.n), qmath::row_major(c.p, s.m, s.n)); });
}

void cublas_sgemm(benchmark::State& state) {
  const GemmShape s = shape_of(state);
  Device<float> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k), c(std::size_t(s.m) * s.n);
  cublasHandle_t h = nullptr;
  qmath::cuda::check_cublas(cublasCreate(&h), "bench");
  timed(state, s, "TFLOPS", [&] { qmath::cuda::cublas_sgemm_tn(h, s, a.p, s.k, b.p, s.k, c.p, s.n); });
  cublasDestroy(h);
}

void cublaslt_i8(benchmark::State& state) {
  const GemmShape s = shape_of(state);
  Device<std::int8_t> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k);
  Device<std::int32_t> c(std::size_t(s.m) * s.n);
  const std::size_t ws_bytes = std::size_t(32) << 20;
  Device<unsigned char> ws(ws_bytes);
  cublasLtHandle_t h = nullptr;
  qmath::cuda::check_cublas(cublasLtCreate(&h), "bench");
  {
    qmath::cuda::CublasLtInt8Gemm g(h, s, s.k, s.k, s.n, qmath::cuda::CublasLtInt8Gemm::Output::kInt32, ws.p,
                                    ws_bytes);
    timed(state, s, "TOPS", [&] { g.run(a.p, b.p, c.p); });
  }
  cublasLtDestroy(h);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int n : {512, 1024, 2048, 4096, 8192}) b->Args({n, n, n});
  // Conv layers as GEMM, batch 32: (H*W, C_in -> C_out) = (56*56, 64->64), (28*28, 128->128), (14*14, 256->256),
  // (7*7, 512->512); K = C_in * 3 * 3.
  b->Args({32 * 56 * 56, 64, 64 * 9});
  b->Args({32 * 28 * 28, 128, 128 * 9});
  b->Args({32 * 14 * 14, 256, 256 * 9});
  b->Args({32 * 7 * 7, 512, 512 * 9});
  // Transformer linear layers, 4096 tokens (BERT-base: QKV / attention output 768 -> 768, FFN 768 -> 3072 -> 768).
  b->Args({4096, 768, 768});
  b->Args({4096, 3072, 768});
  b->Args({4096, 768, 3072});
  // Decode-size batches, 16 tokens, 4096-wide layers (a 7B-class LLM's attention projection and FFN up-projection).
  b->Args({16, 4096, 4096});
  b->Args({16, 11008, 4096});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(dp4a_int32)->Apply(shapes);
BENCHMARK(dp4a_int8)->Apply(shapes);
BENCHMARK(fp32_simt)->Apply(shapes);
BENCHMARK(cublas_sgemm)->Apply(shapes);
BENCHMARK(cublaslt_i8)->Apply(shapes);

}  // namespace

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    std::printf("cuda_gemm_bench: no CUDA device (%s); nothing to measure\n",
                e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    return 0;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  benchmark::AddCustomContext("gpu", std::string(prop.name) + " sm_" + std::to_string(prop.major * 10 + prop.minor));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// cpu_gemm_bench - INT8 GEMM (qmath::cpu::gemm, every path this CPU runs) against Eigen FP32 GEMM, the scalar
// reference (small shapes) and oneDNN's dnnl_gemm_s8s8s32 / dnnl_gemm_u8s8s32 (when built with oneDNN), single
// thread. Counter GOPs = 2 * M * N * K operations per second / 1e9 (a multiply-add counts as two operations).
//
// Benchmark names: <method>/<shape> with shape MxNxK; B is the weight operand stored N x K (K-contiguous).
//   qmath_s8s8_<isa>        pre-packed B, int32 output (raw accumulator)
//   qmath_u8s8_<isa>        the same with uint8 A
//   qmath_s8s8_<isa>_t1, _t2  qmath_s8s8_<best isa> on 1 and 2 threads (GemmOptions::threads), GOPs from wall
//                           time (the other benchmarks use the process's CPU time)
//   qmath_s8s8_avx2_maddubs       weights in [-64, 64] (every packed k pair has |w0| + |w1| <= 128): pack_b picks the
//                                 exact VPMADDUBSW kernel
//   qmath_s8s8_avx2_int16_w64     the same weights forced into the int16 layout (exact VPMADDWD kernel), for a
//                                 same-data comparison with qmath_s8s8_avx2_maddubs
//   qmath_u8s8_avx2_saturating    full-range weights, GemmOptions::saturate_int16_pairs: the arithmetic of
//                                 onednn_u8s8 on an AVX2 CPU (not exact)
//   qmath_u8s8_avx2_a7            full-range weights, uint8 A in [0, 127] with GemmOptions::activations_7bit:
//                                 the VPMADDUBSW kernel for every B, exact (onednn_u8s8's instruction mix)
//   qmath_s8s8_ldc_pad16    the same as qmath_s8s8_<best isa> with C rows padded by 16 elements
//   qmath_s8s8_oneshot      one-shot API (B packed inside every call), best path
//   qmath_fused_i8          pre-packed, int8 output with bias + per-channel float scale + zero point + ReLU, fused
//   qmath_fused_i8_fixed    the same with the per-channel scale as gemmlowp fixed-point multipliers (double rounding)
//   qmath_fused_i8_saturating  qmath_fused_i8 with GemmOptions::saturate_int16_pairs (AVX2 CPUs): the arithmetic of
//                           onednn_s8s8_plus_requant on an AVX2 CPU, for a same-function comparison
//   qmath_dynquant_f32      ONNX Runtime's DynamicQuantizeMatMul composed from qmath (dynamic_quant_matmul.hpp): float
//                           A quantized in every call, per-column weight scales, float output (fully connected shapes)
//   qmath_u8s8_f32out       the same from uint8 A (MatMulIntegerToFloat)
//   qmath_dynquant_f32_saturating, qmath_u8s8_f32out_saturating  the same two with
//                           GemmOptions::saturate_int16_pairs (x86 SIMD CPUs): ONNX Runtime's arithmetic on AVX2
//   onednn_s8s8, onednn_u8s8         dnnl_gemm_*s32, int32 output
//   onednn_s8s8_plus_requant         dnnl_gemm_s8s8s32 then a separate requantization pass (same math), with qmath's
//                                    AVX-512 or AVX2 epilogue where the CPU has one
//   eigen_f32               Eigen GEMM in float
//   onednn_f32              dnnl_sgemm (FP32 anchor), row-major A x B^T like the others
//   reference               qmath::gemm_reference
// oneDNN runs single-threaded: main() re-executes the program with OMP_NUM_THREADS=1 unless it is already set.
#include <unistd.h>

#include <benchmark/benchmark.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <qmath/cpu/gemm.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "dynamic_quant_matmul.hpp"

#if QMATH_BENCH_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

void cpu_gemm_bench_eigen_sgemm(int m, int n, int k, const float* a, const float* b, float* c);
const char* cpu_gemm_bench_eigen_simd();

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Isa;

struct Shape {
  int m, n, k;
  std::string name() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
  double ops() const { return 2.0 * m * n * k; }
};

// Output buffers start on a 64-byte boundary, as an engine's tensors do (glibc's large mallocs are only 16-aligned).
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  bool operator==(const CacheLineAllocator&) const { return true; }
  bool operator!=(const CacheLineAllocator&) const { return false; }
};
template <class T>
using OutputVector = std::vector<T, CacheLineAllocator<T>>;

template <class T>
std::vector<T> random_vector(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(qmath::full_range<T>().qmin, qmath::full_range<T>().qmax);
  std::vector<T> v(size);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Bytes per second of a read-only streaming pass over `bytes` bytes (64-byte aligned, already in cache after the
// first pass): the read bandwidth of the cache level or memory that holds a footprint of that size, on one core.
// Measured once per size (the median of 5 timed runs of at least 20 ms each) and kept for the process. Timed in
// thread CPU time, as the benchmarks' counters are (a loaded machine then costs neither of them its waiting time).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) std::uint64_t read_pass(const std::uint8_t* p, std::size_t bytes) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (std::size_t i = 0; i + 128 <= bytes; i += 128) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  return std::uint64_t(_mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) + _mm256_extract_epi64(s, 2) +
                       _mm256_extract_epi64(s, 3));
}
#else
std::uint64_t read_pass(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t s[4] = {};
  for (std::size_t i = 0; i + 32 <= bytes; i += 32)
    for (int j = 0; j < 4; ++j) {
      std::uint64_t v;
      std::memcpy(&v, p + i + 8 * j, 8);
      s[j] += v;
    }
  return s[0] + s[1] + s[2] + s[3];
}
#endif
double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}
double read_bandwidth(std::size_t bytes) {
  static std::map<std::size_t, double> measured;
  auto it = measured.find(bytes);
  if (it != measured.end()) return it->second;
  bytes = (bytes + 127) / 128 * 128;
  std::vector<std::uint8_t, CacheLineAllocator<std::uint8_t>> buf(bytes);
  for (std::size_t i = 0; i < bytes; ++i) buf[i] = std::uint8_t(i * 131);
  volatile std::uint64_t sink = read_pass(buf.data(), bytes);
  std::vector<double> rates;
  for (int run = 0; run < 5; ++run) {
    std::size_t passes = 0;
    const double t0 = thread_cpu_seconds();
    double elapsed = 0;
    do {
      sink = sink + read_pass(buf.data(), bytes);
      ++passes;
      elapsed = thread_cpu_seconds() - t0;
    } while (elapsed < 0.02);
    rates.push_back(double(passes) * double(bytes) / elapsed);
  }
  std::sort(rates.begin(), rates.end());
  return measured[bytes] = rates[2];
}

// GOPs; for batch 1 also the packed int8 weight bytes (weight_bytes, the footprint a GEMV reads: N and K padded to
// the packing) read per second (weight_GBps), the read bandwidth of a streaming loop over the same footprint
// (read_GBps, read_bandwidth) and their ratio (of_read_bw).
void set_counters(benchmark::State& state, const Shape& s) {
  state.counters["GOPs"] = benchmark::Counter(s.ops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  if (s.m == 1) {
    const double bytes = double(qmath::cpu::detail::packed_b_elements(s.k, s.n));
    const double bw = read_bandwidth(std::size_t(bytes));
    state.counters["weight_bytes"] = bytes;
    state.counters["weight_GBps"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["read_GBps"] = bw / 1e9;
    // (bytes / bw) per iteration as a rate: weight bytes per second over the read bandwidth.
    state.counters["of_read_bw"] = benchmark::Counter(bytes / bw, benchmark::Counter::kIsIterationInvariantRate);
  }
}

// The fused output stage used by the "fused" comparison: bias, per-channel float scale, zero point, ReLU.
struct FusedEpilogue {
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
  Epilogue e;
  explicit FusedEpilogue(const Shape& s, bool fixed_point = false) : bias(s.n), multiplier(s.n), shift(s.n), scale(s.n) {
    std::mt19937 rng(7);
    for (int n = 0; n < s.n; ++n) {
      bias[n] = int(rng() % 20001) - 10000;
      scale[n] = 1.0f / (64.0f * 128.0f) * (0.5f + float(rng() % 100) / 100.0f);
      const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(scale[n]);
      multiplier[n] = q.multiplier;
      shift[n] = q.shift;
    }
    const qmath::Granularity per_channel = qmath::Granularity::kPerChannel;
    e = (fixed_point ? Epilogue::fixed_point_multiplier(multiplier.data(), shift.data(), per_channel)
                     : Epilogue::float_multiplier(scale.data(), per_channel))
            .with_bias(bias.data())
            .with_output_zero_point(-10)
            .with_clamp(-10, INT32_MAX);  // ReLU in the quantized domain
  }
};

// How the B of a qmath benchmark is made and packed.
enum class Weights {
  kFull,            // uniform over int8, packed by pack_b
  kBounded,         // uniform over [-64, 64]: every k pair fits VPMADDUBSW; packed by pack_b
  kBoundedInt16,    // the same values forced into the int16 layout
  kSaturating,      // uniform over int8, GemmOptions::saturate_int16_pairs (oneDNN's AVX2 u8s8 arithmetic)
  kFull7BitA,       // uniform over int8, packed by pack_b; uint8 A in [0, 127] with GemmOptions::activations_7bit
};

// ldc_pad > 0 pads C's rows (a C row stride that is not a power of two).
template <class TA>
void bm_qmath(benchmark::State& state, Shape s, Isa isa, int ldc_pad, int threads, Weights w) {
  auto a = random_vector<TA>(std::size_t(s.m) * s.k, 1);
  if (w == Weights::kFull7BitA)
    for (TA& x : a) x = static_cast<TA>(x & 0x7F);  // [0, 127]
  auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  if (w == Weights::kBounded || w == Weights::kBoundedInt16)
    for (std::int8_t& x : b) x = static_cast<std::int8_t>(x / 2);  // [-64, 63]
  using qmath::cpu::detail::BPackLayout;
  const BPackLayout int16 = BPackLayout::kInt16K2, int8 = BPackLayout::kInt8K4;
  const BPackLayout* force = w == Weights::kBoundedInt16 ? &int16 : w == Weights::kSaturating ? &int8 : nullptr;
  const auto packed = qmath::cpu::detail::pack_b_for(isa, qmath::MatrixView<const std::int8_t>(qmath::col_major(b.data(), s.k, s.n)), 0, force);
  qmath::cpu::GemmOptions opt{isa, threads};
  opt.saturate_int16_pairs = w == Weights::kSaturating;
  opt.activations_7bit = w == Weights::kFull7BitA;
  const int ldc = s.n + ldc_pad;
  OutputVector<std::int32_t> c(std::size_t(s.m) * ldc);
  const Epilogue e;
  for (auto _ : state) {
    qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{qmath::row_major(a.data(), s.m, s.k), &packed, qmath::row_major(c.data(), s.m, s.n, ldc), 0, e}, opt);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_qmath_oneshot(benchmark::State& state, Shape s) {
  const auto a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  OutputVector<std::int32_t> c(std::size_t(s.m) * s.n);
  const Epilogue e;
  for (auto _ : state) {
    qmath::cpu::gemm(qmath::GemmArgs{qmath::row_major(a.data(), s.m, s.k), qmath::col_major(b.data(), s.k, s.n), qmath::row_major(c.data(), s.m, s.n), 0, 0, e});
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_qmath_fused(benchmark::State& state, Shape s, bool fixed_point, bool saturate = false) {
  const auto a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  const auto packed = qmath::cpu::pack_b(qmath::col_major(b.data(), s.k, s.n), 0);
  OutputVector<std::int8_t> c(std::size_t(s.m) * s.n);
  const FusedEpilogue fe(s, fixed_point);
  qmath::cpu::GemmOptions opt;
  opt.saturate_int16_pairs = saturate;
  for (auto _ : state) {
    qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{qmath::row_major(a.data(), s.m, s.k), &packed, qmath::row_major(c.data(), s.m, s.n), 0, fe.e}, opt);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// int32 output requantized with a float scale and a zero point (a float multiplier), on one path: against the plain
// int32 GEMM of the same path (qmath_s8s8_<isa>) on an epilogue-heavy shape (small K), the epilogue's cost.
void bm_qmath_i32_scaled(benchmark::State& state, Shape s, Isa isa) {
  const auto a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  const auto packed = qmath::cpu::pack_b(qmath::col_major(b.data(), s.k, s.n), 0);
  OutputVector<std::int32_t> c(std::size_t(s.m) * s.n);
  const float scale = 0.37f;
  const Epilogue e = Epilogue::float_multiplier(&scale).with_output_zero_point(3);
  for (auto _ : state) {
    qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{qmath::row_major(a.data(), s.m, s.k), &packed, qmath::row_major(c.data(), s.m, s.n), 0, e}, {isa, 1});
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// ONNX Runtime's dynamic-quantization MatMuls composed from qmath's API (dynamic_quant_matmul.hpp): float output
// with per-column weight scales, full-range int8 weights pre-packed (zero point 0), no bias; the default (exact) path,
// or with `saturate` GemmOptions::saturate_int16_pairs.
// dynquant: float A, quantized inside every call (min/max, DynamicQuantizeLinear parameters, quantize_array) as in
// DynamicQuantizeMatMul; u8s8_f32out: uint8 A already quantized (zero point 128), as in MatMulIntegerToFloat.
struct DynamicQuantOperands {
  std::vector<float> x, b_scale;
  std::vector<std::uint8_t> a_q;
  std::vector<std::int8_t> b;
  qmath_bench::QuantizedWeights w;
  explicit DynamicQuantOperands(const Shape& s) : x(std::size_t(s.m) * s.k), b_scale(s.n) {
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dx(-1.75f, 4.5f), ds(1e-3f, 2e-2f);
    for (float& v : x) v = dx(rng);
    for (float& v : b_scale) v = ds(rng);
    a_q = random_vector<std::uint8_t>(std::size_t(s.m) * s.k, 1);
    b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
    w = qmath_bench::prepare_weights(qmath::col_major(static_cast<const std::int8_t*>(b.data()), s.k, s.n), b_scale);
  }
};

qmath::cpu::GemmOptions dynamic_quant_options(bool saturate) {
  qmath::cpu::GemmOptions opt;
  opt.saturate_int16_pairs = saturate;
  return opt;
}

void bm_qmath_dynquant_f32(benchmark::State& state, Shape s, bool saturate) {
  DynamicQuantOperands o(s);
  OutputVector<float> y(std::size_t(s.m) * s.n);
  const qmath::cpu::GemmOptions opt = dynamic_quant_options(saturate);
  for (auto _ : state) {
    qmath_bench::dynamic_quantize_matmul(qmath::row_major(static_cast<const float*>(o.x.data()), s.m, s.k), o.w, o.a_q,
                                         qmath::row_major(y.data(), s.m, s.n), opt);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_qmath_u8s8_f32out(benchmark::State& state, Shape s, bool saturate) {
  DynamicQuantOperands o(s);
  OutputVector<float> y(std::size_t(s.m) * s.n);
  const qmath::QuantParams a{0.02f, 128};
  const qmath::cpu::GemmOptions opt = dynamic_quant_options(saturate);
  for (auto _ : state) {
    qmath_bench::matmul_integer_to_float(qmath::row_major(static_cast<const std::uint8_t*>(o.a_q.data()), s.m, s.k),
                                         a, o.w, qmath::row_major(y.data(), s.m, s.n), opt);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_eigen(benchmark::State& state, Shape s) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> a(std::size_t(s.m) * s.k), b(std::size_t(s.k) * s.n), c(std::size_t(s.m) * s.n);
  for (float& x : a) x = d(rng);
  for (float& x : b) x = d(rng);
  for (auto _ : state) {
    cpu_gemm_bench_eigen_sgemm(s.m, s.n, s.k, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_reference(benchmark::State& state, Shape s) {
  const auto a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  OutputVector<std::int32_t> c(std::size_t(s.m) * s.n);
  for (auto _ : state) {
    qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(a.data(), s.m, s.k), qmath::col_major(b.data(), s.k, s.n),
                                           qmath::row_major(c.data(), s.m, s.n)});
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

#if QMATH_BENCH_HAVE_DNNL
// Row-major C = A * B^T with B stored N x K, as the qmath benchmarks (transb = 'T').
template <class TA>
dnnl_status_t onednn_gemm(const Shape& s, const TA* a, const std::int8_t* b, std::int32_t* c) {
  const std::int32_t co = 0;
  if constexpr (std::is_same<TA, std::uint8_t>::value)
    return dnnl_gemm_u8s8s32('N', 'T', 'F', s.m, s.n, s.k, 1.0f, a, s.k, 0, b, s.k, 0, 0.0f, c, s.n, &co);
  else
    return dnnl_gemm_s8s8s32('N', 'T', 'F', s.m, s.n, s.k, 1.0f, a, s.k, 0, b, s.k, 0, 0.0f, c, s.n, &co);
}

template <class TA>
void bm_onednn(benchmark::State& state, Shape s) {
  const auto a = random_vector<TA>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  OutputVector<std::int32_t> c(std::size_t(s.m) * s.n);
  for (auto _ : state) {
    if (onednn_gemm(s, a.data(), b.data(), c.data()) != dnnl_success) {
      state.SkipWithError("dnnl_gemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void bm_onednn_f32(benchmark::State& state, Shape s) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> a(std::size_t(s.m) * s.k), b(std::size_t(s.n) * s.k);
  OutputVector<float> c(std::size_t(s.m) * s.n);
  for (float& x : a) x = d(rng);
  for (float& x : b) x = d(rng);
  for (auto _ : state) {
    if (dnnl_sgemm('N', 'T', s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.k, 0.0f, c.data(), s.n) != dnnl_success) {
      state.SkipWithError("dnnl_sgemm failed");
      break;
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// oneDNN GEMM into int32, then the same output stage as a separate pass over C (qmath's vectorised epilogue).
void bm_onednn_plus_requant(benchmark::State& state, Shape s) {
  const auto a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, 1);
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, 2);
  OutputVector<std::int32_t> acc(std::size_t(s.m) * s.n);
  OutputVector<std::int8_t> c(std::size_t(s.m) * s.n);
  const std::vector<std::int32_t> zero_rows(std::size_t(s.m), 0), zero_cols(std::size_t(s.n), 0);
  const FusedEpilogue fe(s);
  const bool avx512 = qmath::isa_available(Isa::kAvx512Vnni), avx2 = qmath::isa_available(Isa::kAvx2);
  for (auto _ : state) {
    if (onednn_gemm(s, a.data(), b.data(), acc.data()) != dnnl_success) {
      state.SkipWithError("dnnl_gemm failed");
      break;
    }
#if QMATH_CPU_X86
    if (avx512)
      qmath::cpu::detail::epilogue_avx512<std::int8_t>(fe.e, acc.data(), s.n, zero_rows.data(), s.m, zero_cols.data(),
                                                       0, s.n, c.data(), s.n);
    else if (avx2)
      qmath::cpu::detail::epilogue_avx2<std::int8_t>(fe.e, acc.data(), s.n, zero_rows.data(), s.m, zero_cols.data(),
                                                     0, s.n, c.data(), s.n);
    else
#endif
      qmath::cpu::detail::epilogue_scalar<std::int8_t>(fe.e, acc.data(), s.n, zero_rows.data(), s.m, zero_cols.data(),
                                                       0, s.n, c.data(), s.n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}
#endif

void register_all() {
  std::vector<Shape> squares, inference;
  for (int n : {64, 128, 256, 512, 768, 1024, 1536, 2048}) squares.push_back({n, n, n});
  // Fully connected layers (batch x out x in) and two im2col convolutions (ResNet 3x3: 56x56x64 -> 64 and
  // 14x14x256 -> 256).
  for (int batch : {1, 16, 64})
    for (auto nk : {std::pair<int, int>{768, 768}, {3072, 768}, {768, 3072}, {4096, 4096}})
      inference.push_back({batch, nk.first, nk.second});
  inference.push_back({3136, 64, 576});
  inference.push_back({196, 256, 2304});
  std::vector<Shape> all = squares;
  all.insert(all.end(), inference.begin(), inference.end());

  std::vector<Isa> paths;
  for (Isa isa : {Isa::kAvx512Vnni, Isa::kAvxVnni, Isa::kAvx2, Isa::kNeonI8mm, Isa::kNeonDotprod, Isa::kNeon,
                  Isa::kScalar})  // best first; one family is available
    if (qmath::isa_available(isa)) paths.push_back(isa);
  const double kMinTime = 0.2;
  for (const Shape& s : all) {
    const std::string shape = "/" + s.name();
    for (Isa isa : paths) {
      if (isa == Isa::kScalar && double(s.m) * s.n * s.k > 512.0 * 512 * 512) continue;  // too slow to matter
      benchmark::RegisterBenchmark((std::string("qmath_s8s8_") + qmath::isa_name(isa) + shape).c_str(),
                                   bm_qmath<std::int8_t>, s, isa, 0, 1, Weights::kFull)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
    }
    const std::string best = qmath::isa_name(paths.front());
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark(("qmath_s8s8_" + best + "_t" + std::to_string(threads) + shape).c_str(),
                                   bm_qmath<std::int8_t>, s, paths.front(), 0, threads, Weights::kFull)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    if (qmath::isa_available(Isa::kAvx2)) {
      benchmark::RegisterBenchmark(("qmath_s8s8_avx2_maddubs" + shape).c_str(), bm_qmath<std::int8_t>, s, Isa::kAvx2,
                                   0, 1, Weights::kBounded)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("qmath_u8s8_avx2_saturating" + shape).c_str(), bm_qmath<std::uint8_t>, s,
                                   Isa::kAvx2, 0, 1, Weights::kSaturating)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("qmath_s8s8_avx2_int16_w64" + shape).c_str(), bm_qmath<std::int8_t>, s,
                                   Isa::kAvx2, 0, 1, Weights::kBoundedInt16)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("qmath_u8s8_avx2_a7" + shape).c_str(), bm_qmath<std::uint8_t>, s, Isa::kAvx2, 0,
                                   1, Weights::kFull7BitA)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark(("qmath_u8s8_" + best + shape).c_str(),
                                 bm_qmath<std::uint8_t>, s, paths.front(), 0, 1,
                                 Weights::kFull)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("qmath_s8s8_oneshot" + shape).c_str(), bm_qmath_oneshot, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("eigen_f32" + shape).c_str(), bm_eigen, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    if (double(s.m) * s.n * s.k <= 128.0 * 128 * 128)
      benchmark::RegisterBenchmark(("reference" + shape).c_str(), bm_reference, s)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
#if QMATH_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("onednn_s8s8" + shape).c_str(), bm_onednn<std::int8_t>, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("onednn_u8s8" + shape).c_str(), bm_onednn<std::uint8_t>, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("onednn_f32" + shape).c_str(), bm_onednn_f32, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
#endif
  }
  // int32 C with power-of-two row stride vs a padded stride (ldc = N + 16), best path.
  for (int n : {1024, 2048}) {
    const Shape s{n, n, n};
    benchmark::RegisterBenchmark(("qmath_s8s8_ldc_pad16/" + s.name()).c_str(), bm_qmath<std::int8_t>, s, paths.front(),
                                 16, 1, Weights::kFull)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
  }
  // Float-scaled int32 output per path, next to the plain int32 GEMM of the same shape and path.
  {
    const Shape s{64, 1024, 64};
    for (Isa isa : paths) {
      const std::string suffix = std::string(qmath::isa_name(isa)) + "/" + s.name();
      benchmark::RegisterBenchmark(("qmath_s8s8_" + suffix).c_str(), bm_qmath<std::int8_t>, s, isa, 0, 1,
                                   Weights::kFull)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("qmath_i32_scaled_" + suffix).c_str(), bm_qmath_i32_scaled, s, isa)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  // ONNX Runtime's dynamic-quantization MatMuls (bench/compare_onnxruntime.py), fully connected shapes.
  for (const Shape& s : inference) {
    if (s.m > 64) continue;
    const std::string shape = "/" + s.name();
    for (const bool saturate : {false, true}) {
      if (saturate && !qmath::isa_available(Isa::kAvx2)) continue;  // the saturating mode's SIMD kernels are x86
      const std::string suffix = (saturate ? "_saturating" : "") + shape;
      benchmark::RegisterBenchmark(("qmath_dynquant_f32" + suffix).c_str(), bm_qmath_dynquant_f32, s, saturate)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("qmath_u8s8_f32out" + suffix).c_str(), bm_qmath_u8s8_f32out, s, saturate)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  std::vector<Shape> fused = inference;
  fused.push_back({1024, 1024, 1024});
  for (const Shape& s : fused) {
    const std::string shape = "/" + s.name();
    benchmark::RegisterBenchmark(("qmath_fused_i8" + shape).c_str(), bm_qmath_fused, s, false, false)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("qmath_fused_i8_fixed" + shape).c_str(), bm_qmath_fused, s, true, false)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
    if (qmath::isa_available(Isa::kAvx2))
      benchmark::RegisterBenchmark(("qmath_fused_i8_saturating" + shape).c_str(), bm_qmath_fused, s, false, true)
          ->MinTime(kMinTime)
          ->Unit(benchmark::kMicrosecond);
#if QMATH_BENCH_HAVE_DNNL
    benchmark::RegisterBenchmark(("onednn_s8s8_plus_requant" + shape).c_str(), bm_onednn_plus_requant, s)
        ->MinTime(kMinTime)
        ->Unit(benchmark::kMicrosecond);
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
#if QMATH_BENCH_HAVE_DNNL
  // oneDNN's OpenMP runtime reads OMP_NUM_THREADS when the library loads: set it and start again, so the oneDNN
  // figures are single-threaded like qmath's (an explicit OMP_NUM_THREADS is respected).
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    setenv("OMP_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);  // returns only on failure; then run as is
  }
#endif
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("qmath_best_isa", qmath::isa_name(qmath::cpu::resolved_isa_for_gemm()));
  benchmark::AddCustomContext("eigen_simd", cpu_gemm_bench_eigen_simd());
#if QMATH_BENCH_HAVE_DNNL
  benchmark::AddCustomContext("onednn", "dnnl_gemm_s8s8s32 / dnnl_gemm_u8s8s32");
#else
  benchmark::AddCustomContext("onednn", "not built (oneDNN not found)");
#endif
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

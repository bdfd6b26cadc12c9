// qmath/cuda/detail/calibration_kernels.cuh - the reduction and histogram kernels behind qmath/cuda/calibration.cuh,
// and the few runtime calls (memset, copy back, synchronise, allocate) its synchronous helpers make.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/config.hpp>
#include <qmath/cuda/arch/barrier.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/cuda/platform.cuh>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {
namespace cuda {

// Device-resident running range of a stream of floats. All-zero bytes is the empty state (reset_range), and the
// kernels only ever merge into it with atomics (max, add), so batches accumulate in any order and the result does
// not depend on the order, the grid shape or the block scheduling.
//   max_key / neg_min_key: order-preserving 32-bit keys of the largest finite value and (complemented) of the
//     smallest finite value; 0 means "no finite value yet" (no finite float has key 0 or key ~0).
//   finite, nan, pos_inf, neg_inf: element counts.
struct DeviceRangeState {
  unsigned int max_key;
  unsigned int neg_min_key;
  unsigned long long finite;
  unsigned long long nan;
  unsigned long long pos_inf;
  unsigned long long neg_inf;
};

namespace detail {

// Order-preserving map from non-NaN floats to unsigned keys: a < b  <=>  key(a) < key(b), with -0 < +0 (the kernels
// turn -0 into +0 before keying, so a zero extreme is reported as +0).
QMATH_HOST_DEVICE unsigned int calibration_key(float f) {
#if QMATH_DEVICE_CODE
  const unsigned int bits = __float_as_uint(f);
#else
  unsigned int bits;
  static_assert(sizeof(bits) == sizeof(f), "float is 32 bits");
  std::memcpy(&bits, &f, sizeof(bits));
#endif
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
QMATH_HOST_DEVICE float calibration_unkey(unsigned int key) {
  const unsigned int bits = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
#if QMATH_DEVICE_CODE
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
#endif
}

// Checks that layout.size() fits size_t; returns the row count outer * channels.
inline std::size_t calibration_check_layout(ChannelLayout layout, const char* where) {
  const std::size_t max = ~std::size_t(0);
  qmath::detail::require(layout.outer == 0 || layout.channels <= max / layout.outer, where, "layout ", layout.outer,
                         " x ", layout.channels, " x ", layout.inner, " overflows size_t");
  const std::size_t rows = layout.outer * layout.channels;
  qmath::detail::require(rows == 0 || layout.inner <= max / rows, where, "layout ", layout.outer, " x ",
                         layout.channels, " x ", layout.inner, " overflows size_t");
  return rows;
}

// [0, head) and [head + 4 * vectors, n) are scalar; the body is read as float4 (16-byte aligned).
struct CalibrationSplit {
  std::size_t n;
  std::size_t head;
  std::size_t vectors;
};
inline CalibrationSplit calibration_split(const float* x, std::size_t n) {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(x);
  const std::size_t head = static_cast<std::size_t>(((16 - a % 16) % 16) / sizeof(float));
  if (head >= n) return {n, n, 0};
  return {n, head, (n - head) / 4};
}

// Calls f(x[i]) for every element this thread owns in a grid-stride walk over the split. The order is irrelevant:
// every consumer below is commutative and associative (max, min, integer add).
template <class F>
QMATH_DEVICE void calibration_for_each(const float* x, CalibrationSplit s, F& f) {
  const std::size_t body = 4 * s.vectors;
  const std::size_t units = s.vectors + (s.n - body);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t u = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < units; u += stride) {
    if (u < s.vectors) {
      const float4 v = *reinterpret_cast<const float4*>(x + s.head + 4 * u);
      f(v.x);
      f(v.y);
      f(v.z);
      f(v.w);
    } else {
      const std::size_t k = u - s.vectors;
      f(x[k < s.head ? k : k + body]);
    }
  }
}

inline constexpr unsigned kCalibrationBlock = 256;  // a power of two (tree reduction)
// Grid caps (grid-stride beyond). Histogram blocks each flush up to `bins` atomics at the end, so they use fewer,
// fuller blocks.
inline constexpr std::size_t kCalibrationMaxBlocks = 1024;
inline constexpr std::size_t kCalibrationHistogramMaxBlocks = 256;
// Largest privatised histogram: 48 KiB of dynamic shared memory (the default limit without the opt-in attribute),
// i.e. 12288 bins of 32-bit counters.
inline constexpr std::size_t kCalibrationMaxHistogramShared = 48 * 1024;

// Per-thread range accumulator (keys, 0 = nothing seen).
struct CalibrationRangeAcc {
  unsigned int max_key = 0, neg_min_key = 0;
  unsigned long long finite = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  QMATH_HOST_DEVICE void operator()(float v) {
    if (v - v == 0.0f) {  // finite: inf - inf and NaN - NaN are NaN
      const unsigned int k = calibration_key(v + 0.0f);  // -0 + 0 = +0
      max_key = k > max_key ? k : max_key;
      neg_min_key = ~k > neg_min_key ? ~k : neg_min_key;
      ++finite;
    } else if (v != v) {
      ++nan;
    } else if (v > 0.0f) {
      ++pos_inf;
    } else {
      ++neg_inf;
    }
  }
};

// Block tree reduction of the accumulators in shared memory, then one atomic per field per block into *state.
QMATH_DEVICE void calibration_merge_range(const CalibrationRangeAcc& acc, unsigned int* s_key, unsigned long long* s_count,
                                          DeviceRangeState* state) {
  // s_key: 2 * kCalibrationBlock, s_count: 4 * kCalibrationBlock.
  const unsigned t = threadIdx.x;
  s_key[t] = acc.max_key;
  s_key[kCalibrationBlock + t] = acc.neg_min_key;
  s_count[t] = acc.finite;
  s_count[kCalibrationBlock + t] = acc.nan;
  s_count[2 * kCalibrationBlock + t] = acc.pos_inf;
  s_count[3 * kCalibrationBlock + t] = acc.neg_inf;
  arch::sync_block();
  for (unsigned half = kCalibrationBlock / 2; half > 0; half /= 2) {
    if (t < half) {
      for (unsigned f = 0; f < 2; ++f) {
        const unsigned a = s_key[f * kCalibrationBlock + t], b = s_key[f * kCalibrationBlock + t + half];
        s_key[f * kCalibrationBlock + t] = a > b ? a : b;
      }
      for (unsigned f = 0; f < 4; ++f) s_count[f * kCalibrationBlock + t] += s_count[f * kCalibrationBlock + t + half];
    }
    arch::sync_block();
  }
  if (t == 0) {
    if (s_key[0] != 0u) atomicMax(&state->max_key, s_key[0]);
    if (s_key[kCalibrationBlock] != 0u) atomicMax(&state->neg_min_key, s_key[kCalibrationBlock]);
    if (s_count[0] != 0) atomicAdd(&state->finite, s_count[0]);
    if (s_count[kCalibrationBlock] != 0) atomicAdd(&state->nan, s_count[kCalibrationBlock]);
    if (s_count[2 * kCalibrationBlock] != 0) atomicAdd(&state->pos_inf, s_count[2 * kCalibrationBlock]);
    if (s_count[3 * kCalibrationBlock] != 0) atomicAdd(&state->neg_inf, s_count[3 * kCalibrationBlock]);
  }
}

// Whole-array range: grid-stride over the elements, one merge per block.
__global__ void calibration_range_kernel(const float* x, CalibrationSplit s, DeviceRangeState* state) {
  QMATH_SHARED(unsigned int, s_key, 2 * kCalibrationBlock);
  QMATH_SHARED(unsigned long long, s_count, 4 * kCalibrationBlock);
  CalibrationRangeAcc acc;
  calibration_for_each(x, s, acc);
  calibration_merge_range(acc, s_key, s_count, state);
}

// Per-channel range of a row-major [outer, channels, inner] tensor: each block takes rows (o, c) in a grid-stride
// loop, reduces a row and merges it into states[c]. Rows are walked with scalar loads (a row's start has no useful
// alignment in general); the work per row is inner elements.
__global__ void calibration_channel_range_kernel(const float* x, ChannelLayout layout, DeviceRangeState* states) {
  QMATH_SHARED(unsigned int, s_key, 2 * kCalibrationBlock);
  QMATH_SHARED(unsigned long long, s_count, 4 * kCalibrationBlock);
  const std::size_t rows = layout.outer * layout.channels;
  for (std::size_t row = blockIdx.x; row < rows; row += gridDim.x) {
    CalibrationRangeAcc acc;
    const float* r = x + row * layout.inner;
    for (std::size_t i = threadIdx.x; i < layout.inner; i += blockDim.x) acc(r[i]);
    calibration_merge_range(acc, s_key, s_count, states + row % layout.channels);
    arch::sync_block();  // s_key / s_count are reused by the next row
  }
}

// Histogram of the finite values of x under r, added to 64-bit global counts. kPrivatised: each block counts into
// its own 32-bit shared-memory histogram (r.bins entries of dynamic shared memory; the host keeps every block's
// share of elements below 2^31 so these cannot overflow), then adds the non-zero bins to the global counts.
// Otherwise every element is one 64-bit global atomic (for bin counts that do not fit shared memory).
template <bool kPrivatised>
__global__ void calibration_histogram_kernel(const float* x, CalibrationSplit s, HistogramRange r,
                                             unsigned long long* counts) {
  QMATH_DYNAMIC_SHARED(unsigned int, s_hist);
  const unsigned bins = static_cast<unsigned>(r.bins);
  if (kPrivatised) {
    for (unsigned b = threadIdx.x; b < bins; b += blockDim.x) s_hist[b] = 0u;
    arch::sync_block();
  }
  struct Bin {
    HistogramRange r;
    unsigned int* s_hist;
    unsigned long long* counts;
    QMATH_DEVICE void operator()(float v) {
      if (!(v - v == 0.0f)) return;  // NaN and infinities are counted by the range pass, never binned
      const std::int32_t b = histogram_bin(v, r);
      if (kPrivatised)
        atomicAdd(&s_hist[b], 1u);
      else
        atomicAdd(&counts[b], 1ull);
    }
  } bin{r, s_hist, counts};
  calibration_for_each(x, s, bin);
  if (kPrivatised) {
    arch::sync_block();
    for (unsigned b = threadIdx.x; b < bins; b += blockDim.x) {
      const unsigned int c = s_hist[b];
      if (c != 0u) atomicAdd(&counts[b], static_cast<unsigned long long>(c));
    }
  }
}

// ---- runtime calls of the synchronous helpers -------------------------------------------------------------------

inline void calibration_memset_async(void* p, std::size_t bytes, cudaStream_t stream, const char* where) {
  check_cuda(cudaMemsetAsync(p, 0, bytes, stream), where);
}

// Copies device memory to host memory and waits for `stream` (and so for every kernel queued before the copy).
inline void calibration_copy_to_host_sync(void* dst, const void* src, std::size_t bytes, cudaStream_t stream,
                                          const char* where) {
  check_cuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), where);
  check_cuda(cudaStreamSynchronize(stream), where);
}

inline void* calibration_malloc(std::size_t bytes, const char* where) {
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, bytes), where);
  return p;
}

inline void calibration_free(void* p) noexcept {
  if (p) cudaFree(p);
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

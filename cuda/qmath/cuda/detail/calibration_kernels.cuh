// qmath/cuda/detail/calibration_kernels.cuh - the reduction and histogram kernels behind qmath/cuda/calibration.cuh.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/config.hpp>
#include <qmath/error.hpp>

#include <cuda_runtime.h>

namespace qmath {
namespace cuda {

// Device-resident running range of a stream of floats. All-zero bytes is the empty state (cudaMemsetAsync(0)),
// and every kernel only ever merges into it with atomics, so batches can be accumulated in any order and the result
// does not depend on it.
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

// Order-preserving map from non-NaN floats to unsigned keys: a < b  <=>  key(a) < key(b) (with -0 < +0; the kernels
// canonicalise -0 to +0 before keying, so a zero extreme is always reported as +0).
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

// [0, head) and [head + 4 * vectors, n) are scalar; the body is read as float4.
struct CalibrationSplit {
  std::size_t n;
  std::size_t head;
  std::size_t vectors;
};
inline CalibrationSplit calibration_split(const float* x, std::size_t n) {
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(x);
  std::size_t head = static_cast<std::size_t>(((16 - a % 16) % 16) / sizeof(float));
  if (head >= n) return {n, n, 0};
  return {n, head, (n - head) / 4};
}

// Calls f(x[i]) for every element this thread owns in a grid-stride walk over the split (order irrelevant: every
// consumer is commutative).
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

inline constexpr unsigned kCalibrationBlock = 256;

// Per-thread range accumulator.
struct CalibrationRangeAcc {
  float min = 0.0f, max = 0.0f;
  unsigned long long finite = 0, nan = 0, pos_inf = 0, neg_inf = 0;
  QMATH_HOST_DEVICE void operator()(float v) {
    if (v - v == 0.0f) {  // finite (inf - inf and NaN - NaN are NaN)
      v = v + 0.0f;       // -0 -> +0
      if (finite == 0) {
        min = max = v;
      } else {
        min = v < min ? v : min;
        max = v > max ? v : max;
      }
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

__global__ void calibration_range_kernel(const float* x, CalibrationSplit s, DeviceRangeState* state) {
  CalibrationRangeAcc acc;
  calibration_for_each(x, s, acc);

  // Block reduction of the keys (0 = none) and counts through shared memory, then one set of atomics per block.
  __shared__ unsigned int s_max[kCalibrationBlock];
  __shared__ unsigned int s_neg_min[kCalibrationBlock];
  __shared__ unsigned long long s_count[4][kCalibrationBlock];
  const unsigned t = threadIdx.x;
  s_max[t] = acc.finite ? calibration_key(acc.max) : 0u;
  s_neg_min[t] = acc.finite ? ~calibration_key(acc.min) : 0u;
  s_count[0][t] = acc.finite;
  s_count[1][t] = acc.nan;
  s_count[2][t] = acc.pos_inf;
  s_count[3][t] = acc.neg_inf;
  __syncthreads();
  for (unsigned half = kCalibrationBlock / 2; half > 0; half /= 2) {
    if (t < half) {
      s_max[t] = s_max[t + half] > s_max[t] ? s_max[t + half] : s_max[t];
      s_neg_min[t] = s_neg_min[t + half] > s_neg_min[t] ? s_neg_min[t + half] : s_neg_min[t];
      for (int c = 0; c < 4; ++c) s_count[c][t] += s_count[c][t + half];
    }
    __syncthreads();
  }
  if (t == 0) {
    if (s_max[0] != 0u) {
      atomicMax(&state->max_key, s_max[0]);
      atomicMax(&state->neg_min_key, s_neg_min[0]);
    }
    if (s_count[0][0]) atomicAdd(&state->finite, s_count[0][0]);
    if (s_count[1][0]) atomicAdd(&state->nan, s_count[1][0]);
    if (s_count[2][0]) atomicAdd(&state->pos_inf, s_count[2][0]);
    if (s_count[3][0]) atomicAdd(&state->neg_inf, s_count[3][0]);
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

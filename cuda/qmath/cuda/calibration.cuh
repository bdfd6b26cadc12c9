// qmath/cuda/calibration.cuh - calibration statistics of device data: min / max / amax reductions (per tensor and
// per channel) and histogram collection into the host qmath::Histogram, without copying the activations to the host.
//
// Two layers:
// 1. Asynchronous building blocks that read device data and write device results, enqueued on `stream` with no
//    synchronisation and no allocation (like every qmath kernel; a launch error throws qmath::error with the CUDA
//    error text):
//      reset_range / accumulate_range            running min, max and NaN / +inf / -inf counts in a DeviceRangeState
//      accumulate_channel_range                  the same per channel of a row-major tensor (ChannelLayout)
//      accumulate_histogram                      64-bit bin counts under a HistogramRange (the host binning rule)
// 2. CalibrationWorkspace: owns the small device buffers those need and returns host results. Its calls
//    SYNCHRONISE `stream` (they must: the host needs the numbers), allocate device memory only the first time a
//    buffer is needed or when it must grow (a histogram with more bins, a tensor with more channels), and give
//    exactly the host's answers:
//      range(x, n)            == the min / max / counts the host calibrators see (MinMaxCalibrator, batch_stats)
//      channel_range(x, l)    == PerChannelMinMaxCalibrator / channel_amax on the same data
//      collect(h, x, n)       == h.collect(host copy of x, n): same counts, total, extremes, range growth, errors
//
// Exactness. Every statistic is an order-independent integer operation on the device: min / max are atomic max on
// order-preserving 32-bit keys of the values, counts are 64-bit integer adds, bins come from qmath::histogram_bin
// (calibration/histogram_bin.hpp, the rule the host collector uses; on the device it is written with __fmul_rn /
// __fadd_rn so no FMA contraction can change a bin). So results do not depend on grid shape, block scheduling or
// the order of batches. The one visible difference: a zero extreme is reported as +0 even when the data held only
// -0 (the host keeps whichever zero it met first); min / max compare equal either way.
//
// Privatised histograms: each block counts into its own 32-bit shared-memory histogram (bins <= 12288, i.e. 48 KiB),
// then adds its non-zero bins to the 64-bit global counts with one atomic each. The host splits the input into
// chunks of at most 2^31 elements, so a block's 32-bit counters cannot overflow. Larger bin counts fall back to one
// 64-bit global atomic per element (correct, slower).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/cuda/detail/calibration_kernels.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {
namespace cuda {

// Host view of a DeviceRangeState: extremes of the finite values and the counts. min = +inf and max = -inf (and
// amax() = 0) while no finite value has been seen, as qmath's host batch statistics.
struct RangeStats {
  float min;
  float max;
  std::uint64_t finite;
  std::uint64_t nan;
  std::uint64_t pos_inf;
  std::uint64_t neg_inf;
  std::uint64_t non_finite() const { return nan + pos_inf + neg_inf; }
  bool empty() const { return finite == 0; }
  // Largest finite |x|; 0 when empty.
  float amax() const {
    if (finite == 0) return 0.0f;
    const float a = min < 0.0f ? -min : min, b = max < 0.0f ? -max : max;
    return a > b ? a : b;
  }
};

// Decodes a DeviceRangeState copied to the host.
inline RangeStats decode_range(const DeviceRangeState& s) {
  RangeStats r{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), s.finite, s.nan,
               s.pos_inf, s.neg_inf};
  if (s.max_key != 0u) r.max = detail::calibration_unkey(s.max_key);
  if (s.neg_min_key != 0u) r.min = detail::calibration_unkey(~s.neg_min_key);
  return r;
}

// ---- asynchronous building blocks ---------------------------------------------------------------------------------

// Sets `count` device range states to empty (a cudaMemsetAsync of zeros).
inline void reset_range(DeviceRangeState* states, std::size_t count = 1, cudaStream_t stream = nullptr) {
  if (count == 0) return;
  qmath::detail::require(states != nullptr, "cuda::reset_range", "null state pointer");
  detail::calibration_memset_async(states, count * sizeof(DeviceRangeState), stream, "cuda::reset_range");
}

// Merges the n device floats at x into *state (min / max of the finite values, NaN / +inf / -inf counts).
inline void accumulate_range(const float* x, std::size_t n, DeviceRangeState* state, cudaStream_t stream = nullptr) {
  const char* where = "cuda::accumulate_range";
  if (n == 0) return;
  qmath::detail::require(x != nullptr, where, "null data pointer with n = ", n);
  qmath::detail::require(state != nullptr, where, "null state pointer");
  qmath::detail::require(reinterpret_cast<std::uintptr_t>(x) % alignof(float) == 0, where,
                         "data pointer is not aligned to float");
  const detail::CalibrationSplit s = detail::calibration_split(x, n);
  const std::size_t units = s.vectors + (s.n - 4 * s.vectors);
  std::size_t blocks = (units + detail::kCalibrationBlock - 1) / detail::kCalibrationBlock;
  if (blocks > detail::kCalibrationMaxBlocks) blocks = detail::kCalibrationMaxBlocks;
  launch(where, &detail::calibration_range_kernel,
         LaunchConfig{dim3(static_cast<unsigned>(blocks)), dim3(detail::kCalibrationBlock), 0, stream}, x, s, state);
}

// Merges each channel of a row-major device tensor into states[c] (layout.channels device states).
inline void accumulate_channel_range(const float* x, ChannelLayout layout, DeviceRangeState* states,
                                     cudaStream_t stream = nullptr) {
  const char* where = "cuda::accumulate_channel_range";
  const std::size_t rows = detail::calibration_check_layout(layout, where);
  if (rows == 0 || layout.inner == 0) return;
  qmath::detail::require(x != nullptr, where, "null data pointer");
  qmath::detail::require(states != nullptr, where, "null state pointer");
  std::size_t blocks = rows < detail::kCalibrationMaxBlocks ? rows : detail::kCalibrationMaxBlocks;
  launch(where, &detail::calibration_channel_range_kernel,
         LaunchConfig{dim3(static_cast<unsigned>(blocks)), dim3(detail::kCalibrationBlock), 0, stream}, x, layout,
         states);
}

// Adds the finite values of the n device floats at x to device_counts (r.bins 64-bit counters), each to the bin
// histogram_bin(x, r) gives: exactly the host collector's rule. NaN and infinities are not binned (count them with
// accumulate_range). The counters are not cleared first.
inline void accumulate_histogram(const float* x, std::size_t n, HistogramRange r, unsigned long long* device_counts,
                                 cudaStream_t stream = nullptr) {
  const char* where = "cuda::accumulate_histogram";
  qmath::detail::require(r.bins >= 1, where, "bin count ", r.bins, " < 1");
  qmath::detail::require(r.zero_bin >= 0 && r.zero_bin < r.bins, where, "zero bin ", r.zero_bin, " outside [0, ",
                         r.bins, ")");
  qmath::detail::require(r.inv_width >= 0.0f && r.inv_width <= std::numeric_limits<float>::max(), where,
                         "inverse bin width must be finite and >= 0, got ", r.inv_width);
  if (n == 0) return;
  qmath::detail::require(x != nullptr, where, "null data pointer with n = ", n);
  qmath::detail::require(device_counts != nullptr, where, "null counts pointer");
  qmath::detail::require(reinterpret_cast<std::uintptr_t>(x) % alignof(float) == 0, where,
                         "data pointer is not aligned to float");
  const std::size_t shared_bytes = static_cast<std::size_t>(r.bins) * sizeof(unsigned int);
  const bool privatised = shared_bytes <= detail::kCalibrationMaxHistogramShared;
  constexpr std::size_t kChunk = std::size_t(1) << 31;  // keeps every block's 32-bit shared counters exact
  for (std::size_t start = 0; start < n; start += kChunk) {
    const std::size_t m = n - start < kChunk ? n - start : kChunk;
    const detail::CalibrationSplit s = detail::calibration_split(x + start, m);
    const std::size_t units = s.vectors + (s.n - 4 * s.vectors);
    std::size_t blocks = (units + detail::kCalibrationBlock - 1) / detail::kCalibrationBlock;
    if (blocks > detail::kCalibrationHistogramMaxBlocks) blocks = detail::kCalibrationHistogramMaxBlocks;
    const LaunchConfig cfg{dim3(static_cast<unsigned>(blocks)), dim3(detail::kCalibrationBlock),
                           privatised ? shared_bytes : 0, stream};
    if (privatised)
      launch(where, &detail::calibration_histogram_kernel<true>, cfg, x + start, s, r, device_counts);
    else
      launch(where, &detail::calibration_histogram_kernel<false>, cfg, x + start, s, r, device_counts);
  }
}

// ---- synchronous helpers ------------------------------------------------------------------------------------------

// Owns the device buffers of the synchronous helpers. Create one per stream (or per thread) and reuse it for every
// batch: it allocates only the first time a buffer is needed and when a buffer must grow. Every call synchronises
// the stream it is given. Not thread-safe (one workspace, one caller at a time). Move-only.
class CalibrationWorkspace {
 public:
  CalibrationWorkspace() = default;
  CalibrationWorkspace(const CalibrationWorkspace&) = delete;
  CalibrationWorkspace& operator=(const CalibrationWorkspace&) = delete;
  CalibrationWorkspace(CalibrationWorkspace&& o) noexcept { swap(o); }
  CalibrationWorkspace& operator=(CalibrationWorkspace&& o) noexcept {
    CalibrationWorkspace tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~CalibrationWorkspace() {
    detail::calibration_free(states_);
    detail::calibration_free(counts_);
  }

  // Min / max of the finite values and the non-finite counts of n device floats. Synchronises `stream`.
  RangeStats range(const float* x, std::size_t n, cudaStream_t stream = nullptr) {
    DeviceRangeState* st = states(1);
    reset_range(st, 1, stream);
    accumulate_range(x, n, st, stream);
    DeviceRangeState host{};
    detail::calibration_copy_to_host_sync(&host, st, sizeof host, stream, "cuda::CalibrationWorkspace::range");
    return decode_range(host);
  }

  // Per-channel statistics of a row-major device tensor. Synchronises `stream`.
  std::vector<RangeStats> channel_range(const float* x, ChannelLayout layout, cudaStream_t stream = nullptr) {
    std::vector<RangeStats> out;
    detail::calibration_check_layout(layout, "cuda::CalibrationWorkspace::channel_range");
    if (layout.channels == 0) return out;
    DeviceRangeState* st = states(layout.channels);
    reset_range(st, layout.channels, stream);
    accumulate_channel_range(x, layout, st, stream);
    std::vector<DeviceRangeState> host(layout.channels);
    detail::calibration_copy_to_host_sync(host.data(), st, host.size() * sizeof(DeviceRangeState), stream,
                                          "cuda::CalibrationWorkspace::channel_range");
    out.reserve(host.size());
    for (const DeviceRangeState& s : host) out.push_back(decode_range(s));
    return out;
  }

  // Adds n device floats to h exactly as h.collect(x_on_host, n) would: a range pass (for the non-finite policy and
  // range growth), then a histogram pass under h's grown range, whose counts are copied back and added. Throws, with
  // h unchanged, where collect() throws (non-finite values under NonFinitePolicy::kError) or on a CUDA error (the
  // batch is applied to a copy of h that replaces h at the end: one host copy of the counts per batch).
  // Synchronises `stream` twice.
  void collect(Histogram& h, const float* x, std::size_t n, cudaStream_t stream = nullptr) {
    if (n == 0) return;
    qmath::detail::require(x != nullptr, "cuda::CalibrationWorkspace::collect", "null data pointer with ", n,
                           " elements");
    const RangeStats rs = range(x, n, stream);
    qmath::detail::BatchStats bs;
    bs.min = rs.min;
    bs.max = rs.max;
    bs.nan = rs.nan;
    bs.posinf = rs.pos_inf;
    bs.neginf = rs.neg_inf;
    Histogram next = h;  // strong guarantee: h changes only once everything has succeeded
    const HistogramRange r = next.begin_external_batch(bs, n);
    if (rs.finite != 0) {
      unsigned long long* c = counts(static_cast<std::size_t>(r.bins));
      detail::calibration_memset_async(c, static_cast<std::size_t>(r.bins) * sizeof(unsigned long long), stream,
                                       "cuda::CalibrationWorkspace::collect");
      accumulate_histogram(x, n, r, c, stream);
      std::vector<std::uint64_t> host(static_cast<std::size_t>(r.bins));
      static_assert(sizeof(std::uint64_t) == sizeof(unsigned long long), "64-bit counters");
      detail::calibration_copy_to_host_sync(host.data(), c, host.size() * sizeof(std::uint64_t), stream,
                                            "cuda::CalibrationWorkspace::collect");
      next.add_external_counts(host.data(), rs.finite);
    }
    h = std::move(next);
  }

 private:
  DeviceRangeState* states(std::size_t count) {
    if (count > states_capacity_) {
      void* p = detail::calibration_malloc(count * sizeof(DeviceRangeState), "cuda::CalibrationWorkspace");
      detail::calibration_free(states_);
      states_ = static_cast<DeviceRangeState*>(p);
      states_capacity_ = count;
    }
    return states_;
  }
  unsigned long long* counts(std::size_t count) {
    if (count > counts_capacity_) {
      void* p = detail::calibration_malloc(count * sizeof(unsigned long long), "cuda::CalibrationWorkspace");
      detail::calibration_free(counts_);
      counts_ = static_cast<unsigned long long*>(p);
      counts_capacity_ = count;
    }
    return counts_;
  }
  void swap(CalibrationWorkspace& o) noexcept {
    std::swap(states_, o.states_);
    std::swap(states_capacity_, o.states_capacity_);
    std::swap(counts_, o.counts_);
    std::swap(counts_capacity_, o.counts_capacity_);
  }

  DeviceRangeState* states_ = nullptr;
  std::size_t states_capacity_ = 0;
  unsigned long long* counts_ = nullptr;
  std::size_t counts_capacity_ = 0;
};

}  // namespace cuda
}  // namespace qmath

// qmath/calibration/minmax.hpp - MinMax and moving-average MinMax calibrators, per tensor and per channel.
//
//   MinMaxCalibrator:              running min and max of every finite value (amax = max(|min|, |max|)), exactly
//                                  TensorRT's MinMaxCalibration / pytorch-quantization's MaxCalibrator statistic.
//   MovingAverageMinMaxCalibrator: PyTorch's MovingAverageMinMaxObserver rule, in float32: the first non-empty batch
//                                  sets (min, max); each later batch does  min += c * (batch_min - min)  (and the same
//                                  for max), with c = 0.01 by default, as two separately rounded float operations.
//   PerChannelMinMaxCalibrator:    running min / max per channel of a row-major tensor seen through a ChannelLayout.
//   PerChannelMovingAverageMinMaxCalibrator: the moving-average rule per channel (PyTorch's
//                                  MovingAveragePerChannelMinMaxObserver).
// compute_params(PyTorchObserverSpec) turns the calibrated range into PyTorch's observer parameters
// (pytorch_observer_params: calculate_qparams with dtype, qscheme and reduce_range), per tensor or per channel.
// Non-finite values follow NonFinitePolicy: kError (default) throws naming the tensor and the count before anything
// changes; kSkip ignores them (and counts them). Empty batches change nothing. compute() before any finite value
// returns {0, 0} (amax 0, which symmetric_params maps to its minimum scale).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <qmath/calibration/detail/histogram_fill.hpp>
#include <qmath/calibration/histogram.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {

// A calibrated range: [min, max] for asymmetric quantization, amax() = max(|min|, |max|) for symmetric.
struct CalibrationRange {
  float min;
  float max;
  float amax() const {
    const float a = std::fabs(min), b = std::fabs(max);
    return a > b ? a : b;
  }
};

namespace detail {
inline std::string tensor_label(const std::string& name) {
  return name.empty() ? std::string() : "tensor '" + name + "': ";
}
// Batch statistics with the non-finite policy applied; throws on non-finite values under kError.
inline BatchStats checked_batch_stats(const float* x, std::size_t n, NonFinitePolicy policy, const std::string& name,
                                      const char* where) {
  require(x != nullptr || n == 0, where, tensor_label(name), "null data pointer with ", n, " elements");
  const BatchStats s = batch_stats(x, n);
  const std::uint64_t bad = s.nan + s.posinf + s.neginf;
  if (bad != 0 && policy == NonFinitePolicy::kError)
    fail(where, tensor_label(name), bad, " non-finite value(s) in a batch of ", n, " (", s.nan, " NaN, ", s.posinf,
         " +inf, ", s.neginf, " -inf); use NonFinitePolicy::kSkip to skip and count them");
  return s;
}
// PyTorch's parameters for each channel's range.
inline std::vector<QuantParams> pytorch_channel_params(const std::vector<CalibrationRange>& ranges,
                                                       const PyTorchObserverSpec& spec) {
  std::vector<QuantParams> p;
  p.reserve(ranges.size());
  for (const CalibrationRange& r : ranges) p.push_back(pytorch_observer_params(r.min, r.max, spec));
  return p;
}
// Per-channel [min, max] of a running per-channel calibrator; {0, 0} for a channel that has seen no finite value.
inline std::vector<CalibrationRange> channel_ranges(const std::vector<float>& min, const std::vector<float>& max,
                                                    const std::vector<unsigned char>& seen) {
  std::vector<CalibrationRange> r(min.size());
  for (std::size_t c = 0; c < r.size(); ++c)
    r[c] = seen[c] ? CalibrationRange{min[c], max[c]} : CalibrationRange{0.0f, 0.0f};
  return r;
}
// The amax of each range.
inline std::vector<float> range_amaxes(const std::vector<CalibrationRange>& ranges) {
  std::vector<float> a;
  a.reserve(ranges.size());
  for (const CalibrationRange& r : ranges) a.push_back(r.amax());
  return a;
}
}  // namespace detail

class MinMaxCalibrator {
 public:
  explicit MinMaxCalibrator(NonFinitePolicy policy = NonFinitePolicy::kError, std::string name = {})
      : policy_(policy), name_(std::move(name)) {}

  void collect(const float* x, std::size_t n) {
    const detail::BatchStats s = detail::checked_batch_stats(x, n, policy_, name_, "MinMaxCalibrator::collect");
    skipped_ += s.nan + s.posinf + s.neginf;
    if (s.min <= s.max) update(s.min, s.max);
  }
  void merge(const MinMaxCalibrator& other) {
    skipped_ += other.skipped_;
    if (other.seen_) update(other.min_, other.max_);
  }
  // The observed [min, max]; {0, 0} before any finite value.
  CalibrationRange compute() const { return seen_ ? CalibrationRange{min_, max_} : CalibrationRange{0.0f, 0.0f}; }
  float compute_amax() const { return compute().amax(); }
  // PyTorch MinMaxObserver(dtype, qscheme, reduce_range).calculate_qparams() for the observed range.
  QuantParams compute_params(const PyTorchObserverSpec& spec) const {
    const CalibrationRange r = compute();
    return pytorch_observer_params(r.min, r.max, spec);
  }
  std::uint64_t skipped_count() const { return skipped_; }

 private:
  void update(float lo, float hi) {
    min_ = !seen_ || lo < min_ ? lo : min_;
    max_ = !seen_ || hi > max_ ? hi : max_;
    seen_ = true;
  }

  NonFinitePolicy policy_;
  std::string name_;
  bool seen_ = false;
  float min_ = 0.0f, max_ = 0.0f;
  std::uint64_t skipped_ = 0;
};

class MovingAverageMinMaxCalibrator {
 public:
  explicit MovingAverageMinMaxCalibrator(float averaging_constant = 0.01f,
                                         NonFinitePolicy policy = NonFinitePolicy::kError, std::string name = {})
      : c_(averaging_constant), policy_(policy), name_(std::move(name)) {
    detail::require(c_ > 0.0f && c_ <= 1.0f, "MovingAverageMinMaxCalibrator", "averaging constant ", c_,
                    " outside (0, 1]");
  }

  void collect(const float* x, std::size_t n) {
    const detail::BatchStats s =
        detail::checked_batch_stats(x, n, policy_, name_, "MovingAverageMinMaxCalibrator::collect");
    if (!(s.min <= s.max)) return;  // empty, or only skipped values
    if (!seen_) {
      min_ = s.min;
      max_ = s.max;
      seen_ = true;
      return;
    }
    const float dmin = s.min - min_;
    const float step_min = c_ * dmin;
    min_ = min_ + step_min;
    const float dmax = s.max - max_;
    const float step_max = c_ * dmax;
    max_ = max_ + step_max;
  }
  CalibrationRange compute() const { return seen_ ? CalibrationRange{min_, max_} : CalibrationRange{0.0f, 0.0f}; }
  float compute_amax() const { return compute().amax(); }
  // PyTorch MovingAverageMinMaxObserver(dtype, qscheme, reduce_range).calculate_qparams().
  QuantParams compute_params(const PyTorchObserverSpec& spec) const {
    const CalibrationRange r = compute();
    return pytorch_observer_params(r.min, r.max, spec);
  }

 private:
  float c_;
  NonFinitePolicy policy_;
  std::string name_;
  bool seen_ = false;
  float min_ = 0.0f, max_ = 0.0f;
};

class PerChannelMinMaxCalibrator {
 public:
  explicit PerChannelMinMaxCalibrator(std::size_t channels, NonFinitePolicy policy = NonFinitePolicy::kError,
                                      std::string name = {})
      : policy_(policy), name_(std::move(name)), min_(channels, 0.0f), max_(channels, 0.0f), seen_(channels, 0) {}

  // Adds a row-major tensor of layout.size() elements; layout.channels must equal the calibrator's channel count.
  void collect(const float* x, ChannelLayout layout) {
    const char* where = "PerChannelMinMaxCalibrator::collect";
    detail::require(layout.channels == min_.size(), where, detail::tensor_label(name_), "layout has ",
                    layout.channels, " channels, the calibrator ", min_.size());
    // Validate everything first so that an error leaves the calibrator unchanged.
    const detail::BatchStats all = detail::checked_batch_stats(x, layout.size(), policy_, name_, where);
    const bool any_bad = all.nan + all.posinf + all.neginf != 0;
    for (std::size_t o = 0; o < layout.outer; ++o)
      for (std::size_t c = 0; c < layout.channels; ++c) {
        const float* row = x + (o * layout.channels + c) * layout.inner;
        const detail::BatchStats s =
            any_bad ? detail::batch_stats_scalar(row, layout.inner) : detail::batch_stats(row, layout.inner);
        if (!(s.min <= s.max)) continue;
        if (!seen_[c]) {
          min_[c] = s.min;
          max_[c] = s.max;
          seen_[c] = 1;
        } else {
          min_[c] = s.min < min_[c] ? s.min : min_[c];
          max_[c] = s.max > max_[c] ? s.max : max_[c];
        }
      }
  }
  std::size_t channels() const { return min_.size(); }
  // Per-channel [min, max]; {0, 0} for a channel that has seen no finite value.
  std::vector<CalibrationRange> compute() const { return detail::channel_ranges(min_, max_, seen_); }
  std::vector<float> compute_amax() const { return detail::range_amaxes(compute()); }
  // PyTorch's per-channel observer parameters (calculate_qparams with dtype, qscheme and reduce_range), per channel.
  std::vector<QuantParams> compute_params(const PyTorchObserverSpec& spec) const {
    return detail::pytorch_channel_params(compute(), spec);
  }

 private:
  NonFinitePolicy policy_;
  std::string name_;
  std::vector<float> min_, max_;
  std::vector<unsigned char> seen_;
};

// PyTorch's MovingAveragePerChannelMinMaxObserver rule: per channel, the first batch that holds values of the
// channel sets its (min, max), later batches move them by c * (batch value - current), in float32.
class PerChannelMovingAverageMinMaxCalibrator {
 public:
  PerChannelMovingAverageMinMaxCalibrator(std::size_t channels, float averaging_constant = 0.01f,
                                          NonFinitePolicy policy = NonFinitePolicy::kError, std::string name = {})
      : c_(averaging_constant), policy_(policy), name_(std::move(name)), min_(channels, 0.0f), max_(channels, 0.0f),
        seen_(channels, 0) {
    detail::require(c_ > 0.0f && c_ <= 1.0f, "PerChannelMovingAverageMinMaxCalibrator", "averaging constant ", c_,
                    " outside (0, 1]");
  }

  void collect(const float* x, ChannelLayout layout) {
    const char* where = "PerChannelMovingAverageMinMaxCalibrator::collect";
    detail::require(layout.channels == min_.size(), where, detail::tensor_label(name_), "layout has ",
                    layout.channels, " channels, the calibrator ", min_.size());
    detail::checked_batch_stats(x, layout.size(), policy_, name_, where);  // throws before any change
    for (std::size_t c = 0; c < layout.channels; ++c) {
      float lo = 0.0f, hi = 0.0f;
      bool any = false;
      for (std::size_t o = 0; o < layout.outer; ++o) {
        const detail::BatchStats s =
            detail::batch_stats_scalar(x + (o * layout.channels + c) * layout.inner, layout.inner);
        if (!(s.min <= s.max)) continue;
        lo = any && lo < s.min ? lo : s.min;
        hi = any && hi > s.max ? hi : s.max;
        any = true;
      }
      if (!any) continue;
      if (!seen_[c]) {
        min_[c] = lo;
        max_[c] = hi;
        seen_[c] = 1;
        continue;
      }
      const float dmin = lo - min_[c];
      const float smin = c_ * dmin;
      min_[c] = min_[c] + smin;
      const float dmax = hi - max_[c];
      const float smax = c_ * dmax;
      max_[c] = max_[c] + smax;
    }
  }
  std::vector<CalibrationRange> compute() const { return detail::channel_ranges(min_, max_, seen_); }
  std::vector<float> compute_amax() const { return detail::range_amaxes(compute()); }
  // PyTorch's per-channel observer parameters (calculate_qparams with dtype, qscheme and reduce_range), per channel.
  std::vector<QuantParams> compute_params(const PyTorchObserverSpec& spec) const {
    return detail::pytorch_channel_params(compute(), spec);
  }

 private:
  float c_;
  NonFinitePolicy policy_;
  std::string name_;
  std::vector<float> min_, max_;
  std::vector<unsigned char> seen_;
};

}  // namespace qmath

// qmath/calibration/percentile.hpp - percentile calibration on a histogram, per tensor and per channel.
//
// Definitions, for a histogram with counts c[0..n) holding T = sum(c) values and p in [0, 100]:
//   kUpperEdge (qmath's default): r = clamp(ceil(p / 100 * T), 1, T) computed in double (a product within a relative
//       1e-12 of an integer is taken as that integer, so decimal percentiles such as 99.99 behave as written); k = the smallest bin with
//       c[0] + ... + c[k] >= r (the bin holding the r-th smallest binned value); amax = right edge of bin k.
//       So at least p% of the values satisfy |x| <= amax (up to the bin resolution): p = 100 gives the right edge of
//       the last non-empty bin (>= the true max, within one bin), p = 0 the right edge of the first non-empty bin.
//   kPyTorchQuantization: NVIDIA pytorch-quantization's _compute_amax_percentile: cdf = cumsum(c / T) in float64
//       (each c[k] / T rounded, then a sequential sum), k = the first index with cdf[k] >= p / 100 (numpy
//       searchsorted, side left), k = n if there is none; amax = edges[k], the LEFT edge of that bin (so p = 0 gives
//       0 and p = 100 can return the left edge of the max's bin, clipping the max).
// A signed histogram gives a range: max as above from the top, min symmetrically from the bottom (the left edge of
// the bin holding the r-th largest value) - a two-sided percentile for asymmetric quantization.
// An empty histogram (or one with only zeros and no width) gives amax 0.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {

enum class PercentileRule { kUpperEdge, kPyTorchQuantization };

namespace detail {
inline void check_percentile(double p, const char* where) {
  require(p >= 0.0 && p <= 100.0, where, "percentile ", p, " outside [0, 100]");
}
// r = ceil(p / 100 * T), where a product within a relative 1e-12 of an integer counts as that integer: decimal
// percentiles are not exact in binary, and 0.07 % of 10^6 values must be rank 700, not 701 (the double product is
// 700.0000000000001).
inline std::uint64_t percentile_rank(double p, std::uint64_t total) {
  const double q = p / 100.0 * static_cast<double>(total);
  const double nearest = std::round(q);
  const double r = std::fabs(q - nearest) <= 1e-12 * std::fabs(q) ? nearest : std::ceil(q);
  if (!(r >= 1.0)) return 1;
  if (r >= static_cast<double>(total)) return total;
  return static_cast<std::uint64_t>(r);
}
}  // namespace detail

// The index k of the bin holding the rank-r smallest value (kUpperEdge) or numpy's searchsorted index
// (kPyTorchQuantization, may equal n). counts must hold at least one value for kUpperEdge.
inline std::size_t percentile_bin(const std::uint64_t* counts, std::size_t n, double p,
                                  PercentileRule rule = PercentileRule::kUpperEdge) {
  detail::check_percentile(p, "percentile_bin");
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < n; ++k) total += counts[k];
  if (rule == PercentileRule::kPyTorchQuantization) {
    const double target = p / 100.0, t = static_cast<double>(total);
    double cdf = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      cdf += static_cast<double>(counts[k]) / t;
      if (cdf >= target) return k;
    }
    return n;
  }
  detail::require(total > 0, "percentile_bin", "empty histogram");
  const std::uint64_t r = detail::percentile_rank(p, total);
  std::uint64_t cum = 0;
  for (std::size_t k = 0; k < n; ++k) {
    cum += counts[k];
    if (cum >= r) return k;
  }
  return n - 1;  // unreachable: cum reaches total >= r
}

// amax at percentile p of an absolute histogram (see the file comment).
inline float percentile_amax(const Histogram& h, double p = 99.99, PercentileRule rule = PercentileRule::kUpperEdge) {
  detail::check_percentile(p, "percentile_amax");
  detail::require(h.options().kind == HistogramKind::kAbsolute, "percentile_amax",
                  "needs an absolute histogram (use percentile_range for a signed one)");
  if (h.total() == 0 || !h.has_range()) return 0.0f;
  const std::size_t k = percentile_bin(h.counts().data(), h.counts().size(), p, rule);
  return rule == PercentileRule::kPyTorchQuantization ? h.threshold_edge(static_cast<std::int64_t>(k))
                                                      : h.threshold_edge(static_cast<std::int64_t>(k) + 1);
}

// Two-sided percentile range of a signed histogram: max = right edge of the bin holding the r-th smallest value,
// min = left edge of the bin holding the r-th largest, r = clamp(ceil(p / 100 * T), 1, T).
inline CalibrationRange percentile_range(const Histogram& h, double p = 99.99) {
  detail::check_percentile(p, "percentile_range");
  detail::require(h.options().kind == HistogramKind::kSigned, "percentile_range", "needs a signed histogram");
  if (h.total() == 0 || !h.has_range()) return {0.0f, 0.0f};
  const std::vector<std::uint64_t>& c = h.counts();
  const std::uint64_t r = detail::percentile_rank(p, h.total());
  std::size_t khi = c.size() - 1, klo = 0;
  std::uint64_t cum = 0;
  for (std::size_t k = 0; k < c.size(); ++k) {
    cum += c[k];
    if (cum >= r) {
      khi = k;
      break;
    }
  }
  cum = 0;
  for (std::size_t k = c.size(); k-- > 0;) {
    cum += c[k];
    if (cum >= r) {
      klo = k;
      break;
    }
  }
  return {h.threshold_edge(static_cast<std::int64_t>(klo)), h.threshold_edge(static_cast<std::int64_t>(khi) + 1)};
}

// Streaming percentile calibrator: an absolute histogram (by default) plus percentile_amax at compute time.
class PercentileCalibrator {
 public:
  explicit PercentileCalibrator(double percentile = 99.99, HistogramOptions options = {},
                                PercentileRule rule = PercentileRule::kUpperEdge)
      : p_(percentile), rule_(rule), hist_(std::move(options)) {
    detail::check_percentile(p_, "PercentileCalibrator");
  }
  void collect(const float* x, std::size_t n) { hist_.collect(x, n); }
  float compute_amax() const { return percentile_amax(hist_, p_, rule_); }
  // [-amax, amax] for an absolute histogram, the two-sided range for a signed one.
  CalibrationRange compute() const {
    if (hist_.options().kind == HistogramKind::kSigned) return percentile_range(hist_, p_);
    const float a = compute_amax();
    return {-a, a};
  }
  const Histogram& histogram() const { return hist_; }

 private:
  double p_;
  PercentileRule rule_;
  Histogram hist_;
};

// One histogram per channel of a row-major tensor (ChannelLayout), for per-channel percentile (or any histogram
// method applied channel by channel). Non-finite values follow the options' policy for the whole tensor: under
// kError nothing is changed when any channel holds NaN/Inf.
class PerChannelHistograms {
 public:
  PerChannelHistograms(std::size_t channels, const HistogramOptions& options) {
    detail::require(channels >= 1, "PerChannelHistograms", "needs at least one channel");
    hists_.reserve(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      HistogramOptions o = options;
      if (!o.name.empty()) o.name += "[channel " + std::to_string(c) + "]";
      hists_.emplace_back(std::move(o));
    }
    name_ = options.name;
    policy_ = options.non_finite;
  }
  void collect(const float* x, ChannelLayout layout) {
    const char* where = "PerChannelHistograms::collect";
    detail::require(layout.channels == hists_.size(), where, detail::tensor_label(name_), "layout has ",
                    layout.channels, " channels, expected ", hists_.size());
    detail::checked_batch_stats(x, layout.size(), policy_, name_, where);  // throws before any change
    if (layout.outer == 1) {
      for (std::size_t c = 0; c < layout.channels; ++c) hists_[c].collect(x + c * layout.inner, layout.inner);
      return;
    }
    std::vector<float> buf(layout.outer * layout.inner);
    for (std::size_t c = 0; c < layout.channels; ++c) {
      for (std::size_t o = 0; o < layout.outer; ++o) {
        const float* row = x + (o * layout.channels + c) * layout.inner;
        std::copy(row, row + layout.inner, buf.begin() + static_cast<std::ptrdiff_t>(o * layout.inner));
      }
      hists_[c].collect(buf.data(), buf.size());
    }
  }
  std::size_t channels() const { return hists_.size(); }
  const Histogram& operator[](std::size_t c) const { return hists_.at(c); }
  const std::vector<Histogram>& histograms() const { return hists_; }

 private:
  std::vector<Histogram> hists_;
  std::string name_;
  NonFinitePolicy policy_ = NonFinitePolicy::kError;
};

// Per-channel percentile amax (absolute histograms).
class PerChannelPercentileCalibrator {
 public:
  PerChannelPercentileCalibrator(std::size_t channels, double percentile = 99.99, HistogramOptions options = {},
                                 PercentileRule rule = PercentileRule::kUpperEdge)
      : p_(percentile), rule_(rule), hists_(channels, options) {
    detail::check_percentile(p_, "PerChannelPercentileCalibrator");
  }
  void collect(const float* x, ChannelLayout layout) { hists_.collect(x, layout); }
  std::vector<float> compute_amax() const {
    std::vector<float> a;
    for (const Histogram& h : hists_.histograms()) a.push_back(percentile_amax(h, p_, rule_));
    return a;
  }
  const PerChannelHistograms& histograms() const { return hists_; }

 private:
  double p_;
  PercentileRule rule_;
  PerChannelHistograms hists_;
};

}  // namespace qmath

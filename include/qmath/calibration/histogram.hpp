// qmath/calibration/histogram.hpp - streaming activation histograms with 64-bit counts, exact merge and range growth.
//
// A Histogram accumulates the values of one tensor over many batches (collect), in bins laid out by the rule of
// calibration/histogram_bin.hpp. Counts are std::uint64_t: they never saturate (float counts stop at 2^24).
//
// Range growth rules (HistogramOptions::growth):
//   kPowerOfTwo (default) - the bin width is 2^e, with e the smallest integer (>= -126) such that every finite value
//       seen so far falls inside the bins (absolute: |x| < bins * 2^e; signed: -bins/2 * 2^e <= x < bins/2 * 2^e).
//       When a batch needs a larger e, bins are merged in groups of 2^d (bin k -> floor((k - z) / 2^d) + z, z the
//       zero bin). Because x * 2^-e is exact, re-binning equals binning directly with the final width, so the
//       counts depend only on the multiset of values: not on batch order, batch size, or how partial histograms
//       were merged. The price: the covered range is between 1x and 2x the largest |x|, so 1024..2048 of 2048 bins
//       hold data. Bin counts must be even.
//   kFixed - the range is given up front (range_max: [0, range_max] absolute, [-range_max, range_max] signed; the bin
//       width must be a normal float, i.e. range_max / bins >= FLT_MIN, else the constructor throws), e.g.
//       from a first MinMax pass over the data ("two-pass" calibration, as ncnn and TensorRT's first batch do). Values
//       beyond the range land in the end bins. Order independent. Odd signed bin counts centre the middle bin on 0
//       (MXNet/TVM's 8001-bin layout).
//   kAppendBins - NVIDIA pytorch-quantization's rule: the first batch with a non-zero value fixes the width
//       w = max / bins; a later batch whose max exceeds the last edge appends bins (n = ceil(max / w)), old counts stay
//       in their bins. Absolute histograms only. Results depend on which batch comes first (documented, not a bug).
//
// Non-finite values (HistogramOptions::non_finite): kError (default) throws qmath::error naming the tensor and the
// number of NaN / +inf / -inf values in the batch, before anything is changed; kSkip skips them and counts them
// (nan_count, posinf_count, neginf_count). Zeros are always binned; a histogram that has only seen zeros has width 0
// and all its counts in the zero bin (no division by zero; calibrators return amax = 0 for it).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <qmath/calibration/detail/histogram_fill.hpp>
#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/error.hpp>
#include <qmath/isa.hpp>

namespace qmath {

// The fill kernel Histogram::collect runs for `requested` (kScalar or kAvx512; see qmath/isa.hpp and
// detail/histogram_fill.hpp). Throws as collect would.
inline Isa resolved_isa_for_histogram_fill(Isa requested = Isa::kAuto) {
  return detail::histogram_fill_isa(requested, "resolved_isa_for_histogram_fill");
}

// Whether a histogram bins |x| (symmetric calibration, TensorRT) or x (asymmetric, MXNet/TVM, PyTorch).
enum class HistogramKind { kAbsolute, kSigned };

// How the range follows the data; see the file comment.
enum class RangeGrowth { kPowerOfTwo, kFixed, kAppendBins };

// What collect does with NaN and +-inf.
enum class NonFinitePolicy { kError, kSkip };

struct HistogramOptions {
  HistogramKind kind = HistogramKind::kAbsolute;
  std::int32_t bins = 2048;                     // >= 1 (even for kPowerOfTwo)
  RangeGrowth growth = RangeGrowth::kPowerOfTwo;
  float range_max = 0.0f;  // kFixed: the range, finite and > 0; kAppendBins: 0, or the absmax of the first batch
                           // with a non-zero value when it is known beforehand (it fixes the width w = range_max / bins
                           // as that batch would; for a caller that feeds the batch in pieces)
  NonFinitePolicy non_finite = NonFinitePolicy::kError;
  std::string name;                             // the tensor's name, used in error messages
};

class Histogram {
 public:
  explicit Histogram(HistogramOptions options = {}) : opt_(std::move(options)) {
    const char* where = "Histogram";
    detail::require(opt_.bins >= 1 && opt_.bins <= (1 << 26), where, name_for_error(), "bin count ", opt_.bins,
                    " out of range [1, 2^26]");
    const bool absolute = opt_.kind == HistogramKind::kAbsolute;
    range_ = HistogramRange{0.0f, 0.0f, opt_.bins, 0, absolute};
    switch (opt_.growth) {
      case RangeGrowth::kPowerOfTwo:
        detail::require(opt_.bins % 2 == 0, where, name_for_error(), "power-of-two growth needs an even bin count, got ",
                        opt_.bins);
        range_.zero_bin = absolute ? 0 : opt_.bins / 2;
        break;
      case RangeGrowth::kAppendBins:
        detail::require(absolute, where, name_for_error(), "kAppendBins (pytorch-quantization) is for absolute histograms");
        if (opt_.range_max != 0.0f) {  // the first batch's absmax, known beforehand: it fixes the width now
          const float m = opt_.range_max;
          detail::require(m > 0.0f && m <= std::numeric_limits<float>::max(), where, name_for_error(),
                          "kAppendBins range_max must be 0 or finite and > 0, got ", m);
          set_append_width(m);
        }
        break;
      case RangeGrowth::kFixed: {
        const float m = opt_.range_max;
        detail::require(m > 0.0f && m <= std::numeric_limits<float>::max(), where, name_for_error(),
                        "kFixed needs a finite range_max > 0, got ", m);
        if (absolute) {
          width_ = m / static_cast<float>(opt_.bins);
        } else {
          width_ = static_cast<float>(2.0 * static_cast<double>(m) / opt_.bins);
          range_.zero_bin = opt_.bins / 2;
          if (opt_.bins % 2 == 1) range_.shift = 0.5f;
        }
        detail::require(width_ >= std::numeric_limits<float>::min(), where, name_for_error(), "range_max ", m,
                        " too small for ", opt_.bins, " bins (the bin width would be subnormal)");
        range_.inv_width = static_cast<float>(1.0 / static_cast<double>(width_));
        break;
      }
    }
    counts_.assign(static_cast<std::size_t>(opt_.bins), 0);
  }

  // Adds the n values at x, binned with the fill kernel of path `isa` (qmath/isa.hpp: kAuto = the best at or below
  // the process cap). Throws (changing nothing) on NaN/Inf under NonFinitePolicy::kError, and on an unavailable
  // path or one above the cap.
  void collect(const float* x, std::size_t n, Isa isa = Isa::kAuto) {
    const Isa kernel = detail::histogram_fill_isa(isa, "Histogram::collect");
    if (n == 0) return;
    detail::require(x != nullptr, "Histogram::collect", name_for_error(), "null data pointer with ", n, " elements");
    // Fast path, one read of the batch: bin with the current range while gathering min / max / non-finite, into a
    // staging array that is committed only if the batch turns out finite and inside the range; otherwise it is
    // discarded and the batch goes through the careful path below (statistics first, growth, then binning).
    if (has_range() && detail::use_fast_fill(range_, n)) {
      staging_.assign(counts_.size(), 0);
      const detail::FillStats f = detail::fill_histogram_abs(x, n, range_, staging_.data(), kernel);
      if (!f.non_finite && covers(std::min(f.min, min_), std::max(f.max, max_))) {
        for (std::size_t k = 0; k < counts_.size(); ++k) counts_[k] += staging_[k];
        min_ = std::min(f.min, min_);
        max_ = std::max(f.max, max_);
        total_ += n;
        return;
      }
    }
    const detail::BatchStats s = detail::batch_stats(x, n);
    const std::uint64_t non_finite = s.nan + s.posinf + s.neginf;
    const HistogramRange r = begin_batch(s, n);
    if (non_finite == n) return;
    detail::fill_histogram(x, n, r, non_finite != 0, counts_.data(), kernel);
    total_ += n - non_finite;
  }

  // collect() in two halves, for collectors that bin the data where the host cannot read it (the CUDA kernels of
  // qmath/cuda/calibration.cuh). begin_external_batch(s, n) does what collect() does before binning a batch of n
  // values whose statistics are s (non-finite policy and counters, extremes, range growth) and returns the range
  // to bin the batch with; add_external_counts(counts, finite) then adds that batch's counts (bins() entries: its
  // finite values binned under the returned range). The pair leaves the histogram exactly as collect() would.
  HistogramRange begin_external_batch(const detail::BatchStats& s, std::size_t n) {
    detail::require(s.nan + s.posinf + s.neginf <= n, "Histogram::begin_external_batch", name_for_error(),
                    s.nan + s.posinf + s.neginf, " non-finite values in a batch of ", n);
    return begin_batch(s, n);
  }
  void add_external_counts(const std::uint64_t* counts, std::uint64_t finite) {
    for (std::size_t k = 0; k < counts_.size(); ++k) counts_[k] += counts[k];
    total_ += finite;
  }

  // Adds another histogram's counts. Both must have the same kind, bin count and growth rule (and the same range
  // for kFixed, the same width for kAppendBins). Exact: merging partial histograms of any split of the data gives
  // the histogram of all of it (kPowerOfTwo, kFixed).
  void merge(const Histogram& other) {
    const char* where = "Histogram::merge";
    detail::require(other.opt_.kind == opt_.kind && other.opt_.bins == opt_.bins && other.opt_.growth == opt_.growth,
                    where, name_for_error(), "histograms differ in kind, bin count or growth rule");
    if (opt_.growth == RangeGrowth::kFixed)
      detail::require(other.width_ == width_, where, name_for_error(), "fixed ranges differ");
    if (opt_.growth == RangeGrowth::kAppendBins && other.width_ != 0.0f && width_ != 0.0f)
      detail::require(other.width_ == width_, where, name_for_error(), "kAppendBins histograms with different widths (",
                      width_, " vs ", other.width_, ") cannot be merged exactly");
    if (opt_.growth == RangeGrowth::kPowerOfTwo) {
      if (other.min_ < min_) min_ = other.min_;
      if (other.max_ > max_) max_ = other.max_;
      grow_to_cover();
      // Bring the other's counts to this exponent (other.exp_ <= exp_ since our range now covers its values).
      const int d = other.has_range() ? exp_ - other.exp_ : 0;
      const std::int64_t z = range_.zero_bin;
      for (std::size_t k = 0; k < other.counts_.size(); ++k)
        if (other.counts_[k] != 0)
          counts_[static_cast<std::size_t>(detail::floor_shift(static_cast<std::int64_t>(k) - z, d) + z)] +=
              other.counts_[k];
    } else if (opt_.growth == RangeGrowth::kAppendBins) {
      if (width_ == 0.0f && other.width_ != 0.0f) {
        width_ = other.width_;
        range_ = other.range_;
      }
      if (other.counts_.size() > counts_.size()) {
        counts_.resize(other.counts_.size(), 0);
        range_.bins = static_cast<std::int32_t>(counts_.size());
      }
      for (std::size_t k = 0; k < other.counts_.size(); ++k) counts_[k] += other.counts_[k];
      if (other.min_ < min_) min_ = other.min_;
      if (other.max_ > max_) max_ = other.max_;
    } else {
      for (std::size_t k = 0; k < counts_.size(); ++k) counts_[k] += other.counts_[k];
      if (other.min_ < min_) min_ = other.min_;
      if (other.max_ > max_) max_ = other.max_;
    }
    total_ += other.total_;
    nan_ += other.nan_;
    posinf_ += other.posinf_;
    neginf_ += other.neginf_;
  }

  const HistogramOptions& options() const { return opt_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::int32_t bins() const { return range_.bins; }  // grows under kAppendBins
  // The binning geometry, for histogram_bin() and device kernels.
  const HistogramRange& range() const { return range_; }
  // Bin width; 0 while no non-zero value has been seen.
  float width() const { return width_; }
  // The bin exponent e (width = 2^e) under kPowerOfTwo once a non-zero value has been seen.
  int exponent() const { return exp_; }
  bool has_range() const { return width_ != 0.0f; }
  // Left edge of bin b, 0 <= b <= bins() (b = bins() is the right edge of the last bin), rounded once to float:
  // (b - zero_bin - shift) * width. Exact under kPowerOfTwo; under kAppendBins it equals float32(b * w) as
  // torch.arange computes pytorch-quantization's edges.
  // An edge beyond the float range (the top bins of a range that reaches FLT_MAX) is +-inf.
  float edge(std::int64_t b) const { return saturate_to_float(edge_double(b)); }
  // edge(b) before the rounding to float.
  double edge_double(std::int64_t b) const {
    return (static_cast<double>(b - range_.zero_bin) - static_cast<double>(range_.shift)) * static_cast<double>(width_);
  }
  // A threshold at t (an edge or a bin centre, in double) as a float clamped to the data: above FLT_MAX it is the
  // largest value seen (|x| for an absolute histogram), below -FLT_MAX the smallest, so finite data always give a
  // finite threshold (calibrators return thresholds through this).
  float threshold(double t) const {
    if (t > static_cast<double>(std::numeric_limits<float>::max()))
      return options().kind == HistogramKind::kAbsolute ? amax() : max_;
    if (t < -static_cast<double>(std::numeric_limits<float>::max())) return min_;
    return static_cast<float>(t);
  }
  float threshold_edge(std::int64_t b) const { return threshold(edge_double(b)); }
  // Number of finite values binned; NaN and infinities skipped under kSkip.
  std::uint64_t total() const { return total_; }
  std::uint64_t nan_count() const { return nan_; }
  std::uint64_t posinf_count() const { return posinf_; }
  std::uint64_t neginf_count() const { return neginf_; }
  // Smallest / largest finite value seen (raw x, not |x|); +inf / -inf before any finite value.
  float min() const { return min_; }
  float max() const { return max_; }
  // Largest finite |x| seen, 0 before any.
  float amax() const {
    if (total_ == 0) return 0.0f;
    return std::max(std::fabs(min_), std::fabs(max_));
  }
  bool empty() const { return total_ == 0; }

 private:
  static float saturate_to_float(double v) {
    const double m = static_cast<double>(std::numeric_limits<float>::max());
    return v > m ? std::numeric_limits<float>::infinity() : (v < -m ? -std::numeric_limits<float>::infinity()
                                                                     : static_cast<float>(v));
  }
  // The part of collect() before binning: the non-finite policy and counters, the extremes and range growth.
  // Returns the range to bin the batch's finite values with. Throws, changing nothing, under kError.
  HistogramRange begin_batch(const detail::BatchStats& s, std::size_t n) {
    const std::uint64_t non_finite = s.nan + s.posinf + s.neginf;
    if (non_finite != 0 && opt_.non_finite == NonFinitePolicy::kError)
      detail::fail("Histogram::collect", name_for_error(), non_finite, " non-finite value(s) in a batch of ", n,
                   " (", s.nan, " NaN, ", s.posinf, " +inf, ", s.neginf,
                   " -inf); use NonFinitePolicy::kSkip to skip and count them");
    nan_ += s.nan;
    posinf_ += s.posinf;
    neginf_ += s.neginf;
    if (n == non_finite) return range_;
    if (s.min < min_) min_ = s.min;
    if (s.max > max_) max_ = s.max;
    grow_to_cover();
    return range_;
  }

  std::string name_for_error() const { return opt_.name.empty() ? std::string() : "tensor '" + opt_.name + "': "; }

  // Whether the current range already covers finite values in [lo, hi] (grow_to_cover would change nothing).
  bool covers(float lo, float hi) const {
    const float hi_abs = std::max(std::fabs(lo), std::fabs(hi));
    if (!(hi_abs > 0.0f)) return true;
    switch (opt_.growth) {
      case RangeGrowth::kFixed:
        return true;
      case RangeGrowth::kAppendBins:
        return has_range() && std::ceil(hi_abs / width_) <= static_cast<float>(range_.bins);
      case RangeGrowth::kPowerOfTwo:
      default: {
        if (!has_range()) return false;
        const bool absolute = opt_.kind == HistogramKind::kAbsolute;
        const float top = std::floor((absolute ? hi_abs : hi) * range_.inv_width);
        const float bottom = std::floor((absolute ? 0.0f : lo) * range_.inv_width);
        return top <= static_cast<float>(range_.bins - 1 - range_.zero_bin) &&
               (absolute || bottom >= static_cast<float>(-range_.zero_bin));
      }
    }
  }

  // kAppendBins: the width pytorch-quantization derives from its first non-zero batch, w = absmax / bins. A subnormal
  // width would make 1 / width overflow: the smallest normal float is the narrowest bin.
  void set_append_width(float absmax) {
    width_ = absmax / static_cast<float>(opt_.bins);
    if (!(width_ >= std::numeric_limits<float>::min())) width_ = std::numeric_limits<float>::min();
    range_.inv_width = static_cast<float>(1.0 / static_cast<double>(width_));
  }

  // Ensures the current range covers [min_, max_] (raw extremes of the finite values seen).
  void grow_to_cover() {
    const bool absolute = opt_.kind == HistogramKind::kAbsolute;
    const float hi_abs = std::max(std::fabs(min_), std::fabs(max_));
    if (!(hi_abs > 0.0f)) return;  // only zeros so far: they sit in the zero bin whatever the width
    if (opt_.growth == RangeGrowth::kFixed) return;
    if (opt_.growth == RangeGrowth::kAppendBins) {
      if (width_ == 0.0f) {
        set_append_width(hi_abs);
        return;
      }
      const double needed = static_cast<double>(std::ceil(hi_abs / width_));  // as pytorch-quantization: ceil(max / w)
      if (needed > static_cast<double>(range_.bins)) {
        detail::require(needed <= static_cast<double>(1 << 26), "Histogram::collect", name_for_error(),
                        "kAppendBins would need ", needed, " bins");
        counts_.resize(static_cast<std::size_t>(needed), 0);
        range_.bins = static_cast<std::int32_t>(needed);
      }
      return;
    }
    // kPowerOfTwo: the smallest e >= current with every value inside; the test is the binning rule itself.
    const HistogramRange probe0 = range_;
    auto fits = [&](int e) {
      HistogramRange r = probe0;
      r.inv_width = std::ldexp(1.0f, -e);
      const float lo = absolute ? 0.0f : min_;
      const float p_hi = (absolute ? hi_abs : max_) * r.inv_width;
      const float p_lo = lo * r.inv_width;
      return std::floor(p_hi) <= static_cast<float>(r.bins - 1 - r.zero_bin) &&
             (absolute || std::floor(p_lo) >= static_cast<float>(-r.zero_bin));
    };
    int e = has_range() ? exp_ : std::max(kMinExponent, std::ilogb(hi_abs) - std::ilogb(static_cast<float>(opt_.bins)) - 2);
    while (e <= kMaxExponent && !fits(e)) ++e;
    detail::require(e <= kMaxExponent, "Histogram::collect", name_for_error(), "values up to ", hi_abs,
                    " do not fit ", opt_.bins, " power-of-two bins");
    if (has_range() && e == exp_) return;
    if (has_range()) {
      const int d = e - exp_;
      const std::int64_t z = range_.zero_bin;
      std::vector<std::uint64_t> merged(counts_.size(), 0);
      for (std::size_t k = 0; k < counts_.size(); ++k)
        if (counts_[k] != 0)
          merged[static_cast<std::size_t>(detail::floor_shift(static_cast<std::int64_t>(k) - z, d) + z)] += counts_[k];
      counts_.swap(merged);
    }
    exp_ = e;
    range_.inv_width = std::ldexp(1.0f, -e);
    width_ = std::ldexp(1.0f, e);
  }

  static constexpr int kMinExponent = -126;  // 2^126 is the largest inv_width; smaller values all share bin 0
  static constexpr int kMaxExponent = 127;   // the largest finite power-of-two width

  HistogramOptions opt_;
  std::vector<std::uint64_t> counts_;
  std::vector<std::uint64_t> staging_;  // scratch of the fast path
  HistogramRange range_{};
  float width_ = 0.0f;
  int exp_ = 0;
  std::uint64_t total_ = 0, nan_ = 0, posinf_ = 0, neginf_ = 0;
  float min_ = std::numeric_limits<float>::infinity();
  float max_ = -std::numeric_limits<float>::infinity();
};

// Options for a two-pass, fixed-range histogram: pass 1 finds the range (e.g. MinMaxCalibrator), pass 2 collects.
inline HistogramOptions fixed_range_options(float range_max, HistogramKind kind = HistogramKind::kAbsolute,
                                            std::int32_t bins = 2048) {
  HistogramOptions o;
  o.kind = kind;
  o.bins = bins;
  o.growth = RangeGrowth::kFixed;
  o.range_max = range_max;
  return o;
}

}  // namespace qmath

// qmath/calibration/mse.hpp - MSE calibration: the amax that minimises the count-weighted squared quantization error.
//
// On an absolute histogram with n bins of width w, each bin j is represented by its centre
//   c_j = (edge(j) + edge(j + 1)) / 2          (float32, as pytorch-quantization's centres; exact = (j + 0.5) w
//                                              under power-of-two growth)
// and each candidate i in {start_bin, start_bin + stride, ...} with i < n (pytorch-quantization: 128, 1) sets
// amax_i = c_i and scores
//   E(i) = sum_j count_j * (fake_quantize(c_j) - c_j)^2,    in double,
// where fake_quantize uses scale = amax_i / qmax (TensorRT's convention, qmath::symmetric_params), rounding half to
// even and the range [-127, 127] ([0, 255] for unsigned tensors). The first minimum wins; amax = c_i.
// Difference from pytorch-quantization's _compute_amax_mse: it multiplies by 127 / amax instead of dividing by
// amax / 127, and averages in float32 on the GPU; both can move near-ties, nothing else differs.
// If n <= start_bin (too few bins) the only candidate is the last centre. Cost: O(candidates x non-empty bins), at
// most 2^34 evaluations (checked before the search; MseOptions::stride divides it). A centre past FLT_MAX (data
// reaching it) is clamped to the largest |x| seen, so finite data give a finite threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <qmath/calibration/detail/histogram_calibrator.hpp>
#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

struct MseOptions {
  std::int32_t start_bin = 128;  // first candidate bin
  std::int32_t stride = 1;       // candidate step
  bool is_unsigned = false;      // post-ReLU tensor quantized to [0, 255] instead of [-127, 127]
};

// The result of a threshold search over histogram bins.
struct ThresholdSearch {
  float amax;       // the chosen threshold
  std::int64_t bin;  // the winning candidate index i
  double score;     // its objective (squared error for MSE, KL divergence for entropy)
};

// The MSE search on raw counts with bin centres centres[0..n). Returns the winning index and its error.
inline ThresholdSearch mse_search(const std::uint64_t* counts, const float* centres, std::size_t n,
                                  const MseOptions& opt = {}) {
  detail::require(n >= 1, "mse_search", "empty histogram");
  detail::require(opt.start_bin >= 0 && opt.stride >= 1, "mse_search", "start_bin must be >= 0 and stride >= 1");
  const QuantRange range = opt.is_unsigned ? QuantRange{0, 255} : QuantRange{-127, 127};
  // Non-empty bins only: the error of an empty bin is 0.
  std::vector<float> c;
  std::vector<double> w;
  for (std::size_t j = 0; j < n; ++j)
    if (counts[j] != 0) {
      c.push_back(centres[j]);
      w.push_back(static_cast<double>(counts[j]));
    }
  std::size_t first = static_cast<std::size_t>(opt.start_bin);
  if (first >= n) first = n - 1;
  // The search costs (candidates x non-empty bins) fake-quantizations: refuse, before any work, what would take
  // minutes (2^34 is about a minute on one core).
  const double work = static_cast<double>((n - first - 1) / static_cast<std::size_t>(opt.stride) + 1) *
                      static_cast<double>(c.size());
  detail::require(work <= 17179869184.0, "mse_search", (n - first - 1) / static_cast<std::size_t>(opt.stride) + 1,
                  " candidates x ", c.size(), " non-empty bins = ", work,
                  " evaluations is over the limit of 2^34: raise MseOptions::stride or use fewer bins");
  ThresholdSearch best{centres[first], static_cast<std::int64_t>(first), -1.0};
  for (std::size_t i = first; i < n; i += static_cast<std::size_t>(opt.stride)) {
    const float amax = centres[i];
    float scale = amax / static_cast<float>(range.qmax);
    if (!(scale >= kMinScale)) scale = kMinScale;
    const QuantParams qp{scale, 0};
    double e = 0.0;
    for (std::size_t k = 0; k < c.size(); ++k) {
      const double d = static_cast<double>(fake_quantize_value(c[k], qp, range, Round::kHalfToEven)) - c[k];
      e += w[k] * d * d;
    }
    if (best.score < 0.0 || e < best.score) best = {amax, static_cast<std::int64_t>(i), e};
  }
  return best;
}

// MSE amax of an absolute histogram (0 for an empty one).
inline ThresholdSearch mse_calibrate(const Histogram& h, const MseOptions& opt = {}) {
  detail::require(h.options().kind == HistogramKind::kAbsolute, "mse_calibrate", "needs an absolute histogram");
  if (h.total() == 0 || !h.has_range()) return {0.0f, 0, 0.0};
  const std::size_t n = h.counts().size();
  std::vector<float> centres(n);
  for (std::size_t j = 0; j < n; ++j) {
    const auto b = static_cast<std::int64_t>(j);
    centres[j] = (h.edge(b) + h.edge(b + 1)) / 2.0f;
    if (!(centres[j] <= std::numeric_limits<float>::max()))  // past FLT_MAX: clamped to the data (Histogram::threshold)
      centres[j] = h.threshold(0.5 * (h.edge_double(b) + h.edge_double(b + 1)));
  }
  return mse_search(h.counts().data(), centres.data(), n, opt);
}

inline float mse_amax(const Histogram& h, const MseOptions& opt = {}) { return mse_calibrate(h, opt).amax; }

// Streaming MSE calibrator over an absolute histogram.
class MseCalibrator : public detail::HistogramCalibrator<MseOptions, mse_amax> {
 public:
  explicit MseCalibrator(MseOptions options = {}, HistogramOptions hist = {})
      : HistogramCalibrator(options, std::move(hist)) {}
};

}  // namespace qmath

// qmath/calibration/detail/histogram_calibrator.hpp - the streaming calibrator shape shared by the histogram searches
// whose options carry is_unsigned (MSE, entropy): collect() feeds one Histogram, compute_amax() runs the search.
#pragma once

#include <cstddef>
#include <utility>

#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>

namespace qmath {
namespace detail {

// Amax(histogram, options) is the search; compute() gives [-amax, amax], or [0, amax] when options.is_unsigned.
template <class Options, float (*Amax)(const Histogram&, const Options&)>
class HistogramCalibrator {
 public:
  HistogramCalibrator(Options options, HistogramOptions hist) : opt_(std::move(options)), hist_(std::move(hist)) {}
  void collect(const float* x, std::size_t n) { hist_.collect(x, n); }
  float compute_amax() const { return Amax(hist_, opt_); }
  CalibrationRange compute() const {
    const float a = compute_amax();
    return {opt_.is_unsigned ? 0.0f : -a, a};
  }
  const Histogram& histogram() const { return hist_; }

 protected:
  const Options& options() const { return opt_; }

 private:
  Options opt_;
  Histogram hist_;
};

}  // namespace detail
}  // namespace qmath

// qmath/calibration/histogram_bin.hpp - the normative per-element binning rule of every qmath histogram.
//
// One function, histogram_bin(), decides which bin a value falls into. The host collector (histogram.hpp), its SIMD
// fast path and the CUDA histogram kernels all call (or are tested bit-exactly against) this code, so partial
// histograms collected anywhere merge into identical counts. Needs only the standard library.
//
// The rule, for a range r with r.bins bins:
//   v = r.absolute ? |x| : x
//   p = v * r.inv_width                    (one correctly rounded float32 product; if it underflows to 0 while
//                                            v < 0, p = -0.5 instead, the exact product's floor being -1)
//   t = p + r.shift                        (a separate correctly rounded addition, never fused into an FMA)
//   k = floor(t), clamped to [-r.zero_bin, r.bins - 1 - r.zero_bin]   (NaN clamps to the low end)
//   bin = k + r.zero_bin
// so bin b covers [(b - zero_bin - shift) * width, (b - zero_bin + 1 - shift) * width) where width = 1 / inv_width,
// and values beyond either end land in the end bins. When inv_width is a power of two (qmath's default growth rule)
// v * inv_width is exact, and the bin of a value after doubling the width equals the pair-merged bin, which is what
// makes power-of-two growth independent of batch order.
//
// Layouts used by qmath:
//   absolute:               zero_bin = 0, shift = 0:          bin b = [b*w, (b+1)*w)          (TensorRT, pytorch-quantization)
//   signed, even bins:      zero_bin = bins/2, shift = 0:     bin b = [(b-bins/2)*w, ...)     (0 is the left edge of bin bins/2)
//   signed, odd bins:       zero_bin = (bins-1)/2, shift=0.5: bin zero_bin = [-w/2, w/2)       (MXNet/TVM 8001 bins)
#pragma once

#include <cmath>
#include <cstdint>

#include <qmath/config.hpp>

namespace qmath {

// The geometry of a histogram, as the binning rule sees it. A plain aggregate, trivially copyable to a device.
//   inv_width: 1 / bin width (a power of two under power-of-two growth); 0 while no non-zero value has been seen,
//              which maps every value to zero_bin (only zeros are ever binned in that state).
//   shift:     0, or 0.5 for a signed histogram with an odd bin count whose middle bin is centred on 0.
//   bins:      number of bins, >= 1.
//   zero_bin:  the bin that holds +0 and -0.
//   absolute:  bin |x| instead of x.
struct HistogramRange {
  float inv_width;
  float shift;
  std::int32_t bins;
  std::int32_t zero_bin;
  bool absolute;
};

// The bin of x under r (see the file comment). Defined for every float: NaN goes to bin 0 (the collectors count NaN
// and infinities separately and never bin them), +-inf and out-of-range values to the end bins.
QMATH_HOST_DEVICE std::int32_t histogram_bin(float x, HistogramRange r) {
  const float v = r.absolute ? ::fabsf(x) : x;
#if QMATH_DEVICE_CODE
  float p = __fmul_rn(v, r.inv_width);
#else
  float p = v * r.inv_width;
#endif
  // A negative value whose product underflowed to -0 gets a product in (-1, 0), as its exact product has, so that
  // floor gives -1 and re-binning after power-of-two growth stays exact for tiny negative values.
  if (p == 0.0f && v < 0.0f) p = -0.5f;
#if QMATH_DEVICE_CODE
  const float t = ::floorf(__fadd_rn(p, r.shift));
#else
  // shift == 0 (every power-of-two layout) never adds, so no FMA contraction can touch the default layouts.
  const float t = r.shift == 0.0f ? ::floorf(p) : ::floorf(p + r.shift);
#endif
  const float lo = static_cast<float>(-r.zero_bin);
  const float hi = static_cast<float>(r.bins - 1 - r.zero_bin);
  const float k = t >= lo ? (t <= hi ? t : hi) : lo;  // NaN fails t >= lo and goes to lo
  return static_cast<std::int32_t>(k) + r.zero_bin;
}

}  // namespace qmath

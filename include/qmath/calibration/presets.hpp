// qmath/calibration/presets.hpp - the settings of a streaming calibration run (qmath/calibration/streaming.hpp) and
// what each choice selects, so that a C++ caller and the qmath-calibrate tool mean the same by "entropy, TensorRT's
// rules, fixed histogram range".
//
//   CalibrationCompat   whose threshold rules the histogram methods follow:
//     kTensorRT (default)    entropy as TensorRT's EntropyCalibration2 (EntropyMode::kTensorRT), percentile = upper
//                            edge of the bin that reaches the rank (PercentileRule::kUpperEdge), histogram range
//                            kFixed by default;
//     kPyTorchQuantization   NVIDIA pytorch-quantization's HistogramCalibrator: its entropy search to the float32 bit
//                            (EntropyMode::kPyTorchQuantization), its percentile rule (left edge,
//                            PercentileRule::kPyTorchQuantization), histogram range kAppend by default.
//     MSE is the same in both (pytorch-quantization's rule: bin centres from bin 128).
//   HistogramRangeMode  how the absolute histogram of a tensor covers its data:
//     kFixed   two passes: the first finds the absmax, the second fills bins covering exactly [0, absmax]
//              (RangeGrowth::kFixed, TensorRT's layout); an all-zero tensor, or absmax / bins below FLT_MIN, falls
//              back to power-of-two growth;
//     kPow2    one pass, RangeGrowth::kPowerOfTwo (up to half the bins may stay empty);
//     kAppend  one pass, RangeGrowth::kAppendBins: the first batch with a non-zero value fixes the width, later
//              batches append bins (depends on which batch comes first).
//     kFixed and kPow2 depend only on the multiset of values, not on batch order, batch sizes or chunk size.
//   Quantized range: signed -> narrow int8 [-127, 127] (scale = amax / 127); unsigned -> uint8 [0, 255]
//   (scale = amax / 255), and the MSE / entropy searches use 256 levels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <qmath/calibration/calibration.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {

enum class CalibrationCompat { kTensorRT, kPyTorchQuantization };
enum class HistogramRangeMode { kFixed, kPow2, kAppend };

// "tensorrt", "pytorch-quantization".
inline const char* to_string(CalibrationCompat c) {
  return c == CalibrationCompat::kPyTorchQuantization ? "pytorch-quantization" : "tensorrt";
}
// "fixed", "pow2", "append".
inline const char* to_string(HistogramRangeMode r) {
  switch (r) {
    case HistogramRangeMode::kFixed: return "fixed";
    case HistogramRangeMode::kPow2: return "pow2";
    case HistogramRangeMode::kAppend: return "append";
  }
  return "?";
}

// Every method, in the order a comparison lists them.
inline std::vector<CalibrationMethod> all_calibration_methods() {
  return {CalibrationMethod::kMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse,
          CalibrationMethod::kEntropy};
}

// Whether a method has a per-channel form (kMax, kPercentile); MSE and entropy are always per tensor.
inline bool has_per_channel_form(CalibrationMethod m) {
  return m == CalibrationMethod::kMax || m == CalibrationMethod::kPercentile;
}

struct CalibrationSettings {
  std::vector<CalibrationMethod> methods{CalibrationMethod::kEntropy};  // non-empty, no duplicates
  std::int32_t bins = 2048;                                             // even, in [2, 2^24]
  CalibrationCompat compat = CalibrationCompat::kTensorRT;
  std::optional<HistogramRangeMode> histogram_range;  // unset: the compat's default (kFixed / kAppend)
  double percentile = 99.99;                          // in [0, 100], for kPercentile
  bool is_signed = true;                              // false: post-ReLU, uint8 [0, 255]
  std::optional<int> per_channel_axis;  // kMax and kPercentile per channel along it (negative: from the end)
  NonFinitePolicy non_finite = NonFinitePolicy::kError;  // kSkip: NaN / inf counted and left out
  std::size_t chunk_elements = std::size_t(1) << 20;  // elements read per chunk, >= 1
  bool keep_histogram = false;  // collect the per-tensor histogram even when only kMax is asked (for reports)
};

// Throws qmath::error naming the field at fault.
inline void validate(const CalibrationSettings& s) {
  const char* where = "CalibrationSettings";
  detail::require(!s.methods.empty(), where, "methods is empty");
  for (std::size_t i = 0; i < s.methods.size(); ++i)
    detail::require(std::count(s.methods.begin(), s.methods.end(), s.methods[i]) == 1, where, "method ",
                    to_string(s.methods[i]), " is listed twice");
  detail::require(s.bins >= 2 && s.bins <= (1 << 24) && s.bins % 2 == 0, where, "bins ", s.bins,
                  " must be even and in [2, 2^24]");
  detail::require(std::isfinite(s.percentile) && s.percentile >= 0.0 && s.percentile <= 100.0, where,
                  "percentile ", s.percentile, " is outside [0, 100]");
  detail::require(s.chunk_elements >= 1, where, "chunk_elements is 0");
}

// The histogram range mode in effect: the explicit one, else kAppend under kPyTorchQuantization, kFixed otherwise.
inline HistogramRangeMode effective_histogram_range(const CalibrationSettings& s) {
  if (s.histogram_range) return *s.histogram_range;
  return s.compat == CalibrationCompat::kPyTorchQuantization ? HistogramRangeMode::kAppend : HistogramRangeMode::kFixed;
}

// narrow int8 [-127, 127] when signed, uint8 [0, 255] otherwise.
inline QuantRange calibration_quant_range(const CalibrationSettings& s) {
  return s.is_signed ? narrow_range<std::int8_t>() : full_range<std::uint8_t>();
}

// The threshold rules the compat selects (see the file comment), for calibrate_amax.
inline CalibrationOptions calibration_options(const CalibrationSettings& s) {
  const bool pytorch = s.compat == CalibrationCompat::kPyTorchQuantization;
  CalibrationOptions o;
  o.percentile = s.percentile;
  o.percentile_rule = pytorch ? PercentileRule::kPyTorchQuantization : PercentileRule::kUpperEdge;
  o.mse.is_unsigned = !s.is_signed;
  o.entropy.mode = pytorch ? EntropyMode::kPyTorchQuantization : EntropyMode::kTensorRT;
  o.entropy.is_unsigned = !s.is_signed;
  return o;
}

// The absolute histogram of one tensor (or channel) named `name`, non-finite values skipped (the caller counts
// them). range_max: kFixed - the absmax from the first pass (a range whose bin width would be subnormal or zero falls
// back to power-of-two growth); kAppend - the first non-zero batch's absmax, 0 if unknown; unused under kPow2.
inline HistogramOptions streaming_histogram_options(const CalibrationSettings& s, const std::string& name,
                                                    float range_max) {
  HistogramOptions h;
  h.kind = HistogramKind::kAbsolute;
  h.bins = s.bins;
  h.growth = RangeGrowth::kPowerOfTwo;
  const HistogramRangeMode mode = effective_histogram_range(s);
  if (mode == HistogramRangeMode::kAppend) {
    h.growth = RangeGrowth::kAppendBins;
    h.range_max = range_max;
  } else if (mode == HistogramRangeMode::kFixed &&
             range_max / static_cast<float>(s.bins) >= std::numeric_limits<float>::min()) {
    h.growth = RangeGrowth::kFixed;
    h.range_max = range_max;
  }
  h.non_finite = NonFinitePolicy::kSkip;
  h.name = name;
  return h;
}

}  // namespace qmath

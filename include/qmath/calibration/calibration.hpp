// qmath/calibration/calibration.hpp - every calibration header, plus one entry point that applies a method by name
// to a collected histogram (what a calibration tool's "--method" needs).
//
//   Histogram h;                          // 2048-bin absolute histogram, power-of-two growth
//   for (batch : batches) h.collect(batch.data(), batch.size());
//   float amax = calibrate_amax(h, CalibrationMethod::kEntropy);          // TensorRT-style KL
//   QuantParams qp = symmetric_params(amax, narrow_range<std::int8_t>());  // scale = amax / 127
#pragma once

#include <string>

#include <qmath/calibration/entropy.hpp>
#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/calibration/mse.hpp>
#include <qmath/calibration/percentile.hpp>
#include <qmath/calibration/tensorrt_cache.hpp>
#include <qmath/error.hpp>

namespace qmath {

enum class CalibrationMethod { kMax, kPercentile, kMse, kEntropy };

struct CalibrationOptions {
  double percentile = 99.99;
  PercentileRule percentile_rule = PercentileRule::kUpperEdge;
  MseOptions mse{};
  EntropyOptions entropy{};
};

// amax of an absolute histogram (kMax: the largest finite |x| collected, exact, not a bin edge).
inline float calibrate_amax(const Histogram& h, CalibrationMethod method, const CalibrationOptions& opt = {}) {
  switch (method) {
    case CalibrationMethod::kMax:
      return h.amax();
    case CalibrationMethod::kPercentile:
      return percentile_amax(h, opt.percentile, opt.percentile_rule);
    case CalibrationMethod::kMse:
      return mse_amax(h, opt.mse);
    case CalibrationMethod::kEntropy:
      return entropy_amax(h, opt.entropy);
  }
  detail::fail("calibrate_amax", "unknown method");
}

// "max", "percentile", "mse", "entropy".
inline const char* to_string(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::kMax: return "max";
    case CalibrationMethod::kPercentile: return "percentile";
    case CalibrationMethod::kMse: return "mse";
    case CalibrationMethod::kEntropy: return "entropy";
  }
  return "?";
}

// Parses "max" (or "minmax"), "percentile", "mse", "entropy"; throws on anything else.
inline CalibrationMethod parse_calibration_method(const std::string& s) {
  if (s == "max" || s == "minmax") return CalibrationMethod::kMax;
  if (s == "percentile") return CalibrationMethod::kPercentile;
  if (s == "mse") return CalibrationMethod::kMse;
  if (s == "entropy") return CalibrationMethod::kEntropy;
  detail::fail("parse_calibration_method", "unknown method '", s, "' (expected max, percentile, mse or entropy)");
}

}  // namespace qmath

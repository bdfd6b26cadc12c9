// Tests for qmath/calibration/calibration.hpp: the method dispatcher equals each method's own function, method
// names parse and print, and the end-to-end flow histogram -> amax -> scale -> TensorRT cache entry.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <qmath/calibration/calibration.hpp>
#include <qmath/qparams.hpp>

#include "test_data.hpp"

using namespace qmath;

TEST_CASE("calibrate_amax dispatches to each method") {
  const auto x = qmath_test::with_outliers(qmath_test::gaussian(200000, 12), 10);
  Histogram h;
  h.collect(x.data(), x.size());
  CalibrationOptions o;
  o.percentile = 99.9;
  CHECK(calibrate_amax(h, CalibrationMethod::kMax, o) == h.amax());
  CHECK(calibrate_amax(h, CalibrationMethod::kPercentile, o) == percentile_amax(h, 99.9));
  CHECK(calibrate_amax(h, CalibrationMethod::kMse, o) == mse_amax(h));
  CHECK(calibrate_amax(h, CalibrationMethod::kEntropy, o) == entropy_amax(h));
  MinMaxCalibrator m;
  m.collect(x.data(), x.size());
  CHECK(calibrate_amax(h, CalibrationMethod::kMax) == m.compute_amax());
}

TEST_CASE("method names") {
  for (CalibrationMethod m : {CalibrationMethod::kMax, CalibrationMethod::kPercentile, CalibrationMethod::kMse,
                              CalibrationMethod::kEntropy})
    CHECK(parse_calibration_method(to_string(m)) == m);
  CHECK(parse_calibration_method("minmax") == CalibrationMethod::kMax);
  CHECK_THROWS_AS(parse_calibration_method("kl"), qmath::error);
}

TEST_CASE("histogram -> entropy amax -> scale -> cache entry") {
  const auto x = qmath_test::gaussian(100000, 13);
  Histogram h;
  h.collect(x.data(), x.size());
  const float amax = calibrate_amax(h, CalibrationMethod::kEntropy);
  const QuantParams qp = symmetric_params(amax, narrow_range<std::int8_t>());
  TensorRTCache cache;
  cache.add_amax("act", amax);
  CHECK(cache.entries[0].scale == qp.scale);  // both amax / 127 in float32
  const TensorRTCache back = parse_tensorrt_cache(format_tensorrt_cache(cache));
  CHECK(back.entries[0].scale == qp.scale);
}

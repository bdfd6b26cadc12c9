// Tests for qmath/calibration/presets.hpp: what each compat / histogram range / sign choice selects.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <qmath/calibration/presets.hpp>

using namespace qmath;

TEST_CASE("compat selects the entropy and percentile rules and the default histogram range") {
  CalibrationSettings s;
  CalibrationOptions o = calibration_options(s);
  CHECK(o.entropy.mode == EntropyMode::kTensorRT);
  CHECK(o.percentile_rule == PercentileRule::kUpperEdge);
  CHECK(effective_histogram_range(s) == HistogramRangeMode::kFixed);
  s.compat = CalibrationCompat::kPyTorchQuantization;
  s.percentile = 99.9;
  o = calibration_options(s);
  CHECK(o.entropy.mode == EntropyMode::kPyTorchQuantization);
  CHECK(o.percentile_rule == PercentileRule::kPyTorchQuantization);
  CHECK(o.percentile == 99.9);
  CHECK(o.mse.start_bin == MseOptions{}.start_bin);  // the same MSE rule in both
  CHECK(effective_histogram_range(s) == HistogramRangeMode::kAppend);
  s.histogram_range = HistogramRangeMode::kPow2;  // an explicit range wins over the compat's default
  CHECK(effective_histogram_range(s) == HistogramRangeMode::kPow2);
}

TEST_CASE("sign selects the quantized range and the searches' level count") {
  CalibrationSettings s;
  CHECK(calibration_quant_range(s).qmin == -127);
  CHECK(calibration_quant_range(s).qmax == 127);
  CHECK(!calibration_options(s).entropy.is_unsigned);
  s.is_signed = false;
  CHECK(calibration_quant_range(s).qmin == 0);
  CHECK(calibration_quant_range(s).qmax == 255);
  CHECK(calibration_options(s).entropy.is_unsigned);
  CHECK(calibration_options(s).mse.is_unsigned);
}

TEST_CASE("streaming histogram options: growth per range mode, subnormal-width fallback to power-of-two") {
  CalibrationSettings s;
  s.bins = 1024;
  HistogramOptions h = streaming_histogram_options(s, "t", 8.0f);
  CHECK(h.kind == HistogramKind::kAbsolute);
  CHECK(h.growth == RangeGrowth::kFixed);
  CHECK(h.range_max == 8.0f);
  CHECK(h.bins == 1024);
  CHECK(h.non_finite == NonFinitePolicy::kSkip);
  CHECK(h.name == "t");
  // 1024 * FLT_MIN is the smallest range whose bin width is normal.
  const float edge = 1024.0f * std::numeric_limits<float>::min();
  CHECK(streaming_histogram_options(s, "t", edge).growth == RangeGrowth::kFixed);
  CHECK(streaming_histogram_options(s, "t", edge * 0.5f).growth == RangeGrowth::kPowerOfTwo);
  CHECK(streaming_histogram_options(s, "t", 0.0f).growth == RangeGrowth::kPowerOfTwo);  // an all-zero tensor
  s.histogram_range = HistogramRangeMode::kPow2;
  CHECK(streaming_histogram_options(s, "t", 8.0f).growth == RangeGrowth::kPowerOfTwo);
  s.histogram_range = HistogramRangeMode::kAppend;
  h = streaming_histogram_options(s, "t", 3.0f);
  CHECK(h.growth == RangeGrowth::kAppendBins);
  CHECK(h.range_max == 3.0f);
}

TEST_CASE("names and method lists") {
  CHECK(std::string(to_string(CalibrationCompat::kTensorRT)) == "tensorrt");
  CHECK(std::string(to_string(CalibrationCompat::kPyTorchQuantization)) == "pytorch-quantization");
  CHECK(std::string(to_string(HistogramRangeMode::kFixed)) == "fixed");
  CHECK(std::string(to_string(HistogramRangeMode::kPow2)) == "pow2");
  CHECK(std::string(to_string(HistogramRangeMode::kAppend)) == "append");
  CHECK(all_calibration_methods().size() == 4);
  CHECK(has_per_channel_form(CalibrationMethod::kMax));
  CHECK(has_per_channel_form(CalibrationMethod::kPercentile));
  CHECK(!has_per_channel_form(CalibrationMethod::kMse));
  CHECK(!has_per_channel_form(CalibrationMethod::kEntropy));
}

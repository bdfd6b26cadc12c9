// Tests for qmath/calibration/percentile.hpp: hand-computed ranks on a 4-bin histogram for both rules, p = 0 / 100,
// a single bin, analytic distributions (uniform, Gaussian, Laplace), the signed two-sided range, per channel.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <qmath/calibration/percentile.hpp>

#include "test_data.hpp"

using namespace qmath;

namespace {
// counts {1, 2, 3, 4} in bins of width 1 over [0, 4): values at bin centres.
Histogram small_histogram() {
  Histogram h(fixed_range_options(4.0f, HistogramKind::kAbsolute, 4));
  const float v[] = {0.5f, 1.5f, 1.5f, 2.5f, 2.5f, 2.5f, 3.5f, 3.5f, 3.5f, 3.5f};
  h.collect(v, 10);
  return h;
}
}  // namespace

TEST_CASE("percentile on a hand-computed histogram: kUpperEdge") {
  const Histogram h = small_histogram();
  REQUIRE(h.counts() == std::vector<std::uint64_t>{1, 2, 3, 4});
  // T = 10, cumulative counts 1, 3, 6, 10. r = ceil(p / 100 * 10), clamped to [1, 10].
  CHECK(percentile_amax(h, 0.0) == 1.0f);    // r = 1 -> bin 0 -> right edge 1
  CHECK(percentile_amax(h, 10.0) == 1.0f);   // r = 1
  CHECK(percentile_amax(h, 10.1) == 2.0f);   // r = 2 -> bin 1
  CHECK(percentile_amax(h, 30.0) == 2.0f);   // r = 3 -> bin 1
  CHECK(percentile_amax(h, 50.0) == 3.0f);   // r = 5 -> bin 2
  CHECK(percentile_amax(h, 60.0) == 3.0f);   // r = 6 -> bin 2
  CHECK(percentile_amax(h, 60.5) == 4.0f);   // r = 7 -> bin 3
  CHECK(percentile_amax(h, 100.0) == 4.0f);  // r = 10 -> bin 3
}

TEST_CASE("percentile on a hand-computed histogram: pytorch-quantization's left edge of searchsorted(cdf)") {
  const Histogram h = small_histogram();
  // cdf in float64: 0.1, 0.30000000000000004, 0.6000000000000001, 1.0
  CHECK(percentile_amax(h, 0.0, PercentileRule::kPyTorchQuantization) == 0.0f);   // cdf[0] >= 0 -> edges[0]
  CHECK(percentile_amax(h, 10.0, PercentileRule::kPyTorchQuantization) == 0.0f);  // 0.1 >= 0.1
  CHECK(percentile_amax(h, 30.0, PercentileRule::kPyTorchQuantization) == 1.0f);  // 0.30000000000000004 >= 0.3
  CHECK(percentile_amax(h, 50.0, PercentileRule::kPyTorchQuantization) == 2.0f);
  CHECK(percentile_amax(h, 60.0, PercentileRule::kPyTorchQuantization) == 2.0f);  // 0.6000000000000001 >= 0.6
  CHECK(percentile_amax(h, 100.0, PercentileRule::kPyTorchQuantization) == 3.0f);  // left edge: the max is clipped
  // searchsorted past the end gives edges[n]
  const std::uint64_t c[] = {1, 1, 1};  // cdf 1/3, 2/3, 0.9999999999999999 in float64 < 1.0
  CHECK(percentile_bin(c, 3, 100.0, PercentileRule::kPyTorchQuantization) ==
        ((1.0 / 3 + 1.0 / 3) + 1.0 / 3 >= 1.0 ? 2u : 3u));
}

TEST_CASE("decimal percentiles give the exact rank despite binary rounding") {
  // 10^6 values, one per bin: 0.07 % is rank 700 exactly (bin 699), although 0.07 / 100 * 10^6 evaluates to
  // 700.0000000000001 in double (a plain ceil would give rank 701); 7 % of 100 is 7.000000000000001 likewise.
  CHECK(0.07 / 100.0 * 1e6 > 700.0);
  std::vector<std::uint64_t> c(1000000, 1);
  CHECK(percentile_bin(c.data(), c.size(), 0.07) == 699u);
  CHECK(percentile_bin(c.data(), 100, 7.0) == 6u);
  CHECK(percentile_bin(c.data(), c.size(), 99.99) == 999899u);
  CHECK(percentile_bin(c.data(), c.size(), 99.9901) == 999900u);
  CHECK(percentile_bin(c.data(), c.size(), 99.999) == 999989u);
  CHECK(percentile_bin(c.data(), c.size(), 0.0) == 0u);
  CHECK(percentile_bin(c.data(), c.size(), 100.0) == 999999u);
}

TEST_CASE("percentile edge cases: single bin, empty, invalid p") {
  Histogram one(fixed_range_options(2.0f, HistogramKind::kAbsolute, 1));
  const float v[] = {0.1f, 1.9f, 1.0f};
  one.collect(v, 3);
  CHECK(percentile_amax(one, 0.0) == 2.0f);
  CHECK(percentile_amax(one, 100.0) == 2.0f);
  CHECK(percentile_amax(one, 50.0, PercentileRule::kPyTorchQuantization) == 0.0f);
  CHECK(percentile_amax(Histogram(), 99.0) == 0.0f);
  Histogram zeros;
  const float z[] = {0.0f, 0.0f};
  zeros.collect(z, 2);
  CHECK(percentile_amax(zeros, 99.99) == 0.0f);
  CHECK_THROWS_AS(percentile_amax(one, -0.1), qmath::error);
  CHECK_THROWS_AS(percentile_amax(one, 100.1), qmath::error);
  CHECK_THROWS_AS(percentile_amax(one, std::nan("")), qmath::error);
  CHECK_THROWS_AS(PercentileCalibrator(101.0), qmath::error);
}

TEST_CASE("percentile on analytic distributions lands on the distribution's quantile within a bin") {
  {  // uniform |x| on [0, 1): the p-quantile of |x| is p / 100
    const auto x = qmath_test::uniform(1000000, 1, -1.0f, 1.0f);
    PercentileCalibrator c(99.0);
    c.collect(x.data(), x.size());
    const float w = c.histogram().width();
    CHECK(std::fabs(c.compute_amax() - 0.99f) <= w + 0.003f);
  }
  {  // |N(0,1)|: P(|x| > t) = 1e-3 at t = 3.2905; 1e-4 at 3.8906
    const auto x = qmath_test::gaussian(2000000, 2);
    PercentileCalibrator c99_9(99.9), c99_99(99.99);
    c99_9.collect(x.data(), x.size());
    c99_99.collect(x.data(), x.size());
    CHECK(c99_9.compute_amax() == Approx(3.2905).margin(0.03));
    CHECK(c99_99.compute_amax() == Approx(3.8906).margin(0.08));
  }
  {  // Laplace(0, 1): P(|x| > t) = exp(-t), t = ln(1000) = 6.9078 at p = 99.9
    const auto x = qmath_test::laplace(2000000, 3);
    PercentileCalibrator c(99.9);
    c.collect(x.data(), x.size());
    CHECK(c.compute_amax() == Approx(6.9078).margin(0.08));
  }
  {  // outliers beyond the percentile do not move it
    const auto x = qmath_test::with_outliers(qmath_test::gaussian(1000000, 4), 50);
    PercentileCalibrator c(99.9);
    c.collect(x.data(), x.size());
    CHECK(c.compute_amax() < 3.5f);
  }
}

TEST_CASE("signed two-sided percentile range") {
  Histogram h(fixed_range_options(4.0f, HistogramKind::kSigned, 8));  // width 1, bins [-4, 4)
  const float v[] = {-3.5f, -0.5f, -0.5f, 0.5f, 0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 3.5f};
  h.collect(v, 10);
  const CalibrationRange r100 = percentile_range(h, 100.0);
  CHECK(r100.min == -4.0f);
  CHECK(r100.max == 4.0f);
  const CalibrationRange r80 = percentile_range(h, 80.0);  // r = 8: 8th smallest is 2.5, 8th largest is -0.5
  CHECK(r80.min == -1.0f);
  CHECK(r80.max == 3.0f);
  CHECK_THROWS_AS(percentile_range(Histogram(), 99.0), qmath::error);  // absolute histogram
  CHECK_THROWS_AS(percentile_amax(h, 99.0), qmath::error);             // signed histogram
}

TEST_CASE("per-channel percentile: each channel gets its own amax") {
  // channel c of a [outer=4, channels=3, inner=2500] tensor is N(0, sigma_c)
  const float sigma[] = {0.5f, 1.0f, 4.0f};
  const std::size_t outer = 4, channels = 3, inner = 2500;
  std::vector<float> x(outer * channels * inner);
  const auto g = qmath_test::gaussian(x.size(), 6);
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t i = 0; i < inner; ++i) {
        const std::size_t k = (o * channels + c) * inner + i;
        x[k] = g[k] * sigma[c];
      }
  PerChannelPercentileCalibrator pc(channels, 99.0);
  pc.collect(x.data(), ChannelLayout{outer, channels, inner});
  const auto a = pc.compute_amax();
  REQUIRE(a.size() == 3);
  for (std::size_t c = 0; c < channels; ++c) CHECK(a[c] == Approx(2.5758 * sigma[c]).epsilon(0.05));
  // the same as collecting each channel's values into its own histogram
  for (std::size_t c = 0; c < channels; ++c) {
    std::vector<float> own;
    for (std::size_t o = 0; o < outer; ++o)
      own.insert(own.end(), x.begin() + static_cast<long>((o * channels + c) * inner),
                 x.begin() + static_cast<long>((o * channels + c + 1) * inner));
    Histogram h;
    h.collect(own.data(), own.size());
    CHECK(pc.histograms()[c].counts() == h.counts());
    CHECK(percentile_amax(h, 99.0) == a[c]);
  }
  CHECK_THROWS_AS(pc.collect(x.data(), ChannelLayout{1, 2, 3}), qmath::error);
}

TEST_CASE("finite data near FLT_MAX give a finite percentile threshold (power-of-two range)") {
  for (RangeGrowth growth : {RangeGrowth::kPowerOfTwo, RangeGrowth::kAppendBins}) {
    HistogramOptions o;
    o.growth = growth;
    Histogram h(o);
    std::vector<float> x;
    for (int k = 0; k < 1000; ++k) x.push_back(3.0e38f * (static_cast<float>(k % 100) / 100.0f));
    x.push_back(std::numeric_limits<float>::max());
    h.collect(x.data(), x.size());
    for (double p : {50.0, 99.99, 100.0})
      for (PercentileRule rule : {PercentileRule::kUpperEdge, PercentileRule::kPyTorchQuantization}) {
        const float a = percentile_amax(h, p, rule);
        INFO("growth " << static_cast<int>(growth) << " p " << p << " amax " << a);
        CHECK(std::isfinite(a));
        CHECK(a <= std::numeric_limits<float>::max());
      }
    HistogramOptions s = o;
    s.kind = HistogramKind::kSigned;
    if (growth == RangeGrowth::kAppendBins) continue;
    Histogram hs(s);
    x.push_back(-std::numeric_limits<float>::max());
    hs.collect(x.data(), x.size());
    const CalibrationRange r = percentile_range(hs, 100.0);
    CHECK(std::isfinite(r.min));
    CHECK(std::isfinite(r.max));
  }
}

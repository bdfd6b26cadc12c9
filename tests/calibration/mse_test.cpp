// Tests for qmath/calibration/mse.hpp: hand-derived searches on 4-bin histograms, first-minimum ties, unsigned
// range, analytic distributions against known optimal clipping values.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <qmath/calibration/mse.hpp>

#include "test_data.hpp"

using namespace qmath;

namespace {
Histogram four_bins(std::uint64_t c0, std::uint64_t c3) {
  Histogram h(fixed_range_options(4.0f, HistogramKind::kAbsolute, 4));  // width 1, centres 0.5 1.5 2.5 3.5
  const std::vector<float> a(c0, 0.5f), b(c3, 3.5f);
  h.collect(a.data(), a.size());
  h.collect(b.data(), b.size());
  return h;
}
double sq(double x) { return x * x; }
}  // namespace

TEST_CASE("MSE on hand-derived 4-bin histograms") {
  MseOptions o;
  o.start_bin = 0;
  // counts {1000, 0, 0, 1}; candidate amax = centre i, scale = amax / 127, error of a centre c:
  //   fake_quantize(c) - c, fake_quantize(c) = round_half_even(c / scale) * scale, clipped to +-127.
  //   i = 0, amax 0.5: bin 0 exact; bin 3 clipped to 0.5: 1 * 3^2 = 9
  //   i = 1, amax 1.5: 0.5 / (1.5/127) = 42.33 -> 42 -> 0.496063, err 1000 * 0.003937^2 = 0.0155; bin 3: 2^2 = 4
  //   i = 2, amax 2.5: 0.5 / (2.5/127) = 25.4 -> 25 -> 0.492126, err 0.0620; bin 3: 1^2 = 1
  //   i = 3, amax 3.5: 0.5 / (3.5/127) = 18.14 -> 18 -> 0.496063, err 0.0155; bin 3 exact: total 0.0155 -> wins
  const ThresholdSearch r = mse_calibrate(four_bins(1000, 1), o);
  CHECK(r.bin == 3);
  CHECK(r.amax == 3.5f);
  const float s3 = 3.5f / 127.0f;
  CHECK(r.score == Approx(1000.0 * sq(18.0f * s3 - 0.5)).epsilon(1e-6));
  // counts {10^6, 0, 0, 1}: rounding noise on 10^6 values outweighs clipping one: i = 0 (0 + 9) beats
  // i = 3 (10^6 * 1.55e-5 = 15.5), i = 1 (15.5 + 4) and i = 2 (62 + 1)
  const ThresholdSearch r2 = mse_calibrate(four_bins(1000000, 1), o);
  CHECK(r2.bin == 0);
  CHECK(r2.amax == 0.5f);
  CHECK(r2.score == Approx(9.0));
  // pytorch-quantization's default start_bin 128 leaves only the last centre here
  CHECK(mse_calibrate(four_bins(1000, 1)).bin == 3);
}

TEST_CASE("MSE: first minimum wins; unsigned range; empty input") {
  const std::uint64_t zeros[] = {0, 0, 0, 0, 0};
  const float centres[] = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f};
  MseOptions o;
  o.start_bin = 1;
  const ThresholdSearch r = mse_search(zeros, centres, 5, o);  // every candidate scores 0
  CHECK(r.bin == 1);
  CHECK(r.score == 0.0);
  // unsigned: 255 levels of amax / 255; with amax 2.5 the centre 0.5 maps to 51 -> 0.5 exactly
  const std::uint64_t c[] = {10, 0, 1, 0, 0};
  MseOptions u;
  u.start_bin = 2;
  u.is_unsigned = true;
  const ThresholdSearch ru = mse_search(c, centres, 5, u);
  CHECK(ru.bin == 2);
  CHECK(ru.score == Approx(0.0).margin(1e-12));
  CHECK(mse_amax(Histogram()) == 0.0f);
  CHECK_THROWS_AS(mse_calibrate(Histogram(fixed_range_options(1.0f, HistogramKind::kSigned))), qmath::error);
}

TEST_CASE("MSE on analytic distributions") {
  {  // uniform: clipping costs more than rounding: amax stays at the top
    const auto x = qmath_test::uniform(1000000, 1, -1.0f, 1.0f);
    MseCalibrator c;
    c.collect(x.data(), x.size());
    CHECK(c.compute_amax() > 0.98f);
    CHECK(c.compute_amax() <= 1.0f);
  }
  {  // Gaussian: the 8-bit MSE-optimal clip is about 4 sigma (Banner et al.)
    const auto x = qmath_test::gaussian(1000000, 2);
    MseCalibrator c;
    c.collect(x.data(), x.size());
    CHECK(c.compute_amax() == Approx(4.0).margin(0.35));
  }
  {  // Laplace(0, 1): ACIQ's 8-bit optimum is 9.89 b
    const auto x = qmath_test::laplace(1000000, 3);
    MseCalibrator c;
    c.collect(x.data(), x.size());
    CHECK(c.compute_amax() == Approx(9.89).margin(0.6));
    CHECK(c.compute().min == -c.compute_amax());
  }
}

TEST_CASE("finite data near FLT_MAX give a finite MSE threshold") {
  Histogram h;
  std::vector<float> x;
  for (int k = 0; k < 1000; ++k) x.push_back(3.0e38f * (static_cast<float>(k % 100) / 100.0f));
  x.push_back(std::numeric_limits<float>::max());
  h.collect(x.data(), x.size());
  const float a = mse_amax(h);
  CHECK(std::isfinite(a));
}

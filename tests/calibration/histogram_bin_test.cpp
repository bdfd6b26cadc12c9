// Tests for qmath/calibration/histogram_bin.hpp: the binning rule on systematic values, its edges, its end bins,
// NaN/Inf, the three layouts, and the property that makes power-of-two growth exact: binning with width 2^(e+d)
// equals merging the bins of width 2^e in groups of 2^d.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <qmath/calibration/detail/histogram_fill.hpp>
#include <qmath/calibration/histogram_bin.hpp>

using qmath::histogram_bin;
using qmath::HistogramRange;

namespace {
HistogramRange abs_range(int e, int bins) { return {std::ldexp(1.0f, -e), 0.0f, bins, 0, true}; }
HistogramRange signed_range(int e, int bins) { return {std::ldexp(1.0f, -e), 0.0f, bins, bins / 2, false}; }
// Independent reference: floor(x / 2^e) in long double (exact for floats), clamped, shifted by the zero bin.
std::int64_t ref_bin(float x, int e, int bins, int zero_bin, bool absolute) {
  const long double v = absolute ? std::fabs(static_cast<long double>(x)) : static_cast<long double>(x);
  long double k = std::floor(std::ldexp(v, -e));
  if (k < -zero_bin) k = -zero_bin;
  if (k > bins - 1 - zero_bin) k = bins - 1 - zero_bin;
  return static_cast<std::int64_t>(k) + zero_bin;
}
std::vector<float> systematic_values() {
  std::vector<float> v;
  for (int i = -149; i <= 127; ++i)
    for (float s : {1.0f, -1.0f}) {
      const float p = s * std::ldexp(1.0f, i);
      v.push_back(p);
      v.push_back(std::nextafter(p, 0.0f));
      v.push_back(std::nextafter(p, 2.0f * p));
      v.push_back(p * 1.5f);
      v.push_back(p * 3.0f);
    }
  v.push_back(0.0f);
  v.push_back(-0.0f);
  v.push_back(std::numeric_limits<float>::max());
  v.push_back(-std::numeric_limits<float>::max());
  return v;
}
}  // namespace

TEST_CASE("absolute layout: bin k is [k w, (k + 1) w), clamped to the last bin") {
  const HistogramRange r = abs_range(-3, 16);  // w = 1/8, range [0, 2)
  for (int k = 0; k < 16; ++k) {
    const float edge = static_cast<float>(k) / 8.0f;
    CHECK(histogram_bin(edge, r) == k);
    CHECK(histogram_bin(-edge, r) == k);
    if (k > 0) CHECK(histogram_bin(std::nextafter(edge, 0.0f), r) == k - 1);
  }
  CHECK(histogram_bin(2.0f, r) == 15);
  CHECK(histogram_bin(1e30f, r) == 15);
  CHECK(histogram_bin(std::numeric_limits<float>::infinity(), r) == 15);
  CHECK(histogram_bin(-std::numeric_limits<float>::infinity(), r) == 15);
  CHECK(histogram_bin(std::numeric_limits<float>::quiet_NaN(), r) == 0);
  CHECK(histogram_bin(std::numeric_limits<float>::denorm_min(), r) == 0);
}

TEST_CASE("signed even layout: 0 is the left edge of bin bins/2; tiny negatives go to the bin below") {
  const HistogramRange r = signed_range(0, 8);  // w = 1, range [-4, 4)
  CHECK(histogram_bin(0.0f, r) == 4);
  CHECK(histogram_bin(-0.0f, r) == 4);
  CHECK(histogram_bin(-std::numeric_limits<float>::denorm_min(), r) == 3);
  CHECK(histogram_bin(-1.0f, r) == 3);
  CHECK(histogram_bin(std::nextafter(-1.0f, -2.0f), r) == 2);
  CHECK(histogram_bin(-4.0f, r) == 0);
  CHECK(histogram_bin(-5.0f, r) == 0);
  CHECK(histogram_bin(3.999f, r) == 7);
  CHECK(histogram_bin(4.0f, r) == 7);
  CHECK(histogram_bin(-std::numeric_limits<float>::infinity(), r) == 0);
  CHECK(histogram_bin(std::numeric_limits<float>::quiet_NaN(), r) == 0);
  // A huge width makes x * inv_width underflow to -0 for tiny negatives: still the bin below zero.
  const HistogramRange big = signed_range(120, 8);
  CHECK(histogram_bin(-1e-30f, big) == 3);
  CHECK(histogram_bin(1e-30f, big) == 4);
}

TEST_CASE("signed odd layout (MXNet 8001 bins): the middle bin is centred on 0") {
  const HistogramRange r{1.0f, 0.5f, 7, 3, false};  // w = 1, bins centred on -3..3
  CHECK(histogram_bin(0.0f, r) == 3);
  CHECK(histogram_bin(0.49f, r) == 3);
  CHECK(histogram_bin(-0.49f, r) == 3);
  CHECK(histogram_bin(0.5f, r) == 4);
  CHECK(histogram_bin(-0.5f, r) == 3);  // [-0.5, 0.5) is bin 3
  CHECK(histogram_bin(std::nextafter(-0.5f, -1.0f), r) == 2);
  CHECK(histogram_bin(3.4f, r) == 6);
  CHECK(histogram_bin(100.0f, r) == 6);
  CHECK(histogram_bin(-100.0f, r) == 0);
}

TEST_CASE("power-of-two layouts agree with an exact long double reference on systematic and random values") {
  std::vector<float> values = systematic_values();
  std::mt19937 g(7);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int k = 0; k < 20000; ++k) {
    const std::uint32_t u = bits(g);
    float f;
    std::memcpy(&f, &u, 4);
    if (std::isfinite(f)) values.push_back(f);
  }
  for (int e : {-126, -60, -10, -3, 0, 5, 40, 100, 117}) {
    const HistogramRange ra = abs_range(e, 2048), rs = signed_range(e, 2048);
    for (float x : values) {
      REQUIRE(histogram_bin(x, ra) == ref_bin(x, e, 2048, 0, true));
      REQUIRE(histogram_bin(x, rs) == ref_bin(x, e, 2048, 1024, false));
    }
  }
}

TEST_CASE("re-binning after power-of-two growth equals direct binning (the exact-merge property)") {
  std::vector<float> values = systematic_values();
  std::mt19937 g(11);
  std::normal_distribution<float> d(0.0f, 1.0f);
  for (int k = 0; k < 20000; ++k) values.push_back(d(g) * std::ldexp(1.0f, k % 40 - 20));
  for (int e : {-126, -20, -1, 0, 3, 60}) {
    for (int dd : {1, 2, 5, 11, 40}) {
      for (bool absolute : {true, false}) {
        const int bins = 2048, z = absolute ? 0 : 1024;
        const HistogramRange r0 = absolute ? abs_range(e, bins) : signed_range(e, bins);
        const HistogramRange r1 = absolute ? abs_range(e + dd, bins) : signed_range(e + dd, bins);
        for (float x : values) {
          const std::int32_t b0 = histogram_bin(x, r0);
          // only values inside the finer range keep their exact bin (the grown range covers them by construction)
          const long double v = absolute ? std::fabs(static_cast<long double>(x)) : static_cast<long double>(x);
          const long double t = std::floor(std::ldexp(v, -e));
          if (t < -z || t > bins - 1 - z) continue;
          REQUIRE(histogram_bin(x, r1) == qmath::detail::floor_shift(b0 - z, dd) + z);
        }
      }
    }
  }
}

TEST_CASE("floor_shift is floor division by 2^d for every sign") {
  for (std::int64_t v = -70; v <= 70; ++v)
    for (int d = 0; d <= 8; ++d)
      REQUIRE(qmath::detail::floor_shift(v, d) ==
              static_cast<std::int64_t>(std::floor(static_cast<double>(v) / std::ldexp(1.0, d))));
  CHECK(qmath::detail::floor_shift(-5, 70) == -1);
  CHECK(qmath::detail::floor_shift(5, 70) == 0);
}

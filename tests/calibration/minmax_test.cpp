// Tests for qmath/calibration/minmax.hpp: running MinMax, PyTorch's moving-average rule (hand-computed float32
// steps), per-channel layouts against a naive loop, merge, non-finite policies, empty input.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <qmath/calibration/minmax.hpp>

#include "test_data.hpp"

using namespace qmath;

TEST_CASE("MinMax: running min / max / amax over batches, merge") {
  const auto x = qmath_test::with_outliers(qmath_test::gaussian(10001, 3), 5);
  MinMaxCalibrator c;
  CHECK(c.compute().min == 0.0f);
  CHECK(c.compute().max == 0.0f);
  float lo = x[0], hi = x[0];
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (std::size_t i = 0; i < x.size(); i += 100) c.collect(x.data() + i, std::min<std::size_t>(100, x.size() - i));
  CHECK(c.compute().min == lo);
  CHECK(c.compute().max == hi);
  CHECK(c.compute_amax() == std::max(-lo, hi));
  MinMaxCalibrator a, b;
  a.collect(x.data(), 5000);
  b.collect(x.data() + 5000, x.size() - 5000);
  a.merge(b);
  CHECK(a.compute().min == lo);
  CHECK(a.compute().max == hi);
  const float neg[] = {-5.0f, -1.0f};
  MinMaxCalibrator n;
  n.collect(neg, 2);
  CHECK(n.compute_amax() == 5.0f);
}

TEST_CASE("MinMax: non-finite values") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float bad[] = {1.0f, nan, -inf, -2.0f};
  MinMaxCalibrator strict(NonFinitePolicy::kError, "fc7");
  const float ok[] = {0.5f};
  strict.collect(ok, 1);
  try {
    strict.collect(bad, 4);
    FAIL("no exception");
  } catch (const qmath::error& e) {
    CHECK(std::string(e.what()).find("fc7") != std::string::npos);
    CHECK(std::string(e.what()).find("2 non-finite") != std::string::npos);
  }
  CHECK(strict.compute().min == 0.5f);
  MinMaxCalibrator lax(NonFinitePolicy::kSkip);
  lax.collect(bad, 4);
  CHECK(lax.compute().min == -2.0f);
  CHECK(lax.compute().max == 1.0f);
  CHECK(lax.skipped_count() == 2);
  const float only_nan[] = {nan};
  MinMaxCalibrator empty(NonFinitePolicy::kSkip);
  empty.collect(only_nan, 1);
  CHECK(empty.compute_amax() == 0.0f);
}

TEST_CASE("moving-average MinMax: PyTorch's rule, float32 step by step") {
  MovingAverageMinMaxCalibrator c;  // c = 0.01
  const float b1[] = {0.0f, 1.0f}, b2[] = {-1.0f, 3.0f}, b3[] = {0.25f, 0.5f};
  c.collect(b1, 2);  // first batch initialises
  CHECK(c.compute().min == 0.0f);
  CHECK(c.compute().max == 1.0f);
  c.collect(b2, 2);
  // min = 0 + 0.01f * (-1 - 0); max = 1 + 0.01f * (3 - 1), each product and sum rounded to float32
  float emin = 0.0f + 0.01f * (-1.0f - 0.0f);
  float emax = 1.0f + 0.01f * (3.0f - 1.0f);
  CHECK(c.compute().min == emin);
  CHECK(c.compute().max == emax);
  c.collect(b3, 2);
  const float d1 = 0.25f - emin, d2 = 0.5f - emax;
  const float s1 = 0.01f * d1, s2 = 0.01f * d2;
  emin = emin + s1;
  emax = emax + s2;
  CHECK(c.compute().min == emin);
  CHECK(c.compute().max == emax);
  c.collect(nullptr, 0);  // empty batches change nothing
  CHECK(c.compute().min == emin);
  MovingAverageMinMaxCalibrator half(0.5f);
  half.collect(b1, 2);
  half.collect(b2, 2);
  CHECK(half.compute().min == -0.5f);
  CHECK(half.compute().max == 2.0f);
  CHECK_THROWS_AS(MovingAverageMinMaxCalibrator(0.0f), qmath::error);
  CHECK_THROWS_AS(MovingAverageMinMaxCalibrator(1.5f), qmath::error);
}

TEST_CASE("per-channel MinMax against a naive loop, for several axes") {
  const auto x = qmath_test::gaussian(2 * 3 * 5 * 7, 8);
  const std::vector<std::int64_t> shape{2, 3, 5, 7};
  for (int axis : {0, 1, 3, -1}) {
    const ChannelLayout l = channel_layout(shape, axis);
    PerChannelMinMaxCalibrator c(l.channels);
    c.collect(x.data(), l);
    c.collect(x.data(), l);  // same batch twice: same result
    const auto r = c.compute();
    const auto amax = c.compute_amax();
    REQUIRE(r.size() == l.channels);
    for (std::size_t ch = 0; ch < l.channels; ++ch) {
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (std::size_t o = 0; o < l.outer; ++o)
        for (std::size_t i = 0; i < l.inner; ++i) {
          const float v = x[(o * l.channels + ch) * l.inner + i];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      CHECK(r[ch].min == lo);
      CHECK(r[ch].max == hi);
      CHECK(amax[ch] == std::max(-lo, hi));
    }
  }
}

TEST_CASE("per-channel MinMax: errors leave it unchanged; wrong channel count throws") {
  PerChannelMinMaxCalibrator c(2, NonFinitePolicy::kError, "w");
  const float x[] = {1.0f, 2.0f, 3.0f, 4.0f};
  c.collect(x, ChannelLayout{1, 2, 2});
  const float bad[] = {9.0f, 9.0f, std::numeric_limits<float>::infinity(), 9.0f};
  CHECK_THROWS_AS(c.collect(bad, ChannelLayout{1, 2, 2}), qmath::error);
  CHECK(c.compute()[0].max == 2.0f);
  CHECK(c.compute()[1].max == 4.0f);
  CHECK_THROWS_AS(c.collect(x, ChannelLayout{1, 4, 1}), qmath::error);
  PerChannelMinMaxCalibrator s(2, NonFinitePolicy::kSkip);
  s.collect(bad, ChannelLayout{1, 2, 2});
  CHECK(s.compute()[0].max == 9.0f);
  CHECK(s.compute()[1].min == 9.0f);
  PerChannelMinMaxCalibrator unseen(3);
  CHECK(unseen.compute_amax() == std::vector<float>{0.0f, 0.0f, 0.0f});
}

TEST_CASE("per-channel moving-average MinMax: the float32 rule per channel") {
  // layout [outer 2, channels 2, inner 2]; channel 0 = elements 0,1,4,5; channel 1 = 2,3,6,7
  const ChannelLayout l{2, 2, 2};
  const float b1[] = {0.0f, 1.0f, 5.0f, 6.0f, -1.0f, 0.5f, 4.0f, 7.0f};  // ch0 [-1, 1], ch1 [4, 7]
  const float b2[] = {-3.0f, 2.0f, 0.0f, 1.0f, 0.0f, 0.0f, 2.0f, 9.0f};  // ch0 [-3, 2], ch1 [0, 9]
  PerChannelMovingAverageMinMaxCalibrator c(2);
  c.collect(b1, l);
  CHECK(c.compute()[0].min == -1.0f);
  CHECK(c.compute()[0].max == 1.0f);
  CHECK(c.compute()[1].min == 4.0f);
  CHECK(c.compute()[1].max == 7.0f);
  c.collect(b2, l);
  CHECK(c.compute()[0].min == -1.0f + 0.01f * (-3.0f - -1.0f));
  CHECK(c.compute()[0].max == 1.0f + 0.01f * (2.0f - 1.0f));
  CHECK(c.compute()[1].min == 4.0f + 0.01f * (0.0f - 4.0f));
  CHECK(c.compute()[1].max == 7.0f + 0.01f * (9.0f - 7.0f));
  CHECK(c.compute_amax()[1] == c.compute()[1].max);
  // the per-tensor calibrator on one channel's values gives the same numbers
  MovingAverageMinMaxCalibrator t;
  const float c1a[] = {5.0f, 6.0f, 4.0f, 7.0f}, c1b[] = {0.0f, 1.0f, 2.0f, 9.0f};
  t.collect(c1a, 4);
  t.collect(c1b, 4);
  CHECK(t.compute().min == c.compute()[1].min);
  CHECK(t.compute().max == c.compute()[1].max);
  const float bad[] = {0.0f, 0.0f, 0.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f, 0.0f, 0.0f, 0.0f};
  CHECK_THROWS_AS(c.collect(bad, l), qmath::error);
  CHECK(c.compute()[1].max == t.compute().max);
  CHECK_THROWS_AS(c.collect(b1, ChannelLayout{1, 4, 2}), qmath::error);
  CHECK_THROWS_AS(PerChannelMovingAverageMinMaxCalibrator(2, 0.0f), qmath::error);
}

TEST_CASE("MinMax observers: compute_params with PyTorch's dtype, qscheme and reduce_range") {
  // [-1, 3] as in tests/qparams_test.cpp (values checked against torch 1.13's MinMaxObserver).
  const float x[4] = {0.5f, -1.0f, 3.0f, 2.0f};
  MinMaxCalibrator c;
  c.collect(x, 4);
  const QuantParams a = c.compute_params({TorchDtype::kQUInt8, TorchQScheme::kAffine, true});
  CHECK(a.scale == 4.0f / 127.0f);
  CHECK(a.zero_point == 32);
  const QuantParams s = c.compute_params({TorchDtype::kQInt8, TorchQScheme::kSymmetric, true});
  CHECK(s.scale == 3.0f / 63.5f);
  CHECK(s.zero_point == 0);
  MovingAverageMinMaxCalibrator m;
  m.collect(x, 4);
  CHECK(m.compute_params({TorchDtype::kQInt8, TorchQScheme::kAffine, true}).zero_point == -32);
  // Per channel: rows [-1, 3] and [0.5, 2] (layout 1 x 2 x 2).
  PerChannelMinMaxCalibrator pc(2);
  pc.collect(x, ChannelLayout{1, 2, 2});
  const std::vector<QuantParams> p = pc.compute_params({TorchDtype::kQInt8, TorchQScheme::kAffine, true});
  REQUIRE(p.size() == 2);
  CHECK(p[0].scale == 1.5f / 127.0f);  // channel 0 holds {0.5, -1}: [-1, 0.5]
  CHECK(p[1].scale == 3.0f / 127.0f);  // channel 1 holds {3, 2}: widened to [0, 3]
  CHECK(p[1].zero_point == -64);
  PerChannelMovingAverageMinMaxCalibrator pm(2);
  pm.collect(x, ChannelLayout{1, 2, 2});
  CHECK(pm.compute_params({TorchDtype::kQInt8, TorchQScheme::kSymmetric, true})[1].scale == 3.0f / 63.5f);
  // PyTorch refuses symmetric quint8 with reduce_range when the observer is built: so does the spec.
  CHECK_THROWS_WITH(c.compute_params({TorchDtype::kQUInt8, TorchQScheme::kSymmetric, true}),
                    Catch::Contains("cannot reduce range for symmetric quantization for quint8"));
}

// Tests for qmath/calibration/streaming.hpp: calibrate_stream equals the calibrators fed whole batches (per tensor
// and per channel, every histogram range mode), whatever the chunk size and batch split; non-finite policies; and
// the source contract - a batch whose shape or length differs from its declaration is an error naming the tensor and
// the batch, raised before the chunk reaches any statistic.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <qmath/calibration/streaming.hpp>

#include "test_data.hpp"

using namespace qmath;
using Catch::Matchers::Contains;

namespace {

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// The reference of the per-tensor results under kFixed / kPow2: MinMax, then a histogram fed whole batches.
struct Reference {
  CalibrationRange range{0, 0};
  Histogram hist;
  Reference(const std::vector<std::vector<float>>& batches, const CalibrationSettings& s) {
    MinMaxCalibrator mm(NonFinitePolicy::kSkip);
    for (const auto& b : batches) mm.collect(b.data(), b.size());
    range = mm.compute();
    HistogramOptions o;
    o.bins = s.bins;
    o.non_finite = NonFinitePolicy::kSkip;
    if (effective_histogram_range(s) == HistogramRangeMode::kFixed) {
      o.growth = RangeGrowth::kFixed;
      o.range_max = range.amax();
    } else if (effective_histogram_range(s) == HistogramRangeMode::kAppend) {
      o.growth = RangeGrowth::kAppendBins;  // whole batches: the first non-zero one fixes the width by itself
    }
    hist = Histogram(o);
    for (const auto& b : batches) hist.collect(b.data(), b.size());
  }
  float amax(CalibrationMethod m, const CalibrationSettings& s) const {
    return m == CalibrationMethod::kMax ? range.amax() : calibrate_amax(hist, m, calibration_options(s));
  }
};

// An InMemoryTensorSource over its own copy of the batches.
struct OwnedSource : InMemoryTensorSource {
  std::vector<std::vector<float>> data;
  OwnedSource(std::vector<std::vector<float>> batches, const std::vector<std::vector<std::int64_t>>& shapes)
      : data(std::move(batches)) {
    for (std::size_t i = 0; i < data.size(); ++i) add(data[i].data(), shapes[i]);
  }
};

// A source that declares one shape and then serves another (a file replaced between validation and reading), or
// yields more or fewer elements than it declares.
class LyingSource : public InMemoryTensorSource {
 public:
  std::vector<std::int64_t> declared;
  std::vector<std::int64_t> opened;  // what open_batch reports
  std::size_t extra = 0;             // elements appended to the data read()
  std::size_t missing = 0;           // elements dropped from the end
  std::size_t served = 0;
  std::vector<float> data;
  std::vector<std::int64_t> batch_shape(std::size_t) const override { return declared; }
  std::string batch_label(std::size_t) const override { return "dump.npy"; }
  std::vector<std::int64_t> open_batch(std::size_t) override {
    served = 0;
    return opened;
  }
  std::size_t read(float* dst, std::size_t max_count) override {
    const std::size_t total = data.size() + extra - missing;
    const std::size_t n = std::min(max_count, total - served);
    for (std::size_t i = 0; i < n; ++i) dst[i] = data[(served + i) % data.size()];
    served += n;
    return n;
  }
  std::size_t batch_count() const override { return 1; }
};

}  // namespace

TEST_CASE("per tensor: every method equals the calibrators fed whole batches, at any chunk size") {
  const std::vector<std::vector<float>> batches = {qmath_test::with_outliers(qmath_test::gaussian(3000, 1), 5),
                                                   qmath_test::laplace(1000, 2, 0.5f), qmath_test::gaussian(7, 3)};
  const std::vector<std::vector<std::int64_t>> shapes = {{30, 100}, {10, 10, 10}, {7}};
  for (HistogramRangeMode mode : {HistogramRangeMode::kFixed, HistogramRangeMode::kPow2, HistogramRangeMode::kAppend})
    for (CalibrationCompat compat : {CalibrationCompat::kTensorRT, CalibrationCompat::kPyTorchQuantization})
      for (bool is_signed : {true, false})
        for (std::size_t chunk : {std::size_t(1) << 20, std::size_t(7), std::size_t(1000)}) {
          CalibrationSettings s;
          s.methods = all_calibration_methods();
          s.histogram_range = mode;
          s.compat = compat;
          s.is_signed = is_signed;
          s.chunk_elements = chunk;
          s.bins = 512;
          INFO(to_string(mode) << " " << to_string(compat) << " signed " << is_signed << " chunk " << chunk);
          OwnedSource src(batches, shapes);
          const TensorCalibration t = calibrate_stream("x", src, s);
          const Reference ref(batches, s);
          CHECK(t.batches == 3);
          CHECK(t.elements == 4007);
          CHECK(t.binned == 4007);
          CHECK(t.first_shape == shapes[0]);
          CHECK(bits(t.min) == bits(ref.range.min));
          CHECK(bits(t.max) == bits(ref.range.max));
          CHECK(t.counts == ref.hist.counts());
          CHECK(bits(t.width) == bits(ref.hist.width()));
          REQUIRE(t.methods.size() == 4);
          for (const MethodCalibration& m : t.methods) {
            INFO(to_string(m.method));
            CHECK(!m.per_channel);
            REQUIRE(m.amax.size() == 1);
            CHECK(bits(m.amax[0]) == bits(ref.amax(m.method, s)));
            const QuantParams p = symmetric_params(m.amax[0], calibration_quant_range(s));
            CHECK(bits(m.params[0].scale) == bits(p.scale));
            CHECK(m.params[0].zero_point == p.zero_point);
          }
          CHECK(t.find(CalibrationMethod::kMax)->range[0].min == ref.range.min);
        }
}

TEST_CASE("kFixed and kPow2 do not depend on the batch split or order") {
  const std::vector<float> all = qmath_test::gaussian(2400, 9, 3.0f);
  const std::vector<std::vector<float>> one = {all};
  const std::vector<std::vector<float>> three = {std::vector<float>(all.begin() + 1600, all.end()),
                                                 std::vector<float>(all.begin(), all.begin() + 600),
                                                 std::vector<float>(all.begin() + 600, all.begin() + 1600)};
  for (HistogramRangeMode mode : {HistogramRangeMode::kFixed, HistogramRangeMode::kPow2}) {
    CalibrationSettings s;
    s.methods = all_calibration_methods();
    s.histogram_range = mode;
    OwnedSource a(one, {{2400}});
    OwnedSource b(three, {{800}, {600}, {1000}});
    const TensorCalibration ta = calibrate_stream("a", a, s), tb = calibrate_stream("b", b, s);
    CHECK(ta.counts == tb.counts);
    for (std::size_t i = 0; i < ta.methods.size(); ++i) CHECK(bits(ta.methods[i].amax[0]) == bits(tb.methods[i].amax[0]));
  }
}

TEST_CASE("per channel: minmax and percentile equal PerChannel*Calibrator on the whole tensor, any axis and chunk") {
  const std::vector<std::vector<float>> batches = {qmath_test::gaussian(3 * 4 * 5, 11, 2.0f),
                                                   qmath_test::gaussian(3 * 4 * 5, 12, 0.5f)};
  for (int axis : {0, 1, 2, -1})
    for (std::size_t chunk : {1, 3, 7, 1000}) {
      CalibrationSettings s;
      s.methods = all_calibration_methods();
      s.histogram_range = HistogramRangeMode::kPow2;
      s.per_channel_axis = axis;
      s.chunk_elements = chunk;
      INFO("axis " << axis << " chunk " << chunk);
      OwnedSource src(batches, {{3, 4, 5}, {3, 4, 5}});
      const TensorCalibration t = calibrate_stream("t", src, s);
      const ChannelLayout l = channel_layout({3, 4, 5}, axis);
      PerChannelMinMaxCalibrator mm(l.channels);
      PerChannelPercentileCalibrator pc(l.channels, 99.99);
      for (const auto& b : batches) {
        mm.collect(b.data(), l);
        pc.collect(b.data(), l);
      }
      CHECK(t.per_channel);
      CHECK(t.axis == (axis + 3) % 3);
      REQUIRE(t.channels == l.channels);
      const MethodCalibration& m = *t.find(CalibrationMethod::kMax);
      const MethodCalibration& p = *t.find(CalibrationMethod::kPercentile);
      REQUIRE(m.per_channel);
      REQUIRE(p.per_channel);
      const std::vector<float> mm_amax = mm.compute_amax(), pc_amax = pc.compute_amax();
      for (std::size_t c = 0; c < l.channels; ++c) {
        CHECK(bits(m.amax[c]) == bits(mm_amax[c]));
        CHECK(bits(p.amax[c]) == bits(pc_amax[c]));
      }
      CHECK(!t.find(CalibrationMethod::kMse)->per_channel);  // MSE and entropy stay per tensor
      CHECK(t.find(CalibrationMethod::kEntropy)->amax.size() == 1);
    }
}

TEST_CASE("per channel under kFixed: each channel's histogram covers [0, channel absmax]") {
  const std::vector<float> x = qmath_test::gaussian(4 * 50, 21);
  CalibrationSettings s;
  s.methods = {CalibrationMethod::kPercentile};
  s.per_channel_axis = 0;
  s.chunk_elements = 33;
  OwnedSource src({x}, {{4, 50}});
  const TensorCalibration t = calibrate_stream("t", src, s);
  for (std::size_t c = 0; c < 4; ++c) {
    MinMaxCalibrator mm;
    mm.collect(x.data() + 50 * c, 50);
    Histogram h(streaming_histogram_options(s, "c", mm.compute_amax()));
    h.collect(x.data() + 50 * c, 50);
    CHECK(bits(t.methods[0].amax[c]) == bits(percentile_amax(h, 99.99)));
  }
}

TEST_CASE("kAppend: the first non-zero batch fixes the width even when it arrives in chunks") {
  const std::vector<std::vector<float>> batches = {std::vector<float>(10, 0.0f), qmath_test::gaussian(500, 31),
                                                   qmath_test::gaussian(500, 32, 4.0f)};
  CalibrationSettings s;
  s.methods = {CalibrationMethod::kEntropy, CalibrationMethod::kPercentile};
  s.compat = CalibrationCompat::kPyTorchQuantization;  // implies kAppend
  s.bins = 256;                                         // (pytorch-quantization's entropy search is quadratic)
  REQUIRE(effective_histogram_range(s) == HistogramRangeMode::kAppend);
  Histogram whole(streaming_histogram_options(s, "t", 0.0f));
  for (const auto& b : batches) whole.collect(b.data(), b.size());
  for (std::size_t chunk : {1, 64, 100000}) {
    s.chunk_elements = chunk;
    OwnedSource src(batches, {{10}, {500}, {500}});
    const TensorCalibration t = calibrate_stream("t", src, s);
    CHECK(t.counts == whole.counts());
    CHECK(bits(t.width) == bits(whole.width()));
    CHECK(bits(t.methods[0].amax[0]) == bits(calibrate_amax(whole, CalibrationMethod::kEntropy, calibration_options(s))));
  }
}

TEST_CASE("on_chunk reports every element once per counted pass") {
  const std::vector<std::vector<float>> batches = {qmath_test::gaussian(100, 41), qmath_test::gaussian(50, 42)};
  for (HistogramRangeMode mode : {HistogramRangeMode::kFixed, HistogramRangeMode::kPow2, HistogramRangeMode::kAppend}) {
    CalibrationSettings s;
    s.histogram_range = mode;
    s.chunk_elements = 30;
    OwnedSource src(batches, {{100}, {50}});
    std::size_t seen[2] = {0, 0};
    calibrate_stream("t", src, s, [&](std::size_t b, std::size_t n) { seen[b] += n; });
    CHECK(seen[0] == 100u * static_cast<std::size_t>(reported_passes(s)));
    CHECK(seen[1] == 50u * static_cast<std::size_t>(reported_passes(s)));
  }
  CalibrationSettings minmax_only;
  minmax_only.methods = {CalibrationMethod::kMax};
  CHECK(reported_passes(minmax_only) == 1);
  minmax_only.keep_histogram = true;
  CHECK(reported_passes(minmax_only) == 2);
}

TEST_CASE("non-finite values: an error naming the tensor, the batch and the counts, or skipped and counted") {
  std::vector<float> bad = qmath_test::gaussian(100, 51);
  bad[3] = NAN;
  bad[5] = INFINITY;
  bad[7] = -INFINITY;
  bad[9] = NAN;
  const std::vector<std::vector<float>> batches = {qmath_test::gaussian(20, 52), bad};
  CalibrationSettings s;
  s.methods = all_calibration_methods();
  OwnedSource src(batches, {{20}, {100}});
  CHECK_THROWS_WITH(calibrate_stream("act", src, s),
                    Contains("tensor 'act': batch 1 contains 4 non-finite value(s) (2 NaN, 1 +inf, 1 -inf)"));
  s.non_finite = NonFinitePolicy::kSkip;
  const TensorCalibration t = calibrate_stream("act", src, s);
  CHECK(t.nan == 2);
  CHECK(t.posinf == 1);
  CHECK(t.neginf == 1);
  CHECK(t.elements == 120);
  CHECK(t.binned == 116);
  const std::vector<float> nothing = {NAN, INFINITY};
  OwnedSource none({nothing}, {{2}});
  CHECK_THROWS_WITH(calibrate_stream("z", none, s), Contains("tensor 'z': no finite values"));
}

TEST_CASE("a batch that differs from its declaration is an error naming the tensor and the batch") {
  LyingSource src;
  src.data = qmath_test::gaussian(12, 61);
  src.declared = {3, 4};
  CalibrationSettings s;
  s.methods = {CalibrationMethod::kMax, CalibrationMethod::kPercentile};
  s.per_channel_axis = 0;
  SECTION("a different shape when opened (the file was replaced): no read, no per-channel table overrun") {
    src.opened = {4, 3};
    CHECK_THROWS_WITH(calibrate_stream("act", src, s),
                      Contains("tensor 'act': dump.npy: shape (4, 3) differs from the declared (3, 4)"));
    CHECK(src.served == 0);
    src.opened = {3, 5};
    src.data = qmath_test::gaussian(15, 62);
    CHECK_THROWS_WITH(calibrate_stream("act", src, s), Contains("differs from the declared (3, 4)"));
  }
  SECTION("more elements than declared: rejected before the chunk is collected") {
    src.opened = {3, 4};
    src.extra = 5;
    s.chunk_elements = 8;
    CHECK_THROWS_WITH(calibrate_stream("act", src, s),
                      Contains("tensor 'act': dump.npy: yields more than the 12 elements of its declared shape (3, 4)"));
    CHECK(src.served == 16);  // the second chunk (elements 8..15) was read, then refused
  }
  SECTION("fewer elements than declared") {
    src.opened = {3, 4};
    src.missing = 2;
    CHECK_THROWS_WITH(calibrate_stream("act", src, s),
                      Contains("tensor 'act': dump.npy: yields 10 elements, its declared shape (3, 4) holds 12"));
  }
  SECTION("as declared: calibrates") {
    src.opened = {3, 4};
    CHECK(calibrate_stream("act", src, s).channels == 3);
  }
}

TEST_CASE("declared shapes are checked against the settings before any read") {
  const std::vector<float> a = qmath_test::gaussian(12, 71), b = qmath_test::gaussian(12, 72);
  CalibrationSettings s;
  s.methods = {CalibrationMethod::kMax};
  s.per_channel_axis = 2;
  OwnedSource rank2({a}, {{3, 4}});
  CHECK_THROWS_WITH(calibrate_stream("t", rank2, s),
                    Contains("tensor 't': batch 0: per-channel axis 2 is out of range for shape (3, 4)"));
  s.per_channel_axis = 0;
  OwnedSource channels({a, b}, {{3, 4}, {4, 3}});
  CHECK_THROWS_WITH(calibrate_stream("t", channels, s),
                    Contains("tensor 't': batch 1 has 4 channels along axis 0, but batch 0 has 3"));
  InMemoryTensorSource empty;
  CHECK_THROWS_WITH(calibrate_stream("t", empty, s), Contains("tensor 't': no batches"));
  OwnedSource negative({a}, {{-1, 4}});
  CHECK_THROWS_WITH(calibrate_stream("t", negative, s), Contains("negative dimension"));
}

TEST_CASE("settings are validated, naming the field") {
  const std::vector<float> x = qmath_test::gaussian(10, 81);
  OwnedSource src({x}, {{10}});
  CalibrationSettings s;
  s.bins = 2047;
  CHECK_THROWS_WITH(calibrate_stream("t", src, s), Contains("bins 2047 must be even"));
  s = {};
  s.percentile = 100.5;
  CHECK_THROWS_WITH(calibrate_stream("t", src, s), Contains("percentile 100.5 is outside [0, 100]"));
  s = {};
  s.methods = {};
  CHECK_THROWS_WITH(calibrate_stream("t", src, s), Contains("methods is empty"));
  s.methods = {CalibrationMethod::kMse, CalibrationMethod::kMse};
  CHECK_THROWS_WITH(calibrate_stream("t", src, s), Contains("method mse is listed twice"));
  s = {};
  s.chunk_elements = 0;
  CHECK_THROWS_WITH(calibrate_stream("t", src, s), Contains("chunk_elements is 0"));
}

TEST_CASE("state size: chunk buffer bounded by the largest batch, per-channel histograms only for percentile") {
  CalibrationSettings s;
  s.chunk_elements = std::size_t(1) << 30;
  CHECK(chunk_buffer_elements(s, 1000) == 1000);
  CHECK(chunk_buffer_elements(s, 0) == 1);
  s.chunk_elements = 64;
  CHECK(chunk_buffer_elements(s, 1000) == 64);
  s.per_channel_axis = 0;
  s.methods = {CalibrationMethod::kMax, CalibrationMethod::kEntropy, CalibrationMethod::kMse};
  s.keep_histogram = true;
  CHECK(!collects_channel_histograms(s));  // entropy and MSE stay per tensor
  const std::uint64_t without = calibrate_stream_state_bytes(s, 1000000, 1000000);
  CHECK(without < (std::uint64_t(1) << 28));
  s.methods.push_back(CalibrationMethod::kPercentile);
  CHECK(collects_channel_histograms(s));
  // 10^6 channels x 2048 bins x (counts + staging) x 8 bytes.
  CHECK(calibrate_stream_state_bytes(s, 1000000, 1000000) >= without + std::uint64_t(1000000) * 2048 * 16);
  s.per_channel_axis.reset();
  CHECK(!collects_channel_histograms(s));
}

TEST_CASE("per-channel minmax with keep_histogram gives the same result without per-channel histograms") {
  std::vector<float> x = {1.0f, -2.0f, 3.0f, -4.0f, 0.5f, 8.0f};
  InMemoryTensorSource src;
  src.add(x.data(), {3, 2});
  CalibrationSettings s;
  s.methods = {CalibrationMethod::kMax};
  s.per_channel_axis = 1;
  s.keep_histogram = true;
  s.chunk_elements = std::size_t(1) << 30;  // sized down to the batch, not allocated as asked
  const TensorCalibration t = calibrate_stream("t", src, s);
  REQUIRE(t.methods.size() == 1);
  CHECK(t.methods[0].amax == std::vector<float>{3.0f, 8.0f});
  CHECK(t.binned == 6);
  CHECK(t.absmax == 8.0f);
}

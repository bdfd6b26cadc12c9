// Tests for qmath/cuda/calibration.cuh: device range reductions and histograms against the host calibration code.
//   range / channel_range       vs the host batch statistics and PerChannelMinMaxCalibrator / channel_amax
//   accumulate_histogram        vs the normative host loop (fill_histogram_scalar) under every HistogramRange layout,
//                               privatised (shared-memory) and global-atomic paths
//   CalibrationWorkspace::collect vs Histogram::collect on the same batches: identical counts, totals, extremes,
//                               range growth and errors, for power-of-two, fixed and append-bins growth
// Data: lengths around the vector width at every misalignment, ties on bin edges, NaN, +-inf, +-0, subnormals,
// values beyond the range, fixed-seed random batches. Runs through the host execution layer in CI (including the
// adversarial serial schedules, under which a missing barrier reads stale shared memory) and unchanged on a GPU.
#include <qmath/cuda/calibration.cuh>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/qparams.hpp>

#include "../float_specials.hpp"
#include "test_support.hpp"

namespace {

using qmath_test::kInf;
using qmath_test::kNaN;
using qmath::ChannelLayout;
using qmath::Histogram;
using qmath::HistogramOptions;
using qmath::HistogramRange;
using qmath::cuda::CalibrationWorkspace;
using qmath::cuda::RangeStats;


using qmath_test::DeviceBuffer;

// Device memory holding a copy of a host vector at an element offset (to exercise misaligned starts).
class DeviceFloats {
 public:
  DeviceFloats(const std::vector<float>& v, std::size_t offset) : buffer_(shifted(v, offset)), offset_(offset) {}
  const float* data() const { return buffer_.get() + offset_; }

 private:
  static std::vector<float> shifted(const std::vector<float>& v, std::size_t offset) {
    std::vector<float> padded(offset, 0.0f);
    padded.insert(padded.end(), v.begin(), v.end());
    return padded;
  }
  DeviceBuffer<float> buffer_;
  std::size_t offset_;
};
using DeviceCounts = DeviceBuffer<unsigned long long>;

std::vector<std::uint64_t> as_u64(const std::vector<unsigned long long>& v) {
  return std::vector<std::uint64_t>(v.begin(), v.end());
}

// Independent host statistics: plain loops, written here rather than taken from the code under test.
RangeStats host_range(const float* x, std::size_t n) {
  RangeStats r{kInf, -kInf, 0, 0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (std::isnan(v)) {
      ++r.nan;
    } else if (std::isinf(v)) {
      (v > 0 ? r.pos_inf : r.neg_inf) += 1;
    } else {
      ++r.finite;
      r.min = std::fmin(r.min, v);
      r.max = std::fmax(r.max, v);
    }
  }
  return r;
}

void check_same_range(const RangeStats& got, const RangeStats& want) {
  CHECK(got.finite == want.finite);
  CHECK(got.nan == want.nan);
  CHECK(got.pos_inf == want.pos_inf);
  CHECK(got.neg_inf == want.neg_inf);
  CHECK(got.min == want.min);  // == : a zero extreme is +0 on the device (documented), either zero on the host
  CHECK(got.max == want.max);
  if (got.min != 0.0f) CHECK(std::signbit(got.min) == std::signbit(want.min));
  CHECK(got.amax() == (want.finite ? std::fmax(std::fabs(want.min), std::fabs(want.max)) : 0.0f));
}

// A batch with every awkward value: ties on power-of-two bin edges, +-0, subnormals, huge values, NaN / +-inf
// (when with_non_finite), plus normal random values.
std::vector<float> awkward_batch(std::size_t n, std::uint32_t seed, bool with_non_finite, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::min(),
                            scale * 0.5f,
                            -scale * 0.25f,
                            scale * 3.0f,
                            scale * 1.0009765625f,  // 1 + 2^-10: sits on a bin edge of many power-of-two widths
                            -scale * 7.75f};
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 13 == 5) {
      v[i] = specials[(i / 13) % (sizeof(specials) / sizeof(specials[0]))];
    } else if (with_non_finite && i % 29 == 3) {
      v[i] = (i / 29) % 3 == 0 ? kNaN : ((i / 29) % 3 == 1 ? kInf : -kInf);
    } else {
      v[i] = normal(rng);
    }
  }
  return v;
}

void check_same_histogram(const Histogram& got, const Histogram& want) {
  CHECK(got.counts() == want.counts());
  CHECK(got.total() == want.total());
  CHECK(got.nan_count() == want.nan_count());
  CHECK(got.posinf_count() == want.posinf_count());
  CHECK(got.neginf_count() == want.neginf_count());
  CHECK(got.bins() == want.bins());
  CHECK(got.width() == want.width());
  CHECK(got.exponent() == want.exponent());
  CHECK(got.range().inv_width == want.range().inv_width);
  CHECK(got.range().zero_bin == want.range().zero_bin);
  CHECK(got.range().shift == want.range().shift);
  CHECK(got.min() == want.min());
  CHECK(got.max() == want.max());
  CHECK(got.amax() == want.amax());
}

}  // namespace

TEST_CASE("cuda range: min / max / counts equal the host statistics at every length and offset", "[cuda][calibration]") {
  CalibrationWorkspace ws;
  const std::vector<float> pool = awkward_batch(700, 3, true);
  for (std::size_t n : {0, 1, 3, 4, 5, 8, 9, 17, 700}) {
    for (std::size_t off : {0, 1, 3}) {
      CAPTURE(n, off);
      const std::vector<float> x(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
      DeviceFloats d(x, off);
      check_same_range(ws.range(d.data(), n), host_range(x.data(), n));
    }
  }
}

TEST_CASE("cuda range: special batches", "[cuda][calibration]") {
  CalibrationWorkspace ws;
  const float big = std::numeric_limits<float>::max();
  const std::vector<std::vector<float>> batches = {
      {kNaN, kNaN, kInf},                           // no finite value: min +inf, max -inf, amax 0
      {-0.0f, -0.0f, -0.0f},                        // only -0: reported as +0 (== -0)
      {-0.0f, 0.0f, kNaN},                          //
      {big, -big, 1.0f, kInf, -kInf},               // extremes are finite, infinities are counted
      {std::numeric_limits<float>::denorm_min()},   // a subnormal is kept (no flush to zero)
      {-std::numeric_limits<float>::denorm_min(), -3.0f, -2.0f},
      {5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f},
  };
  for (std::size_t b = 0; b < batches.size(); ++b) {
    CAPTURE(b);
    DeviceFloats d(batches[b], 1);
    const RangeStats got = ws.range(d.data(), batches[b].size());
    check_same_range(got, host_range(batches[b].data(), batches[b].size()));
  }
  DeviceFloats d(batches[4], 0);
  CHECK(ws.range(d.data(), 1).max == std::numeric_limits<float>::denorm_min());
  CHECK(ws.range(d.data(), 0).empty());
}

TEST_CASE("cuda range: a long batch equals MinMaxCalibrator; batches accumulate in any order", "[cuda][calibration]") {
  const std::vector<float> x = awkward_batch(50001, 17, false, 2.5f);
  qmath::MinMaxCalibrator host;
  host.collect(x.data(), x.size());
  CalibrationWorkspace ws;
  DeviceFloats d(x, 2);
  const RangeStats got = ws.range(d.data(), x.size());
  CHECK(got.min == host.compute().min);
  CHECK(got.max == host.compute().max);
  CHECK(got.amax() == host.compute_amax());
  CHECK(got.finite == x.size());

  // The asynchronous building blocks: three uneven batches merged into one state, in two different orders.
  DeviceBuffer<qmath::cuda::DeviceRangeState> state(1);
  for (int order = 0; order < 2; ++order) {
    qmath::cuda::reset_range(state.get());
    const std::size_t cut[4] = {0, 7, 30011, x.size()};
    for (int k = 0; k < 3; ++k) {
      const int b = order == 0 ? k : 2 - k;
      qmath::cuda::accumulate_range(d.data() + cut[b], cut[b + 1] - cut[b], state.get());
    }
    const RangeStats merged = qmath::cuda::decode_range(state.download()[0]);
    CHECK(merged.min == got.min);
    CHECK(merged.max == got.max);
    CHECK(merged.finite == got.finite);
  }
}

TEST_CASE("cuda channel_range equals PerChannelMinMaxCalibrator and channel_amax", "[cuda][calibration]") {
  const ChannelLayout layout = GENERATE(ChannelLayout{1, 5, 1}, ChannelLayout{2, 3, 7}, ChannelLayout{3, 4, 300},
                                        ChannelLayout{4, 2, 1}, ChannelLayout{1, 1, 1000});
  CAPTURE(layout.outer, layout.channels, layout.inner);
  std::vector<float> x = awkward_batch(layout.size(), 5, false, 4.0f);
  // Make channels differ in scale so a mix-up of channels shows.
  for (std::size_t e = 0; e < x.size(); ++e) x[e] *= static_cast<float>(1 + (e / layout.inner) % layout.channels);
  qmath::PerChannelMinMaxCalibrator host(layout.channels);
  host.collect(x.data(), layout);
  const std::vector<qmath::CalibrationRange> want = host.compute();
  const std::vector<float> want_amax = qmath::channel_amax(x.data(), layout);
  CalibrationWorkspace ws;
  DeviceFloats d(x, 1);
  const std::vector<RangeStats> got = ws.channel_range(d.data(), layout);
  REQUIRE(got.size() == layout.channels);
  for (std::size_t c = 0; c < layout.channels; ++c) {
    CAPTURE(c);
    CHECK(got[c].min == want[c].min);
    CHECK(got[c].max == want[c].max);
    CHECK(got[c].amax() == want_amax[c]);
    CHECK(got[c].finite == layout.outer * layout.inner);
  }
  // Non-finite values are counted in their own channel.
  x[0] = kNaN;
  DeviceFloats d2(x, 0);
  const std::vector<RangeStats> got2 = ws.channel_range(d2.data(), layout);
  CHECK(got2[0].nan == 1);
  for (std::size_t c = 1; c < layout.channels; ++c) CHECK(got2[c].nan == 0);
}

TEST_CASE("cuda accumulate_histogram equals the host binning loop under every range layout", "[cuda][calibration]") {
  struct Layout {
    HistogramRange r;
    const char* what;
  };
  const Layout layouts[] = {
      {{8.0f, 0.0f, 2048, 0, true}, "absolute, width 1/8"},
      {{0.5f, 0.0f, 64, 32, false}, "signed even, width 2"},
      {{3.0f, 0.5f, 81, 40, false}, "signed odd (MXNet layout), width 1/3"},
      {{0.0f, 0.0f, 16, 0, true}, "zero width (only zeros seen so far)"},
      {{1024.0f, 0.0f, 20000, 0, true}, "20000 bins: the global-atomic path"},
      {{2.0f, 0.0f, 12288, 6144, false}, "12288 bins: the largest privatised histogram"},
  };
  const std::vector<float> x = awkward_batch(20011, 23, true, 3.0f);
  for (const Layout& l : layouts) {
    for (std::size_t off : {0, 3}) {
      CAPTURE(l.what, off);
      std::vector<std::uint64_t> want(static_cast<std::size_t>(l.r.bins), 0);
      qmath::detail::fill_histogram_scalar(x.data(), x.size(), l.r, true, want.data());
      DeviceFloats d(x, off);
      DeviceCounts counts(static_cast<std::size_t>(l.r.bins));
      qmath::cuda::accumulate_histogram(d.data(), x.size(), l.r, counts.get());
      const std::vector<std::uint64_t> got = as_u64(counts.download());
      CHECK(got == want);
      // The counters accumulate (they are not cleared by the call).
      qmath::cuda::accumulate_histogram(d.data(), 5, l.r, counts.get());
      std::vector<std::uint64_t> want2 = want;
      qmath::detail::fill_histogram_scalar(x.data(), 5, l.r, true, want2.data());
      CHECK(as_u64(counts.download()) == want2);
    }
  }
}

#if defined(QMATH_CUDA_HOST_SHIM)
TEST_CASE("cuda kernels under the adversarial serial schedules (a missing barrier reads stale shared memory)",
          "[cuda][calibration]") {
  using qmath::cuda::emu::Schedule;
  const Schedule schedule = GENERATE(Schedule::kSerialForward, Schedule::kSerialReverse);
  qmath::cuda::emu::ScopedSchedule scoped(schedule);
  const std::vector<float> x = awkward_batch(3001, 29, true, 1.5f);
  DeviceFloats d(x, 1);
  CalibrationWorkspace ws;
  check_same_range(ws.range(d.data(), x.size()), host_range(x.data(), x.size()));
  const HistogramRange r{4.0f, 0.0f, 40, 20, false};
  std::vector<std::uint64_t> want(40, 0);
  qmath::detail::fill_histogram_scalar(x.data(), x.size(), r, true, want.data());
  DeviceCounts counts(40);
  qmath::cuda::accumulate_histogram(d.data(), x.size(), r, counts.get());
  CHECK(as_u64(counts.download()) == want);
  const ChannelLayout layout{2, 3, 500};
  const std::vector<RangeStats> got = ws.channel_range(d.data(), layout);
  for (std::size_t c = 0; c < 3; ++c) {
    RangeStats want_c{kInf, -kInf, 0, 0, 0, 0};
    for (std::size_t o = 0; o < 2; ++o) {
      const RangeStats row = host_range(x.data() + (o * 3 + c) * 500, 500);
      want_c.min = std::fmin(want_c.min, row.min);
      want_c.max = std::fmax(want_c.max, row.max);
      want_c.finite += row.finite;
      want_c.nan += row.nan;
      want_c.pos_inf += row.pos_inf;
      want_c.neg_inf += row.neg_inf;
    }
    check_same_range(got[c], want_c);
  }
}
#endif  // QMATH_CUDA_HOST_SHIM

TEST_CASE("cuda CalibrationWorkspace::collect gives the same Histogram as Histogram::collect", "[cuda][calibration]") {
  struct Setup {
    HistogramOptions options;
    const char* what;
  };
  std::vector<Setup> setups;
  {
    HistogramOptions o;
    setups.push_back({o, "absolute, power-of-two growth (default)"});
    o.kind = qmath::HistogramKind::kSigned;
    o.bins = 128;
    setups.push_back({o, "signed, power-of-two growth"});
    o = qmath::fixed_range_options(6.0f, qmath::HistogramKind::kSigned, 8001);
    setups.push_back({o, "signed fixed range, 8001 bins (MXNet/TVM)"});
    o = qmath::fixed_range_options(5.0f);
    setups.push_back({o, "absolute fixed range, 2048 bins"});
    o = HistogramOptions{};
    o.growth = qmath::RangeGrowth::kAppendBins;
    setups.push_back({o, "append bins (pytorch-quantization)"});
  }
  for (Setup& s : setups) {
    s.options.non_finite = qmath::NonFinitePolicy::kSkip;
    CAPTURE(s.what);
    Histogram host(s.options), dev(s.options);
    CalibrationWorkspace ws;
    // Batches that grow the range several times; the first one holds only zeros; sizes are uneven.
    const std::vector<std::vector<float>> batches = {
        std::vector<float>(37, 0.0f), awkward_batch(1001, 41, true, 0.3f), awkward_batch(5003, 42, true, 1.0f),
        awkward_batch(2, 43, false, 0.1f), awkward_batch(7777, 44, true, 3.0f), {}, awkward_batch(3, 45, false, 9.0f)};
    std::size_t off = 0;
    for (const std::vector<float>& b : batches) {
      CAPTURE(b.size());
      host.collect(b.data(), b.size());
      DeviceFloats d(b, off++ % 4);
      ws.collect(dev, d.data(), b.size());
      check_same_histogram(dev, host);
    }
  }
}

TEST_CASE("cuda CalibrationWorkspace::collect: errors leave the histogram unchanged", "[cuda][calibration]") {
  HistogramOptions o;
  o.name = "conv1";
  Histogram h(o);
  CalibrationWorkspace ws;
  const std::vector<float> good = awkward_batch(500, 51, false);
  DeviceFloats dg(good, 0);
  ws.collect(h, dg.data(), good.size());
  const Histogram before = h;
  std::vector<float> bad = awkward_batch(500, 52, false, 100.0f);  // would grow the range
  bad[10] = kNaN;
  bad[20] = -kInf;
  DeviceFloats db(bad, 0);
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(ws.collect(h, db.data(), bad.size()),
                    Contains("conv1") && Contains("2 non-finite") && Contains("1 NaN") && Contains("1 -inf"));
  check_same_histogram(h, before);
  // The host collector throws the same message.
  Histogram host = before;
  CHECK_THROWS_WITH(host.collect(bad.data(), bad.size()), Contains("conv1") && Contains("2 non-finite"));
  CHECK_THROWS_WITH(ws.collect(h, nullptr, 3), Contains("null data pointer"));
  CHECK_THROWS_WITH(qmath::cuda::accumulate_histogram(dg.data(), 4, HistogramRange{1.0f, 0.0f, 0, 0, true}, nullptr),
                    Contains("bin count"));
  CHECK_THROWS_WITH(
      qmath::cuda::accumulate_histogram(dg.data(), 4, HistogramRange{std::nanf(""), 0.0f, 8, 0, true}, nullptr),
      Contains("inverse bin width"));
  CHECK_THROWS_WITH(qmath::cuda::accumulate_histogram(dg.data(), 4, HistogramRange{1.0f, 0.0f, 8, 0, true}, nullptr),
                    Contains("null counts"));
  CHECK_THROWS_WITH(qmath::cuda::accumulate_range(nullptr, 4, nullptr), Contains("null data"));
  const std::size_t big = std::size_t(1) << 40;
  CHECK_THROWS_WITH(ws.channel_range(dg.data(), ChannelLayout{big, big, 1}), Contains("overflows"));
  check_same_histogram(h, before);
}

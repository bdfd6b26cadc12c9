// Tests for qmath/calibration/histogram.hpp: counts exact against a naive reference, the SSE2 fill bit-exact with
// the scalar rule, independence from batch order / batch size / merge grouping under power-of-two growth,
// fixed and append (pytorch-quantization) growth, 64-bit counts past 2^24, NaN/Inf policies, all-zero data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <qmath/calibration/histogram.hpp>

#include "test_data.hpp"

using namespace qmath;

namespace {
// Naive reference for power-of-two growth, independent of the class: the smallest e with every |x| < bins * 2^e
// (absolute) or -bins/2 * 2^e <= x < bins/2 * 2^e (signed), then floor(x / 2^e) in long double.
std::vector<std::uint64_t> naive_pow2(const std::vector<float>& x, int bins, bool absolute, int* e_out) {
  long double lo = 0, hi = 0;
  for (float v : x) {
    const long double a = absolute ? std::fabs(static_cast<long double>(v)) : static_cast<long double>(v);
    lo = std::min(lo, a);
    hi = std::max(hi, a);
  }
  const int z = absolute ? 0 : bins / 2;
  int e = -126;
  while (!(std::floor(std::ldexp(hi, -e)) <= bins - 1 - z && std::floor(std::ldexp(lo, -e)) >= -z)) ++e;
  *e_out = e;
  std::vector<std::uint64_t> c(static_cast<std::size_t>(bins), 0);
  for (float v : x) {
    const long double a = absolute ? std::fabs(static_cast<long double>(v)) : static_cast<long double>(v);
    ++c[static_cast<std::size_t>(static_cast<std::int64_t>(std::floor(std::ldexp(a, -e))) + z)];
  }
  return c;
}
Histogram collect_in_batches(const std::vector<float>& x, std::size_t batch, HistogramOptions o = {}) {
  Histogram h(o);
  for (std::size_t i = 0; i < x.size(); i += batch) h.collect(x.data() + i, std::min(batch, x.size() - i));
  return h;
}
HistogramOptions signed_options(int bins = 2048) {
  HistogramOptions o;
  o.kind = HistogramKind::kSigned;
  o.bins = bins;
  return o;
}
}  // namespace

TEST_CASE("power-of-two histogram counts equal the naive reference") {
  const auto g = qmath_test::with_outliers(qmath_test::gaussian(50000, 1), 20);
  const auto l = qmath_test::laplace(30000, 2, 0.01f);
  const auto u = qmath_test::uniform(30000, 3, -1e6f, 3e6f);
  for (const auto* data : {&g, &l, &u}) {
    for (bool absolute : {true, false}) {
      HistogramOptions o = absolute ? HistogramOptions{} : signed_options();
      Histogram h(o);
      h.collect(data->data(), data->size());
      int e = 0;
      const auto ref = naive_pow2(*data, 2048, absolute, &e);
      CHECK(h.exponent() == e);
      CHECK(h.width() == std::ldexp(1.0f, e));
      CHECK(h.counts() == ref);
      CHECK(h.total() == data->size());
    }
  }
}

namespace {
// A fill kernel: its path (qmath/isa.hpp) and, for kScalar, the baseline vector loop (SSE2) or the portable one.
struct FillKernel {
  qmath::Isa isa;
  bool baseline_vector;
  const char* name;
};
// Every fill kernel this build and CPU can run (the portable one always), so each is checked against the rule.
std::vector<FillKernel> available_kernels() {
  std::vector<FillKernel> k{{qmath::Isa::kScalar, false, "portable"}};
#if defined(__SSE2__)
  k.push_back({qmath::Isa::kScalar, true, "sse2"});
#endif
  if (qmath::isa_available(qmath::Isa::kAvx512) &&
      (detail::kHistogramFillKernels & qmath::isa_bit(qmath::Isa::kAvx512)) != 0)
    k.push_back({qmath::Isa::kAvx512, true, "avx512"});
  if (qmath::isa_available(qmath::Isa::kNeon) &&
      (detail::kHistogramFillKernels & qmath::isa_bit(qmath::Isa::kNeon)) != 0)
    k.push_back({qmath::Isa::kNeon, true, "neon"});
  return k;
}
detail::FillStats fill_abs(const float* x, std::size_t n, HistogramRange r, std::uint64_t* counts, FillKernel k) {
  return detail::fill_histogram_abs(x, n, r, counts, k.isa, k.baseline_vector);
}
}  // namespace

TEST_CASE("the fill kernels of this machine are all among those tested") {
#if QMATH_CPU_AARCH64
  // Every AArch64 CPU runs the NEON kernel, and kAuto resolves to it.
  CHECK(available_kernels().back().isa == qmath::Isa::kNeon);
  CHECK(qmath::resolved_isa_for_histogram_fill() == qmath::Isa::kNeon);
#endif
  if (qmath::isa_available(qmath::Isa::kAvx512) &&
      (detail::kHistogramFillKernels & qmath::isa_bit(qmath::Isa::kAvx512)) != 0)
    CHECK(available_kernels().back().isa == qmath::Isa::kAvx512);
}

TEST_CASE("every fast fill kernel (absolute and signed) is bit-exact with the scalar rule") {
  const FillKernel kernel = GENERATE(from_range(available_kernels()));
  INFO("kernel " << kernel.name);
  std::vector<float> x = qmath_test::gaussian(100003, 5);
  // edges, just-below-edges, zeros, denormals, values beyond the range (clamped) in the mix
  const float w = 1.0f / 256.0f;
  for (int k = 0; k < 4096; ++k) {
    x.push_back(k * w);
    x.push_back(std::nextafter(k * w, 0.0f));
    x.push_back(-k * w);
  }
  x.push_back(std::numeric_limits<float>::denorm_min());
  x.push_back(-std::numeric_limits<float>::denorm_min());
  x.push_back(-1e-30f);  // underflows to -0 under the 2^120 width: bin zero_bin - 1
  x.push_back(-0.0f);
  x.push_back(1e30f);
  x.push_back(-1e30f);
  // lengths around the vector width and the AVX-512 pipeline (lag 4 groups of 16, ring of 8 slots)
  for (std::size_t n : {std::size_t(0), std::size_t(7), std::size_t(16), std::size_t(33), std::size_t(48),
                        std::size_t(63), std::size_t(64), std::size_t(65), std::size_t(80), std::size_t(130),
                        std::size_t(143), std::size_t(144), std::size_t(271), std::size_t(8200), std::size_t(8207),
                        x.size()}) {
    for (HistogramRange r : {HistogramRange{256.0f, 0.0f, 2048, 0, true}, HistogramRange{3.3f, 0.0f, 2048, 0, true},
                             HistogramRange{1e-3f, 0.0f, 2048, 0, true}, HistogramRange{256.0f, 0.0f, 2000, 0, true},
                             HistogramRange{256.0f, 0.0f, 2048, 1024, false}, HistogramRange{3.3f, 0.0f, 2048, 1024, false},
                             HistogramRange{std::ldexp(1.0f, -120), 0.0f, 2048, 1024, false},
                             HistogramRange{1024.0f, 0.0f, 64, 32, false}}) {
      std::vector<std::uint64_t> fast(static_cast<std::size_t>(r.bins), 0), slow = fast;
      const detail::FillStats st = fill_abs(x.data(), n, r, fast.data(), kernel);
      detail::fill_histogram_scalar(x.data(), n, r, false, slow.data());
      REQUIRE(fast == slow);
      const detail::BatchStats ref = detail::batch_stats_scalar(x.data(), n);
      CHECK_FALSE(st.non_finite);
      CHECK(st.min == ref.min);
      CHECK(st.max == ref.max);
    }
  }
}

TEST_CASE("batch_stats on every vector path equals the scalar pass, non-finite values anywhere") {
  // The vector passes (AVX-512: 64 values per step; SSE2: 8) against batch_stats_scalar, with the process cap at
  // each path of kBatchStatsKernels that this machine runs: lengths around both steps, and one NaN / +inf / -inf
  // placed in the vector part, in the tail, or nowhere.
  std::mt19937 rng(31);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> base(700);
  for (float& v : base) v = dist(rng);
  base[5] = 1e30f;
  base[400] = -1e30f;
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
  for (Isa cap : {Isa::kScalar, Isa::kAvx512}) {
    if (!isa_available(cap)) {
      WARN("batch_stats path " << isa_name(cap) << " not run: this machine has not got it");
      continue;
    }
    set_max_isa(cap);
    for (std::size_t n : {std::size_t(0), std::size_t(7), std::size_t(15), std::size_t(16), std::size_t(63),
                          std::size_t(64), std::size_t(65), std::size_t(127), std::size_t(128), std::size_t(200),
                          std::size_t(700)})
      for (int where = -1; where < 3; ++where)
        for (int si = 0; si < 3; ++si) {
          if ((where >= 0 && n == 0) || (where < 0 && si > 0)) continue;
          const float special = specials[si];
          std::vector<float> x(base.begin(), base.begin() + std::ptrdiff_t(n));
          // where: -1 none, 0 the first value, 1 the middle, 2 the last (in the tail of both passes for most n)
          if (where >= 0) x[where == 0 ? 0 : where == 1 ? n / 2 : n - 1] = special;
          INFO("cap " << isa_name(cap) << " n " << n << " special at " << where << " value " << special);
          const detail::BatchStats got = detail::batch_stats(x.data(), n);
          const detail::BatchStats want = detail::batch_stats_scalar(x.data(), n);
          CHECK(got.min == want.min);
          CHECK(got.max == want.max);
          CHECK(got.nan == want.nan);
          CHECK(got.posinf == want.posinf);
          CHECK(got.neginf == want.neginf);
        }
    reset_max_isa();
  }
}

TEST_CASE("fast fill kernels flush their 16-bit sub-histograms before they overflow") {
  // One bin receiving everything (the worst case for the sub-histograms), over several flush blocks (2 * 65535 - 7
  // values for SSE2, 4 * 65520 for AVX-512) plus a tail that is not a multiple of the vector width; then runs of
  // zeros with sparse other values (a post-ReLU tensor).
  const FillKernel kernel = GENERATE(from_range(available_kernels()));
  INFO("kernel " << kernel.name);
  const std::size_t n = 2 * 4 * 65520 + 2 * 65535 + 13;
  std::vector<float> x(n, 0.75f);
  for (HistogramRange r : {HistogramRange{256.0f, 0.0f, 2048, 0, true}, HistogramRange{256.0f, 0.0f, 2048, 1024, false}}) {
    std::vector<std::uint64_t> fast(2048, 0);
    fill_abs(x.data(), n, r, fast.data(), kernel);
    CHECK(fast[static_cast<std::size_t>(histogram_bin(0.75f, r))] == n);
  }
  std::vector<float> relu(n, 0.0f);
  for (std::size_t i = 0; i < n; i += 37) relu[i] = static_cast<float>(i % 1000) * 0.01f;
  const HistogramRange r{64.0f, 0.0f, 2048, 0, true};
  std::vector<std::uint64_t> fast(2048, 0), slow = fast;
  const detail::FillStats st = fill_abs(relu.data(), n, r, fast.data(), kernel);
  detail::fill_histogram_scalar(relu.data(), n, r, false, slow.data());
  CHECK(fast == slow);
  CHECK(st.min == 0.0f);
  CHECK(st.max == 9.99f);
}

TEST_CASE("the fused fill flags NaN and infinities wherever they are") {
  const FillKernel kernel = GENERATE(from_range(available_kernels()));
  INFO("kernel " << kernel.name);
  std::vector<float> x = qmath_test::gaussian(5000, 6);
  const HistogramRange r{256.0f, 0.0f, 2048, 0, true};
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()})
    for (std::size_t pos : {std::size_t(0), std::size_t(9), std::size_t(4999)}) {
      std::vector<float> y = x;
      y[pos] = bad;
      std::vector<std::uint64_t> c(2048, 0);
      CHECK(fill_abs(y.data(), y.size(), r, c.data(), kernel).non_finite);
    }
}

TEST_CASE("power-of-two counts do not depend on batch order, batch size or merge grouping") {
  std::vector<float> x = qmath_test::with_outliers(qmath_test::gaussian(40000, 9), 30);
  // widen the dynamic range so that the range grows many times
  for (std::size_t i = 0; i < x.size(); i += 97) x[i] *= 1e-5f;
  for (std::size_t i = 0; i < 10; ++i) x[i * 1000 + 1] = -250.0f - static_cast<float>(i);
  for (bool absolute : {true, false}) {
    const HistogramOptions o = absolute ? HistogramOptions{} : signed_options();
    const Histogram ref = collect_in_batches(x, x.size(), o);
    for (std::size_t batch : {std::size_t(1), std::size_t(7), std::size_t(1000), std::size_t(4096)}) {
      const Histogram h = collect_in_batches(x, batch, o);
      REQUIRE(h.counts() == ref.counts());
      REQUIRE(h.width() == ref.width());
    }
    // ascending order of magnitude: every batch grows the range
    std::vector<float> sorted = x;
    std::sort(sorted.begin(), sorted.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); });
    REQUIRE(collect_in_batches(sorted, 333, o).counts() == ref.counts());
    std::mt19937 g(3);
    for (int round = 0; round < 3; ++round) {
      std::vector<float> shuffled = x;
      std::shuffle(shuffled.begin(), shuffled.end(), g);
      REQUIRE(collect_in_batches(shuffled, 512, o).counts() == ref.counts());
      // merge of partial histograms in a tree, each part collected separately
      Histogram a = collect_in_batches(std::vector<float>(shuffled.begin(), shuffled.begin() + 100), 50, o);
      Histogram b = collect_in_batches(std::vector<float>(shuffled.begin() + 100, shuffled.begin() + 25000), 999, o);
      Histogram c = collect_in_batches(std::vector<float>(shuffled.begin() + 25000, shuffled.end()), 4000, o);
      Histogram bc = b;
      bc.merge(c);
      a.merge(bc);
      REQUIRE(a.counts() == ref.counts());
      REQUIRE(a.total() == ref.total());
      Histogram ca = c;  // the other way round
      ca.merge(collect_in_batches(std::vector<float>(shuffled.begin(), shuffled.begin() + 25000), 777, o));
      REQUIRE(ca.counts() == ref.counts());
    }
  }
}

TEST_CASE("64-bit counts stay exact beyond 2^24") {
  const std::vector<float> ones(std::size_t(1) << 20, 1.0f);
  Histogram h;
  for (int k = 0; k < 17; ++k) h.collect(ones.data(), ones.size());
  const std::uint64_t expect = std::uint64_t(17) << 20;  // 17.8M > 2^24 = 16.7M
  CHECK(h.total() == expect);
  std::uint64_t sum = 0, nonzero_bins = 0;
  for (std::uint64_t c : h.counts()) {
    sum += c;
    nonzero_bins += c != 0;
  }
  CHECK(sum == expect);
  CHECK(nonzero_bins == 1);
}

TEST_CASE("fixed range: two-pass histogram, end bins collect values beyond the range, any order") {
  auto x = qmath_test::gaussian(20000, 4);
  Histogram h(fixed_range_options(2.0f, HistogramKind::kAbsolute, 100));
  h.collect(x.data(), x.size());
  CHECK(h.width() == 2.0f / 100.0f);
  std::uint64_t beyond = 0;
  for (float v : x) beyond += std::fabs(v) * h.range().inv_width >= 99.0f;
  CHECK(h.counts()[99] == beyond);
  std::mt19937 g(1);
  std::shuffle(x.begin(), x.end(), g);
  CHECK(collect_in_batches(x, 123, fixed_range_options(2.0f, HistogramKind::kAbsolute, 100)).counts() == h.counts());
  // signed, odd: MXNet layout, bin 4000 centred on 0
  Histogram s(fixed_range_options(4.0f, HistogramKind::kSigned, 8001));
  CHECK(s.range().zero_bin == 4000);
  CHECK(s.range().shift == 0.5f);
  const float vals[] = {0.0f, -4.0f, 4.0f, 1e9f};
  s.collect(vals, 4);
  CHECK(s.counts()[4000] == 1);
  CHECK(s.counts()[0] == 1);
  CHECK(s.counts()[8000] == 2);
  CHECK(s.edge(0) == -4.0f);
  CHECK(s.edge(8001) == 4.0f);
  CHECK_THROWS_AS(Histogram(fixed_range_options(0.0f)), qmath::error);
  CHECK_THROWS_AS(Histogram(fixed_range_options(1e-36f)), qmath::error);  // width 1e-36 / 2048 is subnormal
  CHECK_NOTHROW(Histogram(fixed_range_options(2048 * std::numeric_limits<float>::min())));
  CHECK_THROWS_AS(Histogram(fixed_range_options(std::numeric_limits<float>::infinity())), qmath::error);
}

TEST_CASE("append growth (pytorch-quantization): width fixed by the first batch, bins appended") {
  HistogramOptions o;
  o.growth = RangeGrowth::kAppendBins;
  o.bins = 8;
  Histogram h(o);
  const float b1[] = {0.0f, 1.0f, 2.0f, 4.0f};  // width 4 / 8 = 0.5
  h.collect(b1, 4);
  CHECK(h.width() == 0.5f);
  CHECK(h.bins() == 8);
  CHECK(h.counts() == std::vector<std::uint64_t>{1, 0, 1, 0, 1, 0, 0, 1});  // 4.0 closes the last bin (histc)
  const float b2[] = {-6.2f, 0.3f};  // |x| = 6.2 > 4: ceil(6.2 / 0.5) = 13 bins
  h.collect(b2, 2);
  CHECK(h.bins() == 13);
  CHECK(h.counts() == std::vector<std::uint64_t>{2, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1});
  CHECK(h.edge(13) == 6.5f);
  // a width that is not dyadic: edges are float32(k * w) with the product in double, as torch.arange(0, end, w)
  // computes pytorch-quantization's edges after growth
  Histogram t(o);
  const float t1[] = {0.3f}, t2[] = {1.7f};
  t.collect(t1, 1);
  t.collect(t2, 1);
  const float w = 0.3f / 8.0f;
  CHECK(t.width() == w);
  CHECK(t.bins() == static_cast<int>(std::ceil(1.7f / w)));
  for (int k = 0; k <= t.bins(); ++k) REQUIRE(t.edge(k) == static_cast<float>(k * static_cast<double>(w)));
  // an all-zero first batch does not fix a zero width (pytorch-quantization divides by zero there)
  Histogram z(o);
  const float zeros[] = {0.0f, -0.0f, 0.0f};
  z.collect(zeros, 3);
  CHECK(z.width() == 0.0f);
  CHECK(z.counts()[0] == 3);
  z.collect(b1, 4);
  CHECK(z.width() == 0.5f);
  CHECK(z.counts()[0] == 4);
  // a first batch so small that max / bins would be subnormal: the width is clamped to FLT_MIN
  Histogram tiny(o);
  const float tv[] = {1e-40f};
  tiny.collect(tv, 1);
  CHECK(tiny.width() == std::numeric_limits<float>::min());
  CHECK(tiny.counts()[0] == 1);
  // the first batch's absmax known beforehand (range_max) fixes the width as that batch would, whatever pieces
  // the batch is then fed in
  HistogramOptions seeded = o;
  seeded.range_max = 4.0f;
  Histogram whole(o), pieces(seeded);
  whole.collect(b1, 4);
  whole.collect(b2, 2);
  for (const float v : {b1[0], b1[1], b1[2], b1[3], b2[0], b2[1]}) pieces.collect(&v, 1);
  CHECK(pieces.width() == whole.width());
  CHECK(pieces.counts() == whole.counts());
  Histogram unseeded_pieces(o);
  unseeded_pieces.collect(b1, 1);  // a zero: no width yet
  unseeded_pieces.collect(b1 + 1, 1);  // 1.0 alone would fix w = 1 / 8
  CHECK(unseeded_pieces.width() == 0.125f);
  HistogramOptions bad = o;
  bad.kind = HistogramKind::kSigned;
  CHECK_THROWS_AS(Histogram(bad), qmath::error);
  HistogramOptions bad_seed = o;
  bad_seed.range_max = -1.0f;
  CHECK_THROWS_AS(Histogram(bad_seed), qmath::error);
  bad_seed.range_max = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(Histogram(bad_seed), qmath::error);
}

TEST_CASE("NaN and infinity: kError names the tensor and the counts and changes nothing; kSkip counts them") {
  HistogramOptions o;
  o.name = "conv1_out";
  Histogram h(o);
  const float good[] = {1.0f, 2.0f};
  h.collect(good, 2);
  const auto before = h.counts();
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float bad[] = {100.0f, nan, inf, -inf, nan, 3.0f};
  try {
    h.collect(bad, 6);
    FAIL("no exception");
  } catch (const qmath::error& e) {
    const std::string m = e.what();
    CHECK(m.find("conv1_out") != std::string::npos);
    CHECK(m.find("4 non-finite") != std::string::npos);
    CHECK(m.find("2 NaN") != std::string::npos);
    CHECK(m.find("1 +inf") != std::string::npos);
    CHECK(m.find("1 -inf") != std::string::npos);
  }
  CHECK(h.counts() == before);
  CHECK(h.total() == 2);
  CHECK(h.max() == 2.0f);
  o.non_finite = NonFinitePolicy::kSkip;
  Histogram s(o);
  s.collect(bad, 6);
  CHECK(s.total() == 2);
  CHECK(s.nan_count() == 2);
  CHECK(s.posinf_count() == 1);
  CHECK(s.neginf_count() == 1);
  CHECK(s.amax() == 100.0f);
  // large batches take the vector statistics path: same policy
  std::vector<float> big(10000, 0.5f);
  big[7777] = nan;
  CHECK_THROWS_AS(h.collect(big.data(), big.size()), qmath::error);
  s.collect(big.data(), big.size());
  CHECK(s.total() == 2 + 9999);
  CHECK(s.nan_count() == 3);
}

TEST_CASE("all-zero batches: zero width, no division by zero, zeros kept in the zero bin") {
  for (bool absolute : {true, false}) {
    Histogram h(absolute ? HistogramOptions{} : signed_options());
    const std::vector<float> zeros(1000, 0.0f);
    h.collect(zeros.data(), zeros.size());
    CHECK(h.width() == 0.0f);
    CHECK_FALSE(h.has_range());
    CHECK(h.amax() == 0.0f);
    CHECK(h.counts()[static_cast<std::size_t>(h.range().zero_bin)] == 1000);
    const float v[] = {-0.0f, 3.0f, -2.0f};
    h.collect(v, 3);
    CHECK(h.has_range());
    CHECK(h.counts()[static_cast<std::size_t>(h.range().zero_bin)] == 1001);
    h.collect(nullptr, 0);  // empty batch: nothing happens
    CHECK(h.total() == 1003);
  }
  CHECK_THROWS_AS(Histogram().collect(nullptr, 3), qmath::error);
}

TEST_CASE("histogram options and merges are validated") {
  HistogramOptions odd;
  odd.bins = 2047;
  CHECK_THROWS_AS(Histogram(odd), qmath::error);
  HistogramOptions none;
  none.bins = 0;
  CHECK_THROWS_AS(Histogram(none), qmath::error);
  Histogram a, b(signed_options()), c(fixed_range_options(1.0f)), d(fixed_range_options(2.0f));
  CHECK_THROWS_AS(a.merge(b), qmath::error);
  CHECK_THROWS_AS(a.merge(c), qmath::error);
  CHECK_THROWS_AS(c.merge(d), qmath::error);
  // power-of-two: the largest finite value fits (e <= 127)
  Histogram big;
  const float m[] = {std::numeric_limits<float>::max()};
  big.collect(m, 1);
  CHECK(big.counts()[2047] == 1);
  CHECK(big.edge(2048) >= std::numeric_limits<float>::max());
}

// Tests for qmath/calibration/entropy.hpp: hand-derived KL searches for the TensorRT, pytorch-quantization and
// MXNet modes on tiny histograms (derivations in the comments), tie rules, the prefix-sum search against the
// direct definition, and thresholds on analytic distributions.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <qmath/calibration/entropy.hpp>
#include <qmath/calibration/minmax.hpp>

#include "test_data.hpp"

using namespace qmath;

namespace {
// KL(p || q) of unnormalised vectors, by the textbook formula.
double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (double v : p) sp += v;
  for (double v : q) sq += v;
  double d = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    if (p[j] == 0) continue;
    if (q[j] == 0) return std::numeric_limits<double>::infinity();
    d += p[j] / sp * std::log((p[j] / sp) / (q[j] / sq));
  }
  return d;
}
// A signed histogram of 2 * half + 1 bins centred on bin `half`: a Gaussian bump (peak count, width in bins) with
// bins emptied at random (probability hole_p).
std::vector<std::uint64_t> centred_histogram(std::mt19937& g, std::size_t half, double width, double peak,
                                             double hole_p) {
  std::vector<std::uint64_t> c(2 * half + 1, 0);
  std::bernoulli_distribution hole(hole_p);
  for (std::size_t k = 0; k < c.size(); ++k) {
    const double d = (static_cast<double>(k) - static_cast<double>(half)) / width;
    c[k] = hole(g) ? 0 : static_cast<std::uint64_t>(peak * std::exp(-0.5 * d * d));
  }
  return c;
}
EntropyOptions small(EntropyMode mode, int levels, int start) {
  EntropyOptions o;
  o.mode = mode;
  o.levels = levels;
  o.start_bin = start;
  return o;
}
}  // namespace

TEST_CASE("TensorRT mode, hand-derived: counts {4, 2, 0, 1}, 2 levels") {
  const std::uint64_t c[] = {4, 2, 0, 1};
  // i = 2: P = {4, 2 + 0 + 1}; levels floor(j * 2 / 2) = {0, 1}: Q = {4, 2}
  const double d2 = kl({4, 3}, {4, 2});
  // i = 3: P = {4, 2, 0 + 1}; levels {0, 0, 1}: level 1 = bin 2 is empty, Q = {3, 3, 0}: P[2] > 0 = Q[2] -> inf
  // i = 4: P = {4, 2, 0, 1}; levels {0, 0, 1, 1}: Q = {3, 3, 0, 1} (level 1's mass 1 on its one non-empty bin)
  const double d4 = kl({4, 2, 0, 1}, {3, 3, 0, 1});
  CHECK(d2 == Approx(0.019620080790526434));
  CHECK(d4 == Approx(0.048542581941542054));
  CHECK(entropy_divergence(c, 4, 2, 2) == Approx(d2).epsilon(1e-12));
  CHECK(std::isinf(entropy_divergence(c, 4, 3, 2)));
  CHECK(entropy_divergence(c, 4, 4, 2) == Approx(d4).epsilon(1e-12));
  const ThresholdSearch r = entropy_search(c, 4, small(EntropyMode::kTensorRT, 2, 2));
  CHECK(r.bin == 2);
  CHECK(r.score == Approx(d2).epsilon(1e-9));
}

TEST_CASE("pytorch-quantization mode, hand-derived: bins[0] = bins[1] on a copy, last minimum, edges[i]") {
  std::uint64_t c[] = {4, 2, 0, 1};
  // The copy is {2, 2, 0, 1}.
  // i = 2: P = {2, 3}, Q = {2, 2}: KL = 0.4 ln 0.8 + 0.6 ln 1.2 = 0.0201...
  // i = 3: levels {0, 0, 1}, bin 2 empty: Q = {2, 2, 0}, P = {2, 2, 1}: inf
  // i = 4: levels {0, 0, 1, 1}: Q = {2, 2, 0, 1} = P: KL = 0 -> wins
  const ThresholdSearch r = entropy_search(c, 4, small(EntropyMode::kPyTorchQuantization, 2, 2));
  CHECK(r.bin == 4);
  CHECK(r.score == 0.0);
  CHECK(c[0] == 4);  // the caller's counts are untouched
  // ties: {1, 1, 1, 1, 0, 0}: i = 4, 5, 6 all give Q = P exactly (KL 0); i = 2, 3 do not.
  //   i = 5: levels {0, 0, 0, 1, 1}: level 0 = {1, 1, 1}, level 1 = {1, 0} -> Q = {1, 1, 1, 1, 0} = P
  //   i = 6: levels {0, 0, 0, 1, 1, 1}: Q = {1, 1, 1, 1, 0, 0} = P
  const std::uint64_t t[] = {1, 1, 1, 1, 0, 0};
  CHECK(entropy_search(t, 6, small(EntropyMode::kPyTorchQuantization, 2, 2)).bin == 6);  // last minimum
  CHECK(entropy_search(t, 6, small(EntropyMode::kTensorRT, 2, 2)).bin == 4);             // first minimum
  // amax = edges[i] = i * width on a qmath histogram (width 1 here)
  Histogram h(fixed_range_options(6.0f, HistogramKind::kAbsolute, 6));
  const float v[] = {0.5f, 1.5f, 2.5f, 3.5f};
  h.collect(v, 4);
  CHECK(entropy_calibrate(h, small(EntropyMode::kPyTorchQuantization, 2, 2)).amax == 6.0f);
  CHECK(entropy_calibrate(h, small(EntropyMode::kTensorRT, 2, 2)).amax == 4.5f);  // (i + 0.5) * width
}

TEST_CASE("numpy pairwise summation order") {
  // 1e16 + 1 + ... : a sequential sum loses the ones, the pairwise tree keeps some of them
  std::vector<double> a(200, 1.0);
  a[0] = 1e16;
  double seq = 0;
  for (double v : a) seq += v;
  // by hand: n = 200 > 128 splits at 96 (200/2 = 100, minus 100 % 8): [0, 96) and [96, 200)
  //   [0, 96): 8 accumulators r[k] = a[k] + a[k+8] + ...: r[0] = 1e16 + 11 ones = 1e16 + 11 -> 1e16 + 12 (ties to
  //   even at 2-ulp spacing: each +1 is lost, so r[0] stays 1e16), r[1..7] = 12; sum = 1e16 + 84 exactly
  //   representable (spacing 2) -> 1e16 + 84; [96, 200): 104 ones. Total 1e16 + 84 + 104 = 1e16 + 188.
  CHECK(detail::numpy_sum(a.data(), a.size()) == 1e16 + 188);
  CHECK(seq == 1e16);
  const double few[] = {1, 2, 3};
  CHECK(detail::numpy_sum(few, 3) == 6);
}

TEST_CASE("MXNet mode, hand-derived: 7 signed bins centred on 0, 3 levels") {
  const std::uint64_t c[] = {1, 0, 2, 5, 2, 0, 1};  // zero bin 3
  const double e = 1e-4;
  // P folds every bin up to and including the slice's first into its first bin; Q sees the slice with its first
  // bin empty (MXNet / TVM assign that bin to P only).
  // i = 1: slice bins 2..4. P = {1 + 0 + 2, 5, 2 + 0 + 1} = {3, 5, 3}; Q's slice {0, 5, 2}, 3 groups of 1 bin:
  //   Q = {0, 5, 2} (group 0 has no non-empty slice bin). Smoothing: P has no zero; Q 1 zero, 2 non-zeros.
  const double d1 = kl({3, 5, 3}, {e, 5 - e / 2, 2 - e / 2});
  // i = 2: slice bins 1..5. P = {1 + 0, 2, 5, 2, 0 + 1} = {1, 2, 5, 2, 1}; Q's slice {0, 2, 5, 2, 0}; 5 / 3 = 1
  //   bin per group, the remainder to the last: groups {0}, {1}, {2, 3, 4} with sums 0, 2, 7 over 0, 1, 2 non-empty
  //   slice bins, spread on the non-zero P bins: Q = {0, 2, 3.5, 3.5, 3.5}. Smoothing: Q 1 zero, 4 non-zeros.
  const double d2 = kl({1, 2, 5, 2, 1}, {e, 2 - e / 4, 3.5 - e / 4, 3.5 - e / 4, 3.5 - e / 4});
  // i = 3: the whole histogram. P = {1, 0, 2, 5, 2, 0, 1}; Q's slice {0, 0, 2, 5, 2, 0, 1}; 7 / 3 = 2: groups
  //   {0, 1}, {2, 3}, {4, 5, 6} with sums 0, 7, 3 over 0, 2, 2 non-empty bins: Q = {0, 0, 3.5, 3.5, 1.5, 0, 1.5}.
  //   Smoothing: P 2 zeros, 5 non-zeros (shift 2e/5); Q 3 zeros, 4 non-zeros (shift 3e/4).
  const double f = e * 2 / 5, g = e * 3 / 4;
  const double d3 = kl({1 - f, e, 2 - f, 5 - f, 2 - f, e, 1 - f}, {e, e, 3.5 - g, 3.5 - g, 1.5 - g, e, 1.5 - g});
  std::vector<double> p, q;
  CHECK(detail::mxnet_divergence(c, 7, 3, 1, 3, e, p, q) == Approx(d1).epsilon(1e-12));
  CHECK(detail::mxnet_divergence(c, 7, 3, 2, 3, e, p, q) == Approx(d2).epsilon(1e-12));
  CHECK(detail::mxnet_divergence(c, 7, 3, 3, 3, e, p, q) == Approx(d3).epsilon(1e-12));
  EntropyOptions o = small(EntropyMode::kMxnet, 3, 1);
  const ThresholdSearch r = entropy_search(c, 7, o, 3);
  const double best = std::min(d1, std::min(d2, d3));
  const std::int64_t expect = best == d1 ? 1 : (best == d2 ? 2 : 3);
  CHECK(expect == 3);  // the narrow slices pay for the left outlier mass that Q never sees
  CHECK(r.bin == expect);
  CHECK(r.score == Approx(best).epsilon(1e-12));
  // threshold = right edge of bin z + i = (i + 0.5) * width on the centred layout
  Histogram h(fixed_range_options(3.5f, HistogramKind::kSigned, 7));
  const float v[] = {-3.0f, -1.0f, -1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 3.0f};
  h.collect(v, 11);
  REQUIRE(h.counts() == std::vector<std::uint64_t>(c, c + 7));
  CHECK(entropy_calibrate(h, o).amax == static_cast<float>(expect) + 0.5f);
  // The float32 evaluation: the same divergences to float precision, and the same choice.
  std::vector<float> head(7), pf, qf;
  float run = 0.0f;
  for (int k = 0; k < 7; ++k) head[static_cast<std::size_t>(k)] = run += static_cast<float>(c[k]);
  const double ref[] = {d1, d2, d3};
  for (std::size_t i = 1; i <= 3; ++i)
    CHECK(detail::mxnet_divergence_f32(c, head.data(), 7, 3, i, 3, 1e-4f, pf, qf) == Approx(ref[i - 1]).epsilon(1e-5));
  o.mxnet_float32 = true;
  CHECK(entropy_search(c, 7, o, 3).bin == expect);
}

namespace {
// MXNet / TVM's float32 KL evaluation written out as a literal transcription of their loop over all bins (the
// independent reference for detail::mxnet_divergence_f32, which shares the prefix sums between candidates).
float mxnet_literal_f32(const std::vector<std::uint64_t>& hist, int z, int i, int levels) {
  const int n = static_cast<int>(hist.size()), start = z - i, stop = z + i + 1, len = stop - start;
  std::vector<std::int64_t> sliced(static_cast<std::size_t>(len), 0);
  std::vector<float> p(static_cast<std::size_t>(len), 0.0f);
  for (int j = 0; j < n; ++j) {
    const float hj = static_cast<float>(hist[static_cast<std::size_t>(j)]);
    if (j <= start) {
      p[0] += hj;
    } else if (j >= stop) {
      p.back() += hj;
    } else {
      sliced[static_cast<std::size_t>(j - start)] = static_cast<std::int64_t>(hist[static_cast<std::size_t>(j)]);
      p[static_cast<std::size_t>(j - start)] = hj;
    }
  }
  const int merged = len / levels;
  std::vector<float> qbins(static_cast<std::size_t>(levels), 0.0f);
  for (int j = 0; j < levels; ++j) {
    std::int32_t acc = 0;
    for (int k = j * merged; k < (j + 1) * merged; ++k) acc += static_cast<std::int32_t>(sliced[static_cast<std::size_t>(k)]);
    qbins[static_cast<std::size_t>(j)] = static_cast<float>(acc);
  }
  std::int32_t rest = 0;
  for (int k = levels * merged; k < len; ++k) rest += static_cast<std::int32_t>(sliced[static_cast<std::size_t>(k)]);
  qbins.back() += static_cast<float>(rest);
  std::vector<float> q(static_cast<std::size_t>(len), 0.0f);
  for (int j = 0; j < levels; ++j) {
    const int s = j * merged, e = j == levels - 1 ? len : (j + 1) * merged;
    int norm = 0;
    for (int k = s; k < e; ++k) norm += sliced[static_cast<std::size_t>(k)] != 0;
    if (norm != 0)
      for (int k = s; k < e; ++k)
        if (p[static_cast<std::size_t>(k)] != 0.0f) q[static_cast<std::size_t>(k)] = qbins[static_cast<std::size_t>(j)] / static_cast<float>(norm);
  }
  auto smooth = [](std::vector<float>& v) {
    const float eps = 0.0001f;
    std::size_t zeros = 0;
    for (float x : v) zeros += x == 0.0f ? 1 : 0;
    const std::size_t nonzeros = v.size() - zeros;
    if (nonzeros == 0) return false;
    const float eps1 = eps * static_cast<float>(zeros) / static_cast<float>(nonzeros);
    if (eps1 >= 1.0) return false;
    for (float& x : v) x += eps * static_cast<float>(x == 0.0f) - eps1 * static_cast<float>(x != 0.0f);
    return true;
  };
  if (!smooth(p) || !smooth(q)) return std::numeric_limits<float>::infinity();
  float ps = 0.0f, qs = 0.0f;
  for (float x : p) ps += x;
  for (float x : q) qs += x;
  float r = 0.0f;
  for (std::size_t k = 0; k < p.size(); ++k) {
    const float a = p[k] / ps, b = q[k] / qs;
    if (a != 0.0f && b != 0.0f) r += a * std::log(a / b);
  }
  return r;
}
}  // namespace

TEST_CASE("MXNet mode in float32 equals a literal transcription of MXNet / TVM's loop, bit for bit") {
  std::mt19937 g(11);
  for (int round = 0; round < 4; ++round) {
    // counts up to ~3e7 per bin and far above 2^24 in total: the float sums round
    std::vector<std::uint64_t> c = centred_histogram(g, 260 + 131 * static_cast<std::size_t>(round), 25.0 + 15 * round,
                                                     round < 2 ? 3e4 : 3e7, round % 2 ? 0.4 : 0.03);
    const std::size_t n = c.size(), z = n / 2;
    c[0] = 5;
    if (round == 3) c[n - 1] = 2;
    std::vector<float> head(n), p, q;
    float run = 0.0f;
    for (std::size_t k = 0; k < n; ++k) head[k] = run += static_cast<float>(c[k]);
    for (std::size_t i = 127; i <= z; i += 5) {
      const float want = mxnet_literal_f32(c, static_cast<int>(z), static_cast<int>(i), 255);
      const float got = detail::mxnet_divergence_f32(c.data(), head.data(), n, z, i, 255, 1e-4f, p, q);
      REQUIRE(std::memcmp(&want, &got, sizeof got) == 0);
    }
    // and the float32 search returns the literal argmin (MXNet's rule: strictly smaller, first wins)
    EntropyOptions o;
    o.mode = EntropyMode::kMxnet;
    o.mxnet_float32 = true;
    std::int64_t best = 127;
    float best_d = std::numeric_limits<float>::max();
    for (std::size_t i = 127; i <= z; ++i) {
      const float d = mxnet_literal_f32(c, static_cast<int>(z), static_cast<int>(i), 255);
      if (d < best_d) {
        best_d = d;
        best = static_cast<std::int64_t>(i);
      }
    }
    CHECK(entropy_search(c.data(), n, o, z).bin == best);
  }
}

TEST_CASE("the prefix-sum TensorRT search equals the direct definition") {
  std::mt19937 g(42);
  for (int round = 0; round < 12; ++round) {
    const std::size_t n = 256 + 64 * static_cast<std::size_t>(round % 4);
    std::vector<std::uint64_t> c(n);
    std::geometric_distribution<int> geo(0.01 + 0.02 * round);
    std::bernoulli_distribution hole(round % 3 == 0 ? 0.3 : 0.02);
    for (std::size_t k = 0; k < n; ++k)
      c[k] = hole(g) ? 0 : static_cast<std::uint64_t>(std::exp(-static_cast<double>(k) / (40.0 + 10 * round)) * 1e6) +
                               static_cast<std::uint64_t>(geo(g));
    for (int stride : {1, 3}) {
      EntropyOptions o;
      o.stride = stride;
      o.start_bin = round % 2 ? 128 : 1;  // candidates below L: levels of 0 or 1 bins, empty trailing levels
      o.levels = round % 3 == 2 ? 100 : 128;  // a level count that is not a power of two takes the division path
      const ThresholdSearch r = entropy_search(c.data(), n, o);
      double best = std::numeric_limits<double>::infinity();
      for (std::size_t i = static_cast<std::size_t>(o.start_bin); i <= n; i += static_cast<std::size_t>(stride))
        best = std::min(best, entropy_divergence(c.data(), n, i, o.levels));
      REQUIRE(r.score ==
              Approx(entropy_divergence(c.data(), n, static_cast<std::size_t>(r.bin), o.levels)).epsilon(1e-9).margin(1e-12));
      REQUIRE(r.score <= best * (1 + 1e-9) + 1e-12);
    }
  }
}

TEST_CASE("the O(L) MXNet-mode evaluation equals the direct definition") {
  std::mt19937 g(5);
  for (int round = 0; round < 6; ++round) {
    std::vector<std::uint64_t> c = centred_histogram(g, 300 + 97 * static_cast<std::size_t>(round), 30.0 + 20 * round,
                                                     2e5, round % 2 ? 0.5 : 0.05);
    const std::size_t n = c.size(), z = n / 2;
    if (round >= 3) c[0] = 7;  // a far outlier: the first slices fold it into an otherwise empty end group
    if (round == 5) c[n - 1] = 3;
    detail::MxnetSearch fast(c.data(), n, 255, 1e-4);
    std::vector<double> p, q;
    for (std::size_t i = 127; i <= z; i += 7) {
      const double ref = detail::mxnet_divergence(c.data(), n, z, i, 255, 1e-4, p, q);
      const double got = fast.divergence(z, i);
      if (std::isinf(ref)) {
        REQUIRE(std::isinf(got));
      } else {
        REQUIRE(got == Approx(ref).epsilon(1e-9).margin(1e-13));
      }
    }
  }
}

TEST_CASE("MXNet mode on small sparse histograms: O(L), direct and float32 evaluations agree for every candidate") {
  // Few bins, few levels (including slices narrower than the level count, where only the last group has bins),
  // sparse counts, empty centres and outlier-only ends: the corner cases of the group bookkeeping.
  std::mt19937 g(23);
  std::uniform_int_distribution<int> count(0, 6);
  std::bernoulli_distribution empty(0.45);
  for (int round = 0; round < 300; ++round) {
    const std::size_t half = 1 + static_cast<std::size_t>(round % 9), n = 2 * half + 1;
    const std::int64_t L = 1 + round % 7;
    std::vector<std::uint64_t> c(n);
    for (auto& v : c) v = empty(g) ? 0 : static_cast<std::uint64_t>(count(g));
    if (round % 5 == 0) c[half] = 0;
    std::uint64_t total = 0;
    for (auto v : c) total += v;
    if (total == 0) c[0] = 1;
    detail::MxnetSearch fast(c.data(), n, L, 1e-4);
    std::vector<double> p, q;
    std::vector<float> head(n), pf, qf;
    float run = 0.0f;
    for (std::size_t k = 0; k < n; ++k) head[k] = run += static_cast<float>(c[k]);
    for (std::size_t i = 1; i <= half; ++i) {
      const double ref = detail::mxnet_divergence(c.data(), n, half, i, L, 1e-4, p, q);
      const double got = fast.divergence(half, i);
      const float f32 = detail::mxnet_divergence_f32(c.data(), head.data(), n, half, i, L, 1e-4f, pf, qf);
      const float lit = mxnet_literal_f32(c, static_cast<int>(half), static_cast<int>(i), static_cast<int>(L));
      INFO("round " << round << " L " << L << " i " << i);
      REQUIRE(std::memcmp(&f32, &lit, sizeof f32) == 0);
      if (std::isinf(ref)) {
        REQUIRE(std::isinf(got));
        REQUIRE(std::isinf(f32));
      } else {
        REQUIRE(got == Approx(ref).epsilon(1e-9).margin(1e-12));
        REQUIRE(static_cast<double>(f32) == Approx(ref).epsilon(1e-4).margin(1e-6));
      }
    }
  }
}

TEST_CASE("entropy thresholds on analytic distributions (TensorRT mode)") {
  auto amax_of = [](const std::vector<float>& x, EntropyOptions o = {}) {
    EntropyCalibrator c(o);
    c.collect(x.data(), x.size());
    return c.compute_amax();
  };
  // uniform: nothing to clip, the threshold is the top of the range
  CHECK(amax_of(qmath_test::uniform(1000000, 1, -1.0f, 1.0f)) > 0.98f);
  // Gaussian: about 4.6 sigma for 10^6 samples (pytorch-quantization / MXNet give 4.6 / 4.58 on such data)
  const float g = amax_of(qmath_test::gaussian(1000000, 2));
  CHECK(g > 4.0f);
  CHECK(g < 5.0f);
  // Laplace(0, 1): heavier tail, clipped well below the max (~14 for 10^6 samples)
  const float l = amax_of(qmath_test::laplace(1000000, 3));
  CHECK(l > 8.0f);
  CHECK(l < 13.0f);
  // 50 outliers up to 18.3 are ignored: the threshold stays near the outlier-free one
  const float o = amax_of(qmath_test::with_outliers(qmath_test::gaussian(1000000, 2), 50));
  CHECK(std::fabs(o - g) < 0.3f);
  // ReLU'd Gaussian, unsigned (256 levels) with bins[0] = bins[1]: like the Gaussian's upper tail
  EntropyOptions u;
  u.is_unsigned = true;
  u.flatten_first_bin = true;
  const float r = amax_of(qmath_test::relu(qmath_test::gaussian(1000000, 4)), u);
  CHECK(r > 3.5f);
  CHECK(r < 4.7f);
  // pytorch-quantization mode on the same Gaussian: within a few bins of TensorRT mode
  EntropyOptions p;
  p.mode = EntropyMode::kPyTorchQuantization;
  CHECK(std::fabs(amax_of(qmath_test::gaussian(1000000, 2), p) - g) < 0.05f);
}

TEST_CASE("two-pass TensorRT reproduction: the entropy / minmax amax ratio of real caches, 2048.5 / 2048") {
  // When nothing is worth clipping (uniform data) the search keeps every bin, i = 2048, and on a histogram fitted
  // to the max (TensorRT's first batch; qmath's kFixed from a MinMax pass) amax = 2048.5 * max / 2048.
  const auto x = qmath_test::uniform(1000000, 21, -1.0f, 1.0f);
  MinMaxCalibrator mm;
  mm.collect(x.data(), x.size());
  const float max = mm.compute_amax();
  EntropyCalibrator c(EntropyOptions{}, fixed_range_options(max));
  c.collect(x.data(), x.size());
  const ThresholdSearch r = entropy_calibrate(c.histogram());
  CHECK(r.bin == 2048);
  CHECK(r.amax == static_cast<float>(2048.5 * static_cast<double>(max / 2048.0f)));
  CHECK(r.amax / max == Approx(2048.5 / 2048).epsilon(1e-6));
}

TEST_CASE("MXNet mode on a Gaussian with outliers, 8001 signed bins from a MinMax first pass") {
  const auto x = qmath_test::with_outliers(qmath_test::gaussian(200000, 5), 20);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  HistogramOptions ho = fixed_range_options(amax, HistogramKind::kSigned, 8001);
  EntropyOptions o;
  o.mode = EntropyMode::kMxnet;
  EntropyCalibrator c(o, ho);
  c.collect(x.data(), x.size());
  CHECK(c.compute_amax() > 3.5f);
  CHECK(c.compute_amax() < 5.5f);
}

TEST_CASE("entropy: empty histograms, too few bins, wrong kinds, bad options") {
  CHECK(entropy_amax(Histogram()) == 0.0f);
  Histogram few(fixed_range_options(1.0f, HistogramKind::kAbsolute, 64));  // fewer bins than the 128 levels
  const float v[] = {0.2f, 0.9f};
  few.collect(v, 2);
  CHECK(entropy_calibrate(few).bin == 64);
  CHECK_THROWS_AS(entropy_calibrate(Histogram(fixed_range_options(1.0f, HistogramKind::kSigned))), qmath::error);
  EntropyOptions mx;
  mx.mode = EntropyMode::kMxnet;
  CHECK_THROWS_AS(entropy_calibrate(few, mx), qmath::error);
  EntropyOptions bad;
  bad.stride = 0;
  CHECK_THROWS_AS(EntropyCalibrator(bad), qmath::error);
  // all mass in the last bin: i < 256 keeps no mass (S = 0, KL infinite); only i = 256 is finite (KL 0)
  std::vector<std::uint64_t> tail(256, 0);
  tail[255] = 10;
  const ThresholdSearch r = entropy_search(tail.data(), 256);
  CHECK(r.bin == 256);
  CHECK(r.score == 0.0);
}

namespace {
// Random histograms of the shapes that stress the pytorch-quantization search: dense Gaussians with outliers,
// sparse ones (few non-empty bins, so many candidates tie at KL = 0), holes, and all-zero prefixes.
std::vector<std::uint64_t> random_abs_histogram(std::mt19937& g, std::size_t n) {
  std::vector<std::uint64_t> c(n, 0);
  const int shape = std::uniform_int_distribution<int>(0, 4)(g);
  const double sigma = std::uniform_real_distribution<double>(0.02, 0.6)(g) * static_cast<double>(n);
  const double peak = std::pow(10.0, std::uniform_real_distribution<double>(0.0, 6.0)(g));
  std::bernoulli_distribution hole(shape == 1 ? 0.95 : (shape == 2 ? 0.3 : 0.0));
  const std::size_t skip = shape == 3 ? std::uniform_int_distribution<std::size_t>(0, n)(g) : 0;
  for (std::size_t k = skip; k < n; ++k) {
    const double d = static_cast<double>(k) / sigma;
    if (!hole(g)) c[k] = static_cast<std::uint64_t>(peak * std::exp(-0.5 * d * d));
  }
  if (shape == 4) c.assign(n, 0), c[std::uniform_int_distribution<std::size_t>(0, n - 1)(g)] = 7;  // one bin
  if (shape != 4 && n > 4) c[n - 1 - std::uniform_int_distribution<std::size_t>(0, 3)(g)] += 1;  // an outlier
  return c;
}
}  // namespace

TEST_CASE("numpy pairwise summation over the non-zero entries equals the dense summation") {
  std::mt19937 g(11);
  std::vector<double> scratch;
  for (int t = 0; t < 300; ++t) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, 3000)(g);
    const double density = std::uniform_real_distribution<double>(0.0, 1.0)(g);
    std::vector<double> dense(n, 0.0), val;
    std::vector<std::size_t> pos;
    for (std::size_t k = 0; k < n; ++k)
      if (std::bernoulli_distribution(density)(g)) {
        dense[k] = std::uniform_real_distribution<double>(-1.0, 1.0)(g) * std::pow(2.0, static_cast<int>(k % 40));
        pos.push_back(k);
        val.push_back(dense[k]);
      }
    CHECK(detail::numpy_pairwise_sparse(pos.data(), val.data(), pos.size(), 0, n, scratch) ==
          detail::numpy_pairwise(dense.data(), n));
  }
}

TEST_CASE("pytorch-quantization search: the same index and divergence as the direct O(bins^2) transcription") {
  std::mt19937 g(2024);
  for (int t = 0; t < 400; ++t) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(1, t < 350 ? 700 : 2100)(g);
    const std::vector<std::uint64_t> c = random_abs_histogram(g, n);
    const std::int64_t L = t % 3 == 0 ? 128 : std::uniform_int_distribution<std::int64_t>(1, 300)(g);
    const std::size_t start = std::uniform_int_distribution<std::size_t>(1, 200)(g);
    const std::size_t stride = t % 4 == 0 ? std::uniform_int_distribution<std::size_t>(1, 9)(g) : 1;
    if (start > n) continue;
    const ThresholdSearch fast = detail::pytorch_search(c.data(), n, L, start, stride);
    const ThresholdSearch ref = detail::pytorch_search_reference(c.data(), n, L, start, stride);
    INFO("t=" << t << " n=" << n << " L=" << L << " start=" << start << " stride=" << stride);
    CHECK(fast.bin == ref.bin);
    CHECK((fast.score == ref.score || (std::isnan(fast.score) && std::isnan(ref.score))));
  }
}

TEST_CASE("entropy search memory and time are O(bins): 2^20-bin histograms (the memo used to be bins^2 / 128)") {
  // 2^20 bins: the former (bins / 128 + 2) x (bins + 1) memo was 68 GB (std::bad_alloc). A Gaussian over the first
  // 2^14 bins plus far outliers.
  const std::size_t n = std::size_t(1) << 20;
  std::vector<std::uint64_t> c(n, 0);
  for (std::size_t k = 0; k < (std::size_t(1) << 14); ++k) {
    const double d = static_cast<double>(k) / 3000.0;
    c[k] = static_cast<std::uint64_t>(1e5 * std::exp(-0.5 * d * d));
  }
  c[n - 3] = 2;
  const ThresholdSearch r = entropy_search(c.data(), n);
  CHECK(r.bin >= 128);
  CHECK(r.bin < static_cast<std::int64_t>(n));
  CHECK(std::isfinite(r.score));
  // The winner's divergence is the direct definition's, within the search's own error bound.
  detail::KlPrefixSearch search(c.data(), n, 128);
  double bound = 0.0;
  CHECK(search.divergence(static_cast<std::size_t>(r.bin), &bound) == r.score);
  const double direct = entropy_divergence(c.data(), n, static_cast<std::size_t>(r.bin), 128);
  INFO("direct " << direct << " bound " << bound);
  CHECK(std::fabs(r.score - direct) <= bound);
}

TEST_CASE("pytorch-quantization mode on 2^16 bins is sub-quadratic (was 29 s) and matches the direct search") {
  std::mt19937 g(5);
  const std::size_t n = std::size_t(1) << 16;
  std::vector<std::uint64_t> c(n, 0);
  std::normal_distribution<double> d(0.0, 6000.0);
  for (int k = 0; k < 200000; ++k) {
    const double x = std::fabs(d(g));
    if (x < static_cast<double>(n)) ++c[static_cast<std::size_t>(x)];
  }
  EntropyOptions o;
  o.mode = EntropyMode::kPyTorchQuantization;
  const ThresholdSearch r = entropy_search(c.data(), n, o);
  // The direct search over a window of candidates around the winner: none beats it.
  std::vector<std::int64_t> bins(c.begin(), c.end());
  bins[0] = bins[1];
  std::vector<double> ls, q, terms;
  std::vector<std::int64_t> lc;
  const double best = detail::pytorch_divergence(bins, static_cast<std::size_t>(r.bin), 128, ls, lc, q, terms);
  CHECK(best == r.score);
  for (std::int64_t i = r.bin - 20; i <= r.bin + 20; ++i) {
    const double di = detail::pytorch_divergence(bins, static_cast<std::size_t>(i), 128, ls, lc, q, terms);
    if (i > r.bin) CHECK(di > best);
    else CHECK(di >= best);
  }
}

TEST_CASE("entropy options: levels beyond 65536 are refused before the search") {
  std::vector<std::uint64_t> c(10, 1);
  EntropyOptions o;
  o.levels = 1 << 20;
  CHECK_THROWS_WITH(entropy_search(c.data(), c.size(), o), Catch::Contains("levels must be <= 65536"));
}

namespace {
// Finite data reaching FLT_MAX: the histogram's top bins extend past FLT_MAX.
Histogram near_flt_max(RangeGrowth growth) {
  HistogramOptions o;
  o.growth = growth;
  o.name = "huge";
  Histogram h(o);
  std::vector<float> x;
  for (int k = 0; k < 5000; ++k) x.push_back(3.0e38f * (static_cast<float>(k % 100) / 100.0f));
  x.push_back(std::numeric_limits<float>::max());
  x.push_back(-3.4e38f);
  h.collect(x.data(), x.size());
  return h;
}
}  // namespace

TEST_CASE("finite data near FLT_MAX give a finite entropy threshold in every mode and range growth") {
  for (RangeGrowth growth : {RangeGrowth::kPowerOfTwo, RangeGrowth::kAppendBins}) {
    const Histogram h = near_flt_max(growth);
    for (EntropyMode mode : {EntropyMode::kTensorRT, EntropyMode::kPyTorchQuantization}) {
      EntropyOptions o;
      o.mode = mode;
      const float a = entropy_amax(h, o);
      INFO("growth " << static_cast<int>(growth) << " mode " << static_cast<int>(mode) << " amax " << a);
      CHECK(std::isfinite(a));
      CHECK(a > 0.0f);
      CHECK(a <= h.amax());
    }
  }
}

TEST_CASE("entropy: degenerate histograms give score 0 in every mode (no mass: nothing diverges)") {
  const std::vector<std::uint64_t> zeros(300, 0);
  for (EntropyMode mode : {EntropyMode::kTensorRT, EntropyMode::kPyTorchQuantization, EntropyMode::kMxnet}) {
    EntropyOptions o;
    o.mode = mode;
    const ThresholdSearch r = entropy_search(zeros.data(), zeros.size(), o, 150);
    INFO("mode " << static_cast<int>(mode));
    CHECK(r.score == 0.0);
    o.mxnet_float32 = true;
    if (mode == EntropyMode::kMxnet) CHECK(entropy_search(zeros.data(), zeros.size(), o, 150).score == 0.0);
  }
}

TEST_CASE("entropy errors name the tensor") {
  HistogramOptions ho;
  ho.name = "conv1.out";
  ho.kind = HistogramKind::kSigned;
  Histogram h(ho);
  CHECK_THROWS_WITH(entropy_calibrate(h), Catch::Contains("conv1.out"));
}

// The vector kernels of quantize_array / dequantize_array (include/qmath/detail/quantize_simd.hpp) against the
// normative portable loops, bit for bit, on every instruction set this CPU has. quantize on every vector path is the
// lane body (detail/quantize_lanes-inl.hpp): it runs as dispatched (kDivide: the reciprocal fast path with the exact
// fallback) and as its exact path alone (a division per vector, the fallback itself), on systematic values (ties,
// huge, NaN, infinities, denormals, +-2^i neighbours), every rounding mode, lengths 0..70 at unaligned offsets, a
// strided sweep over all float bit patterns, fixed-seed random data, exact ties and their 1-2 ulp neighbours for many
// scales (power-of-two, short-significand and random), scales at and beyond the edges of the fast path's range,
// blocks that mix ties with random values and long tie runs (back-off), and, labelled slow, a dense sweep of the float
// bit patterns whose quotient lies in the quantization range plus a sparse one of all 2^32. Bytes outside [0, n) must
// stay untouched. The fast path's check is pinned down per lane backend (which blocks it accepts and rejects), and
// the scalar copy of the body (one lane, blocks of 4) runs the same arithmetic on every machine.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <qmath/detail/quantize_lanes.hpp>
#include <qmath/quantize_array.hpp>

#include "quantize_case.hpp"

namespace {

using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Round;
using SimdIsa = qmath::Isa;

constexpr Round kModes[] = {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero};
// The vector paths of this architecture's build.
#if QMATH_NEON_SIMD
constexpr SimdIsa kVectorIsas[] = {SimdIsa::kNeon};
#else
constexpr SimdIsa kVectorIsas[] = {SimdIsa::kAvx2, SimdIsa::kAvx512};
#endif

const char* vector_isa_name(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::kAvx512: return "AVX-512";
    case SimdIsa::kAvx2: return "AVX2";
    case SimdIsa::kNeon: return "NEON";
    case SimdIsa::kScalar: return "scalar lanes";
    default: return "?";
  }
}

// The quantize kernels of each vector path: kDispatched is what quantize_array_simd runs (the lane body; kDivide with
// its reciprocal fast path), kExact the lane body's exact path alone on the same lane backend.
enum class Kernel { kDispatched, kExact };
constexpr Kernel kKernels[] = {Kernel::kDispatched, Kernel::kExact};

const char* kernel_name(Kernel k) { return k == Kernel::kDispatched ? "dispatched" : "lane body exact path"; }

// The lane body on the lane backend of `isa` (kScalar: lanes_scalar, one lane): quantize_lanes (kDispatched) or its
// exact path alone (kExact, quantize_lanes_exact); false when this build has none.
template <class T>
bool run_lanes(SimdIsa isa, Kernel kernel, const float* x, std::size_t n, T* q, QuantParams p, QuantRange range,
               Round mode, qmath::QuantizeRule rule = qmath::QuantizeRule::kDivide) {
  namespace d = qmath::detail;
  const bool exact = kernel == Kernel::kExact;
  switch (isa) {
    case SimdIsa::kScalar:
      exact ? d::lanes_scalar::quantize_lanes_exact(x, n, q, p, range, mode, rule)
            : d::lanes_scalar::quantize_lanes(x, n, q, p, range, mode, rule);
      return true;
#if QMATH_CPU_X86
    case SimdIsa::kAvx2:
      exact ? d::lanes_avx2::quantize_lanes_exact(x, n, q, p, range, mode, rule)
            : d::lanes_avx2::quantize_lanes(x, n, q, p, range, mode, rule);
      return true;
    case SimdIsa::kAvx512:
      exact ? d::lanes_avx512::quantize_lanes_exact(x, n, q, p, range, mode, rule)
            : d::lanes_avx512::quantize_lanes(x, n, q, p, range, mode, rule);
      return true;
#endif
#if QMATH_LANES_NEON
    case SimdIsa::kNeon:
      exact ? d::lanes_neon::quantize_lanes_exact(x, n, q, p, range, mode, rule)
            : d::lanes_neon::quantize_lanes(x, n, q, p, range, mode, rule);
      return true;
#endif
    default: return false;
  }
}
template <class T>
bool run_dequantize_lanes(SimdIsa isa, const T* q, std::size_t n, float* x, QuantParams p) {
  namespace d = qmath::detail;
  switch (isa) {
    case SimdIsa::kScalar: d::lanes_scalar::dequantize_lanes(q, n, x, p); return true;
#if QMATH_CPU_X86
    case SimdIsa::kAvx2: d::lanes_avx2::dequantize_lanes(q, n, x, p); return true;
    case SimdIsa::kAvx512: d::lanes_avx512::dequantize_lanes(q, n, x, p); return true;
#endif
#if QMATH_LANES_NEON
    case SimdIsa::kNeon: d::lanes_neon::dequantize_lanes(q, n, x, p); return true;
#endif
    default: return false;
  }
}

template <class T>
void run_quantize(SimdIsa isa, Kernel kernel, const float* x, std::size_t n, T* q, QuantParams p, QuantRange range,
                  Round mode) {
  if (kernel == Kernel::kDispatched)
    REQUIRE(qmath::detail::quantize_array_simd(isa, x, n, q, p, range, mode));
  else
    REQUIRE(run_lanes(isa, Kernel::kExact, x, n, q, p, range, mode));
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Values every kernel must agree on for a given scale: ties and their float neighbours around every integer of the
// int8/uint8 domain, +-2^i +-{0,1,2} ulp, zeros, denormals, huge values, infinities and NaNs (several payloads).
std::vector<float> systematic_values(float scale) {
  std::vector<float> v;
  for (int k = -700; k <= 700; ++k) {
    const float t = static_cast<float>(k) * 0.5f * scale;  // exact ties when scale is a power of two
    v.push_back(t);
    v.push_back(std::nextafter(t, std::numeric_limits<float>::infinity()));
    v.push_back(std::nextafter(t, -std::numeric_limits<float>::infinity()));
  }
  for (int i = -149; i <= 127; ++i)
    for (float sign : {1.0f, -1.0f}) {
      const float p = sign * std::ldexp(1.0f, i);
      float up = p, down = p;
      v.push_back(p);
      for (int d = 0; d < 2; ++d) {
        up = std::nextafter(up, std::numeric_limits<float>::infinity());
        down = std::nextafter(down, -std::numeric_limits<float>::infinity());
        v.push_back(up);
        v.push_back(down);
      }
    }
  const float inf = std::numeric_limits<float>::infinity();
  for (float s : {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                  1e-40f, -1e-40f, std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(), 1e30f, -1e30f, 3e9f, -3e9f, 2147483648.0f, -2147483904.0f, inf,
                  -inf, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                  from_bits(0x7f800001u), from_bits(0xffc12345u), 0.49999997f, -0.49999997f, 0.5f, -0.5f, 1.5f,
                  -1.5f, 2.5f, -2.5f, 127.5f, -128.5f, 255.5f, 126.99999f})
    v.push_back(s);
  return v;
}

using Case = qmath_test::QuantizeCase;

template <class T>
std::vector<Case> cases() {
  const QuantRange full = qmath::full_range<T>();
  std::vector<Case> c = {
      {{1.0f, 0}, full},  {{0.25f, 0}, full}, {{0.0078125f, 0}, full}, {{0.1f, 0}, full},
      {{5.5f / 127.0f, 0}, full},             {{3.0e-5f, 0}, full},    {{7.3e4f, 0}, full},
      {{1e-40f, 0}, full},                    {{3.0e38f, 0}, full},
  };
  if (std::is_signed<T>::value) {
    c.push_back({{0.5f, 0}, qmath::narrow_range<T>()});  // TensorRT [-127, 127]
    c.push_back({{0.5f, -3}, full});
    c.push_back({{0.125f, 127}, full});
    c.push_back({{0.5f, 1}, qmath::bit_range(4, true)});  // int4 stored in int8
  } else {
    c.push_back({{0.5f, 128}, full});
    c.push_back({{0.03f, 255}, full});
    c.push_back({{0.25f, 7}, QuantRange{0, 15}});  // uint4 stored in uint8
  }
  return c;
}

// Runs both kernels of `isa` on x[0, n) at byte offsets (xo, qo) and compares with the portable loop; checks the
// guard bytes.
template <class T>
void check_quantize(SimdIsa isa, const std::vector<float>& x, const Case& c, Round mode, std::size_t xo = 0,
                    std::size_t qo = 0) {
  const std::size_t n = x.size();
  std::vector<float> xbuf(n + 8);
  for (std::size_t i = 0; i < n; ++i) xbuf[xo + i] = x[i];
  std::vector<T> expected(n + 64, T(0x5A)), actual(n + 64, T(0x5A));
  qmath::detail::quantize_array_scalar(xbuf.data() + xo, n, expected.data() + qo, c.p, c.range, mode);
  for (Kernel kernel : kKernels) {
    std::fill(actual.begin(), actual.end(), T(0x5A));
    run_quantize(isa, kernel, xbuf.data() + xo, n, actual.data() + qo, c.p, c.range, mode);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (expected[i] != actual[i]) {
        const bool inside = i >= qo && i < qo + n;
        const float xi = inside ? xbuf[xo + i - qo] : 0.0f;
        INFO(vector_isa_name(isa) << " " << kernel_name(kernel) << " mode " << static_cast<int>(mode) << " scale "
                           << std::hexfloat << c.p.scale << " zp " << c.p.zero_point << " range [" << c.range.qmin
                           << ", " << c.range.qmax << "] n " << n << " offsets " << xo << "/" << qo << " index " << i
                           << (inside ? "" : " (guard byte)") << " x " << xi << " x/scale " << xi / c.p.scale);
        CHECK(int(expected[i]) == int(actual[i]));
        return;
      }
    }
  }
}

template <class T>
void check_dequantize(SimdIsa isa, const std::vector<T>& q, QuantParams p, std::size_t qo, std::size_t xo) {
  const std::size_t n = q.size();
  std::vector<T> qbuf(n + 8);
  for (std::size_t i = 0; i < n; ++i) qbuf[qo + i] = q[i];
  std::vector<float> expected(n + 32, -7.0f), actual(n + 32, -7.0f);
  qmath::detail::dequantize_array_scalar(qbuf.data() + qo, n, expected.data() + xo, p);
  for (bool lanes : {false, true}) {
    std::fill(actual.begin(), actual.end(), -7.0f);
    if (lanes)
      REQUIRE(run_dequantize_lanes(isa, qbuf.data() + qo, n, actual.data() + xo, p));
    else if (isa != SimdIsa::kScalar)
      REQUIRE(qmath::detail::dequantize_array_simd(isa, qbuf.data() + qo, n, actual.data() + xo, p));
    else
      continue;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      std::uint32_t e, a;
      std::memcpy(&e, &expected[i], 4);
      std::memcpy(&a, &actual[i], 4);
      if (e != a) {
        INFO(vector_isa_name(isa) << (lanes ? " lane body" : "") << " scale " << p.scale << " zp " << p.zero_point
                                  << " n " << n << " index " << i);
        CHECK(e == a);
        return;
      }
    }
  }
}

// The instruction sets this CPU runs; a missing one is reported, not silently passed.
std::vector<SimdIsa> available_isas() {
  std::vector<SimdIsa> v;
  for (SimdIsa isa : kVectorIsas) {
    if (qmath::isa_available(isa))
      v.push_back(isa);
    else
      WARN(vector_isa_name(isa) << " is not available on this CPU (or this build): its kernel is NOT tested here");
  }
  return v;
}

// Ties of x / scale and their neighbours: for each k the floats within 2 ulps of RN((k + 1/2) * scale) - among them
// every x with RN(x / scale) == k + 1/2 exactly, if there is one - and of RN(k * scale) (toward zero's boundaries).
std::vector<float> tie_values(float scale, int kmax) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v;
  for (int k = -kmax; k <= kmax; ++k)
    for (float h : {0.0f, 0.5f}) {
      const float x0 = (static_cast<float>(k) + h) * scale;
      float up = x0, down = x0;
      v.push_back(x0);
      for (int d = 0; d < 2; ++d) {
        up = std::nextafter(up, inf);
        down = std::nextafter(down, -inf);
        v.push_back(up);
        v.push_back(down);
      }
    }
  return v;
}

// How many of `x` have a quotient RN(x / scale) that is exactly a half-integer (a real tie for the reference).
std::size_t count_exact_ties(const std::vector<float>& x, float scale) {
  std::size_t n = 0;
  for (float v : x) {
    const float qt = v / scale;
    if (std::isfinite(qt) && std::fabs(qt) < 1e6f && qt - std::floor(qt) == 0.5f) ++n;
  }
  return n;
}

// `ties` with fixed-seed random values of the same magnitude spread between them (so that a vector block mixes lanes
// the fast path accepts with lanes it must reject), followed by `ties` in order (long runs: back-off).
std::vector<float> mixed_with_random(const std::vector<float>& ties, float scale, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 60.0f * scale);
  std::uniform_int_distribution<int> gap(0, 6);
  std::vector<float> v;
  for (float t : ties) {
    for (int g = gap(rng); g > 0; --g) v.push_back(dist(rng));
    v.push_back(t);
  }
  v.insert(v.end(), ties.begin(), ties.end());
  for (int i = 0; i < 3000; ++i) v.push_back(dist(rng));  // the fast path again after the back-off
  return v;
}

template <class T>
std::vector<std::int32_t> zero_points() {
  if (std::is_signed<T>::value) return {0, -3, 127, -128};
  return {0, 128, 255, 7};
}

}  // namespace

TEST_CASE("the resolved path is available and the portable path has no vector kernel", "[quantize_simd]") {
  CHECK(qmath::isa_available(qmath::resolved_isa_for_quantize()));
#if QMATH_NEON_SIMD
  // AArch64: the NEON kernel serves every NEON level (no cap set: QMATH_MAX_ISA unset in the test runs).
  if (qmath::max_isa() == SimdIsa::kAuto) CHECK(qmath::resolved_isa_for_quantize() == SimdIsa::kNeon);
  CHECK(qmath::resolved_isa_for_quantize(SimdIsa::kNeon) == SimdIsa::kNeon);
  if (qmath::isa_available(SimdIsa::kNeonDotprod))
    CHECK(qmath::resolved_isa_for_quantize(SimdIsa::kNeonDotprod) == SimdIsa::kNeon);
  if (qmath::isa_available(SimdIsa::kNeonI8mm))
    CHECK(qmath::resolved_isa_for_quantize(SimdIsa::kNeonI8mm) == SimdIsa::kNeon);
#endif
  std::int8_t q = 0;
  const float x = 1.0f;
  CHECK_FALSE(qmath::detail::quantize_array_simd(SimdIsa::kScalar, &x, 1, &q, QuantParams{1.0f, 0},
                                                  qmath::full_range<std::int8_t>(), Round::kHalfToEven));
  // int16 has no vector kernel: the dispatcher declines and the public function uses the portable loop.
  std::int16_t q16 = 0;
  CHECK_FALSE(qmath::detail::quantize_array_simd(SimdIsa::kAvx512, &x, 1, &q16, QuantParams{1.0f, 0},
                                                  qmath::full_range<std::int16_t>(), Round::kHalfToEven));
}

TEMPLATE_TEST_CASE("vector quantize matches the portable loop on systematic values", "[quantize_simd]", std::int8_t,
                   std::uint8_t) {
  for (SimdIsa isa : available_isas())
    for (const Case& c : cases<TestType>())
      for (Round mode : kModes) check_quantize<TestType>(isa, systematic_values(c.p.scale), c, mode);
}

TEMPLATE_TEST_CASE("vector quantize: every length 0..70 at unaligned offsets, guard bytes untouched",
                   "[quantize_simd]", std::int8_t, std::uint8_t) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-300.0f, 300.0f);
  const Case c{{0.5f, std::is_signed<TestType>::value ? 0 : 128}, qmath::full_range<TestType>()};
  for (SimdIsa isa : available_isas())
    for (std::size_t n = 0; n <= 70; ++n)
      for (std::size_t off = 0; off < 4; ++off) {
        std::vector<float> x(n);
        for (float& v : x) v = std::round(dist(rng)) * 0.25f;  // many exact ties of x / 0.5
        if (n > 3) x[n / 2] = std::numeric_limits<float>::quiet_NaN();
        if (n > 5) x[n - 1] = -std::numeric_limits<float>::infinity();
        for (Round mode : kModes) check_quantize<TestType>(isa, x, c, mode, off, (off * 3) % 4);
      }
}

TEMPLATE_TEST_CASE("vector quantize matches the portable loop on a strided sweep of all float bit patterns",
                   "[quantize_simd]", std::int8_t, std::uint8_t) {
  std::vector<float> x;
  for (std::uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4099) x.push_back(from_bits(static_cast<std::uint32_t>(u)));
  const Case c{{1.0f / 64.0f, std::is_signed<TestType>::value ? -5 : 100}, qmath::full_range<TestType>()};
  for (SimdIsa isa : available_isas())
    for (Round mode : kModes) check_quantize<TestType>(isa, x, c, mode);
}

TEMPLATE_TEST_CASE("vector quantize matches the portable loop on fixed-seed random data and scales",
                   "[quantize_simd]", std::int8_t, std::uint8_t) {
  std::mt19937 rng(2024);
  std::lognormal_distribution<float> scale_dist(-3.0f, 2.0f);
  const QuantRange full = qmath::full_range<TestType>();
  std::uniform_int_distribution<int> zp_dist(full.qmin, full.qmax);
  for (SimdIsa isa : available_isas())
    for (int trial = 0; trial < 40; ++trial) {
      const Case c{{scale_dist(rng), zp_dist(rng)}, full};
      std::normal_distribution<float> x_dist(0.0f, c.p.scale * 100.0f);
      std::vector<float> x(1000 + static_cast<std::size_t>(trial));
      for (float& v : x) v = x_dist(rng);
      // Exact ties x = (k + 1/2) * scale need not be representable for a random scale; add near-ties anyway.
      for (std::size_t i = 0; i < x.size(); i += 7) x[i] = (std::round(x[i] / c.p.scale) + 0.5f) * c.p.scale;
      for (Round mode : kModes) check_quantize<TestType>(isa, x, c, mode, static_cast<std::size_t>(trial % 4), 1);
    }
}

TEMPLATE_TEST_CASE("vector quantize: exact ties and their 1-2 ulp neighbours for many scales, every mode",
                   "[quantize_simd]", std::int8_t, std::uint8_t) {
  std::vector<float> scales;
  for (int e = -24; e <= 24; e += 6) scales.push_back(std::ldexp(1.0f, e));  // every (k + 1/2) * 2^e is exact
  for (float m : {0.75f, 0.625f, 0.5625f, 0.9375f, 1.25f})                  // short significands: exact ties too
    for (int e : {-9, -3, 0, 5}) scales.push_back(std::ldexp(m, e));
  std::mt19937 rng(77);
  std::lognormal_distribution<float> scale_dist(-4.0f, 2.5f);
  for (int i = 0; i < 8; ++i) scales.push_back(scale_dist(rng));  // random 24-bit scales: ties where they exist
  scales.push_back(5.5f / 127.0f);
  const QuantRange full = qmath::full_range<TestType>();
  const std::vector<std::int32_t> zps = zero_points<TestType>();
  std::size_t exact_ties = 0;
  for (std::size_t si = 0; si < scales.size(); ++si) {
    const std::vector<float> ties = tie_values(scales[si], 300);
    exact_ties += count_exact_ties(ties, scales[si]);
    const std::vector<float> x = mixed_with_random(ties, scales[si], static_cast<std::uint32_t>(si));
    for (SimdIsa isa : available_isas())
      for (Round mode : kModes) check_quantize<TestType>(isa, x, Case{{scales[si], zps[si % zps.size()]}, full}, mode);
  }
  // The inputs do contain real ties (601 per power-of-two scale alone).
  CHECK(exact_ties > 601 * 9);
}

TEMPLATE_TEST_CASE("vector quantize: scales at and beyond the edges of the fast path's range", "[quantize_simd]",
                   std::int8_t, std::uint8_t) {
  const float inf = std::numeric_limits<float>::infinity();
  const float lo = std::ldexp(1.0f, -125), hi = std::ldexp(1.0f, 125);
  // The documented range of the reciprocal fast path is [2^-125, 2^125]; outside it the exact path runs.
  CHECK(qmath::detail::fast_path_scale(lo));
  CHECK(qmath::detail::fast_path_scale(hi));
  CHECK_FALSE(qmath::detail::fast_path_scale(std::nextafter(lo, 0.0f)));
  CHECK_FALSE(qmath::detail::fast_path_scale(std::nextafter(hi, inf)));
  const float scales[] = {lo,
                          std::nextafter(lo, 0.0f),
                          std::nextafter(lo, 1.0f),
                          hi,
                          std::nextafter(hi, inf),
                          std::nextafter(hi, 0.0f),
                          std::ldexp(1.0f, -126),
                          std::ldexp(1.0f, 126),
                          std::ldexp(1.0f, 127),
                          std::ldexp(1.5f, -130),  // subnormal scale
                          1e-30f,
                          1e30f,
                          1e-38f,
                          3e38f,
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::denorm_min()};
  const QuantRange full = qmath::full_range<TestType>();
  const std::vector<std::int32_t> zps = zero_points<TestType>();
  std::mt19937 rng(3);
  for (std::size_t si = 0; si < sizeof scales / sizeof scales[0]; ++si) {
    const float scale = scales[si];
    std::vector<float> x = systematic_values(scale);
    const std::vector<float> ties = tie_values(scale, 200);
    x.insert(x.end(), ties.begin(), ties.end());
    std::normal_distribution<float> dist(0.0f, 100.0f);
    for (int i = 0; i < 2000; ++i) x.push_back(dist(rng) * scale);  // may underflow or overflow: fine
    for (SimdIsa isa : available_isas())
      for (Round mode : kModes) check_quantize<TestType>(isa, x, Case{{scale, zps[si % zps.size()]}, full}, mode);
  }
}

TEMPLATE_TEST_CASE("vector quantize: narrow and sub-byte ranges with ties, every zero point", "[quantize_simd]",
                   std::int8_t, std::uint8_t) {
  std::vector<QuantRange> ranges = {qmath::full_range<TestType>()};
  if (std::is_signed<TestType>::value) {
    ranges.push_back(qmath::narrow_range<TestType>());
    ranges.push_back(qmath::bit_range(4, true));
  } else {
    ranges.push_back(QuantRange{0, 15});
    ranges.push_back(QuantRange{3, 200});
  }
  const std::vector<float> ties = tie_values(0.375f, 150);
  const std::vector<float> x = mixed_with_random(ties, 0.375f, 11);
  for (SimdIsa isa : available_isas())
    for (const QuantRange& r : ranges)
      for (std::int32_t zp = r.qmin; zp <= r.qmax; zp += (r.qmax - r.qmin) / 4 + 1)
        for (Round mode : kModes) check_quantize<TestType>(isa, x, Case{{0.375f, zp}, r}, mode);
}

namespace {

// The lane body's fast-path block (4 * kLanes elements) of each lane backend, compiled for that backend: true when the
// block passed the check (and was stored), false when it would go to the exact path (nothing stored).
using FastBlock = bool (*)(bool toward_zero, const float* x, std::int8_t* q, QuantParams p, QuantRange range);
#define QMATH_TEST_FAST_BLOCK(backend)                                                                   \
  bool fast_block_##backend(bool toward_zero, const float* x, std::int8_t* q, QuantParams p, QuantRange range) { \
    namespace l = qmath::detail::backend;                                                                \
    const l::QuantizeFastLanes c = l::quantize_fast_constants(p, range);                                 \
    return toward_zero ? l::quantize_fast_block<true>(x, q, c) : l::quantize_fast_block<false>(x, q, c); \
  }
QMATH_TEST_FAST_BLOCK(lanes_scalar)
#if QMATH_CPU_X86
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
QMATH_TEST_FAST_BLOCK(lanes_avx2)
QMATH_LANES_POP_TARGET()
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX512_FEATURES)
QMATH_TEST_FAST_BLOCK(lanes_avx512)
QMATH_LANES_POP_TARGET()
#endif
#if QMATH_LANES_NEON
QMATH_TEST_FAST_BLOCK(lanes_neon)
#endif
#undef QMATH_TEST_FAST_BLOCK

struct FastBlockBackend {
  SimdIsa isa;
  std::size_t block;
  FastBlock run;
};

// The scalar backend and every vector backend this machine runs (a missing one is reported).
std::vector<FastBlockBackend> fast_block_backends() {
  std::vector<FastBlockBackend> v = {{SimdIsa::kScalar, 4, &fast_block_lanes_scalar}};
#if QMATH_CPU_X86
  if (qmath::isa_available(SimdIsa::kAvx2))
    v.push_back({SimdIsa::kAvx2, 32, &fast_block_lanes_avx2});
  else
    WARN("AVX2 is not available: its fast-path check is NOT tested here");
  if (qmath::isa_available(SimdIsa::kAvx512))
    v.push_back({SimdIsa::kAvx512, 64, &fast_block_lanes_avx512});
  else
    WARN("AVX-512 is not available: its fast-path check is NOT tested here");
#endif
#if QMATH_LANES_NEON
  v.push_back({SimdIsa::kNeon, 16, &fast_block_lanes_neon});
#endif
  return v;
}

}  // namespace

TEST_CASE("the fast path's check accepts ordinary blocks and rejects ties, near-ties and NaN blocks",
          "[quantize_simd]") {
  // Not a speed test: it pins down which branch the bit-exactness tests above exercise, on every lane backend.
  const QuantParams p{0.03125f * 1.37f, 0};
  const QuantRange range = qmath::full_range<std::int8_t>();
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> random(64 * 1000);
  for (float& v : random) v = dist(rng);
  std::vector<float> ties(64);  // RN((k + 1/2) * scale): quotients at or within a few ulps of k + 1/2
  for (std::size_t i = 0; i < ties.size(); ++i) ties[i] = (static_cast<float>(i) - 32.0f + 0.5f) * p.scale;
  std::vector<std::int8_t> q(random.size()), want(random.size());
  for (const FastBlockBackend& be : fast_block_backends()) {
    INFO(vector_isa_name(be.isa) << ", blocks of " << be.block);
    const std::size_t b = be.block;
    // Random blocks nearly all pass (about 2m per lane fails, m = B * 2^-21), and what passes is the reference.
    std::fill(q.begin(), q.end(), std::int8_t(0x5A));
    int rejected = 0;
    for (std::size_t i = 0; i < random.size(); i += b) {
      if (be.run(false, &random[i], &q[i], p, range)) {
        qmath::detail::quantize_array_scalar(&random[i], b, &want[i], p, range, Round::kHalfToEven);
        CHECK(std::equal(want.begin() + i, want.begin() + i + b, q.begin() + i));
      } else {
        ++rejected;
        CHECK(std::all_of(q.begin() + i, q.begin() + i + b, [](std::int8_t v) { return v == 0x5A; }));
      }
    }
    CHECK(rejected < 50);
    // One tie among passing random values sinks the block, in every lane; so does one NaN.
    for (std::size_t lane = 0; lane < b; ++lane) {
      std::vector<float> block(random.begin(), random.begin() + static_cast<std::ptrdiff_t>(b));
      if (!be.run(false, block.data(), q.data(), p, range)) continue;
      block[lane] = ties[lane % ties.size()];
      CHECK_FALSE(be.run(false, block.data(), q.data(), p, range));
      block[lane] = std::numeric_limits<float>::quiet_NaN();
      CHECK_FALSE(be.run(false, block.data(), q.data(), p, range));
      CHECK_FALSE(be.run(true, block.data(), q.data(), p, range));
    }
    for (std::size_t i = 0; i + b <= ties.size(); i += b) CHECK_FALSE(be.run(false, &ties[i], q.data(), p, range));
    // Toward zero's boundaries: exact integer quotients (scale 2^-5) are rejected; 0 is no boundary: accepted.
    const QuantParams p2{0.03125f, 0};
    std::vector<float> integers(64);
    for (std::size_t i = 0; i < 64; ++i) integers[i] = (static_cast<float>(i) - 32.0f) * 0.03125f;
    for (std::size_t i = 0; i + b <= integers.size(); i += b)
      if (integers[i] != 0.0f) CHECK_FALSE(be.run(true, &integers[i], q.data(), p2, range));
    std::vector<float> zeros(64, 0.0f);
    CHECK(be.run(true, zeros.data(), q.data(), p2, range));
    CHECK(be.run(false, zeros.data(), q.data(), p2, range));
    // Saturating lanes (infinities, huge values) pass: they are clamped to a quarter past the range.
    std::vector<float> huge(64);
    for (std::size_t i = 0; i < 64; ++i)
      huge[i] = (i % 2 ? 1.0f : -1.0f) * (i % 3 ? std::numeric_limits<float>::infinity() : 1e30f);
    CHECK(be.run(false, huge.data(), q.data(), p, range));
    CHECK(be.run(true, huge.data(), q.data(), p, range));
  }
}

TEMPLATE_TEST_CASE("vector dequantize matches the portable loop for every value, length and offset",
                   "[quantize_simd]", std::int8_t, std::uint8_t) {
  std::vector<TestType> all;
  for (int v = qmath::full_range<TestType>().qmin; v <= qmath::full_range<TestType>().qmax; ++v)
    all.push_back(static_cast<TestType>(v));
  const std::int32_t zps[] = {qmath::full_range<TestType>().qmin, 0, 3, qmath::full_range<TestType>().qmax};
  for (SimdIsa isa : available_isas()) {
    for (float scale : {1.0f, 0.1f, 5.5f / 127.0f, 3.0e-5f, 1e-40f, 3.0e38f})
      for (std::int32_t zp : zps) check_dequantize<TestType>(isa, all, QuantParams{scale, zp}, 0, 0);
    for (std::size_t n = 0; n <= 70; ++n)
      for (std::size_t off = 0; off < 4; ++off)
        check_dequantize<TestType>(isa, std::vector<TestType>(all.data(), all.data() + n), QuantParams{0.37f, 1}, off,
                                   3 - off);
  }
}

TEST_CASE("public array and per-channel entry points agree with the portable loops", "[quantize_simd]") {
  std::mt19937 rng(99);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const qmath::ChannelLayout layout{3, 5, 37};  // inner length 37: two vectors plus a remainder
  std::vector<float> x(layout.size());
  for (float& v : x) v = dist(rng);
  x[11] = std::numeric_limits<float>::quiet_NaN();
  x[12] = std::numeric_limits<float>::infinity();
  std::vector<QuantParams> params;
  for (std::size_t c = 0; c < layout.channels; ++c) params.push_back({0.01f + 0.013f * float(c), int(c) * 3 - 6});
  for (Round mode : kModes) {
    std::vector<std::int8_t> got(x.size()), want(x.size());
    qmath::quantize_per_channel(x.data(), layout, params.data(), got.data(), qmath::full_range<std::int8_t>(), mode);
    for (std::size_t o = 0; o < layout.outer; ++o)
      for (std::size_t c = 0; c < layout.channels; ++c) {
        const std::size_t base = (o * layout.channels + c) * layout.inner;
        qmath::detail::quantize_array_scalar(x.data() + base, layout.inner, want.data() + base, params[c],
                                             qmath::full_range<std::int8_t>(), mode);
      }
    CHECK(got == want);

    qmath::quantize_array(x.data(), x.size(), got.data(), params[1], qmath::narrow_range<std::int8_t>(), mode);
    qmath::detail::quantize_array_scalar(x.data(), x.size(), want.data(), params[1],
                                         qmath::narrow_range<std::int8_t>(), mode);
    CHECK(got == want);
  }
  std::vector<std::int8_t> q(x.size());
  qmath::quantize_per_channel(x.data(), layout, params.data(), q.data());
  std::vector<float> got(x.size()), want(x.size());
  qmath::dequantize_per_channel(q.data(), layout, params.data(), got.data());
  for (std::size_t i = 0; i < q.size(); ++i) want[i] = qmath::dequantize_value(q[i], params[(i / layout.inner) % 5]);
  CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
  qmath::dequantize_array(q.data(), q.size(), got.data(), params[2]);
  qmath::detail::dequantize_array_scalar(q.data(), q.size(), want.data(), params[2]);
  CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
}

TEST_CASE("array entry points reject bad parameters before writing", "[quantize_simd]") {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  std::int8_t q[3] = {9, 9, 9};
  CHECK_THROWS_AS(qmath::quantize_array(x, 3, q, QuantParams{0.0f, 0}), qmath::error);
  CHECK_THROWS_AS(qmath::quantize_array(x, 3, q, QuantParams{std::numeric_limits<float>::quiet_NaN(), 0}),
                  qmath::error);
  CHECK_THROWS_AS(qmath::quantize_array(x, 3, q, QuantParams{1.0f, 200}), qmath::error);
  CHECK_THROWS_AS(qmath::quantize_array(x, 3, q, QuantParams{1.0f, 0}, QuantRange{0, 255}), qmath::error);
  CHECK((q[0] == 9 && q[1] == 9 && q[2] == 9));
}

TEST_CASE("fake_quantize_array (vector blocks for int8/uint8 ranges) equals fake_quantize_value", "[quantize_simd]") {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> x(1000);
  for (float& v : x) v = dist(rng);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[600] = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < x.size(); i += 9) x[i] = std::round(x[i] * 8.0f) / 8.0f;  // ties at scale 1/4
  const QuantRange ranges[] = {qmath::full_range<std::int8_t>(), qmath::narrow_range<std::int8_t>(),
                               qmath::full_range<std::uint8_t>(), qmath::full_range<std::int16_t>()};
  for (const QuantRange& range : ranges)
    for (Round mode : kModes)
      for (std::size_t n : {std::size_t(0), std::size_t(15), std::size_t(16), std::size_t(257), x.size()}) {
        const QuantParams p{0.25f, range.qmin < 0 ? 1 : 100};
        std::vector<float> got(n), in_place(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
        qmath::fake_quantize_array(x.data(), n, got.data(), p, range, mode);
        qmath::fake_quantize_array(in_place.data(), n, in_place.data(), p, range, mode);  // x == y
        for (std::size_t i = 0; i < n; ++i) {
          const float want = qmath::fake_quantize_value(x[i], p, range, mode);
          INFO("range [" << range.qmin << ", " << range.qmax << "] mode " << int(mode) << " n " << n << " i " << i);
          REQUIRE(std::memcmp(&got[i], &want, sizeof want) == 0);
          REQUIRE(std::memcmp(&in_place[i], &want, sizeof want) == 0);
        }
      }
}

namespace {

// Compares every kernel of every available instruction set with the portable loop on the floats with bit patterns
// first, first + stride, ... < last (64-bit so that last may be 2^32), in chunks. Returns the number of mismatching
// outputs and describes the first one in `first_bad`.
template <class T>
std::uint64_t sweep_bits(std::uint64_t first, std::uint64_t last, std::uint64_t stride, QuantParams p, QuantRange range,
                         std::string& first_bad) {
  constexpr std::size_t kChunk = std::size_t(1) << 20;
  std::vector<float> x;
  std::vector<T> want(kChunk), got(kChunk);
  std::uint64_t bad = 0;
  for (std::uint64_t u = first; u < last;) {
    x.clear();
    for (; u < last && x.size() < kChunk; u += stride) x.push_back(from_bits(static_cast<std::uint32_t>(u)));
    for (Round mode : kModes) {
      qmath::detail::quantize_array_scalar(x.data(), x.size(), want.data(), p, range, mode);
      for (SimdIsa isa : kVectorIsas) {
        if (!qmath::isa_available(isa)) continue;
        for (Kernel kernel : kKernels) {
          run_quantize(isa, kernel, x.data(), x.size(), got.data(), p, range, mode);
          if (std::memcmp(want.data(), got.data(), x.size() * sizeof(T)) == 0) continue;
          for (std::size_t i = 0; i < x.size(); ++i)
            if (want[i] != got[i]) {
              if (bad++ == 0)
                first_bad = std::string(vector_isa_name(isa)) + " " + kernel_name(kernel) + " mode " +
                            std::to_string(static_cast<int>(mode)) + " x " + std::to_string(x[i]) + " want " +
                            std::to_string(int(want[i])) + " got " + std::to_string(int(got[i]));
            }
        }
      }
    }
  }
  return bad;
}

}  // namespace

// Slow (registered as quantize_simd_test_exhaustive, label `slow`): for several scales, one float bit pattern in
// three over every binade whose quotients reach the quantization decisions (|x / scale| in [2^-3, 2^10): every tie
// and near-tie of int8/uint8 is in there), offset per scale, plus one in 257 of all 2^32 patterns - against the
// portable loop, every mode, both kernels of every instruction set.
// ---- the multiply rules (QuantizeRule::kMultiplyReciprocal, kMultiplyBoundOverAmax) -------------------------------

namespace {
using qmath::QuantizeRule;

// The vector kernel of `isa` under `rule` against the portable loop on x[0, n) at offsets (xo, qo), guard bytes too.
template <class T>
void check_rule(SimdIsa isa, const std::vector<float>& x, QuantParams p, QuantRange range, Round mode,
                QuantizeRule rule, std::size_t xo = 0, std::size_t qo = 0) {
  const std::size_t n = x.size();
  std::vector<float> xbuf(n + 8);
  for (std::size_t i = 0; i < n; ++i) xbuf[xo + i] = x[i];
  std::vector<T> expected(n + 64, T(0x5A)), actual(n + 64, T(0x5A));
  qmath::detail::quantize_array_scalar(xbuf.data() + xo, n, expected.data() + qo, p, range, mode, rule);
  // The vector paths: as dispatched (the lane body) and the body's exact path; the scalar lane backend: the body
  // (kDivide: with its fast path) and its exact path.
  for (bool exact : {false, true}) {
    std::fill(actual.begin(), actual.end(), T(0x5A));
    if (exact || isa == SimdIsa::kScalar)
      REQUIRE(run_lanes(isa, exact ? Kernel::kExact : Kernel::kDispatched, xbuf.data() + xo, n, actual.data() + qo, p,
                        range, mode, rule));
    else
      REQUIRE(qmath::detail::quantize_array_simd(isa, xbuf.data() + xo, n, actual.data() + qo, p, range, mode, rule));
    for (std::size_t i = 0; i < expected.size(); ++i)
      if (expected[i] != actual[i]) {
        const bool inside = i >= qo && i < qo + n;
        INFO(vector_isa_name(isa) << (exact ? " lane body exact path" : " lane body") << " rule " << static_cast<int>(rule) << " mode "
                                  << static_cast<int>(mode)
                                  << " scale " << std::hexfloat << p.scale << " zp " << p.zero_point << " n " << n
                                  << " index " << i << (inside ? "" : " (guard byte)") << " x "
                                  << (inside ? xbuf[xo + i - qo] : 0.0f));
        CHECK(int(expected[i]) == int(actual[i]));
        return;
      }
  }
}

// Parameters of each rule: the cases above whose reciprocal is finite (kMultiplyReciprocal), and amax values for
// kMultiplyBoundOverAmax (zero point 0; 0 and 2^-24 quantize everything to 0; 1e-38 makes the multiplier infinite).
template <class T>
std::vector<Case> rule_cases(QuantizeRule rule) {
  std::vector<Case> out;
  if (rule == QuantizeRule::kMultiplyReciprocal) {
    for (const Case& c : cases<T>())
      if (std::isfinite(1.0f / c.p.scale)) out.push_back(c);
    out.push_back({{0.3f, std::is_signed<T>::value ? 5 : 128}, qmath::full_range<T>()});
    out.push_back({{0.00214854861f, 0}, qmath::full_range<T>()});
    return out;
  }
  std::vector<QuantRange> ranges = {qmath::full_range<T>()};
  if (std::is_signed<T>::value) ranges.push_back(qmath::narrow_range<T>());
  for (const QuantRange& r : ranges)
    for (float amax : {2.0f, 0.3f, 5.5f, 1e-3f, 7.3e4f, 0.0f, 0x1p-24f, 1e-38f, 3e38f}) out.push_back({{amax, 0}, r});
  return out;
}
}  // namespace

TEMPLATE_TEST_CASE("vector quantize under the multiply rules matches the portable loop", "[quantize_simd][rule]",
                   std::int8_t, std::uint8_t) {
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> dist(-300.0f, 300.0f);
  for (SimdIsa isa : available_isas())
    for (QuantizeRule rule : {QuantizeRule::kMultiplyReciprocal, QuantizeRule::kMultiplyBoundOverAmax})
      for (const Case& c : rule_cases<TestType>(rule)) {
        // The real step of a bound-over-amax case is amax / bound: ties of x * m sit near (k + 1/2) * step.
        const float step = rule == QuantizeRule::kMultiplyBoundOverAmax
                               ? (c.p.scale > 0.0f ? c.p.scale / static_cast<float>(c.range.qmax) : 1.0f)
                               : c.p.scale;
        std::vector<float> x = systematic_values(step);
        const std::vector<float> ties = tie_values(step, 300);
        x.insert(x.end(), ties.begin(), ties.end());
        for (Round mode : kModes) check_rule<TestType>(isa, x, c.p, c.range, mode, rule);
        for (std::size_t n = 0; n <= 70; n += 3) {
          std::vector<float> xs(n);
          for (float& v : xs) v = dist(rng) * step;
          check_rule<TestType>(isa, xs, c.p, c.range, Round::kHalfToEven, rule, n % 4, n % 5);
        }
      }
}

TEST_CASE("public entry points under the multiply rules agree with the portable loops on every path",
          "[quantize_simd][rule]") {
  std::mt19937 rng(32);
  std::normal_distribution<float> dist(0.0f, 40.0f);
  std::vector<float> x(3 * 2 * 50);
  for (float& v : x) v = dist(rng) * 0.3f;
  const qmath::ChannelLayout layout{3, 2, 50};
  const QuantParams pt[2] = {{0.3f, 128}, {0.07f, 3}};
  const QuantParams amax[2] = {{2.7f, 0}, {0.3f, 0}};
  for (SimdIsa isa : {SimdIsa::kScalar, SimdIsa::kAvx2, SimdIsa::kAvx512, SimdIsa::kNeon}) {
    if (!qmath::isa_built(isa) || !qmath::isa_available(isa)) continue;
    for (QuantizeRule rule : {QuantizeRule::kMultiplyReciprocal, QuantizeRule::kMultiplyBoundOverAmax}) {
      const QuantParams* params = rule == QuantizeRule::kMultiplyReciprocal ? pt : amax;
      std::vector<std::uint8_t> q(x.size()), e(x.size());
      qmath::quantize_per_channel(x.data(), layout, params, q.data(), qmath::full_range<std::uint8_t>(),
                                  Round::kHalfToEven, isa, rule);
      for (std::size_t i = 0; i < x.size(); ++i)
        e[i] = static_cast<std::uint8_t>(qmath::quantize_value(x[i], params[(i / 50) % 2],
                                                               qmath::full_range<std::uint8_t>(), Round::kHalfToEven,
                                                               rule));
      CHECK(q == e);
      std::vector<std::int8_t> q8(x.size()), e8(x.size());
      qmath::quantize_array(x.data(), x.size(), q8.data(), QuantParams{params[1].scale, 0},
                            qmath::narrow_range<std::int8_t>(), Round::kHalfToEven, isa, rule);
      for (std::size_t i = 0; i < x.size(); ++i)
        e8[i] = static_cast<std::int8_t>(qmath::quantize_value(x[i], QuantParams{params[1].scale, 0},
                                                               qmath::narrow_range<std::int8_t>(),
                                                               Round::kHalfToEven, rule));
      CHECK(q8 == e8);
    }
  }
}

TEMPLATE_TEST_CASE("the lane body on the scalar lane backend matches the portable loops", "[quantize_simd][lanes]",
                   std::int8_t, std::uint8_t) {
  // One lane: the body's arithmetic itself (every mode, every rule, ties, NaN, infinities), on every machine.
  for (const Case& c : cases<TestType>())
    for (Round mode : kModes) {
      check_rule<TestType>(SimdIsa::kScalar, systematic_values(c.p.scale), c.p, c.range, mode, QuantizeRule::kDivide);
      check_rule<TestType>(SimdIsa::kScalar, tie_values(c.p.scale, 300), c.p, c.range, mode, QuantizeRule::kDivide);
    }
  for (QuantizeRule rule : {QuantizeRule::kMultiplyReciprocal, QuantizeRule::kMultiplyBoundOverAmax})
    for (const Case& c : rule_cases<TestType>(rule))
      for (Round mode : kModes) check_rule<TestType>(SimdIsa::kScalar, systematic_values(0.1f), c.p, c.range, mode, rule);
  std::vector<TestType> all;
  for (int v = qmath::full_range<TestType>().qmin; v <= qmath::full_range<TestType>().qmax; ++v)
    all.push_back(static_cast<TestType>(v));
  for (float scale : {1.0f, 0.1f, 1e-40f, 3.0e38f})
    for (std::int32_t zp : {qmath::full_range<TestType>().qmin, 0, qmath::full_range<TestType>().qmax})
      check_dequantize<TestType>(SimdIsa::kScalar, all, QuantParams{scale, zp}, 1, 2);
}

TEST_CASE("vector quantize: dense sweep of the decisive binades and sparse sweep of all floats",
          "[quantize_simd][.slow]") {
  std::mt19937 rng(1234);
  std::lognormal_distribution<float> scale_dist(-4.0f, 2.0f);
  const float scales[] = {0.03125f * 1.37f, std::ldexp(1.0f, -7), 5.5f / 127.0f, scale_dist(rng), scale_dist(rng),
                          std::ldexp(1.0f, -125), 1e30f};
  for (std::size_t si = 0; si < sizeof scales / sizeof scales[0]; ++si) {
    const float scale = scales[si];
    int e = 0;
    std::frexp(scale, &e);  // scale in [2^(e-1), 2^e)
    const int lo_exp = std::max(e - 1 - 3, -126), hi_exp = std::min(e + 10, 128);  // binades [2^lo_exp, 2^hi_exp)
    const std::uint64_t lo_bits = static_cast<std::uint64_t>(lo_exp + 127) << 23;
    const std::uint64_t hi_bits = static_cast<std::uint64_t>(hi_exp + 127) << 23;
    const QuantParams p8{scale, static_cast<std::int32_t>(si % 3) - 1};
    std::string first_bad;
    std::uint64_t bad = 0;
    for (std::uint64_t sign : {std::uint64_t(0), std::uint64_t(0x80000000u)})
      bad += sweep_bits<std::int8_t>(sign + lo_bits + si % 3, sign + hi_bits, 3, p8,
                                     qmath::full_range<std::int8_t>(), first_bad);
    bad += sweep_bits<std::int8_t>(si, std::uint64_t(1) << 32, 257, p8, qmath::full_range<std::int8_t>(), first_bad);
    if (si < 2)
      for (std::uint64_t sign : {std::uint64_t(0), std::uint64_t(0x80000000u)})
        bad += sweep_bits<std::uint8_t>(sign + lo_bits + 1, sign + hi_bits, 5, QuantParams{scale, 128},
                                        qmath::full_range<std::uint8_t>(), first_bad);
    INFO("scale " << std::hexfloat << scale << ": " << bad << " mismatches; first: " << first_bad);
    CHECK(bad == 0);
  }
}

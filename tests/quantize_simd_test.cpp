// The vector kernels of quantize_array / dequantize_array (include/qmath/detail/quantize_simd.hpp) against the
// normative portable loops, bit for bit, on every instruction set this CPU has: systematic values (ties, huge, NaN,
// infinities, denormals, +-2^i neighbours), every rounding mode, lengths 0..70 at unaligned offsets, a strided sweep
// over all float bit patterns, and fixed-seed random data. Bytes outside [0, n) must stay untouched.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <qmath/quantize.hpp>

namespace {

using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Round;
using qmath::detail::SimdIsa;

constexpr Round kModes[] = {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero};
constexpr SimdIsa kVectorIsas[] = {SimdIsa::kAvx2, SimdIsa::kAvx512};

const char* isa_name(SimdIsa isa) { return isa == SimdIsa::kAvx512 ? "AVX-512" : "AVX2"; }

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

struct Case {
  QuantParams p;
  QuantRange range;
};

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

// Runs `isa` on x[0, n) at byte offsets (xo, qo) and compares with the portable loop; checks the guard bytes.
template <class T>
void check_quantize(SimdIsa isa, const std::vector<float>& x, const Case& c, Round mode, std::size_t xo = 0,
                    std::size_t qo = 0) {
  const std::size_t n = x.size();
  std::vector<float> xbuf(n + 8);
  for (std::size_t i = 0; i < n; ++i) xbuf[xo + i] = x[i];
  std::vector<T> expected(n + 64, T(0x5A)), actual(n + 64, T(0x5A));
  qmath::detail::quantize_array_scalar(xbuf.data() + xo, n, expected.data() + qo, c.p, c.range, mode);
  REQUIRE(qmath::detail::quantize_array_simd(isa, xbuf.data() + xo, n, actual.data() + qo, c.p, c.range, mode));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      const bool inside = i >= qo && i < qo + n;
      INFO(isa_name(isa) << " mode " << static_cast<int>(mode) << " scale " << c.p.scale << " zp " << c.p.zero_point
                         << " range [" << c.range.qmin << ", " << c.range.qmax << "] n " << n << " offsets " << xo
                         << "/" << qo << " index " << i << (inside ? "" : " (guard byte)") << " x "
                         << (inside ? xbuf[xo + i - qo] : 0.0f));
      CHECK(int(expected[i]) == int(actual[i]));
      return;
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
  REQUIRE(qmath::detail::dequantize_array_simd(isa, qbuf.data() + qo, n, actual.data() + xo, p));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    std::uint32_t e, a;
    std::memcpy(&e, &expected[i], 4);
    std::memcpy(&a, &actual[i], 4);
    if (e != a) {
      INFO(isa_name(isa) << " scale " << p.scale << " zp " << p.zero_point << " n " << n << " index " << i);
      CHECK(e == a);
      return;
    }
  }
}

// The instruction sets this CPU runs; a missing one is reported, not silently passed.
std::vector<SimdIsa> available_isas() {
  std::vector<SimdIsa> v;
  for (SimdIsa isa : kVectorIsas) {
    if (qmath::detail::simd_isa_supported(isa))
      v.push_back(isa);
    else
      WARN(isa_name(isa) << " is not available on this CPU (or this build): its kernel is NOT tested here");
  }
  return v;
}

}  // namespace

TEST_CASE("best_simd_isa is supported and the portable path has no vector kernel", "[quantize_simd]") {
  CHECK(qmath::detail::simd_isa_supported(qmath::detail::best_simd_isa()));
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

// Tests for qmath/gemm_wa16.hpp: the float16 / bfloat16 decoders on all 65536 codes against an independent
// formulation (ldexp of the fields), exact results where every intermediate is representable, the defined
// summation order, W4A16 against W8A16 on the same weight values (two weight decoders, one arithmetic), a tolerance
// check against double precision, and the error policy (nothing written on bad input).
#include <qmath/gemm_wa16.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <vector>

namespace {

std::uint32_t bits_of(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// binary16 value from its fields, by ldexp (no bit manipulation of the result).
double float16_value(std::uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  const double s = sign ? -1.0 : 1.0;
  if (exponent == 0) return s * std::ldexp(double(mantissa), -24);
  if (exponent == 31) return mantissa ? std::numeric_limits<double>::quiet_NaN() : s * INFINITY;
  return s * std::ldexp(double(1024 + mantissa), exponent - 25);
}

// The float16 code of a value that float16 represents exactly (+0 for zero), from a table of every finite code.
std::uint16_t float16_code(double v) {
  static const std::map<double, std::uint16_t> codes = [] {
    std::map<double, std::uint16_t> m;
    for (std::uint32_t h = 0; h < 0x10000; ++h)
      if (!std::isnan(float16_value(std::uint16_t(h)))) m.emplace(float16_value(std::uint16_t(h)), std::uint16_t(h));
    return m;
  }();
  const auto it = codes.find(v);
  REQUIRE(it != codes.end());
  return it->second;
}

std::uint16_t bfloat16_code(float v) {
  REQUIRE((bits_of(v) & 0xFFFFu) == 0);  // exactly a bfloat16
  return std::uint16_t(bits_of(v) >> 16);
}

}  // namespace

TEST_CASE("float16_to_float and bfloat16_to_float decode every code exactly") {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const std::uint16_t code = std::uint16_t(h);
    const float x = qmath::float16_to_float(code);
    const double v = float16_value(code);
    INFO("float16 code " << h);
    if (std::isnan(v)) {
      REQUIRE(std::isnan(x));
      REQUIRE(std::signbit(x) == bool(h >> 15));
      REQUIRE(((bits_of(x) >> 13) & 0x3FFu) == (h & 0x3FFu));  // payload kept
    } else {
      REQUIRE(double(x) == v);
      REQUIRE(std::signbit(x) == bool(h >> 15));  // -0 stays -0
    }
    const float y = qmath::bfloat16_to_float(code);
    REQUIRE(bits_of(y) == (h << 16));
  }
  CHECK(qmath::float16_to_float(0x3C00) == 1.0f);
  CHECK(qmath::float16_to_float(0x7BFF) == 65504.0f);
  CHECK(qmath::float16_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(qmath::float16_to_float(0xC000) == -2.0f);
  CHECK(qmath::bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(qmath::activation16_to_float(0x4000, qmath::Activation16::kFloat16) == 2.0f);
  CHECK(qmath::activation16_to_float(0x4000, qmath::Activation16::kBFloat16) == 2.0f);
}

TEST_CASE("gemm_w8a16_reference is exact where every intermediate is representable, with blocks and bias") {
  // M = 2, K = 5 (blocks of 2: the last one ragged), N = 3; integer activations, power-of-two scales.
  const std::size_t M = 2, K = 5, N = 3, bs = 2, nb = 3;
  const int a_int[M][K] = {{1, -2, 3, 4, -5}, {7, 0, -1, 2, 8}};
  std::vector<std::uint16_t> a(M * K);
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t k = 0; k < K; ++k) a[m * K + k] = float16_code(a_int[m][k]);
  std::vector<std::int8_t> w(N * K);
  std::vector<float> scale(N * nb);
  std::vector<std::int8_t> zp(N * nb);
  std::mt19937 rng(5);
  for (auto& v : w) v = std::int8_t(std::uniform_int_distribution<int>(-128, 127)(rng));
  for (std::size_t i = 0; i < scale.size(); ++i) scale[i] = std::ldexp(1.0f, int(i % 5) - 2) * (i % 2 ? -1 : 1);
  for (auto& v : zp) v = std::int8_t(std::uniform_int_distribution<int>(-128, 127)(rng));
  const std::vector<float> bias = {0.5f, -3.0f, 1024.0f};
  std::vector<float> c(M * N, -7.0f);
  qmath::gemm_w8a16_reference(
      {M, K, N, bs, a.data(), qmath::Activation16::kFloat16, w.data(), scale.data(), zp.data(), bias.data(), c.data()});
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      double exact = bias[n];
      for (std::size_t k = 0; k < K; ++k)
        exact += double(a_int[m][k]) * (double(w[n * K + k]) - zp[n * nb + k / bs]) * scale[n * nb + k / bs];
      CHECK(double(c[m * N + n]) == exact);
    }
}

TEST_CASE("gemm_wa16: the float32 sum runs in k order, each step rounded") {
  // bfloat16 activations 2^24, 1, -2^24 against weights 1: the in-order sum loses the 1 (2^24 + 1 rounds to 2^24).
  const std::vector<std::uint16_t> a = {bfloat16_code(16777216.0f), bfloat16_code(1.0f), bfloat16_code(-16777216.0f)};
  const std::vector<std::int8_t> w = {1, 1, 1};
  const float scale = 1.0f;
  float c = -7.0f;
  qmath::gemm_w8a16_reference({1, 3, 1, 3, a.data(), qmath::Activation16::kBFloat16, w.data(), &scale, nullptr,
                               nullptr, &c});
  CHECK(c == 0.0f);
  // Reversed order keeps it: 0 + -2^24 + 1 = -16777215 exactly, then + 2^24 = 1.
  const std::vector<std::uint16_t> r = {a[2], a[1], a[0]};
  qmath::gemm_w8a16_reference({1, 3, 1, 3, r.data(), qmath::Activation16::kBFloat16, w.data(), &scale, nullptr,
                               nullptr, &c});
  CHECK(c == 1.0f);
}

TEST_CASE("gemm_w4a16_reference equals gemm_w8a16_reference on the same weight values, bit for bit") {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 24; ++trial) {
    const std::size_t bs = std::size_t(16) << (trial % 5);  // 16 .. 256
    const std::size_t K = 1 + rng() % 300, N = 1 + rng() % 9, M = 1 + rng() % 4;
    const bool symmetric = trial % 3 == 0, bf16 = trial % 2 == 1, with_bias = trial % 4 != 0;
    const qmath::MatMulNBitsShape s{K, N, bs};
    const std::size_t nb = s.blocks();
    std::vector<std::int32_t> q(N * K), zp(N * nb);
    for (auto& v : q) v = int(rng() % 16);
    for (auto& v : zp) v = symmetric ? 8 : int(rng() % 16);
    // Pack: [N][blocks][bs / 2] uint4, low nibble first; zero points [N][ceil(nb / 2)].
    std::vector<std::uint8_t> packed(s.packed_bytes(), 0), zpacked(s.zero_point_bytes(), 0);
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t k = 0; k < K; ++k) {
        const std::size_t b = k / bs, i = k % bs;
        packed[(n * nb + b) * (bs / 2) + i / 2] |= std::uint8_t(q[n * K + k] << (4 * (i % 2)));
      }
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t b = 0; b < nb; ++b) zpacked[n * ((nb + 1) / 2) + b / 2] |= std::uint8_t(zp[n * nb + b] << (4 * (b % 2)));
    std::vector<float> scale(N * nb), bias(N);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    for (auto& v : scale) v = nd(rng);
    for (auto& v : bias) v = nd(rng);
    // Activations: random finite codes of the chosen type (values of moderate size).
    std::vector<std::uint16_t> a(M * K);
    std::vector<double> a_value(M * K);
    for (std::size_t i = 0; i < a.size(); ++i) {
      const float x = std::normal_distribution<float>(0.0f, 2.0f)(rng);
      a[i] = bf16 ? std::uint16_t(bits_of(x) >> 16) : float16_code(std::ldexp(std::round(std::ldexp(x, 6)), -6));
      a_value[i] = qmath::activation16_to_float(a[i], bf16 ? qmath::Activation16::kBFloat16
                                                           : qmath::Activation16::kFloat16);
    }
    const qmath::Activation16 type = bf16 ? qmath::Activation16::kBFloat16 : qmath::Activation16::kFloat16;
    std::vector<float> c4(M * N, -7.0f), c8(M * N, -9.0f);
    qmath::gemm_w4a16_reference({M, a.data(), type, s, packed.data(), scale.data(),
                                 symmetric ? nullptr : zpacked.data(), with_bias ? bias.data() : nullptr, c4.data()});
    std::vector<std::int8_t> w8(N * K), z8(N * nb);
    for (std::size_t i = 0; i < w8.size(); ++i) w8[i] = std::int8_t(q[i]);
    for (std::size_t i = 0; i < z8.size(); ++i) z8[i] = std::int8_t(zp[i]);
    qmath::gemm_w8a16_reference({M, K, N, bs, a.data(), type, w8.data(), scale.data(), z8.data(),
                                 with_bias ? bias.data() : nullptr, c8.data()});
    INFO("trial " << trial << " M " << M << " K " << K << " N " << N << " bs " << bs);
    for (std::size_t i = 0; i < c4.size(); ++i) {
      REQUIRE(bits_of(c4[i]) == bits_of(c8[i]));
      // And close to the exact value: K roundings of at most half an ulp of the running magnitude.
      const std::size_t m = i / N, n = i % N;
      double exact = with_bias ? bias[n] : 0.0, magnitude = std::fabs(exact);
      for (std::size_t k = 0; k < K; ++k) {
        const double t = a_value[m * K + k] * (q[n * K + k] - zp[n * nb + k / bs]) * double(scale[n * nb + k / bs]);
        exact += t;
        magnitude += std::fabs(t);
      }
      REQUIRE(std::fabs(double(c4[i]) - exact) <= magnitude * double(K + 2) * std::ldexp(1.0, -24));
    }
  }
}

TEST_CASE("gemm_wa16: bad input is refused before C is written") {
  const std::vector<std::uint16_t> a(8, 0x3C00);
  const std::vector<std::int8_t> w(8, 1);
  std::vector<float> scale(4, 1.0f);
  float c[2] = {-7.0f, -7.0f};
  const auto w8 = [&](std::size_t bs, const float* bias) {
    return qmath::W8A16GemmArgs{1, 4, 2, bs, a.data(), qmath::Activation16::kFloat16, w.data(), scale.data(),
                                nullptr, bias, c};
  };
  CHECK_THROWS_WITH(qmath::gemm_w8a16_reference(w8(0, nullptr)), Catch::Contains("block_size must be >= 1"));
  scale[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(qmath::gemm_w8a16_reference(w8(2, nullptr)), Catch::Contains("w_scale[3] is not finite"));
  scale[3] = 1.0f;
  const float bias[2] = {0.0f, INFINITY};
  CHECK_THROWS_WITH(qmath::gemm_w8a16_reference(w8(2, bias)), Catch::Contains("bias[1] is not finite"));
  qmath::W8A16GemmArgs null_w = w8(2, nullptr);
  null_w.w = nullptr;
  CHECK_THROWS_WITH(qmath::gemm_w8a16_reference(null_w), Catch::Contains("null pointer"));
  const std::uint8_t packed[16] = {};
  const float s4[2] = {1.0f, 1.0f};
  CHECK_THROWS_WITH(qmath::gemm_w4a16_reference({1, a.data(), qmath::Activation16::kFloat16, {4, 2, 12}, packed, s4,
                                                 nullptr, nullptr, c}),
                    Catch::Contains("block_size must be a power of two"));
  CHECK(c[0] == -7.0f);
  CHECK(c[1] == -7.0f);
}

// Tests for qmath/gemm_w4a8.hpp: exact results where every intermediate is representable (power-of-two scales),
// bit-exactness against an independent formulation on unpacked weights (random shapes with ragged last groups, odd
// K, both symmetric and asymmetric weights as quantize_matmul_nbits4 writes them, activation zero points), a
// tolerance check against double precision, and the error policy.
#include <qmath/gemm_w4a8.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

struct Problem {
  std::size_t M, K, N, bs;
  bool symmetric;
  std::vector<std::int8_t> a;
  std::vector<float> a_scale;
  std::vector<std::int32_t> a_zp;
  std::vector<std::uint8_t> wq, wzp;
  std::vector<float> ws;
  qmath::W4A8GemmArgs args(std::vector<float>& c) {
    c.assign(M * N, -7.0f);
    return {M, a.data(), a_scale.data(), a_zp.empty() ? nullptr : a_zp.data(), {K, N, bs}, wq.data(), ws.data(),
            symmetric ? nullptr : wzp.data(), c.data()};
  }
};

Problem make(std::size_t M, std::size_t K, std::size_t N, std::size_t bs, bool symmetric, bool a_zp,
             std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> ai(-128, 127);
  Problem p{M, K, N, bs, symmetric, {}, {}, {}, {}, {}, {}};
  p.a.resize(M * K);
  for (auto& v : p.a) v = static_cast<std::int8_t>(ai(rng));
  for (std::size_t m = 0; m < M; ++m) {
    p.a_scale.push_back(0.01f + 0.001f * static_cast<float>(m));
    if (a_zp) p.a_zp.push_back(ai(rng));
  }
  std::vector<float> w(K * N);
  for (auto& v : w) v = nd(rng) * 0.1f;
  const qmath::MatMulNBitsShape s{K, N, bs};
  p.wq.resize(s.packed_bytes());
  p.ws.resize(s.scale_count());
  p.wzp.resize(s.zero_point_bytes());
  qmath::quantize_matmul_nbits4(w.data(), s, symmetric, p.wq.data(), p.ws.data(), symmetric ? nullptr : p.wzp.data());
  return p;
}

// The same definition written differently: unpack W into an int matrix of (q - zp) and a per-(k, n) scale index.
std::vector<float> independent(const Problem& p) {
  const std::size_t nb = (p.K + p.bs - 1) / p.bs;
  std::vector<std::int32_t> wd(p.K * p.N);
  for (std::size_t n = 0; n < p.N; ++n)
    for (std::size_t k = 0; k < p.K; ++k) {
      const std::size_t b = k / p.bs, j = k % p.bs;
      const std::uint8_t byte = p.wq[(n * nb + b) * (p.bs / 2) + j / 2];
      const int q = (j % 2) ? byte >> 4 : byte & 0xF;
      int zp = 8;
      if (!p.symmetric) {
        const std::uint8_t zb = p.wzp[n * ((nb + 1) / 2) + b / 2];
        zp = (b % 2) ? zb >> 4 : zb & 0xF;
      }
      wd[k * p.N + n] = q - zp;
    }
  std::vector<float> c(p.M * p.N);
  for (std::size_t m = 0; m < p.M; ++m)
    for (std::size_t n = 0; n < p.N; ++n) {
      float sum = 0.0f;
      for (std::size_t b = 0; b < nb; ++b) {
        std::int32_t acc = 0;
        for (std::size_t k = b * p.bs; k < std::min(p.K, (b + 1) * p.bs); ++k)
          acc += (p.a[m * p.K + k] - (p.a_zp.empty() ? 0 : p.a_zp[m])) * wd[k * p.N + n];
        sum += static_cast<float>(acc) * p.ws[n * nb + b];
      }
      c[m * p.N + n] = sum * p.a_scale[m];
    }
  return c;
}

bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }

}  // namespace

TEST_CASE("gemm_w4a8 is exact when every intermediate is representable", "[w4a8]") {
  Problem p = make(3, 64, 4, 16, false, true, 1);
  for (auto& s : p.ws) s = 0.125f;
  for (auto& s : p.a_scale) s = 0.5f;
  std::vector<float> c;
  qmath::gemm_w4a8(p.args(c));
  const std::size_t nb = 4;
  for (std::size_t m = 0; m < p.M; ++m)
    for (std::size_t n = 0; n < p.N; ++n) {
      double want = 0.0;
      for (std::size_t k = 0; k < p.K; ++k) {
        const std::size_t b = k / p.bs, j = k % p.bs;
        const std::uint8_t byte = p.wq[(n * nb + b) * (p.bs / 2) + j / 2];
        const int q = (j % 2) ? byte >> 4 : byte & 0xF;
        const std::uint8_t zb = p.wzp[n * 2 + b / 2];
        const int zp = (b % 2) ? zb >> 4 : zb & 0xF;
        want += double(p.a[m * p.K + k] - p.a_zp[m]) * 0.5 * double(q - zp) * 0.125;
      }
      CHECK(c[m * p.N + n] == static_cast<float>(want));
    }
}

TEST_CASE("gemm_w4a8 equals the definition on unpacked weights bit for bit, and double precision closely", "[w4a8]") {
  struct Shape {
    std::size_t M, K, N, bs;
  };
  for (const Shape& sh : {Shape{1, 32, 1, 32}, Shape{5, 100, 7, 32}, Shape{4, 77, 3, 16}, Shape{2, 300, 5, 128},
                          Shape{3, 256, 2, 256}})
    for (bool sym : {true, false})
      for (bool azp : {false, true}) {
        Problem p = make(sh.M, sh.K, sh.N, sh.bs, sym, azp, static_cast<std::uint32_t>(sh.K * 31 + sh.N + sym));
        std::vector<float> c;
        qmath::gemm_w4a8(p.args(c));
        const auto want = independent(p);
        INFO("M " << sh.M << " K " << sh.K << " N " << sh.N << " block " << sh.bs << " symmetric " << sym
                  << " activation zero point " << azp);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK(same_bits(c[i], want[i]));
        // float32 summation over at most K / 16 groups: relative error far below 1e-5 of the magnitude sum
        const std::size_t nb = (sh.K + sh.bs - 1) / sh.bs;
        for (std::size_t m = 0; m < sh.M; ++m)
          for (std::size_t n = 0; n < sh.N; ++n) {
            double exact = 0.0, mag = 0.0;
            for (std::size_t k = 0; k < sh.K; ++k) {
              const std::size_t b = k / sh.bs, j = k % sh.bs;
              const std::uint8_t byte = p.wq[(n * nb + b) * (sh.bs / 2) + j / 2];
              int zp = 8;
              if (!sym) {
                const std::uint8_t zb = p.wzp[n * ((nb + 1) / 2) + b / 2];
                zp = (b % 2) ? zb >> 4 : zb & 0xF;
              }
              const double t = double(p.a[m * sh.K + k] - (azp ? p.a_zp[m] : 0)) *
                               double(((j % 2) ? byte >> 4 : byte & 0xF) - zp) * double(p.ws[n * nb + b]);
              exact += t;
              mag += std::fabs(t);
            }
            exact *= p.a_scale[m];
            mag *= p.a_scale[m];
            CHECK(std::fabs(double(c[m * sh.N + n]) - exact) <= 1e-6 * mag + 1e-30);
          }
      }
}

TEST_CASE("gemm_w4a8: bad arguments throw qmath::error before C is written", "[w4a8]") {
  Problem p = make(2, 64, 3, 32, false, true, 7);
  std::vector<float> c;
  auto untouched = [&] {
    for (float v : c) CHECK(v == -7.0f);
  };
  {
    auto args = p.args(c);
    const float bad_scale[2] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
    args.a_scale = bad_scale;
    CHECK_THROWS_WITH(qmath::gemm_w4a8(args), Catch::Contains("a_scale[1]"));
    untouched();
  }
  {
    auto args = p.args(c);
    const std::int32_t bad_zp[2] = {0, 128};
    args.a_zero_point = bad_zp;
    CHECK_THROWS_WITH(qmath::gemm_w4a8(args), Catch::Contains("a_zero_point[1] = 128"));
    untouched();
  }
  {
    auto args = p.args(c);
    args.weights.block_size = 24;
    CHECK_THROWS_WITH(qmath::gemm_w4a8(args), Catch::Contains("block_size"));
    untouched();
  }
  {
    auto args = p.args(c);
    p.ws[3] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(qmath::gemm_w4a8(args), Catch::Contains("w_scale[3] is not finite"));
    untouched();
  }
}

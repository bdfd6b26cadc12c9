// Tests for qmath/gemm_w4a8.hpp: exact results where every intermediate is representable (power-of-two scales),
// bit-exactness against an independent formulation on unpacked weights (random shapes with ragged last groups, odd
// K, both symmetric and asymmetric weights as quantize_matmul_nbits4 writes them, activation zero points), a
// tolerance check against double precision, the error policy, and every path of the ISA registry (the AVX2 kernel)
// against gemm_w4a8_reference bit for bit: random shapes (odd K and N, ragged last groups, every block size, garbage
// in the padding nibbles), extreme activations, weights, zero points and scales (Inf and NaN results included).
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

namespace {

// Runs gemm_w4a8 on every path of qmath::kAllIsas: a runnable one must give gemm_w4a8_reference's bits, one that is
// unavailable or above the cap must throw before writing C. Returns the number of paths run.
int check_every_path(Problem& p, const char* what) {
  std::vector<float> want, got;
  qmath::gemm_w4a8_reference(p.args(want));
  int ran = 0;
  for (qmath::Isa isa : qmath::kAllIsas) {
    INFO(what << ": M " << p.M << " K " << p.K << " N " << p.N << " block " << p.bs << " symmetric " << p.symmetric
              << " path " << qmath::isa_name(isa));
    auto args = p.args(got);
    if (!qmath::isa_available(isa) || isa > qmath::max_isa()) {
      CHECK_THROWS_AS(qmath::gemm_w4a8(args, isa), qmath::error);
      for (float v : got) CHECK(v == -7.0f);
      continue;
    }
    qmath::gemm_w4a8(args, isa);
    ++ran;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i) bad += !same_bits(got[i], want[i]);
    CHECK(bad == 0);
  }
  return ran;
}

// Fills the padding nibbles of the last block (past K) and the unused zero-point nibble with nonzero garbage: the
// definition ignores them.
void poison_padding(Problem& p, std::mt19937& rng) {
  const std::size_t nb = (p.K + p.bs - 1) / p.bs, half = p.bs / 2;
  for (std::size_t n = 0; n < p.N; ++n) {
    for (std::size_t j = p.K - (nb - 1) * p.bs; j < p.bs; ++j) {
      std::uint8_t& byte = p.wq[(n * nb + nb - 1) * half + j / 2];
      const unsigned v = 1 + rng() % 15;
      byte = static_cast<std::uint8_t>((j % 2) ? (byte & 0x0F) | (v << 4) : (byte & 0xF0) | v);
    }
    if (!p.symmetric && nb % 2) p.wzp[n * ((nb + 1) / 2) + nb / 2] = (p.wzp[n * ((nb + 1) / 2) + nb / 2] & 0x0F) | 0xA0;
  }
}

}  // namespace

TEST_CASE("gemm_w4a8: every runnable path gives the reference's bits on random shapes", "[w4a8][isa]") {
  std::mt19937 rng(2024);
  int runs = 0;
  for (std::size_t bs : {16, 32, 64, 128, 256})
    for (int rep = 0; rep < 6; ++rep) {
      const std::size_t M = rep < 3 ? 1 : 1 + rng() % 17, N = 1 + rng() % 40;  // M = 1: the decoding loop
      // K: a multiple of the block, a ragged last group (odd included), or shorter than one block.
      // Up to 40 groups, so that the kernel's 8-group steps and their remainders both run.
      const std::size_t K = rep % 3 == 0 ? bs * (1 + rng() % 40) : (rep % 3 == 1 ? 1 + rng() % (40 * bs) : 1 + rng() % bs);
      const bool sym = rep % 2 == 0;
      Problem p = make(M, K, N, bs, sym, rep % 4 != 3, static_cast<std::uint32_t>(rng()));
      if (rep % 4 == 2)  // activation zero points, some zero
        for (std::size_t m = 0; m < M; m += 2) p.a_zp[m] = 0;
      poison_padding(p, rng);
      runs += check_every_path(p, "random");
    }
  CHECK(runs >= 30);  // at least the scalar path ran on each
}

TEST_CASE("gemm_w4a8: every runnable path gives the reference's bits at the extremes", "[w4a8][isa]") {
  const float big = std::numeric_limits<float>::max(), tiny = std::numeric_limits<float>::denorm_min();
  for (std::size_t bs : {16, 32, 256})
    for (int a_val : {-128, 127})
      for (int w_val : {0, 15})
        for (int zp : {0, 15})
          for (int azp : {-128, 127}) {
            Problem p = make(bs == 32 ? 1 : 3, 2 * bs + 9, 19, bs, false, true, 3);
            for (auto& v : p.a) v = static_cast<std::int8_t>(a_val);
            for (auto& v : p.a_zp) v = azp;
            for (auto& v : p.wq) v = static_cast<std::uint8_t>(w_val * 17);
            for (auto& v : p.wzp) v = static_cast<std::uint8_t>(zp * 17);
            check_every_path(p, "extreme values");
          }
  // Scales that overflow (Inf, Inf - Inf = NaN), underflow to subnormals and zero, and mixed signs.
  Problem p = make(4, 300, 24, 32, false, true, 11);
  const float scales[] = {big, -big, tiny, 0.0f, -0.0f, 1e-30f, 3.0f, -2.5e38f};
  for (std::size_t i = 0; i < p.ws.size(); ++i) p.ws[i] = scales[(i * 7 + i / 3) % 8];
  p.a_scale = {big, tiny, 1.0f, 1e-20f};
  check_every_path(p, "extreme scales");
  Problem one = p;  // the same with M = 1 (the decoding loop)
  one.M = 1;
  one.a.resize(one.K);
  one.a_scale = {big};
  one.a_zp.resize(1);
  check_every_path(one, "extreme scales, M = 1");
  std::vector<float> c;
  qmath::gemm_w4a8_reference(p.args(c));
  bool inf = false, nan = false;
  for (float v : c) {
    inf = inf || std::isinf(v);
    nan = nan || std::isnan(v);
  }
  CHECK(inf);  // the case reaches the special values it is meant to test
  CHECK(nan);
}

TEST_CASE("gemm_w4a8: a path above the cap or unavailable is an error, and the cap is obeyed", "[w4a8][isa]") {
  Problem p = make(2, 64, 16, 32, true, false, 5);
  std::vector<float> c;
  CHECK(qmath::resolved_isa_for_w4a8(qmath::Isa::kScalar) == qmath::Isa::kScalar);
  if (qmath::isa_available(qmath::Isa::kAvx2) && qmath::max_isa() == qmath::Isa::kAuto) {
    CHECK(qmath::resolved_isa_for_w4a8() == qmath::Isa::kAvx2);
    CHECK(qmath::resolved_isa_for_w4a8(qmath::Isa::kAvx2) == qmath::Isa::kAvx2);
    qmath::set_max_isa(qmath::Isa::kScalar);
    CHECK(qmath::resolved_isa_for_w4a8() == qmath::Isa::kScalar);
    auto args = p.args(c);
    CHECK_THROWS_WITH(qmath::gemm_w4a8(args, qmath::Isa::kAvx2), Catch::Contains("above the cap"));
    for (float v : c) CHECK(v == -7.0f);
    qmath::reset_max_isa();
  }
  auto args = p.args(c);
  qmath::gemm_w4a8(args);
  std::vector<float> want;
  qmath::gemm_w4a8_reference(p.args(want));
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(same_bits(c[i], want[i]));
}

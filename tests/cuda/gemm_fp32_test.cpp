// qmath/cuda/gemm_fp32.cuh against a host reference with the same accumulation: acc = fmaf(a, b, acc) over
// k = 0 .. K-1 from +0. The kernel accumulates each output in exactly that order (zero-filled K tails add
// fmaf(0, 0, acc) = acc), so the comparison is bit-exact; no tolerance is needed.
#include <qmath/cuda/gemm_fp32.cuh>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "test_support.hpp"

namespace {

using qmath::GemmShape;
using qmath_test::DeviceBuffer;
using TileTest = qmath::cuda::GemmTile<16, 8, 8, 4, 2>;

std::vector<float> reference(GemmShape s, const std::vector<float>& a, std::int64_t lda, const std::vector<float>& b,
                             std::int64_t ldb, std::int64_t ldc, float fill) {
  std::vector<float> c(static_cast<std::size_t>(s.m * ldc), fill);
  for (int m = 0; m < s.m; ++m)
    for (int n = 0; n < s.n; ++n) {
      float acc = 0.0f;
      for (int k = 0; k < s.k; ++k) acc = std::fmaf(a[m * lda + k], b[n * ldb + k], acc);
      c[m * ldc + n] = acc;
    }
  return c;
}

template <class Tile>
void check(GemmShape s, std::uint32_t seed, int extra_ld = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> v(-2.0f, 2.0f);
  const std::int64_t lda = (s.k + 3) / 4 * 4 + 4 * extra_ld, ldb = (s.k + 3) / 4 * 4, ldc = s.n + extra_ld;
  std::vector<float> a(static_cast<std::size_t>(s.m * lda)), b(static_cast<std::size_t>(s.n * ldb));
  for (auto& x : a) x = v(rng);
  for (auto& x : b) x = v(rng);
  const std::vector<float> expect = reference(s, a, lda, b, ldb, ldc, -1.0f);
  DeviceBuffer<float> da(a), db(b), dc(std::vector<float>(expect.size(), -1.0f));
  qmath::cuda::gemm_fp32_tile<Tile>(qmath::row_major(da.get(), s.m, s.k, lda), qmath::col_major(db.get(), s.k, s.n, ldb),
                                    qmath::row_major(dc.get(), s.m, s.n, ldc));
  const std::vector<float> got = dc.download();
  INFO("M=" << s.m << " N=" << s.n << " K=" << s.k);
  CHECK(std::memcmp(got.data(), expect.data(), sizeof(float) * got.size()) == 0);
}

}  // namespace

TEST_CASE("gemm_fp32 shape sweep is bit-exact with the sequential fmaf reference", "[cuda][gemm_fp32]" QMATH_CUDA_TEST_TAG) {
  std::uint32_t seed = 1;
  for (int m : {1, 4, 5, 17, 33})
    for (int n : {1, 3, 8, 17})
      for (int k : {1, 3, 4, 5, 17, 64, 65}) check<TileTest>({m, n, k}, seed++, (m + k) % 2);
}

TEST_CASE("gemm_fp32 production presets", "[cuda][gemm_fp32]" QMATH_CUDA_TEST_TAG) {
  check<qmath::cuda::TileSmall>({33, 40, 70}, 7);
  check<qmath::cuda::TileMedium>({65, 66, 37}, 8, 1);
  check<qmath::cuda::TileLarge>({129, 130, 33}, 9);
}

TEST_CASE("gemm_fp32 rejects bad arguments", "[cuda][gemm_fp32]" QMATH_CUDA_TEST_TAG) {
  DeviceBuffer<float> a(256), b(256), c(256);
  CHECK_THROWS_AS(qmath::cuda::gemm_fp32(qmath::row_major(a.get(), 4, 6, 6), qmath::col_major(b.get(), 6, 4, 8), qmath::row_major(c.get(), 4, 4, 4)), qmath::error);
  CHECK_THROWS_AS(qmath::cuda::gemm_fp32(qmath::row_major(a.get() + 1, 4, 8, 8), qmath::col_major(b.get(), 8, 4, 8), qmath::row_major(c.get(), 4, 4, 4)), qmath::error);
  CHECK_THROWS_AS(qmath::cuda::gemm_fp32(qmath::row_major(a.get(), 4, 8, 8), qmath::col_major(b.get(), 8, 4, 8), qmath::row_major(c.get(), 4, 4, 3)), qmath::error);
  CHECK_NOTHROW(qmath::cuda::gemm_fp32(qmath::row_major(a.get(), 4, 8, 8), qmath::col_major(b.get(), 8, 4, 8), qmath::row_major(c.get(), 4, 4, 4)));
}

// qmath/cuda/cublas.cuh (GPU only): the vendor baselines agree with the qmath reference in the same TN convention,
// so that the benchmarks compare equal work.
#include <qmath/cuda/cublas.cuh>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

#include <qmath/gemm_reference.hpp>

#include "test_support.hpp"

TEST_CASE("cuBLASLt INT8 TN matches gemm_reference", "[cuda][cublas][gpu]") {
  const qmath::GemmShape s{64, 48, 96};
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> v(-128, 127);
  std::vector<std::int8_t> a(64 * 96), b(48 * 96);
  for (auto& x : a) x = static_cast<std::int8_t>(v(rng));
  for (auto& x : b) x = static_cast<std::int8_t>(v(rng));
  std::vector<std::int32_t> expect(64 * 48);
  qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(a.data(), 64, 96), qmath::col_major(b.data(), 96, 48),
                                         qmath::row_major(expect.data(), 64, 48)});
  qmath_test::DeviceBuffer<std::int8_t> da(a), db(b);
  qmath_test::DeviceBuffer<std::int32_t> dc(expect.size());
  qmath_test::DeviceBuffer<unsigned char> ws(1 << 22);
  cublasLtHandle_t h = nullptr;
  qmath::cuda::check_cublas(cublasLtCreate(&h), "test");
  {
    qmath::cuda::CublasLtInt8Gemm g(h, s, 96, 96, 48, qmath::cuda::CublasLtInt8Gemm::Output::kInt32, ws.get(),
                                    ws.size());
    g.run(da.get(), db.get(), dc.get());
    CHECK(dc.download() == expect);
  }
  cublasLtDestroy(h);
}

TEST_CASE("cuBLAS SGEMM TN matches a double-precision reference", "[cuda][cublas][gpu]") {
  const qmath::GemmShape s{33, 20, 64};
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> v(-1.0f, 1.0f);
  std::vector<float> a(33 * 64), b(20 * 64);
  for (auto& x : a) x = v(rng);
  for (auto& x : b) x = v(rng);
  qmath_test::DeviceBuffer<float> da(a), db(b), dc(33 * 20);
  cublasHandle_t h = nullptr;
  qmath::cuda::check_cublas(cublasCreate(&h), "test");
  qmath::cuda::cublas_sgemm_tn(h, s, da.get(), 64, db.get(), 64, dc.get(), 20);
  const std::vector<float> got = dc.download();
  cublasDestroy(h);
  for (int m = 0; m < 33; ++m)
    for (int n = 0; n < 20; ++n) {
      double ref = 0;
      for (int k = 0; k < 64; ++k) ref += double(a[m * 64 + k]) * b[n * 64 + k];
      // cuBLAS may reorder and fuse the 64 products (and use TF32 only if asked, which we do not): a few ulps of
      // the sum of |products| <= 64.
      CHECK(std::abs(got[m * 20 + n] - ref) <= 64 * 64 * 1.2e-7);
    }
}

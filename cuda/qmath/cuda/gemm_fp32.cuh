// qmath/cuda/gemm_fp32.cuh - FP32 SIMT GEMM with the same tiling as gemm_dp4a (the like-for-like baseline).
//
//   C = A * B^T      A: M x K row-major (lda), B: N x K row-major (ldb), C: M x N row-major (ldc), all float
//
// Same kernel template as the DP4A GEMM (qmath/cuda/detail/gemm_tn.cuh) with fmaf instead of dp4a: a 4-element K
// chunk is one float4 load, and every output is acc = fmaf(a[m][k], b[n][k], acc) for k = 0, 1, ..., K - 1 in that
// order, starting from +0 (the zero-filled K tail adds fmaf(0, 0, acc) = acc). So the result is bit-identical to
// the sequential fmaf loop in the same order (tests/cuda/gemm_fp32_test.cpp); it differs from a differently ordered
// or non-fused sum by normal rounding.
//
// Requirements (qmath::error otherwise): M, N, K > 0, lda >= K, ldb >= K, ldc >= N, a and b 16-byte aligned, lda and
// ldb multiples of 4; device pointers; asynchronous on `stream`.
#pragma once

#include <cstdint>

#include <qmath/cuda/detail/gemm_tn.cuh>
#include <qmath/cuda/gemm_dp4a.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/error.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cuda {

template <class Tile>
void gemm_fp32_tile(GemmShape s, const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
                    std::int64_t ldc, cudaStream_t stream = nullptr) {
  const char* where = "cuda::gemm_fp32";
  qmath::detail::require(s.m > 0 && s.n > 0 && s.k > 0, where, "sizes must be positive, got M=", s.m, " N=", s.n,
                         " K=", s.k);
  qmath::detail::require(a != nullptr && b != nullptr && c != nullptr, where, "null operand pointer");
  qmath::detail::require(lda >= s.k && ldb >= s.k && ldc >= s.n, where, "leading dimensions lda=", lda, " ldb=", ldb,
                         " ldc=", ldc, " too small for M=", s.m, " N=", s.n, " K=", s.k);
  qmath::detail::require(lda % 4 == 0 && ldb % 4 == 0, where, "lda (", lda, ") and ldb (", ldb,
                         ") must be multiples of 4");
  qmath::detail::require(detail::aligned_to(a, 16) && detail::aligned_to(b, 16), where,
                         "A and B must be 16-byte aligned");
  detail::check_grid<Tile>(where, s);
  detail::GemmTnParams<float, float> p{};
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.a = a;
  p.lda = lda;
  p.b = b;
  p.ldb = ldb;
  p.c = c;
  p.ldc = ldc;
  const dim3 grid(static_cast<unsigned>((s.m + Tile::kM - 1) / Tile::kM),
                  static_cast<unsigned>((s.n + Tile::kN - 1) / Tile::kN));
  launch(where, &detail::gemm_tn_kernel<Tile, detail::Fp32Math, float>, {grid, dim3(Tile::kThreads), 0, stream}, p);
}

inline void gemm_fp32(GemmShape s, const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float* c,
               std::int64_t ldc, cudaStream_t stream = nullptr, GemmPreset preset = GemmPreset::kAuto) {
  if (preset == GemmPreset::kAuto && s.m > 0 && s.n > 0) preset = choose_gemm_preset(s);
  switch (preset) {
    case GemmPreset::kLarge:
      return gemm_fp32_tile<TileLarge>(s, a, lda, b, ldb, c, ldc, stream);
    case GemmPreset::kMedium:
      return gemm_fp32_tile<TileMedium>(s, a, lda, b, ldb, c, ldc, stream);
    case GemmPreset::kSmall:
    default:
      return gemm_fp32_tile<TileSmall>(s, a, lda, b, ldb, c, ldc, stream);
  }
}

}  // namespace cuda
}  // namespace qmath

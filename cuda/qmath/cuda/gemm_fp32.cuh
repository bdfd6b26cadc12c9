// qmath/cuda/gemm_fp32.cuh - FP32 SIMT GEMM with the same tiling as gemm_dp4a (the like-for-like baseline).
//
//   C = A * B        A: M x K row-major, B: K x N column-major (N x K storage, K contiguous), C: M x N row-major,
//                    all float views (qmath/matrix.hpp)
//
// Same kernel template as the DP4A GEMM (qmath/cuda/detail/gemm_tn.cuh) with fmaf instead of dp4a: a 4-element K
// chunk is one float4 load, and every output is acc = fmaf(a[m][k], b[n][k], acc) for k = 0, 1, ..., K - 1 in that
// order, starting from +0 (the zero-filled K tail adds fmaf(0, 0, acc) = acc). So the result is bit-identical to
// the sequential fmaf loop in the same order (tests/cuda/gemm_fp32_test.cpp); it differs from a differently ordered
// or non-fused sum by normal rounding.
//
// Requirements (qmath::error otherwise): valid views whose extents agree, the orders above, a and b 16-byte aligned,
// their strides multiples of 4; device pointers; asynchronous on `stream`.
#pragma once

#include <cstdint>

#include <qmath/cuda/detail/gemm_tn.cuh>
#include <qmath/cuda/gemm_dp4a.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/error.hpp>
#include <qmath/matrix.hpp>

namespace qmath {
namespace cuda {

template <class Tile>
void gemm_fp32_tile(MatrixView<const float> a, MatrixView<const float> b, MatrixView<float> c,
                    cudaStream_t stream = nullptr) {
  const char* where = "cuda::gemm_fp32";
  qmath::detail::check_view(where, "a", a);
  qmath::detail::check_view(where, "b", b);
  qmath::detail::check_view(where, "c", c);
  qmath::detail::require(a.cols == b.rows && c.rows == a.rows && c.cols == b.cols, where, "extents disagree: a ",
                         a.rows, " x ", a.cols, ", b ", b.rows, " x ", b.cols, ", c ", c.rows, " x ", c.cols);
  detail::can_implement_tn<Tile>(where, a, b, c, 16);
  detail::GemmTnParams<float, float> p{};
  p.m = c.rows;
  p.n = c.cols;
  p.k = a.cols;
  p.a = a.data;
  p.lda = a.stride;
  p.b = b.data;
  p.ldb = b.stride;
  p.c = c.data;
  p.ldc = c.stride;
  const dim3 grid(static_cast<unsigned>((p.m + Tile::kM - 1) / Tile::kM),
                  static_cast<unsigned>((p.n + Tile::kN - 1) / Tile::kN));
  launch(where, &detail::gemm_tn_kernel<Tile, detail::Fp32Math, float>, {grid, dim3(Tile::kThreads), 0, stream}, p);
}

inline void gemm_fp32(MatrixView<const float> a, MatrixView<const float> b, MatrixView<float> c,
                      cudaStream_t stream = nullptr, GemmPreset preset = GemmPreset::kAuto) {
  if (preset == GemmPreset::kAuto && c.rows > 0 && c.cols > 0) preset = choose_gemm_preset(GemmShape{c.rows, c.cols, a.cols});
  switch (preset) {
    case GemmPreset::kLarge:
      return gemm_fp32_tile<TileLarge>(a, b, c, stream);
    case GemmPreset::kMedium:
      return gemm_fp32_tile<TileMedium>(a, b, c, stream);
    case GemmPreset::kSmall:
    default:
      return gemm_fp32_tile<TileSmall>(a, b, c, stream);
  }
}

}  // namespace cuda
}  // namespace qmath

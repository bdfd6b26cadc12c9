// qmath/cpu/detail/saturating.hpp - the int16-saturating GEMM of AVX2 u8s8 kernels (oneDNN, MLAS), opt-in.
//
// Not the exact GEMM. oneDNN's and MLAS's AVX2 (non-VNNI) u8s8 kernels multiply with VPMADDUBSW, which adds the two
// products of a k pair in int16 with saturation: {255, 255} x {127, 127} gives 32767, not 64770. To reproduce their
// results bit for bit, GemmOptions::saturate_int16_pairs runs this arithmetic on every path:
//   A' = a + off_a (uint8), B' = b + off_b (int8), as in detail/pack.hpp,
//   dot[m][n] = sum over k pairs (2i, 2i + 1) of sat16(A'[m][2i] B'[2i][n] + A'[m][2i+1] B'[2i+1][n])
//               (a K tail pairs with a zero), added in wrapping int32,
//   acc = zero_point_correct(dot, sum_k A', sum_k B', za', zb', K),  C = apply_epilogue(acc).
// For uint8 A and int8 B with zero points 0 this is the int32 result of dnnl_gemm_u8s8s32 on an AVX2 machine;
// int8 A enters as A' = a + 128, the same shift oneDNN's s8s8 GEMM applies before its u8s8 kernel.
#pragma once

#include <cstdint>
#include <vector>

#include <qmath/cpu/detail/pack.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_args.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cpu {
namespace detail {

// VPMADDUBSW on one k pair: a0 b0 + a1 b1 (a in [0, 255], b in [-128, 127]) saturated to [-32768, 32767].
inline std::int32_t saturating_pair(std::int32_t a0, std::int32_t b0, std::int32_t a1, std::int32_t b1) {
  const std::int32_t s = a0 * b0 + a1 * b1;  // |s| <= 2 * 255 * 128: no int32 overflow
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

// KernelFn of the saturating mode on paths without VPMADDUBSW: uint8 A' panel, kInt8K4 B' panel, the tile of
// kernel_scalar with each k pair saturated (saturating_pair).
inline void kernel_scalar_saturating(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                     std::int32_t* tile, bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < kNr; ++j) {
      std::int32_t sum = accumulate ? tile[r * kNr + j] : 0;
      for (int g = 0; g < kgroups; ++g) {
        const std::uint8_t* ag = a + (g * kMr + r) * kKGroup;
        const std::int8_t* bg = b + (g * kNr + j) * kKGroup;
        for (int t = 0; t < kKGroup; t += 2)
          sum = qmath::detail::wrap_add(sum, saturating_pair(ag[t], bg[t], ag[t + 1], bg[t + 1]));
      }
      tile[r * kNr + j] = sum;
    }
}

}  // namespace detail

// The normative reference of GemmOptions::saturate_int16_pairs: what oneDNN's / MLAS's AVX2 u8s8 kernels compute
// (formula at the top of this file), with the arguments and checks of qmath::gemm_reference.
template <class TA, class TB, class TC>
void gemm_reference_int16_saturating(const GemmArgs<TA, TB, TC>& args) {
  using qmath::detail::wrap_add;
  validate(args, "gemm_reference_int16_saturating");
  const GemmShape s = args.shape();
  const std::int32_t za = args.a_zero_point, zb = args.b_zero_point;
  auto a_at = [&](int m, int k) -> std::int32_t { return k < s.k ? detail::a_prime(args.a(m, k)) : 0; };
  auto b_at = [&](int k, int n) -> std::int32_t { return k < s.k ? detail::b_prime(args.b(k, n)) : 0; };
  const std::int32_t za_p = za + detail::a_offset<TA>(), zb_p = zb + detail::b_offset<TB>();
  std::vector<std::int32_t> col_sum(s.n, 0);
  for (int n = 0; n < s.n; ++n)
    for (int k = 0; k < s.k; ++k) col_sum[n] = wrap_add(col_sum[n], b_at(k, n));
  for (int m = 0; m < s.m; ++m) {
    std::int32_t row_sum = 0;
    for (int k = 0; k < s.k; ++k) row_sum = wrap_add(row_sum, a_at(m, k));
    for (int n = 0; n < s.n; ++n) {
      std::int32_t dot = 0;
      for (int k = 0; k < s.k; k += 2)
        dot = wrap_add(dot, detail::saturating_pair(a_at(m, k), b_at(k, n), a_at(m, k + 1), b_at(k + 1, n)));
      const std::int32_t acc = qmath::detail::zero_point_correct(dot, row_sum, col_sum[n], za_p, zb_p, s.k);
      args.c(m, n) = apply_epilogue<TC>(args.epilogue, acc, n);
    }
  }
}

}  // namespace cpu
}  // namespace qmath

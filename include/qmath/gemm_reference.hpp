// qmath/gemm_reference.hpp - the normative integer GEMM: C = epilogue((A - za) * (B - zb)), INT32 accumulation.
//
// Arguments and their validation: qmath/gemm_args.hpp (any order of A, B and C is accepted here).
//   acc[m][n] = sum_k (A[m][k] - za) * (B[k][n] - zb)
//             = sum_k A*B - zb * rowsum_k(A)[m] - za * colsum_k(B)[n] + K * za * zb
// The expansion is computed in wrapping 32-bit arithmetic, which is exact whenever the true accumulator fits in
// int32; max_k_for_int32() gives the largest K for which that holds for every input, and validate() refuses a larger
// K. Every fast path (CPU SIMD, CUDA) is tested bit-exactly against this function.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include <qmath/config.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_args.hpp>

namespace qmath {

namespace detail {

// Wrapping 32-bit arithmetic without signed-overflow UB: exact modulo 2^32.
QMATH_HOST_DEVICE std::int32_t wrap_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
QMATH_HOST_DEVICE std::int32_t wrap_mul(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

// acc = sum_ab - zb * row_sum_a - za * col_sum_b + k * za * zb, all modulo 2^32 (exact when the result fits).
QMATH_HOST_DEVICE std::int32_t zero_point_correct(std::int32_t sum_ab, std::int32_t row_sum_a, std::int32_t col_sum_b,
                                                  std::int32_t za, std::int32_t zb, int k) {
  std::int32_t acc = sum_ab;
  acc = wrap_add(acc, wrap_mul(-zb, row_sum_a));
  acc = wrap_add(acc, wrap_mul(-za, col_sum_b));
  acc = wrap_add(acc, wrap_mul(wrap_mul(k, za), zb));
  return acc;
}

}  // namespace detail

// The reference GEMM (see the file comment). Throws qmath::error (validate()) before writing C.
template <class TA, class TB, class TC>
void gemm_reference(const GemmArgs<TA, TB, TC>& args) {
  validate(args, "gemm_reference");
  const MatrixView<const TA>& a = args.a;
  const MatrixView<const TB>& b = args.b;
  const GemmShape s = args.shape();
  const std::int32_t za = args.a_zero_point, zb = args.b_zero_point;
  std::vector<std::int32_t> col_sum(s.n, 0);
  for (int n = 0; n < s.n; ++n)
    for (int k = 0; k < s.k; ++k) col_sum[n] = detail::wrap_add(col_sum[n], b(k, n));
  for (int m = 0; m < s.m; ++m) {
    std::int32_t row_sum = 0;
    for (int k = 0; k < s.k; ++k) row_sum = detail::wrap_add(row_sum, a(m, k));
    for (int n = 0; n < s.n; ++n) {
      std::int32_t sum_ab = 0;
      for (int k = 0; k < s.k; ++k) sum_ab = detail::wrap_add(sum_ab, std::int32_t(a(m, k)) * b(k, n));
      const std::int32_t acc = detail::zero_point_correct(sum_ab, row_sum, col_sum[n], za, zb, s.k);
      args.c(m, n) = apply_epilogue<TC>(args.epilogue, acc, n);
    }
  }
}

}  // namespace qmath

// qmath/gemm_reference.hpp - the normative integer GEMM: C = epilogue((A - za) * (B - zb)), INT32 accumulation.
//
//   A: M x K, row-major, leading dimension lda >= K           (int8 or uint8)
//   B: K x N row-major (ldb >= N), or N x K "TN" form (ldb >= K, K-contiguous, as DP4A and VNNI kernels want)
//   C: M x N, row-major, ldc >= N                              (int32, int8, uint8 or float; see epilogue.hpp)
//   acc[m][n] = sum_k (A[m][k] - za) * (B[k][n] - zb)
//             = sum_k A*B - zb * rowsum_k(A)[m] - za * colsum_k(B)[n] + K * za * zb
// The expansion is computed in wrapping 32-bit arithmetic, which is exact whenever the true accumulator fits in
// int32; max_k_for_int32() gives the largest K for which that holds for every input, and the GEMM refuses a larger
// K. Every fast path (CPU SIMD, CUDA) is tested bit-exactly against this function.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include <qmath/config.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// Storage order of the B operand.
enum class BLayout {
  kKxN,  // K x N row-major: B[k][n] at b[k * ldb + n]
  kNxK,  // N x K row-major ("TN", K-contiguous): B[k][n] at b[n * ldb + k]
};

struct GemmShape {
  int m, n, k;
};

// The largest K for which sum_k (a - za) * (b - zb) fits in int32 for every a in range_a and b in range_b:
// floor((2^31 - 1) / (max|a - za| * max|b - zb|)). s8 x s8 with zero points 0: 131071; u8 x s8: 65793.
QMATH_HOST_DEVICE constexpr std::int64_t max_k_for_int32(QuantRange range_a, std::int32_t za, QuantRange range_b,
                                                         std::int32_t zb) {
  const std::int64_t a_lo = std::int64_t(range_a.qmin) - za, a_hi = std::int64_t(range_a.qmax) - za;
  const std::int64_t b_lo = std::int64_t(range_b.qmin) - zb, b_hi = std::int64_t(range_b.qmax) - zb;
  const std::int64_t a_max = (a_lo < 0 ? -a_lo : a_lo) > (a_hi < 0 ? -a_hi : a_hi) ? (a_lo < 0 ? -a_lo : a_lo)
                                                                                   : (a_hi < 0 ? -a_hi : a_hi);
  const std::int64_t b_max = (b_lo < 0 ? -b_lo : b_lo) > (b_hi < 0 ? -b_hi : b_hi) ? (b_lo < 0 ? -b_lo : b_lo)
                                                                                   : (b_hi < 0 ? -b_hi : b_hi);
  const std::int64_t p = a_max * b_max;
  return p == 0 ? INT32_MAX : INT32_MAX / p;
}

// The same bound for storage types TA, TB with the given zero points.
template <class TA, class TB>
QMATH_HOST_DEVICE constexpr std::int64_t max_k_for_int32(std::int32_t za = 0, std::int32_t zb = 0) {
  return max_k_for_int32(full_range<TA>(), za, full_range<TB>(), zb);
}

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

// Checks shared by every host GEMM entry point (reference and CPU kernels). Throws qmath::error naming the problem.
template <class TA, class TB, class TC>
void check_gemm_args(const char* where, GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b,
                     std::int64_t ldb, BLayout b_layout, std::int32_t zb, const TC* c, std::int64_t ldc) {
  static_assert(std::is_same<TA, std::int8_t>::value || std::is_same<TA, std::uint8_t>::value, "A must be int8/uint8");
  static_assert(std::is_same<TB, std::int8_t>::value || std::is_same<TB, std::uint8_t>::value, "B must be int8/uint8");
  require(s.m > 0 && s.n > 0 && s.k > 0, where, "sizes must be positive, got M=", s.m, " N=", s.n, " K=", s.k);
  require(a != nullptr && b != nullptr && c != nullptr, where, "null operand pointer");
  require(lda >= s.k, where, "lda (", lda, ") < K (", s.k, ")");
  const int b_row = b_layout == BLayout::kKxN ? s.n : s.k;
  require(ldb >= b_row, where, "ldb (", ldb, ") < ", b_layout == BLayout::kKxN ? "N (" : "K (", b_row, ")");
  require(ldc >= s.n, where, "ldc (", ldc, ") < N (", s.n, ")");
  const QuantRange ra = full_range<TA>(), rb = full_range<TB>();
  require(za >= ra.qmin && za <= ra.qmax, where, "A zero point ", za, " outside A's type range");
  require(zb >= rb.qmin && zb <= rb.qmax, where, "B zero point ", zb, " outside B's type range");
  const std::int64_t kmax = max_k_for_int32(ra, za, rb, zb);
  require(s.k <= kmax, where, "K = ", s.k, " can overflow the int32 accumulator: at most ", kmax,
          " for these operand types and zero points");
}

}  // namespace detail

// The reference GEMM (see the file comment). Throws qmath::error on bad arguments before writing C.
template <class TA, class TB, class TC>
void gemm_reference(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b, std::int64_t ldb,
                    BLayout b_layout, std::int32_t zb, TC* c, std::int64_t ldc, const Epilogue& epilogue) {
  detail::check_gemm_args("gemm_reference", s, a, lda, za, b, ldb, b_layout, zb, c, ldc);
  validate_epilogue<TC>(epilogue, s.n);
  auto b_at = [&](int k, int n) -> std::int32_t {
    return b_layout == BLayout::kKxN ? b[std::int64_t(k) * ldb + n] : b[std::int64_t(n) * ldb + k];
  };
  std::vector<std::int32_t> col_sum(s.n, 0);
  for (int n = 0; n < s.n; ++n)
    for (int k = 0; k < s.k; ++k) col_sum[n] = detail::wrap_add(col_sum[n], b_at(k, n));
  for (int m = 0; m < s.m; ++m) {
    const TA* a_row = a + std::int64_t(m) * lda;
    std::int32_t row_sum = 0;
    for (int k = 0; k < s.k; ++k) row_sum = detail::wrap_add(row_sum, a_row[k]);
    for (int n = 0; n < s.n; ++n) {
      std::int32_t sum_ab = 0;
      for (int k = 0; k < s.k; ++k) sum_ab = detail::wrap_add(sum_ab, std::int32_t(a_row[k]) * b_at(k, n));
      const std::int32_t acc = detail::zero_point_correct(sum_ab, row_sum, col_sum[n], za, zb, s.k);
      c[std::int64_t(m) * ldc + n] = apply_epilogue<TC>(epilogue, acc, n);
    }
  }
}

}  // namespace qmath

// qmath/gemm_args.hpp - the arguments of an integer GEMM, C = epilogue((A - za) * (B - zb)), and their one validation.
//
//   A: M x K view (int8 / uint8), B: K x N view (int8 / uint8; a column-major view is the N x K "TN" form),
//   C: M x N view (int32 / int8 / uint8 / float), zero points za, zb in their operand's type range, the epilogue of
//   qmath/epilogue.hpp. Accumulation is exact in int32 for K <= max_k_for_int32(...), and validate() refuses a larger
//   K. Every GEMM (reference, CPU, CUDA) takes one GemmArgs, validates it once at its entry with validate() plus its
//   own can_implement-style check of orders and alignment, and trusts it from there on.
//
//   qmath::GemmArgs args{qmath::row_major(a, M, K), qmath::col_major(b, K, N, ldb), qmath::row_major(c, M, N),
//                        /*a_zero_point=*/0, /*b_zero_point=*/0, epilogue};
#pragma once

#include <cstdint>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/matrix.hpp>
#include <qmath/quant_range.hpp>

namespace qmath {

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

template <class TA, class TB, class TC>
struct GemmArgs {
  static_assert(std::is_same<TA, std::int8_t>::value || std::is_same<TA, std::uint8_t>::value, "A must be int8/uint8");
  static_assert(std::is_same<TB, std::int8_t>::value || std::is_same<TB, std::uint8_t>::value, "B must be int8/uint8");
  static_assert(std::is_same<TC, std::int32_t>::value || std::is_same<TC, std::int8_t>::value ||
                    std::is_same<TC, std::uint8_t>::value || std::is_same<TC, float>::value,
                "C must be int32, int8, uint8 or float");

  MatrixView<const TA> a;         // M x K
  MatrixView<const TB> b;         // K x N
  MatrixView<TC> c;               // M x N
  std::int32_t a_zero_point = 0;  // in TA's range
  std::int32_t b_zero_point = 0;  // in TB's range
  Epilogue epilogue{};            // default: the raw accumulator

  GemmShape shape() const { return {c.rows, c.cols, a.cols}; }
};

template <class TA, class TB, class TC>
GemmArgs(MatrixView<TA>, MatrixView<TB>, MatrixView<TC>)
    -> GemmArgs<std::remove_const_t<TA>, std::remove_const_t<TB>, TC>;
template <class TA, class TB, class TC>
GemmArgs(MatrixView<TA>, MatrixView<TB>, MatrixView<TC>, std::int32_t, std::int32_t)
    -> GemmArgs<std::remove_const_t<TA>, std::remove_const_t<TB>, TC>;
template <class TA, class TB, class TC>
GemmArgs(MatrixView<TA>, MatrixView<TB>, MatrixView<TC>, std::int32_t, std::int32_t, Epilogue)
    -> GemmArgs<std::remove_const_t<TA>, std::remove_const_t<TB>, TC>;

namespace detail {

// The checks of A, C, the extents, A's zero point, the K bound and the epilogue, for a B operand of type TB and
// zero point zb whose own view (if any) the caller has checked.
template <class TA, class TB, class TC>
void validate_gemm_except_b(const char* where, const MatrixView<const TA>& a, std::int32_t za, int k, int n,
                            std::int32_t zb, const MatrixView<TC>& c, const Epilogue& epilogue,
                            bool arrays_on_host) {
  check_view(where, "a", a);
  check_view(where, "c", c);
  require(a.cols == k, where, "a has K = ", a.cols, " columns but b has K = ", k, " rows");
  require(c.rows == a.rows, where, "c has ", c.rows, " rows but a has M = ", a.rows);
  require(c.cols == n, where, "c has ", c.cols, " columns but b has N = ", n);
  const QuantRange ra = full_range<TA>(), rb = full_range<TB>();
  require(za >= ra.qmin && za <= ra.qmax, where, "a_zero_point ", za, " outside A's type range [", ra.qmin, ", ",
          ra.qmax, "]");
  const std::int64_t kmax = max_k_for_int32(ra, za, rb, zb);
  require(k <= kmax, where, "K = ", k, " can overflow the int32 accumulator: at most ", kmax,
          " for these operand types and zero points");
  validate_epilogue<TC>(epilogue, n, arrays_on_host);
}

template <class TB>
void validate_b(const char* where, const MatrixView<const TB>& b, std::int32_t zb) {
  check_view(where, "b", b);
  const QuantRange rb = full_range<TB>();
  require(zb >= rb.qmin && zb <= rb.qmax, where, "b_zero_point ", zb, " outside B's type range [", rb.qmin, ", ",
          rb.qmax, "]");
}

}  // namespace detail

// The one validation of GEMM arguments: views non-null with positive extents and strides at least their contiguous
// extent, extents that agree (A M x K, B K x N, C M x N), zero points inside their types, K within the int32
// accumulation bound, and the epilogue (validate_epilogue; arrays_on_host = false skips reading its arrays, for
// device memory). Throws qmath::error prefixed with `where` and naming the field at fault.
template <class TA, class TB, class TC>
void validate(const GemmArgs<TA, TB, TC>& g, const char* where = "gemm", bool arrays_on_host = true) {
  detail::validate_b(where, g.b, g.b_zero_point);
  detail::validate_gemm_except_b<TA, TB, TC>(where, g.a, g.a_zero_point, g.b.rows, g.b.cols, g.b_zero_point, g.c,
                                             g.epilogue, arrays_on_host);
}

}  // namespace qmath

// qmath/eigen.hpp - optional Eigen adapter (CMake target qmath::eigen, needs Eigen 3.4).
//
//   quantize<T>(x, p)                     per-tensor quantize of any float matrix expression -> row-major T matrix
//   quantize_per_channel<T>(x, params, a) one QuantParams per row (ChannelAxis::kRows) or per column (kCols)
//   symmetric_params_per_channel(x, r, a) symmetric per-row / per-column parameters from the channels' amax
//   dequantize(q, p), dequantize_per_channel(q, params, a)
//   gemm_reference<TC>(a, za, b, zb, e)   qmath::gemm_reference on Eigen matrices, maps, blocks or transposes (int8 /
//                                         uint8, used in place in their storage order; other expressions are
//                                         evaluated first); B is K x N (pass w.transpose() for N x K weights)
//   gemm_fp32(a, b)                       Eigen's float GEMM of the same operands, for comparison
// Every function is a thin layer over the core headers: the results are exactly those of quantize_array,
// quantize_per_channel, dequantize_array and gemm_reference on the same numbers, and errors are the same
// qmath::error (plus shape mismatches, named "qmath::eigen::<function>"). Outputs are row-major, the layout the
// integer GEMM wants for A and C.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/gemm_args.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/matrix.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize_array.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace eigen {

// A dynamic-size row-major matrix of T.
template <class T>
using RowMajorMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A read-only view of row-major data with any row stride; Eigen copies into a temporary when the argument is not
// laid out that way (e.g. a column-major matrix).
template <class T>
using RowMajorRef = Eigen::Ref<const RowMajorMatrix<T>, 0, Eigen::OuterStride<>>;

// Which index of a matrix is the channel.
enum class ChannelAxis {
  kRows,  // params[r] for row r: per output channel of a weight matrix W[out][in] (ONNX axis 0)
  kCols,  // params[c] for column c (ONNX axis 1)
};

namespace detail {
inline ChannelLayout matrix_layout(Eigen::Index rows, Eigen::Index cols, ChannelAxis axis) {
  const auto r = static_cast<std::size_t>(rows), c = static_cast<std::size_t>(cols);
  return axis == ChannelAxis::kRows ? ChannelLayout{1, r, c} : ChannelLayout{r, c, 1};
}
inline void require_channels(std::size_t count, Eigen::Index rows, Eigen::Index cols, ChannelAxis axis,
                             const char* where) {
  const auto want = static_cast<std::size_t>(axis == ChannelAxis::kRows ? rows : cols);
  qmath::detail::require(count == want, where, count, " channel parameters for ", want,
                         axis == ChannelAxis::kRows ? " rows" : " columns");
}
}  // namespace detail

// Per-tensor quantization: q(i, j) = quantize_value(x(i, j), p, range, mode), as quantize_array.
template <class T, class Derived>
RowMajorMatrix<T> quantize(const Eigen::MatrixBase<Derived>& x, QuantParams p, QuantRange range = full_range<T>(),
                           Round mode = Round::kHalfToEven) {
  static_assert(std::is_same<typename Derived::Scalar, float>::value, "qmath::eigen::quantize takes float matrices");
  qmath::detail::check_params(p, range, "eigen::quantize");
  qmath::detail::check_storage<T>(range, "eigen::quantize");
  const RowMajorRef<float> xr(x.derived());
  RowMajorMatrix<T> q(xr.rows(), xr.cols());
  for (Eigen::Index r = 0; r < xr.rows(); ++r)
    quantize_array(xr.data() + r * xr.outerStride(), static_cast<std::size_t>(xr.cols()), q.data() + r * q.cols(),
                   p, range, mode);
  return q;
}

// Per-tensor dequantization: x(i, j) = dequantize_value(q(i, j), p), as dequantize_array.
template <class Derived>
RowMajorMatrix<float> dequantize(const Eigen::MatrixBase<Derived>& q, QuantParams p) {
  using T = typename Derived::Scalar;
  qmath::detail::check_params(p, full_range<T>(), "eigen::dequantize");
  const RowMajorRef<T> qr(q.derived());
  RowMajorMatrix<float> x(qr.rows(), qr.cols());
  for (Eigen::Index r = 0; r < qr.rows(); ++r)
    dequantize_array(qr.data() + r * qr.outerStride(), static_cast<std::size_t>(qr.cols()), x.data() + r * x.cols(),
                     p);
  return x;
}

// Symmetric parameters per row or per column from each channel's amax (symmetric_params); throws on NaN / Inf.
template <class Derived>
std::vector<QuantParams> symmetric_params_per_channel(const Eigen::MatrixBase<Derived>& x, QuantRange range,
                                                      ChannelAxis axis,
                                                      SymmetricConvention convention = SymmetricConvention::kTensorRT) {
  static_assert(std::is_same<typename Derived::Scalar, float>::value, "float matrices only");
  const RowMajorMatrix<float> xs = x;  // contiguous
  return per_channel_symmetric_params(xs.data(), detail::matrix_layout(xs.rows(), xs.cols(), axis), range,
                                      convention);
}

// Per-channel quantization: q(i, j) = quantize_value(x(i, j), params[axis == kRows ? i : j], range, mode).
template <class T, class Derived>
RowMajorMatrix<T> quantize_per_channel(const Eigen::MatrixBase<Derived>& x, const std::vector<QuantParams>& params,
                                       ChannelAxis axis, QuantRange range = full_range<T>(),
                                       Round mode = Round::kHalfToEven) {
  static_assert(std::is_same<typename Derived::Scalar, float>::value, "float matrices only");
  detail::require_channels(params.size(), x.rows(), x.cols(), axis, "eigen::quantize_per_channel");
  const RowMajorMatrix<float> xs = x;
  RowMajorMatrix<T> q(xs.rows(), xs.cols());
  qmath::quantize_per_channel(xs.data(), detail::matrix_layout(xs.rows(), xs.cols(), axis), params.data(), q.data(),
                              range, mode);
  return q;
}

// Per-channel dequantization with one QuantParams per row or column.
template <class Derived>
RowMajorMatrix<float> dequantize_per_channel(const Eigen::MatrixBase<Derived>& q,
                                             const std::vector<QuantParams>& params, ChannelAxis axis) {
  using T = typename Derived::Scalar;
  detail::require_channels(params.size(), q.rows(), q.cols(), axis, "eigen::dequantize_per_channel");
  const RowMajorMatrix<T> qs = q;
  RowMajorMatrix<float> x(qs.rows(), qs.cols());
  qmath::dequantize_per_channel(qs.data(), detail::matrix_layout(qs.rows(), qs.cols(), axis), params.data(),
                                x.data());
  return x;
}

namespace detail {
// An Eigen::Ref in D's storage order: binds to matrices, maps, blocks and transposes in place, evaluates other
// expressions into a temporary.
template <class D>
using StorageRef =
    Eigen::Ref<const Eigen::Matrix<typename D::Scalar, Eigen::Dynamic, Eigen::Dynamic,
                                   D::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor>,
               0, Eigen::OuterStride<>>;

// The qmath::MatrixView of such a Ref.
template <class R>
MatrixView<const typename R::Scalar> matrix_view(const R& r, const char* where) {
  constexpr Eigen::Index kIntMax = std::numeric_limits<int>::max();
  qmath::detail::require(r.rows() <= kIntMax && r.cols() <= kIntMax, where, "dimensions exceed int");
  return {r.data(), int(r.rows()), int(r.cols()), std::int64_t(r.outerStride()),
          R::IsRowMajor ? Order::kRowMajor : Order::kColMajor};
}
}  // namespace detail

// The reference integer GEMM on Eigen operands: C = epilogue((A - za) * (B - zb)), see gemm_reference.hpp.
// A is M x K and B is K x N (int8 / uint8), in either storage order; N x K weights W are passed as W.transpose().
// Returns the M x N output of type TC (int32, int8, uint8 or float).
template <class TC, class DA, class DB>
RowMajorMatrix<TC> gemm_reference(const Eigen::MatrixBase<DA>& a, std::int32_t za, const Eigen::MatrixBase<DB>& b,
                                  std::int32_t zb, const Epilogue& epilogue) {
  using TA = typename DA::Scalar;
  using TB = typename DB::Scalar;
  const char* where = "eigen::gemm_reference";
  qmath::detail::require(b.rows() == a.cols(), where, "A is ", a.rows(), " x ", a.cols(), " but B is ", b.rows(),
                         " x ", b.cols(), " (K x N expected)");
  const detail::StorageRef<DA> ar(a.derived());
  const detail::StorageRef<DB> br(b.derived());
  const MatrixView<const TA> av = detail::matrix_view(ar, where);  // checks the extents before C is allocated
  const MatrixView<const TB> bv = detail::matrix_view(br, where);
  RowMajorMatrix<TC> c(a.rows(), b.cols());
  qmath::gemm_reference(GemmArgs<TA, TB, TC>{av, bv, row_major(c.data(), av.rows, bv.cols), za, zb, epilogue});
  return c;
}

// Eigen's FP32 GEMM of the same operands (A * B, B K x N), after converting them to float: the float baseline to
// compare the integer path with. Eigen's blocked summation order is its own, so this is a comparison, not a
// reference: it is exact only while every partial sum is an integer below 2^24.
template <class DA, class DB>
RowMajorMatrix<float> gemm_fp32(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b) {
  qmath::detail::require(b.rows() == a.cols(), "eigen::gemm_fp32", "A has K = ", a.cols(), " but B has K = ",
                         b.rows());
  RowMajorMatrix<float> c;
  c.noalias() = a.template cast<float>() * b.template cast<float>();
  return c;
}

}  // namespace eigen
}  // namespace qmath

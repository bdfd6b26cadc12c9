// qmath/matrix.hpp - MatrixView: a non-owning view of a strided 2-D array (pointer, rows, cols, stride, order).
//
// Element (r, c) is data[r * stride + c] in row-major order and data[c * stride + r] in column-major order; the
// stride is in elements and is at least the contiguous extent (cols for row-major, rows for column-major). A view
// never allocates and checks nothing on access; check_view() (used by each operation's validation) names what is
// wrong with one. A K x N operand held as N x K rows (the "TN" form that DP4A and VNNI kernels read) is simply a
// column-major K x N view.
#pragma once

#include <cstdint>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/error.hpp>

namespace qmath {

enum class Order { kRowMajor, kColMajor };

template <class T>
struct MatrixView {
  T* data = nullptr;
  int rows = 0;
  int cols = 0;
  std::int64_t stride = 0;  // elements between the starts of consecutive rows (row-major) or columns (col-major)
  Order order = Order::kRowMajor;

  QMATH_HOST_DEVICE T& operator()(int r, int c) const {
    return order == Order::kRowMajor ? data[std::int64_t(r) * stride + c] : data[std::int64_t(c) * stride + r];
  }
  // The same view with read-only elements (for views of non-const T).
  template <class U = T, class = std::enable_if_t<!std::is_const<U>::value>>
  QMATH_HOST_DEVICE operator MatrixView<const U>() const {
    return {data, rows, cols, stride, order};
  }
};

// A row-major rows x cols view; stride defaults to cols (dense).
template <class T>
MatrixView<T> row_major(T* data, int rows, int cols, std::int64_t stride = -1) {
  return {data, rows, cols, stride < 0 ? std::int64_t(cols) : stride, Order::kRowMajor};
}

// A column-major rows x cols view; stride defaults to rows (dense).
template <class T>
MatrixView<T> col_major(T* data, int rows, int cols, std::int64_t stride = -1) {
  return {data, rows, cols, stride < 0 ? std::int64_t(rows) : stride, Order::kColMajor};
}

namespace detail {

// Throws qmath::error naming `where` and the view `name` when the view is null or empty or its stride is shorter
// than its contiguous extent.
template <class T>
void check_view(const char* where, const char* name, const MatrixView<T>& v) {
  require(v.rows > 0 && v.cols > 0, where, name, " must have positive extents, got ", v.rows, " x ", v.cols);
  require(v.data != nullptr, where, name, ".data is null");
  const int contiguous = v.order == Order::kRowMajor ? v.cols : v.rows;
  require(v.stride >= contiguous, where, name, ".stride (", v.stride, ") < ",
          v.order == Order::kRowMajor ? "its columns (" : "its rows (", contiguous, ")");
}

}  // namespace detail
}  // namespace qmath

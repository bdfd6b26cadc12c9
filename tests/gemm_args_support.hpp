// tests/gemm_args_support.hpp - builds qmath::GemmArgs from the BLAS-style positional form (shape, pointers, leading
// dimensions, B stored K x N or N x K) that the table-driven GEMM tests sweep over.
#pragma once

#include <cstdint>

#include <qmath/epilogue.hpp>
#include <qmath/gemm_args.hpp>
#include <qmath/matrix.hpp>

namespace qtest {

using qmath::GemmShape;

// How a test stores B: K x N row-major (ldb >= N), or N x K row-major (ldb >= K), i.e. a column-major K x N view.
enum class BLayout { kKxN, kNxK };

template <class TB>
qmath::MatrixView<const TB> b_view(int k, int n, const TB* b, std::int64_t ldb, BLayout layout) {
  return layout == BLayout::kKxN ? qmath::row_major(b, k, n, ldb) : qmath::col_major(b, k, n, ldb);
}

template <class TA, class TB, class TC>
qmath::GemmArgs<TA, TB, TC> gemm_args(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b,
                                      std::int64_t ldb, BLayout layout, std::int32_t zb, TC* c, std::int64_t ldc,
                                      const qmath::Epilogue& e) {
  return {qmath::row_major(a, s.m, s.k, lda), b_view(s.k, s.n, b, ldb, layout), qmath::row_major(c, s.m, s.n, ldc),
          za, zb, e};
}

// GemmArgs of the TN form the CUDA kernels take: A M x K row-major, B stored N x K (a column-major K x N view), C
// M x N row-major.
template <class TA, class TB, class TC>
qmath::GemmArgs<TA, TB, TC> tn_args(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b,
                                    std::int64_t ldb, std::int32_t zb, TC* c, std::int64_t ldc,
                                    const qmath::Epilogue& e) {
  return gemm_args(s, a, lda, za, b, ldb, BLayout::kNxK, zb, c, ldc, e);
}

}  // namespace qtest

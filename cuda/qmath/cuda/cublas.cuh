// qmath/cuda/cublas.cuh - thin wrappers over the vendor baselines, cuBLAS SGEMM and cuBLASLt INT8, in the same
// "TN" convention as gemm_dp4a / gemm_fp32:  C(M x N, row-major, ldc) = A(M x K, row-major, lda) * B(N x K,
// row-major, ldb)^T. Used by the benchmarks and GPU tests only (link CUDA::cublas / CUDA::cublasLt); nvcc only.
//
// Row-major C = A * B^T is column-major C^T = B * A^T, i.e. a column-major GEMM with m = N, n = M, op(first) = T on
// B (stored K x N column-major, ld = ldb) and op(second) = N on A (K x M column-major, ld = lda): the "TN" form that
// cuBLASLt's int8 kernels require.
#pragma once

#if !defined(__CUDACC__)
#error "qmath/cuda/cublas.cuh needs nvcc and cuBLAS (no host definitions exist for it)"
#endif

#include <cstddef>
#include <cstdint>

#include <cublasLt.h>
#include <cublas_v2.h>

#include <qmath/cuda/launch.cuh>
#include <qmath/error.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cuda {

// Throws qmath::error naming `where` and the cuBLAS status unless it is CUBLAS_STATUS_SUCCESS.
inline void check_cublas(cublasStatus_t s, const char* where) {
  if (s != CUBLAS_STATUS_SUCCESS) qmath::detail::fail(where, cublasGetStatusName(s), ": ", cublasGetStatusString(s));
}

// C = A * B^T in FP32 with cublasSgemm on `stream` (the handle's stream is set to it).
inline void cublas_sgemm_tn(cublasHandle_t handle, GemmShape s, const float* a, std::int64_t lda, const float* b,
                            std::int64_t ldb, float* c, std::int64_t ldc, cudaStream_t stream = nullptr) {
  const char* where = "cuda::cublas_sgemm_tn";
  qmath::detail::require(s.m > 0 && s.n > 0 && s.k > 0 && lda >= s.k && ldb >= s.k && ldc >= s.n, where,
                         "bad shape or leading dimension");
  check_cublas(cublasSetStream(handle, stream), where);
  const float alpha = 1.0f, beta = 0.0f;
  check_cublas(cublasSgemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.n, s.m, s.k, &alpha, b, static_cast<int>(ldb), a,
                           static_cast<int>(lda), &beta, c, static_cast<int>(ldc)),
               where);
}

// An INT8 x INT8 -> INT32 (or INT8 with a float scale) cuBLASLt matmul, planned once (descriptors and the
// heuristic's first algorithm) and run many times. cuBLASLt requires M, N, K, lda, ldb multiples of 4 and 4-byte
// aligned pointers for int8; the constructor checks the shape part. `workspace` is caller-owned device memory.
class CublasLtInt8Gemm {
 public:
  enum class Output { kInt32, kInt8 };

  CublasLtInt8Gemm(cublasLtHandle_t handle, GemmShape s, std::int64_t lda, std::int64_t ldb, std::int64_t ldc,
                   Output out, void* workspace, std::size_t workspace_bytes)
      : handle_(handle), out_(out), workspace_(workspace), workspace_bytes_(workspace_bytes) {
    try {
      plan(s, lda, ldb, ldc);
    } catch (...) {
      destroy();  // nothing half-built is left behind
      throw;
    }
  }
  ~CublasLtInt8Gemm() { destroy(); }
  CublasLtInt8Gemm(const CublasLtInt8Gemm&) = delete;
  CublasLtInt8Gemm& operator=(const CublasLtInt8Gemm&) = delete;

  // C = A * B^T (int32), or C = saturate(round(scale * A * B^T)) (int8). Asynchronous on `stream`.
  void run(const std::int8_t* a, const std::int8_t* b, void* c, float scale = 1.0f, cudaStream_t stream = nullptr) {
    const char* where = "cuda::CublasLtInt8Gemm::run";
    const std::int32_t alpha_i = 1, beta_i = 0;
    const float alpha_f = scale, beta_f = 0.0f;
    const void* alpha = out_ == Output::kInt32 ? static_cast<const void*>(&alpha_i) : &alpha_f;
    const void* beta = out_ == Output::kInt32 ? static_cast<const void*>(&beta_i) : &beta_f;
    check_cublas(cublasLtMatmul(handle_, op_, alpha, b, b_layout_, a, a_layout_, beta, c, c_layout_, c, c_layout_,
                                &heuristic_.algo, workspace_, workspace_bytes_, stream),
                 where);
  }

 private:
  void plan(GemmShape s, std::int64_t lda, std::int64_t ldb, std::int64_t ldc) {
    const char* where = "cuda::CublasLtInt8Gemm";
    qmath::detail::require(s.m > 0 && s.n > 0 && s.k > 0 && lda >= s.k && ldb >= s.k && ldc >= s.n, where,
                           "bad shape or leading dimension");
    qmath::detail::require(s.m % 4 == 0 && s.n % 4 == 0 && s.k % 4 == 0 && lda % 4 == 0 && ldb % 4 == 0, where,
                           "cuBLASLt int8 needs M, N, K, lda, ldb multiples of 4");
    const cudaDataType_t scale_type = out_ == Output::kInt32 ? CUDA_R_32I : CUDA_R_32F;
    const cudaDataType_t c_type = out_ == Output::kInt32 ? CUDA_R_32I : CUDA_R_8I;
    check_cublas(cublasLtMatmulDescCreate(&op_, CUBLAS_COMPUTE_32I, scale_type), where);
    const cublasOperation_t transpose = CUBLAS_OP_T;
    check_cublas(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose), where);
    check_cublas(cublasLtMatrixLayoutCreate(&b_layout_, CUDA_R_8I, s.k, s.n, ldb), where);  // first operand: B
    check_cublas(cublasLtMatrixLayoutCreate(&a_layout_, CUDA_R_8I, s.k, s.m, lda), where);  // second operand: A
    check_cublas(cublasLtMatrixLayoutCreate(&c_layout_, c_type, s.n, s.m, ldc), where);
    cublasLtMatmulPreference_t pref = nullptr;
    check_cublas(cublasLtMatmulPreferenceCreate(&pref), where);
    int found = 0;
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                             &workspace_bytes_, sizeof workspace_bytes_);
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasLtMatmulAlgoGetHeuristic(handle_, op_, b_layout_, a_layout_, c_layout_, c_layout_, pref, 1,
                                          &heuristic_, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    check_cublas(st, where);
    if (found == 0) qmath::detail::fail(where, "cuBLASLt has no INT8 algorithm for this shape");
  }

  void destroy() {
    if (c_layout_) cublasLtMatrixLayoutDestroy(c_layout_);
    if (a_layout_) cublasLtMatrixLayoutDestroy(a_layout_);
    if (b_layout_) cublasLtMatrixLayoutDestroy(b_layout_);
    if (op_) cublasLtMatmulDescDestroy(op_);
    c_layout_ = a_layout_ = b_layout_ = nullptr;
    op_ = nullptr;
  }
  cublasLtHandle_t handle_;
  Output out_;
  void* workspace_;
  std::size_t workspace_bytes_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_layout_ = nullptr, b_layout_ = nullptr, c_layout_ = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic_{};
};

}  // namespace cuda
}  // namespace qmath

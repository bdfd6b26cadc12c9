// FP32 baseline for cpu_gemm_bench: Eigen's GEMM, compiled in its own translation unit with -march=native (see
// bench/CMakeLists.txt) so Eigen uses the machine's widest vectors, while the qmath code in cpu_gemm_bench.cpp is
// built for baseline x86-64 and relies on its own run-time dispatch.
#include <Eigen/Core>

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// C (M x N) = A (M x K) * B (K x N), all row-major and contiguous.
void cpu_gemm_bench_eigen_sgemm(int m, int n, int k, const float* a, const float* b, float* c) {
  Eigen::Map<const RowMajor> ma(a, m, k), mb(b, k, n);
  Eigen::Map<RowMajor> mc(c, m, n);
  mc.noalias() = ma * mb;
}

const char* cpu_gemm_bench_eigen_simd() { return Eigen::SimdInstructionSetsInUse(); }

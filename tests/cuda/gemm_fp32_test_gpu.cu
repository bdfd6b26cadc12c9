// The gemm_fp32 tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "gemm_fp32_test.cpp"

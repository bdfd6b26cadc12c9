// The gemm_dp4a tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "gemm_dp4a_test.cpp"

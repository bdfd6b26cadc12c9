// The gemm_imma tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "gemm_imma_test.cpp"

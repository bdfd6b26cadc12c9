// The FP8 tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "fp8_test.cpp"

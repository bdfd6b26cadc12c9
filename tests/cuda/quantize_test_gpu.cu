// The quantize tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "quantize_test.cpp"

// The calibration tests compiled by nvcc for the real GPU (see CMakeLists.txt).
#include "calibration_test.cpp"

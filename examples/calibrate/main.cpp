// qmath-calibrate: INT8 calibration of activation dumps (.npy) -> summary table, TensorRT cache, JSON table, SVG
// plots. The work is done by qmath_calibrate::run (calibrate_tool.hpp); see `qmath-calibrate --help`.
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "calibrate_tool.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return qmath_calibrate::run(args, std::cout, std::cerr, ::isatty(STDERR_FILENO) != 0);
}

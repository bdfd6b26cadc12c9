// npy.hpp - qmath-calibrate's input error (the .npy reader itself is qmath/calibration/npy_source.hpp).
#pragma once

#include <stdexcept>
#include <string>

namespace qmath_calibrate {

// Bad input (a file, an argument): the message names the file or tensor and the problem.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace qmath_calibrate

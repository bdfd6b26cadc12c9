// Test-only float constants shared by the tests that feed special values (NaN, infinities) to the library.
#pragma once

#include <limits>

namespace qmath_test {

inline const float kNaN = std::numeric_limits<float>::quiet_NaN();
inline const float kInf = std::numeric_limits<float>::infinity();

}  // namespace qmath_test

// Test-only: one quantization case of the array tests (host SIMD and CUDA): parameters and the range to clamp to.
#pragma once

#include <qmath/qparams.hpp>
#include <qmath/quant_range.hpp>

namespace qmath_test {

struct QuantizeCase {
  qmath::QuantParams p;
  qmath::QuantRange range;
};

}  // namespace qmath_test

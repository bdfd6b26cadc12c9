// qmath/cuda/detail/fp8_kernels.cuh - the per-element operations behind qmath/cuda/fp8.cuh, run by the element-wise
// kernel and the per-tensor / per-channel operations of detail/quantize_kernels.cuh (Param = the float scale).
//
// Each operation calls the host's QMATH_HOST_DEVICE scalar (detail::minifloat_quantize / minifloat_dequantize, the
// functions behind qmath::fp8_quantize / fp8_dequantize), so the device and the CPU share one definition of the
// arithmetic.
#pragma once

#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/detail/minifloat.hpp>

namespace qmath {
namespace cuda {
namespace detail {

struct Fp8QuantizeElem {
  using In = float;
  using Out = std::uint8_t;
  using Param = float;  // the scale
  qmath::detail::MinifloatSpec spec;
  bool saturate;
  QMATH_HOST_DEVICE std::uint8_t operator()(float v, float scale) const {
    return qmath::detail::minifloat_quantize(v, scale, spec, saturate);
  }
};
struct Fp8DequantizeElem {
  using In = std::uint8_t;
  using Out = float;
  using Param = float;  // the scale
  qmath::detail::MinifloatSpec spec;
  QMATH_HOST_DEVICE float operator()(std::uint8_t q, float scale) const {
    return qmath::detail::minifloat_dequantize(q, scale, spec);
  }
};

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

// qmath/cuda/detail/fp8_kernels.cuh - the per-element operations behind qmath/cuda/fp8.cuh, run by the element-wise
// kernel of detail/quantize_kernels.cuh (its head / vector body / tail split and grid-stride loop).
//
// Each operation calls the host's QMATH_HOST_DEVICE scalar (detail::minifloat_quantize / minifloat_dequantize, the
// functions behind qmath::fp8_quantize / fp8_dequantize), so the device and the CPU share one definition of the
// arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/cuda/detail/quantize_kernels.cuh>
#include <qmath/detail/minifloat.hpp>
#include <qmath/error.hpp>
#include <qmath/fp8.hpp>
#include <qmath/qparams.hpp>

namespace qmath {
namespace cuda {
namespace detail {

struct Fp8QuantizeElem {
  using In = float;
  using Out = std::uint8_t;
  qmath::detail::MinifloatSpec spec;
  bool saturate;
  QMATH_HOST_DEVICE std::uint8_t operator()(float v, float scale) const {
    return qmath::detail::minifloat_quantize(v, scale, spec, saturate);
  }
};
struct Fp8DequantizeElem {
  using In = std::uint8_t;
  using Out = float;
  qmath::detail::MinifloatSpec spec;
  QMATH_HOST_DEVICE float operator()(std::uint8_t q, float scale) const {
    return qmath::detail::minifloat_dequantize(q, scale, spec);
  }
};

// One scale for the whole array.
template <class Elem>
struct Fp8TensorOp {
  using In = typename Elem::In;
  using Out = typename Elem::Out;
  float scale;
  Elem elem;
  QMATH_HOST_DEVICE void operator()(const In* in, Out* out, int count, std::size_t /*first*/) const {
    for (int k = 0; k < count; ++k) out[k] = elem(in[k], scale);
  }
};

// scales[c] for element (o, c, i) of a row-major [outer, channels, inner] tensor; the channel of the first element
// costs one division, the following elements of a vector step walk the layout.
template <class Elem>
struct Fp8AxisOp {
  using In = typename Elem::In;
  using Out = typename Elem::Out;
  const float* scales;  // device memory, `channels` entries
  std::size_t channels;
  std::size_t inner;
  Elem elem;
  QMATH_HOST_DEVICE void operator()(const In* in, Out* out, int count, std::size_t first) const {
    const std::size_t row = first / inner;
    std::size_t i = first - row * inner;
    std::size_t c = row % channels;
    float s = scales[c];
    for (int k = 0; k < count; ++k) {
      out[k] = elem(in[k], s);
      if (k + 1 < count && ++i == inner) {
        i = 0;
        c = c + 1 == channels ? 0 : c + 1;
        s = scales[c];
      }
    }
  }
};

// layout.size() after checking that it does not overflow and that the scales exist when it is not empty.
inline std::size_t fp8_check_layout(ChannelLayout layout, const float* scales, const char* where) {
  const std::size_t max = ~std::size_t(0);
  const bool overflow = (layout.outer != 0 && layout.channels > max / layout.outer) ||
                        (layout.outer * layout.channels != 0 && layout.inner > max / (layout.outer * layout.channels));
  quantize_require(!overflow, where, "layout ", layout.outer, " x ", layout.channels, " x ", layout.inner,
                   " overflows size_t");
  const std::size_t n = layout.size();
  quantize_require(n == 0 || scales != nullptr, where, "null per-axis scale pointer");
  return n;
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

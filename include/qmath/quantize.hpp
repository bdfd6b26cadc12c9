// qmath/quantize.hpp - quantize, dequantize and fake-quantize of one value (host and device), and the parameter
// checks of the array forms. The array, per-tensor and per-channel forms are in qmath/quantize_array.hpp.
//
//   quantize:      q = clamp(round(x / scale) + zero_point, qmin, qmax)   (ONNX QuantizeLinear; x / scale is one
//                  correctly rounded float32 division, never x * (1 / scale); NaN -> zero_point; +-inf saturate)
//   dequantize:    x = scale * float(q - zero_point)                     (ONNX DequantizeLinear, float32)
//   fake_quantize: dequantize(quantize(x))
// The rounding mode is a parameter (default half to even, as ONNX, PyTorch and CUDA cvt.rni). This header includes
// no intrinsics header and nothing beyond the scalar arithmetic (qparams, rounding, error); the array forms live in
// qmath/quantize_array.hpp. Any finite scale > 0 is valid, subnormal ones included: x / scale is a true division
// (ONNX QuantizeLinear), so a scale whose reciprocal overflows still quantizes exactly (x = k * scale gives k);
// PyTorch's quantize_per_tensor accepts such scales too (only its observers floor scales at kMinScale).
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// Scalar quantization to [range.qmin, range.qmax], returned as int32. Preconditions (unchecked here, checked by the
// array forms): scale finite and > 0, range.qmin <= zero_point <= range.qmax.
QMATH_HOST_DEVICE std::int32_t quantize_value(float x, QuantParams p, QuantRange range,
                                              Round mode = Round::kHalfToEven) {
#if QMATH_DEVICE_CODE
  // __fdiv_rn: the correctly rounded division even when the kernel is built with -prec-div=false / --use_fast_math.
  return round_add_saturate(__fdiv_rn(x, p.scale), p.zero_point, range, mode);
#else
  return round_add_saturate(x / p.scale, p.zero_point, range, mode);
#endif
}

// Scalar quantization to the full range of T (int8, uint8, int16, uint16).
template <class T>
QMATH_HOST_DEVICE T quantize(float x, QuantParams p, Round mode = Round::kHalfToEven) {
  return static_cast<T>(quantize_value(x, p, full_range<T>(), mode));
}

// Scalar dequantization: scale * float(q - zero_point), the difference exact (int64: int32 storage spans 2^32) and
// rounded once to float; identical to the int32 expression wherever that one does not overflow.
QMATH_HOST_DEVICE float dequantize_value(std::int32_t q, QuantParams p) {
  return p.scale * static_cast<float>(static_cast<std::int64_t>(q) - p.zero_point);
}

// Scalar fake quantization (quantize, then dequantize) over `range`.
QMATH_HOST_DEVICE float fake_quantize_value(float x, QuantParams p, QuantRange range,
                                            Round mode = Round::kHalfToEven) {
  return dequantize_value(quantize_value(x, p, range, mode), p);
}

namespace detail {
inline void check_params(QuantParams p, QuantRange range, const char* where) {
  require(p.scale > 0.0f && p.scale <= 3.4028234663852886e38f, where, "scale must be finite and > 0, got ", p.scale);
  require(range.qmin < range.qmax, where, "empty quantized range [", range.qmin, ", ", range.qmax, "]");
  require(p.zero_point >= range.qmin && p.zero_point <= range.qmax, where, "zero point ", p.zero_point,
          " outside the quantized range [", range.qmin, ", ", range.qmax, "]");
}
// A null pointer is only valid with n == 0.
inline void check_pointers(const void* in, const void* out, std::size_t n, const char* where) {
  require(n == 0 || (in != nullptr && out != nullptr), where, "null ", in == nullptr ? "input" : "output",
          " pointer with ", n, " elements");
}
template <class T>
void check_storage(QuantRange range, const char* where) {
  const QuantRange t = full_range<T>();
  require(range.qmin >= t.qmin && range.qmax <= t.qmax, where, "quantized range [", range.qmin, ", ", range.qmax,
          "] does not fit the output type's [", t.qmin, ", ", t.qmax, "]");
}

}  // namespace detail

}  // namespace qmath

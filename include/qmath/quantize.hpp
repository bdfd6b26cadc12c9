// qmath/quantize.hpp - quantize, dequantize and fake-quantize: scalars, arrays, per tensor and per channel.
//
//   quantize:      q = clamp(round(x / scale) + zero_point, qmin, qmax)   (ONNX QuantizeLinear; x / scale is one
//                  correctly rounded float32 division, never x * (1 / scale); NaN -> zero_point; +-inf saturate)
//   dequantize:    x = scale * float(q - zero_point)                     (ONNX DequantizeLinear, float32)
//   fake_quantize: dequantize(quantize(x))
// The rounding mode is a parameter (default half to even, as ONNX, PyTorch and CUDA cvt.rni). The array forms are
// bit-exact with the scalar forms; they check their parameters once (scale finite and > 0, zero point inside the
// range, no null pointer with n > 0) and throw qmath::error before writing anything. Any finite scale > 0 is valid,
// subnormal ones included: x / scale is a true division (ONNX QuantizeLinear), so a scale whose reciprocal
// overflows still quantizes exactly (x = k * scale gives k); PyTorch's quantize_per_tensor accepts such scales too
// (only its observers floor scales at kMinScale). On x86 with GCC/Clang, int8/uint8 array forms run AVX-512 or
// AVX2 kernels chosen at run time from the CPU's features (detail/quantize_simd.hpp; define QMATH_DISABLE_SIMD to
// compile them out); the portable loops below are the normative reference they are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/detail/quantize_simd.hpp>
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

// Portable loops: the normative array semantics. SIMD paths (detail/quantize_simd.hpp) must match them bit for bit.
template <class T>
void quantize_array_scalar(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode) {
  for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<T>(quantize_value(x[i], p, range, mode));
}
template <class T>
void dequantize_array_scalar(const T* q, std::size_t n, float* x, QuantParams p) {
  for (std::size_t i = 0; i < n; ++i) x[i] = dequantize_value(q[i], p);
}
}  // namespace detail

// Quantizes n floats to T over `range` (default: T's full range; pass narrow_range<T>() for TensorRT's [-127, 127]).
template <class T>
void quantize_array(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range = full_range<T>(),
                    Round mode = Round::kHalfToEven) {
  detail::check_pointers(x, q, n, "quantize_array");
  detail::check_params(p, range, "quantize_array");
  detail::check_storage<T>(range, "quantize_array");
  if (!detail::quantize_array_simd(detail::best_simd_isa(), x, n, q, p, range, mode))
    detail::quantize_array_scalar(x, n, q, p, range, mode);
}

// Dequantizes n values of T.
template <class T>
void dequantize_array(const T* q, std::size_t n, float* x, QuantParams p) {
  detail::check_pointers(q, x, n, "dequantize_array");
  detail::check_params(p, full_range<T>(), "dequantize_array");
  if (!detail::dequantize_array_simd(detail::best_simd_isa(), q, n, x, p)) detail::dequantize_array_scalar(q, n, x, p);
}

// Fake-quantizes n floats (x and y may alias).
inline void fake_quantize_array(const float* x, std::size_t n, float* y, QuantParams p, QuantRange range,
                                Round mode = Round::kHalfToEven) {
  detail::check_pointers(x, y, n, "fake_quantize_array");
  detail::check_params(p, range, "fake_quantize_array");
  // Ranges that fit int8 / uint8 go through the vector kernels in blocks (quantize a block, then dequantize it;
  // each block is read completely before it is written, so x == y is fine).
  const detail::SimdIsa isa = detail::best_simd_isa();
  auto blocks = [&](auto tag) {
    using T = decltype(tag);
    T buf[256];
    for (std::size_t i = 0; i < n; i += 256) {
      const std::size_t m = n - i < 256 ? n - i : 256;
      detail::quantize_array_simd(isa, x + i, m, buf, p, range, mode);
      detail::dequantize_array_simd(isa, buf, m, y + i, p);
    }
  };
  if (isa != detail::SimdIsa::kScalar && n >= 16) {
    if (range.qmin >= -128 && range.qmax <= 127) return blocks(std::int8_t{});
    if (range.qmin >= 0 && range.qmax <= 255) return blocks(std::uint8_t{});
  }
  for (std::size_t i = 0; i < n; ++i) y[i] = fake_quantize_value(x[i], p, range, mode);
}

// Per-channel quantization of a row-major tensor: element (o, c, i) uses params[c] (see channel_layout()).
// `params` holds layout.channels entries.
template <class T>
void quantize_per_channel(const float* x, ChannelLayout layout, const QuantParams* params, T* q,
                          QuantRange range = full_range<T>(), Round mode = Round::kHalfToEven) {
  detail::check_pointers(x, q, layout.size(), "quantize_per_channel");
  detail::check_pointers(params, params, layout.channels, "quantize_per_channel");
  detail::check_storage<T>(range, "quantize_per_channel");
  for (std::size_t c = 0; c < layout.channels; ++c) detail::check_params(params[c], range, "quantize_per_channel");
  // Channel rows shorter than a vector (e.g. the last axis, inner == 1) run the portable loop directly.
  const detail::SimdIsa isa = layout.inner >= 16 ? detail::best_simd_isa() : detail::SimdIsa::kScalar;
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      if (!detail::quantize_array_simd(isa, x + base, layout.inner, q + base, params[c], range, mode))
        detail::quantize_array_scalar(x + base, layout.inner, q + base, params[c], range, mode);
    }
}

// Per-channel dequantization of a row-major tensor.
template <class T>
void dequantize_per_channel(const T* q, ChannelLayout layout, const QuantParams* params, float* x) {
  detail::check_pointers(q, x, layout.size(), "dequantize_per_channel");
  detail::check_pointers(params, params, layout.channels, "dequantize_per_channel");
  for (std::size_t c = 0; c < layout.channels; ++c)
    detail::check_params(params[c], full_range<T>(), "dequantize_per_channel");
  const detail::SimdIsa isa = layout.inner >= 16 ? detail::best_simd_isa() : detail::SimdIsa::kScalar;
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      if (!detail::dequantize_array_simd(isa, q + base, layout.inner, x + base, params[c]))
        detail::dequantize_array_scalar(q + base, layout.inner, x + base, params[c]);
    }
}

}  // namespace qmath

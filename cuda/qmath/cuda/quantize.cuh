// qmath/cuda/quantize.cuh - quantize, dequantize and fake-quantize of device arrays, per tensor and per channel.
//
// Every function here is the device counterpart of one host function in <qmath/quantize.hpp> and is bit-exact with
// it by construction: the kernels call the very same QMATH_HOST_DEVICE scalars (quantize_value, dequantize_value,
// fake_quantize_value), element by element, and the tests compare every output bit with the host array forms.
//
//   quantize       q = clamp(round(x / scale) + zero_point, qmin, qmax)   NaN -> zero_point, +-inf saturate
//                  (x / scale is the default QuantizeRule::kDivide; the trailing `rule` argument selects
//                  kMultiplyReciprocal, PyTorch's x * f32(1 / scale), or kMultiplyBoundOverAmax, pytorch-quantization's
//                  x * f32(bound / amax) with p = {amax, 0}: qmath/quantize.hpp. The kernels evaluate the rule's
//                  operand per element with the same QMATH_HOST_DEVICE rule_operand(), a correctly rounded division
//                  (__fdiv_rn), so it equals the host's once-per-tensor value; the product is __fmul_rn.)
//   dequantize     x = scale * float(q - zero_point)
//   fake_quantize  y = dequantize(quantize(x))
//
// Contract shared by all entry points:
// - All array pointers are device (or managed) pointers; per-channel parameters are read from device memory too.
// - Work is enqueued on `stream` and the call returns at once: no synchronisation, no allocation. A launch error
//   throws qmath::error carrying the CUDA error text; an error raised while the kernel runs surfaces at the
//   caller's next synchronisation, as with any CUDA kernel.
// - Parameters the host can see (scale, zero point, range, lengths, pointers) are checked before anything is
//   launched, with the same rules and messages as the host functions, so bad input writes nothing.
//   Per-channel parameters live on the device and are NOT checked by the kernels; check them on the host first with
//   check_channel_params() (the device kernels stay well defined with bad parameters: outputs remain inside the
//   range, they are just meaningless).
// - Vectorisation: 4 elements per thread per step with one 16-byte float4 access and one 4-element integer vector
//   access (char4, uchar4, short4, ushort4). Any pointer alignment and any length are accepted: a scalar head runs
//   until the float side is 16-byte aligned, the vector body covers the aligned part, a scalar tail finishes. When
//   the input and output cannot be aligned together (their offsets differ modulo 4 elements) the whole array takes
//   the scalar path. Results never depend on the path.
// - Input and output may be the same array (in place) for fake_quantize; partially overlapping arrays are not
//   supported.
// - Bit-exactness holds with nvcc's default floating-point flags. The division x / scale is __fdiv_rn on the device
//   (correctly rounded even under --use_fast_math / -prec-div=false), but -ftz=true (implied by --use_fast_math)
//   flushes subnormal floats to zero, which changes results for subnormal scales or inputs and for dequantized
//   values below 2^-126; build without it where bit-exactness with the host matters.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/cuda/detail/quantize_kernels.cuh>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace cuda {

// Quantizes n device floats to T (int8, uint8, int16, uint16) over `range` (default T's full range; pass
// narrow_range<T>() for TensorRT's [-127, 127]). Device version of qmath::quantize_array.
template <class T>
void quantize(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range = full_range<T>(),
              Round mode = Round::kHalfToEven, cudaStream_t stream = 0, QuantizeRule rule = QuantizeRule::kDivide) {
  qmath::detail::check_params(p, range, "cuda::quantize", rule);
  qmath::detail::check_storage<T>(range, "cuda::quantize");
  detail::quantize_check_pointers(x, q, n, "cuda::quantize");
  detail::quantize_run(x, q, n, detail::QuantizeTensorOp<detail::QuantizeElem<T>>{p, {{range, mode, rule}}}, stream,
                       "cuda::quantize");
}

// Dequantizes n device values of T to float. Device version of qmath::dequantize_array.
template <class T>
void dequantize(const T* q, std::size_t n, float* x, QuantParams p, cudaStream_t stream = 0) {
  qmath::detail::check_params(p, full_range<T>(), "cuda::dequantize");
  detail::quantize_check_pointers(q, x, n, "cuda::dequantize");
  detail::quantize_run(q, x, n, detail::QuantizeTensorOp<detail::DequantizeElem<T>>{p, {}}, stream, "cuda::dequantize");
}

// Fake-quantizes n device floats (x and y may be the same array). Device version of qmath::fake_quantize_array.
// `rule`: kDivide or kMultiplyReciprocal (kMultiplyBoundOverAmax is refused, as by the host form).
inline void fake_quantize(const float* x, std::size_t n, float* y, QuantParams p, QuantRange range,
                          Round mode = Round::kHalfToEven, cudaStream_t stream = 0,
                          QuantizeRule rule = QuantizeRule::kDivide) {
  qmath::detail::check_fake_quantize_rule(rule, "cuda::fake_quantize");
  qmath::detail::check_params(p, range, "cuda::fake_quantize", rule);
  detail::quantize_check_pointers(x, y, n, "cuda::fake_quantize");
  detail::quantize_run(x, y, n, detail::QuantizeTensorOp<detail::FakeQuantizeElem>{p, {{range, mode, rule}}}, stream,
                       "cuda::fake_quantize");
}

// Checks host copies of per-channel parameters with the host functions' rules (scale finite and > 0, zero point
// inside `range`; under `rule` as quantize_array checks them), throwing qmath::error naming the first bad channel.
// Call it before uploading them.
inline void check_channel_params(const QuantParams* params, std::size_t channels, QuantRange range,
                                 QuantizeRule rule = QuantizeRule::kDivide) {
  detail::quantize_require(params != nullptr || channels == 0, "cuda::check_channel_params",
                           "null parameter array");
  for (std::size_t c = 0; c < channels; ++c)
    qmath::detail::check_params(params[c], range, "cuda::check_channel_params", rule);
}

// Per-channel quantization of a row-major device tensor: element (o, c, i) of `layout` uses device_params[c]
// (layout.channels entries in device memory, unchecked: see check_channel_params). Device version of
// qmath::quantize_per_channel.
template <class T>
void quantize_per_channel(const float* x, ChannelLayout layout, const QuantParams* device_params, T* q,
                          QuantRange range = full_range<T>(), Round mode = Round::kHalfToEven,
                          cudaStream_t stream = 0, QuantizeRule rule = QuantizeRule::kDivide) {
  qmath::detail::check_storage<T>(range, "cuda::quantize_per_channel");
  const std::size_t n = detail::quantize_check_layout(layout, device_params, "cuda::quantize_per_channel");
  detail::quantize_check_pointers(x, q, n, "cuda::quantize_per_channel");
  detail::quantize_run(x, q, n,
                       detail::QuantizeChannelOp<detail::QuantizeElem<T>>{device_params, layout.channels, layout.inner,
                                                                           {{range, mode, rule}}},
                       stream, "cuda::quantize_per_channel");
}

// Per-channel dequantization of a row-major device tensor (device_params as in quantize_per_channel).
template <class T>
void dequantize_per_channel(const T* q, ChannelLayout layout, const QuantParams* device_params, float* x,
                            cudaStream_t stream = 0) {
  const std::size_t n = detail::quantize_check_layout(layout, device_params, "cuda::dequantize_per_channel");
  detail::quantize_check_pointers(q, x, n, "cuda::dequantize_per_channel");
  detail::quantize_run(q, x, n, detail::QuantizeChannelOp<detail::DequantizeElem<T>>{device_params, layout.channels, layout.inner, {}}, stream,
                       "cuda::dequantize_per_channel");
}

// Per-channel fake quantization of a row-major device tensor (x and y may be the same array). There is no host
// array form of this one; its reference is fake_quantize_value(x[e], params[c], range, mode) per element.
inline void fake_quantize_per_channel(const float* x, ChannelLayout layout, const QuantParams* device_params, float* y,
                                      QuantRange range, Round mode = Round::kHalfToEven, cudaStream_t stream = 0,
                                      QuantizeRule rule = QuantizeRule::kDivide) {
  qmath::detail::check_fake_quantize_rule(rule, "cuda::fake_quantize_per_channel");
  qmath::detail::require(range.qmin < range.qmax, "cuda::fake_quantize_per_channel", "empty quantized range [",
                         range.qmin, ", ", range.qmax, "]");
  const std::size_t n = detail::quantize_check_layout(layout, device_params, "cuda::fake_quantize_per_channel");
  detail::quantize_check_pointers(x, y, n, "cuda::fake_quantize_per_channel");
  detail::quantize_run(x, y, n, detail::QuantizeChannelOp<detail::FakeQuantizeElem>{device_params, layout.channels, layout.inner, {{range, mode, rule}}},
                       stream, "cuda::fake_quantize_per_channel");
}

}  // namespace cuda
}  // namespace qmath

// qmath/cuda/fp8.cuh - FP8 (E4M3FN, E5M2, E4M3FNUZ, E5M2FNUZ) QuantizeLinear / DequantizeLinear of device arrays,
// per tensor and per axis.
//
// Each function is the device counterpart of one host function of <qmath/fp8.hpp> and is bit-exact with it by
// construction: the kernels call the same QMATH_HOST_DEVICE scalars (detail::minifloat_quantize / _dequantize) with
// the same format table, so ONNX's saturate / no-saturate rules, NaN codes and FNUZ zeros are those of fp8.hpp:
//   quantize    q = fp8_from_float(x / scale, format, saturate)   x / scale by __fdiv_rn; NaN x cast as is
//   dequantize  x = fp8_to_float(q) * scale                       NaN codes give their NaN unscaled
// The contract is that of qmath/cuda/quantize.cuh (device pointers, asynchronous on `stream`, no allocation,
// launch errors as qmath::error, any alignment and length, 4-element vector body), and so is the validation: every
// parameter the host can see (scale finite and > 0, pointers, layout) is checked before anything is launched, with
// the host functions' rules; per-axis scales live on the device and are not checked by the kernels: check the host
// copy with check_fp8_scales() first (bad scales give meaningless codes, never out-of-bounds accesses).
// Build without -ftz / --use_fast_math where bit-exactness with the host matters (subnormal quotients and products).
//
// Why not cuda_fp8.h: its __nv_cvt_float_to_fp8 (CUDA 13.0; its software path, which the host and pre-sm_89
// devices run, compiled on the host and compared with fp8_from_float on every third float32 bit pattern) gives the
// same E4M3FN / E5M2 code for every non-NaN input in both saturation modes (__NV_SATFINITE = saturate: +-Inf ->
// +-max; __NV_NOSAT: E4M3 overflow -> +-NaN, E5M2 -> +-Inf; ties to even, the E4M3 tie 464 -> 448), but turns every
// NaN into the positive canonical NaN (0x7F in both formats) where ONNX and ml_dtypes keep the sign (E4M3FN 0xFF,
// E5M2 0x7E / 0xFE), and it has no FNUZ interpretation at all. On sm_89+ with __NV_SATFINITE it is the
// cvt.rn.satfinite instruction, not checked here. Hence one definition (minifloat.hpp) for every format and platform.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/cuda/detail/fp8_kernels.cuh>
#include <qmath/cuda/detail/quantize_kernels.cuh>
#include <qmath/error.hpp>
#include <qmath/fp8.hpp>
#include <qmath/qparams.hpp>

namespace qmath {
namespace cuda {

// Per-tensor QuantizeLinear of n device floats to FP8 codes. Device version of qmath::fp8_quantize_array.
inline void fp8_quantize(const float* x, std::size_t n, std::uint8_t* q, float scale, Fp8Format f,
                         bool saturate = true, cudaStream_t stream = 0) {
  const char* where = "cuda::fp8_quantize";
  qmath::detail::check_fp8_scale(scale, where);
  detail::quantize_check_pointers(x, q, n, where);
  detail::quantize_run(x, q, n, detail::QuantizeTensorOp<detail::Fp8QuantizeElem>{scale, {fp8_spec(f), saturate}},
                       stream, where);
}

// Per-tensor DequantizeLinear of n device FP8 codes. Device version of qmath::fp8_dequantize_array.
inline void fp8_dequantize(const std::uint8_t* q, std::size_t n, float* x, float scale, Fp8Format f,
                           cudaStream_t stream = 0) {
  const char* where = "cuda::fp8_dequantize";
  qmath::detail::check_fp8_scale(scale, where);
  detail::quantize_check_pointers(q, x, n, where);
  detail::quantize_run(q, x, n, detail::QuantizeTensorOp<detail::Fp8DequantizeElem>{scale, {fp8_spec(f)}}, stream, where);
}

// Checks host copies of per-axis scales (finite and > 0), throwing qmath::error naming the first bad one. Call it
// before uploading them.
inline void check_fp8_scales(const float* scales, std::size_t channels) {
  const char* where = "cuda::check_fp8_scales";
  detail::quantize_require(scales != nullptr || channels == 0, where, "null scale array");
  for (std::size_t c = 0; c < channels; ++c) qmath::detail::check_fp8_scale(scales[c], where);
}

// Per-axis QuantizeLinear of a row-major device tensor: element (o, c, i) uses device_scales[c] (layout.channels
// floats in device memory, unchecked: see check_fp8_scales). Device version of qmath::fp8_quantize_per_axis.
inline void fp8_quantize_per_axis(const float* x, ChannelLayout layout, const float* device_scales, std::uint8_t* q,
                                  Fp8Format f, bool saturate = true, cudaStream_t stream = 0) {
  const char* where = "cuda::fp8_quantize_per_axis";
  const std::size_t n = detail::quantize_check_layout(layout, device_scales, where, "null per-axis scale pointer");
  detail::quantize_check_pointers(x, q, n, where);
  detail::quantize_run(x, q, n,
                       detail::QuantizeChannelOp<detail::Fp8QuantizeElem>{device_scales, layout.channels, layout.inner,
                                                                  {fp8_spec(f), saturate}},
                       stream, where);
}

// Per-axis DequantizeLinear of a row-major device tensor (device_scales as in fp8_quantize_per_axis).
inline void fp8_dequantize_per_axis(const std::uint8_t* q, ChannelLayout layout, const float* device_scales, float* x,
                                    Fp8Format f, cudaStream_t stream = 0) {
  const char* where = "cuda::fp8_dequantize_per_axis";
  const std::size_t n = detail::quantize_check_layout(layout, device_scales, where, "null per-axis scale pointer");
  detail::quantize_check_pointers(q, x, n, where);
  detail::quantize_run(q, x, n,
                       detail::QuantizeChannelOp<detail::Fp8DequantizeElem>{device_scales, layout.channels, layout.inner,
                                                                    {fp8_spec(f)}},
                       stream, where);
}

}  // namespace cuda
}  // namespace qmath

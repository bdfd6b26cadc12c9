// qmath/quantize.hpp - quantize, dequantize and fake-quantize of one value (host and device), and the parameter
// checks of the array forms. The array, per-tensor and per-channel forms are in qmath/quantize_array.hpp.
//
//   quantize:      q = clamp(round(v) + zero_point, qmin, qmax),  v = x brought onto the integer grid by the
//                  QuantizeRule (default kDivide: v = x / scale, one correctly rounded float32 division, as ONNX
//                  specifies); NaN -> zero_point; +-inf saturate
//   dequantize:    x = scale * float(q - zero_point)                     (ONNX DequantizeLinear, float32)
//   fake_quantize: dequantize(quantize(x))
// The rounding mode is a parameter (default half to even, as ONNX, PyTorch and CUDA cvt.rni), and so is the quantize
// rule (default kDivide; see QuantizeRule and grid_value(), the one definition every path uses). This header
// includes no intrinsics header and nothing beyond the scalar arithmetic (qparams, rounding, error); the array forms
// live in qmath/quantize_array.hpp. Any finite scale > 0 is valid under kDivide, subnormal ones included: x / scale
// is a true division (ONNX QuantizeLinear), so a scale whose reciprocal overflows still quantizes exactly
// (x = k * scale gives k); PyTorch's quantize_per_tensor accepts such scales too (only its observers floor scales
// at kMinScale), but its multiply then produces garbage, so kMultiplyReciprocal refuses them.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// How quantize brings x onto the integer grid before rounding. Every rule is one float32 operation on x with one
// float32 operand computed once per tensor or channel by rule_operand(); grid_value() applies it. All three are
// correctly rounded (round to nearest even), so the scalar, SIMD and CUDA paths agree bit for bit.
enum class QuantizeRule : unsigned char {
  // v = RN(x / scale). ONNX QuantizeLinear, TensorRT (Q/DQ, calibration caches store scale = amax / 127).
  kDivide,
  // v = RN(x * r), r = RN(1 / scale) computed once in float32. PyTorch's quantize_per_tensor / quantize_per_channel
  // on x86 (FBGEMM's Quantize<T, LEGACY = false> and the non-FBGEMM quantize_val alike: zero_point +
  // nearbyint(x * (1.0f / scale)), the zero point added after rounding), and its fake_quantize kernels. Needs
  // 1 / scale finite (scale >= 2^-128 about): the array forms refuse smaller scales.
  kMultiplyReciprocal,
  // v = RN(x * m), m = RN(bound / amax) with bound = range.qmax; m = 0 when amax <= 2^-24. NVIDIA
  // pytorch-quantization's _tensor_quant (TensorQuantizer, TensorQuantFunction): outputs = clamp(round(x * scale),
  // min_bound, max_bound), scale = max_bound / amax in float32, torch.round (half to even), amax <= 2^-24 quantizing
  // to 0. Under this rule QuantParams::scale holds amax (finite, >= 0; pytorch-quantization's parameter, not a step
  // size) and zero_point must be 0; bound is range.qmax: 127 for narrow_range<int8_t>() ([-127, 127], the default
  // narrow_range=True) and full_range<int8_t>() ([-128, 127]), 255 for full_range<uint8_t>() (unsigned=True). The
  // real step size of such a tensor is symmetric_params(amax, range) (amax / bound); pytorch-quantization's own
  // dequantization divides by m instead, which qmath does not model.
  kMultiplyBoundOverAmax,
};

// pytorch-quantization's zero threshold: an amax at or below it quantizes everything to 0 (m = 0).
inline constexpr float kBoundOverAmaxMinAmax = 5.9604644775390625e-08f;  // 2^-24

// The operand of `rule` for one tensor or channel: kDivide: scale; kMultiplyReciprocal: RN(1 / scale);
// kMultiplyBoundOverAmax: RN(range.qmax / amax) with amax = p.scale, or 0 when amax <= 2^-24.
QMATH_HOST_DEVICE float rule_operand(QuantParams p, QuantRange range, QuantizeRule rule) {
  switch (rule) {
    case QuantizeRule::kMultiplyReciprocal:
#if QMATH_DEVICE_CODE
      return __fdiv_rn(1.0f, p.scale);
#else
      return 1.0f / p.scale;
#endif
    case QuantizeRule::kMultiplyBoundOverAmax:
      if (!(p.scale > kBoundOverAmaxMinAmax)) return 0.0f;
#if QMATH_DEVICE_CODE
      return __fdiv_rn(static_cast<float>(range.qmax), p.scale);
#else
      return static_cast<float>(range.qmax) / p.scale;
#endif
    case QuantizeRule::kDivide:
    default:
      return p.scale;
  }
}

// v, the value quantize rounds: RN(x / operand) for kDivide, RN(x * operand) for the multiply rules.
QMATH_HOST_DEVICE float grid_value(float x, float operand, QuantizeRule rule) {
#if QMATH_DEVICE_CODE
  // __fdiv_rn: the correctly rounded division even when the kernel is built with -prec-div=false / --use_fast_math.
  // __fmul_rn: a product ptxas may never contract into an FMA with the rounding's subtraction.
  return rule == QuantizeRule::kDivide ? __fdiv_rn(x, operand) : __fmul_rn(x, operand);
#else
  return rule == QuantizeRule::kDivide ? x / operand : x * operand;
#endif
}

// Scalar quantization to [range.qmin, range.qmax], returned as int32. Preconditions (unchecked here, checked by the
// array forms, see detail::check_params): scale finite and > 0 (kMultiplyBoundOverAmax: amax finite and >= 0),
// range.qmin <= zero_point <= range.qmax.
QMATH_HOST_DEVICE std::int32_t quantize_value(float x, QuantParams p, QuantRange range,
                                              Round mode = Round::kHalfToEven,
                                              QuantizeRule rule = QuantizeRule::kDivide) {
  return round_add_saturate(grid_value(x, rule_operand(p, range, rule), rule), p.zero_point, range, mode);
}

// quantize_value with the operand already resolved (operand = rule_operand(p, range, rule)); the array loops and the
// SIMD remainders call it so that the operand is computed once per tensor or channel.
QMATH_HOST_DEVICE std::int32_t quantize_value_with(float x, float operand, std::int32_t zero_point, QuantRange range,
                                                   Round mode, QuantizeRule rule) {
  return round_add_saturate(grid_value(x, operand, rule), zero_point, range, mode);
}

// Scalar quantization to the full range of T (int8, uint8, int16, uint16).
template <class T>
QMATH_HOST_DEVICE T quantize(float x, QuantParams p, Round mode = Round::kHalfToEven,
                             QuantizeRule rule = QuantizeRule::kDivide) {
  return static_cast<T>(quantize_value(x, p, full_range<T>(), mode, rule));
}

// Scalar dequantization: scale * float(q - zero_point), the difference exact (int64: int32 storage spans 2^32) and
// rounded once to float; identical to the int32 expression wherever that one does not overflow.
QMATH_HOST_DEVICE float dequantize_value(std::int32_t q, QuantParams p) {
  return p.scale * static_cast<float>(static_cast<std::int64_t>(q) - p.zero_point);
}

// Scalar fake quantization (quantize, then dequantize) over `range`. Rules kDivide and kMultiplyReciprocal (PyTorch's
// fake_quantize_per_tensor_affine: (clamp(zp + nearbyint(x * inv_scale)) - zp) * scale); the array forms refuse
// kMultiplyBoundOverAmax, whose parameters are no step size.
QMATH_HOST_DEVICE float fake_quantize_value(float x, QuantParams p, QuantRange range,
                                            Round mode = Round::kHalfToEven,
                                            QuantizeRule rule = QuantizeRule::kDivide) {
  return dequantize_value(quantize_value(x, p, range, mode, rule), p);
}

namespace detail {
inline void check_params(QuantParams p, QuantRange range, const char* where,
                         QuantizeRule rule = QuantizeRule::kDivide) {
  require(range.qmin < range.qmax, where, "empty quantized range [", range.qmin, ", ", range.qmax, "]");
  if (rule == QuantizeRule::kMultiplyBoundOverAmax) {
    require(p.scale >= 0.0f && p.scale <= 3.4028234663852886e38f, where,
            "kMultiplyBoundOverAmax: amax (the scale field) must be finite and >= 0, got ", p.scale);
    require(p.zero_point == 0, where, "kMultiplyBoundOverAmax has no zero point, got ", p.zero_point);
    require(range.qmax > 0, where, "kMultiplyBoundOverAmax: bound = qmax must be > 0, got ", range.qmax);
    return;
  }
  require(p.scale > 0.0f && p.scale <= 3.4028234663852886e38f, where, "scale must be finite and > 0, got ", p.scale);
  require(rule != QuantizeRule::kMultiplyReciprocal || 1.0f / p.scale <= 3.4028234663852886e38f, where,
          "kMultiplyReciprocal: 1 / scale overflows float for scale ", p.scale);
  require(p.zero_point >= range.qmin && p.zero_point <= range.qmax, where, "zero point ", p.zero_point,
          " outside the quantized range [", range.qmin, ", ", range.qmax, "]");
}
// Fake quantization dequantizes with p.scale, which kMultiplyBoundOverAmax does not hold.
inline void check_fake_quantize_rule(QuantizeRule rule, const char* where) {
  require(rule != QuantizeRule::kMultiplyBoundOverAmax, where,
          "kMultiplyBoundOverAmax is not supported: its parameters hold amax, not a scale to dequantize with");
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

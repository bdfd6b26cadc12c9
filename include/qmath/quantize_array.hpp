// qmath/quantize_array.hpp - quantize, dequantize and fake-quantize of arrays: per tensor and per channel.
//
// Element i of every array form equals the scalar form of qmath/quantize.hpp on element i (bit-exact). Each form
// checks its parameters once (scale finite and > 0, zero point inside the range, range inside the output type), and
// resolves its instruction-set path (qmath/isa.hpp), before writing anything; bad input throws qmath::error.
//
// Rule: the trailing `rule` argument (default QuantizeRule::kDivide, qmath/quantize.hpp) selects how x reaches the
// integer grid; every path, SIMD kernels included, computes the rule's operand once per tensor (per channel) with
// rule_operand() and is bit-exact with quantize_value(x, p, range, mode, rule).
//
// Paths: int8/uint8 arrays have AVX2, AVX-512 and (AArch64) NEON kernels (detail/quantize_simd.hpp), chosen per call
// by the trailing `isa` argument: kAuto (default) = the best kernel at or below the process cap (QMATH_MAX_ISA /
// set_max_isa); a named path runs the best kernel at or below it (kAvxVnni and kAvx512Vnni run the AVX2 / AVX-512
// kernels, kNeonDotprod and kNeonI8mm the NEON kernel) and
// throws if the path is unavailable or above the cap. Other output types, per-channel rows shorter than 16
// elements, and kScalar run the portable loops below, the normative reference the kernels are tested against.
// QMATH_DISABLE_SIMD, or a CUDA translation unit, compiles the kernels out: every available path then runs the
// portable loops.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/detail/quantize_simd.hpp>
#include <qmath/error.hpp>
#include <qmath/isa.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

namespace detail {
// Portable loops: the normative array semantics. SIMD paths (detail/quantize_simd.hpp) must match them bit for bit.
template <class T>
void quantize_array_scalar(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode,
                           QuantizeRule rule = QuantizeRule::kDivide) {
  const float operand = rule_operand(p, range, rule);
  for (std::size_t i = 0; i < n; ++i)
    q[i] = static_cast<T>(quantize_value_with(x[i], operand, p.zero_point, range, mode, rule));
}
template <class T>
void dequantize_array_scalar(const T* q, std::size_t n, float* x, QuantParams p) {
  for (std::size_t i = 0; i < n; ++i) x[i] = dequantize_value(q[i], p);
}

// The kernel path of the array forms for a request (see qmath/isa.hpp); throws naming `where`.
inline Isa quantize_isa(Isa requested, const char* where) { return resolve_isa(requested, kQuantizeKernels, where); }
}  // namespace detail

// The path the int8/uint8 array forms run for `requested` (kScalar: the portable loops). Throws as they would.
inline Isa resolved_isa_for_quantize(Isa requested = Isa::kAuto) {
  return detail::quantize_isa(requested, "resolved_isa_for_quantize");
}

// Quantizes n floats to T over `range` (default: T's full range; pass narrow_range<T>() for TensorRT's [-127, 127]).
// `rule`: QuantizeRule::kMultiplyReciprocal reproduces PyTorch's quantize_per_tensor, kMultiplyBoundOverAmax NVIDIA
// pytorch-quantization's tensor_quant (p = {amax, 0}; see QuantizeRule).
template <class T>
void quantize_array(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range = full_range<T>(),
                    Round mode = Round::kHalfToEven, Isa isa = Isa::kAuto, QuantizeRule rule = QuantizeRule::kDivide) {
  detail::check_pointers(x, q, n, "quantize_array");
  detail::check_params(p, range, "quantize_array", rule);
  detail::check_storage<T>(range, "quantize_array");
  const Isa path = detail::quantize_isa(isa, "quantize_array");
  if (!detail::quantize_array_simd(path, x, n, q, p, range, mode, rule))
    detail::quantize_array_scalar(x, n, q, p, range, mode, rule);
}

// Dequantizes n values of T.
template <class T>
void dequantize_array(const T* q, std::size_t n, float* x, QuantParams p, Isa isa = Isa::kAuto) {
  detail::check_pointers(q, x, n, "dequantize_array");
  detail::check_params(p, full_range<T>(), "dequantize_array");
  const Isa path = detail::quantize_isa(isa, "dequantize_array");
  if (!detail::dequantize_array_simd(path, q, n, x, p)) detail::dequantize_array_scalar(q, n, x, p);
}

// Fake-quantizes n floats (x and y may alias).
// `rule`: kDivide or kMultiplyReciprocal (PyTorch's fake_quantize_per_tensor_affine); kMultiplyBoundOverAmax is
// refused (its parameters hold amax, not a step size).
inline void fake_quantize_array(const float* x, std::size_t n, float* y, QuantParams p, QuantRange range,
                                Round mode = Round::kHalfToEven, Isa isa = Isa::kAuto,
                                QuantizeRule rule = QuantizeRule::kDivide) {
  detail::check_pointers(x, y, n, "fake_quantize_array");
  detail::check_fake_quantize_rule(rule, "fake_quantize_array");
  detail::check_params(p, range, "fake_quantize_array", rule);
  const Isa path = detail::quantize_isa(isa, "fake_quantize_array");
  // Ranges that fit int8 / uint8 go through the vector kernels in blocks (quantize a block, then dequantize it;
  // each block is read completely before it is written, so x == y is fine).
  auto blocks = [&](auto tag) {
    using T = decltype(tag);
    T buf[256];
    for (std::size_t i = 0; i < n; i += 256) {
      const std::size_t m = n - i < 256 ? n - i : 256;
      detail::quantize_array_simd(path, x + i, m, buf, p, range, mode, rule);
      detail::dequantize_array_simd(path, buf, m, y + i, p);
    }
  };
  if (path != Isa::kScalar && n >= 16) {
    if (range.qmin >= -128 && range.qmax <= 127) return blocks(std::int8_t{});
    if (range.qmin >= 0 && range.qmax <= 255) return blocks(std::uint8_t{});
  }
  for (std::size_t i = 0; i < n; ++i) y[i] = fake_quantize_value(x[i], p, range, mode, rule);
}

// Per-channel quantization of a row-major tensor: element (o, c, i) uses params[c] (see channel_layout()).
// `params` holds layout.channels entries.
// `rule` as in quantize_array (PyTorch's quantize_per_channel: kMultiplyReciprocal).
template <class T>
void quantize_per_channel(const float* x, ChannelLayout layout, const QuantParams* params, T* q,
                          QuantRange range = full_range<T>(), Round mode = Round::kHalfToEven, Isa isa = Isa::kAuto,
                          QuantizeRule rule = QuantizeRule::kDivide) {
  detail::check_pointers(x, q, layout.size(), "quantize_per_channel");
  detail::check_pointers(params, params, layout.channels, "quantize_per_channel");
  detail::check_storage<T>(range, "quantize_per_channel");
  for (std::size_t c = 0; c < layout.channels; ++c)
    detail::check_params(params[c], range, "quantize_per_channel", rule);
  const Isa resolved = detail::quantize_isa(isa, "quantize_per_channel");
  // Channel rows shorter than a vector (e.g. the last axis, inner == 1) run the portable loop directly.
  const Isa path = layout.inner >= 16 ? resolved : Isa::kScalar;
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      if (!detail::quantize_array_simd(path, x + base, layout.inner, q + base, params[c], range, mode, rule))
        detail::quantize_array_scalar(x + base, layout.inner, q + base, params[c], range, mode, rule);
    }
}

// Per-channel dequantization of a row-major tensor.
template <class T>
void dequantize_per_channel(const T* q, ChannelLayout layout, const QuantParams* params, float* x,
                            Isa isa = Isa::kAuto) {
  detail::check_pointers(q, x, layout.size(), "dequantize_per_channel");
  detail::check_pointers(params, params, layout.channels, "dequantize_per_channel");
  for (std::size_t c = 0; c < layout.channels; ++c)
    detail::check_params(params[c], full_range<T>(), "dequantize_per_channel");
  const Isa resolved = detail::quantize_isa(isa, "dequantize_per_channel");
  const Isa path = layout.inner >= 16 ? resolved : Isa::kScalar;
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      if (!detail::dequantize_array_simd(path, q + base, layout.inner, x + base, params[c]))
        detail::dequantize_array_scalar(q + base, layout.inner, x + base, params[c]);
    }
}

}  // namespace qmath

// qmath/fp8.hpp - FP8 (E4M3FN, E5M2, E4M3FNUZ, E5M2FNUZ): conversion, ONNX QuantizeLinear / DequantizeLinear.
//
//   format     exp/man  bias  max      Inf          NaN codes            -0
//   E4M3FN     4/3      7     448      none         S.1111.111           yes
//   E5M2       5/2      15    57344    S.11111.00   S.11111.{01,10,11}   yes
//   E4M3FNUZ   4/3      8     240      none         1.0000.000 only      no
//   E5M2FNUZ   5/2      16    57344    none         1.00000.00 only      no
//
// Conversion from float32 (fp8_from_float) is ONNX Cast (opset 19-21) to float8: one rounding of the exact float32
// value to nearest, ties to even, then the ONNX tables for specials, with `[x]` = x rounded to the mantissa width:
//   saturate = true:   [x] > max -> +-max;  +-Inf -> +-max (E4M3FN, E5M2), NaN (FNUZ types)
//   saturate = false:  [x] > max and +-Inf -> +-Inf (E5M2), +-NaN (E4M3FN, sign kept), NaN (FNUZ types)
//   NaN -> NaN (E4M3FN: S.1111.111, E5M2: S.11111.10 as ml_dtypes writes it, FNUZ: 0x80); -0 -> 0 in FNUZ types.
// Quantization is ONNX QuantizeLinear with a float8 output: q = fp8_from_float(x / scale), x / scale one correctly
// rounded float32 division (never x * (1 / scale)). ONNX's float8 zero point must be 0 (its reference rejects any
// other when dequantizing), so there is none here. Dequantization: x = float(q) * scale, one float32 product.
// NaN passes through both unscaled (a NaN x is cast as is, a NaN code decodes to its NaN), which fixes the sign
// of the result on every platform (a GPU's arithmetic returns the canonical NaN, x86's the input NaN).
// Array forms check the scale(s) (finite and > 0) and throw qmath::error before writing anything. On x86 with
// GCC/Clang their quantization runs an AVX2 kernel when the CPU has AVX2 (detail/fp8_avx2.hpp; QMATH_DISABLE_SIMD
// compiles it out), bit-exact with the portable loop detail::fp8_quantize_array_scalar, the normative reference.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/detail/fp8_avx2.hpp>
#include <qmath/detail/minifloat.hpp>
#include <qmath/detail/quantize_simd.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>

namespace qmath {

enum class Fp8Format { kE4M3FN, kE5M2, kE4M3FNUZ, kE5M2FNUZ };

QMATH_HOST_DEVICE detail::MinifloatSpec fp8_spec(Fp8Format f) {
  using S = detail::MinifloatSpecials;
  switch (f) {
    case Fp8Format::kE4M3FN: return detail::e4m3fn_spec();
    case Fp8Format::kE5M2: return detail::e5m2_spec();
    case Fp8Format::kE4M3FNUZ: return {4, 3, 8, S::kFnuz, 0x7Fu, 0x80u};
    case Fp8Format::kE5M2FNUZ: break;
  }
  return {5, 2, 16, S::kFnuz, 0x7Fu, 0x80u};
}

// float32 -> FP8 code (ONNX Cast, see the table above).
QMATH_HOST_DEVICE std::uint8_t fp8_from_float(float x, Fp8Format f, bool saturate = true) {
  return detail::minifloat_encode(x, fp8_spec(f), saturate);
}

// FP8 code -> float32, exact (every FP8 value is a float32). NaN codes give NaN, E5M2's Inf codes +-Inf.
QMATH_HOST_DEVICE float fp8_to_float(std::uint8_t q, Fp8Format f) { return detail::minifloat_decode(q, fp8_spec(f)); }

// Largest finite value: 448, 57344, 240, 57344.
QMATH_HOST_DEVICE float fp8_max(Fp8Format f) { return detail::minifloat_max(fp8_spec(f)); }

// Scalar QuantizeLinear to FP8: fp8_from_float(x / scale). Precondition (checked by the array forms): scale finite
// and > 0.
// A NaN x gives fp8_from_float(x) (detail::minifloat_quantize).
QMATH_HOST_DEVICE std::uint8_t fp8_quantize(float x, float scale, Fp8Format f, bool saturate = true) {
  return detail::minifloat_quantize(x, scale, fp8_spec(f), saturate);
}

// Scalar DequantizeLinear from FP8: fp8_to_float(q) * scale; a NaN code gives fp8_to_float(q) unscaled (the same
// NaN class, its bits fixed on every platform: detail::minifloat_dequantize).
QMATH_HOST_DEVICE float fp8_dequantize(std::uint8_t q, float scale, Fp8Format f) {
  return detail::minifloat_dequantize(q, scale, fp8_spec(f));
}

// Per-tensor scale that maps amax onto the format's largest finite value: amax / fp8_max(f) (amax / 448 for
// E4M3FN, / 57344 for E5M2, / 240 for E4M3FNUZ). amax must be finite and >= 0; amax == 0 gives kMinScale, as the
// INT8 helpers do.
inline float fp8_scale_from_amax(float amax, Fp8Format f) {
  detail::require(!std::isnan(amax), "fp8_scale_from_amax", "amax is NaN");
  detail::require(std::isfinite(amax), "fp8_scale_from_amax", "amax is infinite (", amax, ")");
  detail::require(amax >= 0.0f, "fp8_scale_from_amax", "amax is negative (", amax, ")");
  const float s = amax / fp8_max(f);
  return s > 0.0f ? s : kMinScale;
}

namespace detail {
inline void check_fp8_scale(float scale, const char* where) {
  require(scale > 0.0f && scale <= 3.4028234663852886e38f, where, "scale must be finite and > 0, got ", scale);
}

// The portable loop: the normative array semantics (the AVX2 kernel must match it bit for bit).
inline void fp8_quantize_array_scalar(const float* x, std::size_t n, std::uint8_t* q, float scale, Fp8Format f,
                                      bool saturate) {
  const MinifloatSpec spec = fp8_spec(f);
  for (std::size_t i = 0; i < n; ++i) q[i] = minifloat_quantize(x[i], scale, spec, saturate);
}

// The paths the FP8 quantize loop has kernels for (qmath/isa.hpp).
constexpr unsigned kFp8QuantizeKernels = isa_bit(Isa::kScalar) | (QMATH_X86_SIMD ? isa_bit(Isa::kAvx2) : 0u);

// One row on the resolved path `isa` (parameters already checked).
inline void fp8_quantize_row(const float* x, std::size_t n, std::uint8_t* q, float scale, Fp8Format f, bool saturate,
                             Isa isa) {
#if QMATH_X86_SIMD
  if (n >= 32 && isa != Isa::kScalar) return fp8_avx2::quantize(x, n, q, scale, fp8_spec(f), saturate);
#else
  (void)isa;
#endif
  fp8_quantize_array_scalar(x, n, q, scale, f, saturate);
}
}  // namespace detail

// The path fp8_quantize_array / fp8_quantize_per_axis run for `requested` (AVX2 or scalar; see qmath/isa.hpp).
inline Isa resolved_isa_for_fp8_quantize(Isa requested = Isa::kAuto) {
  return resolve_isa(requested, detail::kFp8QuantizeKernels, "resolved_isa_for_fp8_quantize");
}

// Per-tensor QuantizeLinear of n floats to FP8 codes; `isa` picks or caps the path as in qmath/isa.hpp.
inline void fp8_quantize_array(const float* x, std::size_t n, std::uint8_t* q, float scale, Fp8Format f,
                               bool saturate = true, Isa isa = Isa::kAuto) {
  const char* where = "fp8_quantize_array";
  detail::check_fp8_scale(scale, where);
  detail::fp8_quantize_row(x, n, q, scale, f, saturate, resolve_isa(isa, detail::kFp8QuantizeKernels, where));
}

// Per-tensor DequantizeLinear of n FP8 codes.
inline void fp8_dequantize_array(const std::uint8_t* q, std::size_t n, float* x, float scale, Fp8Format f) {
  detail::check_fp8_scale(scale, "fp8_dequantize_array");
  const detail::MinifloatSpec spec = fp8_spec(f);
  for (std::size_t i = 0; i < n; ++i) x[i] = detail::minifloat_dequantize(q[i], scale, spec);
}

// Per-axis QuantizeLinear of a row-major tensor: element (o, c, i) uses scales[c] (see channel_layout()).
inline void fp8_quantize_per_axis(const float* x, ChannelLayout layout, const float* scales, std::uint8_t* q,
                                  Fp8Format f, bool saturate = true, Isa isa = Isa::kAuto) {
  const char* where = "fp8_quantize_per_axis";
  for (std::size_t c = 0; c < layout.channels; ++c) detail::check_fp8_scale(scales[c], where);
  const Isa path = resolve_isa(isa, detail::kFp8QuantizeKernels, where);
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      detail::fp8_quantize_row(x + base, layout.inner, q + base, scales[c], f, saturate, path);
    }
}

// Per-axis DequantizeLinear of a row-major tensor.
inline void fp8_dequantize_per_axis(const std::uint8_t* q, ChannelLayout layout, const float* scales, float* x,
                                    Fp8Format f) {
  for (std::size_t c = 0; c < layout.channels; ++c) detail::check_fp8_scale(scales[c], "fp8_dequantize_per_axis");
  const detail::MinifloatSpec spec = fp8_spec(f);
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      const std::size_t base = (o * layout.channels + c) * layout.inner;
      for (std::size_t i = 0; i < layout.inner; ++i)
        x[base + i] = detail::minifloat_dequantize(q[base + i], scales[c], spec);
    }
}

}  // namespace qmath

// qmath/detail/minifloat.hpp - float32 <-> small binary floating-point formats (8 bits or fewer), one definition
// shared by the FP8 formats (fp8.hpp) and the OCP MX element formats (mx.hpp).
//
// A format is sign | exponent (exp_bits) | mantissa (man_bits), exponent bias `bias`, and one of four conventions for
// the top codes (MinifloatSpecials). Codes are stored right-aligned in a uint8_t (sign at bit exp_bits + man_bits).
// Every finite code is exactly a float32, so decoding is exact; encoding rounds once, to nearest, ties to even, on
// the float32 input's exact value (no intermediate rounding).
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>

namespace qmath {
namespace detail {

enum class MinifloatSpecials {
  kIeee,        // all-ones exponent: mantissa 0 = +-Inf, else NaN (E5M2). -0 exists.
  kNanAllOnes,  // no Inf; only S.1111.111 is NaN, the rest of the top binade is finite (E4M3FN). -0 exists.
  kFnuz,        // no Inf, no -0: the code 1000...0 is the one NaN (E4M3FNUZ, E5M2FNUZ).
  kFiniteOnly,  // every code is a finite number: no Inf, no NaN, -0 exists (MX FP6 E2M3 / E3M2, FP4 E2M1).
};

struct MinifloatSpec {
  int exp_bits;
  int man_bits;
  int bias;
  MinifloatSpecials specials;
  std::uint32_t max_code;  // magnitude code of the largest finite value
  std::uint32_t nan_code;  // magnitude code written for NaN (ignored for kFnuz, kFiniteOnly)
};

// The two 8-bit formats that ONNX's FP8 and OCP MX share: E4M3FN (bias 7, no infinities, S.1111.111 is NaN, max 448)
// and E5M2 (bias 15, IEEE infinities and NaNs, max 57344).
QMATH_HOST_DEVICE constexpr MinifloatSpec e4m3fn_spec() {
  return {4, 3, 7, MinifloatSpecials::kNanAllOnes, 0x7Eu, 0x7Fu};
}
QMATH_HOST_DEVICE constexpr MinifloatSpec e5m2_spec() { return {5, 2, 15, MinifloatSpecials::kIeee, 0x7Bu, 0x7Eu}; }

QMATH_HOST_DEVICE std::uint32_t float_bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
QMATH_HOST_DEVICE float bits_float(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// float32 -> code. Ties to even on the exact input. Magnitudes that round above the largest finite value (the
// ONNX `[x] > FLT_MAX` row: x rounded to the target's mantissa width) and +-Inf:
//   saturate:  +-max, except that kFnuz turns +-Inf into NaN (ONNX Cast table); kFiniteOnly always saturates.
//   otherwise: kIeee gives +-Inf, kNanAllOnes gives +-NaN (sign kept), kFnuz gives its NaN.
// NaN keeps its sign where the format can (kIeee, kNanAllOnes); kFiniteOnly has no NaN and gives +0 (callers that
// must represent NaN, the MX block encoder, handle it before). kFnuz maps -0 and negatives that round to 0 to +0.
QMATH_HOST_DEVICE std::uint8_t minifloat_encode(float x, MinifloatSpec f, bool saturate) {
  const std::uint32_t b = float_bits(x);
  const std::uint32_t sign_bit = 1u << (f.exp_bits + f.man_bits);
  const std::uint32_t sign = (b >> 31) ? sign_bit : 0u;
  const std::uint32_t a = b & 0x7FFFFFFFu;
  const bool fnuz = f.specials == MinifloatSpecials::kFnuz;
  if (a > 0x7F800000u) {  // NaN
    if (fnuz) return static_cast<std::uint8_t>(sign_bit);
    if (f.specials == MinifloatSpecials::kFiniteOnly) return 0;
    return static_cast<std::uint8_t>(sign | f.nan_code);
  }
  std::uint32_t code;
  if (a == 0x7F800000u) {
    code = 0xFFFFFFFFu;  // Inf: handled as an overflow below
  } else {
    // a = m * 2^(e - 23) with m < 2^24 (float32 subnormals: e = -126, no implicit bit).
    const int field = static_cast<int>(a >> 23);
    const int e = field == 0 ? -126 : field - 127;
    const std::uint32_t m = field == 0 ? (a & 0x7FFFFFu) : ((a & 0x7FFFFFu) | 0x800000u);
    const int emin = 1 - f.bias;  // exponent of the smallest normal
    const int eff = e > emin ? e : emin;
    const int shift = 23 - f.man_bits + (eff - e);  // >= 23 - man_bits > 0
    std::uint32_t r;
    if (shift > 25) {
      r = 0;  // m < 2^24 <= half an ulp
    } else {
      const std::uint32_t kept = m >> shift;
      const std::uint32_t rest = m & ((1u << shift) - 1u);
      const std::uint32_t half = 1u << (shift - 1);
      r = kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
    }
    // Normal results: ((eff + bias - 1) << man_bits) + r, r in [2^man_bits, 2^(man_bits+1)]; subnormal ones
    // (eff == emin): r in [0, 2^man_bits], and r == 2^man_bits carries into the smallest normal. One formula.
    code = (static_cast<std::uint32_t>(eff + f.bias - 1) << f.man_bits) + r;
  }
  if (code > f.max_code) {
    const bool inf = a == 0x7F800000u;
    if (f.specials == MinifloatSpecials::kFiniteOnly || (saturate && !(fnuz && inf)))
      return static_cast<std::uint8_t>(sign | f.max_code);
    if (fnuz) return static_cast<std::uint8_t>(sign_bit);
    if (f.specials == MinifloatSpecials::kIeee)
      return static_cast<std::uint8_t>(sign | (((1u << f.exp_bits) - 1u) << f.man_bits));
    return static_cast<std::uint8_t>(sign | f.nan_code);
  }
  if (code == 0 && fnuz) return 0;
  return static_cast<std::uint8_t>(sign | code);
}

// code -> float32, exact. NaN codes give a quiet float32 NaN with the code's sign (kFnuz: positive).
QMATH_HOST_DEVICE float minifloat_decode(std::uint8_t c, MinifloatSpec f) {
  const std::uint32_t code = c;
  const int width = f.exp_bits + f.man_bits;
  const std::uint32_t sign = ((code >> width) & 1u) << 31;
  const std::uint32_t mag = code & ((1u << width) - 1u);
  const std::uint32_t exp_field = mag >> f.man_bits;
  const std::uint32_t man = mag & ((1u << f.man_bits) - 1u);
  const std::uint32_t all_ones = (1u << f.exp_bits) - 1u;
  switch (f.specials) {
    case MinifloatSpecials::kIeee:
      if (exp_field == all_ones) return bits_float(sign | (man ? 0x7FC00000u : 0x7F800000u));
      break;
    case MinifloatSpecials::kNanAllOnes:
      if (mag == f.nan_code) return bits_float(sign | 0x7FC00000u);
      break;
    case MinifloatSpecials::kFnuz:
      if (code == (1u << width)) return bits_float(0x7FC00000u);
      break;
    case MinifloatSpecials::kFiniteOnly:
      break;
  }
  if (exp_field == 0) {
    // man * 2^(1 - bias - man_bits): man is exact in float32 and the power of two is a normal float32.
    const float unit = bits_float(static_cast<std::uint32_t>(127 + 1 - f.bias - f.man_bits) << 23);
    return bits_float(sign | float_bits(static_cast<float>(man) * unit));
  }
  const std::uint32_t e32 = exp_field - static_cast<std::uint32_t>(f.bias) + 127u;
  return bits_float(sign | (e32 << 23) | (man << (23 - f.man_bits)));
}

// Largest finite value of a format.
QMATH_HOST_DEVICE float minifloat_max(MinifloatSpec f) {
  return minifloat_decode(static_cast<std::uint8_t>(f.max_code), f);
}

// QuantizeLinear to a minifloat: minifloat_encode(x / scale), x / scale one correctly rounded float32 division
// (__fdiv_rn on the device). A NaN x is encoded as itself (its sign kept), not through the division: a GPU's
// division returns the canonical NaN, an x86 one the input NaN, so this makes the code the same everywhere.
// Precondition: scale finite and > 0.
QMATH_HOST_DEVICE std::uint8_t minifloat_quantize(float x, float scale, MinifloatSpec f, bool saturate) {
  if (x != x) return minifloat_encode(x, f, saturate);
#if QMATH_DEVICE_CODE
  return minifloat_encode(__fdiv_rn(x, scale), f, saturate);
#else
  return minifloat_encode(x / scale, f, saturate);
#endif
}

// DequantizeLinear from a minifloat: minifloat_decode(code) * scale, one float32 product; a NaN code gives the
// decoded NaN itself (sign kept, kFnuz positive), again so that a GPU's canonical NaN does not change the bits.
QMATH_HOST_DEVICE float minifloat_dequantize(std::uint8_t code, float scale, MinifloatSpec f) {
  const float v = minifloat_decode(code, f);
  return v != v ? v : v * scale;
}

}  // namespace detail
}  // namespace qmath

// qmath/mx.hpp - OCP Microscaling (MX) formats v1.0: MXFP8 (E4M3, E5M2), MXFP6 (E2M3, E3M2), MXFP4 (E2M1), MXINT8.
//
// A block of k = 32 values shares one E8M0 scale X = 2^shared_exp (code = shared_exp + 127; code 255 is NaN) and
// stores each value as P_i, an element of the block's format: V_i ~= X * P_i. Encoding (OCP MX v1.0, section 6.3):
//   shared_exp = floor(log2(max_i |V_i|)) - emax_elem,  emax_elem = 8 (E4M3), 15 (E5M2), 2 (E2M3), 4 (E3M2),
//                2 (E2M1), 0 (INT8); clamped below at -127 (the smallest E8M0 scale);
//   P_i = V_i / X converted to the element format, round to nearest, ties to even, magnitudes above the element's
//         largest normal clamped to it (saturation). V_i / X is exact (a power-of-two scaling, done in float32 by
//         multiplying with 2^-shared_exp; only results far below the element's smallest subnormal can round there).
//   MXINT8 elements are two's complement int8 with an implicit scale of 2^-6 (P = q / 64): q = clamp(
//         round_half_even(64 * V / X), -127, 127); -128 is decoded but never produced (symmetric range).
// Decoding: V_i = X * P_i, one float32 product (exact unless the result is a float32 subnormal).
// Choices the spec leaves open, made here:
//   - an all-zero block (amax = 0) gets the smallest scale, code 0 (2^-127); its elements encode +-0;
//   - a block holding NaN or +-Inf gets the NaN scale (code 255) and all-zero element codes; it decodes to 32 NaNs
//     (the spec: a NaN scale makes every value of the block NaN). FP8 elements never carry Inf / NaN here;
//   - a tensor whose length is not a multiple of 32 ends with a shorter block (same rules over its elements);
//   - mx_quantize / mx_dequantize store element codes one per byte, right-aligned (FP6 in bits 0-5, FP4 in bits
//     0-3); the _packed forms store them bit-packed (see mx_pack_elements below).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <qmath/config.hpp>
#include <qmath/detail/minifloat.hpp>
#include <qmath/error.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

enum class MxFormat { kFp8E4M3, kFp8E5M2, kFp6E2M3, kFp6E3M2, kFp4E2M1, kInt8 };

inline constexpr std::size_t kMxBlockSize = 32;
inline constexpr std::uint8_t kE8M0Nan = 0xFF;

// The element format of an MX floating-point format (MxFormat::kInt8 has none; it returns E4M3's, unused).
QMATH_HOST_DEVICE detail::MinifloatSpec mx_element_spec(MxFormat f) {
  using S = detail::MinifloatSpecials;
  switch (f) {
    case MxFormat::kFp8E5M2: return detail::e5m2_spec();
    case MxFormat::kFp6E2M3: return {2, 3, 1, S::kFiniteOnly, 0x1Fu, 0u};
    case MxFormat::kFp6E3M2: return {3, 2, 3, S::kFiniteOnly, 0x1Fu, 0u};
    case MxFormat::kFp4E2M1: return {2, 1, 1, S::kFiniteOnly, 0x7u, 0u};
    case MxFormat::kFp8E4M3:
    case MxFormat::kInt8: break;
  }
  return detail::e4m3fn_spec();
}

// emax_elem: the exponent of the element format's largest normal (0 for INT8, whose largest value is < 2).
QMATH_HOST_DEVICE int mx_emax(MxFormat f) {
  switch (f) {
    case MxFormat::kFp8E4M3: return 8;
    case MxFormat::kFp8E5M2: return 15;
    case MxFormat::kFp6E2M3: return 2;
    case MxFormat::kFp6E3M2: return 4;
    case MxFormat::kFp4E2M1: return 2;
    case MxFormat::kInt8: break;
  }
  return 0;
}

// E8M0 scale code -> float32: 2^(code - 127), exact (code 0 is the float32 subnormal 2^-127); 255 -> NaN.
QMATH_HOST_DEVICE float e8m0_to_float(std::uint8_t code) {
  if (code == kE8M0Nan) return detail::bits_float(0x7FC00000u);
  if (code == 0) return detail::bits_float(0x00400000u);
  return detail::bits_float(static_cast<std::uint32_t>(code) << 23);
}

// 2^e as float32 for -127 <= e <= 127, exact.
QMATH_HOST_DEVICE float mx_pow2(int e) {
  return e == -127 ? detail::bits_float(0x00400000u) : detail::bits_float(static_cast<std::uint32_t>(e + 127) << 23);
}

// floor(log2(a)) of a finite a > 0, exact (float32 subnormals included).
QMATH_HOST_DEVICE int floor_log2(float a) {
  const std::uint32_t b = detail::float_bits(a) & 0x7FFFFFFFu;
  const int field = static_cast<int>(b >> 23);
  if (field != 0) return field - 127;
  int top = 22;
  while (!((b >> top) & 1u)) --top;
  return top - 149;
}

// The shared E8M0 scale code of a block whose largest magnitude is amax (finite, >= 0): see the header comment.
QMATH_HOST_DEVICE std::uint8_t mx_scale_code(float amax, MxFormat f) {
  if (!(amax > 0.0f)) return 0;
  const int e = floor_log2(amax) - mx_emax(f);
  return static_cast<std::uint8_t>((e < -127 ? -127 : e) + 127);
}

// One element: v is V / X. Saturating conversion to the element format (INT8: q / 64, q in [-127, 127]).
QMATH_HOST_DEVICE std::uint8_t mx_element_encode(float v, MxFormat f) {
  if (f == MxFormat::kInt8)
    return static_cast<std::uint8_t>(round_add_saturate(v * 64.0f, 0, {-127, 127}, Round::kHalfToEven) & 0xFF);
  return detail::minifloat_encode(v, mx_element_spec(f), true);
}

// One element code -> its value P (before the block scale).
QMATH_HOST_DEVICE float mx_element_decode(std::uint8_t code, MxFormat f) {
  if (f == MxFormat::kInt8) return static_cast<float>(static_cast<std::int8_t>(code)) * 0.015625f;
  return detail::minifloat_decode(code, mx_element_spec(f));
}

// Encodes one block of n <= 32 values: returns the scale code and writes n element codes.
QMATH_HOST_DEVICE std::uint8_t mx_encode_block(const float* x, std::size_t n, MxFormat f, std::uint8_t* elements) {
  float amax = 0.0f;
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    finite = finite && a <= 3.4028234663852886e38f;  // false for NaN and Inf
    amax = a > amax ? a : amax;
  }
  if (!finite) {
    for (std::size_t i = 0; i < n; ++i) elements[i] = 0;
    return kE8M0Nan;
  }
  const std::uint8_t code = mx_scale_code(amax, f);
  const float inv = mx_pow2(127 - static_cast<int>(code));  // 1 / X
  for (std::size_t i = 0; i < n; ++i) elements[i] = mx_element_encode(x[i] * inv, f);
  return code;
}

// Decodes one block of n <= 32 values: X * P_i.
QMATH_HOST_DEVICE void mx_decode_block(std::uint8_t scale_code, const std::uint8_t* elements, std::size_t n,
                                       MxFormat f, float* x) {
  const float scale = e8m0_to_float(scale_code);
  for (std::size_t i = 0; i < n; ++i) x[i] = mx_element_decode(elements[i], f) * scale;
}

// Number of blocks (scale codes) for n values.
QMATH_HOST_DEVICE constexpr std::size_t mx_block_count(std::size_t n) {
  return n / kMxBlockSize + (n % kMxBlockSize != 0);
}

// Encodes n values: mx_block_count(n) scale codes, n element codes (one per byte). Every input is accepted (NaN /
// Inf give a NaN-scaled block), so nothing can fail.
inline void mx_quantize(const float* x, std::size_t n, MxFormat f, std::uint8_t* scales, std::uint8_t* elements) {
  for (std::size_t b = 0; b * kMxBlockSize < n; ++b) {
    const std::size_t m = n - b * kMxBlockSize < kMxBlockSize ? n - b * kMxBlockSize : kMxBlockSize;
    scales[b] = mx_encode_block(x + b * kMxBlockSize, m, f, elements + b * kMxBlockSize);
  }
}

// Decodes n values.
inline void mx_dequantize(const std::uint8_t* scales, const std::uint8_t* elements, std::size_t n, MxFormat f,
                          float* x) {
  for (std::size_t b = 0; b * kMxBlockSize < n; ++b) {
    const std::size_t m = n - b * kMxBlockSize < kMxBlockSize ? n - b * kMxBlockSize : kMxBlockSize;
    mx_decode_block(scales[b], elements + b * kMxBlockSize, m, f, x + b * kMxBlockSize);
  }
}

// ---- bit-packed element storage ------------------------------------------------------------------------------------
// The element codes of a tensor as one little-endian bit stream: element i occupies bits [w i, w i + w) of the
// stream, bit j of the stream being bit (j % 8) of byte j / 8, with w = the element width (4 for MXFP4, 6 for MXFP6,
// 8 for MXFP8 and MXINT8, whose packed form is the one-per-byte form). So:
//   MXFP4: two per byte, element 2k in the low nibble of byte k, 2k + 1 in the high nibble (as ONNX packs INT4 /
//          FLOAT4E2M1 and as qmath's int4.hpp does);
//   MXFP6: four per 3 bytes; with word = b[3k] | b[3k+1] << 8 | b[3k+2] << 16, element 4k + i is bits 6i..6i+5 of
//          word: e0 = b0 & 0x3F, e1 = b0 >> 6 | (b1 & 0x0F) << 2, e2 = b1 >> 4 | (b2 & 0x03) << 4, e3 = b2 >> 2. The
//          OCP MX v1.0 spec defines the element encodings, not a memory layout; this is the order of ROCm rocRoller's
//          getFp6 / setFp6 (DataTypes_FP6.cpp) and of any LSB-first bit stream.
// mx_packed_size(n, f) = ceil(w n / 8) bytes; the unused high bits of the last byte are 0. A 32-element block always
// ends on a byte boundary (16 bytes FP4, 24 bytes FP6).

// The width in bits of one element code of f.
QMATH_HOST_DEVICE constexpr int mx_element_bits(MxFormat f) {
  return f == MxFormat::kFp4E2M1 ? 4 : (f == MxFormat::kFp6E2M3 || f == MxFormat::kFp6E3M2) ? 6 : 8;
}

// Bytes holding n packed element codes of f.
QMATH_HOST_DEVICE constexpr std::size_t mx_packed_size(std::size_t n, MxFormat f) {
  const std::size_t bits = n * static_cast<std::size_t>(mx_element_bits(f));
  return bits / 8 + (bits % 8 != 0);
}

// Packs n element codes (each below 2^mx_element_bits(f)) into mx_packed_size(n, f) bytes. Throws qmath::error,
// before writing, if a code has a bit set above the element width.
inline void mx_pack_elements(const std::uint8_t* codes, std::size_t n, MxFormat f, std::uint8_t* packed) {
  const unsigned w = static_cast<unsigned>(mx_element_bits(f));
  for (std::size_t i = 0; i < n; ++i)
    detail::require(w == 8 || codes[i] < (1u << w), "mx_pack_elements", "code[", i, "] = ", unsigned(codes[i]),
                    " does not fit in ", w, " bits");
  std::uint32_t acc = 0;  // pending bits, LSB first
  unsigned have = 0;
  std::size_t out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc |= static_cast<std::uint32_t>(codes[i]) << have;
    for (have += w; have >= 8; have -= 8, acc >>= 8) packed[out++] = static_cast<std::uint8_t>(acc & 0xFF);
  }
  if (have > 0) packed[out] = static_cast<std::uint8_t>(acc & 0xFF);
}

// Unpacks n element codes of f (right-aligned, one per byte) from mx_packed_size(n, f) bytes.
inline void mx_unpack_elements(const std::uint8_t* packed, std::size_t n, MxFormat f, std::uint8_t* codes) {
  const unsigned w = static_cast<unsigned>(mx_element_bits(f));
  std::uint32_t acc = 0;
  unsigned have = 0;
  std::size_t in = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (; have < w; have += 8) acc |= static_cast<std::uint32_t>(packed[in++]) << have;
    codes[i] = static_cast<std::uint8_t>(acc & ((1u << w) - 1u));
    acc >>= w;
    have -= w;
  }
}

// mx_quantize with bit-packed elements: mx_block_count(n) scale codes, mx_packed_size(n, f) element bytes.
inline void mx_quantize_packed(const float* x, std::size_t n, MxFormat f, std::uint8_t* scales,
                               std::uint8_t* packed) {
  std::vector<std::uint8_t> codes(n);
  mx_quantize(x, n, f, scales, codes.data());
  mx_pack_elements(codes.data(), n, f, packed);
}

// mx_dequantize of bit-packed elements.
inline void mx_dequantize_packed(const std::uint8_t* scales, const std::uint8_t* packed, std::size_t n, MxFormat f,
                                 float* x) {
  std::vector<std::uint8_t> codes(n);
  mx_unpack_elements(packed, n, f, codes.data());
  mx_dequantize(scales, codes.data(), n, f, x);
}

}  // namespace qmath

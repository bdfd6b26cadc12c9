// qmath/int4.hpp - INT4 / UINT4: packed storage, ONNX QuantizeLinear / DequantizeLinear (per tensor, per axis,
// blocked) and ONNX Runtime's MatMulNBits block-wise 4-bit weight quantizer.
//
// Storage (ONNX): the flattened tensor is packed two values per byte, element 2k in the low nibble of byte k and
// element 2k+1 in the high nibble; an odd count leaves the last byte's high nibble 0. int4 nibbles are two's
// complement. int4_packed_size(n) = ceil(n / 2) bytes.
//
// QuantizeLinear (ONNX opset 21):  q = clamp(round_half_even(x / scale) + zero_point, qmin, qmax), with
// [qmin, qmax] = [-8, 7] (int4) or [0, 15] (uint4); x / scale is one correctly rounded float32 division; the
// quotient saturates however large it is (+-Inf included); NaN gives the zero point (qmath's INT8 rule; ONNX is
// silent). DequantizeLinear: x = float(q - zero_point) * scale.
// Granularity (Int4Grid): the tensor is seen as (outer, axis, inner) (ChannelLayout, see channel_layout());
//   per tensor:  one scale / zero point;
//   per axis:    scales[a] for axis index a (`axis` scales);
//   blocked:     block_size >= 1 along the axis; scales has shape (outer, ceil(axis / block_size), inner) and
//                element (o, a, i) uses scales[(o * blocks + a / block_size) * inner + i]. The last block may be
//                shorter (ONNX allows a ragged last block).
// Zero points are optional (nullptr = 0) and must lie in [qmin, qmax]; scales must be finite and > 0. The array
// forms check everything and throw qmath::error before they write anything.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// [-8, 7] for int4, [0, 15] for uint4.
QMATH_HOST_DEVICE constexpr QuantRange int4_range(bool is_signed) { return bit_range(4, is_signed); }

// Bytes holding n packed 4-bit values.
QMATH_HOST_DEVICE constexpr std::size_t int4_packed_size(std::size_t n) { return n / 2 + n % 2; }

// The i-th 4-bit value of a packed buffer, sign-extended when is_signed.
QMATH_HOST_DEVICE std::int32_t int4_get(const std::uint8_t* packed, std::size_t i, bool is_signed) {
  const std::int32_t nibble = (packed[i / 2] >> ((i % 2) * 4)) & 0xF;
  return is_signed && nibble >= 8 ? nibble - 16 : nibble;
}

// Two values -> one byte: lo in bits 0-3, hi in bits 4-7 (each taken modulo 16).
QMATH_HOST_DEVICE constexpr std::uint8_t int4_pack_pair(std::int32_t lo, std::int32_t hi) {
  return static_cast<std::uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
}

// Packs n values (each inside int4_range(is_signed)) into int4_packed_size(n) bytes; an odd n leaves the last high
// nibble 0. Throws qmath::error, before writing, if a value is out of range.
inline void int4_pack(const std::int32_t* values, std::size_t n, bool is_signed, std::uint8_t* packed) {
  const QuantRange r = int4_range(is_signed);
  for (std::size_t i = 0; i < n; ++i)
    detail::require(values[i] >= r.qmin && values[i] <= r.qmax, "int4_pack", "value[", i, "] = ", values[i],
                    " outside [", r.qmin, ", ", r.qmax, "]");
  for (std::size_t i = 0; i + 1 < n; i += 2) packed[i / 2] = int4_pack_pair(values[i], values[i + 1]);
  if (n % 2) packed[n / 2] = int4_pack_pair(values[n - 1], 0);
}

// Unpacks n values (sign-extended when is_signed).
inline void int4_unpack(const std::uint8_t* packed, std::size_t n, bool is_signed, std::int32_t* values) {
  for (std::size_t i = 0; i < n; ++i) values[i] = int4_get(packed, i, is_signed);
}

// Scalar QuantizeLinear to 4 bits (see the header comment). Preconditions: scale finite and > 0, zero_point in
// int4_range(is_signed).
QMATH_HOST_DEVICE std::int32_t int4_quantize_value(float x, float scale, std::int32_t zero_point, bool is_signed) {
#if QMATH_DEVICE_CODE
  const float v = __fdiv_rn(x, scale);
#else
  const float v = x / scale;
#endif
  return round_add_saturate(v, zero_point, int4_range(is_signed), Round::kHalfToEven);
}

// Scalar DequantizeLinear: float(q - zero_point) * scale.
QMATH_HOST_DEVICE float int4_dequantize_value(std::int32_t q, float scale, std::int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

enum class Int4Granularity { kPerTensor, kPerAxis, kBlocked };

// Which scale each element uses (see the header comment). layout: the tensor as (outer, axis, inner); block_size is
// read only for kBlocked and must be >= 1.
struct Int4Grid {
  ChannelLayout layout;
  Int4Granularity granularity;
  std::size_t block_size;

  // Per tensor over n elements.
  static Int4Grid per_tensor(std::size_t n) { return {{1, 1, n}, Int4Granularity::kPerTensor, 0}; }
  static Int4Grid per_axis(ChannelLayout l) { return {l, Int4Granularity::kPerAxis, 0}; }
  static Int4Grid blocked(ChannelLayout l, std::size_t block_size) {
    return {l, Int4Granularity::kBlocked, block_size};
  }

  std::size_t blocks() const { return layout.channels / block_size + (layout.channels % block_size != 0); }
  // Number of scales (and zero points).
  std::size_t param_count() const {
    switch (granularity) {
      case Int4Granularity::kPerTensor: return 1;
      case Int4Granularity::kPerAxis: return layout.channels;
      case Int4Granularity::kBlocked: break;
    }
    return layout.outer * blocks() * layout.inner;
  }
  // Index of the scale of element (o, a, i).
  std::size_t param_index(std::size_t o, std::size_t a, std::size_t i) const {
    switch (granularity) {
      case Int4Granularity::kPerTensor: return 0;
      case Int4Granularity::kPerAxis: return a;
      case Int4Granularity::kBlocked: break;
    }
    return (o * blocks() + a / block_size) * layout.inner + i;
  }
};

namespace detail {
inline void check_int4_params(const Int4Grid& g, const float* scales, const std::int32_t* zero_points,
                              bool is_signed, const char* where) {
  require(g.granularity != Int4Granularity::kBlocked || g.block_size >= 1, where, "block_size must be >= 1, got ",
          g.block_size);
  const QuantRange r = int4_range(is_signed);
  const std::size_t n = g.param_count();
  for (std::size_t k = 0; k < n; ++k) {
    require(scales[k] > 0.0f && scales[k] <= 3.4028234663852886e38f, where, "scale[", k,
            "] must be finite and > 0, got ", scales[k]);
    if (zero_points)
      require(zero_points[k] >= r.qmin && zero_points[k] <= r.qmax, where, "zero point[", k, "] = ",
              zero_points[k], " outside [", r.qmin, ", ", r.qmax, "]");
  }
}
}  // namespace detail

// QuantizeLinear of x (g.layout.size() floats) into packed 4-bit values (int4_packed_size(n) bytes).
inline void int4_quantize(const float* x, const Int4Grid& g, const float* scales, const std::int32_t* zero_points,
                          bool is_signed, std::uint8_t* packed) {
  detail::check_int4_params(g, scales, zero_points, is_signed, "int4_quantize");
  const ChannelLayout& l = g.layout;
  std::int32_t pending = 0;  // the low nibble waiting for its pair
  std::size_t e = 0;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t a = 0; a < l.channels; ++a)
      for (std::size_t i = 0; i < l.inner; ++i, ++e) {
        const std::size_t k = g.param_index(o, a, i);
        const std::int32_t q = int4_quantize_value(x[e], scales[k], zero_points ? zero_points[k] : 0, is_signed);
        if (e % 2 == 0) pending = q;
        else packed[e / 2] = int4_pack_pair(pending, q);
      }
  if (e % 2 == 1) packed[e / 2] = int4_pack_pair(pending, 0);
}

// DequantizeLinear of packed 4-bit values into g.layout.size() floats.
inline void int4_dequantize(const std::uint8_t* packed, const Int4Grid& g, const float* scales,
                            const std::int32_t* zero_points, bool is_signed, float* x) {
  detail::check_int4_params(g, scales, zero_points, is_signed, "int4_dequantize");
  const ChannelLayout& l = g.layout;
  std::size_t e = 0;
  for (std::size_t o = 0; o < l.outer; ++o)
    for (std::size_t a = 0; a < l.channels; ++a)
      for (std::size_t i = 0; i < l.inner; ++i, ++e) {
        const std::size_t k = g.param_index(o, a, i);
        x[e] = int4_dequantize_value(int4_get(packed, e, is_signed), scales[k], zero_points ? zero_points[k] : 0);
      }
}

// ---- ONNX Runtime MatMulNBits (4 bits) ---------------------------------------------------------------------------
// Block-wise quantization of a MatMul weight B (K x N, row-major, float32) as ONNX Runtime's C++ quantizer
// (MLAS BlockwiseQuantizer, reached from onnxruntime.capi quantize_matmul_4bits) computes it: each column n is cut
// along K into blocks of block_size (the last one may be shorter); per block, with min / max over its elements:
//   symmetric:   m = (|max| > |min| ? max : min);  scale = -m / 8;  zero point 8 (not stored)
//   asymmetric:  min' = min(min, 0), max' = max(max, 0); scale = (max' - min') / 15;
//                zp = clamp(round_half_away(0 - min' / scale), 0, 15) (zp = 0 when scale == 0)
//   q = clamp(round_half_away(v * r + zp), 0, 15)  with r = 1 / scale (r = 0 when scale == 0), all in float32,
//   the product and the sum rounded separately (no fused multiply-add).
// Note the symmetric scale is negative when the block's largest magnitude is positive (-8 * scale reaches it).
// Outputs (MatMulNBits' B, scales, zero_points inputs):
//   packed:      [N][blocks][block_size / 2] bytes, K-consecutive values paired low nibble first; nibbles past K
//                in the last block are 0;
//   scales:      [N][blocks] float;
//   zero_points: [N][ceil(blocks / 2)] bytes, block 2j in the low nibble (asymmetric only; nullptr when symmetric);
//                with an odd block count the unused last high nibble is 8 (what onnxruntime 1.32's binary writes).
// block_size must be a power of two in [16, 256] (ONNX Runtime's accepted sizes; always even, so the pairs that the
// packing needs never straddle two blocks); K, N >= 1; weights finite.
struct MatMulNBitsShape {
  std::size_t K;
  std::size_t N;
  std::size_t block_size;
  std::size_t blocks() const { return K / block_size + (K % block_size != 0); }
  std::size_t packed_bytes() const { return N * blocks() * (block_size / 2); }
  std::size_t scale_count() const { return N * blocks(); }
  std::size_t zero_point_bytes() const { return N * ((blocks() + 1) / 2); }
};

namespace detail {
inline void check_matmul_nbits_shape(const MatMulNBitsShape& s, const char* where) {
  require(s.block_size >= 16 && s.block_size <= 256 && (s.block_size & (s.block_size - 1)) == 0, where,
          "block_size must be a power of two in [16, 256], got ", s.block_size);
  require(s.K >= 1 && s.N >= 1, where, "K and N must be >= 1, got K = ", s.K, ", N = ", s.N);
}
QMATH_HOST_DEVICE std::int32_t matmul_nbits_quantize_value(float v, float reciprocal_scale, std::int32_t zp) {
  const float t = round_to_integral(v * reciprocal_scale + static_cast<float>(zp), Round::kHalfAwayFromZero);
  return static_cast<std::int32_t>(t < 0.0f ? 0.0f : (t > 15.0f ? 15.0f : t));
}
}  // namespace detail

inline void quantize_matmul_nbits4(const float* w, const MatMulNBitsShape& s, bool symmetric, std::uint8_t* packed,
                                   float* scales, std::uint8_t* zero_points) {
  const char* where = "quantize_matmul_nbits4";
  detail::check_matmul_nbits_shape(s, where);
  detail::require(symmetric || zero_points != nullptr, where, "the asymmetric form needs a zero point buffer");
  for (std::size_t e = 0; e < s.K * s.N; ++e)
    detail::require(std::isfinite(w[e]), where, "weight (", e / s.N, ", ", e % s.N, ") is not finite (", w[e], ")");
  const std::size_t nb = s.blocks(), half = s.block_size / 2;
  for (std::size_t n = 0; n < s.N; ++n) {
    if (!symmetric)  // a missing last high nibble (odd block count) reads 8, as ONNX Runtime writes it
      for (std::size_t j = 0; j < (nb + 1) / 2; ++j)
        zero_points[n * ((nb + 1) / 2) + j] = (nb % 2 && 2 * j + 1 == nb) ? 0x80 : 0;
    for (std::size_t b = 0; b < nb; ++b) {
      const std::size_t k0 = b * s.block_size;
      const std::size_t k1 = k0 + s.block_size < s.K ? k0 + s.block_size : s.K;
      float mn = w[k0 * s.N + n], mx = mn;
      for (std::size_t k = k0; k < k1; ++k) {
        const float v = w[k * s.N + n];
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
      }
      float scale;
      std::int32_t zp = 8;
      if (symmetric) {
        const float m = std::fabs(mx) > std::fabs(mn) ? mx : mn;
        scale = -m / 8.0f;
      } else {
        mn = mn < 0.0f ? mn : 0.0f;
        mx = mx > 0.0f ? mx : 0.0f;
        scale = (mx - mn) / 15.0f;
        float zf = mn;
        if (scale != 0.0f) zf = 0.0f - mn / scale;
        zp = zf < 0.0f    ? 0
             : zf > 15.0f ? 15
                          : static_cast<std::int32_t>(round_to_integral(zf, Round::kHalfAwayFromZero));
        zero_points[n * ((nb + 1) / 2) + b / 2] |= static_cast<std::uint8_t>(zp << ((b % 2) * 4));
      }
      scales[n * nb + b] = scale;
      const float r = scale != 0.0f ? 1.0f / scale : 0.0f;
      std::uint8_t* dst = packed + (n * nb + b) * half;
      for (std::size_t j = 0; j < half; ++j) {
        const std::size_t k = k0 + 2 * j;
        const std::int32_t lo = k < k1 ? detail::matmul_nbits_quantize_value(w[k * s.N + n], r, zp) : 0;
        const std::int32_t hi = k + 1 < k1 ? detail::matmul_nbits_quantize_value(w[(k + 1) * s.N + n], r, zp) : 0;
        dst[j] = int4_pack_pair(lo, hi);
      }
    }
  }
}

// MatMulNBits' dequantization of the weights back to K x N row-major floats: (q - zp) * scale, zp = 8 when
// zero_points is nullptr (symmetric).
inline void dequantize_matmul_nbits4(const std::uint8_t* packed, const float* scales, const std::uint8_t* zero_points,
                                     const MatMulNBitsShape& s, float* w) {
  detail::check_matmul_nbits_shape(s, "dequantize_matmul_nbits4");
  const std::size_t nb = s.blocks(), half = s.block_size / 2;
  for (std::size_t n = 0; n < s.N; ++n)
    for (std::size_t k = 0; k < s.K; ++k) {
      const std::size_t b = k / s.block_size, j = k % s.block_size;
      const std::int32_t q = int4_get(packed + (n * nb + b) * half, j, false);
      const std::int32_t zp = zero_points ? int4_get(zero_points + n * ((nb + 1) / 2), b, false) : 8;
      w[k * s.N + n] = static_cast<float>(q - zp) * scales[n * nb + b];
    }
}

// ---- AWQ and GPTQ group rules (4 bits) ----------------------------------------------------------------------------
// The scale and zero point that two LLM weight quantizers compute for one group of weights (a row's consecutive
// input-dimension values), stated from their sources (AutoAWQ 0.2.9 `AwqQuantizer.pseudo_quantize_tensor`;
// GPTQ's `Quantizer.find_params` / `quantize` in the gptq repository's quant.py, the same in AutoGPTQ 0.7.1's
// auto_gptq/quantization/quantizer.py, with its defaults: no MSE grid search). Everything in float32 (the tools
// run these formulas in the tensor's dtype: GPTQ in float32, AutoAWQ in the layer's dtype, float16 on a GPU), round =
// round half to even (torch.round), min / max over the group:
//   kAwqZeroPoint  (AutoAWQ zero_point=True):  scale = max(max - min, 1e-5) / 15;
//                  zp = clamp(-round(min / scale), 0, 15);  q in [0, 15].  min / max are not widened to include 0.
//   kAwqSymmetric  (AutoAWQ zero_point=False): scale = max(max |w|, 1e-5) / 7;  zp = 0;  q in [-8, 7].
//   kGptqAsymmetric (sym=False): lo = min(min, 0), hi = max(max, 0); (lo, hi) = (-1, 1) if both are 0;
//                  scale = (hi - lo) / 15;  zp = round(-lo / scale);  q in [0, 15].
//   kGptqSymmetric  (sym=True):  lo = min(min, 0), hi = max(max, 0), hi = max(|lo|, hi), lo = -hi if lo < 0;
//                  (lo, hi) = (-1, 1) if both are 0; scale = (hi - lo) / 15;  zp = 8;  q in [0, 15]. A group with no
//                  negative value keeps lo = 0, so scale = max / 15 with zp 8: only [-8, 7] * scale is reachable and
//                  the top half of the group saturates at 7 * scale - GPTQ's behaviour, reproduced.
// Then, for every rule, q = clamp(round(w / scale) + zp, qmin, qmax) (= int4_quantize_value) and the weight is
// dequantized as float(q - zp) * scale (= int4_dequantize_value).
// What is not here: AWQ's activation-aware scaling search and clipping, and GPTQ's Hessian-based error feedback, both
// of which change the weights a rule is applied to; GPTQ's act-order / static-groups orderings and MSE search.
// Errors (qmath::error, before anything is written): an empty group, a non-finite weight, and a group whose scale is
// not a positive finite float32 (a range too small, GPTQ only: (hi - lo) / 15 underflows to 0, where GPTQ leaves
// the weights unquantized; or too large: hi - lo overflows).
enum class Int4GroupRule { kAwqZeroPoint, kAwqSymmetric, kGptqAsymmetric, kGptqSymmetric };

// The rule's name as used in messages and vector files.
constexpr const char* int4_group_rule_name(Int4GroupRule r) {
  switch (r) {
    case Int4GroupRule::kAwqZeroPoint: return "awq_zero_point";
    case Int4GroupRule::kAwqSymmetric: return "awq_symmetric";
    case Int4GroupRule::kGptqAsymmetric: return "gptq_asymmetric";
    case Int4GroupRule::kGptqSymmetric: return "gptq_symmetric";
  }
  return "unknown";
}

// Whether the rule's codes are int4 ([-8, 7]: AWQ symmetric) rather than uint4.
constexpr bool int4_group_rule_signed(Int4GroupRule r) { return r == Int4GroupRule::kAwqSymmetric; }

struct Int4GroupParams {
  float scale;              // finite, > 0
  std::int32_t zero_point;  // in int4_range(int4_group_rule_signed(rule))
};

// The scale and zero point of the n weights w[0], w[stride], ... under `rule` (see above).
inline Int4GroupParams int4_group_params(const float* w, std::size_t n, Int4GroupRule rule, std::size_t stride = 1) {
  const char* where = "int4_group_params";
  detail::require(n >= 1, where, "empty group");
  float mn = w[0], mx = w[0], amax = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = w[i * stride];
    detail::require(std::isfinite(v), where, "weight ", i, " is not finite (", v, ")");
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
    amax = std::fabs(v) > amax ? std::fabs(v) : amax;
  }
  Int4GroupParams p{0.0f, 0};
  switch (rule) {
    case Int4GroupRule::kAwqZeroPoint: {
      const float range = mx - mn;
      p.scale = (range > 1e-5f ? range : 1e-5f) / 15.0f;
      const float z = -round_to_integral(mn / p.scale, Round::kHalfToEven);
      p.zero_point = z < 0.0f ? 0 : (z > 15.0f ? 15 : static_cast<std::int32_t>(z));
      break;
    }
    case Int4GroupRule::kAwqSymmetric:
      p.scale = (amax > 1e-5f ? amax : 1e-5f) / 7.0f;
      break;
    case Int4GroupRule::kGptqAsymmetric:
    case Int4GroupRule::kGptqSymmetric: {
      float lo = mn < 0.0f ? mn : 0.0f, hi = mx > 0.0f ? mx : 0.0f;
      if (rule == Int4GroupRule::kGptqSymmetric) {
        hi = std::fabs(lo) > hi ? std::fabs(lo) : hi;
        if (lo < 0.0f) lo = -hi;
      }
      if (lo == 0.0f && hi == 0.0f) {
        lo = -1.0f;
        hi = 1.0f;
      }
      p.scale = (hi - lo) / 15.0f;
      p.zero_point = rule == Int4GroupRule::kGptqSymmetric
                         ? 8
                         : static_cast<std::int32_t>(round_to_integral(-lo / p.scale, Round::kHalfToEven));
      break;
    }
  }
  detail::require(p.scale > 0.0f && p.scale <= 3.4028234663852886e38f, where, int4_group_rule_name(rule),
                  ": the group's scale is ", p.scale, " (range [", mn, ", ", mx,
                  "]), not a positive finite float32");
  return p;
}

// Quantizes a rows x cols row-major weight matrix (rows = output channels, cols = the input dimension) in groups of
// group_size consecutive columns of each row (the last group of a row is shorter when cols % group_size != 0;
// AutoAWQ requires a multiple, GPTQ does not): q (rows x cols, one code per int32, unpacked), scales and
// zero_points [rows][ceil(cols / group_size)]. Every group is checked before anything is written.
inline void int4_quantize_groups(const float* w, std::size_t rows, std::size_t cols, std::size_t group_size,
                                 Int4GroupRule rule, std::int32_t* q, float* scales, std::int32_t* zero_points) {
  const char* where = "int4_quantize_groups";
  detail::require(group_size >= 1, where, "group_size must be >= 1");
  detail::require(rows >= 1 && cols >= 1, where, "rows and cols must be >= 1, got ", rows, " x ", cols);
  const std::size_t groups = cols / group_size + (cols % group_size != 0);
  for (int pass = 0; pass < 2; ++pass)  // pass 0 only checks, pass 1 writes
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t c0 = g * group_size, len = cols - c0 < group_size ? cols - c0 : group_size;
        const Int4GroupParams p = int4_group_params(w + r * cols + c0, len, rule);
        if (pass == 0) continue;
        scales[r * groups + g] = p.scale;
        zero_points[r * groups + g] = p.zero_point;
        for (std::size_t c = c0; c < c0 + len; ++c)
          q[r * cols + c] = int4_quantize_value(w[r * cols + c], p.scale, p.zero_point, int4_group_rule_signed(rule));
      }
}

}  // namespace qmath

// qmath/gemm_wa16.hpp - scalar reference weight-only GEMMs: W4A16 and W8A16 (weights dequantized on the fly,
// 16-bit floating-point activations, float32 accumulation).
//
//   w[k][n] = float32(q[n][k] - zp[n][g]) * scale[n][g]          g = k / block_size; the difference is exact
//   sum     = 0; for k = 0, 1, ..., K - 1:  sum = sum + a[m][k] * w[k][n]
//   c[m][n] = sum, or sum + bias[n] when bias is given
// a[m][k] is the float16 or bfloat16 activation decoded exactly to float32 (every such value is a float32). Every
// float32 operation is rounded separately, to nearest even, in this order (no fused multiply-add: qmath's consumers
// build with -ffp-contract=off), so the result is defined bit for bit. Kernels that round the dequantized weight to
// 16 bits before multiplying, or that accumulate in another order, differ from it; this reference does not model
// them. Infinities and NaNs among the activations propagate as IEEE arithmetic says.
// Weights:
//   W4A16: the MatMulNBits layout of int4.hpp (packed [N][blocks][block_size / 2] uint4, scales [N][blocks], zero
//          points [N][ceil(blocks / 2)] packed uint4 or nullptr for 8), as quantize_matmul_nbits4 writes them.
//   W8A16: int8 [N][K] (each output column's K weights contiguous), scales [N][blocks], zero points int8
//          [N][blocks] or nullptr (0: symmetric, the per-channel int8 weight-only form when block_size >= K).
// Scales must be finite (0 and negative values are accepted, as MatMulNBits' are); a bias must be finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/int4.hpp>

namespace qmath {

// The 16-bit activation formats: IEEE 754 binary16 (1 sign, 5 exponent bits, bias 15, 10 mantissa bits, subnormals,
// infinities, NaNs) and bfloat16 (the upper half of a float32).
enum class Activation16 { kFloat16, kBFloat16 };

// binary16 code -> float32, exact. NaN payloads are kept (shifted into the float32 mantissa), so the quiet bit stays
// the quiet bit.
QMATH_HOST_DEVICE float float16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1Fu) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else {
    // Zero or subnormal: mantissa * 2^-24, exact in float32 (a normal float32 unless 0).
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  }
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// bfloat16 code -> float32, exact (the code is the float32's upper 16 bits).
QMATH_HOST_DEVICE float bfloat16_to_float(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

QMATH_HOST_DEVICE float activation16_to_float(std::uint16_t h, Activation16 type) {
  return type == Activation16::kFloat16 ? float16_to_float(h) : bfloat16_to_float(h);
}

struct W4A16GemmArgs {
  std::size_t M;
  const std::uint16_t* a;            // M x K, row-major, float16 or bfloat16 codes
  Activation16 a_type;
  MatMulNBitsShape weights;          // K, N, block_size
  const std::uint8_t* w_packed;      // weights.packed_bytes()
  const float* w_scale;              // weights.scale_count(), finite
  const std::uint8_t* w_zero_point;  // weights.zero_point_bytes(), or nullptr (8)
  const float* bias;                 // N, finite, or nullptr
  float* c;                          // M x N, row-major
};

struct W8A16GemmArgs {
  std::size_t M, K, N;
  std::size_t block_size;           // >= 1; the last block of a column may be shorter (K % block_size)
  const std::uint16_t* a;           // M x K, row-major, float16 or bfloat16 codes
  Activation16 a_type;
  const std::int8_t* w;             // N x K: column n's K weights contiguous
  const float* w_scale;             // N x blocks, finite
  const std::int8_t* w_zero_point;  // N x blocks, or nullptr (0)
  const float* bias;                // N, finite, or nullptr
  float* c;                         // M x N, row-major
  std::size_t blocks() const { return K / block_size + (K % block_size != 0); }
};

namespace detail {
inline void check_finite_array(const float* v, std::size_t n, const char* where, const char* what) {
  for (std::size_t i = 0; i < n; ++i)
    require(v[i] == v[i] && v[i] - v[i] == 0.0f, where, what, "[", i, "] is not finite (", v[i], ")");
}

// The one definition of the arithmetic above; weight(k, n) returns the dequantized float32 weight.
template <class WeightFn>
void gemm_wa16_loop(std::size_t M, std::size_t K, std::size_t N, const std::uint16_t* a, Activation16 a_type,
                    const float* bias, float* c, WeightFn weight) {
  for (std::size_t m = 0; m < M; ++m) {
    const std::uint16_t* arow = a + m * K;
    for (std::size_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (std::size_t k = 0; k < K; ++k) {
        const float product = activation16_to_float(arow[k], a_type) * weight(k, n);
        sum = sum + product;
      }
      c[m * N + n] = bias ? sum + bias[n] : sum;
    }
  }
}
}  // namespace detail

// C = A * dequantized(W) (+ bias) as the header comment defines, for 4-bit MatMulNBits weights. Throws qmath::error
// before writing C on bad arguments.
inline void gemm_w4a16_reference(const W4A16GemmArgs& g) {
  const char* where = "gemm_w4a16_reference";
  const MatMulNBitsShape& s = g.weights;
  detail::check_matmul_nbits_shape(s, where);
  detail::require(g.M >= 1, where, "M must be >= 1");
  detail::require(g.a && g.w_packed && g.w_scale && g.c, where, "a null pointer among a, w_packed, w_scale, c");
  detail::check_finite_array(g.w_scale, s.scale_count(), where, "w_scale");
  if (g.bias) detail::check_finite_array(g.bias, s.N, where, "bias");
  const std::size_t nb = s.blocks(), half = s.block_size / 2;
  detail::gemm_wa16_loop(g.M, s.K, s.N, g.a, g.a_type, g.bias, g.c, [&](std::size_t k, std::size_t n) {
    const std::size_t b = k / s.block_size;
    const std::int32_t q = int4_get(g.w_packed + (n * nb + b) * half, k % s.block_size, false);
    const std::int32_t zp = g.w_zero_point ? int4_get(g.w_zero_point + n * ((nb + 1) / 2), b, false) : 8;
    return static_cast<float>(q - zp) * g.w_scale[n * nb + b];
  });
}

// The same for int8 weights with a scale (and optional zero point) per block of block_size along K.
inline void gemm_w8a16_reference(const W8A16GemmArgs& g) {
  const char* where = "gemm_w8a16_reference";
  detail::require(g.M >= 1 && g.K >= 1 && g.N >= 1, where, "M, K and N must be >= 1, got M = ", g.M, ", K = ", g.K,
                  ", N = ", g.N);
  detail::require(g.block_size >= 1, where, "block_size must be >= 1");
  detail::require(g.a && g.w && g.w_scale && g.c, where, "a null pointer among a, w, w_scale, c");
  const std::size_t nb = g.blocks();
  detail::check_finite_array(g.w_scale, g.N * nb, where, "w_scale");
  if (g.bias) detail::check_finite_array(g.bias, g.N, where, "bias");
  detail::gemm_wa16_loop(g.M, g.K, g.N, g.a, g.a_type, g.bias, g.c, [&](std::size_t k, std::size_t n) {
    const std::size_t b = k / g.block_size;
    const std::int32_t zp = g.w_zero_point ? g.w_zero_point[n * nb + b] : 0;
    return static_cast<float>(std::int32_t{g.w[n * g.K + k]} - zp) * g.w_scale[n * nb + b];
  });
}

}  // namespace qmath

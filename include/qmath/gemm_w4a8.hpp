// qmath/gemm_w4a8.hpp - scalar reference W4A8 GEMM: 4-bit group-wise weights (the MatMulNBits layout of int4.hpp),
// int8 activations, int32 accumulation per group, float32 output.
//
//   acc[g]  = sum_{k in group g} (a[m][k] - a_zero_point[m]) * (w[k][n] - w_zero_point[n][g])     (int32, exact)
//   sum     = float32 running sum over g = 0, 1, ...:  sum = sum + float(acc[g]) * w_scale[n][g]
//   c[m][n] = sum * a_scale[m]
// Every float32 operation is rounded separately (no fused multiply-add), in this order, so the result is defined
// bit for bit. The int32 sums cannot overflow: |a - zp| <= 255, |w - zp| <= 15 and a group holds at most 256 values.
// Weights: packed [N][blocks][block_size / 2] uint4 (K-consecutive pairs, low nibble first), scales [N][blocks],
// zero points [N][ceil(blocks / 2)] packed uint4 or nullptr for the symmetric form (zero point 8) - exactly what
// quantize_matmul_nbits4 writes. Activations: int8, row-major M x K, one scale and zero point per row (per token;
// pass the same value M times for a per-tensor activation scale).
// gemm_w4a8_reference is the normative scalar loop; gemm_w4a8 dispatches through the ISA registry (qmath/isa.hpp):
// an AVX2 kernel (detail/w4a8_avx2.hpp) where the CPU has AVX2, bit-exact with the reference for every input.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/detail/w4a8_avx2.hpp>
#include <qmath/error.hpp>
#include <qmath/int4.hpp>
#include <qmath/isa.hpp>

namespace qmath {

struct W4A8GemmArgs {
  std::size_t M;
  const std::int8_t* a;              // M x K, row-major
  const float* a_scale;              // M, finite and > 0
  const std::int32_t* a_zero_point;  // M values in [-128, 127], or nullptr (0)
  MatMulNBitsShape weights;          // K, N, block_size
  const std::uint8_t* w_packed;      // weights.packed_bytes()
  const float* w_scale;              // weights.scale_count(), finite (may be negative or 0, as MatMulNBits' are)
  const std::uint8_t* w_zero_point;  // weights.zero_point_bytes(), or nullptr (8)
  float* c;                          // M x N, row-major
};

namespace detail {
inline void check_w4a8(const W4A8GemmArgs& g) {
  const char* where = "gemm_w4a8";
  check_matmul_nbits_shape(g.weights, where);
  require(g.M >= 1, where, "M must be >= 1");
  require(g.a && g.a_scale && g.w_packed && g.w_scale && g.c, where, "a null pointer among a, a_scale, w_packed, "
          "w_scale, c");
  for (std::size_t m = 0; m < g.M; ++m) {
    require(g.a_scale[m] > 0.0f && g.a_scale[m] <= 3.4028234663852886e38f, where, "a_scale[", m,
            "] must be finite and > 0, got ", g.a_scale[m]);
    if (g.a_zero_point)
      require(g.a_zero_point[m] >= -128 && g.a_zero_point[m] <= 127, where, "a_zero_point[", m, "] = ",
              g.a_zero_point[m], " outside [-128, 127]");
  }
  for (std::size_t i = 0; i < g.weights.scale_count(); ++i)
    require(g.w_scale[i] == g.w_scale[i] && g.w_scale[i] - g.w_scale[i] == 0.0f, where, "w_scale[", i,
            "] is not finite (", g.w_scale[i], ")");
}
}  // namespace detail

namespace detail {
// The reference loop over output columns [n_begin, n_end) (arguments already checked).
inline void gemm_w4a8_reference_columns(const W4A8GemmArgs& g, std::size_t n_begin, std::size_t n_end) {
  const MatMulNBitsShape& s = g.weights;
  const std::size_t nb = s.blocks(), half = s.block_size / 2, K = s.K;
  for (std::size_t m = 0; m < g.M; ++m) {
    const std::int32_t azp = g.a_zero_point ? g.a_zero_point[m] : 0;
    const std::int8_t* arow = g.a + m * K;
    for (std::size_t n = n_begin; n < n_end; ++n) {
      float sum = 0.0f;
      for (std::size_t b = 0; b < nb; ++b) {
        const std::uint8_t* wq = g.w_packed + (n * nb + b) * half;
        const std::int32_t wzp = g.w_zero_point ? int4_get(g.w_zero_point + n * ((nb + 1) / 2), b, false) : 8;
        const std::size_t k0 = b * s.block_size;
        const std::size_t k1 = k0 + s.block_size < K ? k0 + s.block_size : K;
        std::int32_t acc = 0;
        for (std::size_t k = k0; k < k1; ++k)
          acc += (static_cast<std::int32_t>(arow[k]) - azp) * (int4_get(wq, k - k0, false) - wzp);
        const float term = static_cast<float>(acc) * g.w_scale[n * nb + b];
        sum = sum + term;
      }
      g.c[m * s.N + n] = sum * g.a_scale[m];
    }
  }
}

// The paths gemm_w4a8 has kernels for.
constexpr unsigned kW4A8Kernels = isa_bit(Isa::kScalar) | (QMATH_X86_SIMD ? isa_bit(Isa::kAvx2) : 0u);
}  // namespace detail

// The normative scalar reference: C = A * dequantized(W) as defined in the header comment. Throws qmath::error
// before writing C on bad arguments.
inline void gemm_w4a8_reference(const W4A8GemmArgs& g) {
  detail::check_w4a8(g);
  detail::gemm_w4a8_reference_columns(g, 0, g.weights.N);
}

// The path gemm_w4a8 runs for `requested` (AVX2 or scalar; see qmath/isa.hpp).
inline Isa resolved_isa_for_w4a8(Isa requested = Isa::kAuto) {
  return resolve_isa(requested, detail::kW4A8Kernels, "resolved_isa_for_w4a8");
}

// The same result as gemm_w4a8_reference, bit for bit, on the path that `isa` picks or caps (qmath/isa.hpp): the
// AVX2 kernel computes the columns up to the last multiple of 8, the reference loop the rest. Throws qmath::error
// before writing C on bad arguments or an unavailable path.
inline void gemm_w4a8(const W4A8GemmArgs& g, Isa isa = Isa::kAuto) {
  detail::check_w4a8(g);
  const Isa path = resolve_isa(isa, detail::kW4A8Kernels, "gemm_w4a8");
  std::size_t done = 0;
#if QMATH_X86_SIMD
  if (path == Isa::kAvx2) {
    const MatMulNBitsShape& s = g.weights;
    done = detail::w4a8_avx2::gemm({g.M, s.K, s.N, s.block_size, g.a, g.a_scale, g.a_zero_point, g.w_packed,
                                    g.w_scale, g.w_zero_point, g.c});
  }
#else
  (void)path;
#endif
  detail::gemm_w4a8_reference_columns(g, done, g.weights.N);
}

}  // namespace qmath

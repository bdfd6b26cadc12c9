// bench/dynamic_quant_matmul.hpp - ONNX Runtime's dynamic-quantization MatMuls (com.microsoft MatMulIntegerToFloat
// and DynamicQuantizeMatMul) composed from qmath's public API, for the benchmarks and the ORT comparison. Glue only:
// every piece of arithmetic is qmath's own.
//
//   MatMulIntegerToFloat(A_q uint8 M x K, B int8 K x N, a_scale, b_scale, a_zp, b_zp, bias):
//     acc[m][n] = sum_k (A_q - a_zp) * (B - b_zp)                     cpu::gemm, int32 accumulation
//     Y[m][n]   = f32(f32(float(acc) * f32(a_scale * b_scale[n])) + bias[n])
//                                                                     the float-output epilogue (float_multiplier,
//                                                                     with_float_bias when there is a bias), from a
//                                                                     LinearRequantization built once per B
//                                                                     (bias_after_scale) whose input scale each call
//                                                                     sets (set_input_scale)
//   DynamicQuantizeMatMul(X float M x K, B, b_scale, b_zp, bias):
//     (a_scale, a_zp) = ONNX DynamicQuantizeLinear parameters of X     MinMaxCalibrator + asymmetric_params(kOnnx)
//     A_q = quantize(X, a_scale, a_zp) over [0, 255], half to even    quantize_array<uint8_t> (kDivide: X / a_scale)
//     Y = MatMulIntegerToFloat(A_q, B, a_scale, b_scale, a_zp, b_zp)
//
// b_scale holds 1 value (per tensor) or N (per output column); bias none or N floats. A non-finite X (or bias) is an
// error here (MinMaxCalibrator's default policy); ORT has no such check. A call rewrites the weights' multipliers:
// one call at a time per QuantizedWeights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <qmath/calibration/minmax.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/error.hpp>
#include <qmath/linear.hpp>
#include <qmath/matrix.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize_array.hpp>

namespace qmath_bench {

// B packed once with its zero point, and the float-output layer of its scales (1 or N) and bias (none or N), built
// once: a call only sets the input scale (LinearRequantization::set_input_scale, in place).
struct QuantizedWeights {
  qmath::cpu::PackedB<std::int8_t> packed;
  qmath::LinearRequantization layer;  // float output, bias_after_scale
};

// Throws qmath::error for a b_scale count other than 1 or N, a bias count other than 0 or N, a scale not finite and
// > 0, a non-finite bias.
inline QuantizedWeights prepare_weights(qmath::MatrixView<const std::int8_t> b, const std::vector<float>& b_scale,
                                        std::int32_t b_zero_point = 0, const std::vector<float>& bias = {}) {
  const std::size_t n = static_cast<std::size_t>(b.cols);
  qmath::detail::require(b_scale.size() == 1 || b_scale.size() == n, "prepare_weights", "b_scale has ",
                         b_scale.size(), " entries, expected 1 or N = ", n);
  qmath::LinearLayerArgs layer;
  layer.n = b.cols;
  layer.input = {1.0f, 0};  // replaced by every call's set_input_scale
  layer.weight.reserve(b_scale.size());
  for (float s : b_scale) layer.weight.push_back({s, 0});
  layer.bias = bias;
  layer.float_output = true;
  layer.bias_after_scale = true;
  qmath::LinearRequantization r = qmath::make_linear_requantization(layer);
  return QuantizedWeights{qmath::cpu::pack_b(b, b_zero_point), std::move(r)};
}

// MatMulIntegerToFloat (file comment). a: M x K row-major, y: M x N row-major. Sets w's input scale.
inline void matmul_integer_to_float(qmath::MatrixView<const std::uint8_t> a, qmath::QuantParams a_params,
                                    QuantizedWeights& w, qmath::MatrixView<float> y,
                                    qmath::cpu::GemmOptions options = {}) {
  w.layer.set_input_scale(a_params.scale);
  qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{a, &w.packed, y, a_params.zero_point, w.layer.epilogue()}, options);
}

// ONNX DynamicQuantizeLinear's (scale, zero point) of n floats: the range widened to include 0, uint8 [0, 255].
inline qmath::QuantParams dynamic_quantize_params(const float* x, std::size_t n) {
  qmath::MinMaxCalibrator observed;
  observed.collect(x, n);
  const qmath::CalibrationRange r = observed.compute();
  return qmath::asymmetric_params(r.min, r.max, qmath::full_range<std::uint8_t>(), qmath::AsymmetricConvention::kOnnx);
}

// DynamicQuantizeMatMul (file comment). x: M x K row-major and dense; a_q: scratch for the M x K
// quantized activations (resized here). Returns A's parameters. Throws qmath::error before writing y.
inline qmath::QuantParams dynamic_quantize_matmul(qmath::MatrixView<const float> x, QuantizedWeights& w,
                                                  std::vector<std::uint8_t>& a_q, qmath::MatrixView<float> y,
                                                  qmath::cpu::GemmOptions options = {}) {
  qmath::detail::check_view("dynamic_quantize_matmul", "x", x);
  qmath::detail::require(x.order == qmath::Order::kRowMajor && x.stride == x.cols, "dynamic_quantize_matmul",
                         "x must be row-major and dense");
  const std::size_t count = static_cast<std::size_t>(x.rows) * static_cast<std::size_t>(x.cols);
  const qmath::QuantParams p = dynamic_quantize_params(x.data, count);
  a_q.resize(count);
  qmath::quantize_array<std::uint8_t>(x.data, count, a_q.data(), p);
  matmul_integer_to_float(qmath::row_major(static_cast<const std::uint8_t*>(a_q.data()), x.rows, x.cols), p, w, y,
                          options);
  return p;
}

}  // namespace qmath_bench

// bench/dynamic_quant_matmul.hpp - ONNX Runtime's dynamic-quantization MatMuls (com.microsoft MatMulIntegerToFloat
// and DynamicQuantizeMatMul) composed from qmath's public API, for the benchmarks and the ORT comparison. Glue only:
// every piece of arithmetic is qmath's own.
//
//   MatMulIntegerToFloat(A_q uint8 M x K, B int8 K x N, a_scale, b_scale, a_zp, b_zp), no bias:
//     acc[m][n] = sum_k (A_q - a_zp) * (B - b_zp)                     cpu::gemm, int32 accumulation
//     Y[m][n]   = float(acc) * f32(a_scale * b_scale[n])              the float-output epilogue (float_multiplier),
//                                                                     multiplier from make_linear_requantization
//   DynamicQuantizeMatMul(X float M x K, B, b_scale, b_zp), no bias:
//     (a_scale, a_zp) = ONNX DynamicQuantizeLinear parameters of X     MinMaxCalibrator + asymmetric_params(kOnnx)
//     A_q = quantize(X, a_scale, a_zp) over [0, 255], half to even    quantize_array<uint8_t> (kDivide: X / a_scale)
//     Y = MatMulIntegerToFloat(A_q, B, a_scale, b_scale, a_zp, b_zp)
//
// b_scale holds 1 value (per tensor) or N (per output column). Not covered: ORT's optional float bias, added after
// the scale (Y = float(acc) * scale + bias[n]); qmath's epilogue adds a bias only in int32 accumulator units before
// the scale (LinearLayerArgs::bias rounds bias / acc_scale), which is not the same arithmetic. A non-finite X is an
// error here (MinMaxCalibrator's default policy); ORT has no such check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <qmath/calibration/minmax.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/error.hpp>
#include <qmath/linear.hpp>
#include <qmath/matrix.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize_array.hpp>

namespace qmath_bench {

// B packed once with its zero point, and the float-output layer of its scales (1 or N), built once: a call only sets
// the input scale.
struct QuantizedWeights {
  qmath::cpu::PackedB<std::int8_t> packed;
  qmath::LinearLayerArgs layer;  // n, weight scales, float_output
};

inline QuantizedWeights prepare_weights(qmath::MatrixView<const std::int8_t> b, const std::vector<float>& b_scale,
                                        std::int32_t b_zero_point = 0) {
  const std::size_t n = static_cast<std::size_t>(b.cols);
  qmath::detail::require(b_scale.size() == 1 || b_scale.size() == n, "prepare_weights", "b_scale has ",
                         b_scale.size(), " entries, expected 1 or N = ", n);
  QuantizedWeights w{qmath::cpu::pack_b(b, b_zero_point), {}};
  w.layer.n = b.cols;
  w.layer.weight.reserve(b_scale.size());
  for (float s : b_scale) w.layer.weight.push_back({s, 0});
  w.layer.float_output = true;
  return w;
}

// The float-output epilogue's multipliers f32(a_scale * b_scale[n]) (make_linear_requantization, float output).
inline qmath::LinearRequantization float_output_scales(float a_scale, const QuantizedWeights& w) {
  qmath::LinearLayerArgs layer = w.layer;
  layer.input = {a_scale, 0};
  return qmath::make_linear_requantization(layer);
}

// MatMulIntegerToFloat without bias (file comment). a: M x K row-major, y: M x N row-major.
inline void matmul_integer_to_float(qmath::MatrixView<const std::uint8_t> a, qmath::QuantParams a_params,
                                    const QuantizedWeights& w, qmath::MatrixView<float> y,
                                    qmath::cpu::GemmOptions options = {}) {
  const qmath::LinearRequantization r = float_output_scales(a_params.scale, w);
  qmath::cpu::gemm(qmath::cpu::PackedGemmArgs{a, &w.packed, y, a_params.zero_point, r.epilogue()}, options);
}

// ONNX DynamicQuantizeLinear's (scale, zero point) of n floats: the range widened to include 0, uint8 [0, 255].
inline qmath::QuantParams dynamic_quantize_params(const float* x, std::size_t n) {
  qmath::MinMaxCalibrator observed;
  observed.collect(x, n);
  const qmath::CalibrationRange r = observed.compute();
  return qmath::asymmetric_params(r.min, r.max, qmath::full_range<std::uint8_t>(), qmath::AsymmetricConvention::kOnnx);
}

// DynamicQuantizeMatMul without bias (file comment). x: M x K row-major and dense; a_q: scratch for the M x K
// quantized activations (resized here). Returns A's parameters. Throws qmath::error before writing y.
inline qmath::QuantParams dynamic_quantize_matmul(qmath::MatrixView<const float> x, const QuantizedWeights& w,
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

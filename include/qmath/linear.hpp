// qmath/linear.hpp - the integer bias and the GEMM epilogue of a quantized linear (fully connected) layer.
//
// A float layer y[m][n] = sum_k x[m][k] * W[n][k] + b[n], with x = s_in * (x_q - z_in) and W[n] = s_w[n] * (W_q[n] -
// z_w), is computed as an int8 GEMM with int32 accumulation acc[m][n] = sum_k (x_q - z_in) * (W_q - z_w) and
// (per output channel n; per-tensor weights use s_w[0] for every n):
//
//   acc_scale[n] = f32(s_in * s_w[n])                          the real value of one accumulator unit
//   bias_q[n]    = sat(round_half_even(f32(b[n] / acc_scale[n])))   the bias in accumulator units, int32
//   integer output:  y_q = clamp(round(M[n] * (acc + bias_q[n])) + z_out, clamp)   M[n] = f32(acc_scale[n] / s_out)
//                    Scaling::kFloatMultiplier uses M[n] as a float (ONNX QLinearMatMul), kFixedPointMultiplier its Q31 form
//                    quantize_multiplier(M[n]) (TFLite / gemmlowp); the clamp is the activation (activation_clamp)
//   float output:    y = (acc + bias_q[n]) * acc_scale[n]
//                    or, with bias_after_scale, y = f32(f32(acc * acc_scale[n]) + b[n]): b[n] as given, added after
//                    the scale, not rounded to accumulator units (ONNX Runtime's MatMulIntegerToFloat, PyTorch's
//                    dynamic quantized Linear)
//
// LinearRequantization::set_input_scale recomputes everything that depends on s_in in place (dynamic quantization:
// a new s_in per call, no allocation).
//
// Bias saturation (the contract): sat() clamps the rounded quotient to [-kMaxBiasMagnitude, kMaxBiasMagnitude],
// kMaxBiasMagnitude = 2^31 - 2^7 = 2147483520, the largest float that converts to int32 (floats in [2^30, 2^31) are
// 2^7 apart, and 2^31 itself does not fit): the clamp is what makes the float -> int32 conversion defined. Symmetric,
// as TFLite's bias quantization. A saturated bias is not an error - it happens where a channel's accumulator unit is
// tiny next to its bias, e.g. a pruned (all-zero) weight row whose scale is kMinScale; such a channel's output
// saturates anyway - but it is counted (LinearRequantization::saturated_bias) so that a caller can refuse it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// 2^31 - 2^7: the largest float below 2^31, so the largest magnitude an int32 bias takes from a float quotient.
inline constexpr float kMaxBiasMagnitude = 2147483520.0f;
static_assert(kMaxBiasMagnitude == 2147483648.0f - 128.0f, "2^31 - 2^7");

// bias_q = round_half_even(bias / acc_scale) saturated to [-kMaxBiasMagnitude, kMaxBiasMagnitude]; the quotient is
// a float division (an infinite quotient saturates). bias finite, acc_scale finite and > 0 (not checked here).
inline std::int32_t quantize_bias(float bias, float acc_scale) {
  float q = round_to_integral(bias / acc_scale, Round::kHalfToEven);
  q = q > kMaxBiasMagnitude ? kMaxBiasMagnitude : (q < -kMaxBiasMagnitude ? -kMaxBiasMagnitude : q);
  return static_cast<std::int32_t>(q);
}

// Whether quantize_bias(bias, acc_scale) saturates.
inline bool bias_saturates(float bias, float acc_scale) {
  return std::fabs(round_to_integral(bias / acc_scale, Round::kHalfToEven)) > kMaxBiasMagnitude;
}

// The layer: one small struct, validated once by make_linear_requantization.
struct LinearLayerArgs {
  int n = 0;                        // output channels (the GEMM's N), >= 1
  QuantParams input{};              // s_in finite and > 0 (its zero point is the GEMM's, not used here)
  std::vector<QuantParams> weight;  // 1 entry (per tensor) or n (per output channel); scales finite and > 0
  std::vector<float> bias;          // empty (no bias) or n finite float biases
  bool float_output = false;        // true: y = (acc + bias_q) * acc_scale (float logits); the rest is unused
  bool bias_after_scale = false;    // float output only: y = acc * acc_scale + b (a float bias stage), no bias_q
  QuantParams output{};             // integer output: s_out finite and > 0, zero point
  QuantRange clamp{-128, 127};      // integer output: the clamp after the zero point (activation_clamp for ReLU)
  Scaling mode = Scaling::kFloatMultiplier;  // integer output: kFloatMultiplier or kFixedPointMultiplier
  FixedPointRounding rounding = FixedPointRounding::kDoubleRounding;
};

// The layer's integer parameters (formulas in the file comment). epilogue() points into this object's arrays.
struct LinearRequantization {
  std::vector<std::int32_t> bias;        // bias_q[n], n entries (empty without a bias or with bias_after_scale)
  std::vector<float> scale;              // M[n] (integer output) or acc_scale[n] (float output); 1 entry per tensor
  std::vector<std::int32_t> multiplier;  // kFixedPointMultiplier: quantize_multiplier(M[n]), same count as scale
  std::vector<std::int32_t> shift;
  std::vector<float> weight_scale;       // s_w[n] as given (1 per tensor)
  std::vector<float> float_bias;         // b[n] as given (empty without a bias): the float bias stage reads it
                                         // (bias_after_scale), set_input_scale derives bias_q from it (otherwise)
  float output_scale = 1.0f;             // s_out (integer output)
  Scaling mode = Scaling::kFloatMultiplier;
  FixedPointRounding rounding = FixedPointRounding::kDoubleRounding;
  bool float_output = false;
  bool bias_after_scale = false;
  std::int32_t output_zero_point = 0;
  QuantRange clamp{-128, 127};
  std::size_t saturated_bias = 0;  // channels whose bias_q saturated at +-kMaxBiasMagnitude

  // Recomputes, for input scale s_in, acc_scale[n] = f32(s_in * s_w[n]) and what derives from it (scale, multiplier,
  // shift, bias, saturated_bias) in place: no allocation, epilogue()'s arrays stay where they are. Throws
  // qmath::error, before any write, for s_in not finite and > 0 or a product that underflows to 0. Not thread-safe:
  // no GEMM may run with this object's epilogue meanwhile.
  void set_input_scale(float input_scale) {
    const char* where = "LinearRequantization::set_input_scale";
    detail::require(std::isfinite(input_scale) && input_scale > 0.0f, where, "input scale ", input_scale,
                    " is not finite and > 0");
    for (std::size_t c = 0; c < weight_scale.size(); ++c)
      detail::require(input_scale * weight_scale[c] > 0.0f, where, "input scale * weight[", c,
                      "].scale underflows to 0");
    const std::size_t count = weight_scale.size();
    for (std::size_t c = 0; c < count; ++c) {
      const float acc_scale = input_scale * weight_scale[c];
      const float m = float_output ? acc_scale : acc_scale / output_scale;
      scale[c] = m;
      if (mode == Scaling::kFixedPointMultiplier && !float_output) {
        const QuantizedMultiplier qm = quantize_multiplier(static_cast<double>(m));
        multiplier[c] = qm.multiplier;
        shift[c] = qm.shift;
      }
    }
    saturated_bias = 0;
    for (std::size_t i = 0; i < bias.size(); ++i) {
      const float acc_scale = input_scale * weight_scale[count == 1 ? 0 : i];
      bias[i] = quantize_bias(float_bias[i], acc_scale);
      saturated_bias += bias_saturates(float_bias[i], acc_scale) ? 1 : 0;
    }
  }

  Epilogue epilogue() const& {
    const Granularity g = scale.size() > 1 ? Granularity::kPerChannel : Granularity::kPerTensor;
    Epilogue e = mode == Scaling::kFixedPointMultiplier && !float_output
                     ? Epilogue::fixed_point_multiplier(multiplier.data(), shift.data(), g, rounding)
                     : Epilogue::float_multiplier(scale.data(), g);
    if (!bias.empty()) e = e.with_bias(bias.data());
    if (bias_after_scale && !float_bias.empty()) e = e.with_float_bias(float_bias.data());
    if (float_output) return e;
    return e.with_output_zero_point(output_zero_point).with_clamp(clamp);
  }
  Epilogue epilogue() const&& = delete;  // it would point into a temporary
};

// Builds the integer bias and the epilogue parameters of a linear layer. Throws qmath::error naming the field at
// fault: n < 1, a weight count other than 1 or n, a bias count other than 0 or n, a non-finite bias, a scale that is
// not finite and > 0, s_in * s_w[n] that underflows to 0, Scaling::kNone (or a fixed-point multiplier with a float
// output), an empty clamp, bias_after_scale without a float output.
inline LinearRequantization make_linear_requantization(const LinearLayerArgs& a) {
  const char* where = "make_linear_requantization";
  detail::require(a.n >= 1, where, "n = ", a.n, " (need at least one output channel)");
  const auto count = a.weight.size();
  detail::require(count == 1 || count == static_cast<std::size_t>(a.n), where, "weight has ", count,
                  " parameter sets, expected 1 (per tensor) or n = ", a.n, " (per output channel)");
  detail::require(a.bias.empty() || a.bias.size() == static_cast<std::size_t>(a.n), where, "bias has ",
                  a.bias.size(), " entries, expected 0 or n = ", a.n);
  auto positive = [](float s) { return std::isfinite(s) && s > 0.0f; };
  detail::require(positive(a.input.scale), where, "input scale ", a.input.scale, " is not finite and > 0");
  for (std::size_t c = 0; c < count; ++c)
    detail::require(positive(a.weight[c].scale), where, "weight[", c, "].scale ", a.weight[c].scale,
                    " is not finite and > 0");
  for (std::size_t i = 0; i < a.bias.size(); ++i)
    detail::require(std::isfinite(a.bias[i]), where, "bias[", i, "] is not finite (", a.bias[i], ")");
  detail::require(a.float_output || !a.bias_after_scale, where, "bias_after_scale needs a float output");
  if (a.float_output) {
    detail::require(a.mode != Scaling::kFixedPointMultiplier, where, "a float output takes Scaling::kFloatMultiplier");
  } else {
    detail::require(a.mode == Scaling::kFloatMultiplier || a.mode == Scaling::kFixedPointMultiplier, where,
                    "an integer output needs Scaling::kFloatMultiplier or kFixedPointMultiplier");
    detail::require(positive(a.output.scale), where, "output scale ", a.output.scale, " is not finite and > 0");
    detail::require(a.clamp.qmin <= a.clamp.qmax, where, "clamp [", a.clamp.qmin, ", ", a.clamp.qmax, "] is empty");
  }

  for (std::size_t c = 0; c < count; ++c)
    detail::require(a.input.scale * a.weight[c].scale > 0.0f, where, "input scale * weight[", c,
                    "].scale underflows to 0");

  LinearRequantization r;
  r.mode = a.float_output ? Scaling::kFloatMultiplier : a.mode;
  r.rounding = a.rounding;
  r.float_output = a.float_output;
  r.bias_after_scale = a.bias_after_scale;
  r.output_zero_point = a.float_output ? 0 : a.output.zero_point;
  r.output_scale = a.float_output ? 1.0f : a.output.scale;
  r.clamp = a.clamp;
  for (const QuantParams& w : a.weight) r.weight_scale.push_back(w.scale);
  r.float_bias = a.bias;
  r.scale.resize(count);
  if (r.mode == Scaling::kFixedPointMultiplier) r.multiplier.resize(count), r.shift.resize(count);
  if (!a.bias_after_scale) r.bias.resize(a.bias.size());
  r.set_input_scale(a.input.scale);
  return r;
}

}  // namespace qmath

// qmath/epilogue.hpp - the fused output stage of an integer GEMM: INT32 accumulator -> int32 / int8 / uint8 / float.
//
// One definition, used by the reference GEMM, the CPU kernels and the CUDA kernels (every function that runs per
// element is QMATH_HOST_DEVICE). For the accumulator `acc` of output column n (the output channel):
//
//   v = saturate_int32(acc + bias[n])                                        (bias optional, added in int64)
//   integer output T, ScaleMode::kFloat:      q = clamp(round_half_even(float(v) * scale[n]) + zero_point, lo, hi)
//   integer output T, ScaleMode::kFixedPoint: q = clamp(MBQM(v, multiplier[n], shift[n]) + zero_point, lo, hi)
//   integer output T, ScaleMode::kNone:       q = clamp(v, lo, hi)           (int32 output: the raw accumulator)
//   float output,     ScaleMode::kFloat:      y = clamp(float(v) * scale[n], float_min, float_max)
//   float output,     ScaleMode::kNone:       y = clamp(float(v), float_min, float_max)
//
// where lo = max(clamp_min, T's min) and hi = min(clamp_max, T's max); `scale[n]` / `multiplier[n]` / `shift[n]`
// read index 0 when per_channel is false. MBQM is multiply_by_quantized_multiplier with the chosen rounding
// (gemmlowp: RDBPOT(SRDHM(v, multiplier), -shift) for shift <= 0). The float path is ONNX QLinearMatMul's.
// Activations (ReLU, ReLU6, any [lo, hi]) are the clamp bounds, in the output's quantized domain; see
// activation_clamp().
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/error.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {

// How the accumulator is scaled before the output zero point.
enum class ScaleMode {
  kNone,        // no scaling
  kFloat,       // float multiplier M = s_a * s_b / s_out (or s_a * s_b for float output)
  kFixedPoint,  // Q31 multiplier and shift from quantize_multiplier(M)
};

// The output stage, a plain aggregate. Pointers refer to memory the executing code can read (host memory for CPU
// GEMMs, device memory for CUDA kernels); per-channel arrays hold N entries, per-tensor arrays one.
struct Epilogue {
  const std::int32_t* bias = nullptr;        // optional, per output column, added to the accumulator
  ScaleMode scale_mode = ScaleMode::kNone;
  bool per_channel = false;                  // scale/multiplier/shift indexed by output column
  const float* scale = nullptr;              // ScaleMode::kFloat
  const std::int32_t* multiplier = nullptr;  // ScaleMode::kFixedPoint, Q31 in [0, 2^31 - 1]
  const std::int32_t* shift = nullptr;       // ScaleMode::kFixedPoint, in [-31, 30]
  FixedPointRounding rounding = FixedPointRounding::kDouble;
  std::int32_t output_zero_point = 0;        // integer outputs with a scale
  std::int32_t clamp_min = INT32_MIN;        // integer outputs: bounds after the zero point (activation)
  std::int32_t clamp_max = INT32_MAX;
  float float_clamp_min = -std::numeric_limits<float>::infinity();  // float output bounds (activation)
  float float_clamp_max = std::numeric_limits<float>::infinity();
};

// Applies the epilogue to the accumulator of output column n.
template <class OutT>
QMATH_HOST_DEVICE OutT apply_epilogue(const Epilogue& e, std::int32_t acc, int n) {
  const std::int32_t v =
      e.bias ? saturate_to_int32(static_cast<std::int64_t>(acc) + e.bias[n]) : acc;
  const int ch = e.per_channel ? n : 0;
  if constexpr (std::is_same<OutT, float>::value) {
    float y = static_cast<float>(v);
    if (e.scale_mode == ScaleMode::kFloat) y *= e.scale[ch];
    y = y < e.float_clamp_min ? e.float_clamp_min : y;
    y = y > e.float_clamp_max ? e.float_clamp_max : y;
    return y;
  } else {
    const QuantRange t = full_range<OutT>();
    const QuantRange r{e.clamp_min > t.qmin ? e.clamp_min : t.qmin, e.clamp_max < t.qmax ? e.clamp_max : t.qmax};
    switch (e.scale_mode) {
      case ScaleMode::kFloat:
        return static_cast<OutT>(requantize_float(v, e.scale[ch], e.output_zero_point, r));
      case ScaleMode::kFixedPoint:
        return static_cast<OutT>(
            requantize_fixed_point(v, e.multiplier[ch], e.shift[ch], e.output_zero_point, r, e.rounding));
      case ScaleMode::kNone:
      default:
        return static_cast<OutT>(clamp_i64(v, r.qmin, r.qmax));
    }
  }
}

// Clamp bounds (quantized, after the zero point) of an activation [lo, hi] given in real units, for an output with
// parameters `out` over `range`: ReLU is [0, +inf), ReLU6 is [0, 6]. Infinite bounds leave that side open.
inline QuantRange activation_clamp(float lo, float hi, QuantParams out, QuantRange range) {
  detail::require(!(lo > hi), "activation_clamp", "lower bound ", lo, " is above upper bound ", hi);
  detail::require(!std::isnan(lo) && !std::isnan(hi), "activation_clamp", "bound is NaN");
  QuantRange r = range;
  if (std::isfinite(lo)) r.qmin = round_add_saturate(lo / out.scale, out.zero_point, range, Round::kHalfToEven);
  if (std::isfinite(hi)) r.qmax = round_add_saturate(hi / out.scale, out.zero_point, range, Round::kHalfToEven);
  return r;
}

// Host-side validation of an epilogue for output type OutT and n output columns: throws qmath::error naming the
// problem (missing scale array, shift out of [-31, 30], negative multiplier, zero point outside OutT, empty clamp).
// Reads the parameter arrays, so call it only with host pointers; CUDA launchers check pointers for null only.
template <class OutT>
void validate_epilogue(const Epilogue& e, int n, bool arrays_on_host = true) {
  const char* where = "validate_epilogue";
  const int count = e.per_channel ? n : 1;
  if constexpr (std::is_same<OutT, float>::value) {
    detail::require(e.scale_mode != ScaleMode::kFixedPoint, where, "a float output takes ScaleMode::kNone or kFloat");
    detail::require(!(e.float_clamp_min > e.float_clamp_max), where, "float clamp is empty");
  } else {
    const QuantRange t = full_range<OutT>();
    detail::require(e.output_zero_point >= t.qmin && e.output_zero_point <= t.qmax, where, "output zero point ",
                    e.output_zero_point, " outside the output type's range [", t.qmin, ", ", t.qmax, "]");
    detail::require(e.clamp_min <= e.clamp_max, where, "clamp_min ", e.clamp_min, " > clamp_max ", e.clamp_max);
    detail::require(e.clamp_min <= t.qmax && e.clamp_max >= t.qmin, where, "clamp [", e.clamp_min, ", ", e.clamp_max,
                    "] does not meet the output type's range");
  }
  if (e.scale_mode == ScaleMode::kFloat) {
    detail::require(e.scale != nullptr, where, "ScaleMode::kFloat needs a scale array");
    if (arrays_on_host)
      for (int i = 0; i < count; ++i)
        detail::require(std::isfinite(e.scale[i]), where, "scale[", i, "] is not finite (", e.scale[i], ")");
  } else if (e.scale_mode == ScaleMode::kFixedPoint) {
    detail::require(e.multiplier != nullptr && e.shift != nullptr, where,
                    "ScaleMode::kFixedPoint needs multiplier and shift arrays");
    if (arrays_on_host)
      for (int i = 0; i < count; ++i) {
        detail::require(e.multiplier[i] >= 0, where, "multiplier[", i, "] is negative (", e.multiplier[i], ")");
        detail::require(e.shift[i] >= -31 && e.shift[i] <= 30, where, "shift[", i, "] = ", e.shift[i],
                        " outside [-31, 30]");
      }
  }
}

}  // namespace qmath

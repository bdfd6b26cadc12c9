// qmath/epilogue.hpp - the fused output stage of an integer GEMM: INT32 accumulator -> int32 / int8 / uint8 / float.
//
// One definition, used by the reference GEMM, the CPU kernels and the CUDA kernels (every function that runs per
// element is QMATH_HOST_DEVICE). For the accumulator `acc` of output column n (the output channel):
//
//   v = saturate_int32(acc + bias[n])                                           (bias optional, added in int64)
//   integer output T, float multiplier:       q = clamp(round_half_even(float(v) * M[n]) + zero_point, lo, hi)
//   integer output T, fixed-point multiplier: q = clamp(MBQM(v, multiplier[n], shift[n]) + zero_point, lo, hi)
//   integer output T, no multiplier:          q = clamp(v, lo, hi)              (int32 output: the raw accumulator)
//   float output,     float multiplier:       y = clamp(float(v) * M[n] + fbias[n], float_min, float_max)
//   float output,     no multiplier:          y = clamp(float(v) + fbias[n], float_min, float_max)
//
// where lo = max(clamp_min, T's min) and hi = min(clamp_max, T's max); the multiplier arrays are read at index 0
// for Granularity::kPerTensor. MBQM is multiply_by_quantized_multiplier with the chosen rounding scheme
// (FixedPointRounding::kDoubleRounding, gemmlowp: RDBPOT(SRDHM(v, multiplier), -shift) for shift <= 0). The float
// path is ONNX QLinearMatMul's. The float bias fbias (with_float_bias, float outputs only, optional) is added after
// the multiplier with two roundings: f32(f32(float(v) * M[n]) + fbias[n]), never a fused multiply-add (host code
// needs -ffp-contract=off, QMATH_STRICT_FP; device code uses __fmul_rn / __fadd_rn). That is ONNX Runtime's
// MatMulIntegerToFloat / DynamicQuantizeMatMul output (MLAS's scale-bias output processor: multiply, then add) and
// PyTorch's dynamic quantized Linear (FBGEMM and qnnpack); docs/cpu-gemm.md, dynamic quantization.
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

// Whether a stage's parameters are one value for the whole output or one per output column n (the output channel).
enum class Granularity { kPerTensor, kPerChannel };

// The multiplier stage of an epilogue.
enum class Scaling {
  kNone,                  // no multiplier: the accumulator (+ bias) itself
  kFloatMultiplier,       // float multiplier M = s_a * s_b / s_out (or s_a * s_b for a float output)
  kFixedPointMultiplier,  // Q31 multiplier and shift, e.g. from quantize_multiplier(M)
};

// The output stage of an integer GEMM, built from named stages (applied in this order):
//
//   Epilogue::accumulator()                          v = acc
//     .with_bias(bias)                               v = saturate_int32(acc + bias[n])         (optional)
//     .with_float_bias(fbias)                        y = f32(y + fbias[n]), after the multiplier (float output)
//   Epilogue::float_multiplier(m, granularity)       q = round_half_even(float(v) * m[n])       (or one multiplier)
//   Epilogue::fixed_point_multiplier(m, s, g, r)     q = MBQM(v, m[n], s[n]) with rounding scheme r
//     .with_output_zero_point(zp)                    q += zp                                    (needs a multiplier)
//     .with_clamp(lo, hi) / .with_float_clamp(lo, hi) activation bounds, in the output's own domain
//
// See the file comment for the exact formula per output type. The factories and with_* functions reject a null
// array, a zero point without a multiplier stage and an empty clamp when they are called (qmath::error); what needs
// the output type or the column count (a fixed-point multiplier on a float output, a zero point outside the output
// type, the array contents) is checked by validate_epilogue, which every GEMM runs once at its entry. An Epilogue
// only refers to its arrays: they must stay alive, in memory the executing code reads (host memory for CPU GEMMs,
// device memory for CUDA kernels; with_arrays() re-points a host-built epilogue at device copies). Trivially
// copyable, so it travels to kernels by value.
class Epilogue {
 public:
  // The raw accumulator (int32 output), float(acc) for a float output, clamped to the output type.
  Epilogue() = default;
  static Epilogue accumulator() { return Epilogue(); }

  // q = round_half_even(float(v) * multiplier[n]); per tensor, multiplier[0] serves every column.
  static Epilogue float_multiplier(const float* multiplier, Granularity granularity = Granularity::kPerTensor) {
    detail::require(multiplier != nullptr, "Epilogue::float_multiplier", "null multiplier array");
    Epilogue e;
    e.scaling_ = Scaling::kFloatMultiplier;
    e.per_channel_ = granularity == Granularity::kPerChannel;
    e.float_multiplier_ = multiplier;
    return e;
  }

  // q = multiply_by_quantized_multiplier(v, multiplier[n], shift[n], rounding) (qmath/fixed_point.hpp): Q31
  // multipliers in [0, 2^31 - 1], shifts in [-31, 30] (checked by validate_epilogue). Integer outputs only.
  static Epilogue fixed_point_multiplier(const std::int32_t* multiplier, const std::int32_t* shift,
                                         Granularity granularity = Granularity::kPerTensor,
                                         FixedPointRounding rounding = FixedPointRounding::kDoubleRounding) {
    detail::require(multiplier != nullptr && shift != nullptr, "Epilogue::fixed_point_multiplier",
                    "null multiplier or shift array");
    Epilogue e;
    e.scaling_ = Scaling::kFixedPointMultiplier;
    e.per_channel_ = granularity == Granularity::kPerChannel;
    e.fixed_point_multiplier_ = multiplier;
    e.shift_ = shift;
    e.rounding_ = rounding;
    return e;
  }

  // Adds bias[n] (one per output column) to the accumulator in int64, saturating to int32, before the multiplier.
  Epilogue with_bias(const std::int32_t* bias) const {
    detail::require(bias != nullptr, "Epilogue::with_bias", "null bias array");
    Epilogue e = *this;
    e.bias_ = bias;
    return e;
  }

  // Float outputs only (validate_epilogue refuses it for an integer output): adds fbias[n] (one per output column,
  // finite) to the float result after the multiplier, rounding the product and the sum separately (no FMA).
  Epilogue with_float_bias(const float* fbias) const {
    detail::require(fbias != nullptr, "Epilogue::with_float_bias", "null float bias array");
    Epilogue e = *this;
    e.float_bias_ = fbias;
    return e;
  }

  // Adds the output zero point after the multiplier (integer outputs; a float output ignores it).
  Epilogue with_output_zero_point(std::int32_t zero_point) const {
    detail::require(scaling_ != Scaling::kNone || zero_point == 0, "Epilogue::with_output_zero_point",
                    "an output zero point needs a multiplier stage (float_multiplier or fixed_point_multiplier)");
    Epilogue e = *this;
    e.output_zero_point_ = zero_point;
    return e;
  }

  // Integer outputs: q is clamped to [lo, hi] intersected with the output type's range (after the zero point).
  Epilogue with_clamp(std::int32_t lo, std::int32_t hi) const {
    detail::require(lo <= hi, "Epilogue::with_clamp", "clamp_min ", lo, " > clamp_max ", hi);
    Epilogue e = *this;
    e.clamp_min_ = lo;
    e.clamp_max_ = hi;
    return e;
  }
  Epilogue with_clamp(QuantRange r) const { return with_clamp(r.qmin, r.qmax); }

  // Float outputs: y is clamped to [lo, hi] (either may be infinite).
  Epilogue with_float_clamp(float lo, float hi) const {
    detail::require(!(lo != lo) && !(hi != hi), "Epilogue::with_float_clamp", "bound is NaN");
    detail::require(lo <= hi, "Epilogue::with_float_clamp", "float clamp is empty: ", lo, " > ", hi);
    Epilogue e = *this;
    e.float_clamp_min_ = lo;
    e.float_clamp_max_ = hi;
    return e;
  }

  // The same stages reading other copies of their arrays (e.g. device copies of host arrays): each pointer
  // replaces the current one of its stage; a stage that exists needs a non-null pointer, one that does not ignores
  // it.
  Epilogue with_arrays(const std::int32_t* bias, const float* float_multiplier,
                       const std::int32_t* fixed_point_multiplier, const std::int32_t* shift,
                       const float* float_bias = nullptr) const {
    const char* where = "Epilogue::with_arrays";
    Epilogue e = *this;
    if (float_bias_) {
      detail::require(float_bias != nullptr, where, "null float bias array");
      e.float_bias_ = float_bias;
    }
    if (bias_) {
      detail::require(bias != nullptr, where, "null bias array");
      e.bias_ = bias;
    }
    if (scaling_ == Scaling::kFloatMultiplier) {
      detail::require(float_multiplier != nullptr, where, "null float multiplier array");
      e.float_multiplier_ = float_multiplier;
    } else if (scaling_ == Scaling::kFixedPointMultiplier) {
      detail::require(fixed_point_multiplier != nullptr && shift != nullptr, where, "null multiplier or shift array");
      e.fixed_point_multiplier_ = fixed_point_multiplier;
      e.shift_ = shift;
    }
    return e;
  }

  QMATH_HOST_DEVICE const std::int32_t* bias() const { return bias_; }
  QMATH_HOST_DEVICE const float* float_bias() const { return float_bias_; }
  QMATH_HOST_DEVICE Scaling scaling() const { return scaling_; }
  QMATH_HOST_DEVICE bool per_channel() const { return per_channel_; }
  QMATH_HOST_DEVICE const float* float_multipliers() const { return float_multiplier_; }
  QMATH_HOST_DEVICE const std::int32_t* fixed_point_multipliers() const { return fixed_point_multiplier_; }
  QMATH_HOST_DEVICE const std::int32_t* shifts() const { return shift_; }
  QMATH_HOST_DEVICE FixedPointRounding rounding() const { return rounding_; }
  QMATH_HOST_DEVICE std::int32_t output_zero_point() const { return output_zero_point_; }
  QMATH_HOST_DEVICE std::int32_t clamp_min() const { return clamp_min_; }
  QMATH_HOST_DEVICE std::int32_t clamp_max() const { return clamp_max_; }
  QMATH_HOST_DEVICE float float_clamp_min() const { return float_clamp_min_; }
  QMATH_HOST_DEVICE float float_clamp_max() const { return float_clamp_max_; }
  // The multiplier stage's column for output column n (n itself per channel, 0 per tensor).
  QMATH_HOST_DEVICE int channel(int n) const { return per_channel_ ? n : 0; }

 private:
  const std::int32_t* bias_ = nullptr;
  Scaling scaling_ = Scaling::kNone;
  bool per_channel_ = false;
  const float* float_multiplier_ = nullptr;
  const std::int32_t* fixed_point_multiplier_ = nullptr;
  const std::int32_t* shift_ = nullptr;
  const float* float_bias_ = nullptr;
  FixedPointRounding rounding_ = FixedPointRounding::kDoubleRounding;
  std::int32_t output_zero_point_ = 0;
  std::int32_t clamp_min_ = INT32_MIN;
  std::int32_t clamp_max_ = INT32_MAX;
  float float_clamp_min_ = -std::numeric_limits<float>::infinity();
  float float_clamp_max_ = std::numeric_limits<float>::infinity();
};

// a + b and a * b rounded to nearest even, each on its own: never contracted into a fused multiply-add with a
// neighbouring operation (nvcc contracts device code by default; host code relies on -ffp-contract=off).
QMATH_HOST_DEVICE float add_f32_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
QMATH_HOST_DEVICE float mul_f32_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

// Applies the epilogue to the accumulator of output column n.
template <class OutT>
QMATH_HOST_DEVICE OutT apply_epilogue(const Epilogue& e, std::int32_t acc, int n) {
  const std::int32_t v = e.bias() ? saturate_to_int32(static_cast<std::int64_t>(acc) + e.bias()[n]) : acc;
  const int ch = e.channel(n);
  if constexpr (std::is_same<OutT, float>::value) {
    float y = static_cast<float>(v);
    if (e.scaling() == Scaling::kFloatMultiplier) y = mul_f32_rn(y, e.float_multipliers()[ch]);
    if (e.float_bias()) y = add_f32_rn(y, e.float_bias()[n]);
    y = y < e.float_clamp_min() ? e.float_clamp_min() : y;
    y = y > e.float_clamp_max() ? e.float_clamp_max() : y;
    return y;
  } else {
    const QuantRange t = full_range<OutT>();
    const QuantRange r{e.clamp_min() > t.qmin ? e.clamp_min() : t.qmin, e.clamp_max() < t.qmax ? e.clamp_max() : t.qmax};
    switch (e.scaling()) {
      case Scaling::kFloatMultiplier:
        return static_cast<OutT>(requantize_float(v, e.float_multipliers()[ch], e.output_zero_point(), r));
      case Scaling::kFixedPointMultiplier:
        return static_cast<OutT>(requantize_fixed_point(v, e.fixed_point_multipliers()[ch], e.shifts()[ch],
                                                        e.output_zero_point(), r, e.rounding()));
      case Scaling::kNone:
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

// Validation of an epilogue for output type OutT and n output columns, run once by every GEMM entry: throws
// qmath::error naming the problem (a fixed-point multiplier on a float output, a float bias on an integer output, a
// zero point outside OutT, a clamp that misses OutT's range, and, with arrays_on_host, a non-finite float multiplier
// or float bias, a negative fixed-point multiplier or a shift outside [-31, 30]). CUDA launchers pass arrays_on_host
// = false: device arrays are not read.
template <class OutT>
void validate_epilogue(const Epilogue& e, int n, bool arrays_on_host = true) {
  const char* where = "validate_epilogue";
  const int count = e.per_channel() ? n : 1;
  if constexpr (std::is_same<OutT, float>::value) {
    detail::require(e.scaling() != Scaling::kFixedPointMultiplier, where,
                    "a float output takes no fixed-point multiplier (use float_multiplier)");
  } else {
    detail::require(e.float_bias() == nullptr, where,
                    "a float bias (with_float_bias) needs a float output; an integer output takes an int32 bias "
                    "(with_bias)");
    const QuantRange t = full_range<OutT>();
    detail::require(e.output_zero_point() >= t.qmin && e.output_zero_point() <= t.qmax, where, "output zero point ",
                    e.output_zero_point(), " outside the output type's range [", t.qmin, ", ", t.qmax, "]");
    detail::require(e.clamp_min() <= t.qmax && e.clamp_max() >= t.qmin, where, "clamp [", e.clamp_min(), ", ",
                    e.clamp_max(), "] does not meet the output type's range");
  }
  if (!arrays_on_host) return;
  if (e.float_bias()) {
    for (int i = 0; i < n; ++i)
      detail::require(std::isfinite(e.float_bias()[i]), where, "float bias[", i, "] is not finite (", e.float_bias()[i],
                      ")");
  }
  if (e.scaling() == Scaling::kFloatMultiplier) {
    for (int i = 0; i < count; ++i)
      detail::require(std::isfinite(e.float_multipliers()[i]), where, "float multiplier[", i, "] is not finite (",
                      e.float_multipliers()[i], ")");
  } else if (e.scaling() == Scaling::kFixedPointMultiplier) {
    for (int i = 0; i < count; ++i) {
      detail::require(e.fixed_point_multipliers()[i] >= 0, where, "fixed-point multiplier[", i, "] is negative (",
                      e.fixed_point_multipliers()[i], ")");
      detail::require(e.shifts()[i] >= -31 && e.shifts()[i] <= 30, where, "shift[", i, "] = ", e.shifts()[i],
                      " outside [-31, 30]");
    }
  }
}

}  // namespace qmath

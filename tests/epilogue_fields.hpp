// tests/epilogue_fields.hpp - the parameters of a qmath::Epilogue as plain fields, for table-driven tests that vary
// one stage at a time. Converts to a qmath::Epilogue through its public factories and with_* stages only, so every
// test epilogue is one a user could build.
#pragma once

#include <cstdint>
#include <limits>

#include <qmath/epilogue.hpp>

namespace qtest {

struct EpilogueFields {
  const std::int32_t* bias = nullptr;
  qmath::Scaling scaling = qmath::Scaling::kNone;
  bool per_channel = false;
  const float* float_multiplier = nullptr;
  const std::int32_t* fixed_point_multiplier = nullptr;
  const std::int32_t* shift = nullptr;
  const float* float_bias = nullptr;  // with_float_bias (float outputs)
  qmath::FixedPointRounding rounding = qmath::FixedPointRounding::kDoubleRounding;
  std::int32_t output_zero_point = 0;
  std::int32_t clamp_min = INT32_MIN;
  std::int32_t clamp_max = INT32_MAX;
  float float_clamp_min = -std::numeric_limits<float>::infinity();
  float float_clamp_max = std::numeric_limits<float>::infinity();

  qmath::Epilogue build() const {
    const qmath::Granularity g = per_channel ? qmath::Granularity::kPerChannel : qmath::Granularity::kPerTensor;
    qmath::Epilogue e;
    if (scaling == qmath::Scaling::kFloatMultiplier)
      e = qmath::Epilogue::float_multiplier(float_multiplier, g);
    else if (scaling == qmath::Scaling::kFixedPointMultiplier)
      e = qmath::Epilogue::fixed_point_multiplier(fixed_point_multiplier, shift, g, rounding);
    if (bias) e = e.with_bias(bias);
    if (float_bias) e = e.with_float_bias(float_bias);
    e = e.with_output_zero_point(output_zero_point);  // throws for a non-zero point without a multiplier
    return e.with_clamp(clamp_min, clamp_max).with_float_clamp(float_clamp_min, float_clamp_max);
  }
  operator qmath::Epilogue() const { return build(); }  // NOLINT: implicit on purpose, tables pass fields
};

}  // namespace qtest

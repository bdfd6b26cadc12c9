#pragma once
#include <cstdint>
// One epilogue stage for the comparison: int8 output, per-channel float multiplier, bias, zero point:
//   q = clamp(round_half_even(float(sat_add(acc, bias[n])) * scale[n]) + zp, qmin, qmax)
// expressed with the bounds lo = qmin - zp, hi = qmax - zp as in output_bounds.
struct Stage { const std::int32_t* bias; const float* scale; std::int32_t zp, lo, hi; };

// qmath/calibration/detail/histogram_bin_lanes-inl.hpp - histogram_bin for shift-0 layouts, written once over the
// lane primitives (qmath/detail/lanes.hpp).
//
// No include guard: included into the namespace of a lane backend (qmath::detail::lanes_<isa>, between
// QMATH_LANES_PUSH_TARGET / QMATH_LANES_POP_TARGET) after qmath/calibration/histogram_bin.hpp and that backend's
// header. Used by the AVX-512 fill kernel (histogram_fill_avx512.hpp); tests/calibration/histogram_bin_lanes_test.cpp
// runs it on every backend.
//
// For a layout with shift 0 and finite v, the bins of histogram_bin(v, r), with the same correctly rounded steps:
//   absolute: trunc(min(|v| * inv_width, bins - 1)) (the product is >= 0 and bins - 1 an integer, so
//             min-then-truncate is floor-then-clamp);
//   signed:   p = v * inv_width clamped to the integer bounds [-zero_bin, bins - 1 - zero_bin] (so floor commutes
//             with the clamp), truncated, minus 1 where truncation rounded up (clamped p < trunc) or where a negative
//             v underflowed to p = 0 (the rule's p = -0.5), plus zero_bin.
// NaN and infinities get an index inside [0, bins) (callers discard the counts of such a batch): +-inf clamps to an
// end; a NaN product gives the upper bound where min_f32 returns its second operand for NaN (x86) and 0 where it
// returns NaN (NEON, whose truncation maps NaN to 0; no rounded-up or underflow lane for NaN).

// The per-layout constants of histogram_bin_lanes.
struct HistogramBinLanes {
  F32 inv_width, hi, lo, zero;
  I32 zero_bin;
};

inline HistogramBinLanes histogram_bin_constants(HistogramRange r) {
  return {splat_f32(r.inv_width), splat_f32(static_cast<float>(r.bins - 1 - r.zero_bin)),
          splat_f32(static_cast<float>(-r.zero_bin)), splat_f32(0.0f), splat_i32(r.zero_bin)};
}

// The bins of kLanes values under a shift-0 layout (kAbsolute: r.absolute, whose zero_bin is 0).
template <bool kAbsolute>
inline I32 histogram_bin_lanes(F32 v, const HistogramBinLanes& c) {
  if (kAbsolute) return trunc_i32(min_f32(mul_f32(abs_f32(v), c.inv_width), c.hi));
  const F32 p = mul_f32(v, c.inv_width);
  const F32 clamped = max_f32(min_f32(p, c.hi), c.lo);
  const I32 t = trunc_i32(clamped);
  const MF rounded_up = lt_f32(clamped, to_f32(t));
  const MF underflow = and_mf(eq_f32(p, c.zero), lt_f32(v, c.zero));
  return decrement_where(add_i32(t, c.zero_bin), or_mf(rounded_up, underflow));
}

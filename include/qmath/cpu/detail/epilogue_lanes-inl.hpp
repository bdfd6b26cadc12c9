// qmath/cpu/detail/epilogue_lanes-inl.hpp - the GEMM epilogue written once over the lane primitives.
//
// No include guard: cpu/detail/epilogue_lanes.hpp includes this file once per backend, into the namespace that holds
// that backend's primitives (qmath::detail::lanes_*), between QMATH_LANES_PUSH_TARGET / QMATH_LANES_POP_TARGET.
// Everything it needs is included there first.
//
// Bit-exact with apply_epilogue (qmath/epilogue.hpp), stage by stage:
// - compensation: wrapping adds (epilogue_scalar's wrap_add);
// - bias: add_saturate_i32 is saturate_to_int32(int64(acc) + bias);
// - fixed-point multiplier: multiply_by_quantized_multiplier below is fixed_point.hpp's, primitive for primitive;
//   then clamp(MBQM + zp, qmin, qmax) == clamp(MBQM, lo, hi) + zp (output_bounds);
// - float multiplier, int8 / uint8: round_half_even(float(v) * M), clamped in float to [lo, hi] (exact floats: the
//   bounds are small integers), truncated exactly, + zp: round_add_saturate's result (NaN cannot occur: M is finite,
//   validate_epilogue); int32 output: add_saturate_integral;
// - float output: float(v) (* M) (+ fbias, a separate add_f32: two roundings, as apply_epilogue's mul_f32_rn /
//   add_f32_rn; the lane primitives are single instructions, never contracted under -ffp-contract=off), then the
//   ternary clamps of apply_epilogue as compare-and-select.
// Columns past the last full vector run epilogue_scalar.

// multiply_by_quantized_multiplier (fixed_point.hpp) per lane: shift in [-31, 30], multiplier >= 0.
inline I32 multiply_by_quantized_multiplier_lanes(I32 x, I32 multiplier, I32 shift, FixedPointRounding rounding) {
  if (rounding == FixedPointRounding::kSingleRounding)
    return mul_round_shift_i32(x, multiplier, sub_i32(splat_i32(31), shift));
  const I32 zero = splat_i32(0);
  const I32 left = max_i32(shift, zero), right = max_i32(sub_i32(zero, shift), zero);
  return rounding_divide_by_pot_i32(srdhm_i32(shift_left_saturate_i32(x, left), multiplier), right);
}

// The epilogue function contract of cpu/detail/kernel_scalar.hpp (epilogue_scalar). kStream: full vectors of
// 4-byte outputs (int32, float) whose address is aligned to the vector size go through stream_*; the caller issues
// the store fence its ISA needs before C is published.
template <class TC, bool kStream>
inline void epilogue_lanes(const Epilogue& e, const std::int32_t* dot, int ld, const std::int32_t* row_comp, int rows,
                           const std::int32_t* col_comp, int n0, int cols, TC* out, std::int64_t ldc) {
  constexpr bool kFloatOut = std::is_same<TC, float>::value;
  constexpr bool kInt32Out = std::is_same<TC, std::int32_t>::value;
  constexpr std::uintptr_t kAlign = sizeof(I32) - 1;
  const bool scaled = e.scaling() == Scaling::kFloatMultiplier;
  const bool fixed = e.scaling() == Scaling::kFixedPointMultiplier;
  const bool per_channel = e.per_channel();
  const FixedPointRounding rounding = e.rounding();
  const std::int32_t zp = e.output_zero_point();
  // Column pointers held in locals: stores through a byte output may alias anything, e included.
  const std::int32_t* const bias = e.bias() ? e.bias() + n0 : nullptr;
  const float* const float_bias = kFloatOut && e.float_bias() ? e.float_bias() + n0 : nullptr;
  const float* const scales = scaled ? e.float_multipliers() + n0 : nullptr;
  const std::int32_t* const multipliers = fixed ? e.fixed_point_multipliers() + n0 : nullptr;
  const std::int32_t* const shifts = fixed ? e.shifts() + n0 : nullptr;
  const F32 scale_all = splat_f32(scaled ? e.float_multipliers()[0] : 1.0f);
  const I32 multiplier_all = splat_i32(fixed ? e.fixed_point_multipliers()[0] : 0);
  const I32 shift_all = splat_i32(fixed ? e.shifts()[0] : 0);
  const cpu::detail::OutputBounds ob =
      cpu::detail::output_bounds<typename std::conditional<kFloatOut, std::int32_t, TC>::type>(e);
  const F32 float_lo = splat_f32(e.float_clamp_min()), float_hi = splat_f32(e.float_clamp_max());
  const F32 lo_f = splat_f32(static_cast<float>(ob.lo)), hi_f = splat_f32(static_cast<float>(ob.hi));
  const I32 lo = splat_i32(ob.lo), hi = splat_i32(ob.hi), qmin = splat_i32(ob.qmin), qmax = splat_i32(ob.qmax);
  const I32 zp_v = splat_i32(zp);
  for (int r = 0; r < rows; ++r) {
    const I32 rc = splat_i32(row_comp[r]);
    const std::int32_t* drow = dot + std::int64_t(r) * ld;
    TC* orow = out + std::int64_t(r) * ldc;
    int j = 0;
    for (; j + kLanes <= cols; j += kLanes) {
      const bool stream = kStream && (reinterpret_cast<std::uintptr_t>(orow + j) & kAlign) == 0;
      I32 v = add_i32(add_i32(load_i32(drow + j), rc), load_i32(col_comp + j));
      if (bias) v = add_saturate_i32(v, load_i32(bias + j));
      const F32 scale = scaled && per_channel ? load_f32(scales + j) : scale_all;
      if constexpr (kFloatOut) {
        F32 y = to_f32(v);
        if (scaled) y = mul_f32(y, scale);
        if (float_bias) y = add_f32(y, load_f32(float_bias + j));
        y = select_f32(lt_f32(y, float_lo), float_lo, y);
        y = select_f32(gt_f32(y, float_hi), float_hi, y);
        if (stream)
          stream_f32(orow + j, y);
        else
          store_f32(orow + j, y);
      } else {
        if (scaled) {
          const F32 x = round_even_f32(mul_f32(to_f32(v), scale));
          if constexpr (kInt32Out)
            v = add_saturate_integral(x, zp, ob.qmin, ob.qmax);
          else
            v = add_i32(trunc_i32(min_f32(max_f32(x, lo_f), hi_f)), zp_v);
        } else if (fixed) {
          const I32 multiplier = per_channel ? load_i32(multipliers + j) : multiplier_all;
          const I32 shift = per_channel ? load_i32(shifts + j) : shift_all;
          v = multiply_by_quantized_multiplier_lanes(v, multiplier, shift, rounding);
          v = add_i32(min_i32(max_i32(v, lo), hi), zp_v);
        } else {
          v = min_i32(max_i32(v, qmin), qmax);
        }
        if constexpr (kInt32Out) {
          if (stream)
            stream_i32(orow + j, v);
          else
            store_i32(orow + j, v);
        } else {
          store_narrow(orow + j, v);
        }
      }
    }
    if (j < cols)
      cpu::detail::epilogue_scalar<TC>(e, drow + j, ld, row_comp + r, 1, col_comp + j, n0 + j, cols - j, orow + j, ldc);
  }
}

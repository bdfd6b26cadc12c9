// qmath/detail/quantize_lanes-inl.hpp - quantize_array / dequantize_array for int8 and uint8 over the lane primitives
// (detail/lanes.hpp), written once.
//
// No include guard: detail/quantize_lanes.hpp includes this file once per lane backend, inside that backend's
// namespace (and its target region), so the unqualified primitive calls resolve to that backend.
//
// quantize_lanes: per lane, v = x / operand (kDivide: DIV, correctly rounded) or x * operand (the multiply rules:
// one product, never fused), operand = rule_operand(p, range, rule) computed once; a NaN v becomes 0; v is rounded
// to an integral float by `mode` (below); clamped in float to [qmin - zp, qmax - zp] (exact floats, |qmin - zp| <=
// 2^9); converted exactly to int32; zp added; narrowed to bytes. Every step is exact after the division or product,
// so each lane equals round_add_saturate(grid_value(x, operand, rule), zp, range, mode), the portable loop's value.
// The remainder (< kLanes elements) runs that loop's formula. No reciprocal fast path: every block divides.
// dequantize_lanes: x = scale * float(q - zp), the difference exact in int32, one conversion, one product.

// round_to_integral(v, M) for non-NaN lanes. Half away from zero and half up are built from the truncation t and the
// exact fraction |v - t| as rounding.hpp builds them (for |v| >= 2^23 and +-inf, t = v and the fraction is 0 or NaN,
// which no compare accepts: t is kept).
template <Round M>
inline F32 quantize_round(F32 v) {
  if constexpr (M == Round::kHalfToEven) {
    return round_even_f32(v);
  } else if constexpr (M == Round::kTowardZero) {
    return trunc_f32(v);
  } else {
    const F32 zero = splat_f32(0.0f), half = splat_f32(0.5f);
    const F32 t = trunc_f32(v);
    const F32 frac = abs_f32(sub_f32(v, t));
    const MF negative = lt_f32(v, zero);
    const F32 away = add_f32(t, select_f32(negative, splat_f32(-1.0f), splat_f32(1.0f)));
    const MF above = gt_f32(frac, half), tie = eq_f32(frac, half);
    MF up;
    if constexpr (M == Round::kHalfAwayFromZero) {
      up = or_mf(above, tie);
    } else {  // kHalfUp: ties go up only for v >= 0 (v is no NaN here: v >= 0 is "not below 0")
      up = or_mf(above, and_mf(tie, or_mf(gt_f32(v, zero), eq_f32(v, zero))));
    }
    return select_f32(up, away, t);
  }
}

template <Round M, bool kMultiply, class T>
inline void quantize_lanes_loop(const float* x, std::size_t n, T* q, float operand, std::int32_t zero_point,
                                QuantRange range) {
  const F32 op = splat_f32(operand), zero = splat_f32(0.0f);
  const F32 lo = splat_f32(static_cast<float>(range.qmin - zero_point));
  const F32 hi = splat_f32(static_cast<float>(range.qmax - zero_point));
  const I32 zp = splat_i32(zero_point);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const F32 xv = load_f32(x + i);
    F32 v = kMultiply ? mul_f32(xv, op) : div_f32(xv, op);
    v = select_f32(eq_f32(v, v), v, zero);  // NaN -> 0
    const F32 r = min_f32(max_f32(quantize_round<M>(v), lo), hi);
    store_narrow(q + i, add_i32(trunc_i32(r), zp));
  }
  // Both multiply rules are x * operand (grid_value).
  constexpr QuantizeRule kRule = kMultiply ? QuantizeRule::kMultiplyReciprocal : QuantizeRule::kDivide;
  for (; i < n; ++i) q[i] = static_cast<T>(quantize_value_with(x[i], operand, zero_point, range, M, kRule));
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller).
template <class T>
inline void quantize_lanes(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode,
                           QuantizeRule rule) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const float operand = rule_operand(p, range, rule);
  with_round(mode, [&](auto m) {
    if (rule == QuantizeRule::kDivide)
      quantize_lanes_loop<decltype(m)::value, false>(x, n, q, operand, p.zero_point, range);
    else
      quantize_lanes_loop<decltype(m)::value, true>(x, n, q, operand, p.zero_point, range);
  });
}

// dequantize_array for T = int8 / uint8.
template <class T>
inline void dequantize_lanes(const T* q, std::size_t n, float* x, QuantParams p) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const F32 scale = splat_f32(p.scale);
  const I32 zp = splat_i32(p.zero_point);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store_f32(x + i, mul_f32(scale, to_f32(sub_i32(load_widen_i32(q + i), zp))));
  for (; i < n; ++i) x[i] = dequantize_value(q[i], p);
}

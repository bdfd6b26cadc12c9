// qmath/detail/quantize_lanes-inl.hpp - quantize_array / dequantize_array for int8 and uint8 over the lane primitives
// (detail/lanes.hpp), written once.
//
// No include guard: detail/quantize_lanes.hpp includes this file once per lane backend, inside that backend's
// namespace (and its target region), so the unqualified primitive calls resolve to that backend.
//
// quantize_lanes: blocks of 4 * kLanes elements, narrowed together (store_narrow4). Two paths give the same bytes:
//  * the exact path, per lane: v = x / operand (kDivide: div_f32, correctly rounded) or x * operand (the multiply
//    rules: one product, never fused), operand = rule_operand(p, range, rule) computed once; a NaN v becomes 0; v is
//    rounded to an integral float by `mode` (quantize_round); clamped in float to [qmin - zp, qmax - zp] (exact
//    floats, |qmin - zp| <= 2^9); converted exactly to int32; zp added. Every step is exact after the division or
//    product, so each lane equals round_add_saturate(grid_value(x, operand, rule), zp, range, mode), the portable
//    loop's value. The multiply rules always run it.
//  * kDivide's reciprocal fast path (below): a product by RN(1 / scale) instead of the division, accepted for a block
//    only where it provably gives the exact path's result; otherwise the block runs the exact path.
// The remainder (< 4 * kLanes elements) runs the exact path per vector and the portable loop's formula per element.
// dequantize_lanes: x = scale * float(q - zp), the difference exact in int32, one conversion, one product.
//
// The fast path. Let v = x / scale (exact real), Q = RN(v) the quotient the reference rounds, r = RN(1 / scale)
// (computed once; a normal float because scale is in [2^-125, 2^125], fast_path_scale(); any r with
// |r - 1/scale| <= u / scale would do) and t = RN(x * r), u = 2^-24. With r = (1 / scale)(1 + d1), t = x r (1 + d2),
// |d1|, |d2| <= u:
//   |t - v| <= |v| (2u + u^2),   |Q - v| <= |v| u,   so  |t - Q| <= |v| (3u + u^2)   (+ 2^-149 if t or Q is subnormal).
// The fast path clamps t to [lo', hi'] = [qmin - zp - 1/4, qmax - zp + 1/4] (clamp_f32: a NaN t stays NaN and fails
// the check below, sending its block to the exact path), so on lanes that the clamp leaves alone
// |t| <= B = max(-lo', hi') <= 383.25 and |t - Q| <= B * 3u * (1 + 4u) + 2^-149 < B * 2^-22.4 < m := B * 2^-21
// (margin > 2.6x; fast_bounds() in detail/quantize_simd_common.hpp computes lo', hi' and 1/2 - m exactly).
// The integer a mode produces depends only on where the value lies relative to that mode's decision boundaries:
// the half-integers k + 1/2 for the three round-to-nearest modes, the non-zero integers for toward zero. If t's
// distance to the nearest boundary exceeds m, then t and Q lie strictly inside the same gap between boundaries,
// neither sits on a boundary, and round(t) == round(Q) in that mode; for the nearest modes there is then no tie, so
// half to even, half away from zero and half up all equal RNE(t), which is what the fast path computes for all three.
// Checks, exact in float: nearest modes |t - RNE(t)| < 1/2 - m (t - RNE(t) is exact: |t| <= 384, the difference is a
// multiple of t's ulp no larger than 1/2); toward zero, with w = max(|t|, 1/2) - 1/2 (exact), the same test on w (the
// integer boundaries k >= 1 of |t| are the half-integer boundaries of w, and |t| < 1/2 is at least 1/2 away from
// every non-zero integer). A NaN distance fails (quantize_fast_block).
// Lanes the clamp moved: if t > hi' (>= 1/4) then Q >= v (1 - u) >= t (1 - u) / (1 + u)^2 > t (1 - 3u)
// > hi' - 2^-13 > hi = qmax - zp, so round(Q) >= hi in every mode and the reference saturates to qmax; the fast path
// rounds (or truncates) hi' = hi + 1/4 to hi (hi >= 0: the zero point lies in the range), the same, and hi' passes the
// check (it is at least 1/4 from every boundary). Symmetrically below lo'. This includes overflow: if x * r overflows
// to inf then |v| >= 2^127 and Q is huge or inf; if Q overflows then |x * r| > 2^127: either way both lie far beyond
// hi' (or below lo') and saturate alike. Infinite x gives t = Q = +-inf. Tiny quotients (|t| < 1/4, subnormal
// included) are 1/4 or more from every boundary and round to 0 both ways.
// A block is stored from the fast path only if all its lanes pass (all_mf); otherwise it is recomputed by the exact
// path. Random data rarely fails (probability 2m per lane: m = 2^-14 for int8 with zero point 0); inputs at or within
// m of ties (e.g. x = (k + 1/2) * scale exactly) fail every block: the loop then backs off (ProbeSchedule: after the
// j-th failed probe in a row it runs 2^j - 1 further blocks, up to about 4096 elements, by the exact path before
// probing again), so adversarial input runs at about the exact path's speed.

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

// The exact path's constants: the operand (scale for kDivide, rule_operand() for the multiply rules), the clamp
// [qmin - zp, qmax - zp] and the zero point.
struct QuantizeExactLanes {
  F32 operand, lo, hi;
  I32 zero_point;
};

inline QuantizeExactLanes quantize_exact_constants(float operand, std::int32_t zero_point, QuantRange range) {
  return {splat_f32(operand), splat_f32(static_cast<float>(range.qmin - zero_point)),
          splat_f32(static_cast<float>(range.qmax - zero_point)), splat_i32(zero_point)};
}

// One vector by the exact path: the quantized int32 lanes, inside [qmin, qmax].
template <Round M, bool kMultiply>
inline I32 quantize_exact_vector(F32 x, const QuantizeExactLanes& c) {
  F32 v = kMultiply ? mul_f32(x, c.operand) : div_f32(x, c.operand);
  v = select_zero_f32(eq_f32(v, v), v);  // NaN -> 0
  const F32 r = min_f32(max_f32(quantize_round<M>(v), c.lo), c.hi);
  return add_i32(trunc_i32(r), c.zero_point);
}

template <Round M, bool kMultiply, class T>
inline void quantize_exact_block(const float* x, T* q, const QuantizeExactLanes& c) {
  store_narrow4(q, quantize_exact_vector<M, kMultiply>(load_f32(x), c),
                quantize_exact_vector<M, kMultiply>(load_f32(x + kLanes), c),
                quantize_exact_vector<M, kMultiply>(load_f32(x + 2 * kLanes), c),
                quantize_exact_vector<M, kMultiply>(load_f32(x + 3 * kLanes), c));
}

// The fast path's constants (header comment): r = RN(1 / scale), the clamp [lo', hi'], the bit pattern of the check's
// bound 1/2 - m, the rounding constant 1.5 * 2^23 and 0x4B400000 - zp (its bit pattern's offset, zero point folded
// in), and for toward zero the clamp [1/2, B] that forms max(|t|, 1/2) while keeping a NaN.
struct QuantizeFastLanes {
  F32 reciprocal, lo, hi, magic, half, bound;
  I32 limit_bits, magic_minus_zero_point, zero_point;
};

inline QuantizeFastLanes quantize_fast_constants(QuantParams p, QuantRange range) {
  const FastBounds b = fast_bounds(p, range);
  return {splat_f32(1.0f / p.scale),
          splat_f32(b.lo),
          splat_f32(b.hi),
          splat_f32(12582912.0f),
          splat_f32(0.5f),
          splat_f32(-b.lo > b.hi ? -b.lo : b.hi),
          bits_i32(splat_f32(b.limit)),
          splat_i32(0x4B400000 - p.zero_point),
          splat_i32(p.zero_point)};
}

// One vector by the fast path. Returns the clamped t and sets `distance` to the bit pattern of |w - RNE(w)| (a
// non-negative float or a NaN), w = t for the nearest modes and max(|t|, 1/2) - 1/2 for toward zero; for the nearest
// modes `result` gets RNE(t) + zp. RNE by the rounding constant: y = w + 1.5 * 2^23 lies in [2^23, 2^24) (|w| <= 384),
// where the float spacing is 1, so y = 1.5 * 2^23 + RNE(w) exactly, y - 1.5 * 2^23 = RNE(w) exactly, and y's bit
// pattern is 0x4B400000 + RNE(w). Nothing is converted to an integer here, so a failing lane (NaN included) never is.
template <bool kTowardZero>
inline F32 quantize_fast_vector(F32 x, const QuantizeFastLanes& c, I32& distance, I32& result) {
  const F32 t = clamp_f32(mul_f32(x, c.reciprocal), c.lo, c.hi);
  const F32 w = kTowardZero ? sub_f32(clamp_f32(abs_f32(t), c.half, c.bound), c.half) : t;  // exact
  const F32 y = add_f32(w, c.magic);
  distance = bits_i32(abs_f32(sub_f32(w, sub_f32(y, c.magic))));  // exact
  if constexpr (!kTowardZero) result = sub_i32(bits_i32(y), c.magic_minus_zero_point);
  return t;
}

// 4 * kLanes elements by the fast path; returns false (storing nothing) unless every lane passes the check.
// Non-negative floats order like their bit patterns as signed integers, and a sign-cleared NaN's pattern exceeds
// every finite one's: the largest distance pattern of the block is below 1/2 - m's only if every lane passes.
template <bool kTowardZero, class T>
inline bool quantize_fast_block(const float* x, T* q, const QuantizeFastLanes& c) {
  I32 d0, d1, d2, d3, n0 = c.zero_point, n1 = n0, n2 = n0, n3 = n0;
  const F32 t0 = quantize_fast_vector<kTowardZero>(load_f32(x), c, d0, n0);
  const F32 t1 = quantize_fast_vector<kTowardZero>(load_f32(x + kLanes), c, d1, n1);
  const F32 t2 = quantize_fast_vector<kTowardZero>(load_f32(x + 2 * kLanes), c, d2, n2);
  const F32 t3 = quantize_fast_vector<kTowardZero>(load_f32(x + 3 * kLanes), c, d3, n3);
  if (!all_mf(lt_i32(max_i32(max_i32(d0, d1), max_i32(d2, d3)), c.limit_bits))) return false;
  if constexpr (kTowardZero) {
    n0 = add_i32(trunc_i32(t0), c.zero_point);
    n1 = add_i32(trunc_i32(t1), c.zero_point);
    n2 = add_i32(trunc_i32(t2), c.zero_point);
    n3 = add_i32(trunc_i32(t3), c.zero_point);
  }
  store_narrow4(q, n0, n1, n2, n3);
  return true;
}

// The remainder (< 4 * kLanes elements) by the exact path: whole vectors, then the portable loop's formula (both
// multiply rules are x * operand: grid_value).
template <Round M, bool kMultiply, class T>
inline void quantize_exact_tail(const float* x, std::size_t n, T* q, const QuantizeExactLanes& c, float operand,
                                std::int32_t zero_point, QuantRange range) {
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store_narrow(q + i, quantize_exact_vector<M, kMultiply>(load_f32(x + i), c));
  constexpr QuantizeRule kRule = kMultiply ? QuantizeRule::kMultiplyReciprocal : QuantizeRule::kDivide;
  for (; i < n; ++i) q[i] = static_cast<T>(quantize_value_with(x[i], operand, zero_point, range, M, kRule));
}

template <Round M, bool kMultiply, class T>
inline void quantize_exact_loop(const float* x, std::size_t n, T* q, float operand, std::int32_t zero_point,
                                QuantRange range) {
  const QuantizeExactLanes c = quantize_exact_constants(operand, zero_point, range);
  std::size_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) quantize_exact_block<M, kMultiply>(x + i, q + i, c);
  quantize_exact_tail<M, kMultiply>(x + i, n - i, q + i, c, operand, zero_point, range);
}

// The exact path for `blocks` blocks (a rejected one and those the back-off skips), out of line: the fast loop then
// keeps only its own constants in registers (inlined, the exact path's constants crowd them out and the fast path
// spills), and a run of rejected blocks costs one call.
template <Round M, class T>
QMATH_LANES_NOINLINE void quantize_exact_blocks(const float* x, std::size_t blocks, T* q,
                                                const QuantizeExactLanes& c) {
  for (std::size_t b = 0; b < blocks; ++b) quantize_exact_block<M, false>(x + b * 4 * kLanes, q + b * 4 * kLanes, c);
}

// kDivide with fast_path_scale(p.scale): the fast path per block, the exact path where it fails (header comment).
template <Round M, class T>
inline void quantize_fast_loop(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range) {
  constexpr std::size_t kBlock = 4 * kLanes;
  const QuantizeExactLanes c = quantize_exact_constants(p.scale, p.zero_point, range);
  const QuantizeFastLanes f = quantize_fast_constants(p, range);
  ProbeSchedule<4096 / kBlock - 1> schedule;
  std::size_t i = 0;
  while (i + kBlock <= n) {
    if (quantize_fast_block<M == Round::kTowardZero>(x + i, q + i, f)) {
      schedule.passed();
      i += kBlock;
      continue;
    }
    const std::size_t left = (n - i) / kBlock, skip = 1 + schedule.failed();
    const std::size_t blocks = skip < left ? skip : left;
    quantize_exact_blocks<M>(x + i, blocks, q + i, c);
    i += blocks * kBlock;
  }
  quantize_exact_tail<M, false>(x + i, n - i, q + i, c, p.scale, p.zero_point, range);
}

// quantize_array for T = int8 / uint8 (range inside T, parameters checked by the caller).
template <class T>
inline void quantize_lanes(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode,
                           QuantizeRule rule) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const float operand = rule_operand(p, range, rule);
  with_round(mode, [&](auto m) {
    constexpr Round kMode = decltype(m)::value;
    if (rule != QuantizeRule::kDivide)
      quantize_exact_loop<kMode, true>(x, n, q, operand, p.zero_point, range);
    else if (fast_path_scale(p.scale))
      quantize_fast_loop<kMode>(x, n, q, p, range);
    else
      quantize_exact_loop<kMode, false>(x, n, q, operand, p.zero_point, range);
  });
}

// quantize_lanes by the exact path alone (no reciprocal fast path): the fast path's fallback run on every block, for
// the tests and the benchmarks.
template <class T>
inline void quantize_lanes_exact(const float* x, std::size_t n, T* q, QuantParams p, QuantRange range, Round mode,
                                 QuantizeRule rule) {
  static_assert(sizeof(T) == 1, "int8 / uint8 only");
  const float operand = rule_operand(p, range, rule);
  with_round(mode, [&](auto m) {
    if (rule == QuantizeRule::kDivide)
      quantize_exact_loop<decltype(m)::value, false>(x, n, q, operand, p.zero_point, range);
    else
      quantize_exact_loop<decltype(m)::value, true>(x, n, q, operand, p.zero_point, range);
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

// tests/lanes_test-inl.hpp - array-level entry points of one lane backend, for tests/lanes_test.cpp.
//
// No include guard: included once per backend, into a namespace where that backend's primitives are visible
// unqualified and kName names it, between QMATH_LANES_PUSH_TARGET / QMATH_LANES_POP_TARGET for the x86 backends.
// Every array holds n elements, n a multiple of kLanes.

// out[k] = f(a[k], b[k]), one vector of lanes at a time.
template <class F>
inline void map_i32(const std::int32_t* a, const std::int32_t* b, std::int32_t* out, int n, F f) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, f(load_i32(a + i), load_i32(b + i)));
}
template <class F>
inline void map_f32(const float* a, const float* b, float* out, int n, F f) {
  for (int i = 0; i < n; i += kLanes) store_f32(out + i, f(load_f32(a + i), load_f32(b + i)));
}

inline void binary_i32(BinaryI32 op, const std::int32_t* a, const std::int32_t* b, std::int32_t* out, int n) {
  map_i32(a, b, out, n, [op](I32 x, I32 y) {
    switch (op) {
      case BinaryI32::kAdd: return add_i32(x, y);
      case BinaryI32::kSub: return sub_i32(x, y);
      case BinaryI32::kAddSaturate: return add_saturate_i32(x, y);
      case BinaryI32::kMin: return min_i32(x, y);
      case BinaryI32::kMax: return max_i32(x, y);
      case BinaryI32::kSrdhm: return srdhm_i32(x, y);
      case BinaryI32::kRoundingDivideByPot: return rounding_divide_by_pot_i32(x, y);
      case BinaryI32::kShiftLeftSaturate: return shift_left_saturate_i32(x, y);
    }
    return x;
  });
}

inline void mul_round_shift(const std::int32_t* x, const std::int32_t* m, const std::int32_t* t, std::int32_t* out,
                            int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, mul_round_shift_i32(load_i32(x + i), load_i32(m + i), load_i32(t + i)));
}

inline void convert_to_f32(const std::int32_t* a, float* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_f32(out + i, to_f32(load_i32(a + i)));
}

inline void truncate(const float* a, std::int32_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, trunc_i32(load_f32(a + i)));
}

inline void round_even(const float* a, float* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_f32(out + i, round_even_f32(load_f32(a + i)));
}

inline void binary_f32(BinaryF32 op, const float* a, const float* b, float* out, int n) {
  map_f32(a, b, out, n, [op](F32 x, F32 y) {
    switch (op) {
      case BinaryF32::kMul: return mul_f32(x, y);
      case BinaryF32::kMin: return min_f32(x, y);
      case BinaryF32::kMax: return max_f32(x, y);
      case BinaryF32::kSelectLess: return select_f32(lt_f32(x, y), x, y);
      case BinaryF32::kSelectGreater: return select_f32(gt_f32(x, y), x, y);
      case BinaryF32::kSelectLessOrEqual: return select_f32(or_mf(lt_f32(x, y), eq_f32(x, y)), x, y);
      case BinaryF32::kSelectBetween: return select_f32(and_mf(gt_f32(x, splat_f32(-1.0f)), lt_f32(x, y)), x, y);
      case BinaryF32::kAbs: return abs_f32(x);
      case BinaryF32::kSelectZero: return select_zero_f32(lt_f32(x, y), x);
    }
    return x;
  });
}

// out = decrement_where(v, a < b).
inline void decrement_where_less(const std::int32_t* v, const float* a, const float* b, std::int32_t* out, int n) {
  for (int i = 0; i < n; i += kLanes)
    store_i32(out + i, decrement_where(load_i32(v + i), lt_f32(load_f32(a + i), load_f32(b + i))));
}

inline void saturate_integral(const float* x, std::int32_t zp, std::int32_t qmin, std::int32_t qmax, std::int32_t* out,
                              int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, add_saturate_integral(load_f32(x + i), zp, qmin, qmax));
}

inline void narrow_i8(const std::int32_t* a, std::int8_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_narrow(out + i, load_i32(a + i));
}
inline void narrow_u8(const std::int32_t* a, std::uint8_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_narrow(out + i, load_i32(a + i));
}

// n a multiple of 4 * kLanes: store_narrow4 of four consecutive vectors.
inline void narrow4_i8(const std::int32_t* a, std::int8_t* out, int n) {
  for (int i = 0; i < n; i += 4 * kLanes)
    store_narrow4(out + i, load_i32(a + i), load_i32(a + i + kLanes), load_i32(a + i + 2 * kLanes),
                  load_i32(a + i + 3 * kLanes));
}
inline void narrow4_u8(const std::int32_t* a, std::uint8_t* out, int n) {
  for (int i = 0; i < n; i += 4 * kLanes)
    store_narrow4(out + i, load_i32(a + i), load_i32(a + i + kLanes), load_i32(a + i + 2 * kLanes),
                  load_i32(a + i + 3 * kLanes));
}

inline void clamp(const float* x, float lo, float hi, float* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_f32(out + i, clamp_f32(load_f32(x + i), splat_f32(lo), splat_f32(hi)));
}

// out[i / kLanes] = all_mf(a < b) over each vector (n a multiple of kLanes).
inline void all_less(const float* a, const float* b, bool* out, int n) {
  for (int i = 0; i < n; i += kLanes) out[i / kLanes] = all_mf(lt_f32(load_f32(a + i), load_f32(b + i)));
}

// out[i / kLanes] = all_mf(lt_i32(a, b)) over each vector.
inline void all_less_i32(const std::int32_t* a, const std::int32_t* b, bool* out, int n) {
  for (int i = 0; i < n; i += kLanes) out[i / kLanes] = all_mf(lt_i32(load_i32(a + i), load_i32(b + i)));
}

// out[k] = the bits of x[k] by bits_i32.
inline void bits(const float* x, std::int32_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, bits_i32(load_f32(x + i)));
}

// out_i[k] = a[k] + splat(s) with stream_i32, out_f[k] = b[k] * splat(f) with stream_f32 (outputs 64-byte aligned).
inline void splat_stream(const std::int32_t* a, std::int32_t s, const float* b, float f, std::int32_t* out_i,
                         float* out_f, int n) {
  for (int i = 0; i < n; i += kLanes) {
    stream_i32(out_i + i, add_i32(load_i32(a + i), splat_i32(s)));
    stream_f32(out_f + i, mul_f32(load_f32(b + i), splat_f32(f)));
  }
}

inline void arith_f32(ArithF32 op, const float* a, const float* b, float* out, int n) {
  map_f32(a, b, out, n, [op](F32 x, F32 y) {
    switch (op) {
      case ArithF32::kAdd: return add_f32(x, y);
      case ArithF32::kSub: return sub_f32(x, y);
      case ArithF32::kDiv: return div_f32(x, y);
      case ArithF32::kTrunc: return trunc_f32(x);
    }
    return x;
  });
}

inline void widen_i8(const std::int8_t* a, std::int32_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, load_widen_i32(a + i));
}
inline void widen_u8(const std::uint8_t* a, std::int32_t* out, int n) {
  for (int i = 0; i < n; i += kLanes) store_i32(out + i, load_widen_i32(a + i));
}

inline Backend backend() {
  return {kName,      kLanes,    &binary_i32,           &mul_round_shift,   &convert_to_f32,
          &truncate,  &round_even, &binary_f32,         &decrement_where_less, &saturate_integral,
          &narrow_i8, &narrow_u8, &splat_stream,        &arith_f32,         &widen_i8,
          &widen_u8,  &narrow4_i8, &narrow4_u8,          &clamp,             &all_less,
          &all_less_i32, &bits};
}

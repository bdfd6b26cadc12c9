// tests/calibration/histogram_bin_lanes_test-inl.hpp - histogram_bin_lanes over arrays, for one lane backend.
//
// No include guard: included once per backend into a test namespace that sees the backend's primitives
// unqualified, after qmath/calibration/detail/histogram_bin_lanes-inl.hpp was included into that same namespace.
// n is a multiple of kLanes.

inline void bins_of(const float* x, int n, qmath::HistogramRange r, std::int32_t* out) {
  const HistogramBinLanes c = histogram_bin_constants(r);
  for (int i = 0; i < n; i += kLanes)
    store_i32(out + i, r.absolute ? histogram_bin_lanes<true>(load_f32(x + i), c)
                                  : histogram_bin_lanes<false>(load_f32(x + i), c));
}

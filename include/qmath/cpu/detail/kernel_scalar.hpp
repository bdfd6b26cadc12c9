// qmath/cpu/detail/kernel_scalar.hpp - the portable micro-kernel and epilogue (any C++17 compiler, any CPU).
//
// Same packed layouts and the same arithmetic as the SIMD kernels: wrapping 32-bit sums of A'(uint8) * B'(int8).
#pragma once

#include <cstdint>

#include <qmath/cpu/detail/pack.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cpu {
namespace detail {

// tile[r][j] (ld kNr) = sum over the packed k of A'[r][k] * B'[k][j] modulo 2^32, for r < rows, j < kNr, added to
// the tile's previous contents when `accumulate` (the next block of K). Every kernel has this contract.
inline void kernel_scalar(int rows, int kgroups, const void* a_panel, const std::int8_t* b, std::int32_t* tile,
                          bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  for (int r = 0; r < rows; ++r) {
    std::uint32_t acc[kNr];
    for (int j = 0; j < kNr; ++j) acc[j] = accumulate ? static_cast<std::uint32_t>(tile[r * kNr + j]) : 0u;
    for (int g = 0; g < kgroups; ++g) {
      const std::uint8_t* ag = a + (g * kMr + r) * kKGroup;
      const std::int8_t* bg = b + g * kNr * kKGroup;
      for (int j = 0; j < kNr; ++j)
        for (int t = 0; t < kKGroup; ++t)
          acc[j] += static_cast<std::uint32_t>(std::int32_t(ag[t]) * std::int32_t(bg[j * kKGroup + t]));
    }
    for (int j = 0; j < kNr; ++j) tile[r * kNr + j] = static_cast<std::int32_t>(acc[j]);
  }
}

// The integer-output bounds the vector epilogues use, computed once per call: [qmin, qmax] is the epilogue's clamp
// met with TC's range (as apply_epilogue), and [lo, hi] the same bounds minus the output zero point, clamped to int32,
// so that clamp(v + zp, qmin, qmax) == clamp(v, lo, hi) + zp for any int32 v without overflow.
struct OutputBounds {
  std::int32_t qmin, qmax, lo, hi;
};
template <class TC>
OutputBounds output_bounds(const Epilogue& e) {
  const QuantRange t = full_range<TC>();
  const std::int32_t qmin = e.clamp_min() > t.qmin ? e.clamp_min() : t.qmin;
  const std::int32_t qmax = e.clamp_max() < t.qmax ? e.clamp_max() : t.qmax;
  const std::int64_t zp = e.output_zero_point();
  return {qmin, qmax, static_cast<std::int32_t>(clamp_i64(qmin - zp, INT32_MIN, INT32_MAX)),
          static_cast<std::int32_t>(clamp_i64(qmax - zp, INT32_MIN, INT32_MAX))};
}

// out[r * ldc + j] = apply_epilogue(dot[r * ld + j] + row_comp[r] + col_comp[j], n0 + j) for r < rows, j < cols
// (wrapping adds). Every epilogue function has this contract.
template <class TC>
void epilogue_scalar(const Epilogue& e, const std::int32_t* dot, int ld, const std::int32_t* row_comp, int rows,
                     const std::int32_t* col_comp, int n0, int cols, TC* out, std::int64_t ldc) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) {
      const std::int32_t acc =
          qmath::detail::wrap_add(qmath::detail::wrap_add(dot[std::int64_t(r) * ld + j], row_comp[r]), col_comp[j]);
      out[std::int64_t(r) * ldc + j] = apply_epilogue<TC>(e, acc, n0 + j);
    }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

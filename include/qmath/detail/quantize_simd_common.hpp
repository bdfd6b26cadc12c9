// qmath/detail/quantize_simd_common.hpp - the ISA-neutral parts of the vector quantize kernel (the lane body,
// detail/quantize_lanes-inl.hpp): the reciprocal fast path's scalar bounds and back-off schedule, and the
// rounding-mode dispatch. No intrinsics; the argument for the bounds is quantize_lanes-inl.hpp's header comment.
#pragma once

#include <type_traits>

#include <qmath/qparams.hpp>
#include <qmath/rounding.hpp>

namespace qmath {
namespace detail {

// True when the fast path is valid for this scale: 1 / scale and its rounding are normal floats.
inline bool fast_path_scale(float scale) { return scale >= 0x1p-125f && scale <= 0x1p125f; }

// The fast path's clamp [lo, hi] = [qmin - zp - 1/4, qmax - zp + 1/4] and its check's bound limit = 1/2 - m, where
// m = B * 2^-21 and B = max(-lo, hi). All three are exact floats.
struct FastBounds {
  float lo, hi, limit;
};

inline FastBounds fast_bounds(QuantParams p, QuantRange range) {
  const float lo = static_cast<float>(range.qmin - p.zero_point) - 0.25f;  // exact: |qmin - zp| <= 383
  const float hi = static_cast<float>(range.qmax - p.zero_point) + 0.25f;
  const float b = -lo > hi ? -lo : hi;  // B in [1/4, 383.25]
  const float m = b * 0x1p-21f;         // exact (power-of-two scaling of a normal float)
  return {lo, hi, 0.5f - m};            // exact: m is a multiple of 2^-23 and <= 2^-12, 1/2 - m has ulp 2^-25
}

// How many blocks the fast loop sends straight to the exact path after a failed probe (adversarial input backs off):
// 2^j - 1 after the j-th failure in a row, capped at kMaxSkip blocks; a passing probe resets the count.
template <unsigned kMaxSkip>
class ProbeSchedule {
 public:
  void passed() { backoff_ = 0; }
  // After a failed probe: the number of further blocks to run by the exact path (1, 3, 7, ..., then kMaxSkip).
  unsigned failed() {
    backoff_ = backoff_ < kMaxSkip ? 2 * backoff_ + 1 : kMaxSkip;
    return backoff_;
  }

 private:
  unsigned backoff_ = 0;
};

// Calls f(std::integral_constant<Round, M>{}) with M = mode, so that a kernel takes the mode as a template argument.
template <class F>
void with_round(Round mode, F f) {
  switch (mode) {
    case Round::kHalfAwayFromZero:
      return f(std::integral_constant<Round, Round::kHalfAwayFromZero>{});
    case Round::kHalfUp:
      return f(std::integral_constant<Round, Round::kHalfUp>{});
    case Round::kTowardZero:
      return f(std::integral_constant<Round, Round::kTowardZero>{});
    case Round::kHalfToEven:
    default:
      return f(std::integral_constant<Round, Round::kHalfToEven>{});
  }
}

}  // namespace detail
}  // namespace qmath

// qmath/calibration/detail/histogram_fill_neon.hpp - the AArch64 Advanced SIMD (NEON) kernel of the fast histogram
// fill (Isa::kNeon, detail/histogram_fill.hpp): the baseline SSE2 loop's arithmetic in NEON registers.
//
// Per 8 values: the absolute index min(|x| * inv_width, bins - 1) truncated (FCVTZS), or the signed index of
// signed_index_neon; the raw min / max (FMIN / FMAX: a NaN makes them NaN, but then the non-finite flag is set and
// the caller discards the batch's results); the non-finite flag from the exponent bits. Every index is in
// [0, bins - 1] whatever the input (a NaN gives 0 or zero_bin, an infinity an end bin), so the 16-bit
// sub-histograms are never written out of bounds. The increments alternate between two sub-histograms (even / odd
// elements) as the SSE2 loop's do.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/detail/cpu_features.hpp>

#if QMATH_CPU_AARCH64
#include <arm_neon.h>
#define QMATH_HISTOGRAM_NEON 1
#else
#define QMATH_HISTOGRAM_NEON 0
#endif

#if QMATH_HISTOGRAM_NEON

namespace qmath {
namespace detail {

// Signed bins of 4 finite values, equal to histogram_bin with shift 0 (the NEON form of signed_index): p = x *
// inv_width clamped to [-zero_bin, bins - 1 - zero_bin], truncated, minus 1 where truncation rounded up (c < trunc(c))
// or where a negative x underflowed to p = -0, plus zero_bin.
inline int32x4_t signed_index_neon(float32x4_t x, float32x4_t vinv, float32x4_t vlo, float32x4_t vhi, int32x4_t vz) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  const float32x4_t p = vmulq_f32(x, vinv);
  const float32x4_t c = vmaxq_f32(vminq_f32(p, vhi), vlo);
  const int32x4_t t = vcvtq_s32_f32(c);
  const uint32x4_t rounded_up = vcltq_f32(c, vcvtq_f32_s32(t));
  const uint32x4_t underflow = vandq_u32(vceqq_f32(p, zero), vcltq_f32(x, zero));
  const int32x4_t minus_one = vreinterpretq_s32_u32(vorrq_u32(rounded_up, underflow));  // -1 or 0
  return vaddq_s32(vaddq_s32(t, minus_one), vz);
}

// The vector part of one block: elements [0, i) of p with i the largest multiple of 8 <= m, counted into h0 (even
// elements) and h1 (odd ones); widens [*mn, *mx] by their raw extremes and sets *bad when one is not finite.
// Returns i; the caller counts the tail.
inline std::size_t fill_block_neon(const float* p, std::size_t m, HistogramRange r, std::uint16_t* h0,
                                   std::uint16_t* h1, float* mn, float* mx, bool* bad) {
  const uint32x4_t absmask = vdupq_n_u32(0x7fffffffu);
  const int32x4_t maxfinite = vdupq_n_s32(0x7f7fffff);
  const float32x4_t vinv = vdupq_n_f32(r.inv_width);
  const float32x4_t vhi = vdupq_n_f32(static_cast<float>(r.bins - 1 - r.zero_bin));
  const float32x4_t vlo = vdupq_n_f32(static_cast<float>(-r.zero_bin));
  const int32x4_t vz = vdupq_n_s32(r.zero_bin);
  float32x4_t vmn = vdupq_n_f32(*mn), vmx = vdupq_n_f32(*mx);
  uint32x4_t vbad = vdupq_n_u32(0);
  std::size_t i = 0;
  for (; i + 8 <= m; i += 8) {
    const float32x4_t ra = vld1q_f32(p + i), rb = vld1q_f32(p + i + 4);
    const uint32x4_t a_bits = vandq_u32(vreinterpretq_u32_f32(ra), absmask);
    const uint32x4_t b_bits = vandq_u32(vreinterpretq_u32_f32(rb), absmask);
    vmn = vminq_f32(vmn, vminq_f32(ra, rb));
    vmx = vmaxq_f32(vmx, vmaxq_f32(ra, rb));
    vbad = vorrq_u32(vbad, vorrq_u32(vcgtq_s32(vreinterpretq_s32_u32(a_bits), maxfinite),
                                     vcgtq_s32(vreinterpretq_s32_u32(b_bits), maxfinite)));
    int32x4_t ia, ib;
    if (r.absolute) {
      ia = vcvtq_s32_f32(vminq_f32(vmulq_f32(vreinterpretq_f32_u32(a_bits), vinv), vhi));
      ib = vcvtq_s32_f32(vminq_f32(vmulq_f32(vreinterpretq_f32_u32(b_bits), vinv), vhi));
    } else {
      ia = signed_index_neon(ra, vinv, vlo, vhi, vz);
      ib = signed_index_neon(rb, vinv, vlo, vhi, vz);
    }
    ++h0[vgetq_lane_s32(ia, 0)];
    ++h1[vgetq_lane_s32(ia, 1)];
    ++h0[vgetq_lane_s32(ia, 2)];
    ++h1[vgetq_lane_s32(ia, 3)];
    ++h0[vgetq_lane_s32(ib, 0)];
    ++h1[vgetq_lane_s32(ib, 1)];
    ++h0[vgetq_lane_s32(ib, 2)];
    ++h1[vgetq_lane_s32(ib, 3)];
  }
  const float lo = vminvq_f32(vmn), hi = vmaxvq_f32(vmx);
  *mn = lo < *mn ? lo : *mn;
  *mx = hi > *mx ? hi : *mx;
  *bad = *bad || vmaxvq_u32(vbad) != 0;
  return i;
}

}  // namespace detail
}  // namespace qmath

#endif  // QMATH_HISTOGRAM_NEON

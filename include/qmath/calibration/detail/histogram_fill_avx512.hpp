// qmath/calibration/detail/histogram_fill_avx512.hpp - AVX-512 block kernel of the fast histogram fill.
//
// fill_block_avx512() bins the first floor(n / 16) * 16 values of x into four interleaved 16-bit sub-histograms
// (value i goes to sub-histogram i % 4) and folds the raw min / max / non-finite flag of those values into the
// caller's accumulators. The caller (fill_histogram_abs in histogram_fill.hpp) bins the remaining < 16 values,
// flushes the sub-histograms into 64-bit counts and bounds the block so that no sub-histogram passes 65535.
//
// Per group of 16 values:
//   1. indices in one zmm, with the same correctly rounded operations as histogram_bin() for shift-0 layouts:
//      absolute: trunc(min(|x| * inv_width, bins - 1)) (the product is >= 0 and bins - 1 an integer, so
//      min-then-truncate equals floor-then-clamp); signed: see signed_index() in histogram_fill.hpp, the same steps
//      on mask registers; stored in a small ring;
//   2. the increments of the group stored kLag iterations earlier: one load and one read-modify-write per value,
//      four sub-histograms round robin.
// The scalar increments bound the speed (see the measurements in fill_block_avx512 and best_fill_kernel).
// NaN and infinities get an in-range index (the last bin / an end bin) and raise the non-finite flag; the caller
// discards the counts of such a batch. Compiled with target("avx512f"); call only where the CPU supports AVX-512F.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/config.hpp>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define QMATH_HISTOGRAM_AVX512 1
#include <immintrin.h>
#else
#define QMATH_HISTOGRAM_AVX512 0
#endif

namespace qmath {
namespace detail {

#if QMATH_HISTOGRAM_AVX512

// GCC 12 reports a false -Wmaybe-uninitialized inside the AVX-512 intrinsics' own headers (_mm512_undefined_*
// self-initialisation, GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// Whether the running CPU (and OS) supports the AVX-512 kernel.
inline bool cpu_has_avx512f() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

// Bins x[0, floor(n / 16) * 16) into sub (four sub-histograms, sub + k * stride, stride >= bins; value i of the call
// goes to sub-histogram i % 4) and updates *mn / *mx (raw extremes) and *bad (a NaN or infinity seen). Returns the
// number of values binned. Requires r.shift == 0, 1 <= r.bins <= 65536, and at most 4 * 65535 values per
// sub-histogram flush (the caller's job).
__attribute__((target("avx512f"))) inline std::size_t fill_block_avx512(const float* x, std::size_t n,
                                                                       HistogramRange r, std::uint16_t* sub,
                                                                       std::size_t stride, float* mn, float* mx,
                                                                       bool* bad) {
  // One pass, software pipelined: iteration g computes the 16 bin indices of group g into slot g % kRing of a ring
  // on the stack (1 KiB, in L1) and counts the group computed kLag iterations earlier, four values per step, one per
  // sub-histogram (a run of equal bins, the zeros of a post-ReLU tensor, forms four independent store-forwarding
  // chains). The lag lets the vector work, the loads of the streamed input and the scalar increments overlap, and
  // puts the ring's 64-byte stores well ahead of the 4-byte loads that read them back. Measured against the earlier
  // kernel (counter addresses in a 4-slot ring with lag 2, no input prefetch) in in-process A/B rounds (medians of 41),
  // 2048 bins: 1.11-1.19x on 64K Gaussian floats, 1.22-1.29x on 4M Gaussian, post-ReLU and signed batches; a
  // two-pass variant (512 indices, then their increments) was as fast on L2 data but 0.9x on the 4M (DRAM) batch.
  // The input is prefetched kPrefetchFloats (2 KiB) ahead: with the out-of-order window full of increments the
  // hardware prefetcher alone falls behind (without the prefetch this kernel was only 1.04-1.07x the earlier one on
  // 4M floats; 0.5, 1 and 4 KiB distances gave 1.1-1.3x as well).
  constexpr std::size_t kRing = 16, kLag = 8, kPrefetchFloats = 512;
  alignas(64) std::uint32_t ring[kRing][16];
  std::uint16_t* const h0 = sub;
  std::uint16_t* const h1 = sub + stride;
  std::uint16_t* const h2 = sub + 2 * stride;
  std::uint16_t* const h3 = sub + 3 * stride;
  const __m512i absmask = _mm512_set1_epi32(0x7fffffff);
  const __m512 vinv = _mm512_set1_ps(r.inv_width);
  const __m512 vhi = _mm512_set1_ps(static_cast<float>(r.bins - 1 - r.zero_bin));
  const __m512 vlo = _mm512_set1_ps(static_cast<float>(-r.zero_bin));
  const __m512i vz = _mm512_set1_epi32(r.zero_bin);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512 zero = _mm512_setzero_ps();
  __m512 vmn = _mm512_set1_ps(*mn), vmx = _mm512_set1_ps(*mx);
  __m512i vabsmax = _mm512_setzero_si512();  // largest |x| bit pattern: above 0x7f7fffff means NaN or infinity
  const std::size_t groups = n / 16;
  const bool absolute = r.absolute;
  auto count = [&](const std::uint32_t* q) {
    QMATH_UNROLL
    for (int j = 0; j < 16; j += 4) {
      ++h0[q[j]];
      ++h1[q[j + 1]];
      ++h2[q[j + 2]];
      ++h3[q[j + 3]];
    }
  };
  for (std::size_t g = 0; g < groups; ++g) {
    _mm_prefetch(reinterpret_cast<const char*>(x + 16 * g + kPrefetchFloats), _MM_HINT_T0);  // never faults
    const __m512 v = _mm512_loadu_ps(x + 16 * g);
    const __m512i a = _mm512_and_si512(_mm512_castps_si512(v), absmask);
    vmn = _mm512_min_ps(vmn, v);
    vmx = _mm512_max_ps(vmx, v);
    vabsmax = _mm512_max_epu32(vabsmax, a);
    __m512i k;
    if (absolute) {
      k = _mm512_cvttps_epi32(_mm512_min_ps(_mm512_mul_ps(_mm512_castsi512_ps(a), vinv), vhi));
    } else {
      const __m512 q = _mm512_mul_ps(v, vinv);
      const __m512 cl = _mm512_max_ps(_mm512_min_ps(q, vhi), vlo);
      const __m512i t = _mm512_cvttps_epi32(cl);
      // floor = trunc - 1 where truncation rounded up, or where a negative value's product underflowed to -0
      // (the rule's p = -0.5)
      const __mmask16 rounded_up = _mm512_cmp_ps_mask(cl, _mm512_cvtepi32_ps(t), _CMP_LT_OQ);
      const __mmask16 underflow = _mm512_cmp_ps_mask(q, zero, _CMP_EQ_OQ) & _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
      const __m512i kz = _mm512_add_epi32(t, vz);
      k = _mm512_mask_sub_epi32(kz, rounded_up | underflow, kz, one);
    }
    _mm512_store_si512(ring[g % kRing], k);
    if (g >= kLag) count(ring[(g - kLag) % kRing]);
  }
  for (std::size_t g = groups > kLag ? groups - kLag : 0; g < groups; ++g) count(ring[g % kRing]);
  *mn = _mm512_reduce_min_ps(vmn) < *mn ? _mm512_reduce_min_ps(vmn) : *mn;
  *mx = _mm512_reduce_max_ps(vmx) > *mx ? _mm512_reduce_max_ps(vmx) : *mx;
  alignas(64) std::uint32_t top[16];
  _mm512_store_si512(top, vabsmax);
  for (int k = 0; k < 16; ++k) *bad = *bad || top[k] > 0x7f7fffffu;
  return groups * 16;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#else

inline bool cpu_has_avx512f() { return false; }

#endif

}  // namespace detail
}  // namespace qmath

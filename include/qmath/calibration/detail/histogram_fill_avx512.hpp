// qmath/calibration/detail/histogram_fill_avx512.hpp - AVX-512 block kernel of the fast histogram fill.
//
// fill_block_avx512() bins the first floor(n / 16) * 16 values of x into four interleaved 16-bit sub-histograms
// (element i of the block goes to sub-histogram i % 4) and folds the raw min / max / non-finite flag of those values
// into the caller's accumulators. The caller (fill_histogram_abs in histogram_fill.hpp) bins the remaining < 16
// values, flushes the sub-histograms into 64-bit counts and bounds the block so that no sub-histogram passes 65535.
//
// Per group of 16 values:
//   1. indices in one zmm, with the same correctly rounded operations as histogram_bin() for shift-0 layouts:
//      absolute: trunc(min(|x| * inv_width, bins - 1)) (the product is >= 0 and bins - 1 an integer, so
//      min-then-truncate equals floor-then-clamp); signed: see signed_index() in histogram_fill.hpp, the same steps
//      on mask registers. Turned into the 64-bit addresses of the counters (sub-histogram base + 2 * index) and
//      stored in a small ring.
//   2. increments, scalar, of the group stored two iterations earlier, through those addresses: one load and one
//      read-modify-write with a plain (non-indexed) address per value. The four sub-histograms, round robin, turn a
//      run of equal bins (the zeros of a post-ReLU tensor) into four independent store-forwarding chains.
// Both this kernel and the SSE2 one are bound by the scalar increments (about one load and one read-modify-write
// per value); this one spends fewer instructions on the indices (see best_fill_kernel for measurements).
// NaN and infinities get an in-range index (the last bin / an end bin) and raise the non-finite flag; the caller
// discards the counts of such a batch. Compiled with target("avx512f"); call only where the CPU supports AVX-512F.
#pragma once

#include <cstddef>
#include <cstdint>

#include <qmath/calibration/histogram_bin.hpp>

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

// ptr[0..15] = address of the counter of bin k[j] in sub-histogram j % 4 (bases: that sub-histogram's address per
// 64-bit lane). Counting through plain pointers keeps the increment to one load and one non-indexed read-modify-write.
__attribute__((target("avx512f"))) inline void store_addresses(__m512i k, __m512i bases, std::uint16_t** ptr) {
  const __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(k));
  const __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(k, 1));
  _mm512_store_si512(ptr, _mm512_add_epi64(bases, _mm512_add_epi64(lo, lo)));
  _mm512_store_si512(ptr + 8, _mm512_add_epi64(bases, _mm512_add_epi64(hi, hi)));
}

// Bins x[0, floor(n / 16) * 16) into sub (four sub-histograms, sub + k * stride, stride >= bins) and updates
// *mn / *mx (raw extremes) and *bad (a NaN or infinity seen). Returns the number of values binned. Requires r.shift
// == 0, 1 <= r.bins <= 65536, and at most 4 * 65535 values per sub-histogram flush (the caller's job).
__attribute__((target("avx512f"))) inline std::size_t fill_block_avx512(const float* x, std::size_t n,
                                                                       HistogramRange r, std::uint16_t* sub,
                                                                       std::size_t stride, float* mn, float* mx,
                                                                       bool* bad) {
  // Ring of kGroups groups of 16 counter addresses: iteration g computes group g and increments group g - kLag, so
  // the vector work and the scalar increments overlap in the out-of-order window, and the addresses are loaded
  // kLag iterations after their (64-byte) store, when it has normally left the store buffer.
  constexpr std::size_t kGroups = 4, kLag = 2;
  alignas(64) std::uint16_t* ring[kGroups][16];
  // 64-bit byte addresses of the four sub-histograms, lane j of 8 -> sub-histogram j % 4
  const auto a0 = static_cast<long long>(reinterpret_cast<std::uintptr_t>(sub));
  const auto b = static_cast<long long>(2 * stride);
  const __m512i bases = _mm512_setr_epi64(a0, a0 + b, a0 + 2 * b, a0 + 3 * b, a0, a0 + b, a0 + 2 * b, a0 + 3 * b);
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
  for (std::size_t g = 0; g < groups; ++g) {
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
    store_addresses(k, bases, ring[g % kGroups]);
    if (g >= kLag) {
      std::uint16_t* const* q = ring[(g - kLag) % kGroups];
      QMATH_UNROLL
      for (int j = 0; j < 16; ++j) ++*q[j];
    }
  }
  for (std::size_t g = groups > kLag ? groups - kLag : 0; g < groups; ++g) {
    std::uint16_t* const* q = ring[g % kGroups];
    for (int j = 0; j < 16; ++j) ++*q[j];
  }
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

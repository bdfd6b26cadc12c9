// qmath/calibration/detail/histogram_fill_avx512.hpp - AVX-512 block kernel of the fast histogram fill.
//
// fill_block_avx512() bins the first floor(n / 16) * 16 values of x into four interleaved 16-bit sub-histograms
// (value i goes to sub-histogram i % 4) and folds the raw min / max / non-finite flag of those values into the
// caller's accumulators. The caller (fill_histogram_abs in histogram_fill.hpp) bins the remaining < 16 values,
// flushes the sub-histograms into 64-bit counts and bounds the block so that no sub-histogram passes 65535.
//
// Per group of 16 values:
//   1. indices in one zmm: histogram_bin_lanes (histogram_bin_lanes-inl.hpp, the bin rule for shift-0 layouts
//      written once over the lane primitives) on the AVX-512 lane backend; stored in a small ring;
//   2. the increments of the group stored kLag iterations earlier: one load and one read-modify-write per value,
//      four sub-histograms round robin.
// The scalar increments bound the speed (measurements: docs/calibration.md, Benchmarks).
// NaN and infinities get an in-range index (the last bin / an end bin) and raise the non-finite flag; the caller
// discards the counts of such a batch. Compiled with the AVX-512 lane backend's target (F + BW + DQ + VL); call only
// where qmath::isa_available says the kAvx512 path runs (qmath/isa.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/config.hpp>
#include <qmath/detail/cpu_features.hpp>
#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx512.hpp>

#if QMATH_CPU_X86
#define QMATH_HISTOGRAM_AVX512 1
#include <immintrin.h>
// The kernel's target: the AVX-512 lane backend's (F + BW + DQ + VL, what Isa::kAvx512 requires).
#define QMATH_HISTOGRAM_TARGET_AVX512 __attribute__((target(QMATH_LANES_AVX512_FEATURES)))

#define QMATH_LANES_BODY <qmath/calibration/detail/histogram_bin_lanes-inl.hpp>
#include <qmath/detail/lanes_body_avx512.hpp>
#undef QMATH_LANES_BODY
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

// The 16 bin indices of v under a shift-0 layout: histogram_bin_lanes (histogram_bin_lanes-inl.hpp) on the
// AVX-512 lane backend.
template <bool kAbsolute>
QMATH_HISTOGRAM_TARGET_AVX512 inline __m512i bin_index16(__m512 v, const lanes_avx512::HistogramBinLanes& c) {
  return lanes_avx512::histogram_bin_lanes<kAbsolute>(v, c);
}

// Stores the 16 bin indices of p[0, 16) at slot (64-byte aligned) and folds them into the statistics: raw min / max
// and the largest |x| bit pattern (above 0x7f7fffff: a NaN or infinity). Prefetches the input kPrefetchFloats ahead.
// (A function, not a lambda: nvcc's host pass drops target attributes on lambdas.)
template <bool kAbsolute, std::size_t kPrefetchFloats>
QMATH_HISTOGRAM_TARGET_AVX512 inline void index_group16(const float* p, unsigned char* slot,
                                                        const lanes_avx512::HistogramBinLanes& c, __m512i absmask,
                                                        __m512& vmn, __m512& vmx, __m512i& vabsmax) {
  _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchFloats), _MM_HINT_T0);  // never faults
  __m512 v = _mm512_loadu_ps(p);
  __asm__("" : "+v"(v));  // one load, not one per user
  vmn = _mm512_min_ps(vmn, v);
  vmx = _mm512_max_ps(vmx, v);
  vabsmax = _mm512_max_epu32(vabsmax, _mm512_and_si512(_mm512_castps_si512(v), absmask));
  _mm512_store_si512(slot, bin_index16<kAbsolute>(v, c));
}

// One increment per value of a group of 16 stored 32-bit indices (x86: little endian), four sub-histograms round
// robin (a run of equal bins, the zeros of a post-ReLU tensor, forms four independent store-forwarding chains). The
// indices are read two per 8-byte load and split in registers: the loads, not the ALUs, are the scarce ports here
// (each increment also loads its counter and computes an indexed store address on the load ports).
inline void count_group16(const unsigned char* slot, std::uint16_t* h0, std::uint16_t* h1, std::uint16_t* h2,
                          std::uint16_t* h3) {
  QMATH_UNROLL
  for (int j = 0; j < 64; j += 16) {
    std::uint64_t a, b;
    std::memcpy(&a, slot + j, 8);
    std::memcpy(&b, slot + j + 8, 8);
    ++h0[a & 0xffffffffu];
    ++h1[a >> 32];
    ++h2[b & 0xffffffffu];
    ++h3[b >> 32];
  }
}

// fill_block_avx512 for one kind of layout (absolute or signed).
template <bool kAbsolute>
QMATH_HISTOGRAM_TARGET_AVX512 inline std::size_t fill_block_avx512_impl(const float* x, std::size_t n,
                                                                            HistogramRange r, std::uint16_t* sub,
                                                                            std::size_t stride, float* mn, float* mx,
                                                                            bool* bad) {
  // Software pipelined: step g computes the 16 bin indices of group g into slot g % 8 of a ring on the stack and
  // counts the group of step g - kLag, whose slot is the one kLag = 4 slots ahead (byte offset + 256, mod 512). The
  // lag lets the vector work, the loads of the streamed input and the scalar increments overlap. The input is
  // prefetched kPrefetchFloats (2 KiB) ahead: with the out-of-order window full of increments the hardware
  // prefetcher alone falls behind.
  // The loop carries as little besides the increments as possible (BM_IncrementCeiling measures a loop of nothing
  // but increments): one load of the input per group (an empty asm keeps the compiler from folding it into each of
  // its three users), ring slots as masked byte offsets, no per-step prologue test, indices read in pairs
  // (count_group16). The measurements behind these choices (and the variants tried) are in docs/calibration.md,
  // Benchmarks; re-measure before changing them.
  constexpr std::size_t kSlotBytes = 64, kRingBytes = 8 * kSlotBytes, kLag = 4, kPrefetchFloats = 512;
  alignas(64) unsigned char ring[kRingBytes];
  std::uint16_t* const h0 = sub;
  std::uint16_t* const h1 = sub + stride;
  std::uint16_t* const h2 = sub + 2 * stride;
  std::uint16_t* const h3 = sub + 3 * stride;
  const lanes_avx512::HistogramBinLanes c = lanes_avx512::histogram_bin_constants(r);
  const __m512i absmask = _mm512_set1_epi32(0x7fffffff);
  __m512 vmn = _mm512_set1_ps(*mn), vmx = _mm512_set1_ps(*mx);
  __m512i vabsmax = _mm512_setzero_si512();  // largest |x| bit pattern: above 0x7f7fffff means NaN or infinity
  const std::size_t groups = n / 16;
  std::size_t w = 0;  // byte offset of the next slot to write
  const std::size_t lead = groups < kLag ? groups : kLag;
  for (std::size_t g = 0; g < lead; ++g, w = (w + kSlotBytes) & (kRingBytes - 1))
    index_group16<kAbsolute, kPrefetchFloats>(x + 16 * g, ring + w, c, absmask, vmn, vmx, vabsmax);
  for (const float *p = x + 16 * lead, *const end = x + 16 * groups; p != end; p += 16) {
    index_group16<kAbsolute, kPrefetchFloats>(p, ring + w, c, absmask, vmn, vmx, vabsmax);
    count_group16(ring + ((w + kLag * kSlotBytes) & (kRingBytes - 1)), h0, h1, h2, h3);
    w = (w + kSlotBytes) & (kRingBytes - 1);
  }
  for (std::size_t t = lead; t > 0; --t) count_group16(ring + ((w - t * kSlotBytes) & (kRingBytes - 1)), h0, h1, h2, h3);
  *mn = _mm512_reduce_min_ps(vmn) < *mn ? _mm512_reduce_min_ps(vmn) : *mn;
  *mx = _mm512_reduce_max_ps(vmx) > *mx ? _mm512_reduce_max_ps(vmx) : *mx;
  alignas(64) std::uint32_t top[16];
  _mm512_store_si512(top, vabsmax);
  for (int k = 0; k < 16; ++k) *bad = *bad || top[k] > 0x7f7fffffu;
  return groups * 16;
}

// Bins x[0, floor(n / 16) * 16) into sub (four sub-histograms, sub + k * stride, stride >= bins; value i of the call
// goes to sub-histogram i % 4) and updates *mn / *mx (raw extremes) and *bad (a NaN or infinity seen). Returns the
// number of values binned. Requires r.shift == 0, 1 <= r.bins <= 65536, and at most 4 * 65535 values per
// sub-histogram flush (the caller's job).
QMATH_HISTOGRAM_TARGET_AVX512 inline std::size_t fill_block_avx512(const float* x, std::size_t n, HistogramRange r,
                                                                  std::uint16_t* sub, std::size_t stride, float* mn,
                                                                  float* mx, bool* bad) {
  return r.absolute ? fill_block_avx512_impl<true>(x, n, r, sub, stride, mn, mx, bad)
                    : fill_block_avx512_impl<false>(x, n, r, sub, stride, mn, mx, bad);
}

// counts[k] += sub[k] + sub[stride + k] + sub[2 * stride + k] + sub[3 * stride + k] for k < bins, and zeroes those
// counters (the flush of fill_block_avx512's four sub-histograms). Each 16-bit counter is at most 65535, so the
// sum of four fits a 32-bit lane before it is widened to 64 bits.
__attribute__((target("avx512f"))) inline void flush_subhistograms4_avx512(std::uint16_t* sub, std::size_t stride,
                                                                            std::size_t bins, std::uint64_t* counts) {
  const __m256i zero = _mm256_setzero_si256();
  std::size_t k = 0;
  for (; k + 16 <= bins; k += 16) {
    __m512i s = _mm512_setzero_si512();
    for (std::size_t j = 0; j < 4; ++j) {
      __m256i* const p = reinterpret_cast<__m256i*>(sub + j * stride + k);
      s = _mm512_add_epi32(s, _mm512_cvtepu16_epi32(_mm256_loadu_si256(p)));
      _mm256_storeu_si256(p, zero);
    }
    __m512i* const c = reinterpret_cast<__m512i*>(counts + k);
    const __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(s));
    const __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(s, 1));
    _mm512_storeu_si512(c, _mm512_add_epi64(_mm512_loadu_si512(c), lo));
    _mm512_storeu_si512(c + 1, _mm512_add_epi64(_mm512_loadu_si512(c + 1), hi));
  }
  for (; k < bins; ++k) {
    counts[k] += std::uint64_t(sub[k]) + sub[stride + k] + sub[2 * stride + k] + sub[3 * stride + k];
    sub[k] = sub[stride + k] = sub[2 * stride + k] = sub[3 * stride + k] = 0;
  }
}

// The vector pass of batch_stats (histogram_fill.hpp) over x[0, n), n a multiple of 64: per lane the running
// min / max in the scalar rule's form (_mm512_min_ps(v, m) is v < m ? v : m), four accumulator pairs, folded into
// *mn / *mx; returns whether any value is NaN or infinite (its absolute bits at or above those of infinity).
QMATH_HISTOGRAM_TARGET_AVX512 inline bool minmax_blocks_avx512(const float* x, std::size_t n, float* mn, float* mx) {
  __m512 lo[4], hi[4];
  __m512i abs_bits[4];
  for (int j = 0; j < 4; ++j) {
    lo[j] = _mm512_set1_ps(*mn);
    hi[j] = _mm512_set1_ps(*mx);
    abs_bits[j] = _mm512_setzero_si512();
  }
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  for (std::size_t i = 0; i < n; i += 64) {
    QMATH_UNROLL
    for (int j = 0; j < 4; ++j) {
      const __m512 v = _mm512_loadu_ps(x + i + 16 * j);
      lo[j] = _mm512_min_ps(v, lo[j]);
      hi[j] = _mm512_max_ps(v, hi[j]);
      abs_bits[j] = _mm512_max_epu32(abs_bits[j], _mm512_and_si512(_mm512_castps_si512(v), magnitude));
    }
  }
  const __m512i bits = _mm512_max_epu32(_mm512_max_epu32(abs_bits[0], abs_bits[1]),
                                        _mm512_max_epu32(abs_bits[2], abs_bits[3]));
  alignas(64) float l[16], h[16];
  _mm512_store_ps(l, _mm512_min_ps(_mm512_min_ps(lo[0], lo[1]), _mm512_min_ps(lo[2], lo[3])));
  _mm512_store_ps(h, _mm512_max_ps(_mm512_max_ps(hi[0], hi[1]), _mm512_max_ps(hi[2], hi[3])));
  for (int k = 0; k < 16; ++k) {
    *mn = l[k] < *mn ? l[k] : *mn;
    *mx = h[k] > *mx ? h[k] : *mx;
  }
  return _mm512_cmpge_epu32_mask(bits, _mm512_set1_epi32(0x7f800000)) != 0;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif

}  // namespace detail
}  // namespace qmath

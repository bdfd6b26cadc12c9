// qmath/calibration/detail/histogram_fill.hpp - batch statistics and the fast histogram fill loop.
//
// fill_histogram() is the host collector. Its normative semantics are "counts[histogram_bin(x[i], r)] += 1 for every
// finite x[i]"; the fast path for shift-0 layouts (fill_histogram_abs) computes the same index with vector
// instructions (absolute: |x| * inv_width, min with bins - 1, truncation - equal to floor-then-clamp because the
// product is >= 0 and bins - 1 is an integer; signed: see signed_index) and gathers the batch's min / max /
// non-finite flag in the same pass, so that a batch inside the current range is read once. Kernels, by path of
// qmath/isa.hpp: Isa::kScalar - the baseline kernel (SSE2, part of the x86-64 baseline; the portable loop elsewhere);
// Isa::kAvx512 - histogram_fill_avx512.hpp (target attributes: no global -m flags needed); Isa::kNeon -
// histogram_fill_neon.hpp (AArch64; there kScalar is the portable loop). histogram_test checks each kernel the CPU
// runs, and the portable loop, bit-exactly against the scalar rule.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <qmath/calibration/detail/histogram_fill_avx512.hpp>
#include <qmath/calibration/detail/histogram_fill_neon.hpp>
#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/isa.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace qmath {
namespace detail {

// floor(v / 2^d) for d >= 0, without relying on the sign behaviour of >> on negative numbers.
inline std::int64_t floor_shift(std::int64_t v, int d) {
  if (d <= 0) return v;
  if (d > 62) return v < 0 ? -1 : 0;
  const std::int64_t p = std::int64_t(1) << d;
  return v >= 0 ? v / p : -((-v + p - 1) / p);
}

inline bool is_finite_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u & 0x7f800000u) != 0x7f800000u;
}

// Extremes of the finite values of a batch and the number of NaN / +inf / -inf among them.
struct BatchStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::uint64_t nan = 0, posinf = 0, neginf = 0;
};

inline BatchStats batch_stats_scalar(const float* x, std::size_t n) {
  BatchStats s;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v != v) {
      ++s.nan;
    } else if (v == std::numeric_limits<float>::infinity()) {
      ++s.posinf;
    } else if (v == -std::numeric_limits<float>::infinity()) {
      ++s.neginf;
    } else {
      s.min = v < s.min ? v : s.min;
      s.max = v > s.max ? v : s.max;
    }
  }
  return s;
}

// The paths of batch_stats's vector pass: kAvx512 (minmax_blocks_avx512, 64 values per step) where it runs and the
// process cap allows, else SSE2 on x86-64 (filed under kScalar: every x86-64 CPU has it).
constexpr unsigned kBatchStatsKernels = isa_bit(Isa::kScalar) | (QMATH_HISTOGRAM_AVX512 ? isa_bit(Isa::kAvx512) : 0u);

// batch_stats_scalar's result (the min / max compared with ==: a batch whose extreme is a zero of both signs may
// give either sign): a vector pass over the leading values for min / max and a non-finite flag; any non-finite value
// sends the batch to the exact scalar pass (rare: such batches are an error or are skipped value by value anyway).
inline BatchStats batch_stats(const float* x, std::size_t n) {
  float mn = std::numeric_limits<float>::infinity(), mx = -std::numeric_limits<float>::infinity();
  std::size_t i = 0;
  bool bad = false;
#if QMATH_HISTOGRAM_AVX512
  if (n >= 64 && resolve_isa(Isa::kAuto, kBatchStatsKernels, "batch_stats") == Isa::kAvx512) {
    i = n / 64 * 64;
    bad = minmax_blocks_avx512(x, i, &mn, &mx);
  } else
#endif
  {
#if defined(__SSE2__)
    if (n >= 16) {
      __m128 mn0 = _mm_set1_ps(mn), mn1 = mn0;
      __m128 mx0 = _mm_set1_ps(mx), mx1 = mx0;
      const __m128i expo = _mm_set1_epi32(0x7f800000);
      __m128i nonfinite = _mm_setzero_si128();
      for (; i + 8 <= n; i += 8) {
        const __m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(x + i + 4);
        mn0 = _mm_min_ps(a, mn0);
        mn1 = _mm_min_ps(b, mn1);
        mx0 = _mm_max_ps(a, mx0);
        mx1 = _mm_max_ps(b, mx1);
        const __m128i ea = _mm_and_si128(_mm_castps_si128(a), expo), eb = _mm_and_si128(_mm_castps_si128(b), expo);
        nonfinite = _mm_or_si128(nonfinite, _mm_or_si128(_mm_cmpeq_epi32(ea, expo), _mm_cmpeq_epi32(eb, expo)));
      }
      bad = _mm_movemask_epi8(nonfinite) != 0;
      alignas(16) float lo[4], hi[4];
      _mm_store_ps(lo, _mm_min_ps(mn0, mn1));
      _mm_store_ps(hi, _mm_max_ps(mx0, mx1));
      for (int k = 0; k < 4; ++k) {
        mn = lo[k] < mn ? lo[k] : mn;
        mx = hi[k] > mx ? hi[k] : mx;
      }
    }
#endif
  }
  if (i == 0 || bad) return batch_stats_scalar(x, n);
  BatchStats tail = batch_stats_scalar(x + i, n - i);
  if (tail.nan + tail.posinf + tail.neginf != 0) return batch_stats_scalar(x, n);
  tail.min = mn < tail.min ? mn : tail.min;
  tail.max = mx > tail.max ? mx : tail.max;
  return tail;
}

// The normative loop: counts[histogram_bin(x[i], r)] += 1 for every finite x[i] (all of them unless skip_non_finite).
inline void fill_histogram_scalar(const float* x, std::size_t n, HistogramRange r, bool skip_non_finite,
                                  std::uint64_t* counts) {
  for (std::size_t i = 0; i < n; ++i) {
    if (skip_non_finite && !is_finite_bits(x[i])) continue;
    ++counts[histogram_bin(x[i], r)];
  }
}

// Raw extremes of a batch, and whether it held any NaN / infinity (then min and max are meaningless).
struct FillStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool non_finite = false;
};

// Fast fill for shift-0 layouts (absolute, or signed with zero_bin = bins / 2): adds every element's bin to counts and returns the batch's
// raw min / max in the same pass. For finite data the bins equal fill_histogram_scalar's; when the batch holds a
// NaN or an infinity, stats.non_finite is set and the caller must discard the counts it got (NaN and inf land in
// the last bin here, never out of bounds). The increments go to 16-bit sub-histograms (SSE2: even / odd elements; AVX-512: four),
// flushed into counts every 2 * 65535 elements: small enough to stay in L1 next to the streamed data, and two of
// them so that runs of one bin (the exact zeros of a post-ReLU tensor) do not serialise on store forwarding.
#if defined(__SSE2__)
// Signed bins of 4 finite values, equal to histogram_bin with shift 0: p = x * inv_width clamped to the integer
// bounds [-zero_bin, bins - 1 - zero_bin] (so floor commutes with the clamp), truncated, minus 1 where truncation
// rounded up (p < trunc(p)) or where a negative x underflowed to p = -0 (the rule's p = -0.5), plus zero_bin.
inline __m128i signed_index(__m128 x, __m128 vinv, __m128 vlo, __m128 vhi, __m128i vz) {
  const __m128 p = _mm_mul_ps(x, vinv);
  const __m128 c = _mm_max_ps(_mm_min_ps(p, vhi), vlo);
  const __m128i t = _mm_cvttps_epi32(c);
  const __m128 rounded_up = _mm_cmplt_ps(c, _mm_cvtepi32_ps(t));
  const __m128 underflow = _mm_and_ps(_mm_cmpeq_ps(p, _mm_setzero_ps()), _mm_cmplt_ps(x, _mm_setzero_ps()));
  const __m128i minus_one = _mm_castps_si128(_mm_or_ps(rounded_up, underflow));
  return _mm_add_epi32(_mm_add_epi32(t, minus_one), vz);
}
#endif

// One element of the fast fill's scalar loops, into the 16-bit sub-histogram h of `bins` counters: a NaN or an
// infinity sets bad and counts in the last bin; a finite v widens [mn, mx] and counts in histogram_bin(v, r).
inline void fill_one(float v, HistogramRange r, std::size_t bins, std::uint16_t* h, float& mn, float& mx, bool& bad) {
  if (!is_finite_bits(v)) {
    bad = true;
    ++h[bins - 1];
    return;
  }
  mn = v < mn ? v : mn;
  mx = v > mx ? v : mx;
  ++h[histogram_bin(v, r)];
}

// The 16-bit sub-histograms of the fast fill: one buffer per thread, grown to the largest layout seen (4 * (bins + 32)
// counters, 16.6 KiB for 2048 bins, 512 KiB at the 65536-bin limit) and kept for the thread's lifetime, so that a
// batch pays neither an allocation nor a clearing pass. Invariant: all zero between calls (every fill flushes and
// zeroes what it counted; nothing in between can throw).
inline std::uint16_t* fill_scratch(std::size_t size) {
  static thread_local std::vector<std::uint16_t> buffer;
  if (buffer.size() < size) buffer.assign(size, 0);
  return buffer.data();
}

// The fast fill kernels, by path: Isa::kAvx512 - fill_block_avx512 (histogram_fill_avx512.hpp), indices 16 at a
// time into a ring, counted 4 groups later into four sub-histograms; Isa::kScalar - the baseline kernel: with SSE2
// (always on x86-64), 8 indices per step in SSE2 registers, two sub-histograms; else, or with baseline_vector =
// false (tests), the portable loop: the scalar rule into the same two sub-histograms. All give the counts of
// fill_histogram_scalar. kAuto prefers kAvx512 where the CPU runs it: both kernels are bound by the scalar
// increments, the AVX-512 one computes indices more cheaply, loads them in pairs and prefetches its input
// (measured ratio: docs/calibration.md; re-measure before changing the preference).
// Isa::kNeon (AArch64) - fill_block_neon (histogram_fill_neon.hpp): the baseline loop's arithmetic in NEON registers.
constexpr unsigned kHistogramFillKernels = isa_bit(Isa::kScalar) |
                                           (QMATH_HISTOGRAM_AVX512 ? isa_bit(Isa::kAvx512) : 0u) |
                                           (QMATH_HISTOGRAM_NEON ? isa_bit(Isa::kNeon) : 0u);

// The fill kernel for a request (see qmath/isa.hpp); throws naming `where`.
inline Isa histogram_fill_isa(Isa requested, const char* where) {
  return resolve_isa(requested, kHistogramFillKernels, where);
}

// The fast fill for shift-0 layouts (absolute, and signed with an even bin count), with the kernel of path `kernel`
// (a result of histogram_fill_isa; any other path runs the baseline kernel).
inline FillStats fill_histogram_abs(const float* x, std::size_t n, HistogramRange r, std::uint64_t* counts,
                                    Isa kernel, bool baseline_vector = true) {
  FillStats st;
  const std::size_t bins = static_cast<std::size_t>(r.bins);
  (void)kernel;  // only read where a vector kernel is built
#if QMATH_HISTOGRAM_AVX512
  if (kernel == Isa::kAvx512 && isa_available(Isa::kAvx512)) {
    // Four sub-histograms; each receives kBlock4 / 4 increments from the vector part of a block and the last
    // (shortest) block adds its < 16 tail values to sub-histogram 0: at most 65520 + 15 per flush.
    // The stride pads each sub-histogram by 64 bytes: at bins * 2 bytes apart (4 KiB for 2048 bins), counters of
    // neighbouring sub-histograms would alias in the low 12 address bits and stall loads behind unrelated stores.
    constexpr std::size_t kBlock4 = 4 * 65520;
    const std::size_t stride = bins + 32;
    std::uint16_t* const sub = fill_scratch(4 * stride);
    float mn = st.min, mx = st.max;
    bool bad = false;
    for (std::size_t start = 0; start < n; start += kBlock4) {
      const std::size_t m = n - start < kBlock4 ? n - start : kBlock4;
      const float* p = x + start;
      std::size_t i = fill_block_avx512(p, m, r, sub, stride, &mn, &mx, &bad);
      for (; i < m; ++i) fill_one(p[i], r, bins, sub, mn, mx, bad);
      flush_subhistograms4_avx512(sub, stride, bins, counts);
    }
    st.min = mn;
    st.max = mx;
    st.non_finite = bad;
    return st;
  }
#endif
  const bool vector = baseline_vector;
  static_cast<void>(vector);
  const std::size_t stride = bins + 32;  // 64 bytes of padding: h0[k] and h1[k] must not alias in the low 12 address bits
  std::uint16_t* h0 = fill_scratch(2 * stride);
  std::uint16_t* h1 = h0 + stride;
  constexpr std::size_t kBlock = 2 * 65535 - 7;  // each sub-histogram receives at most 65535 increments per block
  float mn = st.min, mx = st.max;
  bool bad = false;
#if defined(__SSE2__)
  const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  const __m128i maxfinite = _mm_set1_epi32(0x7f7fffff);
  const bool absolute = r.absolute;
  const __m128 vinv = _mm_set1_ps(r.inv_width);
  const __m128 vhi = _mm_set1_ps(static_cast<float>(r.bins - 1 - r.zero_bin));
  const __m128 vlo = _mm_set1_ps(static_cast<float>(-r.zero_bin));
  const __m128i vz = _mm_set1_epi32(r.zero_bin);
  __m128 vmn = _mm_set1_ps(mn), vmx = _mm_set1_ps(mx);
  __m128i vbad = _mm_setzero_si128();
#endif
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t m = n - start < kBlock ? n - start : kBlock;
    const float* p = x + start;
    std::size_t i = 0;
#if QMATH_HISTOGRAM_NEON
    if (kernel == Isa::kNeon) i = fill_block_neon(p, m, r, h0, h1, &mn, &mx, &bad);
#endif
#if defined(__SSE2__)
    for (; vector && i + 8 <= m; i += 8) {
      const __m128 ra = _mm_loadu_ps(p + i), rb = _mm_loadu_ps(p + i + 4);
      const __m128 a = _mm_and_ps(ra, absmask), b = _mm_and_ps(rb, absmask);
      vmn = _mm_min_ps(vmn, _mm_min_ps(ra, rb));
      vmx = _mm_max_ps(vmx, _mm_max_ps(ra, rb));
      vbad = _mm_or_si128(vbad, _mm_or_si128(_mm_cmpgt_epi32(_mm_castps_si128(a), maxfinite),
                                             _mm_cmpgt_epi32(_mm_castps_si128(b), maxfinite)));
      __m128i ia, ib;
      if (absolute) {
        ia = _mm_cvttps_epi32(_mm_min_ps(_mm_mul_ps(a, vinv), vhi));
        ib = _mm_cvttps_epi32(_mm_min_ps(_mm_mul_ps(b, vinv), vhi));
      } else {
        ia = signed_index(ra, vinv, vlo, vhi, vz);
        ib = signed_index(rb, vinv, vlo, vhi, vz);
      }
#if defined(__x86_64__)
      const std::uint64_t a01 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(ia));
      const std::uint64_t a23 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(ia, ia)));
      const std::uint64_t b01 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(ib));
      const std::uint64_t b23 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(ib, ib)));
      ++h0[a01 & 0xffffffffu];
      ++h1[a01 >> 32];
      ++h0[a23 & 0xffffffffu];
      ++h1[a23 >> 32];
      ++h0[b01 & 0xffffffffu];
      ++h1[b01 >> 32];
      ++h0[b23 & 0xffffffffu];
      ++h1[b23 >> 32];
#else
      alignas(16) std::int32_t idx[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(idx), ia);
      _mm_store_si128(reinterpret_cast<__m128i*>(idx + 4), ib);
      for (int k = 0; k < 8; k += 2) {
        ++h0[idx[k]];
        ++h1[idx[k + 1]];
      }
#endif
    }
#endif
    for (; i < m; ++i) fill_one(p[i], r, bins, (i & 1) != 0 ? h1 : h0, mn, mx, bad);  // even / odd, as the vector loop
    for (std::size_t k = 0; k < bins; ++k) {
      counts[k] += std::uint64_t(h0[k]) + h1[k];
      h0[k] = h1[k] = 0;
    }
  }
#if defined(__SSE2__)
  alignas(16) float lo[4], up[4];
  _mm_store_ps(lo, vmn);
  _mm_store_ps(up, vmx);
  for (int k = 0; k < 4; ++k) {
    mn = lo[k] < mn ? lo[k] : mn;
    mx = up[k] > mx ? up[k] : mx;
  }
  bad = bad || _mm_movemask_epi8(vbad) != 0;
#endif
  st.min = mn;
  st.max = mx;
  st.non_finite = bad;
  return st;
}

// Whether fill_histogram_abs suits a batch: shift-0 layouts, batches of at least two elements per bin (its 16-bit
// sub-histograms are zeroed and flushed per call), at most 2^16 bins (beyond that the sub-histograms leave L1/L2
// and cost more than they save).
inline bool use_fast_fill(HistogramRange r, std::size_t n) {
  return r.shift == 0.0f && r.bins <= 65536 && n >= 2 * static_cast<std::size_t>(r.bins);
}

// Adds the finite values of x to counts under r (the host collector), with the fill kernel of path `kernel`.
inline void fill_histogram(const float* x, std::size_t n, HistogramRange r, bool skip_non_finite,
                           std::uint64_t* counts, Isa kernel) {
  if (!skip_non_finite && use_fast_fill(r, n))
    fill_histogram_abs(x, n, r, counts, kernel);
  else
    fill_histogram_scalar(x, n, r, skip_non_finite, counts);
}

}  // namespace detail
}  // namespace qmath

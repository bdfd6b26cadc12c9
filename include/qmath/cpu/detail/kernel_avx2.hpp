// qmath/cpu/detail/kernel_avx2.hpp - AVX2 micro-kernels and vectorised epilogue.
//
// kernel_avx2 (exact for every input): A' packed as int16, B' widened to int16 once at packing (BPackLayout::kInt16K2),
// VPMADDWD of a broadcast A' pair (k, k+1) with 8 columns x 2 k of B' gives per column A'0 B'0 + A'1 B'1 (at most
// 2 * 255 * 128 in magnitude: no overflow), added to int32 accumulators with wrapping VPADDD like the scalar kernel.
// Micro-tile 6 rows x 16 columns: 12 ymm accumulators, 2 B' loads and 6 A' broadcasts (VPBROADCASTD from memory)
// per k pair, 2 free registers; the kMr x kNr tile is swept as 2 x 2 micro-tiles. Each int32 lane is one column,
// so the tile is stored without a horizontal reduction.
//
// kernel_avx2_maddubs (exact only for a B whose packed pairs satisfy pairs_fit_int16, checked when B is packed):
// uint8 A', int8 B' in BPackLayout::kInt8K4; VPMADDUBSW gives the int16 pair sums A'0 B'0 + A'1 B'1 (never saturated
// under that bound), VPMADDWD with ones adds the two pairs of a 4-k group into int32. Same 6 x 16 micro-tile.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/epilogue_lanes.hpp>
#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/cpu/detail/pack.hpp>
#include <qmath/epilogue.hpp>

#if QMATH_CPU_X86

#define QMATH_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace qmath {
namespace cpu {
namespace detail {

// Stores (or adds to) R rows x 16 columns of the int32 tile (row stride kNr).
template <int R>
QMATH_TARGET_AVX2 inline void store_tile_avx2(const __m256i (&acc)[R][2], std::int32_t* tile, bool accumulate) {
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) {
    QMATH_UNROLL
    for (int h = 0; h < 2; ++h) {
      __m256i* dst = reinterpret_cast<__m256i*>(tile + r * kNr + 8 * h);
      __m256i v = acc[r][h];
      if (accumulate) v = _mm256_add_epi32(v, _mm256_loadu_si256(dst));
      _mm256_storeu_si256(dst, v);
    }
  }
}

// Keeps the R x 2 accumulators in registers across loop iterations: without it GCC reassociates the int32 adds of a
// k group (legal for integers) and spills the accumulators to the stack.
template <int R>
QMATH_TARGET_AVX2 inline void pin_accumulators_avx2(__m256i (&acc)[R][2]) {
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) __asm__("" : "+x"(acc[r][0]), "+x"(acc[r][1]));
}

QMATH_TARGET_AVX2 inline __m256i broadcast32_avx2(const void* p) {
  std::int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// Distance of the software prefetch of B in the cache-blocked kernels: a micro-tile's B half comes from L3 or memory
// the first time a K block of a panel is swept (a large B at small M); prefetch_l1 forms the address as an integer,
// so it may lie past the end of B.
constexpr int kBlockPrefetchBytes = 4096;

// R rows x 16 columns, int16 A' (packed A panel from row r0) and int16 B' (kInt16K2, from column c0).
template <int R>
QMATH_TARGET_AVX2 inline void kernel_avx2_int16_rows(int kgroups, const std::int16_t* a, const std::int16_t* b,
                                                     std::int32_t* tile, bool accumulate) {
  __m256i acc[R][2];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int g = 0; g < kgroups; ++g) {
    // This half's lines of the group (one per k pair), kBlockPrefetchBytes ahead.
    prefetch_l1(b, kBlockPrefetchBytes);
    prefetch_l1(b, kBlockPrefetchBytes + 2 * kNr * sizeof(std::int16_t));
    QMATH_UNROLL
    for (int t = 0; t < 2; ++t) {  // k pairs 2g, 2g + 1 of the group
      const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + t * (2 * kNr)));
      const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + t * (2 * kNr) + 16));
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m256i va = broadcast32_avx2(a + r * kKGroup + 2 * t);
        acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(va, b0));
        acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(va, b1));
      }
      pin_accumulators_avx2<R>(acc);
    }
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  store_tile_avx2<R>(acc, tile, accumulate);
}

// R rows x 16 columns, uint8 A' and int8 B' (kInt8K4, from column c0); exact only under pairs_fit_int16.
template <int R>
QMATH_TARGET_AVX2 inline void kernel_avx2_maddubs_rows(int kgroups, const std::uint8_t* a, const std::int8_t* b,
                                                       std::int32_t* tile, bool accumulate) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[R][2];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int g = 0; g < kgroups; ++g) {
    prefetch_l1(b, kBlockPrefetchBytes);  // this half's line of the group
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 32));
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      const __m256i va = broadcast32_avx2(a + r * kKGroup);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(va, b0), ones));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(va, b1), ones));
    }
    pin_accumulators_avx2<R>(acc);
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  store_tile_avx2<R>(acc, tile, accumulate);
}

// Sweeps the rows x kNr tile in micro-tiles of up to 6 rows x 16 columns, the rows split evenly over
// ceil(rows / 6) micro-tiles (8 = 4 + 4, not 6 + 2: micro-tiles of 4 to 6 rows run at one rate, those of 1 to 3 rows
// slower). AE: packed A element; BE: packed B element (int16 for kInt16K2, int8 for kInt8K4); c_step: B elements
// from one 16-column half to the next.
template <class AE, class BE, template <int> class Rows>
QMATH_TARGET_AVX2 inline void sweep_tile_avx2(int rows, int kgroups, const void* a_panel, const std::int8_t* b_bytes,
                                              std::int32_t* tile, bool accumulate) {
  const AE* a = static_cast<const AE*>(a_panel);
  const BE* b = reinterpret_cast<const BE*>(b_bytes);
  constexpr int c_step = sizeof(BE) == 2 ? 2 * 16 : kKGroup * 16;
  const int tiles = ceil_div(rows, 6);
  for (int c = 0; c < 2; ++c)
    for (int i = 0, r0 = 0; i < tiles; ++i) {
      const int n = (rows - r0) / (tiles - i);  // micro-tile i of the even split: rows - r0 over the tiles left
      const AE* ar = a + r0 * kKGroup;
      const BE* bc = b + c * c_step;
      std::int32_t* t = tile + r0 * kNr + 16 * c;
      r0 += n;
      switch (n) {
        case 1: Rows<1>::run(kgroups, ar, bc, t, accumulate); break;
        case 2: Rows<2>::run(kgroups, ar, bc, t, accumulate); break;
        case 3: Rows<3>::run(kgroups, ar, bc, t, accumulate); break;
        case 4: Rows<4>::run(kgroups, ar, bc, t, accumulate); break;
        case 5: Rows<5>::run(kgroups, ar, bc, t, accumulate); break;
        default: Rows<6>::run(kgroups, ar, bc, t, accumulate); break;
      }
    }
}

template <int R>
struct Int16Rows {
  QMATH_TARGET_AVX2 static void run(int kgroups, const std::int16_t* a, const std::int16_t* b, std::int32_t* tile,
                                    bool accumulate) {
    kernel_avx2_int16_rows<R>(kgroups, a, b, tile, accumulate);
  }
};
template <int R>
struct MaddubsRows {
  QMATH_TARGET_AVX2 static void run(int kgroups, const std::uint8_t* a, const std::int8_t* b, std::int32_t* tile,
                                    bool accumulate) {
    kernel_avx2_maddubs_rows<R>(kgroups, a, b, tile, accumulate);
  }
};

// KernelFn of the exact AVX2 path: int16 A' panel, kInt16K2 B' panel (passed as bytes).
QMATH_TARGET_AVX2 inline void kernel_avx2(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                          std::int32_t* tile, bool accumulate) {
  sweep_tile_avx2<std::int16_t, std::int16_t, Int16Rows>(rows, kgroups, a_panel, b, tile, accumulate);
}

// KernelFn of the VPMADDUBSW path: uint8 A' panel, kInt8K4 B' panel satisfying pairs_fit_int16.
QMATH_TARGET_AVX2 inline void kernel_avx2_maddubs(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                  std::int32_t* tile, bool accumulate) {
  sweep_tile_avx2<std::uint8_t, std::int8_t, MaddubsRows>(rows, kgroups, a_panel, b, tile, accumulate);
}

// PackAFn of the exact AVX2 path: pack_a_panel<std::int16_t, TA> (same layout, zero padding and row sums), 16 k of
// two rows at a time: A' bytes (sign bit flipped for int8 A) zero-extended to int16 with VPMOVZXBW, the two rows'
// 4-k groups interleaved with VPUNPCK{L,H}QDQ (rows r, r + 1 of a group are 16 contiguous bytes of the panel), row
// sums with VPSADBW. The k tail (K mod 16) is packed by the scalar loop.
template <class TA>
QMATH_TARGET_AVX2 inline void pack_a_panel_int16_avx2(int rows, int k, const TA* a, std::int64_t lda,
                                                      std::int16_t* dst, std::int32_t* row_sum) {
  constexpr int kGroupElems = kMr * kKGroup;  // 48 int16 per group
  const int kgroups = ceil_div(k, kKGroup), kvec = k / 16;
  std::memset(dst, 0, sizeof(std::int16_t) * std::size_t(kgroups) * kGroupElems);
  const __m128i flip = _mm_set1_epi8(a_offset<TA>() ? static_cast<char>(0x80) : 0);
  const __m128i zero = _mm_setzero_si128();
  for (int r = 0; r < rows; r += 2) {
    const bool pair = r + 1 < rows;
    const TA* src0 = a + std::int64_t(r) * lda;
    const TA* src1 = pair ? src0 + lda : src0;
    __m128i sum0 = zero, sum1 = zero;
    for (int v = 0; v < kvec; ++v) {
      const __m128i x0 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src0 + 16 * v)), flip);
      __m128i x1 = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src1 + 16 * v)), flip);
      if (!pair) x1 = zero;
      sum0 = _mm_add_epi64(sum0, _mm_sad_epu8(x0, zero));
      sum1 = _mm_add_epi64(sum1, _mm_sad_epu8(x1, zero));
      const __m256i w0 = _mm256_cvtepu8_epi16(x0), w1 = _mm256_cvtepu8_epi16(x1);
      // lo: groups 4v and 4v + 2 of rows r, r + 1; hi: groups 4v + 1 and 4v + 3.
      const __m256i lo = _mm256_unpacklo_epi64(w0, w1), hi = _mm256_unpackhi_epi64(w0, w1);
      std::int16_t* out = dst + std::size_t(4 * v) * kGroupElems + r * kKGroup;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(lo));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + kGroupElems), _mm256_castsi256_si128(hi));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * kGroupElems), _mm256_extracti128_si256(lo, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * kGroupElems), _mm256_extracti128_si256(hi, 1));
    }
    // The k tail, and the 64-bit halves of the byte sums (at most K * 255 each: no overflow).
    for (int i = 0; i < (pair ? 2 : 1); ++i) {
      const TA* src = i ? src1 : src0;
      const __m128i s = i ? sum1 : sum0;
      std::int64_t sum = _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
      std::int16_t* out = dst + (r + i) * kKGroup;
      for (int kk = 16 * kvec; kk < k; ++kk) {
        const std::int16_t v = static_cast<std::int16_t>(a_prime(src[kk]));
        out[(kk / kKGroup) * kGroupElems + kk % kKGroup] = v;
        sum += v;
      }
      row_sum[r + i] = static_cast<std::int32_t>(sum);
    }
  }
  for (int r = rows; r < kMr; ++r) row_sum[r] = 0;
}

// PackAFn of the VPMADDUBSW (and AVX-VNNI) paths: pack_a_panel<std::uint8_t, TA> (same layout, zero padding and row
// sums), 32 k of 4 rows at a time: A' bytes (sign bit flipped for int8 A), 4x4-transposed as 32-bit groups within
// each 128-bit lane so that the 4 rows of one group are 16 contiguous bytes of the panel; row sums with VPSADBW.
// Groups past the last full 32 k are packed by pack_a_panel_u8_tail.
template <class TA>
QMATH_TARGET_AVX2 inline void pack_a_panel_u8_avx2(int rows, int k, const TA* a, std::int64_t lda, std::uint8_t* dst,
                                                   std::int32_t* row_sum) {
  constexpr int kGroupBytes = kMr * kKGroup;  // 48
  const int kvec = k / 32;
  const __m256i flip = _mm256_set1_epi8(a_offset<TA>() ? static_cast<char>(0x80) : 0);
  const __m256i zero = _mm256_setzero_si256();
  std::int64_t sums[kMr] = {};
  for (int q = 0; q < kMr / 4; ++q) {
    std::uint8_t* out = dst + 16 * q;
    if (4 * q >= rows) {  // rows of zero padding only
      for (int g = 0; g < 8 * kvec; ++g)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + g * kGroupBytes), _mm_setzero_si128());
      continue;
    }
    __m256i sum4[4] = {zero, zero, zero, zero};
    for (int v = 0; v < kvec; ++v, out += 8 * kGroupBytes) {
      __m256i x[4];
      QMATH_UNROLL
      for (int i = 0; i < 4; ++i) {
        const int r = 4 * q + i;
        if (r < rows)
          x[i] = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + r * lda + 32 * v)), flip);
        else
          x[i] = zero;
        sum4[i] = _mm256_add_epi64(sum4[i], _mm256_sad_epu8(x[i], zero));
      }
      const __m256i t0 = _mm256_unpacklo_epi32(x[0], x[1]), t1 = _mm256_unpackhi_epi32(x[0], x[1]);
      const __m256i t2 = _mm256_unpacklo_epi32(x[2], x[3]), t3 = _mm256_unpackhi_epi32(x[2], x[3]);
      // Lane l of u[i] holds rows 4q..4q+3 of group 4l + i of these 8.
      const __m256i u[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                            _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
      QMATH_UNROLL
      for (int i = 0; i < 4; ++i) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * kGroupBytes), _mm256_castsi256_si128(u[i]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (4 + i) * kGroupBytes), _mm256_extracti128_si256(u[i], 1));
      }
    }
    QMATH_UNROLL
    for (int i = 0; i < 4; ++i) {
      alignas(32) std::int64_t lanes[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sum4[i]);
      sums[4 * q + i] = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
  }
  pack_a_panel_u8_tail(rows, k, 32 * kvec, a, lda, dst, sums, row_sum);  // the remaining k (fewer than 32)
}

// The AVX2 epilogue: the lane body (cpu/detail/epilogue_lanes-inl.hpp) on 8 lanes, bit-exact with apply_epilogue;
// a tail of fewer than 8 columns runs epilogue_scalar. The int32 -> float conversion and the multiply follow MXCSR
// as the scalar C++ code does (round to nearest even by default); rounding to an integer is explicit (VROUNDPS).
// kStream: 8-lane chunks of 4-byte outputs (int32, float) whose address is 32-byte aligned are written with
// non-temporal stores (VMOVNTDQ / VMOVNTPS); the caller issues _mm_sfence() before C is published.
template <class TC, bool kStream = false>
QMATH_TARGET_AVX2 inline void epilogue_avx2(const Epilogue& e, const std::int32_t* dot, int ld,
                                            const std::int32_t* row_comp, int rows, const std::int32_t* col_comp,
                                            int n0, int cols, TC* out, std::int64_t ldc) {
  qmath::detail::lanes_avx2::epilogue_lanes<TC, kStream>(e, dot, ld, row_comp, rows, col_comp, n0, cols, out, ldc);
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_X86

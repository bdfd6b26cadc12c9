// qmath/cpu/detail/kernel_avx512vnni.hpp - AVX-512 VNNI micro-kernel (512-bit VPDPBUSD) and vectorised epilogue.
//
// Micro-tile: up to kMr = 12 rows x kNr = 32 columns of int32 accumulators in 24 zmm registers. Per group of 4 k:
// two 64-byte loads of packed B (16 columns x 4 k each), one 4-byte broadcast of A' per row, 2 VPDPBUSD per row.
// VPDPBUSD (not the saturating VPDPBUSDS) wraps modulo 2^32 like the scalar kernel.
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

#define QMATH_TARGET_AVX512VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
// Lambdas inside a target function do not inherit its target (GCC); they need the attribute too.
#define QMATH_TARGET_AVX512VNNI_LAMBDA __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

namespace qmath {
namespace cpu {
namespace detail {

// Row counts up to kStreamRows prefetch all of B's lines kStreamPrefetchBytes ahead (see the loop).
constexpr int kStreamRows = 4;
constexpr int kStreamPrefetchBytes = 8192;

// U independent accumulator sets over consecutive groups: with 1-3 rows, one set would leave only 2R VPDPBUSD
// chains in flight, fewer than latency x throughput needs (Intel: 5 x 1 per cycle; AMD Zen 5: 4 x 2); the sets are
// added (wrapping) at the end. 4 and 5 rows take one set (8 and 10 chains): GCC 12 compiles two sets of them with a
// register copy of every second-set accumulator per group, which made a 4-row tile 1.3x slower per row than a
// 12-row one (Zen 5, 16x3072x768); with one set it runs at the 12-row tile's rate per row.
template <int R, int U = (R <= 2 ? 4 : (R <= 3 ? 2 : 1))>
QMATH_TARGET_AVX512VNNI inline void kernel_avx512vnni_rows(int kgroups, const std::uint8_t* a, const std::int8_t* b,
                                                           std::int32_t* tile, bool accumulate) {
  __m512i c0[U][R], c1[U][R];
  QMATH_UNROLL
  for (int u = 0; u < U; ++u) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[u][r] = _mm512_setzero_si512();
      c1[u][r] = _mm512_setzero_si512();
    }
  }
  auto step = [&](int u, const std::uint8_t* ag, const std::int8_t* bg) QMATH_TARGET_AVX512VNNI_LAMBDA {
    const __m512i b0 = _mm512_load_si512(static_cast<const void*>(bg));
    const __m512i b1 = _mm512_load_si512(static_cast<const void*>(bg + 64));
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      std::int32_t a4;
      std::memcpy(&a4, ag + r * kKGroup, sizeof(a4));
      const __m512i va = _mm512_set1_epi32(a4);
      c0[u][r] = _mm512_dpbusd_epi32(c0[u][r], va, b0);
      c1[u][r] = _mm512_dpbusd_epi32(c1[u][r], va, b1);
    }
  };
  int g = 0;
  for (; g + U <= kgroups; g += U) {
    if (R <= kStreamRows) {
      // Few rows: B streams from L3 / DRAM (GEMV-like shapes) faster than the hardware prefetcher alone fetches it;
      // every line is prefetched kStreamPrefetchBytes ahead (the measurement behind the distance: docs/cpu-gemm.md).
      QMATH_UNROLL
      for (int u = 0; u < 2 * U; ++u) prefetch_l1(b, kStreamPrefetchBytes + 64 * u);
    } else {
      prefetch_l1(b, 8 * kNr * kKGroup);
    }
    QMATH_UNROLL
    for (int u = 0; u < U; ++u) step(u, a + u * kMr * kKGroup, b + u * kNr * kKGroup);
    a += U * kMr * kKGroup;
    b += U * kNr * kKGroup;
  }
  for (; g < kgroups; ++g) {
    step(0, a, b);
    a += kMr * kKGroup;
    b += kNr * kKGroup;
  }
  QMATH_UNROLL
  for (int u = 1; u < U; ++u) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[0][r] = _mm512_add_epi32(c0[0][r], c0[u][r]);
      c1[0][r] = _mm512_add_epi32(c1[0][r], c1[u][r]);
    }
  }
  if (accumulate) {
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      c0[0][r] = _mm512_add_epi32(c0[0][r], _mm512_loadu_si512(static_cast<const void*>(tile + r * kNr)));
      c1[0][r] = _mm512_add_epi32(c1[0][r], _mm512_loadu_si512(static_cast<const void*>(tile + r * kNr + 16)));
    }
  }
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(static_cast<void*>(tile + r * kNr), c0[0][r]);
    _mm512_storeu_si512(static_cast<void*>(tile + r * kNr + 16), c1[0][r]);
  }
}

QMATH_TARGET_AVX512VNNI inline void kernel_avx512vnni(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                      std::int32_t* tile, bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  switch (rows) {
    case 1: return kernel_avx512vnni_rows<1>(kgroups, a, b, tile, accumulate);
    case 2: return kernel_avx512vnni_rows<2>(kgroups, a, b, tile, accumulate);
    case 3: return kernel_avx512vnni_rows<3>(kgroups, a, b, tile, accumulate);
    case 4: return kernel_avx512vnni_rows<4>(kgroups, a, b, tile, accumulate);
    case 5: return kernel_avx512vnni_rows<5>(kgroups, a, b, tile, accumulate);
    case 6: return kernel_avx512vnni_rows<6>(kgroups, a, b, tile, accumulate);
    case 7: return kernel_avx512vnni_rows<7>(kgroups, a, b, tile, accumulate);
    case 8: return kernel_avx512vnni_rows<8>(kgroups, a, b, tile, accumulate);
    case 9: return kernel_avx512vnni_rows<9>(kgroups, a, b, tile, accumulate);
    case 10: return kernel_avx512vnni_rows<10>(kgroups, a, b, tile, accumulate);
    case 11: return kernel_avx512vnni_rows<11>(kgroups, a, b, tile, accumulate);
    default: return kernel_avx512vnni_rows<12>(kgroups, a, b, tile, accumulate);
  }
}

// pack_a_panel<uint8_t> with AVX-512 (same layout, same row sums): 64 k of 4 rows at a time are loaded, flipped
// (int8 -> A' = a + 128), 4x4-transposed as 32-bit groups within each 128-bit lane, and stored as 16-byte runs (the
// 4 rows of one group are contiguous in the panel); row sums come from VPSADBW. Groups past the last full 64 k are
// packed by pack_a_panel_u8_tail.
template <class TA>
QMATH_TARGET_AVX512VNNI inline void pack_a_panel_avx512(int rows, int k, const TA* a, std::int64_t lda,
                                                        std::uint8_t* dst, std::int32_t* row_sum) {
  constexpr int kGroupBytes = kMr * kKGroup;  // 48
  const int kvec = k / 64;
  const __m512i flip = _mm512_set1_epi8(a_offset<TA>() ? static_cast<char>(0x80) : 0);
  const __m512i zero = _mm512_setzero_si512();
  // All-true masks: the maskz forms avoid GCC 12's -Wmaybe-uninitialized on the unmasked intrinsics (see below).
  const __mmask16 kAll16 = 0xFFFF;
  const __mmask8 kAll8 = 0xFF, kAll4 = 0xF;
  std::int64_t sums[kMr] = {};
  for (int q = 0; q < kMr / 4; ++q) {
    __m512i sum4[4] = {zero, zero, zero, zero};
    for (int v = 0; v < kvec; ++v) {
      __m512i x[4];
      for (int i = 0; i < 4; ++i) {
        const int r = 4 * q + i;
        if (r < rows) {
          x[i] = _mm512_xor_si512(_mm512_loadu_si512(static_cast<const void*>(a + r * lda + 64 * v)), flip);
          // The same bytes of the next panel's row (a hint: never faults, even past the end of A).
          _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(a + r * lda + 64 * v) +
                                                     std::uintptr_t(kMr * lda * std::int64_t(sizeof(TA)))),
                       _MM_HINT_T0);
          sum4[i] = _mm512_add_epi64(sum4[i], _mm512_sad_epu8(x[i], zero));
        } else {
          x[i] = zero;
        }
      }
      const __m512i t0 = _mm512_maskz_unpacklo_epi32(kAll16, x[0], x[1]),
                    t1 = _mm512_maskz_unpackhi_epi32(kAll16, x[0], x[1]);
      const __m512i t2 = _mm512_maskz_unpacklo_epi32(kAll16, x[2], x[3]),
                    t3 = _mm512_maskz_unpackhi_epi32(kAll16, x[2], x[3]);
      const __m512i u[4] = {_mm512_maskz_unpacklo_epi64(kAll8, t0, t2), _mm512_maskz_unpackhi_epi64(kAll8, t0, t2),
                            _mm512_maskz_unpacklo_epi64(kAll8, t1, t3), _mm512_maskz_unpackhi_epi64(kAll8, t1, t3)};
      std::uint8_t* out = dst + std::size_t(16 * v) * kGroupBytes + 16 * q;
      // Lane l of u[i] holds rows 4q..4q+3 of group 4l + i.
      for (int i = 0; i < 4; ++i) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (0 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (4 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (8 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 2));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (12 + i) * kGroupBytes),
                         _mm512_maskz_extracti32x4_epi32(kAll4, u[i], 3));
      }
    }
    for (int i = 0; i < 4; ++i) {
      alignas(64) std::int64_t lanes[8];
      _mm512_store_si512(static_cast<void*>(lanes), sum4[i]);
      for (const std::int64_t l : lanes) sums[4 * q + i] += l;
    }
  }
  pack_a_panel_u8_tail(rows, k, 64 * kvec, a, lda, dst, sums, row_sum);  // the remaining k (fewer than 64)
}

// The AVX-512 epilogue: the lane body (cpu/detail/epilogue_lanes-inl.hpp) on 16 lanes (detail/lanes_avx512.hpp),
// bit-exact with apply_epilogue; a tail of fewer than 16 columns runs epilogue_scalar. Full 16-lane chunks are
// stored with plain stores (masked stores that miss the cache are slow: docs/cpu-gemm.md).
// kStream: full 64-byte chunks of 4-byte outputs (int32, float) whose address is 64-byte aligned are written with
// non-temporal stores (VMOVNTDQ / VMOVNTPS), which bypass the caches; the caller issues _mm_sfence() before C is
// published.
template <class TC, bool kStream = false>
QMATH_TARGET_AVX512VNNI inline void epilogue_avx512(const Epilogue& e, const std::int32_t* dot, int ld,
                                                    const std::int32_t* row_comp, int rows,
                                                    const std::int32_t* col_comp, int n0, int cols, TC* out,
                                                    std::int64_t ldc) {
  qmath::detail::lanes_avx512::epilogue_lanes<TC, kStream>(e, dot, ld, row_comp, rows, col_comp, n0, cols, out, ldc);
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_X86

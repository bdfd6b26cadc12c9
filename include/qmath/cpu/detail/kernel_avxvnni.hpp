// qmath/cpu/detail/kernel_avxvnni.hpp - AVX-VNNI micro-kernel: 256-bit VEX VPDPBUSD (Alder Lake, Sapphire Rapids,
// and later). Sub-tile 6 rows x 16 columns (12 ymm accumulators), swept over the kMr x kNr tile; one 32-byte load
// of packed B is 8 columns x 4 k. Uses epilogue_avx2. Compiled only when the compiler knows target("avxvnni").
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath/config.hpp>
#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/pack.hpp>

#if QMATH_CPU_HAS_AVXVNNI_TARGET

#define QMATH_TARGET_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))

namespace qmath {
namespace cpu {
namespace detail {

template <int R>
QMATH_TARGET_AVXVNNI inline void kernel_avxvnni_rows(int kgroups, const std::uint8_t* a, const std::int8_t* b,
                                                     std::int32_t* tile, bool accumulate) {
  for (int c0 = 0; c0 < kNr; c0 += 16) {
    __m256i c_lo[R], c_hi[R];
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) c_lo[r] = c_hi[r] = _mm256_setzero_si256();
    const std::uint8_t* ag = a;
    const std::int8_t* bg = b + c0 * kKGroup;
    for (int g = 0; g < kgroups; ++g) {
      const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bg));
      const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bg + 32));
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        std::int32_t a4;
        std::memcpy(&a4, ag + r * kKGroup, sizeof(a4));
        const __m256i va = _mm256_set1_epi32(a4);
        c_lo[r] = _mm256_dpbusd_avx_epi32(c_lo[r], va, b0);
        c_hi[r] = _mm256_dpbusd_avx_epi32(c_hi[r], va, b1);
      }
      ag += kMr * kKGroup;
      bg += kNr * kKGroup;
    }
    if (accumulate) {
      QMATH_UNROLL
      for (int r = 0; r < R; ++r) {
        c_lo[r] = _mm256_add_epi32(c_lo[r], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + r * kNr + c0)));
        c_hi[r] =
            _mm256_add_epi32(c_hi[r], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + r * kNr + c0 + 8)));
      }
    }
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kNr + c0), c_lo[r]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kNr + c0 + 8), c_hi[r]);
    }
  }
}

QMATH_TARGET_AVXVNNI inline void kernel_avxvnni(int rows, int kgroups, const void* a_panel, const std::int8_t* b,
                                                std::int32_t* tile, bool accumulate) {
  const std::uint8_t* a = static_cast<const std::uint8_t*>(a_panel);
  for (int r0 = 0; r0 < rows; r0 += 6) {
    const std::uint8_t* ar = a + r0 * kKGroup;
    std::int32_t* t = tile + r0 * kNr;
    switch (rows - r0) {
      case 1: kernel_avxvnni_rows<1>(kgroups, ar, b, t, accumulate); break;
      case 2: kernel_avxvnni_rows<2>(kgroups, ar, b, t, accumulate); break;
      case 3: kernel_avxvnni_rows<3>(kgroups, ar, b, t, accumulate); break;
      case 4: kernel_avxvnni_rows<4>(kgroups, ar, b, t, accumulate); break;
      case 5: kernel_avxvnni_rows<5>(kgroups, ar, b, t, accumulate); break;
      default: kernel_avxvnni_rows<6>(kgroups, ar, b, t, accumulate); break;
    }
  }
}

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

#endif  // QMATH_CPU_HAS_AVXVNNI_TARGET

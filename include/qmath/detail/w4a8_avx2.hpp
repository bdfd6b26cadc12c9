// qmath/detail/w4a8_avx2.hpp - AVX2 kernel of gemm_w4a8 (qmath/gemm_w4a8.hpp), bit-exact with its scalar reference.
//
// Eight output columns at a time; lane j of every vector belongs to column n0 + j. Per group g:
//   integer part (exact): sum_k (a - azp)(w - wzp) = S_aw - wzp * (S_a - L * azp) - azp * S_w, where over the
//     group's L valid k: S_aw = sum a * w, S_a = sum a (per row, prepared once), S_w = sum w (per column, only when
//     some row has a nonzero activation zero point). Magnitudes stay below 2^20, far inside int32.
//   float part, per lane exactly the reference's two roundings: sum = sum + float(acc) * scale (vmulps, then
//     vaddps, never fused: the project builds with -ffp-contract=off, QMATH_STRICT_FP, which the reference needs
//     as well), groups in order 0, 1, ..., and c = sum * a_scale[m]. float(acc) is exact (|acc| < 2^24).
// S_aw uses VPMADDUBSW (u8 x s8 -> s16, adjacent pairs summed with signed saturation): the unsigned operand is a
// weight nibble in [0, 15], the signed one an activation in [-128, 127], so a pair sum is at most 2 * 15 * 128 =
// 3840 in magnitude, and the sum of the even-k and odd-k results at most 7680 < 32767: it never saturates, every
// int16 is exact. VPMADDWD with ones then widens adjacent int16 pairs to exact int32 sums. S_w is VPSADBW of
// (low + high nibble) bytes, each <= 30, against zero: exact 64-bit sums of 8 bytes.
// Scales and zero points are stored per column ([N][blocks]); each tile of 8 columns transposes its own into
// [block][column] first (8 x 8 float transposes; zero points 8 nibbles per 32-bit load).
// Layout: a group is cut into units of 32 k (16 for block size 16), one unit = 16 packed weight bytes (8). The
// activation row is prepared per unit as 16 bytes of even-k values then 16 bytes of odd-k values (matching the low
// and high nibbles of the weight bytes), zero past K, so weight nibbles past K (MatMulNBits pads them; any value
// is ignored) meet a zero activation; for S_w the last ragged group masks them out. Weights are read once per call.
// M = 1 (decoding) runs a fused loop (single_row_tile: unpack, multiply, accumulate in registers); larger M unpack a
// group once into a local array and reuse it for every row. Columns past the last multiple of 8 run the scalar
// reference. Compiled with a target attribute; callers resolve the path first (qmath/isa.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <qmath/detail/quantize_simd.hpp>

#if QMATH_X86_SIMD
#include <immintrin.h>

#define QMATH_W4A8_TARGET_AVX2 __attribute__((target("avx2")))

namespace qmath {
namespace detail {
namespace w4a8_avx2 {

// The problem as the kernel sees it (gemm_w4a8 has checked every field).
struct Problem {
  std::size_t M, K, N, block_size;
  const std::int8_t* a;
  const float* a_scale;
  const std::int32_t* a_zero_point;  // or nullptr
  const std::uint8_t* w_packed;
  const float* w_scale;
  const std::uint8_t* w_zero_point;  // or nullptr (8)
  float* c;
};

// Lane j of the result holds column j's total, where p_i holds the int32 partial sums of column i in its low half
// and of column i + 4 in its high half.
QMATH_W4A8_TARGET_AVX2 inline __m256i reduce_columns(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
  return _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
}

// r[i][j] <- r[j][i] for an 8 x 8 block of floats.
QMATH_W4A8_TARGET_AVX2 inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {
    s[4 * h + 0] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

// What every column tile shares: the prepared activations and the masks of the last group.
struct Prepared {
  std::size_t nb;
  bool ragged, any_azp;
  std::vector<std::int8_t> act;       // [m][group][unit][even 16 | odd 16]
  std::vector<std::int32_t> corr;     // [m][group]: S_a - L * azp
  std::vector<std::uint8_t> last_mask;  // [unit][even 16 | odd 16] of the last group: 0x0F where k < K, else 0
};

// How far ahead of the group being read each column's weights are prefetched (a hint: past the end it is harmless).
constexpr std::size_t kPrefetchBytes = 512;

// Unpacks one unit of the weights of columns n0 + i and n0 + i + 4 (i < 4) into low / high nibbles.
template <std::size_t kUnitBytes>
QMATH_W4A8_TARGET_AVX2 inline void unpack_pair(const std::uint8_t* w0, std::size_t column_stride, __m256i mask_lo,
                                               __m256i mask_hi, __m256i& lo, __m256i& hi) {
  const std::uint8_t* w1 = w0 + 4 * column_stride;
  const __m128i x0 = kUnitBytes == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w0))
                                      : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w0));
  const __m128i x1 = kUnitBytes == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w1))
                                      : _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w1));
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(x0), x1, 1);
  lo = _mm256_and_si256(v, mask_lo);
  hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask_hi);
}

// The last group's nibble masks of unit u (0x0F where k < K), both 128-bit halves alike.
QMATH_W4A8_TARGET_AVX2 inline void last_group_masks(const Prepared& pr, std::size_t u, __m256i& mask_lo,
                                                    __m256i& mask_hi) {
  const std::uint8_t* mk = &pr.last_mask[u * 32];
  mask_lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mk)));
  mask_hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mk + 16)));
}

// One tile of 8 columns for M = 1: the same arithmetic as the general loop of column_tiles, fused.
template <std::size_t kBlock>
QMATH_W4A8_TARGET_AVX2 inline void single_row_tile(const Problem& p, const Prepared& pr, std::size_t n0,
                                                   const float* tile_scale, const std::int32_t* tile_zp) {
  constexpr std::size_t kUnitK = kBlock < 32 ? kBlock : 32, kUnits = kBlock / kUnitK, kUnitBytes = kUnitK / 2,
                        kHalf = kBlock / 2;
  const std::size_t nb = pr.nb;
  const __m256i ones16 = _mm256_set1_epi16(1), nibble = _mm256_set1_epi8(0x0F);
  const __m256i azp = _mm256_set1_epi32(p.a_zero_point ? p.a_zero_point[0] : 0);
  __m256 sum = _mm256_setzero_ps();
  for (std::size_t g = 0; g < nb; ++g) {
    const bool masked = pr.ragged && g == nb - 1;
    const std::int8_t* am = &pr.act[g * kUnits * 32];
    __m256i acc[4], sw[4];
    for (std::size_t i = 0; i < 4; ++i) acc[i] = sw[i] = _mm256_setzero_si256();
    for (std::size_t u = 0; u < kUnits; ++u) {
      __m256i mask_lo = nibble, mask_hi = nibble;
      if (masked) last_group_masks(pr, u, mask_lo, mask_hi);
      const __m256i ae = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(am + u * 32)));
      const __m256i ao =
          _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(am + u * 32 + 16)));
      for (std::size_t i = 0; i < 4; ++i) {
        const std::uint8_t* w0 = p.w_packed + ((n0 + i) * nb + g) * kHalf + u * kUnitBytes;
        if (u == 0) {
          _mm_prefetch(reinterpret_cast<const char*>(w0) + kPrefetchBytes, _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(w0 + 4 * nb * kHalf) + kPrefetchBytes, _MM_HINT_T0);
        }
        __m256i lo, hi;
        unpack_pair<kUnitBytes>(w0, nb * kHalf, mask_lo, mask_hi, lo, hi);
        acc[i] = _mm256_add_epi32(
            acc[i], _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, ae), _mm256_maddubs_epi16(hi, ao)),
                                      ones16));
        if (pr.any_azp)
          sw[i] = _mm256_add_epi32(sw[i], _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
      }
    }
    __m256i dot = reduce_columns(acc[0], acc[1], acc[2], acc[3]);
    const __m256i wzp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile_zp + g * 8));
    dot = _mm256_sub_epi32(dot, _mm256_mullo_epi32(wzp, _mm256_set1_epi32(pr.corr[g])));
    if (pr.any_azp) dot = _mm256_sub_epi32(dot, _mm256_mullo_epi32(reduce_columns(sw[0], sw[1], sw[2], sw[3]), azp));
    sum = _mm256_add_ps(sum, _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(tile_scale + g * 8)));
  }
  _mm256_storeu_ps(p.c + n0, _mm256_mul_ps(sum, _mm256_set1_ps(p.a_scale[0])));
}

template <std::size_t kBlock>
QMATH_W4A8_TARGET_AVX2 inline void column_tiles(const Problem& p, const Prepared& pr, std::size_t n_vec) {
  constexpr std::size_t kUnitK = kBlock < 32 ? kBlock : 32, kUnits = kBlock / kUnitK, kUnitBytes = kUnitK / 2,
                        kHalf = kBlock / 2;
  const std::size_t nb = pr.nb, zp_bytes = (nb + 1) / 2, M = p.M, N = p.N;
  const __m256i ones16 = _mm256_set1_epi16(1), nibble = _mm256_set1_epi8(0x0F);
  std::vector<float> sums(M * 8), tile_scale(nb * 8);
  std::vector<std::int32_t> tile_zp(nb * 8, 8);
  for (std::size_t n0 = 0; n0 < n_vec; n0 += 8) {
    // The tile's scales and zero points, [group][column]: 8 x 8 transposes of contiguous loads, the rest scalar.
    std::size_t g = 0;
    for (; g + 8 <= nb; g += 8) {
      __m256 r[8];
      for (std::size_t j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(p.w_scale + (n0 + j) * nb + g);
      transpose8(r);
      for (std::size_t i = 0; i < 8; ++i) _mm256_storeu_ps(&tile_scale[(g + i) * 8], r[i]);
    }
    for (; g < nb; ++g)
      for (std::size_t j = 0; j < 8; ++j) tile_scale[g * 8 + j] = p.w_scale[(n0 + j) * nb + g];
    if (p.w_zero_point) {
      g = 0;
      for (; g + 8 <= nb; g += 8) {  // 4 bytes = 8 nibbles per column; group g + i is bits 4i..4i+3
        alignas(32) std::uint32_t words[8];
        for (std::size_t j = 0; j < 8; ++j) std::memcpy(&words[j], p.w_zero_point + (n0 + j) * zp_bytes + g / 2, 4);
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(words));
        for (std::size_t i = 0; i < 8; ++i)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(&tile_zp[(g + i) * 8]),
                              _mm256_and_si256(_mm256_srl_epi32(w, _mm_cvtsi32_si128(static_cast<int>(4 * i))),
                                               _mm256_set1_epi32(0xF)));
      }
      for (; g < nb; ++g)
        for (std::size_t j = 0; j < 8; ++j)
          tile_zp[g * 8 + j] = (p.w_zero_point[(n0 + j) * zp_bytes + g / 2] >> ((g % 2) * 4)) & 0xF;
    }
    if (M == 1) {  // decoding: unpack and multiply in one pass, accumulators and the sum in registers
      single_row_tile<kBlock>(p, pr, n0, tile_scale.data(), tile_zp.data());
      continue;
    }
    for (float& s : sums) s = 0.0f;

    for (g = 0; g < nb; ++g) {
      const bool masked = pr.ragged && g == nb - 1;
      __m256i lo[kUnits][4] = {}, hi[kUnits][4] = {}, sw[4];
      for (std::size_t i = 0; i < 4; ++i) sw[i] = _mm256_setzero_si256();
      for (std::size_t u = 0; u < kUnits; ++u) {
        __m256i mask_lo = nibble, mask_hi = nibble;
        if (masked) last_group_masks(pr, u, mask_lo, mask_hi);
        for (std::size_t i = 0; i < 4; ++i) {
          const std::uint8_t* w0 = p.w_packed + ((n0 + i) * nb + g) * kHalf + u * kUnitBytes;
          if (u == 0) {  // each column is a short stream (K / 2 bytes): fetch ahead of the hardware prefetcher
            _mm_prefetch(reinterpret_cast<const char*>(w0) + kPrefetchBytes, _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(w0 + 4 * nb * kHalf) + kPrefetchBytes, _MM_HINT_T0);
          }
          unpack_pair<kUnitBytes>(w0, nb * kHalf, mask_lo, mask_hi, lo[u][i], hi[u][i]);
          // S_w: VPSADBW against zero sums 8 bytes (each lo + hi <= 30) into the low 32 bits of a 64-bit lane
          if (pr.any_azp)
            sw[i] = _mm256_add_epi32(
                sw[i], _mm256_sad_epu8(_mm256_add_epi8(lo[u][i], hi[u][i]), _mm256_setzero_si256()));
        }
      }
      const __m256i sw_cols = pr.any_azp ? reduce_columns(sw[0], sw[1], sw[2], sw[3]) : _mm256_setzero_si256();
      const __m256i wzp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&tile_zp[g * 8]));
      const __m256 scale = _mm256_loadu_ps(&tile_scale[g * 8]);
      for (std::size_t m = 0; m < M; ++m) {
        const std::int8_t* am = &pr.act[(m * nb + g) * kUnits * 32];
        __m256i acc[4] = {};
        for (std::size_t u = 0; u < kUnits; ++u) {
          const __m256i ae = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(am + u * 32)));
          const __m256i ao =
              _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(am + u * 32 + 16)));
          for (std::size_t i = 0; i < 4; ++i) {
            const __m256i part = _mm256_madd_epi16(
                _mm256_add_epi16(_mm256_maddubs_epi16(lo[u][i], ae), _mm256_maddubs_epi16(hi[u][i], ao)), ones16);
            acc[i] = u == 0 ? part : _mm256_add_epi32(acc[i], part);
          }
        }
        __m256i dot = reduce_columns(acc[0], acc[1], acc[2], acc[3]);
        dot = _mm256_sub_epi32(dot, _mm256_mullo_epi32(wzp, _mm256_set1_epi32(pr.corr[m * nb + g])));
        if (pr.any_azp) dot = _mm256_sub_epi32(dot, _mm256_mullo_epi32(sw_cols, _mm256_set1_epi32(p.a_zero_point[m])));
        _mm256_storeu_ps(&sums[m * 8],
                         _mm256_add_ps(_mm256_loadu_ps(&sums[m * 8]), _mm256_mul_ps(_mm256_cvtepi32_ps(dot), scale)));
      }
    }
    for (std::size_t m = 0; m < M; ++m)
      _mm256_storeu_ps(p.c + m * N + n0, _mm256_mul_ps(_mm256_loadu_ps(&sums[m * 8]), _mm256_set1_ps(p.a_scale[m])));
  }
}

// Computes columns [0, N - N % 8) of C; returns that count.
QMATH_W4A8_TARGET_AVX2 inline std::size_t gemm(const Problem& p) {
  const std::size_t bs = p.block_size, K = p.K, M = p.M;
  const std::size_t n_vec = p.N - p.N % 8;
  if (n_vec == 0) return 0;
  const std::size_t unit_k = bs < 32 ? bs : 32, units = bs / unit_k, unit_bytes = unit_k / 2;
  Prepared pr;
  pr.nb = K / bs + (K % bs != 0);
  pr.ragged = K % bs != 0;
  pr.any_azp = false;
  const std::size_t nb = pr.nb;
  pr.act.assign(M * nb * units * 32, 0);
  pr.corr.resize(M * nb);
  for (std::size_t m = 0; m < M; ++m) {
    const std::int32_t azp = p.a_zero_point ? p.a_zero_point[m] : 0;
    pr.any_azp = pr.any_azp || azp != 0;
    const std::int8_t* row = p.a + m * K;
    for (std::size_t g = 0; g < nb; ++g) {
      std::int32_t sum = 0, len = 0;
      for (std::size_t u = 0; u < units; ++u)
        for (std::size_t j = 0; j < unit_bytes; ++j)
          for (std::size_t odd = 0; odd < 2; ++odd) {
            const std::size_t k = g * bs + u * unit_k + 2 * j + odd;
            if (k >= K) continue;
            pr.act[((m * nb + g) * units + u) * 32 + odd * 16 + j] = row[k];
            sum += row[k];
            ++len;
          }
      pr.corr[m * nb + g] = sum - len * azp;
    }
  }
  pr.last_mask.assign(units * 32, 0);
  for (std::size_t u = 0; u < units; ++u)
    for (std::size_t j = 0; j < unit_bytes; ++j)
      for (std::size_t odd = 0; odd < 2; ++odd)
        if ((nb - 1) * bs + u * unit_k + 2 * j + odd < K) pr.last_mask[u * 32 + odd * 16 + j] = 0x0F;
  switch (bs) {
    case 16: column_tiles<16>(p, pr, n_vec); break;
    case 32: column_tiles<32>(p, pr, n_vec); break;
    case 64: column_tiles<64>(p, pr, n_vec); break;
    case 128: column_tiles<128>(p, pr, n_vec); break;
    case 256: column_tiles<256>(p, pr, n_vec); break;
    default: return 0;  // not a MatMulNBits block size (gemm_w4a8 checked it): the reference computes everything
  }
  return n_vec;
}

}  // namespace w4a8_avx2
}  // namespace detail
}  // namespace qmath
#endif  // QMATH_X86_SIMD

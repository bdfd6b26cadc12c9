// qmath/cuda/detail/gemm_tn.cuh - the shared-memory tiled "TN" GEMM kernel behind gemm_dp4a and gemm_fp32.
//
// C(M x N) = A(M x K) * B(N x K)^T, both operands K-contiguous. One thread block computes a kM x kN tile of C and
// walks K in steps of kK:
//   1. every thread loads 4-element K chunks of A and B (one 32-bit load for int8, one float4 load for float;
//      elementwise with zero fill at the K tail and outside M / N) into shared memory, transposed to
//      As[k_word][m] / Bs[k_word][n] (a word = 4 int8 along K, or 1 float);
//   2. __syncthreads; each thread accumulates its kThreadM x kThreadN micro-tile with mac(a_word, b_word, acc)
//      (dp4a or fmaf), rows ty + i * kThreadsM and columns tx + j * kThreadsN (interleaved: conflict-free shared
//      reads, coalesced stores of C); int8 kernels with zero points also sum each tile row / column (dp4a with
//      0x01010101);
//   3. __syncthreads, next K tile.
// The epilogue applies detail::zero_point_correct and qmath::apply_epilogue<OutT> (int8) or stores the float sum.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/cuda/arch/barrier.cuh>
#include <qmath/cuda/arch/dp4a.cuh>
#include <qmath/cuda/platform.cuh>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cuda {

// Tile shape of the tiled GEMM: the block computes kM x kN outputs, K advances kK elements per step, each thread
// owns kThreadM x kThreadN outputs; kThreads = (kM / kThreadM) * (kN / kThreadN) threads per block.
template <int M, int N, int K, int ThreadM, int ThreadN>
struct GemmTile {
  static constexpr int kM = M, kN = N, kK = K, kThreadM = ThreadM, kThreadN = ThreadN;
  static constexpr int kThreadsM = M / ThreadM, kThreadsN = N / ThreadN;
  static constexpr int kThreads = kThreadsM * kThreadsN;
  static_assert(K % 4 == 0, "kK must be a multiple of 4 (one dp4a word / one float4 chunk)");
  static_assert(M % ThreadM == 0 && N % ThreadN == 0, "the thread micro-tile must divide the block tile");
  static_assert(kThreads >= 1 && kThreads <= 1024, "threads per block");
};

namespace detail {

// Kernel parameters (passed by value). Element is int8 (uint8 operands are pre-biased by xor 0x80, see
// gemm_dp4a.cuh) or float.
template <class Element, class OutT>
struct GemmTnParams {
  int m, n, k;
  const Element* a;
  std::int64_t lda;
  const Element* b;
  std::int64_t ldb;
  std::uint32_t a_xor, b_xor;  // 0x80808080 turns uint8 bytes into int8 (value - 128); 0 otherwise
  std::int32_t za, zb;         // zero points in the int8 domain (uint8 zero point - 128)
  OutT* c;
  std::int64_t ldc;
  Epilogue epilogue;
};

struct Int8Math {
  using Element = std::int8_t;
  using Word = std::int32_t;  // 4 consecutive K elements
  using Acc = std::int32_t;
  static constexpr int kElemsPerWord = 4;
  static constexpr int kWordsPerChunk = 1;
  QMATH_DEVICE static Acc mac(Word a, Word b, Acc c) { return arch::dp4a(a, b, c); }
};

struct Fp32Math {
  using Element = float;
  using Word = float;
  using Acc = float;
  static constexpr int kElemsPerWord = 1;
  static constexpr int kWordsPerChunk = 4;
  QMATH_DEVICE static Acc mac(Word a, Word b, Acc c) { return fmaf(a, b, c); }
};

// Loads elements [k, k + 4) of `row` as kWordsPerChunk words. Elements at or beyond K read as zero; `valid`
// false (row outside M or N) reads all zeros. The full-chunk path is one aligned 4-byte (int8) or 16-byte (float)
// load: the caller guarantees 4-element alignment of row + k (documented alignment rules).
template <class Math>
QMATH_HOST_DEVICE void load_chunk(const typename Math::Element* row, bool valid, int k, int kend, std::uint32_t xr,
                                  typename Math::Word (&w)[Math::kWordsPerChunk]) {
  if constexpr (std::is_same<typename Math::Element, std::int8_t>::value) {
    std::uint32_t v = 0;
    if (valid && k + 4 <= kend) {
#if defined(__CUDA_ARCH__)
      v = *reinterpret_cast<const std::uint32_t*>(row + k) ^ xr;
#else
      std::memcpy(&v, row + k, 4);
      v ^= xr;
#endif
    } else if (valid) {
      for (int i = 0; i < 4 && k + i < kend; ++i)
        v |= (static_cast<std::uint32_t>(static_cast<std::uint8_t>(row[k + i])) ^ (xr & 0xFFu)) << (8 * i);
    }
    w[0] = static_cast<std::int32_t>(v);
  } else {
    if (valid && k + 4 <= kend) {
#if defined(__CUDA_ARCH__)
      const float4 v = *reinterpret_cast<const float4*>(row + k);
      w[0] = v.x;
      w[1] = v.y;
      w[2] = v.z;
      w[3] = v.w;
#else
      std::memcpy(w, row + k, sizeof(float) * 4);
#endif
    } else {
      QMATH_UNROLL
      for (int i = 0; i < 4; ++i) w[i] = (valid && k + i < kend) ? row[k + i] : 0.0f;
    }
  }
}

// Stages K tile [k0, k0 + Tile::kK) of the kRows operand rows from row0 (row r at base + r * ld) transposed into
// tile[word][row - row0]: thread tid loads chunks tid, tid + kThreads, ...; rows at or beyond `rows` read as zero.
template <class Tile, class Math, int kRows, int kCols>
QMATH_DEVICE void stage_k_tile(const typename Math::Element* base, std::int64_t ld, std::int64_t row0,
                               std::int64_t rows, int k0, int kend, std::uint32_t xr, int tid,
                               typename Math::Word (*tile)[kCols]) {
  constexpr int kChunksPerRow = Tile::kK / 4;
  for (int c = tid; c < kRows * kChunksPerRow; c += Tile::kThreads) {
    const int r = c / kChunksPerRow, kc = c % kChunksPerRow;
    const std::int64_t row = row0 + r;
    typename Math::Word w[Math::kWordsPerChunk];
    load_chunk<Math>(base + (row < rows ? row : 0) * ld, row < rows, k0 + kc * 4, kend, xr, w);
    QMATH_UNROLL
    for (int i = 0; i < Math::kWordsPerChunk; ++i) tile[kc * Math::kWordsPerChunk + i][r] = w[i];
  }
}

// (The explicit minimum of 1 block per SM: without it ptxas for sm_90 capped TileMedium at 40 registers and spilled.)
template <class Tile, class Math, class OutT>
__global__ void __launch_bounds__(Tile::kThreads, 1) gemm_tn_kernel(GemmTnParams<typename Math::Element, OutT> p) {
  using Word = typename Math::Word;
  using Acc = typename Math::Acc;
  constexpr int kWords = Tile::kK / Math::kElemsPerWord;  // words per row per K tile
  constexpr bool kInt8 = std::is_same<Word, std::int32_t>::value;
  constexpr int kSums = kInt8 ? Tile::kM + Tile::kN : 1;
  constexpr int kSumSlots = (Tile::kM + Tile::kN + Tile::kThreads - 1) / Tile::kThreads;
  // +4 words of padding per row: the transposed chunk stores hit distinct banks, rows stay 16-byte aligned.
  QMATH_SHARED_2D(Word, As, kWords, Tile::kM + 4);
  QMATH_SHARED_2D(Word, Bs, kWords, Tile::kN + 4);
  QMATH_SHARED(std::int32_t, sums, kSums);

  const int tid = static_cast<int>(threadIdx.x);
  const int tx = tid % Tile::kThreadsN;
  const int ty = tid / Tile::kThreadsN;
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * Tile::kM;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * Tile::kN;
  const bool need_sums = kInt8 && (p.za != 0 || p.zb != 0);

  Acc acc[Tile::kThreadM][Tile::kThreadN];
  QMATH_UNROLL
  for (int i = 0; i < Tile::kThreadM; ++i) {
    QMATH_UNROLL
    for (int j = 0; j < Tile::kThreadN; ++j) acc[i][j] = Acc(0);
  }
  std::int32_t sum[kSumSlots];
  QMATH_UNROLL
  for (int s = 0; s < kSumSlots; ++s) sum[s] = 0;

  for (int k0 = 0; k0 < p.k; k0 += Tile::kK) {
    stage_k_tile<Tile, Math, Tile::kM>(p.a, p.lda, m0, p.m, k0, p.k, p.a_xor, tid, As);
    stage_k_tile<Tile, Math, Tile::kN>(p.b, p.ldb, n0, p.n, k0, p.k, p.b_xor, tid, Bs);
    arch::sync_block();

    if constexpr (kInt8) {
      if (need_sums) {
        QMATH_UNROLL
        for (int s = 0; s < kSumSlots; ++s) {
          const int r = tid + s * Tile::kThreads;
          if (r < Tile::kM) {
            for (int kw = 0; kw < kWords; ++kw) sum[s] = arch::dp4a(As[kw][r], 0x01010101, sum[s]);
          } else if (r < Tile::kM + Tile::kN) {
            for (int kw = 0; kw < kWords; ++kw) sum[s] = arch::dp4a(Bs[kw][r - Tile::kM], 0x01010101, sum[s]);
          }
        }
      }
    }

    QMATH_UNROLL
    for (int kw = 0; kw < kWords; ++kw) {
      Word a[Tile::kThreadM], b[Tile::kThreadN];
      QMATH_UNROLL
      for (int i = 0; i < Tile::kThreadM; ++i) a[i] = As[kw][ty + i * Tile::kThreadsM];
      QMATH_UNROLL
      for (int j = 0; j < Tile::kThreadN; ++j) b[j] = Bs[kw][tx + j * Tile::kThreadsN];
      QMATH_UNROLL
      for (int i = 0; i < Tile::kThreadM; ++i) {
        QMATH_UNROLL
        for (int j = 0; j < Tile::kThreadN; ++j) acc[i][j] = Math::mac(a[i], b[j], acc[i][j]);
      }
    }
    arch::sync_block();
  }

  if constexpr (kInt8) {
    if (need_sums) {
      QMATH_UNROLL
      for (int s = 0; s < kSumSlots; ++s) {
        const int r = tid + s * Tile::kThreads;
        if (r < Tile::kM + Tile::kN) sums[r] = sum[s];
      }
      arch::sync_block();
    }
  }

  QMATH_UNROLL
  for (int i = 0; i < Tile::kThreadM; ++i) {
    const int rm = ty + i * Tile::kThreadsM;
    const std::int64_t m = m0 + rm;
    QMATH_UNROLL
    for (int j = 0; j < Tile::kThreadN; ++j) {
      const int rn = tx + j * Tile::kThreadsN;
      const std::int64_t n = n0 + rn;
      if (m < p.m && n < p.n) {
        if constexpr (kInt8) {
          std::int32_t v = acc[i][j];
          if (need_sums) v = qmath::detail::zero_point_correct(v, sums[rm], sums[Tile::kM + rn], p.za, p.zb, p.k);
          p.c[m * p.ldc + n] = apply_epilogue<OutT>(p.epilogue, v, static_cast<int>(n));
        } else {
          p.c[m * p.ldc + n] = acc[i][j];
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

// qmath/cuda/detail/gemm_tn.cuh - the shared-memory tiled "TN" GEMM kernel behind gemm_dp4a and gemm_fp32.
//
// C(M x N) = A(M x K) * B(N x K)^T, both operands K-contiguous. One thread block computes a kM x kN tile of C and
// walks K in tiles of kK elements, software-pipelined through registers:
//   * staging: each thread owns a fixed set of 4-element K chunks of A and B (TnStagePlan: rows, pointers, shared
//     offsets computed once, before the k loop). While the block computes K tile t from shared memory, the thread
//     already loads tile t + 1's chunks into registers (one 32-bit load for int8, one float4 for float; rows
//     outside M / N are read from the last row, as they only feed outputs that are never stored; only a K-tail
//     tile takes the element-wise, zero-filling path), then stores them transposed to As[k_word][m] / Bs[k_word][n]
//     (a word = 4 int8 along K, or 1 float). With two shared stages (double buffering) that costs one __syncthreads
//     per K tile; a tile shape whose two stages do not fit in 48 KB uses one stage and two barriers.
//   * conflict-free transposed stores: rows are padded by 4 words and consecutive lanes take chunks so that one warp
//     store covers 32 distinct banks (int8: 4 rows x 8 chunks; float: 16 rows x 2 chunks, each of the chunk's 4
//     words one store);
//   * math: each thread owns a kThreadM x kThreadN micro-tile made of thread-contiguous groups of 4 rows / columns
//     (group g of thread ty holds rows g * kThreadsM * 4 + ty * 4 + 0..3), so its fragment for one K word is read
//     with 128-bit shared loads (broadcast / conflict-free), then acc[i][j] = mac(a[i], b[j], acc[i][j]) (dp4a or
//     fmaf), fully unrolled over the tile's K words; int8 kernels with zero points also sum each tile row / column
//     (dp4a with 0x01010101).
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

// Loads the 4-element K chunk at p as kWordsPerChunk words: one aligned 4-byte (int8, xor xr) or 16-byte (float)
// load. The caller guarantees 4-element alignment of p (documented alignment rules).
template <class Math>
QMATH_HOST_DEVICE void load_chunk(const typename Math::Element* p, std::uint32_t xr,
                                  typename Math::Word (&w)[Math::kWordsPerChunk]) {
  if constexpr (std::is_same<typename Math::Element, std::int8_t>::value) {
    std::uint32_t v;
#if defined(__CUDA_ARCH__)
    v = *reinterpret_cast<const std::uint32_t*>(p);
#else
    std::memcpy(&v, p, 4);
#endif
    w[0] = static_cast<std::int32_t>(v ^ xr);
  } else {
#if defined(__CUDA_ARCH__)
    const float4 v = *reinterpret_cast<const float4*>(p);
    w[0] = v.x;
    w[1] = v.y;
    w[2] = v.z;
    w[3] = v.w;
#else
    std::memcpy(w, p, sizeof(float) * 4);
#endif
  }
}

// The K-tail variant: only elements [0, avail) of the chunk exist (avail < 4 may be <= 0); the rest read as zero.
template <class Math>
QMATH_HOST_DEVICE void load_chunk_partial(const typename Math::Element* p, int avail, std::uint32_t xr,
                                          typename Math::Word (&w)[Math::kWordsPerChunk]) {
  if constexpr (std::is_same<typename Math::Element, std::int8_t>::value) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4 && i < avail; ++i)
      v |= (static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[i])) ^ (xr & 0xFFu)) << (8 * i);
    w[0] = static_cast<std::int32_t>(v);
  } else {
    QMATH_UNROLL
    for (int i = 0; i < 4; ++i) w[i] = i < avail ? p[i] : 0.0f;
  }
}

// Reads N consecutive words from shared memory at p (16-byte aligned for N = 4, 8-byte for N = 2): one 128-bit /
// 64-bit shared load in device code.
template <int N, class Word>
QMATH_HOST_DEVICE void load_shared_words(const Word* p, Word (&out)[N]) {
#if defined(__CUDA_ARCH__)
  if constexpr (N == 4) {
    using V = typename std::conditional<std::is_same<Word, float>::value, float4, int4>::type;
    const V v = *reinterpret_cast<const V*>(p);
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
  } else if constexpr (N == 2) {
    using V = typename std::conditional<std::is_same<Word, float>::value, float2, int2>::type;
    const V v = *reinterpret_cast<const V*>(p);
    out[0] = v.x;
    out[1] = v.y;
  } else {
    out[0] = p[0];
  }
#else
  for (int i = 0; i < N; ++i) out[i] = p[i];
#endif
}

// Widest shared-load group (words) that divides a thread's micro-tile extent.
template <int kThreadExtent>
struct FragmentVector {
  static constexpr int value = kThreadExtent % 4 == 0 ? 4 : kThreadExtent % 2 == 0 ? 2 : 1;
};

// Row (or column) of the tile held by micro-tile element i of thread t (ty or tx): groups of kVec contiguous rows,
// group g at g * kThreads * kVec + t * kVec.
template <int kVec, int kThreads>
QMATH_HOST_DEVICE int fragment_row(int i, int t) {
  return (i / kVec) * (kThreads * kVec) + t * kVec + i % kVec;
}

// Shared-memory layout of one operand's K tile: kWords rows (K words) of kRows + 4 words.
template <class Tile, class Math, int kRows>
struct TnTileLayout {
  static constexpr int kWords = Tile::kK / Math::kElemsPerWord;
  static constexpr int kPitch = kRows + 4;  // +4: conflict-free transposed stores, 16-byte aligned rows
  static constexpr int kStageWords = kWords * kPitch;
};

// Which 4-element K chunks of one operand's K tile this thread stages, fixed for the whole k loop: chunk c = tid +
// s * kThreads (s < kPerThread) is row r, K chunk kc, with kGroup consecutive chunks of a row on consecutive lanes
// (int8: the row's 8 chunks; float: 2 chunks, then the next row), which makes each warp's transposed stores hit 32
// distinct banks. Pointers and shared offsets are computed once. A row outside the matrix is read from its last row
// instead (no predicate in the k loop): those tile rows only feed outputs outside C, which are never stored.
template <class Tile, class Math, int kRows>
struct TnStagePlan {
  using Element = typename Math::Element;
  using Word = typename Math::Word;
  using Layout = TnTileLayout<Tile, Math, kRows>;
  static constexpr int kChunksPerRow = Tile::kK / 4;
  static constexpr int kTotal = kRows * kChunksPerRow;
  static constexpr int kPerThread = (kTotal + Tile::kThreads - 1) / Tile::kThreads;
  static constexpr bool kExact = kTotal % Tile::kThreads == 0;
  static constexpr int kGroup = Math::kWordsPerChunk == 1 ? kChunksPerRow : (kChunksPerRow < 2 ? kChunksPerRow : 2);
  // Rows advanced per step s (kThreads / kGroup). When it divides kRows or kRows divides it, chunk s sits a
  // compile-time offset (row_step(s) rows, chunk_step(s) chunks) from chunk 0: one shared address register.
  static constexpr int kStepRows = Tile::kThreads / kGroup;
  static constexpr bool kAffine = kExact && Tile::kThreads % kGroup == 0 &&
                                  (kStepRows % kRows == 0 || kRows % kStepRows == 0);
  QMATH_HOST_DEVICE static constexpr int row_step(int s) { return (s * kStepRows) % kRows; }
  QMATH_HOST_DEVICE static constexpr int chunk_step(int s) { return (s * kStepRows) / kRows * kGroup; }

  const Element* src[kPerThread];  // chunk at K = 0
  int dst[kPerThread];             // shared word offset of the chunk's first word in a stage
  int kc[kPerThread];              // K chunk index within the tile
  bool active[kPerThread];         // chunk inside the tile (always, when kExact)
  Word regs[kPerThread][Math::kWordsPerChunk];

  QMATH_HOST_DEVICE TnStagePlan(const Element* base, std::int64_t ld, std::int64_t row0, std::int64_t rows, int tid) {
    QMATH_UNROLL
    for (int s = 0; s < kPerThread; ++s) {
      const int c = tid + s * Tile::kThreads;
      active[s] = kExact || c < kTotal;
      const int cc = active[s] ? c : 0;
      const int rest = cc / kGroup;
      const int r = rest % kRows;
      kc[s] = (rest / kRows) * kGroup + cc % kGroup;
      const std::int64_t row = row0 + r < rows ? row0 + r : rows - 1;
      src[s] = base + row * ld + kc[s] * 4;
      dst[s] = kc[s] * Math::kWordsPerChunk * Layout::kPitch + r;
    }
  }

  // Loads K tile [k0, k0 + kK), which lies inside K, into regs.
  QMATH_HOST_DEVICE void load_full(int k0, std::uint32_t xr) {
    QMATH_UNROLL
    for (int s = 0; s < kPerThread; ++s) load_chunk<Math>(src[s] + k0, xr, regs[s]);
  }

  // Loads the K-tail tile [k0, k) (k0 < k < k0 + kK) into regs, zero-filled.
  QMATH_HOST_DEVICE void load_partial(int k0, int k, std::uint32_t xr) {
    QMATH_UNROLL
    for (int s = 0; s < kPerThread; ++s) load_chunk_partial<Math>(src[s] + k0, k - k0 - kc[s] * 4, xr, regs[s]);
  }

  // Stores regs transposed into one stage of the shared tile (word i of a chunk goes kPitch words further).
  QMATH_HOST_DEVICE void store(Word* stage) const {
    QMATH_UNROLL
    for (int s = 0; s < kPerThread; ++s) {
      // kAffine: dst[s] == dst[0] + a constant, so the stores share one address register.
      const int d = kAffine ? dst[0] + (chunk_step(s) * Math::kWordsPerChunk * Layout::kPitch + row_step(s)) : dst[s];
      if (kExact || active[s]) {
        QMATH_UNROLL
        for (int i = 0; i < Math::kWordsPerChunk; ++i) stage[d + i * Layout::kPitch] = regs[s][i];
      }
    }
  }
};

// Shared stages of the pipelined main loop: 2 (double buffering, one barrier per K tile) when both stages of A and B
// fit in 48 KB of static shared memory with the row / column sums, else 1 (two barriers per K tile).
template <class Tile, class Math>
struct TnStages {
  static constexpr int kTwoStageBytes =
      2 * 4 * (TnTileLayout<Tile, Math, Tile::kM>::kStageWords + TnTileLayout<Tile, Math, Tile::kN>::kStageWords) +
      4 * (Tile::kM + Tile::kN);
  static constexpr int value = kTwoStageBytes <= 48 * 1024 ? 2 : 1;
};

// (The explicit minimum of 1 block per SM: without it ptxas for sm_90 capped TileMedium at 40 registers and spilled.)
template <class Tile, class Math, class OutT>
__global__ void __launch_bounds__(Tile::kThreads, 1) gemm_tn_kernel(GemmTnParams<typename Math::Element, OutT> p) {
  using Word = typename Math::Word;
  using Acc = typename Math::Acc;
  using LayoutA = TnTileLayout<Tile, Math, Tile::kM>;
  using LayoutB = TnTileLayout<Tile, Math, Tile::kN>;
  constexpr int kWords = LayoutA::kWords;  // words per row per K tile
  constexpr int kStages = TnStages<Tile, Math>::value;
  constexpr bool kInt8 = std::is_same<Word, std::int32_t>::value;
  constexpr int kSums = kInt8 ? Tile::kM + Tile::kN : 1;
  constexpr int kSumSlots = (Tile::kM + Tile::kN + Tile::kThreads - 1) / Tile::kThreads;
  constexpr int kVecM = FragmentVector<Tile::kThreadM>::value, kVecN = FragmentVector<Tile::kThreadN>::value;
  QMATH_SHARED(Word, As, kStages * LayoutA::kStageWords);
  QMATH_SHARED(Word, Bs, kStages * LayoutB::kStageWords);
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

  TnStagePlan<Tile, Math, Tile::kM> stage_a(p.a, p.lda, m0, p.m, tid);
  TnStagePlan<Tile, Math, Tile::kN> stage_b(p.b, p.ldb, n0, p.n, tid);
  if (Tile::kK <= p.k) {
    stage_a.load_full(0, p.a_xor);
    stage_b.load_full(0, p.b_xor);
  } else {
    stage_a.load_partial(0, p.k, p.a_xor);
    stage_b.load_partial(0, p.k, p.b_xor);
  }
  stage_a.store(As);
  stage_b.store(Bs);
  arch::sync_block();

  const int tiles = (p.k + Tile::kK - 1) / Tile::kK;
  for (int t = 0; t < tiles; ++t) {
    const int stage = kStages == 2 ? (t & 1) : 0;
    const Word* a_tile = As + stage * LayoutA::kStageWords;
    const Word* b_tile = Bs + stage * LayoutB::kStageWords;
    // The next K tile into registers while this one is multiplied (steady state: one branch, no K checks).
    const int k_next = (t + 1) * Tile::kK;
    if (k_next + Tile::kK <= p.k) {
      stage_a.load_full(k_next, p.a_xor);
      stage_b.load_full(k_next, p.b_xor);
    } else if (k_next < p.k) {
      stage_a.load_partial(k_next, p.k, p.a_xor);
      stage_b.load_partial(k_next, p.k, p.b_xor);
    }

    if constexpr (kInt8) {
      if (need_sums) {
        QMATH_UNROLL
        for (int s = 0; s < kSumSlots; ++s) {
          const int r = tid + s * Tile::kThreads;
          if (r < Tile::kM) {
            for (int kw = 0; kw < kWords; ++kw)
              sum[s] = arch::dp4a(a_tile[kw * LayoutA::kPitch + r], 0x01010101, sum[s]);
          } else if (r < Tile::kM + Tile::kN) {
            for (int kw = 0; kw < kWords; ++kw)
              sum[s] = arch::dp4a(b_tile[kw * LayoutB::kPitch + r - Tile::kM], 0x01010101, sum[s]);
          }
        }
      }
    }

    QMATH_UNROLL
    for (int kw = 0; kw < kWords; ++kw) {
      Word a[Tile::kThreadM], b[Tile::kThreadN];
      QMATH_UNROLL
      for (int g = 0; g < Tile::kThreadM / kVecM; ++g) {
        Word v[kVecM];
        load_shared_words<kVecM>(a_tile + kw * LayoutA::kPitch + g * Tile::kThreadsM * kVecM + ty * kVecM, v);
        QMATH_UNROLL
        for (int e = 0; e < kVecM; ++e) a[g * kVecM + e] = v[e];
      }
      QMATH_UNROLL
      for (int g = 0; g < Tile::kThreadN / kVecN; ++g) {
        Word v[kVecN];
        load_shared_words<kVecN>(b_tile + kw * LayoutB::kPitch + g * Tile::kThreadsN * kVecN + tx * kVecN, v);
        QMATH_UNROLL
        for (int e = 0; e < kVecN; ++e) b[g * kVecN + e] = v[e];
      }
      QMATH_UNROLL
      for (int i = 0; i < Tile::kThreadM; ++i) {
        QMATH_UNROLL
        for (int j = 0; j < Tile::kThreadN; ++j) acc[i][j] = Math::mac(a[i], b[j], acc[i][j]);
      }
    }

    // Unconditional: after the last tile this stores stale registers into a stage that is never read again.
    if constexpr (kStages == 1) arch::sync_block();  // everyone is done reading the only stage
    stage_a.store(As + (kStages == 2 ? stage ^ 1 : 0) * LayoutA::kStageWords);
    stage_b.store(Bs + (kStages == 2 ? stage ^ 1 : 0) * LayoutB::kStageWords);
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
    const int rm = fragment_row<kVecM, Tile::kThreadsM>(i, ty);
    const std::int64_t m = m0 + rm;
    QMATH_UNROLL
    for (int j = 0; j < Tile::kThreadN; ++j) {
      const int rn = fragment_row<kVecN, Tile::kThreadsN>(j, tx);
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

// qmath/cuda/detail/gemm_imma_kernel.cuh - the tensor-core (IMMA) "TN" GEMM kernel behind qmath::cuda::gemm_imma.
//
// C(M x N) = epilogue(A(M x K) * B(N x K)^T with zero points), int8 / uint8 operands, int32 accumulation. One block
// computes a kM x kN tile of C with (kM / kWarpM) x (kN / kWarpN) warps; each warp owns a kWarpM x kWarpN sub-tile
// made of mma tiles (Sm80: m16n8k32, Sm75: m8n8k16). Per K tile of kK bytes:
//   * shared memory holds A and B as rows of kK bytes (K contiguous, no padding); the 16-byte chunk c of row r is
//     stored at chunk c ^ imma_swizzle(r), so that the 8 rows of one ldmatrix fall in distinct banks; the fragments
//     come from ldmatrix (non-transposed: the row-major A / column-major B fragments of mma.row.col);
//   * Sm80: a kStages-deep cp.async pipeline (wait_group<kStages - 2>, one barrier per K tile). The partial K tile
//     (K % kK bytes, zero-filled by the copy's src-size) is loaded first, then the whole K tiles in order (integer
//     sums do not depend on the order): the main loop copies whole tiles only, through per-thread source pointers
//     computed once and a K offset advanced by kK. Rows outside M / N copy a row inside the matrix instead (clamped once per block): they only
//     feed outputs outside C, which are never stored, so the loop needs no bounds test;
//   * Sm75: register-prefetch double buffering (the next K tile is loaded from global memory into registers while
//     the current one is multiplied, then stored to the other shared buffer; one barrier per K tile);
//   * with zero points, the kernel also sums each A row and B column of the tile (dp4a / dp4a_u8 with 0x01010101).
// The epilogue applies detail::zero_point_correct and qmath::apply_epilogue<OutT>, as gemm_reference does.
#pragma once

#include <cstdint>
#include <type_traits>

#include <qmath/config.hpp>
#include <qmath/cuda/arch/barrier.cuh>
#include <qmath/cuda/arch/cp_async.cuh>
#include <qmath/cuda/arch/dp4a.cuh>
#include <qmath/cuda/arch/ldmatrix.cuh>
#include <qmath/cuda/arch/memory.cuh>
#include <qmath/cuda/arch/mma.cuh>
#include <qmath/cuda/platform.cuh>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cuda {

// Tile shape of the tensor-core GEMM: the block computes kM x kN outputs, K advances kK bytes per step, each warp
// owns kWarpM x kWarpN outputs; kStages shared-memory buffers on sm_80 (cp.async pipeline), 2 on sm_75.
template <int M, int N, int K, int WarpM, int WarpN, int Stages>
struct ImmaTile {
  static constexpr int kM = M, kN = N, kK = K, kWarpM = WarpM, kWarpN = WarpN, kStages = Stages;
  static constexpr int kWarpsM = M / WarpM, kWarpsN = N / WarpN;
  static constexpr int kThreads = 32 * kWarpsM * kWarpsN;
  // Row stride of a shared tile in 32-bit words (kK bytes, no padding: imma_swizzle keeps ldmatrix conflict-free).
  static constexpr int kRowWords = K / 4;
  static_assert(K == 32 || K == 64 || K == 128, "kK must be 32, 64 or 128 (one to four m16n8k32 steps; the swizzle)");
  static_assert(M % WarpM == 0 && N % WarpN == 0, "the warp tile must divide the block tile");
  static_assert(WarpM % 16 == 0 && WarpN % 8 == 0, "warp tiles are made of 16 x 8 (sm_80) and 8 x 8 (sm_75) mma tiles");
  static_assert(kThreads <= 1024, "threads per block");
  static_assert(Stages >= 2, "at least double buffering");
};

namespace detail {

// The mma shapes: kM x kN x kK with kRegsA / kRegsB / kRegsC registers per lane.
struct ImmaSm80 {
  static constexpr int kM = 16, kN = 8, kK = 32, kRegsA = 4, kRegsB = 2, kRegsC = 4;
  template <class TA, class TB>
  QMATH_DEVICE static void mma(std::int32_t (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                               const std::int32_t (&c)[4]) {
    arch::mma_m16n8k32<TA, TB>(d, a, b, c);
  }
};
struct ImmaSm75 {
  static constexpr int kM = 8, kN = 8, kK = 16, kRegsA = 1, kRegsB = 1, kRegsC = 2;
  template <class TA, class TB>
  QMATH_DEVICE static void mma(std::int32_t (&d)[2], const std::uint32_t (&a)[1], const std::uint32_t (&b)[1],
                               const std::int32_t (&c)[2]) {
    arch::mma_m8n8k16<TA, TB>(d, a, b, c);
  }
};

// Kernel parameters (by value); a and b point to TA / TB bytes, zero points in the operand types' own domain.
template <class OutT>
struct GemmImmaParams {
  int m, n, k;
  const std::uint8_t* a;
  std::int64_t lda;
  const std::uint8_t* b;
  std::int64_t ldb;
  std::int32_t za, zb;
  OutT* c;
  std::int64_t ldc;
  Epilogue epilogue;
};

// Shared-memory tiles: row r of a tile is Tile::kK bytes (kChunks = kK / 16 chunks of 16 bytes); chunk c of row r is
// stored at chunk c ^ imma_swizzle(r). One 128-byte line of banks holds 8 / kChunks rows, and the swizzle gives the
// rows of consecutive lines distinct chunk positions, so that the 8 consecutive rows of one ldmatrix matrix cover
// all 32 banks. Rows 8i + j have the swizzle of row j (the ldmatrix address of a lane depends on its lane only).
template <class Tile>
QMATH_HOST_DEVICE constexpr int imma_swizzle(int row) {
  constexpr int kChunks = Tile::kK / 16;
  return (row / (8 / kChunks)) % kChunks;
}
// Word offset of chunk `chunk` of row `row` in a shared tile.
template <class Tile>
QMATH_HOST_DEVICE constexpr int imma_smem_word(int row, int chunk) {
  return row * Tile::kRowWords + 4 * (chunk ^ imma_swizzle<Tile>(row));
}

// Source of the 16-byte chunk kc of row `row` of K tile k0 and how many of its bytes are inside the matrix.
struct ImmaChunk {
  const std::uint8_t* src;
  int bytes;
};
QMATH_DEVICE ImmaChunk imma_chunk(const std::uint8_t* base, std::int64_t ld, std::int64_t row, std::int64_t rows,
                                  int k, int kend) {
  const int left = kend - k;
  const int bytes = row < rows ? (left >= 16 ? 16 : (left > 0 ? left : 0)) : 0;
  return {bytes > 0 ? base + row * ld + k : base, bytes};
}

// Sm80, the partial K tile: starts the cp.async copies of K tile k0 of kRows rows from row0 into `tile`, zero-filling
// the bytes past kend and the rows past `rows`.
template <class Tile, int kRows>
QMATH_DEVICE void imma_copy_async(const std::uint8_t* base, std::int64_t ld, std::int64_t row0, std::int64_t rows,
                                  int k0, int kend, int tid, std::uint32_t* tile) {
  constexpr int kChunksPerRow = Tile::kK / 16, kChunks = kRows * kChunksPerRow;
  // A compile-time trip count (chunk i of this thread: c = tid + i * kThreads), so that the loop unrolls and the
  // row address math that does not depend on k0 can leave the k loop.
  QMATH_UNROLL
  for (int i = 0; i < (kChunks + Tile::kThreads - 1) / Tile::kThreads; ++i) {
    const int c = tid + i * Tile::kThreads;
    if (kChunks % Tile::kThreads != 0 && c >= kChunks) break;
    const int r = c / kChunksPerRow, kc = c % kChunksPerRow;
    const ImmaChunk ch = imma_chunk(base, ld, row0 + r, rows, k0 + 16 * kc, kend);
    arch::cp_async_16(tile + imma_smem_word<Tile>(r, kc), ch.src, ch.bytes);
  }
}

// Sm80, whole K tiles: this thread's chunks of a kRows-row tile (chunk i: c = tid + i * kThreads) as a source pointer
// per chunk at K tile 0, a K offset shared by all chunks that advances by kK per copied tile, and the chunk's word
// offset in a stage. Rows past `rows` read row rows - 1 instead (their outputs are never stored; the caller
// guarantees row0 < rows).
template <class Tile, int kRows>
struct ImmaTileCopy {
  static constexpr int kChunksPerRow = Tile::kK / 16, kChunks = kRows * kChunksPerRow;
  static constexpr int kPerThread = (kChunks + Tile::kThreads - 1) / Tile::kThreads;
  static constexpr int kRowStep = Tile::kThreads / kChunksPerRow;  // rows between a thread's chunks i and i + 1
  // A row step of whole groups of 8 rows keeps the swizzle: chunk i's offset is chunk 0's plus a constant.
  static constexpr bool kSameSwizzle = Tile::kThreads % kChunksPerRow == 0 && kRowStep % 8 == 0;
  const std::uint8_t* src[kPerThread];
  int dst[kPerThread];
  int tid;
  std::int64_t k = 0;

  QMATH_DEVICE ImmaTileCopy(const std::uint8_t* base, std::int64_t ld, std::int64_t row0, std::int64_t rows, int t)
      : tid(t) {
    QMATH_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      const int c = tid + i * Tile::kThreads;
      const std::int64_t row = row0 + c / kChunksPerRow;
      src[i] = base + (row < rows ? row : rows - 1) * ld + 16 * (c % kChunksPerRow);
      dst[i] = kSameSwizzle && i > 0 ? dst[0] + i * kRowStep * Tile::kRowWords
                                     : imma_smem_word<Tile>(c / kChunksPerRow, c % kChunksPerRow);
    }
  }
  // Starts the copies of the current K tile into `tile` and moves on to the next one.
  QMATH_DEVICE void copy_and_advance(std::uint32_t* tile) {
    QMATH_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      if (kChunks % Tile::kThreads != 0 && tid + i * Tile::kThreads >= kChunks) break;
      arch::cp_async_16(tile + dst[i], src[i] + k, 16);
    }
    k += Tile::kK;
  }
};

// Sm75: loads K tile k0 into registers (chunk i of this thread: c = tid + i * kThreads), zero-filling outside.
template <class Tile, int kRows>
struct ImmaRegisterTile {
  static constexpr int kChunksPerRow = Tile::kK / 16;
  static constexpr int kChunks = (kRows * kChunksPerRow + Tile::kThreads - 1) / Tile::kThreads;
  uint4 v[kChunks];

  QMATH_DEVICE void load(const std::uint8_t* base, std::int64_t ld, std::int64_t row0, std::int64_t rows, int k0,
                         int kend, int tid) {
    QMATH_UNROLL
    for (int i = 0; i < kChunks; ++i) {
      const int c = tid + i * Tile::kThreads;
      v[i] = make_uint4(0u, 0u, 0u, 0u);
      if (c >= kRows * kChunksPerRow) continue;
      const ImmaChunk ch = imma_chunk(base, ld, row0 + c / kChunksPerRow, rows, k0 + 16 * (c % kChunksPerRow), kend);
      if (ch.bytes == 16) {
        v[i] = arch::load_16(ch.src);
      } else {
        // Byte-wise K tail; j runs over all 16 (unrolled) so that w is indexed by constants and stays in registers.
        std::uint32_t w[4] = {0u, 0u, 0u, 0u};
        QMATH_UNROLL
        for (int j = 0; j < 16; ++j)
          if (j < ch.bytes) w[j / 4] |= std::uint32_t(ch.src[j]) << (8 * (j % 4));
        v[i] = make_uint4(w[0], w[1], w[2], w[3]);
      }
    }
  }
  QMATH_DEVICE void store(int tid, std::uint32_t* tile) const {
    QMATH_UNROLL
    for (int i = 0; i < kChunks; ++i) {
      const int c = tid + i * Tile::kThreads;
      if (c < kRows * kChunksPerRow)
        arch::store_16(tile + imma_smem_word<Tile>(c / kChunksPerRow, c % kChunksPerRow), v[i]);
    }
  }
};

// The row / column sums of one K tile (zero points): sum slot s of this thread is tile row tid + s * kThreads,
// A rows first, then B rows.
template <class Tile, class TA, class TB>
QMATH_DEVICE void imma_accumulate_sums(const std::uint32_t* as, const std::uint32_t* bs, int tid,
                                       std::int32_t (&sum)[(Tile::kM + Tile::kN + Tile::kThreads - 1) / Tile::kThreads]) {
  constexpr int kSlots = (Tile::kM + Tile::kN + Tile::kThreads - 1) / Tile::kThreads;
  QMATH_UNROLL
  for (int s = 0; s < kSlots; ++s) {
    const int r = tid + s * Tile::kThreads;
    const bool is_a = r < Tile::kM;
    if (r >= Tile::kM + Tile::kN) continue;
    const std::uint32_t* row = is_a ? as + r * Tile::kRowWords : bs + (r - Tile::kM) * Tile::kRowWords;
    const bool is_signed = is_a ? std::is_signed<TA>::value : std::is_signed<TB>::value;
    for (int w = 0; w < Tile::kK / 4; ++w)
      sum[s] = is_signed ? arch::dp4a(static_cast<std::int32_t>(row[w]), 0x01010101, sum[s])
                         : static_cast<std::int32_t>(arch::dp4a_u8(row[w], 0x01010101u, static_cast<std::uint32_t>(sum[s])));
  }
}

// How many mma tiles of kRegs registers one ldmatrix loads (up to 4 matrices; a divisor of the warp's kTiles).
QMATH_HOST_DEVICE constexpr int imma_tiles_per_ldmatrix(int regs, int tiles) {
  int p = 4 / regs;
  while (p > 1 && tiles % p != 0) p /= 2;
  return p;
}

// One K tile of mma for this warp from the shared tiles as / bs.
template <class Tile, class Mma, class TA, class TB>
QMATH_DEVICE void imma_warp_tile(const std::uint32_t* as, const std::uint32_t* bs, int warp_m0, int warp_n0, int lane,
                                 std::int32_t (&acc)[Tile::kWarpM / Mma::kM][Tile::kWarpN / Mma::kN][Mma::kRegsC]) {
  constexpr int kTilesM = Tile::kWarpM / Mma::kM, kTilesN = Tile::kWarpN / Mma::kN;
  constexpr int kRowBlocksA = Mma::kM / 8;  // 8-row matrices of one A fragment along M
  constexpr int kPa = imma_tiles_per_ldmatrix(Mma::kRegsA, kTilesM), kPb = imma_tiles_per_ldmatrix(Mma::kRegsB, kTilesN);
  constexpr int kNa = Mma::kRegsA * kPa, kNb = Mma::kRegsB * kPb;  // matrices per ldmatrix
  // Lane 8i + j addresses row j of matrix i: register i % kRegs of mma tile i / kRegs (of the tiles loaded together).
  // Every matrix starts at a multiple of 8 rows, so the row's swizzle is that of j.
  const int j = lane % 8, swizzle = imma_swizzle<Tile>(j);
  const int ia = (lane / 8) % kNa, ib = (lane / 8) % kNb;
  const int ra = ia % Mma::kRegsA, rb = ib % Mma::kRegsB;
  // A register ra: rows 8 * (ra % kRowBlocksA) .. + 7, K chunk ra / kRowBlocksA; B register rb: K chunk rb.
  const int a_row = warp_m0 + (ia / Mma::kRegsA) * Mma::kM + 8 * (ra % kRowBlocksA) + j, a_chunk = ra / kRowBlocksA;
  const int b_row = warp_n0 + (ib / Mma::kRegsB) * Mma::kN + j, b_chunk = rb;
  QMATH_UNROLL
  for (int kk = 0; kk < Tile::kK; kk += Mma::kK) {
    std::uint32_t a[kTilesM][Mma::kRegsA], b[kTilesN][Mma::kRegsB];
    QMATH_UNROLL
    for (int mi = 0; mi < kTilesM; mi += kPa) {
      std::uint32_t r[kNa];
      arch::ldmatrix<kNa>(r, as + (a_row + mi * Mma::kM) * Tile::kRowWords + 4 * ((kk / 16 + a_chunk) ^ swizzle));
      QMATH_UNROLL
      for (int q = 0; q < kNa; ++q) a[mi + q / Mma::kRegsA][q % Mma::kRegsA] = r[q];
    }
    QMATH_UNROLL
    for (int ni = 0; ni < kTilesN; ni += kPb) {
      std::uint32_t r[kNb];
      arch::ldmatrix<kNb>(r, bs + (b_row + ni * Mma::kN) * Tile::kRowWords + 4 * ((kk / 16 + b_chunk) ^ swizzle));
      QMATH_UNROLL
      for (int q = 0; q < kNb; ++q) b[ni + q / Mma::kRegsB][q % Mma::kRegsB] = r[q];
    }
    QMATH_UNROLL
    for (int mi = 0; mi < kTilesM; ++mi) {
      QMATH_UNROLL
      for (int ni = 0; ni < kTilesN; ++ni) Mma::template mma<TA, TB>(acc[mi][ni], a[mi], b[ni], acc[mi][ni]);
    }
  }
}

template <class Tile, class Mma, class TA, class TB, class OutT>
__global__ void __launch_bounds__(Tile::kThreads, 1) gemm_imma_kernel(GemmImmaParams<OutT> p) {
  constexpr int kBuffers = std::is_same<Mma, ImmaSm80>::value ? Tile::kStages : 2;
  constexpr int kTilesM = Tile::kWarpM / Mma::kM, kTilesN = Tile::kWarpN / Mma::kN;
  constexpr int kSumSlots = (Tile::kM + Tile::kN + Tile::kThreads - 1) / Tile::kThreads;
  // kBuffers stages of an A tile followed by a B tile; after the main loop, the row / column sums reuse the first
  // words.
  constexpr int kStageWords = (Tile::kM + Tile::kN) * Tile::kRowWords, kBOffset = Tile::kM * Tile::kRowWords;
  QMATH_SHARED(std::uint32_t, smem, kBuffers * kStageWords);
  std::int32_t* const sums = reinterpret_cast<std::int32_t*>(smem);

  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int warp_m0 = (warp / Tile::kWarpsN) * Tile::kWarpM, warp_n0 = (warp % Tile::kWarpsN) * Tile::kWarpN;
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * Tile::kM;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * Tile::kN;
  const bool need_sums = p.za != 0 || p.zb != 0;
  const int ktiles = (p.k + Tile::kK - 1) / Tile::kK;
  const bool k_tail = p.k % Tile::kK != 0;

  std::int32_t acc[kTilesM][kTilesN][Mma::kRegsC];
  QMATH_UNROLL
  for (int mi = 0; mi < kTilesM; ++mi) {
    QMATH_UNROLL
    for (int ni = 0; ni < kTilesN; ++ni) {
      QMATH_UNROLL
      for (int r = 0; r < Mma::kRegsC; ++r) acc[mi][ni][r] = 0;
    }
  }
  std::int32_t sum[kSumSlots];
  QMATH_UNROLL
  for (int s = 0; s < kSumSlots; ++s) sum[s] = 0;

  // The A and B tiles of the stage at word offset `stage` (a multiple of kStageWords).
  auto a_buf = [&](int stage) { return smem + stage; };
  auto b_buf = [&](int stage) { return smem + stage + kBOffset; };
  auto multiply = [&](int stage) {
    if (need_sums) imma_accumulate_sums<Tile, TA, TB>(a_buf(stage), b_buf(stage), tid, sum);
    imma_warp_tile<Tile, Mma, TA, TB>(a_buf(stage), b_buf(stage), warp_m0, warp_n0, lane, acc);
  };

  if constexpr (std::is_same<Mma, ImmaSm80>::value) {
    // Order of the K tiles: the partial one first (if K % kK != 0), then the whole ones from k = 0.
    ImmaTileCopy<Tile, Tile::kM> copy_a(p.a, p.lda, m0, p.m, tid);
    ImmaTileCopy<Tile, Tile::kN> copy_b(p.b, p.ldb, n0, p.n, tid);
    // Prologue: K tiles 0 .. kStages - 2 in flight, one commit group each (empty groups past the end).
    QMATH_UNROLL
    for (int s = 0; s < Tile::kStages - 1; ++s) {
      if (s == 0 && k_tail) {
        const int k0 = p.k - p.k % Tile::kK;
        imma_copy_async<Tile, Tile::kM>(p.a, p.lda, m0, p.m, k0, p.k, tid, a_buf(0));
        imma_copy_async<Tile, Tile::kN>(p.b, p.ldb, n0, p.n, k0, p.k, tid, b_buf(0));
      } else if (s < ktiles) {
        copy_a.copy_and_advance(a_buf(s * kStageWords));
        copy_b.copy_and_advance(b_buf(s * kStageWords));
      }
      arch::cp_async_commit();
    }
    constexpr int kLastStage = (Tile::kStages - 1) * kStageWords;
    int read = 0, write = kLastStage;  // the stages of K tiles kt and kt + kStages - 1
    for (int kt = 0; kt < ktiles; ++kt) {
      arch::cp_async_wait<Tile::kStages - 2>();  // this thread's copies of tile kt have landed
      arch::sync_block();                        // ... and everybody's; buffer `write` (tile kt - 1) is free again
      if (kt + Tile::kStages - 1 < ktiles) {     // a whole K tile
        copy_a.copy_and_advance(a_buf(write));
        copy_b.copy_and_advance(b_buf(write));
      }
      arch::cp_async_commit();
      multiply(read);
      read = read == kLastStage ? 0 : read + kStageWords;
      write = write == kLastStage ? 0 : write + kStageWords;
    }
  } else {
    ImmaRegisterTile<Tile, Tile::kM> ra;
    ImmaRegisterTile<Tile, Tile::kN> rb;
    ra.load(p.a, p.lda, m0, p.m, 0, p.k, tid);
    rb.load(p.b, p.ldb, n0, p.n, 0, p.k, tid);
    ra.store(tid, a_buf(0));
    rb.store(tid, b_buf(0));
    arch::sync_block();
    for (int kt = 0; kt < ktiles; ++kt) {
      const bool more = kt + 1 < ktiles;
      if (more) {  // global loads of the next tile in flight during the mma of this one
        ra.load(p.a, p.lda, m0, p.m, (kt + 1) * Tile::kK, p.k, tid);
        rb.load(p.b, p.ldb, n0, p.n, (kt + 1) * Tile::kK, p.k, tid);
      }
      multiply(kt % 2 * kStageWords);
      if (more) {  // buffer (kt + 1) % 2 was last read in iteration kt - 1, before the previous barrier
        ra.store(tid, a_buf((kt + 1) % 2 * kStageWords));
        rb.store(tid, b_buf((kt + 1) % 2 * kStageWords));
      }
      arch::sync_block();
    }
  }

  if (need_sums) {
    arch::sync_block();  // every warp is done with the tiles that the sums overwrite
    QMATH_UNROLL
    for (int s = 0; s < kSumSlots; ++s) {
      const int r = tid + s * Tile::kThreads;
      if (r < Tile::kM + Tile::kN) sums[r] = sum[s];
    }
    arch::sync_block();
  }

  const int g = lane / 4, t = lane % 4;
  QMATH_UNROLL
  for (int mi = 0; mi < kTilesM; ++mi) {
    QMATH_UNROLL
    for (int ni = 0; ni < kTilesN; ++ni) {
      QMATH_UNROLL
      for (int r = 0; r < Mma::kRegsC; ++r) {
        // Accumulator r of the lane: row g + 8 * (r / 2), column 2t + r % 2 of the mma tile (mma.cuh).
        const int rm = warp_m0 + mi * Mma::kM + g + 8 * (r / 2), rn = warp_n0 + ni * Mma::kN + 2 * t + r % 2;
        const std::int64_t m = m0 + rm, n = n0 + rn;
        if (m < p.m && n < p.n) {
          std::int32_t v = acc[mi][ni][r];
          if (need_sums) v = qmath::detail::zero_point_correct(v, sums[rm], sums[Tile::kM + rn], p.za, p.zb, p.k);
          p.c[m * p.ldc + n] = apply_epilogue<OutT>(p.epilogue, v, static_cast<int>(n));
        }
      }
    }
  }
}

}  // namespace detail
}  // namespace cuda
}  // namespace qmath

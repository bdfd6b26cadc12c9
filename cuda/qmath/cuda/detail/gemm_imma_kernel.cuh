// qmath/cuda/detail/gemm_imma_kernel.cuh - the tensor-core (IMMA) "TN" GEMM kernel behind qmath::cuda::gemm_imma.
//
// C(M x N) = epilogue(A(M x K) * B(N x K)^T with zero points), int8 / uint8 operands, int32 accumulation. One block
// computes a kM x kN tile of C with (kM / kWarpM) x (kN / kWarpN) warps; each warp owns a kWarpM x kWarpN sub-tile
// made of mma tiles (Sm80: m16n8k32, Sm75: m8n8k16). Per K tile of kK bytes:
//   * shared memory holds A and B as rows of kK bytes (K contiguous, padded by 16 bytes so that the 8 rows of one
//     ldmatrix fall in different banks for kK = 32, 64); the fragments come from ldmatrix (non-transposed: the
//     row-major A / column-major B fragments of mma.row.col);
//   * Sm80: a kStages-deep cp.async pipeline (wait_group<kStages - 2>, one barrier per K tile; the K tail and rows
//     outside M / N are zero-filled by the copy's src-size);
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
  // Row stride of a shared tile in 32-bit words: kK bytes + 16 bytes of padding (ldmatrix rows stay 16-byte aligned;
  // the 8 rows of one ldmatrix fall in distinct bank groups for kK = 32, 64).
  static constexpr int kRowWords = (K + 16) / 4;
  static_assert(K % 32 == 0, "kK must be a multiple of 32 (one m16n8k32 step)");
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

// Sm80: starts the cp.async copies of K tile k0 of kRows rows from row0 into `tile` (rows of Tile::kRowWords words).
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
    arch::cp_async_16(tile + r * Tile::kRowWords + 4 * kc, ch.src, ch.bytes);
  }
}

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
        arch::store_16(tile + (c / kChunksPerRow) * Tile::kRowWords + 4 * (c % kChunksPerRow), v[i]);
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

// One K tile of mma for this warp from the shared tiles as / bs.
template <class Tile, class Mma, class TA, class TB>
QMATH_DEVICE void imma_warp_tile(const std::uint32_t* as, const std::uint32_t* bs, int warp_m0, int warp_n0, int lane,
                                 std::int32_t (&acc)[Tile::kWarpM / Mma::kM][Tile::kWarpN / Mma::kN][Mma::kRegsC]) {
  constexpr int kTilesM = Tile::kWarpM / Mma::kM, kTilesN = Tile::kWarpN / Mma::kN;
  constexpr int kRowBlocksA = Mma::kM / 8;  // 8-row matrices of one A fragment along M
  const int j = lane % 8;                   // the row this lane addresses in its ldmatrix matrix
  const int ia = (lane / 8) % Mma::kRegsA, ib = (lane / 8) % Mma::kRegsB;
  QMATH_UNROLL
  for (int kk = 0; kk < Tile::kK; kk += Mma::kK) {
    std::uint32_t a[kTilesM][Mma::kRegsA], b[kTilesN][Mma::kRegsB];
    QMATH_UNROLL
    for (int mi = 0; mi < kTilesM; ++mi) {
      // Matrix ia of the fragment: rows 8 * (ia % kRowBlocksA) .. + 7, bytes 16 * (ia / kRowBlocksA) .. + 15.
      const int row = warp_m0 + mi * Mma::kM + 8 * (ia % kRowBlocksA) + j;
      arch::ldmatrix<Mma::kRegsA>(a[mi], as + row * Tile::kRowWords + (kk + 16 * (ia / kRowBlocksA)) / 4);
    }
    QMATH_UNROLL
    for (int ni = 0; ni < kTilesN; ++ni) {
      const int row = warp_n0 + ni * Mma::kN + j;
      arch::ldmatrix<Mma::kRegsB>(b[ni], bs + row * Tile::kRowWords + (kk + 16 * ib) / 4);
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
  QMATH_SHARED(std::uint32_t, as, kBuffers * Tile::kM * Tile::kRowWords);
  QMATH_SHARED(std::uint32_t, bs, kBuffers * Tile::kN * Tile::kRowWords);
  QMATH_SHARED(std::int32_t, sums, Tile::kM + Tile::kN);

  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  const int warp_m0 = (warp / Tile::kWarpsN) * Tile::kWarpM, warp_n0 = (warp % Tile::kWarpsN) * Tile::kWarpN;
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * Tile::kM;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * Tile::kN;
  const bool need_sums = p.za != 0 || p.zb != 0;
  const int ktiles = (p.k + Tile::kK - 1) / Tile::kK;

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

  auto a_buf = [&](int i) { return as + i * Tile::kM * Tile::kRowWords; };
  auto b_buf = [&](int i) { return bs + i * Tile::kN * Tile::kRowWords; };
  auto multiply = [&](int i) {
    if (need_sums) imma_accumulate_sums<Tile, TA, TB>(a_buf(i), b_buf(i), tid, sum);
    imma_warp_tile<Tile, Mma, TA, TB>(a_buf(i), b_buf(i), warp_m0, warp_n0, lane, acc);
  };

  if constexpr (std::is_same<Mma, ImmaSm80>::value) {
    // Prologue: K tiles 0 .. kStages - 2 in flight, one commit group each (empty groups past the end).
    QMATH_UNROLL
    for (int s = 0; s < Tile::kStages - 1; ++s) {
      if (s < ktiles) {
        imma_copy_async<Tile, Tile::kM>(p.a, p.lda, m0, p.m, s * Tile::kK, p.k, tid, a_buf(s));
        imma_copy_async<Tile, Tile::kN>(p.b, p.ldb, n0, p.n, s * Tile::kK, p.k, tid, b_buf(s));
      }
      arch::cp_async_commit();
    }
    for (int kt = 0; kt < ktiles; ++kt) {
      arch::cp_async_wait<Tile::kStages - 2>();  // this thread's copies of tile kt have landed
      arch::sync_block();                        // ... and everybody's; buffer (kt - 1) % kStages is free again
      const int next = kt + Tile::kStages - 1;
      if (next < ktiles) {
        imma_copy_async<Tile, Tile::kM>(p.a, p.lda, m0, p.m, next * Tile::kK, p.k, tid, a_buf(next % Tile::kStages));
        imma_copy_async<Tile, Tile::kN>(p.b, p.ldb, n0, p.n, next * Tile::kK, p.k, tid, b_buf(next % Tile::kStages));
      }
      arch::cp_async_commit();
      multiply(kt % Tile::kStages);
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
      multiply(kt % 2);
      if (more) {  // buffer (kt + 1) % 2 was last read in iteration kt - 1, before the previous barrier
        ra.store(tid, a_buf((kt + 1) % 2));
        rb.store(tid, b_buf((kt + 1) % 2));
      }
      arch::sync_block();
    }
  }

  if (need_sums) {
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

// qmath/cuda/gemm_dp4a.cuh - INT8 GEMM on CUDA cores with DP4A, INT32 accumulation and the fused qmath epilogue.
//
//   C = epilogue((A - za) * (B - zb)^T)      A: M x K row-major (lda), B: N x K row-major (ldb), C: M x N (ldc)
//
// Bit-exact with qmath::gemm_reference(..., BLayout::kNxK, ...) for every operand type combination (int8 / uint8 x
// int8 / uint8), zero point and epilogue (int32, int8, uint8, float output; float or fixed-point scales, per tensor
// or per channel, bias, output zero point, clamp). uint8 operands are biased to int8 on load (x ^ 0x80 = x - 128,
// with the zero point lowered by 128), so every product is one signed dp4a; the zero points enter through
// qmath::detail::zero_point_correct with row / column sums computed by the kernel from the shared-memory tiles.
//
// Requirements (checked on the host; violations throw qmath::error before anything is launched):
//   * M, N, K > 0; lda >= K, ldb >= K, ldc >= N; K <= max_k_for_int32 of the operand types and zero points;
//   * a and b 4-byte aligned and lda, ldb multiples of 4 (every 4-element K chunk is one aligned 32-bit load);
//     C has no alignment requirement; K need not be a multiple of 4 (the K tail is zero-filled in shared memory);
//   * all pointers, including the epilogue's bias / scale / multiplier / shift arrays, are device pointers;
//   * ceil(N / tile N) <= 65535 (grid y).
// The call is asynchronous on `stream`: no synchronisation, no allocation. Launch errors throw qmath::error with the
// CUDA error text.
#pragma once

#include <cstdint>

#include <qmath/cuda/detail/gemm_tn.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cuda {

// Tile presets (see docs/cuda.md for their register counts).
using TileLarge = GemmTile<128, 128, 32, 8, 8>;  // 256 threads, 64 outputs per thread
using TileMedium = GemmTile<64, 64, 32, 4, 4>;   // 256 threads, 16 outputs per thread
using TileSmall = GemmTile<32, 32, 32, 4, 4>;    // 64 threads, for small or skinny problems

enum class GemmPreset { kAuto, kSmall, kMedium, kLarge };

// kAuto: the largest tile that still gives at least ~2 blocks per SM on a mid-size GPU (~80 SMs): big problems get
// kLarge (most reuse per loaded byte), mid-size kMedium, small or skinny ones kSmall.
inline GemmPreset choose_gemm_preset(GemmShape s) {
  auto blocks = [&](int tm, int tn) {
    return (static_cast<std::int64_t>(s.m) + tm - 1) / tm * ((static_cast<std::int64_t>(s.n) + tn - 1) / tn);
  };
  if (blocks(128, 128) >= 160) return GemmPreset::kLarge;
  if (blocks(64, 64) >= 160) return GemmPreset::kMedium;
  return GemmPreset::kSmall;
}

namespace detail {

template <class T>
constexpr std::uint32_t int8_bias_xor() {
  return std::is_same<T, std::uint8_t>::value ? 0x80808080u : 0u;
}
template <class T>
constexpr std::int32_t int8_bias_offset() {
  return std::is_same<T, std::uint8_t>::value ? 128 : 0;
}

inline bool aligned_to(const void* p, std::uintptr_t bytes) { return reinterpret_cast<std::uintptr_t>(p) % bytes == 0; }

template <class Tile>
void check_grid(const char* where, GemmShape s) {
  const std::int64_t gy = (static_cast<std::int64_t>(s.n) + Tile::kN - 1) / Tile::kN;
  qmath::detail::require(gy <= 65535, where, "N = ", s.n, " needs ", gy, " column tiles, more than the grid limit 65535");
}

}  // namespace detail

// The GEMM with an explicit tile shape (tests and tuning; gemm_dp4a below picks a preset).
template <class Tile, class TA, class TB, class TC>
void gemm_dp4a_tile(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b, std::int64_t ldb,
                    std::int32_t zb, TC* c, std::int64_t ldc, const Epilogue& epilogue, cudaStream_t stream = nullptr) {
  const char* where = "cuda::gemm_dp4a";
  qmath::detail::check_gemm_args(where, s, a, lda, za, b, ldb, BLayout::kNxK, zb, c, ldc);
  validate_epilogue<TC>(epilogue, s.n, /*arrays_on_host=*/false);
  qmath::detail::require(lda % 4 == 0 && ldb % 4 == 0, where, "lda (", lda, ") and ldb (", ldb,
                         ") must be multiples of 4");
  qmath::detail::require(detail::aligned_to(a, 4) && detail::aligned_to(b, 4), where,
                         "A and B must be 4-byte aligned");
  detail::check_grid<Tile>(where, s);

  detail::GemmTnParams<std::int8_t, TC> p{};
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.a = reinterpret_cast<const std::int8_t*>(a);
  p.lda = lda;
  p.b = reinterpret_cast<const std::int8_t*>(b);
  p.ldb = ldb;
  p.a_xor = detail::int8_bias_xor<TA>();
  p.b_xor = detail::int8_bias_xor<TB>();
  p.za = za - detail::int8_bias_offset<TA>();
  p.zb = zb - detail::int8_bias_offset<TB>();
  p.c = c;
  p.ldc = ldc;
  p.epilogue = epilogue;
  const dim3 grid(static_cast<unsigned>((s.m + Tile::kM - 1) / Tile::kM),
                  static_cast<unsigned>((s.n + Tile::kN - 1) / Tile::kN));
  launch(where, &detail::gemm_tn_kernel<Tile, detail::Int8Math, TC>, {grid, dim3(Tile::kThreads), 0, stream}, p);
}

// The GEMM with a preset tile shape (kAuto: choose_gemm_preset).
template <class TA, class TB, class TC>
void gemm_dp4a(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b, std::int64_t ldb,
               std::int32_t zb, TC* c, std::int64_t ldc, const Epilogue& epilogue, cudaStream_t stream = nullptr,
               GemmPreset preset = GemmPreset::kAuto) {
  if (preset == GemmPreset::kAuto && s.m > 0 && s.n > 0) preset = choose_gemm_preset(s);
  switch (preset) {
    case GemmPreset::kLarge:
      return gemm_dp4a_tile<TileLarge>(s, a, lda, za, b, ldb, zb, c, ldc, epilogue, stream);
    case GemmPreset::kMedium:
      return gemm_dp4a_tile<TileMedium>(s, a, lda, za, b, ldb, zb, c, ldc, epilogue, stream);
    case GemmPreset::kSmall:
    default:
      return gemm_dp4a_tile<TileSmall>(s, a, lda, za, b, ldb, zb, c, ldc, epilogue, stream);
  }
}

}  // namespace cuda
}  // namespace qmath

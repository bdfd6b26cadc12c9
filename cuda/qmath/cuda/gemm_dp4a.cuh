// qmath/cuda/gemm_dp4a.cuh - INT8 GEMM on CUDA cores with DP4A, INT32 accumulation and the fused qmath epilogue.
//
//   C = epilogue((A - za) * (B - zb))      GemmArgs (qmath/gemm_args.hpp): A M x K row-major, B K x N column-major
//                                           (the N x K "TN" form, K contiguous), C M x N row-major
//
// Bit-exact with qmath::gemm_reference on the same GemmArgs for every operand type combination (int8 / uint8 x
// int8 / uint8), zero point and epilogue (int32, int8, uint8, float output; float or fixed-point scales, per tensor
// or per channel, bias, output zero point, clamp). uint8 operands are biased to int8 on load (x ^ 0x80 = x - 128,
// with the zero point lowered by 128), so every product is one signed dp4a; the zero points enter through
// qmath::detail::zero_point_correct with row / column sums computed by the kernel from the shared-memory tiles.
//
// Requirements (checked on the host by qmath::validate and can_implement_dp4a; violations throw qmath::error before
// anything is launched):
//   * valid GemmArgs (extents, strides, zero points, K <= max_k_for_int32, the epilogue without reading its arrays);
//   * A and C row-major, B column-major; a and b 4-byte aligned and their strides multiples of 4 (every 4-element K
//     chunk is one aligned 32-bit load);
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
#include <qmath/gemm_args.hpp>
#include <qmath/matrix.hpp>

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

// The orders, alignment and grid the TN kernels take, beyond qmath::validate: A and C row-major, B column-major (its
// N x K storage), A and B aligned to `align` bytes with strides that are multiples of 4 elements.
template <class Tile, class TA, class TB, class TC>
void can_implement_tn(const char* where, const MatrixView<const TA>& a, const MatrixView<const TB>& b,
                      const MatrixView<TC>& c, std::uintptr_t align) {
  qmath::detail::require(a.order == Order::kRowMajor, where, "a must be row-major");
  qmath::detail::require(b.order == Order::kColMajor, where, "b must be column-major (N x K storage, K contiguous)");
  qmath::detail::require(c.order == Order::kRowMajor, where, "c must be row-major");
  qmath::detail::require(a.stride % 4 == 0 && b.stride % 4 == 0, where, "a.stride (", a.stride, ") and b.stride (",
                         b.stride, ") must be multiples of 4");
  qmath::detail::require(aligned_to(a.data, align) && aligned_to(b.data, align), where, "a and b must be ", align,
                         "-byte aligned");
  check_grid<Tile>(where, GemmShape{c.rows, c.cols, a.cols});
}

}  // namespace detail

// The GEMM with an explicit tile shape (tests and tuning; gemm_dp4a below picks a preset). All pointers, including
// the epilogue's arrays, are device pointers.
template <class Tile, class TA, class TB, class TC>
void gemm_dp4a_tile(const GemmArgs<TA, TB, TC>& args, cudaStream_t stream = nullptr) {
  const char* where = "cuda::gemm_dp4a";
  validate(args, where, /*arrays_on_host=*/false);
  detail::can_implement_tn<Tile>(where, args.a, args.b, args.c, 4);
  const GemmShape s = args.shape();
  detail::GemmTnParams<std::int8_t, TC> p{};
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.a = reinterpret_cast<const std::int8_t*>(args.a.data);
  p.lda = args.a.stride;
  p.b = reinterpret_cast<const std::int8_t*>(args.b.data);
  p.ldb = args.b.stride;
  p.a_xor = detail::int8_bias_xor<TA>();
  p.b_xor = detail::int8_bias_xor<TB>();
  p.za = args.a_zero_point - detail::int8_bias_offset<TA>();
  p.zb = args.b_zero_point - detail::int8_bias_offset<TB>();
  p.c = args.c.data;
  p.ldc = args.c.stride;
  p.epilogue = args.epilogue;
  const dim3 grid(static_cast<unsigned>((s.m + Tile::kM - 1) / Tile::kM),
                  static_cast<unsigned>((s.n + Tile::kN - 1) / Tile::kN));
  launch(where, &detail::gemm_tn_kernel<Tile, detail::Int8Math, TC>, {grid, dim3(Tile::kThreads), 0, stream}, p);
}

// The GEMM with a preset tile shape (kAuto: choose_gemm_preset).
template <class TA, class TB, class TC>
void gemm_dp4a(const GemmArgs<TA, TB, TC>& args, cudaStream_t stream = nullptr, GemmPreset preset = GemmPreset::kAuto) {
  const GemmShape s = args.shape();
  if (preset == GemmPreset::kAuto && s.m > 0 && s.n > 0) preset = choose_gemm_preset(s);
  switch (preset) {
    case GemmPreset::kLarge:
      return gemm_dp4a_tile<TileLarge>(args, stream);
    case GemmPreset::kMedium:
      return gemm_dp4a_tile<TileMedium>(args, stream);
    case GemmPreset::kSmall:
    default:
      return gemm_dp4a_tile<TileSmall>(args, stream);
  }
}

}  // namespace cuda
}  // namespace qmath

// qmath/cuda/gemm_imma.cuh - INT8 GEMM on tensor cores (mma.sync: m16n8k32 on sm_80+, m8n8k16 on sm_75), INT32
// accumulation and the fused qmath epilogue; the same arguments, semantics and validation as gemm_dp4a.
//
//   C = epilogue((A - za) * (B - zb))      GemmArgs (qmath/gemm_args.hpp): A M x K row-major, B K x N column-major
//                                           (the N x K "TN" form, K contiguous), C M x N row-major
//
// Bit-exact with qmath::gemm_reference on the same GemmArgs for every operand type combination (int8 / uint8 are
// native mma operand types here: no biasing), zero point and epilogue; the zero points enter through
// qmath::detail::zero_point_correct with row / column sums computed by the kernel from its shared-memory tiles.
//
// Requirements (checked on the host; violations throw qmath::error before anything is launched):
//   * valid GemmArgs (extents, strides, zero points, K <= max_k_for_int32, the epilogue without reading its arrays);
//   * A and C row-major, B column-major; a and b 16-byte aligned and their strides multiples of 16 (every 16-byte K
//     chunk is one aligned cp.async / 128-bit load). Operands that cannot meet this: use gemm_dp4a (4-byte rules);
//   * a device with tensor cores for 8-bit mma: compute capability 7.5 or higher (ImmaPath::kSm80 needs 8.0);
//   * all pointers, including the epilogue's arrays, are device pointers; ceil(N / tile N) <= 65535 (grid y).
// The call is asynchronous on `stream`: no synchronisation, no allocation.
#pragma once

#include <cstdint>

#include <qmath/cuda/detail/gemm_imma_kernel.cuh>
#include <qmath/cuda/gemm_dp4a.cuh>
#include <qmath/cuda/launch.cuh>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/gemm_args.hpp>
#include <qmath/matrix.hpp>

namespace qmath {
namespace cuda {

// Tile presets (kStages applies to sm_80; sm_75 double-buffers).
using ImmaTileLarge = ImmaTile<128, 128, 64, 64, 64, 3>;  // 4 warps, 64 x 64 outputs per warp, 48 KB shared
using ImmaTileMedium = ImmaTile<64, 64, 64, 32, 32, 3>;   // 4 warps, 24 KB shared
using ImmaTileSmall = ImmaTile<32, 32, 64, 16, 16, 3>;    // 4 warps, 12 KB shared, for small or skinny problems

// Which mma the kernel uses: kAuto picks kSm80 on compute capability 8.0+, kSm75 on 7.5.
enum class ImmaPath { kAuto, kSm75, kSm80 };

namespace detail {

// The compute capability of the current device as 10 * major + minor.
inline int current_compute_capability(const char* where) {
  int device = 0, major = 0, minor = 0;
  check_cuda(cudaGetDevice(&device), where);
  check_cuda(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), where);
  check_cuda(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), where);
  return 10 * major + minor;
}

inline ImmaPath resolve_imma_path(const char* where, ImmaPath path) {
  const int cc = current_compute_capability(where);
  qmath::detail::require(cc >= 75, where, "needs tensor cores with 8-bit mma (compute capability 7.5+), the device has ",
                         cc / 10, ".", cc % 10, "; use gemm_dp4a");
  if (path == ImmaPath::kAuto) return cc >= 80 ? ImmaPath::kSm80 : ImmaPath::kSm75;
  qmath::detail::require(path != ImmaPath::kSm80 || cc >= 80, where,
                         "ImmaPath::kSm80 (mma m16n8k32, cp.async) needs compute capability 8.0+, the device has ",
                         cc / 10, ".", cc % 10);
  return path;
}

}  // namespace detail

// The GEMM with an explicit tile shape and mma path. All pointers, including the epilogue's arrays, are device
// pointers.
template <class Tile, class TA, class TB, class TC>
void gemm_imma_tile(const GemmArgs<TA, TB, TC>& args, cudaStream_t stream = nullptr, ImmaPath path = ImmaPath::kAuto) {
  const char* where = "cuda::gemm_imma";
  validate(args, where, /*arrays_on_host=*/false);
  detail::can_implement_tn<Tile>(where, args.a, args.b, args.c, 16);
  qmath::detail::require(args.a.stride % 16 == 0 && args.b.stride % 16 == 0, where, "a.stride (", args.a.stride,
                         ") and b.stride (", args.b.stride, ") must be multiples of 16");
  path = detail::resolve_imma_path(where, path);
  const GemmShape s = args.shape();
  detail::GemmImmaParams<TC> p{};
  p.m = s.m;
  p.n = s.n;
  p.k = s.k;
  p.a = reinterpret_cast<const std::uint8_t*>(args.a.data);
  p.lda = args.a.stride;
  p.b = reinterpret_cast<const std::uint8_t*>(args.b.data);
  p.ldb = args.b.stride;
  p.za = args.a_zero_point;
  p.zb = args.b_zero_point;
  p.c = args.c.data;
  p.ldc = args.c.stride;
  p.epilogue = args.epilogue;
  const dim3 grid(static_cast<unsigned>((s.m + Tile::kM - 1) / Tile::kM),
                  static_cast<unsigned>((s.n + Tile::kN - 1) / Tile::kN));
  const LaunchConfig cfg{grid, dim3(Tile::kThreads), 0, stream};
  if (path == ImmaPath::kSm80) {
    launch(where, &detail::gemm_imma_kernel<Tile, detail::ImmaSm80, TA, TB, TC>, cfg, p);
  } else {
    launch(where, &detail::gemm_imma_kernel<Tile, detail::ImmaSm75, TA, TB, TC>, cfg, p);
  }
}

// The GEMM with a preset tile shape (kAuto: choose_gemm_preset, the same rule as gemm_dp4a's).
template <class TA, class TB, class TC>
void gemm_imma(const GemmArgs<TA, TB, TC>& args, cudaStream_t stream = nullptr, ImmaPath path = ImmaPath::kAuto,
               GemmPreset preset = GemmPreset::kAuto) {
  const GemmShape s = args.shape();
  if (preset == GemmPreset::kAuto && s.m > 0 && s.n > 0) preset = choose_gemm_preset(s);
  switch (preset) {
    case GemmPreset::kLarge:
      return gemm_imma_tile<ImmaTileLarge>(args, stream, path);
    case GemmPreset::kMedium:
      return gemm_imma_tile<ImmaTileMedium>(args, stream, path);
    case GemmPreset::kSmall:
    default:
      return gemm_imma_tile<ImmaTileSmall>(args, stream, path);
  }
}

}  // namespace cuda
}  // namespace qmath

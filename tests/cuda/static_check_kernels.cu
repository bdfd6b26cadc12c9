// Instantiates every preset kernel of qmath/cuda (DP4A GEMM x output types, FP32 GEMM) for the static checks run by
// static_checks.cmake: warnings-as-errors compile per architecture, ptxas spill check, dp4a / IDP.4A presence.
#include <qmath/cuda/gemm_dp4a.cuh>
#include <qmath/cuda/gemm_fp32.cuh>

namespace {

template <class Tile>
void instantiate(void (**out)(), int& i) {
  using namespace qmath::cuda::detail;
  out[i++] = reinterpret_cast<void (*)()>(&gemm_tn_kernel<Tile, Int8Math, std::int32_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_tn_kernel<Tile, Int8Math, std::int8_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_tn_kernel<Tile, Int8Math, std::uint8_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_tn_kernel<Tile, Int8Math, float>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_tn_kernel<Tile, Fp32Math, float>);
}

}  // namespace

int qmath_static_check_kernel_count() {
  void (*kernels[15])() = {};
  int i = 0;
  instantiate<qmath::cuda::TileSmall>(kernels, i);
  instantiate<qmath::cuda::TileMedium>(kernels, i);
  instantiate<qmath::cuda::TileLarge>(kernels, i);
  int n = 0;
  for (auto* k : kernels) n += k != nullptr;
  return n;
}

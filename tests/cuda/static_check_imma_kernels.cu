// Instantiates every gemm_imma kernel of the static checks (tests/cuda/static_checks.sh) and the static main-loop
// model (scripts/sass_model.py): 3 presets x 4 output types x 2 mma paths, int8 x int8 operands (the other
// signedness pairs differ only in the mma's type qualifiers). Every architecture compiles both paths; on sm_75 the
// sm_80 path (m16n8k32) is a __trap() that the host never launches.
#include <qmath/cuda/gemm_imma.cuh>

namespace {

template <class Tile, class Mma>
void instantiate(void (**out)(), int& i) {
  using namespace qmath::cuda::detail;
  out[i++] = reinterpret_cast<void (*)()>(&gemm_imma_kernel<Tile, Mma, std::int8_t, std::int8_t, std::int32_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_imma_kernel<Tile, Mma, std::int8_t, std::int8_t, std::int8_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_imma_kernel<Tile, Mma, std::int8_t, std::int8_t, std::uint8_t>);
  out[i++] = reinterpret_cast<void (*)()>(&gemm_imma_kernel<Tile, Mma, std::int8_t, std::int8_t, float>);
}

}  // namespace

int qmath_static_check_imma_kernel_count() {
  using qmath::cuda::detail::ImmaSm75;
  using qmath::cuda::detail::ImmaSm80;
  void (*kernels[24])() = {};
  int i = 0;
  instantiate<qmath::cuda::ImmaTileSmall, ImmaSm80>(kernels, i);
  instantiate<qmath::cuda::ImmaTileMedium, ImmaSm80>(kernels, i);
  instantiate<qmath::cuda::ImmaTileLarge, ImmaSm80>(kernels, i);
  instantiate<qmath::cuda::ImmaTileSmall, ImmaSm75>(kernels, i);
  instantiate<qmath::cuda::ImmaTileMedium, ImmaSm75>(kernels, i);
  instantiate<qmath::cuda::ImmaTileLarge, ImmaSm75>(kernels, i);
  int n = 0;
  for (auto* k : kernels) n += k != nullptr;
  return n;
}

// CUTLASS's default device GEMMs (cutlass::gemm::device::Gemm with DefaultGemmConfiguration), instantiated only so
// that scripts/sass_model.py can compile them and model their main loops beside qmath's. Compiled with -cubin; the
// host function takes each kernel's address so the template is emitted. Headers: the nvidia-cutlass wheel in .venv.
//   SIMT IGEMM      int8 x int8 -> int32, A row-major, B column-major ("TN"), 128x128x32 tile, 2 stages, dp4a
//   SIMT SGEMM      float, the same layouts, 128x128x8 tile, 2 stages
//   TensorOp IGEMM  int8 x int8 -> int32 on sm_80 (IMMA 16x8x32), 128x256x64 tile, 3 stages, cp.async
#include <cstdint>

#include <cutlass/gemm/device/gemm.h>

namespace {

using RowMajor = cutlass::layout::RowMajor;
using ColumnMajor = cutlass::layout::ColumnMajor;

#if defined(QMATH_CUTLASS_SIMT)
using SimtIgemm = cutlass::gemm::device::Gemm<std::int8_t, RowMajor, std::int8_t, ColumnMajor, std::int32_t, RowMajor,
                                              std::int32_t, cutlass::arch::OpClassSimt, cutlass::arch::Sm61>;
using SimtSgemm = cutlass::gemm::device::Gemm<float, RowMajor, float, ColumnMajor, float, RowMajor, float,
                                              cutlass::arch::OpClassSimt, cutlass::arch::Sm50>;
#endif
#if defined(QMATH_CUTLASS_TENSOROP)
using TensorOpIgemm = cutlass::gemm::device::Gemm<std::int8_t, RowMajor, std::int8_t, ColumnMajor, std::int32_t,
                                                  RowMajor, std::int32_t, cutlass::arch::OpClassTensorOp,
                                                  cutlass::arch::Sm80>;
#endif

}  // namespace

void* qmath_cutlass_reference_kernels[] = {
#if defined(QMATH_CUTLASS_SIMT)
    reinterpret_cast<void*>(&cutlass::Kernel<SimtIgemm::GemmKernel>),
    reinterpret_cast<void*>(&cutlass::Kernel<SimtSgemm::GemmKernel>),
#endif
#if defined(QMATH_CUTLASS_TENSOROP)
    reinterpret_cast<void*>(&cutlass::Kernel<TensorOpIgemm::GemmKernel>),
#endif
};

// qmath/cuda/launch.cuh - the one kernel launch wrapper every qmath CUDA entry point uses.
//
//   qmath::cuda::launch("gemm_dp4a", kernel, {grid, block, dynamic_shared_bytes, stream}, args...);
//
// Under nvcc: kernel<<<grid, block, dynamic_shared_bytes, stream>>>(args...), then cudaGetLastError(); a launch
// error throws qmath::error "qmath::<where>: kernel launch failed: <cudaErrorName>: <cudaGetErrorString>". The
// launch is asynchronous (nothing is synchronised); errors that happen while the kernel runs surface at the
// caller's next synchronising CUDA call, as usual in CUDA (use check_cuda on its result).
// Under QMATH_CUDA_HOST_EMULATION (tests only): the kernel runs on the CPU through qmath/cuda/emulation/ before
// launch() returns; invalid launch configurations throw qmath::error as well.
#pragma once

#include <cstddef>
#include <utility>

#include <qmath/cuda/platform.cuh>
#include <qmath/error.hpp>

namespace qmath {
namespace cuda {

struct LaunchConfig {
  dim3 grid;
  dim3 block;
  std::size_t shared_bytes = 0;  // dynamic shared memory
  cudaStream_t stream = nullptr;
};

#if !QMATH_CUDA_EMULATED
// Throws qmath::error naming `where` and the CUDA error unless e is cudaSuccess.
inline void check_cuda(cudaError_t e, const char* where) {
  if (e != cudaSuccess) qmath::detail::fail(where, cudaGetErrorName(e), ": ", cudaGetErrorString(e));
}
#endif

template <class... Params, class... Args>
void launch(const char* where, void (*kernel)(Params...), const LaunchConfig& cfg, Args&&... args) {
#if QMATH_CUDA_EMULATED
  (void)where;
  emu::launch(cfg.grid, cfg.block, cfg.shared_bytes, [&] { kernel(args...); });
#else
  kernel<<<cfg.grid, cfg.block, cfg.shared_bytes, cfg.stream>>>(std::forward<Args>(args)...);
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    qmath::detail::fail(where, "kernel launch failed: ", cudaGetErrorName(e), ": ", cudaGetErrorString(e));
#endif
}

}  // namespace cuda
}  // namespace qmath

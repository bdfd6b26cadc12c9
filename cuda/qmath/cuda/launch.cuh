// qmath/cuda/launch.cuh - the one kernel launch wrapper every qmath CUDA entry point uses.
//
//   qmath::cuda::launch("gemm_dp4a", kernel, {grid, block, dynamic_shared_bytes, stream}, args...);
//
// cudaLaunchKernelEx(kernel, args...) (CUDA 11.8+); a launch error throws qmath::error "qmath::<where>: kernel launch
// failed: <cudaErrorName>: <cudaGetErrorString>". The launch is asynchronous (nothing is synchronised); errors that
// happen while the kernel runs surface at the caller's next synchronising CUDA call, as usual in CUDA (use check_cuda
// on its result).
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

// Throws qmath::error naming `where` and the CUDA error unless e is cudaSuccess.
inline void check_cuda(cudaError_t e, const char* where) {
  if (e != cudaSuccess) qmath::detail::fail(where, cudaGetErrorName(e), ": ", cudaGetErrorString(e));
}

template <class... Params, class... Args>
void launch(const char* where, void (*kernel)(Params...), const LaunchConfig& cfg, Args&&... args) {
  cudaLaunchConfig_t c{};
  c.gridDim = cfg.grid;
  c.blockDim = cfg.block;
  c.dynamicSmemBytes = cfg.shared_bytes;
  c.stream = cfg.stream;
  cudaError_t e = cudaLaunchKernelEx(&c, kernel, std::forward<Args>(args)...);
  if (e == cudaSuccess) e = cudaGetLastError();
  if (e != cudaSuccess)
    qmath::detail::fail(where, "kernel launch failed: ", cudaGetErrorName(e), ": ", cudaGetErrorString(e));
}

}  // namespace cuda
}  // namespace qmath

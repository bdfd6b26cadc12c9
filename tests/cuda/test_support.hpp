// Helpers shared by the CUDA tests, so that one test source runs both through the host shim (tests/cuda/shim:
// "device" memory is host memory) and on a real GPU (nvcc): both go through cudaMalloc / cudaMemcpy.
#pragma once

#include <cstddef>
#include <vector>

#include <qmath/cuda/launch.cuh>

namespace qmath_test {

#if defined(QMATH_CUDA_HOST_SHIM)
#define QMATH_CUDA_TEST_TAG "[shim]"
#else
#define QMATH_CUDA_TEST_TAG "[gpu]"
#endif

// A device array of T, zero-initialised or copied in at construction; copy-out with
// download() (which synchronises the device first).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : n_(n) { allocate(); }
  explicit DeviceBuffer(const std::vector<T>& host) : n_(host.size()) {
    allocate();
    upload(host);
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  std::size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
    qmath::cuda::check_cuda(cudaMemcpy(ptr_, host.data(), sizeof(T) * n_, cudaMemcpyHostToDevice), "test upload");
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
    qmath::cuda::check_cuda(cudaDeviceSynchronize(), "test sync");
    qmath::cuda::check_cuda(cudaMemcpy(host.data(), ptr_, sizeof(T) * n_, cudaMemcpyDeviceToHost), "test download");
    return host;
  }

 private:
  void allocate() {
    qmath::cuda::check_cuda(cudaMalloc(reinterpret_cast<void**>(&ptr_), sizeof(T) * (n_ ? n_ : 1)), "test malloc");
    qmath::cuda::check_cuda(cudaMemset(ptr_, 0, sizeof(T) * (n_ ? n_ : 1)), "test memset");
  }
  std::size_t n_;
  T* ptr_ = nullptr;
};

}  // namespace qmath_test

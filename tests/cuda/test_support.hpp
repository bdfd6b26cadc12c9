// Helpers shared by the CUDA tests, so that one test source runs both through the host emulation
// (QMATH_CUDA_HOST_EMULATION: "device" memory is host memory) and on a real GPU (nvcc: cudaMalloc / cudaMemcpy).
#pragma once

#include <cstddef>
#include <vector>

#include <qmath/cuda/launch.cuh>

namespace qmath_test {

#if QMATH_CUDA_EMULATED
#define QMATH_CUDA_TEST_TAG "[emulated]"
#else
#define QMATH_CUDA_TEST_TAG "[gpu]"
#endif

// A device array of T (host memory under emulation), zero-initialised or copied in at construction; copy-out with
// download() (which synchronises the device first).
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : n_(n) { allocate(); }
  explicit DeviceBuffer(const std::vector<T>& host) : n_(host.size()) {
    allocate();
    upload(host);
  }
  ~DeviceBuffer() {
#if !QMATH_CUDA_EMULATED
    cudaFree(ptr_);
#endif
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() { return ptr_; }
  const T* get() const { return ptr_; }
  std::size_t size() const { return n_; }

  void upload(const std::vector<T>& host) {
#if QMATH_CUDA_EMULATED
    for (std::size_t i = 0; i < n_ && i < host.size(); ++i) storage_[i] = host[i];
#else
    qmath::cuda::check_cuda(cudaMemcpy(ptr_, host.data(), sizeof(T) * n_, cudaMemcpyHostToDevice), "test upload");
#endif
  }
  std::vector<T> download() const {
    std::vector<T> host(n_);
#if QMATH_CUDA_EMULATED
    for (std::size_t i = 0; i < n_; ++i) host[i] = storage_[i];
#else
    qmath::cuda::check_cuda(cudaDeviceSynchronize(), "test sync");
    qmath::cuda::check_cuda(cudaMemcpy(host.data(), ptr_, sizeof(T) * n_, cudaMemcpyDeviceToHost), "test download");
#endif
    return host;
  }

 private:
  void allocate() {
#if QMATH_CUDA_EMULATED
    storage_.assign(n_ + 1, T{});  // +1: a valid pointer even for n == 0
    ptr_ = storage_.data();
#else
    qmath::cuda::check_cuda(cudaMalloc(reinterpret_cast<void**>(&ptr_), sizeof(T) * (n_ ? n_ : 1)), "test malloc");
    qmath::cuda::check_cuda(cudaMemset(ptr_, 0, sizeof(T) * (n_ ? n_ : 1)), "test memset");  // as the emulated one
#endif
  }
  std::size_t n_;
  T* ptr_ = nullptr;
#if QMATH_CUDA_EMULATED
  std::vector<T> storage_;
#endif
};

}  // namespace qmath_test

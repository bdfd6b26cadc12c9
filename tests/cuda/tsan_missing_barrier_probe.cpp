// Proof that the host shim (tests/cuda/shim) makes a missing __syncthreads visible to ThreadSanitizer: the kernel
// below writes shared memory and reads a neighbour's slot without a barrier. Built with -fsanitize=thread and
// registered so that the CTest passes only if TSan reports "data race" (see CMakeLists.txt). With the barrier
// (argument "fixed") the same program must report nothing: cuda_emulation_tsan_test runs the correct kernels
// race-free.
#include <qmath/cuda/launch.cuh>

#include <cstdio>
#include <cstring>
#include <vector>

template <bool kWithBarrier>
__global__ void neighbour_read(const int* in, int* out) {
  QMATH_SHARED(int, s, 64);
  const int t = static_cast<int>(threadIdx.x);
  s[t] = in[t];
  if (kWithBarrier) __syncthreads();
  out[t] = s[(t + 1) % 64];
}

int main(int argc, char** argv) {
  const bool fixed = argc > 1 && std::strcmp(argv[1], "fixed") == 0;
  std::vector<int> in(64, 1), out(64, 0);
  for (int i = 0; i < 20; ++i) {
    if (fixed)
      qmath::cuda::launch("probe", neighbour_read<true>, {dim3(1), dim3(64), 0, nullptr}, in.data(), out.data());
    else
      qmath::cuda::launch("probe", neighbour_read<false>, {dim3(1), dim3(64), 0, nullptr}, in.data(), out.data());
  }
  std::printf("probe finished (%s)\n", fixed ? "with barrier" : "barrier missing");
  return 0;
}

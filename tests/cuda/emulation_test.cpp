// Tests of the tests' host shim (tests/cuda/shim): indexing, barriers, shared memory, atomics,
// launch checks. Kernels here are written exactly as device code would be.
#include <qmath/cuda/launch.cuh>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

using qmath::cuda::emu::Schedule;
using qmath::cuda::emu::ScopedSchedule;

// Every (block, thread) pair runs exactly once with consistent built-in variables.
__global__ void record_indices(int* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned nthreads = blockDim.x * blockDim.y * blockDim.z;
  atomicAdd(&out[block * nthreads + thread], 1);
}

// Thread t writes s[t], then reads its neighbour's slot. Correct only with the barrier in between.
template <bool kWithBarrier>
__global__ void rotate_through_shared(const int* in, int* out) {
  QMATH_SHARED(int, s, 64);
  const int t = static_cast<int>(threadIdx.x);
  const int n = static_cast<int>(blockDim.x);
  const int base = static_cast<int>(blockIdx.x) * n;
  s[t] = in[base + t];
  if (kWithBarrier) __syncthreads();
  out[base + t] = s[(t + 1) % n];
}

// A block-wide tree reduction: many barrier phases.
__global__ void block_sum(const int* in, int* out) {
  QMATH_SHARED(int, s, 128);
  const unsigned t = threadIdx.x;
  s[t] = in[blockIdx.x * blockDim.x + t];
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = s[0];
}

// Threads that return early must not deadlock the barrier of the others.
__global__ void early_exit(int* out) {
  QMATH_SHARED(int, s, 32);
  const unsigned t = threadIdx.x;
  if (t % 2 == 1) return;
  s[t] = static_cast<int>(t);
  __syncthreads();
  out[t] = s[(t + 2) % 32];
}

// Shared memory starts as garbage in every block (never as the previous block's data or zeros).
__global__ void shared_is_fresh(unsigned* out) {
  QMATH_SHARED(unsigned, s, 4);
  QMATH_SHARED_2D(unsigned char, grid2d, 3, 5);
  if (threadIdx.x == 0) {
    out[blockIdx.x * 2] = s[blockIdx.x % 4];
    out[blockIdx.x * 2 + 1] = grid2d[2][4];
    s[blockIdx.x % 4] = 7;
    grid2d[2][4] = 9;
  }
}

__global__ void dynamic_shared_kernel(int* out) {
  QMATH_DYNAMIC_SHARED(int, s);
  s[threadIdx.x] = static_cast<int>(threadIdx.x) * 3;
  __syncthreads();
  out[threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

__global__ void atomics_kernel(int* i, unsigned long long* u, float* f, int* mx, unsigned* mn) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(i, 1);
  atomicAdd(u, 1ull << 33);
  atomicAdd(f, 0.5f);
  atomicMax(mx, (g * 7919) % 1000);
  atomicMin(mn, static_cast<unsigned>(1000 + (g * 7919) % 1000));
}

template <class... Params, class... Args>
void run(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t smem, Args... args) {
  qmath::cuda::launch("test", kernel, {grid, block, smem, nullptr}, args...);
}

}  // namespace

TEST_CASE("emulated launch runs every block and thread once with consistent indices", "[emulation]") {
  const dim3 grid(3, 2, 2), block(4, 3, 2);
  std::vector<int> hits(3 * 2 * 2 * 4 * 3 * 2, 0);
  run(record_indices, grid, block, 0, hits.data());
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

TEST_CASE("__syncthreads is a real barrier: a missing one gives stale shared memory", "[emulation]") {
  const int n = 64, blocks = 3;
  std::vector<int> in(n * blocks), out(n * blocks, -1), expect(n * blocks);
  for (int i = 0; i < n * blocks; ++i) in[i] = i * 10 + 1;
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < n; ++t) expect[b * n + t] = in[b * n + (t + 1) % n];

  SECTION("with the barrier the result is right under every schedule") {
    for (Schedule s : {Schedule::kConcurrent, Schedule::kSerialForward, Schedule::kSerialReverse}) {
      ScopedSchedule scope(s);
      std::fill(out.begin(), out.end(), -1);
      run(rotate_through_shared<true>, dim3(blocks), dim3(n), 0, in.data(), out.data());
      CHECK(out == expect);
    }
  }
  SECTION("without it, the adversarial serial schedule reads unwritten shared memory") {
    ScopedSchedule scope(Schedule::kSerialForward);
    run(rotate_through_shared<false>, dim3(blocks), dim3(n), 0, in.data(), out.data());
    // Thread t runs to completion before thread t + 1 writes its slot: all but the last thread of a block read
    // the 0xA5 fill pattern.
    int wrong = 0;
    for (int i = 0; i < n * blocks; ++i) wrong += out[i] != expect[i];
    CHECK(wrong == (n - 1) * blocks);
    CHECK(out[0] == static_cast<int>(0xA5A5A5A5u));
  }
}

TEST_CASE("barriers across many phases: block tree reduction", "[emulation]") {
  const int n = 128, blocks = 4;
  std::vector<int> in(n * blocks), out(blocks, 0);
  for (int i = 0; i < n * blocks; ++i) in[i] = (i * 37) % 101 - 50;
  for (Schedule s : {Schedule::kConcurrent, Schedule::kSerialForward, Schedule::kSerialReverse}) {
    ScopedSchedule scope(s);
    run(block_sum, dim3(blocks), dim3(n), 0, in.data(), out.data());
    for (int b = 0; b < blocks; ++b) {
      int sum = 0;
      for (int t = 0; t < n; ++t) sum += in[b * n + t];
      CHECK(out[b] == sum);
    }
  }
}

TEST_CASE("threads that return early leave the barrier", "[emulation]") {
  for (Schedule s : {Schedule::kConcurrent, Schedule::kSerialForward, Schedule::kSerialReverse}) {
    ScopedSchedule scope(s);
    std::vector<int> out(32, -1);
    run(early_exit, dim3(2), dim3(32), 0, out.data());
    for (int t = 0; t < 32; t += 2) CHECK(out[t] == (t + 2) % 32);
    for (int t = 1; t < 32; t += 2) CHECK(out[t] == -1);
  }
}

TEST_CASE("shared memory is per block and starts as garbage", "[emulation]") {
  std::vector<unsigned> out(8, 0);
  run(shared_is_fresh, dim3(4), dim3(8), 0, out.data());
  for (int b = 0; b < 4; ++b) {
    CHECK(out[b * 2] == 0xA5A5A5A5u);
    CHECK(out[b * 2 + 1] == 0xA5u);
  }
}

TEST_CASE("dynamic shared memory", "[emulation]") {
  std::vector<int> out(48, -1);
  run(dynamic_shared_kernel, dim3(1), dim3(48), 48 * sizeof(int), out.data());
  for (int t = 0; t < 48; ++t) CHECK(out[t] == (47 - t) * 3);
}

TEST_CASE("atomics from concurrent threads", "[emulation]") {
  int i = 0, mx = -1;
  unsigned mn = 5000;
  unsigned long long u = 0;
  float f = 0.0f;
  run(atomics_kernel, dim3(5), dim3(40), 0, &i, &u, &f, &mx, &mn);
  int expect_max = -1;
  unsigned expect_min = 5000;
  for (int g = 0; g < 200; ++g) {
    expect_max = std::max(expect_max, (g * 7919) % 1000);
    expect_min = std::min(expect_min, static_cast<unsigned>(1000 + (g * 7919) % 1000));
  }
  CHECK(i == 200);
  CHECK(u == 200ull << 33);
  CHECK(f == 100.0f);  // every partial sum is a multiple of 0.5 below 2^24: exact in any order
  CHECK(mx == expect_max);
  CHECK(mn == expect_min);
}

TEST_CASE("invalid launch configurations throw qmath::error", "[emulation]") {
  std::vector<int> out(4096, 0);
  CHECK_THROWS_AS(run(record_indices, dim3(0), dim3(32), 0, out.data()), qmath::error);
  CHECK_THROWS_AS(run(record_indices, dim3(1), dim3(1025), 0, out.data()), qmath::error);
  CHECK_THROWS_AS(run(record_indices, dim3(1, 65536), dim3(1), 0, out.data()), qmath::error);
  CHECK_THROWS_AS(run(dynamic_shared_kernel, dim3(1), dim3(4), 64 * 1024, out.data()), qmath::error);
}

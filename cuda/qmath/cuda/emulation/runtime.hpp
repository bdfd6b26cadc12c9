// qmath/cuda/emulation/runtime.hpp - TEST-ONLY host execution of CUDA kernels: the launch engine.
//
// Compiled only when QMATH_CUDA_HOST_EMULATION is defined and the translation unit is built by a host compiler
// (g++/clang++). It runs a kernel launch on the CPU so that the very same kernel source that nvcc compiles can be
// tested on machines without a GPU:
//
//   * every CUDA thread of a block is one std::thread (real concurrency: a missing __syncthreads is a data race that
//     ThreadSanitizer reports, and it can produce wrong results);
//   * blocks run one after another, in linear order (x fastest), reusing the same pool of blockDim threads;
//   * __syncthreads is a real barrier over the threads of the block that have not returned (threads that return
//     early leave the barrier, as on sm_70+);
//   * shared memory is a per-block arena, filled with the byte 0xA5 before every block so that reading shared
//     memory nobody wrote gives garbage, not zeros;
//   * Schedule::kSerialForward / kSerialReverse run the threads of a block one at a time, in thread order (or
//     reverse order), switching only at __syncthreads or at return: a deterministic adversarial schedule under
//     which a missing barrier makes a reader see stale shared memory every time.
//
// What it does NOT model (see docs/cuda.md): warps and warp-synchronous code (no __shfl*, __ballot*, __syncwarp),
// memory coalescing, bank conflicts, caches, timing, occupancy, register limits, asynchronous streams (a launch
// runs to completion before launch() returns), the weak memory model of global memory across blocks.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <qmath/error.hpp>

#if !defined(QMATH_CUDA_HOST_EMULATION) || defined(__CUDACC__)
#error "qmath/cuda/emulation/*.hpp is the test-only host execution layer: define QMATH_CUDA_HOST_EMULATION and compile with a host compiler"
#endif

// CUDA's built-in vector index types, in the global namespace as in CUDA.
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
// Streams are accepted and ignored: every emulated launch is synchronous.
using cudaStream_t = struct CUstream_st*;

namespace qmath {
namespace cuda {
namespace emu {

// How the threads of a block are scheduled (see the file comment).
enum class Schedule { kConcurrent, kSerialForward, kSerialReverse };

// Limits checked at launch, as the CUDA runtime does (sm_75+ defaults).
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;  // static + dynamic, without the opt-in attribute

// The schedule used by subsequent launches (process-wide; tests change it with ScopedSchedule).
inline Schedule& schedule_setting() {
  static Schedule s = Schedule::kConcurrent;
  return s;
}

class ScopedSchedule {
 public:
  explicit ScopedSchedule(Schedule s) : saved_(schedule_setting()) { schedule_setting() = s; }
  ~ScopedSchedule() { schedule_setting() = saved_; }
  ScopedSchedule(const ScopedSchedule&) = delete;
  ScopedSchedule& operator=(const ScopedSchedule&) = delete;

 private:
  Schedule saved_;
};

class Launch;

// The per-thread view of the launch: what threadIdx, blockIdx, blockDim, gridDim read.
struct ThreadContext {
  uint3 thread_idx{0, 0, 0};
  uint3 block_idx{0, 0, 0};
  dim3 block_dim{};
  dim3 grid_dim{};
  unsigned linear_tid = 0;
  std::size_t shared_cursor = 0;  // next free byte of the block's static shared arena for this thread
  Launch* launch = nullptr;
};

inline ThreadContext& context() {
  thread_local ThreadContext c;
  return c;
}

// One kernel launch: a pool of blockDim threads that runs every block of the grid.
//
// Synchronisation design: the bookkeeping (who arrived at the barrier, who returned, whose turn it is) is guarded by
// one mutex, but a thread only ever WAITS on its own gate (mutex + condition variable + counter), which is opened by
// the thread that completes a barrier phase, passes the turn, or finishes the block. So the only happens-before
// edges between the kernel code of two threads of a block are the ones __syncthreads creates (arrivals -> the
// releasing thread -> each gate): a missing barrier stays a data race that ThreadSanitizer can see, instead of
// being hidden by incidental ordering through a shared mutex.
class Launch {
 public:
  Launch(dim3 grid, dim3 block, std::size_t dynamic_shared, Schedule schedule)
      : grid_(grid),
        block_(block),
        nthreads_(block.x * block.y * block.z),
        schedule_(schedule),
        gates_(new Gate[block.x * block.y * block.z]),
        consumed_(nthreads_, 0),
        arrived_flag_(nthreads_, 0),
        exited_flag_(nthreads_, 0),
        static_arena_(kMaxSharedBytes + 16),
        dynamic_arena_(dynamic_shared + 16),
        dynamic_bytes_(dynamic_shared) {
    nblocks_ = std::uint64_t(grid.x) * grid.y * grid.z;
    order_.resize(nthreads_);
    position_.resize(nthreads_);
    for (unsigned i = 0; i < nthreads_; ++i) {
      order_[i] = schedule_ == Schedule::kSerialReverse ? nthreads_ - 1 - i : i;
      position_[order_[i]] = i;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    begin_block();
  }

  // Runs `body` (the kernel call) for every thread of every block; returns when all are done. Rethrows the first
  // exception a thread raised (a thread that throws counts as returned).
  template <class Body>
  void run(const Body& body) {
    std::vector<std::thread> threads;
    threads.reserve(nthreads_);
    for (unsigned t = 0; t < nthreads_; ++t) threads.emplace_back([this, t, &body] { worker(t, body); });
    for (auto& th : threads) th.join();
    if (error_) std::rethrow_exception(error_);
  }

  // __syncthreads() of thread t.
  void sync(unsigned t) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      arrived_flag_[t] = 1;
      ++arrived_;
      if (arrived_ == live_) {
        release_phase();
      } else if (serial()) {
        pass_turn(t);
      }
    }
    wait_gate(t);
  }

  // Static shared memory of the current block: `bytes` bytes aligned to `align`, at this thread's cursor. Every
  // thread executes the same sequence of declarations, so every thread of a block gets the same addresses.
  void* shared_alloc(std::size_t bytes, std::size_t align) {
    ThreadContext& c = context();
    std::size_t offset = (c.shared_cursor + align - 1) / align * align;
    if (offset + bytes > kMaxSharedBytes)
      qmath::detail::fail("cuda::emu::shared_alloc", "static shared memory exceeds ", kMaxSharedBytes, " bytes");
    c.shared_cursor = offset + bytes;
    return aligned_base(static_arena_) + offset;
  }

  void* dynamic_shared() { return dynamic_bytes_ ? aligned_base(dynamic_arena_) : nullptr; }

 private:
  struct Gate {
    std::mutex m;
    std::condition_variable cv;
    std::uint64_t opened = 0;
  };

  bool serial() const { return schedule_ != Schedule::kConcurrent; }

  static unsigned char* aligned_base(std::vector<unsigned char>& v) {
    auto p = reinterpret_cast<std::uintptr_t>(v.data());
    return v.data() + ((16 - p % 16) % 16);
  }

  // Lets thread i continue once (called with mutex_ held; lock order mutex_ -> gate).
  void open(unsigned i) {
    {
      std::lock_guard<std::mutex> lock(gates_[i].m);
      ++gates_[i].opened;
    }
    gates_[i].cv.notify_one();
  }

  // Thread t waits until its gate has been opened once more than it has passed it.
  void wait_gate(unsigned t) {
    Gate& g = gates_[t];
    std::unique_lock<std::mutex> lock(g.m);
    g.cv.wait(lock, [&] { return g.opened > consumed_[t]; });
    ++consumed_[t];
  }

  template <class Body>
  void worker(unsigned t, const Body& body) {
    ThreadContext& c = context();
    c.launch = this;
    c.block_dim = block_;
    c.grid_dim = grid_;
    c.linear_tid = t;
    c.thread_idx = {t % block_.x, (t / block_.x) % block_.y, t / (block_.x * block_.y)};
    for (std::uint64_t b = 0; b < nblocks_; ++b) {
      wait_gate(t);  // opened by begin_block (all threads, or the first in a serial order)
      c.block_idx = {unsigned(b % grid_.x), unsigned((b / grid_.x) % grid_.y),
                     unsigned(b / (std::uint64_t(grid_.x) * grid_.y))};
      c.shared_cursor = 0;
      try {
        body();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      thread_exit(t);
    }
    c = ThreadContext{};
  }

  // Thread t returned from the kernel for the current block.
  void thread_exit(unsigned t) {
    std::lock_guard<std::mutex> lock(mutex_);
    exited_flag_[t] = 1;
    --live_;
    ++finished_;
    if (finished_ == nthreads_) {
      ++block_index_;
      if (block_index_ < nblocks_) begin_block();
    } else if (arrived_ > 0 && arrived_ == live_) {
      release_phase();  // everybody still running waits at a barrier: this exit completes it
    } else if (serial()) {
      pass_turn(t);
    }
  }

  // Resets the per-block state and lets the block's threads start (caller holds mutex_).
  void begin_block() {
    live_ = nthreads_;
    arrived_ = 0;
    finished_ = 0;
    std::fill(arrived_flag_.begin(), arrived_flag_.end(), 0);
    std::fill(exited_flag_.begin(), exited_flag_.end(), 0);
    std::memset(static_arena_.data(), 0xA5, static_arena_.size());
    std::memset(dynamic_arena_.data(), 0xA5, dynamic_arena_.size());
    if (serial()) {
      open(order_[0]);
    } else {
      for (unsigned i = 0; i < nthreads_; ++i) open(i);
    }
  }

  // Every live thread reached the barrier: open it (caller holds mutex_).
  void release_phase() {
    arrived_ = 0;
    std::fill(arrived_flag_.begin(), arrived_flag_.end(), 0);
    for (unsigned i = 0; i < nthreads_; ++i) {
      const unsigned cand = order_[i];
      if (exited_flag_[cand]) continue;
      open(cand);
      if (serial()) return;  // only the first live thread in schedule order runs
    }
  }

  // Serial schedules: hand the turn to the next thread (in schedule order after t) that is neither waiting at the
  // barrier nor returned (caller holds mutex_).
  void pass_turn(unsigned t) {
    const unsigned pos = position_[t];
    for (unsigned i = 1; i <= nthreads_; ++i) {
      const unsigned cand = order_[(pos + i) % nthreads_];
      if (!exited_flag_[cand] && !arrived_flag_[cand]) {
        open(cand);
        return;
      }
    }
  }

  dim3 grid_, block_;
  unsigned nthreads_;
  std::uint64_t nblocks_ = 0;
  Schedule schedule_;
  std::mutex mutex_;
  std::unique_ptr<Gate[]> gates_;
  std::vector<std::uint64_t> consumed_;  // consumed_[t] is touched only by thread t (under its gate's mutex)
  std::vector<unsigned char> arrived_flag_, exited_flag_;
  std::vector<unsigned> order_, position_;
  std::vector<unsigned char> static_arena_, dynamic_arena_;
  std::size_t dynamic_bytes_;
  unsigned live_ = 0, arrived_ = 0, finished_ = 0;
  std::uint64_t block_index_ = 0;
  std::exception_ptr error_;
};

// Checks a launch configuration as the CUDA runtime would (cudaErrorInvalidConfiguration) and runs it.
template <class Body>
void launch(dim3 grid, dim3 block, std::size_t dynamic_shared, const Body& body) {
  const char* where = "cuda::launch (host emulation)";
  qmath::detail::require(grid.x >= 1 && grid.y >= 1 && grid.z >= 1, where, "empty grid ", grid.x, "x", grid.y, "x",
                         grid.z);
  qmath::detail::require(grid.y <= 65535 && grid.z <= 65535 && grid.x <= 2147483647u, where, "grid ", grid.x, "x",
                         grid.y, "x", grid.z, " exceeds the CUDA limits");
  const std::uint64_t threads = std::uint64_t(block.x) * block.y * block.z;
  qmath::detail::require(threads >= 1 && threads <= kMaxThreadsPerBlock && block.z <= 64, where, "block ", block.x,
                         "x", block.y, "x", block.z, " is not a valid CUDA block shape");
  qmath::detail::require(dynamic_shared <= kMaxSharedBytes, where, "dynamic shared memory ", dynamic_shared,
                         " bytes exceeds ", kMaxSharedBytes);
  Launch l(grid, block, dynamic_shared, schedule_setting());
  l.run(body);
}

template <class T>
T* shared_alloc(std::size_t count) {
  constexpr std::size_t align = alignof(T) > 16 ? alignof(T) : 16;
  return static_cast<T*>(context().launch->shared_alloc(sizeof(T) * count, align));
}

}  // namespace emu
}  // namespace cuda
}  // namespace qmath

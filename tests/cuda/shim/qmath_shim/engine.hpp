// qmath_shim/engine.hpp - TEST-ONLY host execution of CUDA kernels: the launch engine (tests/cuda/shim, never
// installed). The very same kernel source that nvcc compiles runs on the CPU:
//
//   * every CUDA thread of a block is one std::thread (real concurrency: a missing barrier is a data race that
//     ThreadSanitizer reports, and it can produce wrong results);
//   * blocks run one after another, in linear order (x fastest), reusing the same pool of blockDim threads;
//   * __syncthreads is a real barrier over the threads of the block that have not returned (threads that return
//     early leave the barrier, as on sm_70+);
//   * warps are threads 32w .. 32w + 31 of the block; a warp collective (__syncwarp, __shfl*_sync, __ballot_sync,
//     mma.sync, ldmatrix) is a barrier over the lanes of its mask at which the last lane to arrive computes every
//     lane's result from all lanes' inputs, so the per-lane semantics are exact. Lanes that disagree on the mask or on
//     the operation, a mask naming a lane that has exited or does not exist, or a deadlock (every live thread waits
//     and no barrier can complete) abort the launch with qmath::error;
//   * shared memory is a per-block arena, filled with the byte 0xA5 before every block so that reading shared
//     memory nobody wrote gives garbage, not zeros;
//   * cp.async copies are deferred until the issuing thread's wait_group covers them (the latest moment the hardware
//     may complete them): a missing wait reads the 0xA5 fill;
//   * Schedule::kSerialForward / kSerialReverse run the threads of a block one at a time, in thread order (or
//     reverse order), switching only at a barrier, a warp collective or return: a deterministic adversarial schedule
//     under which a missing barrier makes a reader see stale shared memory every time.
//
// What it does NOT model (docs/cuda.md): warp lock-step and divergence cost, memory coalescing, bank conflicts,
// caches, timing, occupancy, register limits, asynchronous streams (a launch runs to completion before it returns),
// the weak memory model of global memory across blocks.
#pragma once

#include <algorithm>
#include <atomic>
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

#if defined(__CUDACC__)
#error "tests/cuda/shim is the host execution layer for host compilers; nvcc uses the real CUDA runtime"
#endif

// CUDA's built-in vector index types, in the global namespace as in CUDA.
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
// The built-in index variables: per OS thread, set by the engine for the CUDA thread it runs.
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{};
inline thread_local dim3 gridDim{};
// Streams are accepted and ignored: every launch runs to completion before it returns.
using cudaStream_t = struct CUstream_st*;

namespace qmath {
namespace cuda {
namespace emu {

// How the threads of a block are scheduled (see the file comment).
enum class Schedule { kConcurrent, kSerialForward, kSerialReverse };

// Limits checked at launch, as the CUDA runtime does (sm_75+ defaults).
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr std::size_t kMaxSharedBytes = 48 * 1024;  // static + dynamic, without the opt-in attribute
constexpr unsigned kWarpSize = 32;
constexpr std::size_t kWarpSlotBytes = 64;  // largest per-lane input / output of a warp collective

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

// The compute capability cudaDeviceGetAttribute reports (tests select the tensor-core path with it).
inline int& compute_capability_setting() {
  static int cc = 80;
  return cc;
}

class ScopedComputeCapability {
 public:
  explicit ScopedComputeCapability(int cc) : saved_(compute_capability_setting()) { compute_capability_setting() = cc; }
  ~ScopedComputeCapability() { compute_capability_setting() = saved_; }
  ScopedComputeCapability(const ScopedComputeCapability&) = delete;
  ScopedComputeCapability& operator=(const ScopedComputeCapability&) = delete;

 private:
  int saved_;
};

// Reads of a lane outside a shuffle's mask since the process started (each also returns 0xA5A5A5A5).
inline std::uint64_t& inactive_lane_reads() {
  static std::uint64_t n = 0;
  return n;
}

class Launch;

// One pending cp.async: `bytes` bytes from src, then zeros up to 16.
struct AsyncCopy {
  void* dst;
  const void* src;
  int bytes;
};

// The per-thread view of the launch: what threadIdx, blockIdx, blockDim, gridDim read, plus per-thread state.
struct ThreadContext {
  uint3 thread_idx{0, 0, 0};
  uint3 block_idx{0, 0, 0};
  dim3 block_dim{};
  dim3 grid_dim{};
  unsigned linear_tid = 0;
  std::size_t shared_cursor = 0;  // next free byte of the block's static shared arena for this thread
  Launch* launch = nullptr;
  std::vector<AsyncCopy> open_group;                 // cp.async issued since the last commit
  std::vector<std::vector<AsyncCopy>> committed;     // committed groups, oldest first, not yet waited for
};

inline ThreadContext& context() {
  thread_local ThreadContext c;
  return c;
}

// Thrown in the threads of a block whose launch was aborted (the first error is what launch() rethrows).
struct Aborted {};

// A warp collective's operation: from the inputs of all lanes (slot l = lane l's input, only lanes in `mask` valid)
// compute the output slot of every lane in `mask`. Lanes agree on the operation by its function pointer.
using WarpOp = void (*)(const unsigned char* in, unsigned mask, unsigned char* out);

// One kernel launch: a pool of blockDim threads that runs every block of the grid.
//
// Synchronisation design: the bookkeeping (who waits where, who returned, whose turn it is) is guarded by one mutex,
// but a thread only ever WAITS on its own gate (mutex + condition variable + counter), which is opened by the thread
// that completes a barrier or warp collective, passes the turn, or finishes the block. So the only happens-before
// edges between the kernel code of two threads are the ones the barriers and collectives create: a missing barrier
// stays a data race that ThreadSanitizer can see.
class Launch {
 public:
  Launch(dim3 grid, dim3 block, std::size_t dynamic_shared, Schedule schedule)
      : grid_(grid),
        block_(block),
        nthreads_(block.x * block.y * block.z),
        nwarps_((nthreads_ + kWarpSize - 1) / kWarpSize),
        schedule_(schedule),
        gates_(new Gate[nthreads_]),
        warps_(new Warp[nwarps_]),
        consumed_(nthreads_, 0),
        arrived_flag_(nthreads_, 0),
        exited_flag_(nthreads_, 0),
        warp_wait_flag_(nthreads_, 0),
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
      } else {
        check_progress();
        if (serial()) pass_turn(t);
      }
    }
    wait_gate(t);
  }

  // A warp collective of thread t: `in` (in_bytes) is t's input; returns when every lane of `mask` has arrived with
  // the same op and mask, with t's output copied to `out` (out_bytes).
  void warp_collective(unsigned t, unsigned mask, WarpOp op, const void* in, std::size_t in_bytes, void* out,
                       std::size_t out_bytes) {
    const unsigned w = t / kWarpSize, lane = t % kWarpSize;
    Warp& wp = warps_[w];
    bool wait = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!(mask >> lane & 1u))
        abort_locked("warp collective: lane ", lane, " of warp ", w, " calls it with mask 0x", hex(mask),
                     ", which does not include itself");
      for (unsigned l = 0; l < kWarpSize; ++l) {
        if (!(mask >> l & 1u)) continue;
        const unsigned u = w * kWarpSize + l;
        if (u >= nthreads_ || exited_flag_[u])
          abort_locked("warp collective: mask 0x", hex(mask), " of warp ", w, " names lane ", l,
                       u >= nthreads_ ? ", which does not exist" : ", which has exited");
      }
      if (wp.arrived == 0) {
        wp.mask = mask;
        wp.op = op;
      } else if (wp.mask != mask || wp.op != op) {
        abort_locked("warp collective: lanes of warp ", w, " disagree (mask 0x", hex(wp.mask), " vs 0x", hex(mask),
                     wp.op != op ? ", different operations" : "", ")");
      }
      std::memcpy(wp.in + lane * kWarpSlotBytes, in, in_bytes);
      wp.arrived |= 1u << lane;
      if (wp.arrived == wp.mask) {
        try {
          wp.op(wp.in, wp.mask, wp.out);
        } catch (...) {
          if (!error_) error_ = std::current_exception();
          abort_all();
          throw;
        }
        wp.arrived = 0;
        for (unsigned l = 0; l < kWarpSize; ++l) {
          if (!(mask >> l & 1u) || l == lane) continue;
          const unsigned u = w * kWarpSize + l;
          warp_wait_flag_[u] = 0;
          --warp_waiting_;
          if (!serial()) open(u);
        }
        wait = false;  // the completing lane goes on (and keeps the turn under a serial schedule)
      } else {
        warp_wait_flag_[t] = 1;
        ++warp_waiting_;
        check_progress();
        if (serial()) pass_turn(t);
      }
    }
    if (wait) wait_gate(t);
    std::memcpy(out, wp.out + lane * kWarpSlotBytes, out_bytes);
  }

  // Static shared memory of the current block: `bytes` bytes aligned to `align`, at this thread's cursor. Every
  // thread executes the same sequence of declarations, so every thread of a block gets the same addresses.
  void* shared_alloc(std::size_t bytes, std::size_t align) {
    ThreadContext& c = context();
    std::size_t offset = (c.shared_cursor + align - 1) / align * align;
    if (offset + bytes > kMaxSharedBytes)
      qmath::detail::fail("cuda shim: shared_alloc", "static shared memory exceeds ", kMaxSharedBytes, " bytes");
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
  struct Warp {
    unsigned mask = 0, arrived = 0;
    WarpOp op = nullptr;
    alignas(16) unsigned char in[kWarpSize * kWarpSlotBytes];
    alignas(16) unsigned char out[kWarpSize * kWarpSlotBytes];
  };

  static const char* hex(unsigned v) {
    thread_local char buf[4][9];
    thread_local int k = 0;
    char* b = buf[k++ & 3];
    for (int i = 0; i < 8; ++i) b[i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
    b[8] = 0;
    return b;
  }

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

  // Thread t waits until its gate has been opened once more than it has passed it; throws Aborted when the block
  // was aborted meanwhile.
  void wait_gate(unsigned t) {
    if (aborted_) throw Aborted{};
    Gate& g = gates_[t];
    {
      std::unique_lock<std::mutex> lock(g.m);
      g.cv.wait(lock, [&] { return g.opened > consumed_[t] || aborted_; });
      ++consumed_[t];
    }
    if (aborted_) throw Aborted{};
  }

  // Records the error and releases every waiting thread, which then throws Aborted (caller holds mutex_); throws
  // qmath::error in the calling thread.
  template <class... Parts>
  [[noreturn]] void abort_locked(const Parts&... parts) {
    try {
      qmath::detail::fail("cuda shim", parts...);
    } catch (...) {
      if (!error_) error_ = std::current_exception();
      abort_all();
      throw;
    }
  }

  void abort_all() {
    if (aborted_) return;
    aborted_ = true;
    for (unsigned i = 0; i < nthreads_; ++i) open(i);
  }

  // Every live thread waits (at the block barrier or a warp collective) but the barrier is incomplete: no thread
  // can ever run again (caller holds mutex_).
  void check_progress() {
    if (live_ > 0 && arrived_ + warp_waiting_ == live_ && arrived_ != live_)
      abort_locked("deadlock: ", arrived_, " threads wait at __syncthreads and ", warp_waiting_,
                   " at warp collectives whose lanes will never arrive");
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
      bool run_body = true;
      try {
        wait_gate(t);  // opened by begin_block (all threads, or the first in a serial order)
      } catch (const Aborted&) {
        run_body = false;
      }
      c.block_idx = {unsigned(b % grid_.x), unsigned((b / grid_.x) % grid_.y),
                     unsigned(b / (std::uint64_t(grid_.x) * grid_.y))};
      ::threadIdx = c.thread_idx;
      ::blockIdx = c.block_idx;
      ::blockDim = c.block_dim;
      ::gridDim = c.grid_dim;
      c.shared_cursor = 0;
      c.open_group.clear();
      c.committed.clear();
      if (run_body) {
        try {
          body();
        } catch (const Aborted&) {
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex_);
          if (!error_) error_ = std::current_exception();
          abort_all();
        }
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
      return;
    }
    if (aborted_) return;
    // A warp collective waiting for t can never complete.
    const Warp& wp = warps_[t / kWarpSize];
    if (wp.arrived != 0 && (wp.mask >> (t % kWarpSize) & 1u) && !(wp.arrived >> (t % kWarpSize) & 1u)) {
      try {
        abort_locked("warp collective: mask 0x", hex(wp.mask), " of warp ", t / kWarpSize, " waits for lane ",
                     t % kWarpSize, ", which has exited");
      } catch (...) {
        return;
      }
    }
    if (arrived_ > 0 && arrived_ == live_) {
      release_phase();  // everybody still running waits at the barrier: this exit completes it
      return;
    }
    try {
      check_progress();
    } catch (...) {
      return;
    }
    if (serial()) pass_turn(t);
  }

  // Resets the per-block state and lets the block's threads start (caller holds mutex_).
  void begin_block() {
    live_ = nthreads_;
    arrived_ = 0;
    finished_ = 0;
    warp_waiting_ = 0;
    std::fill(arrived_flag_.begin(), arrived_flag_.end(), 0);
    std::fill(exited_flag_.begin(), exited_flag_.end(), 0);
    std::fill(warp_wait_flag_.begin(), warp_wait_flag_.end(), 0);
    for (unsigned w = 0; w < nwarps_; ++w) warps_[w].arrived = 0;
    std::memset(static_arena_.data(), 0xA5, static_arena_.size());
    std::memset(dynamic_arena_.data(), 0xA5, dynamic_arena_.size());
    if (serial() && !aborted_) {
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

  // Serial schedules: hand the turn to the next thread (in schedule order after t) that neither waits nor has
  // returned (caller holds mutex_).
  void pass_turn(unsigned t) {
    const unsigned pos = position_[t];
    for (unsigned i = 1; i <= nthreads_; ++i) {
      const unsigned cand = order_[(pos + i) % nthreads_];
      if (!exited_flag_[cand] && !arrived_flag_[cand] && !warp_wait_flag_[cand]) {
        open(cand);
        return;
      }
    }
  }

  dim3 grid_, block_;
  unsigned nthreads_, nwarps_;
  std::uint64_t nblocks_ = 0;
  Schedule schedule_;
  std::mutex mutex_;
  std::unique_ptr<Gate[]> gates_;
  std::unique_ptr<Warp[]> warps_;
  std::vector<std::uint64_t> consumed_;  // consumed_[t] is touched only by thread t (under its gate's mutex)
  std::vector<unsigned char> arrived_flag_, exited_flag_, warp_wait_flag_;
  std::vector<unsigned> order_, position_;
  std::vector<unsigned char> static_arena_, dynamic_arena_;
  std::size_t dynamic_bytes_;
  unsigned live_ = 0, arrived_ = 0, finished_ = 0, warp_waiting_ = 0;
  std::uint64_t block_index_ = 0;
  std::atomic<bool> aborted_{false};
  std::exception_ptr error_;
};

// The CUDA runtime's launch checks (cudaErrorInvalidConfiguration); returns false when the configuration is invalid.
inline bool valid_launch(dim3 grid, dim3 block, std::size_t dynamic_shared) {
  const std::uint64_t threads = std::uint64_t(block.x) * block.y * block.z;
  return grid.x >= 1 && grid.y >= 1 && grid.z >= 1 && grid.y <= 65535 && grid.z <= 65535 &&
         grid.x <= 2147483647u && threads >= 1 && threads <= kMaxThreadsPerBlock && block.z <= 64 &&
         dynamic_shared <= kMaxSharedBytes;
}

// Runs a valid launch configuration to completion.
template <class Body>
void launch(dim3 grid, dim3 block, std::size_t dynamic_shared, const Body& body) {
  Launch l(grid, block, dynamic_shared, schedule_setting());
  l.run(body);
}

template <class T>
T* shared_alloc(std::size_t count) {
  constexpr std::size_t align = alignof(T) > 16 ? alignof(T) : 16;
  return static_cast<T*>(context().launch->shared_alloc(sizeof(T) * count, align));
}

// Runs a warp collective for the calling thread (see Launch::warp_collective).
template <class Out, class In>
Out warp_collective(unsigned mask, WarpOp op, const In& in) {
  static_assert(sizeof(In) <= kWarpSlotBytes && sizeof(Out) <= kWarpSlotBytes, "warp slot size");
  ThreadContext& c = context();
  Out out;
  c.launch->warp_collective(c.linear_tid, mask, op, &in, sizeof(In), &out, sizeof(Out));
  return out;
}

}  // namespace emu
}  // namespace cuda
}  // namespace qmath

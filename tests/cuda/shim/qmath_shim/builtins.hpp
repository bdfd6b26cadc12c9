// qmath_shim/builtins.hpp - TEST-ONLY host definitions of the CUDA built-ins the qmath kernels use (tests/cuda/shim).
//
// The execution-space keywords as macros (__global__, __device__, __host__, __forceinline__, __launch_bounds__,
// __align__), threadIdx / blockIdx / blockDim / gridDim, warpSize, __syncthreads, __syncwarp, __shfl*_sync,
// __ballot_sync / __any_sync / __all_sync, __threadfence*, __ldg, __trap, vector types (char4, uchar4, short2, int2,
// uint2, float2, int4, uint4, float4) with make_*, __dp4a, and atomics on int / unsigned / unsigned long long /
// float (relaxed, as CUDA's). `__shared__` is deliberately not defined: kernels declare shared memory with
// QMATH_SHARED / QMATH_SHARED_2D / QMATH_DYNAMIC_SHARED (this shim's qmath/cuda/arch/runtime.cuh maps them to the
// per-block arena).
#pragma once

#include <cstdint>
#include <cstring>

#include <qmath_shim/engine.hpp>

#define __global__ inline
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

constexpr int warpSize = 32;

inline void __syncthreads() {
  ::qmath::cuda::emu::ThreadContext& c = ::qmath::cuda::emu::context();
  c.launch->sync(c.linear_tid);
}
// ---- warp collectives (exact per-lane semantics, see engine.hpp) -----------------------------------------------
namespace qmath {
namespace cuda {
namespace emu {

inline unsigned lane_id() { return context().linear_tid % kWarpSize; }

template <class T>
struct ShflIn {
  T value;
  unsigned src;  // lane to read, or kOwn for the caller's own value
};
constexpr unsigned kOwn = 0xFFFFFFFFu;

template <class T>
void shfl_op(const unsigned char* in, unsigned mask, unsigned char* out) {
  for (unsigned l = 0; l < kWarpSize; ++l) {
    if (!(mask >> l & 1u)) continue;
    ShflIn<T> me;
    std::memcpy(&me, in + l * kWarpSlotBytes, sizeof me);
    T v = me.value;
    if (me.src != kOwn) {
      if (mask >> me.src & 1u) {
        ShflIn<T> other;
        std::memcpy(&other, in + me.src * kWarpSlotBytes, sizeof other);
        v = other.value;
      } else {
        // The source lane is not in the mask: undefined on the GPU; here the fill pattern, and counted.
        std::memset(&v, 0xA5, sizeof v);
        ++inactive_lane_reads();
      }
    }
    std::memcpy(out + l * kWarpSlotBytes, &v, sizeof v);
  }
}

template <class T>
T shuffle(unsigned mask, T v, unsigned src) {
  static_assert(sizeof(T) <= 8, "__shfl*_sync takes 32- or 64-bit values");
  return warp_collective<T>(mask, &shfl_op<T>, ShflIn<T>{v, src});
}

inline void ballot_op(const unsigned char* in, unsigned mask, unsigned char* out) {
  unsigned bits = 0;
  for (unsigned l = 0; l < kWarpSize; ++l)
    if ((mask >> l & 1u) && in[l * kWarpSlotBytes] != 0) bits |= 1u << l;
  for (unsigned l = 0; l < kWarpSize; ++l)
    if (mask >> l & 1u) std::memcpy(out + l * kWarpSlotBytes, &bits, sizeof bits);
}

inline void syncwarp_op(const unsigned char*, unsigned, unsigned char*) {}

}  // namespace emu
}  // namespace cuda
}  // namespace qmath

// srcLane / delta / laneMask select a lane within segments of `width` lanes (a power of two <= 32), as in CUDA.
template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const unsigned lane = ::qmath::cuda::emu::lane_id(), w = static_cast<unsigned>(width);
  return ::qmath::cuda::emu::shuffle(mask, v, (lane & ~(w - 1)) + (static_cast<unsigned>(src) & (w - 1)));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const unsigned lane = ::qmath::cuda::emu::lane_id(), w = static_cast<unsigned>(width);
  const unsigned src = lane ^ static_cast<unsigned>(lane_mask);
  return ::qmath::cuda::emu::shuffle(mask, v, (src & ~(w - 1)) == (lane & ~(w - 1)) ? src : ::qmath::cuda::emu::kOwn);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const unsigned lane = ::qmath::cuda::emu::lane_id(), w = static_cast<unsigned>(width);
  const unsigned src = lane + delta;
  return ::qmath::cuda::emu::shuffle(mask, v, (lane & (w - 1)) + delta < w ? src : ::qmath::cuda::emu::kOwn);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const unsigned lane = ::qmath::cuda::emu::lane_id(), w = static_cast<unsigned>(width);
  return ::qmath::cuda::emu::shuffle(mask, v, (lane & (w - 1)) >= delta ? lane - delta : ::qmath::cuda::emu::kOwn);
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  const unsigned char p = pred != 0;
  return ::qmath::cuda::emu::warp_collective<unsigned>(mask, &::qmath::cuda::emu::ballot_op, p);
}
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == mask; }
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu) {
  (void)::qmath::cuda::emu::warp_collective<unsigned char>(mask, &::qmath::cuda::emu::syncwarp_op,
                                                           static_cast<unsigned char>(0));
}

[[noreturn]] inline void __trap() { qmath::detail::fail("cuda shim", "__trap() executed"); }

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// ---- vector types (sizes and alignments as in CUDA's vector_types.h) ---------------------------------------------
#define QMATH_EMU_VEC2(name, T, al) \
  struct alignas(al) name {         \
    T x, y;                         \
  };                                \
  inline name make_##name(T x, T y) { return name{x, y}; }
#define QMATH_EMU_VEC4(name, T, al)                                               \
  struct alignas(al) name {                                                       \
    T x, y, z, w;                                                                 \
  };                                                                              \
  inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }
QMATH_EMU_VEC4(char4, signed char, 4)
QMATH_EMU_VEC4(uchar4, unsigned char, 4)
QMATH_EMU_VEC2(short2, short, 4)
QMATH_EMU_VEC2(int2, int, 8)
QMATH_EMU_VEC2(uint2, unsigned, 8)
QMATH_EMU_VEC2(float2, float, 8)
QMATH_EMU_VEC4(int4, int, 16)
QMATH_EMU_VEC4(uint4, unsigned, 16)
QMATH_EMU_VEC4(float4, float, 16)
#undef QMATH_EMU_VEC2
#undef QMATH_EMU_VEC4

// ---- __dp4a: four 8-bit products summed into a 32-bit accumulator, wrapping modulo 2^32 (PTX dp4a.s32.s32 /
// dp4a.u32.u32). Byte i of each operand is bits [8i, 8i + 8).
inline int __dp4a(int a, int b, int c) {
  std::uint32_t acc = static_cast<std::uint32_t>(c);
  for (int i = 0; i < 4; ++i) {
    const auto ai = static_cast<std::int8_t>(static_cast<std::uint32_t>(a) >> (8 * i));
    const auto bi = static_cast<std::int8_t>(static_cast<std::uint32_t>(b) >> (8 * i));
    acc += static_cast<std::uint32_t>(std::int32_t(ai) * std::int32_t(bi));
  }
  return static_cast<int>(acc);
}
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  std::uint32_t acc = c;
  for (int i = 0; i < 4; ++i) acc += ((a >> (8 * i)) & 0xFFu) * ((b >> (8 * i)) & 0xFFu);
  return acc;
}

// ---- atomics: relaxed read-modify-write on plain memory (shared or global), returning the old value ------------
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
inline float atomicAdd(float* p, float v) {
  // CAS loop on the bit pattern: the addition itself is an ordinary round-to-nearest float add, as on the GPU.
  auto* bits = reinterpret_cast<std::uint32_t*>(p);
  std::uint32_t old_bits = __atomic_load_n(bits, __ATOMIC_RELAXED);
  for (;;) {
    float old_value, new_value;
    std::memcpy(&old_value, &old_bits, sizeof old_value);
    new_value = old_value + v;
    std::uint32_t new_bits;
    std::memcpy(&new_bits, &new_value, sizeof new_bits);
    if (__atomic_compare_exchange_n(bits, &old_bits, new_bits, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return old_value;
  }
}
template <class T>
inline T qmath_emu_atomic_max(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T>
inline T qmath_emu_atomic_min(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline int atomicMax(int* p, int v) { return qmath_emu_atomic_max(p, v); }
inline unsigned atomicMax(unsigned* p, unsigned v) { return qmath_emu_atomic_max(p, v); }
inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) { return qmath_emu_atomic_max(p, v); }
inline int atomicMin(int* p, int v) { return qmath_emu_atomic_min(p, v); }
inline unsigned atomicMin(unsigned* p, unsigned v) { return qmath_emu_atomic_min(p, v); }
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) { return qmath_emu_atomic_min(p, v); }
inline int atomicCAS(int* p, int compare, int v) {
  __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline unsigned atomicCAS(unsigned* p, unsigned compare, unsigned v) {
  __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare, unsigned long long v) {
  __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
inline unsigned atomicExch(unsigned* p, unsigned v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }

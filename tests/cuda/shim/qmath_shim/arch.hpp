// qmath_shim/arch.hpp - TEST-ONLY host definitions of the arch layer's PTX functions (qmath/cuda/arch/mma.cuh,
// ldmatrix.cuh, cp_async.cuh declare them; their device definitions are the inline PTX there).
//
//   mma_m16n8k32 / mma_m8n8k16   warp collectives: the last lane to arrive assembles A, B and C from every lane's
//                                registers (qmath_shim/fragments.hpp), computes D = A * B + C in wrapping int32 and
//                                hands each lane its D registers;
//   ldmatrix<N, Trans>           warp collective: lanes 8i + j give the row addresses of matrix i; each lane gets
//                                its words as in ldmatrix.cuh's contract, read from the rows at completion;
//   cp_async_16 / commit / wait  per thread: copies are queued and performed only when a wait_group covers their
//                                group, so shared memory read before the wait still holds the 0xA5 fill.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <qmath_shim/engine.hpp>
#include <qmath_shim/builtins.hpp>
#include <qmath_shim/fragments.hpp>

namespace qmath {
namespace cuda {
namespace emu {

template <int R>
struct Regs {
  std::uint32_t r[R];
};

template <class T>
std::int32_t byte_value(std::uint32_t word, int byte) {
  const auto b = static_cast<std::uint8_t>(word >> (8 * byte));
  return std::is_signed<T>::value ? std::int32_t(static_cast<std::int8_t>(b)) : std::int32_t(b);
}

// One mma shape: M x N x K with RA / RB / RC registers per lane for A / B / C.
template <int M, int N, int K, int RA, int RB, int RC>
struct MmaIn {
  std::uint32_t a[RA], b[RB];
  std::int32_t c[RC];
};

template <class TA, class TB, bool kBig>
void mma_op(const unsigned char* in, unsigned mask, unsigned char* out) {
  constexpr int M = kBig ? 16 : 8, N = 8, K = kBig ? 32 : 16, RA = kBig ? 4 : 1, RB = kBig ? 2 : 1, RC = kBig ? 4 : 2;
  using In = MmaIn<M, N, K, RA, RB, RC>;
  if (mask != 0xFFFFFFFFu) qmath::detail::fail("cuda shim", "mma.sync needs all 32 lanes of the warp");
  std::int32_t a[M][K], b[K][N];
  std::uint32_t c[M][N];
  for (int lane = 0; lane < 32; ++lane) {
    In x;
    std::memcpy(&x, in + lane * kWarpSlotBytes, sizeof x);
    for (int r = 0; r < RA; ++r)
      for (int j = 0; j < 4; ++j) {
        const Element e = kBig ? mma16832_a(lane, r, j) : mma8816_a(lane, j);
        a[e.row][e.col] = byte_value<TA>(x.a[r], j);
      }
    for (int r = 0; r < RB; ++r)
      for (int j = 0; j < 4; ++j) {
        const Element e = kBig ? mma16832_b(lane, r, j) : mma8816_b(lane, j);
        b[e.row][e.col] = byte_value<TB>(x.b[r], j);
      }
    for (int r = 0; r < RC; ++r) {
      const Element e = kBig ? mma16832_c(lane, r) : mma8816_c(lane, r);
      c[e.row][e.col] = static_cast<std::uint32_t>(x.c[r]);
    }
  }
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) c[m][n] += static_cast<std::uint32_t>(a[m][k] * b[k][n]);  // wraps mod 2^32
  for (int lane = 0; lane < 32; ++lane) {
    std::int32_t d[RC];
    for (int r = 0; r < RC; ++r) {
      const Element e = kBig ? mma16832_c(lane, r) : mma8816_c(lane, r);
      d[r] = static_cast<std::int32_t>(c[e.row][e.col]);
    }
    std::memcpy(out + lane * kWarpSlotBytes, d, sizeof d);
  }
}

template <int N, bool Trans>
void ldmatrix_op(const unsigned char* in, unsigned mask, unsigned char* out) {
  if (mask != 0xFFFFFFFFu) qmath::detail::fail("cuda shim", "ldmatrix needs all 32 lanes of the warp");
  const unsigned char* rows[32];
  for (int l = 0; l < 32; ++l) std::memcpy(&rows[l], in + l * kWarpSlotBytes, sizeof rows[l]);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    std::uint32_t r[N];
    for (int i = 0; i < N; ++i) {
      if (!Trans) {
        std::memcpy(&r[i], rows[8 * i + g] + 4 * t, 4);  // b16 elements (g, 2t), (g, 2t + 1)
      } else {
        std::uint16_t lo, hi;  // b16 elements (2t, g), (2t + 1, g)
        std::memcpy(&lo, rows[8 * i + 2 * t] + 2 * g, 2);
        std::memcpy(&hi, rows[8 * i + 2 * t + 1] + 2 * g, 2);
        r[i] = std::uint32_t(lo) | std::uint32_t(hi) << 16;
      }
    }
    std::memcpy(out + lane * kWarpSlotBytes, r, sizeof r);
  }
}

}  // namespace emu

namespace arch {

template <class TA, class TB>
inline void mma_m16n8k32(std::int32_t (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                         const std::int32_t (&c)[4]) {
  emu::MmaIn<16, 8, 32, 4, 2, 4> in;
  std::memcpy(in.a, a, sizeof a);
  std::memcpy(in.b, b, sizeof b);
  std::memcpy(in.c, c, sizeof c);
  struct D {
    std::int32_t v[4];
  };
  const D out = emu::warp_collective<D>(0xFFFFFFFFu, &emu::mma_op<TA, TB, true>, in);
  std::memcpy(d, out.v, sizeof d);
}

template <class TA, class TB>
inline void mma_m8n8k16(std::int32_t (&d)[2], const std::uint32_t (&a)[1], const std::uint32_t (&b)[1],
                        const std::int32_t (&c)[2]) {
  emu::MmaIn<8, 8, 16, 1, 1, 2> in;
  in.a[0] = a[0];
  in.b[0] = b[0];
  in.c[0] = c[0];
  in.c[1] = c[1];
  struct D {
    std::int32_t v[2];
  };
  const D out = emu::warp_collective<D>(0xFFFFFFFFu, &emu::mma_op<TA, TB, false>, in);
  d[0] = out.v[0];
  d[1] = out.v[1];
}

template <int N, bool Trans>
inline void ldmatrix(std::uint32_t (&r)[N], const void* row) {
  static_assert(N == 1 || N == 2 || N == 4, "ldmatrix loads 1, 2 or 4 matrices");
  const auto out = emu::warp_collective<emu::Regs<N>>(0xFFFFFFFFu, &emu::ldmatrix_op<N, Trans>, row);
  std::memcpy(r, out.r, sizeof r);
}

inline void cp_async_16(void* dst, const void* src, int src_bytes) {
  if (src_bytes < 0 || src_bytes > 16) qmath::detail::fail("cuda shim", "cp.async src-size ", src_bytes, " not in [0, 16]");
  if (reinterpret_cast<std::uintptr_t>(dst) % 16 != 0 || (src_bytes > 0 && reinterpret_cast<std::uintptr_t>(src) % 16 != 0))
    qmath::detail::fail("cuda shim", "cp.async of 16 bytes needs 16-byte aligned addresses");
  emu::context().open_group.push_back(emu::AsyncCopy{dst, src, src_bytes});
}

inline void cp_async_commit() {
  emu::ThreadContext& c = emu::context();
  c.committed.push_back(std::move(c.open_group));
  c.open_group.clear();
}

template <int N>
inline void cp_async_wait() {
  emu::ThreadContext& c = emu::context();
  while (c.committed.size() > static_cast<std::size_t>(N)) {
    for (const emu::AsyncCopy& x : c.committed.front()) {
      if (x.bytes > 0) std::memcpy(x.dst, x.src, static_cast<std::size_t>(x.bytes));
      std::memset(static_cast<unsigned char*>(x.dst) + x.bytes, 0, static_cast<std::size_t>(16 - x.bytes));
    }
    c.committed.erase(c.committed.begin());
  }
}

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

namespace qmath {
namespace cuda {
namespace arch {

// qmath/cuda/arch/memory.cuh
inline uint4 load_16(const void* p) {
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) qmath::detail::fail("cuda shim", "misaligned 16-byte load");
  uint4 v;
  std::memcpy(&v, p, 16);
  return v;
}
inline void store_16(void* p, uint4 v) {
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) qmath::detail::fail("cuda shim", "misaligned 16-byte store");
  std::memcpy(p, &v, 16);
}

}  // namespace arch
}  // namespace cuda
}  // namespace qmath

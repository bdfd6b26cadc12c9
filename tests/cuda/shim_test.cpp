// Warp-level semantics of the tests' host shim (tests/cuda/shim): shuffles, votes, __syncwarp, mma.sync (m16n8k32,
// m8n8k16; s8 / u8), ldmatrix (x1 / x2 / x4, .trans) and cp.async (commit / wait_group). Each feature is checked
// against the PTX ISA's definition written out here independently of the shim, and each has a kernel with a planted
// bug (wrong fragment index, missing __syncwarp, missing wait_group, shuffle from an inactive lane) that must give
// wrong data. Misuse the hardware leaves undefined or hangs on (lanes disagreeing on a mask, a mask naming an exited
// lane, a deadlock) must throw.
#include <qmath/cuda/arch/barrier.cuh>
#include <qmath/cuda/arch/cp_async.cuh>
#include <qmath/cuda/arch/ldmatrix.cuh>
#include <qmath/cuda/arch/mma.cuh>
#include <qmath/cuda/arch/shuffle.cuh>
#include <qmath/cuda/launch.cuh>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

namespace {

namespace arch = qmath::cuda::arch;
using qmath::cuda::emu::Schedule;
using qmath::cuda::emu::ScopedSchedule;

const Schedule kSchedules[] = {Schedule::kConcurrent, Schedule::kSerialForward, Schedule::kSerialReverse};

template <class... Params, class... Args>
void run(void (*kernel)(Params...), dim3 grid, dim3 block, Args... args) {
  qmath::cuda::launch("shim_test", kernel, {grid, block, 0, nullptr}, args...);
}

// ---- shuffles and votes --------------------------------------------------------------------------------------------

// Butterfly sum over the warp, plus shfl / shfl_down / ballot probes.
__global__ void warp_ops(const int* in, int* sum, int* from_src, int* down, unsigned* votes) {
  const int t = static_cast<int>(threadIdx.x), lane = t % 32;
  const int v = in[t];
  int s = v;
  for (int m = 16; m >= 1; m /= 2) s += arch::shfl_xor(0xFFFFFFFFu, s, m);
  sum[t] = s;
  from_src[t] = arch::shfl(0xFFFFFFFFu, v, (lane * 7 + 3) % 32);
  down[t] = arch::shfl_down(0xFFFFFFFFu, v, 5);
  votes[t] = arch::ballot(0xFFFFFFFFu, v % 3 == 0);
}

// Lanes 0-15 shuffle among themselves; kBug reads lane + 16, which is outside the mask.
template <bool kBug>
__global__ void half_warp_shuffle(const int* in, int* out) {
  const int t = static_cast<int>(threadIdx.x);
  if (t >= 16) return;
  out[t] = arch::shfl(0x0000FFFFu, in[t], kBug ? t + 16 : (t + 1) % 16);
}

// ---- __syncwarp --------------------------------------------------------------------------------------------------

template <bool kSync>
__global__ void warp_rotate(const int* in, int* out) {
  QMATH_SHARED(int, s, 64);
  const int t = static_cast<int>(threadIdx.x), warp = t / 32, lane = t % 32;
  s[t] = in[t];
  if (kSync) arch::sync_warp();
  out[t] = s[warp * 32 + (lane + 1) % 32];
}

// ---- misuse --------------------------------------------------------------------------------------------------------

__global__ void mask_disagreement(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  out[t] = arch::shfl(t < 16 ? 0xFFFFFFFFu : 0xFFFF0000u, t, 16);
}
__global__ void lane_exits(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  if (t == 5) return;
  out[t] = arch::shfl(0xFFFFFFFFu, t, 0);
}
__global__ void block_vs_warp_deadlock(int* out) {
  const int t = static_cast<int>(threadIdx.x);
  if (t == 0) {
    arch::sync_block();
  } else {
    arch::sync_warp();
  }
  out[t] = t;
}

TEST_CASE("shim: shuffles and ballot give every lane what the PTX definition says", "[shim][warp]") {
  const int n = 64;  // two warps
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = (i * 37 + 11) % 101 - 50;
  for (Schedule sc : kSchedules) {
    ScopedSchedule scope(sc);
    std::vector<int> sum(n), from_src(n), down(n);
    std::vector<unsigned> votes(n);
    run(warp_ops, dim3(1), dim3(n), in.data(), sum.data(), from_src.data(), down.data(), votes.data());
    for (int w = 0; w < 2; ++w) {
      int total = 0;
      unsigned vote = 0;
      for (int l = 0; l < 32; ++l) {
        total += in[w * 32 + l];
        if (in[w * 32 + l] % 3 == 0) vote |= 1u << l;
      }
      for (int l = 0; l < 32; ++l) {
        const int t = w * 32 + l;
        CHECK(sum[t] == total);
        CHECK(from_src[t] == in[w * 32 + (l * 7 + 3) % 32]);
        CHECK(down[t] == (l + 5 < 32 ? in[t + 5] : in[t]));  // beyond the warp: the lane's own value
        CHECK(votes[t] == vote);
      }
    }
  }
}

TEST_CASE("shim: a shuffle from a lane outside the mask reads garbage (planted bug)", "[shim][warp]") {
  std::vector<int> in(32), out(32, -1);
  for (int i = 0; i < 32; ++i) in[i] = i * 3;
  run(half_warp_shuffle<false>, dim3(1), dim3(32), in.data(), out.data());
  for (int t = 0; t < 16; ++t) CHECK(out[t] == in[(t + 1) % 16]);
  const std::uint64_t before = qmath::cuda::emu::inactive_lane_reads();
  run(half_warp_shuffle<true>, dim3(1), dim3(32), in.data(), out.data());
  CHECK(qmath::cuda::emu::inactive_lane_reads() - before == 16);
  for (int t = 0; t < 16; ++t) REQUIRE(out[t] == static_cast<int>(0xA5A5A5A5u));
}

TEST_CASE("shim: __syncwarp orders shared memory within a warp; without it a neighbour's slot is stale (planted bug)",
          "[shim][warp]") {
  std::vector<int> in(64), out(64);
  for (int i = 0; i < 64; ++i) in[i] = 1000 + i;
  for (Schedule sc : kSchedules) {
    ScopedSchedule scope(sc);
    run(warp_rotate<true>, dim3(2), dim3(64), in.data(), out.data());
    for (int t = 0; t < 64; ++t) CHECK(out[t] == in[(t / 32) * 32 + (t % 32 + 1) % 32]);
  }
  ScopedSchedule scope(Schedule::kSerialForward);
  run(warp_rotate<false>, dim3(2), dim3(64), in.data(), out.data());
  int wrong = 0;
  for (int t = 0; t < 64; ++t) wrong += out[t] != in[(t / 32) * 32 + (t % 32 + 1) % 32];
  REQUIRE(wrong == 62);  // all but the last lane of each warp read the 0xA5 fill
}

TEST_CASE("shim: warp misuse throws instead of hanging", "[shim][warp]") {
  std::vector<int> out(64);
  for (Schedule sc : kSchedules) {
    ScopedSchedule scope(sc);
    // Depending on who arrives first: the masks disagree, or lanes 16-31 complete among themselves and exit while
    // lanes 0-15 still wait for them.
    CHECK_THROWS_WITH(run(mask_disagreement, dim3(1), dim3(32), out.data()),
                      Catch::Contains("disagree") || Catch::Contains("exited"));
    CHECK_THROWS_WITH(run(lane_exits, dim3(2), dim3(32), out.data()), Catch::Contains("exited"));
    CHECK_THROWS_WITH(run(block_vs_warp_deadlock, dim3(1), dim3(32), out.data()), Catch::Contains("deadlock"));
    // The shim is still usable afterwards.
    run(warp_rotate<true>, dim3(1), dim3(64), out.data(), out.data() + 0);
  }
}

// ---- mma.sync ------------------------------------------------------------------------------------------------------
// The fragment layouts as the PTX ISA tables give them (g = lane / 4, t = lane % 4), written out here independently
// of qmath_shim/fragments.hpp.

struct Rc {
  int row, col;
};
Rc ptx_a16832(int lane, int i) {  // a_i, i < 16: row g for i < 4 or 8 <= i < 12, else g + 8
  const int g = lane / 4, t = lane % 4;
  return {(i < 4 || (i >= 8 && i < 12)) ? g : g + 8, t * 4 + (i & 3) + (i >= 8 ? 16 : 0)};
}
Rc ptx_b16832(int lane, int i) {  // b_i, i < 8
  const int g = lane / 4, t = lane % 4;
  return {t * 4 + (i & 3) + (i >= 4 ? 16 : 0), g};
}
Rc ptx_c16832(int lane, int i) {  // c_i, i < 4
  const int g = lane / 4, t = lane % 4;
  return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
}
Rc ptx_a8816(int lane, int i) { return {lane / 4, (lane % 4) * 4 + i}; }
Rc ptx_b8816(int lane, int i) { return {(lane % 4) * 4 + i, lane / 4}; }
Rc ptx_c8816(int lane, int i) { return {lane / 4, (lane % 4) * 2 + i}; }

// A (M x K), B (K x N) as bytes row-major; C, D (M x N) int32 row-major. kBugA gathers A register r from the rows of
// register r ^ 1 (a wrong fragment index).
template <class TA, class TB, bool kBugA>
__global__ void mma16832_kernel(const std::uint8_t* a, const std::uint8_t* b, const std::int32_t* c, std::int32_t* d) {
  const int lane = static_cast<int>(threadIdx.x);
  std::uint32_t ra[4] = {0, 0, 0, 0}, rb[2] = {0, 0};
  std::int32_t rc[4], rd[4];
  for (int i = 0; i < 16; ++i) {
    const Rc e = ptx_a16832(lane, kBugA ? (i ^ 4) : i);
    ra[i / 4] |= std::uint32_t(a[e.row * 32 + e.col]) << (8 * (i % 4));
  }
  for (int i = 0; i < 8; ++i) {
    const Rc e = ptx_b16832(lane, i);
    rb[i / 4] |= std::uint32_t(b[e.row * 8 + e.col]) << (8 * (i % 4));
  }
  for (int i = 0; i < 4; ++i) rc[i] = c[ptx_c16832(lane, i).row * 8 + ptx_c16832(lane, i).col];
  arch::mma_m16n8k32<TA, TB>(rd, ra, rb, rc);
  for (int i = 0; i < 4; ++i) d[ptx_c16832(lane, i).row * 8 + ptx_c16832(lane, i).col] = rd[i];
}

template <class TA, class TB, bool kBugB>
__global__ void mma8816_kernel(const std::uint8_t* a, const std::uint8_t* b, const std::int32_t* c, std::int32_t* d) {
  const int lane = static_cast<int>(threadIdx.x);
  std::uint32_t ra[1] = {0}, rb[1] = {0};
  std::int32_t rc[2], rd[2];
  for (int i = 0; i < 4; ++i) {
    ra[0] |= std::uint32_t(a[ptx_a8816(lane, i).row * 16 + ptx_a8816(lane, i).col]) << (8 * i);
    const Rc e = ptx_b8816(kBugB ? (lane ^ 4) : lane, i);
    rb[0] |= std::uint32_t(b[e.row * 8 + e.col]) << (8 * i);
  }
  for (int i = 0; i < 2; ++i) rc[i] = c[ptx_c8816(lane, i).row * 8 + ptx_c8816(lane, i).col];
  arch::mma_m8n8k16<TA, TB>(rd, ra, rb, rc);
  for (int i = 0; i < 2; ++i) d[ptx_c8816(lane, i).row * 8 + ptx_c8816(lane, i).col] = rd[i];
}

template <class T>
std::int32_t value(std::uint8_t byte) {
  return std::is_signed<T>::value ? std::int32_t(static_cast<std::int8_t>(byte)) : std::int32_t(byte);
}

// D = A * B + C with wrapping int32 accumulation.
template <class TA, class TB>
std::vector<std::int32_t> mma_reference(int m, int n, int k, const std::vector<std::uint8_t>& a,
                                        const std::vector<std::uint8_t>& b, const std::vector<std::int32_t>& c) {
  std::vector<std::int32_t> d(m * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      std::uint32_t acc = static_cast<std::uint32_t>(c[i * n + j]);
      for (int p = 0; p < k; ++p) acc += static_cast<std::uint32_t>(value<TA>(a[i * k + p]) * value<TB>(b[p * n + j]));
      d[i * n + j] = static_cast<std::int32_t>(acc);
    }
  return d;
}

template <class TA, class TB>
void check_mma(std::uint32_t seed) {
  std::mt19937 rng(seed);
  for (int shape = 0; shape < 2; ++shape) {
    const bool big = shape == 0;
    const int m = big ? 16 : 8, n = 8, k = big ? 32 : 16;
    std::vector<std::uint8_t> a(m * k), b(k * n);
    std::vector<std::int32_t> c(m * n), d(m * n, 0);
    for (auto& x : a) x = static_cast<std::uint8_t>(rng());
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    a[0] = 0x80;  // -128 / 128
    b[0] = 0x80;
    a[1] = 0xFF;
    for (int i = 0; i < m * n; ++i) c[i] = static_cast<std::int32_t>(rng());
    c[0] = 2147483647;  // wraps
    const auto want = mma_reference<TA, TB>(m, n, k, a, b, c);
    for (Schedule sc : kSchedules) {
      ScopedSchedule scope(sc);
      if (big) {
        run(mma16832_kernel<TA, TB, false>, dim3(1), dim3(32), a.data(), b.data(), c.data(), d.data());
      } else {
        run(mma8816_kernel<TA, TB, false>, dim3(1), dim3(32), a.data(), b.data(), c.data(), d.data());
      }
      CHECK(d == want);
    }
    // Planted bug: a wrong fragment index changes the result.
    if (big) {
      run(mma16832_kernel<TA, TB, true>, dim3(1), dim3(32), a.data(), b.data(), c.data(), d.data());
    } else {
      run(mma8816_kernel<TA, TB, true>, dim3(1), dim3(32), a.data(), b.data(), c.data(), d.data());
    }
    REQUIRE(d != want);
  }
}

TEST_CASE("shim: mma.sync m16n8k32 / m8n8k16 per-lane fragments equal D = A * B + C (s8 / u8)", "[shim][mma]") {
  check_mma<std::int8_t, std::int8_t>(1);
  check_mma<std::uint8_t, std::uint8_t>(2);
  check_mma<std::int8_t, std::uint8_t>(3);
  check_mma<std::uint8_t, std::int8_t>(4);
}

// ---- ldmatrix ------------------------------------------------------------------------------------------------------
// Shared memory holds four 8x8 matrices of b16 elements, element (i, row, col) = 0x100 * i + 8 * row + col + 1, with
// rows 16 bytes apart (matrix i at row offset 8 * i). kBugRow: each lane passes the address of the next row.

template <int N, bool Trans, bool kBugRow>
__global__ void ldmatrix_kernel(std::uint32_t* out) {
  QMATH_SHARED(std::uint16_t, s, 4 * 8 * 8);
  const int lane = static_cast<int>(threadIdx.x);
  for (int e = lane; e < 256; e += 32) s[e] = static_cast<std::uint16_t>(0x100 * (e / 64) + e % 64 + 1);
  arch::sync_warp();
  const int i = (lane / 8) % N, j = lane % 8;
  std::uint32_t r[N];
  arch::ldmatrix<N, Trans>(r, s + 64 * i + 8 * (kBugRow ? (j + 1) % 8 : j));
  for (int q = 0; q < N; ++q) out[lane * 4 + q] = r[q];
}

template <int N, bool Trans>
void check_ldmatrix() {
  std::vector<std::uint32_t> out(128, 0);
  run(ldmatrix_kernel<N, Trans, false>, dim3(1), dim3(32), out.data());
  auto element = [](int i, int row, int col) { return std::uint32_t(0x100 * i + 8 * row + col + 1); };
  std::vector<std::uint32_t> want(128, 0);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < N; ++i)
      want[lane * 4 + i] = Trans ? element(i, 2 * t, g) | element(i, 2 * t + 1, g) << 16
                                 : element(i, g, 2 * t) | element(i, g, 2 * t + 1) << 16;
  }
  CHECK(out == want);
  std::fill(out.begin(), out.end(), 0u);
  run(ldmatrix_kernel<N, Trans, true>, dim3(1), dim3(32), out.data());
  REQUIRE(out != want);
}

TEST_CASE("shim: ldmatrix x1 / x2 / x4 (.trans) hands each lane its words of the 8x8 b16 matrices", "[shim][ldmatrix]") {
  check_ldmatrix<1, false>();
  check_ldmatrix<2, false>();
  check_ldmatrix<4, false>();
  check_ldmatrix<1, true>();
  check_ldmatrix<2, true>();
  check_ldmatrix<4, true>();
}

// ---- cp.async ------------------------------------------------------------------------------------------------------
// Each of 32 threads copies three 16-byte chunks (three commit groups) from global to shared memory, waits with
// wait_group<kWait> (kWait = 3: no wait at all, the planted bug), synchronises the block and reads a neighbour's
// chunks. Chunk 2 of every thread is a partial copy (5 bytes, the rest zero-filled).
template <int kWait>
__global__ void cp_async_kernel(const std::uint8_t* g, std::uint8_t* out) {
  QMATH_SHARED(std::uint8_t, s, 3 * 32 * 16);
  const int t = static_cast<int>(threadIdx.x);
  for (int c = 0; c < 3; ++c) {
    arch::cp_async_16(s + (c * 32 + t) * 16, g + (c * 32 + t) * 16, c == 2 ? 5 : 16);
    arch::cp_async_commit();
  }
  arch::cp_async_wait<kWait>();
  arch::sync_block();
  const int u = (t + 1) % 32;
  for (int c = 0; c < 3; ++c)
    for (int b = 0; b < 16; ++b) out[(c * 32 + t) * 16 + b] = s[(c * 32 + u) * 16 + b];
}

TEST_CASE("shim: cp.async data is visible only after the wait_group that covers its group (planted bug: no wait)",
          "[shim][cp_async]") {
  alignas(16) std::uint8_t g[3 * 32 * 16];
  for (int i = 0; i < 3 * 32 * 16; ++i) g[i] = static_cast<std::uint8_t>(i * 7 + 1);
  auto want = [&](int c, int t, int b) {
    const int u = (t + 1) % 32;
    return (c == 2 && b >= 5) ? std::uint8_t(0) : g[(c * 32 + u) * 16 + b];
  };
  std::vector<std::uint8_t> out(3 * 32 * 16);
  for (Schedule sc : kSchedules) {
    ScopedSchedule scope(sc);
    run(cp_async_kernel<0>, dim3(2), dim3(32), g, out.data());
    int bad = 0;
    for (int c = 0; c < 3; ++c)
      for (int t = 0; t < 32; ++t)
        for (int b = 0; b < 16; ++b) bad += out[(c * 32 + t) * 16 + b] != want(c, t, b);
    CHECK(bad == 0);
    // wait_group<1>: the two oldest groups have landed, the newest has not (still the 0xA5 fill).
    run(cp_async_kernel<1>, dim3(1), dim3(32), g, out.data());
    int landed = 0, pending = 0;
    for (int t = 0; t < 32; ++t)
      for (int b = 0; b < 16; ++b) {
        landed += out[(0 * 32 + t) * 16 + b] == want(0, t, b) && out[(1 * 32 + t) * 16 + b] == want(1, t, b);
        pending += out[(2 * 32 + t) * 16 + b] == 0xA5;
      }
    CHECK(landed == 32 * 16);
    CHECK(pending == 32 * 16);
  }
  run(cp_async_kernel<3>, dim3(1), dim3(32), g, out.data());
  REQUIRE(std::count(out.begin(), out.end(), std::uint8_t(0xA5)) == static_cast<long>(out.size()));
}

}  // namespace

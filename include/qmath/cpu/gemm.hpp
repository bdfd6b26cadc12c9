// qmath/cpu/gemm.hpp - fast host INT8 GEMM: packed, cache-blocked, AVX-512 VNNI / AVX-VNNI / AVX2 / scalar kernels,
// with the fused epilogue of qmath/epilogue.hpp. Bit-exact with qmath::gemm_reference for every operand type,
// zero point, output type and epilogue.
//
//   C = epilogue((A - za) * (B - zb)),  A: M x K row-major int8/uint8, B: K x N (BLayout::kKxN or kNxK) int8/uint8,
//   C: M x N row-major int32 / int8 / uint8 / float, int32 accumulation.
//
// Two entry points:
//   - one-shot: cpu::gemm(shape, a, lda, za, b, ldb, layout, zb, c, ldc, epilogue, options) - same arguments as
//     gemm_reference plus options; packs B on every call;
//   - pre-packed weights: auto pb = cpu::pack_b(K, N, b, ldb, layout, zb) once, then
//     cpu::gemm(shape, a, lda, za, pb, c, ldc, epilogue, options) many times (pb is immutable and may be shared by
//     threads). A PackedB runs on every path, whatever path is chosen later.
//
// Paths (GemmOptions::isa): kAuto picks the best the CPU runs (AVX-512 VNNI > AVX-VNNI > AVX2 > scalar, read once
// with __builtin_cpu_supports); a named path that the CPU or compiler cannot run is an error, never a silent
// fallback. All paths compute the same wrapping 32-bit dot products of A' = A + 128 (int8 A) or A (uint8 A) with
// B' = B (int8 B) or B - 128 (uint8 B); the offsets go into the zero-point compensation (see detail/pack.hpp), so
// signed x signed runs on VPDPBUSD (unsigned x signed) exactly. The AVX2 path multiplies int16 operands with VPMADDWD
// (exact for every input; B is widened once, when packed), or, for a B whose packed k pairs satisfy
// |B'0| + |B'1| <= 128 (checked when B is packed), uint8 x int8 with VPMADDUBSW, which cannot saturate then.
//
// Packed B layout: pack_b packs for the path kAuto resolves to on this CPU: int16 pairs (detail::BPackLayout::
// kInt16K2) for the AVX2 path unless the VPMADDUBSW bound holds, int8 groups of 4 (kInt8K4) otherwise. A GEMM on a
// path that does not take the PackedB's layout converts the packed panels into a temporary for that call (O(K N),
// as a one-shot GEMM packs B), so any PackedB runs on every path; the one-shot gemm packs for the path it runs.
//
// Threading: GemmOptions::threads (default 1) std::threads are started for this call and joined before it returns
// (no global pool); the work is split over 32-column panels of B, or over rows of A when N is narrow. Results do
// not depend on the thread count.
//
// Errors: qmath::error (from detail::check_gemm_args and validate_epilogue, or naming cpu::gemm / cpu::pack_b) for
// null pointers, non-positive sizes, leading dimensions below the row length, zero points outside the operand type,
// K above max_k_for_int32 for the operand types and zero points, a PackedB that is empty or was packed for another
// K or N, a bad epilogue, threads < 1, or an unavailable path. Every check runs before anything is written to C.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/kernel_avx2.hpp>
#include <qmath/cpu/detail/kernel_avx512vnni.hpp>
#include <qmath/cpu/detail/kernel_avxvnni.hpp>
#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/cpu/detail/pack.hpp>
#include <qmath/cpu/detail/saturating.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/gemm_reference.hpp>

namespace qmath {
namespace cpu {

// Instruction-set path of the GEMM kernels.
enum class Isa {
  kAuto,        // the best path this CPU runs
  kScalar,      // portable C++
  kAvx2,        // AVX2, exact int16 widening + VPMADDWD
  kAvxVnni,     // AVX-VNNI, 256-bit VEX VPDPBUSD (needs GCC >= 11 / Clang >= 12 and a CPU with avxvnni)
  kAvx512Vnni,  // AVX-512 VNNI, 512-bit VPDPBUSD
};

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAuto: return "auto";
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvxVnni: return "avxvnni";
    case Isa::kAvx512Vnni: return "avx512vnni";
  }
  return "unknown";
}

// True when this build and this CPU can run the path (kAuto and kScalar always).
inline bool isa_supported(Isa isa) {
  const detail::CpuFeatures& f = detail::cpu_features();
  switch (isa) {
    case Isa::kAuto:
    case Isa::kScalar: return true;
    case Isa::kAvx2: return QMATH_CPU_X86 && f.avx2;
    case Isa::kAvxVnni: return QMATH_CPU_HAS_AVXVNNI_TARGET && f.avxvnni;
    case Isa::kAvx512Vnni: return QMATH_CPU_X86 && f.avx512vnni;
  }
  return false;
}

// The path kAuto resolves to.
inline Isa best_isa() {
  if (isa_supported(Isa::kAvx512Vnni)) return Isa::kAvx512Vnni;
  if (isa_supported(Isa::kAvxVnni)) return Isa::kAvxVnni;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

struct GemmOptions {
  Isa isa = Isa::kAuto;
  int threads = 1;  // >= 1; std::threads started and joined by this call
  // Opt-in, not exact: add each k pair's two products in int16 with saturation, as oneDNN's / MLAS's AVX2 u8s8
  // kernels do (VPMADDUBSW), to reproduce their results bit for bit. The result is then that of
  // cpu::gemm_reference_int16_saturating (detail/saturating.hpp), on every path.
  bool saturate_int16_pairs = false;
};

template <class TB>
class PackedB;
namespace detail {
template <class TB>
PackedB<TB> pack_b_for(Isa isa, int k, int n, const TB* b, std::int64_t ldb, BLayout layout, std::int32_t zb,
                       const BPackLayout* force = nullptr);
}  // namespace detail

// B packed once for many GEMMs: the packed panels (int8 or int16, layouts in detail/pack.hpp) and the column sums of
// B'. The zero point zb is fixed at packing. Immutable after packing; copyable and movable.
template <class TB>
class PackedB {
  static_assert(std::is_same<TB, std::int8_t>::value || std::is_same<TB, std::uint8_t>::value, "B must be int8/uint8");

 public:
  PackedB() = default;
  int k() const { return k_; }
  int n() const { return n_; }
  std::int32_t zero_point() const { return zb_; }
  bool empty() const { return k_ == 0; }
  // How the panels are stored (detail/pack.hpp), chosen at packing for the path that will run them.
  detail::BPackLayout layout() const { return layout_; }
  // True when every packed k pair of B' satisfies |B'0| + |B'1| <= 128 (detail::pairs_fit_int16): the AVX2 path may
  // then use VPMADDUBSW exactly.
  bool pairs_fit_int16() const { return pairs_fit_int16_; }
  // Packed panels, 64-byte aligned: ceil(N/32) * ceil(K/4) * 128 elements of int8 (kInt8K4) or int16 (kInt16K2).
  const std::int8_t* data() const { return data_.as<const std::int8_t>(); }
  // Sums over k of B' = B - b_offset per column, padded with zeros to a multiple of 32 columns.
  const std::int32_t* column_sums() const { return col_sum_.data(); }

 private:
  template <class T>
  friend PackedB<T> detail::pack_b_for(Isa isa, int k, int n, const T* b, std::int64_t ldb, BLayout layout,
                                       std::int32_t zb, const detail::BPackLayout* force);
  int k_ = 0, n_ = 0;
  std::int32_t zb_ = 0;
  detail::BPackLayout layout_ = detail::BPackLayout::kInt8K4;
  bool pairs_fit_int16_ = false;
  detail::AlignedBuffer data_;
  std::vector<std::int32_t> col_sum_;
};

namespace detail {

// The packed B layout that the (resolved) path runs directly: the AVX2 path takes int16 pairs unless VPMADDUBSW is
// proven exact for this B.
inline BPackLayout preferred_b_layout(Isa isa, bool pairs_fit) {
  return isa == Isa::kAvx2 && !pairs_fit ? BPackLayout::kInt16K2 : BPackLayout::kInt8K4;
}

// pack_b for a given path (kAuto: the best on this CPU), or in the layout *force when force is not null (tests and
// benchmarks). Throws qmath::error on bad arguments.
template <class TB>
PackedB<TB> pack_b_for(Isa isa, int k, int n, const TB* b, std::int64_t ldb, BLayout layout, std::int32_t zb,
                       const BPackLayout* force) {
  const char* where = "cpu::pack_b";
  qmath::detail::require(k > 0 && n > 0, where, "sizes must be positive, got K=", k, " N=", n);
  qmath::detail::require(b != nullptr, where, "null B pointer");
  const int b_row = layout == BLayout::kKxN ? n : k;
  qmath::detail::require(ldb >= b_row, where, "ldb (", ldb, ") < ", layout == BLayout::kKxN ? "N (" : "K (", b_row,
                         ")");
  const QuantRange rb = full_range<TB>();
  qmath::detail::require(zb >= rb.qmin && zb <= rb.qmax, where, "B zero point ", zb, " outside B's type range");
  // Every 8-bit A has max |a - za| >= 128, so no A type or zero point allows more than this K.
  const std::int64_t kmax = max_k_for_int32(QuantRange{-128, 127}, 0, rb, zb);
  qmath::detail::require(k <= kmax, where, "K = ", k, " can overflow the int32 accumulator for any A: at most ", kmax);
  PackedB<TB> p;
  const std::size_t elems = packed_b_elements(k, n);
  AlignedBuffer bytes(elems);
  p.col_sum_.assign(std::size_t(ceil_div(n, kNr)) * kNr, 0);
  pack_b(k, n, b, ldb, layout, bytes.as<std::int8_t>(), p.col_sum_.data());
  p.pairs_fit_int16_ = pairs_fit_int16(k, n, bytes.as<std::int8_t>());
  if (isa == Isa::kAuto) isa = best_isa();
  p.layout_ = force ? *force : preferred_b_layout(isa, p.pairs_fit_int16_);
  if (p.layout_ == BPackLayout::kInt16K2) {
    p.data_ = AlignedBuffer(elems * sizeof(std::int16_t));
    widen_packed_b(k, n, bytes.as<std::int8_t>(), p.data_.template as<std::int16_t>());
  } else {
    p.data_ = std::move(bytes);
  }
  p.k_ = k;
  p.n_ = n;
  p.zb_ = zb;
  return p;
}

}  // namespace detail

// Packs B (K x N in `layout`, leading dimension ldb) with zero point zb, in the layout of the path kAuto resolves to
// (see the top of this file). Throws qmath::error on bad arguments. K is checked against the accumulator bound when
// the GEMM runs (the bound depends on A's type and zero point).
template <class TB>
PackedB<TB> pack_b(int k, int n, const TB* b, std::int64_t ldb, BLayout layout, std::int32_t zb) {
  return detail::pack_b_for(Isa::kAuto, k, n, b, ldb, layout, zb);
}

namespace detail {

using KernelFn = void (*)(int rows, int kgroups, const void* a_panel, const std::int8_t* b, std::int32_t* tile,
                          bool accumulate);
template <class TC>
using EpilogueFn = void (*)(const Epilogue& e, const std::int32_t* dot, int ld, const std::int32_t* row_comp, int rows,
                            const std::int32_t* col_comp, int n0, int cols, TC* out, std::int64_t ldc);

template <class TA>
using PackAFn = void (*)(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum);

template <class AE, class TA>
void pack_a_generic(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  pack_a_panel<AE>(rows, k, a, lda, static_cast<AE*>(dst), row_sum);
}
#if QMATH_CPU_X86
template <class TA>
void pack_a_avx512(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  pack_a_panel_avx512<TA>(rows, k, a, lda, static_cast<std::uint8_t*>(dst), row_sum);
}
#endif

template <class TA, class TC>
struct PathOps {
  KernelFn kernel;
  EpilogueFn<TC> epilogue;
  PackAFn<TA> pack_a;
  int a_elem_bytes;                 // 2: A packed as int16 (AVX2), 1: uint8
  EpilogueFn<TC> epilogue_stream;   // the same results, written with non-temporal stores where the path has them
  BPackLayout b_layout;             // the packed B layout the kernel reads
  int kc_groups;                    // K block (groups of 4 k) for the cache blocking of run_block
};

// K blocks: the B sub-panel of one K block (kc_groups * 128 B elements) stays in L1 while the A panels pass.
constexpr int kKcGroups = 160;       // int8 B: 20 KiB
constexpr int kKcGroupsInt16 = 64;   // int16 B: 16 KiB

// The kernels of a resolved path; `maddubs` selects the AVX2 VPMADDUBSW kernel (only for a B with pairs_fit_int16).
template <class TA, class TC>
PathOps<TA, TC> path_ops(Isa isa, bool maddubs) {
  switch (isa) {
#if QMATH_CPU_X86
    case Isa::kAvx512Vnni:
      return {kernel_avx512vnni,         epilogue_avx512<TC>,  pack_a_avx512<TA>, 1,
              epilogue_avx512<TC, true>, BPackLayout::kInt8K4, kKcGroups};
    case Isa::kAvx2:
      if (maddubs)
        return {kernel_avx2_maddubs,     epilogue_avx2<TC>,    pack_a_generic<std::uint8_t, TA>, 1,
                epilogue_avx2<TC, true>, BPackLayout::kInt8K4, kKcGroups};
      return {kernel_avx2,             epilogue_avx2<TC>,     pack_a_generic<std::int16_t, TA>, 2,
              epilogue_avx2<TC, true>, BPackLayout::kInt16K2, kKcGroupsInt16};
#endif
#if QMATH_CPU_HAS_AVXVNNI_TARGET
    case Isa::kAvxVnni:
      return {kernel_avxvnni,    epilogue_avx2<TC>,    pack_a_generic<std::uint8_t, TA>, 1,
              epilogue_avx2<TC>, BPackLayout::kInt8K4, kKcGroups};
#endif
    default:
      return {kernel_scalar,       epilogue_scalar<TC>,  pack_a_generic<std::uint8_t, TA>, 1,
              epilogue_scalar<TC>, BPackLayout::kInt8K4, kKcGroups};
  }
}

// Everything one thread needs to compute rows [m0, m1) x panels [p0, p1) of C.
template <class TA, class TC>
struct GemmJob {
  GemmShape s;
  const TA* a;
  std::int64_t lda;
  const std::int8_t* b_packed;
  const std::int32_t* col_comp;  // per column, padded to the panel width
  std::int32_t zb_prime;
  TC* c;
  std::int64_t ldc;
  const Epilogue* epilogue;
  PathOps<TA, TC> ops;
  bool stream;  // C is written with ops.epilogue_stream (see streams_output): fence before returning
};

// Whether C is written with non-temporal stores: 4-byte outputs (whole 64-byte lines per 16-lane chunk) and a C of at
// least kStreamOutputBytes, which does not stay in L2 anyway; written through the caches, its lines evict the packed
// A block (1024^3, int32 output, ldc = 1024, 64-byte aligned C, four alternating runs, each against oneDNN
// gemm_s8s8s32 in the same process: 0.82-0.96x oneDNN with plain stores, 0.91-0.96x with streaming stores; at 2048^3
// 0.83-0.84x and 0.81-1.33x). Smaller outputs keep plain stores, so a consumer that reads C next finds it in cache.
// Chunks that are not 64-byte aligned (a C base or ldc that is not a multiple of 16 elements) use plain stores.
constexpr std::int64_t kStreamOutputBytes = std::int64_t(4) << 20;
template <class TC>
bool streams_output(GemmShape s, std::int64_t ldc) {
  return sizeof(TC) == 4 && std::int64_t(s.m) * ldc * std::int64_t(sizeof(TC)) >= kStreamOutputBytes;
}

// Cache blocking. For each block of A rows (packed, ~192 KiB: stays in L2) and each 32-column B panel, K is swept
// in blocks of at most ops.kc_groups groups: the B sub-panel stays in L1 while every A panel of the block passes,
// and the int32 tiles of the block (rows x 32) are accumulated across K blocks; after the last K block the fused
// epilogue turns them into C while they are still in cache.
constexpr std::size_t kABlockBytes = 192 * 1024;

template <class AE, class TA, class TC>
void run_block(const GemmJob<TA, TC>& j, int m0, int m1, int p0, int p1) {
  const int k = j.s.k, kgroups = ceil_div(k, kKGroup);
  const std::size_t panel_elems = std::size_t(kgroups) * kMr * kKGroup;
  const int budget_panels = std::max<int>(1, int(kABlockBytes / (panel_elems * sizeof(AE))));
  const int a_panels = std::min(budget_panels, ceil_div(m1 - m0, kMr));
  // K blocks of at most ops.kc_groups groups, of equal size (no short tail block).
  const int kc_groups = ceil_div(kgroups, ceil_div(kgroups, j.ops.kc_groups));
  const std::size_t b_group_bytes = std::size_t(kNr) * kKGroup * (j.ops.b_layout == BPackLayout::kInt16K2 ? 2 : 1);
  AlignedBuffer a_pack(panel_elems * sizeof(AE) * a_panels);
  AlignedBuffer acc(sizeof(std::int32_t) * std::size_t(a_panels) * kMr * kNr);
  std::vector<std::int32_t> row_comp(std::size_t(a_panels) * kMr);
  for (int mb = m0; mb < m1; mb += a_panels * kMr) {
    const int rows_b = std::min(a_panels * kMr, m1 - mb);
    const int np = ceil_div(rows_b, kMr);
    for (int q = 0; q < np; ++q)
      j.ops.pack_a(std::min(kMr, rows_b - q * kMr), k, j.a + std::int64_t(mb + q * kMr) * j.lda, j.lda,
                   a_pack.as<AE>() + q * panel_elems, row_comp.data() + q * kMr);
    for (int i = 0; i < np * kMr; ++i) row_comp[i] = qmath::detail::wrap_mul(-j.zb_prime, row_comp[i]);
    for (int p = p0; p < p1; ++p) {
      const std::int8_t* bp = j.b_packed + std::size_t(p) * kgroups * b_group_bytes;
      for (int g0 = 0; g0 < kgroups; g0 += kc_groups) {
        const int gc = std::min(kc_groups, kgroups - g0);
        for (int q = 0; q < np; ++q)
          j.ops.kernel(std::min(kMr, rows_b - q * kMr), gc, a_pack.as<AE>() + q * panel_elems + g0 * kMr * kKGroup,
                       bp + std::size_t(g0) * b_group_bytes, acc.as<std::int32_t>() + q * kMr * kNr, g0 > 0);
      }
      const int n0 = p * kNr, cols = std::min(kNr, j.s.n - n0);
      j.ops.epilogue(*j.epilogue, acc.as<std::int32_t>(), kNr, row_comp.data(), rows_b, j.col_comp + n0, n0, cols,
                     j.c + std::int64_t(mb) * j.ldc + n0, j.ldc);
    }
  }
}

// The kernels of the saturating mode (GemmOptions::saturate_int16_pairs): VPMADDUBSW on AVX2 (AVX-512 and AVX-VNNI
// CPUs run AVX2 too), the scalar saturating kernel where the CPU has no AVX2.
template <class TA, class TC>
PathOps<TA, TC> path_ops_saturating(Isa isa) {
  PathOps<TA, TC> ops = path_ops<TA, TC>(Isa::kScalar, false);
#if QMATH_CPU_X86
  if (isa != Isa::kScalar && isa_supported(Isa::kAvx2)) return path_ops<TA, TC>(Isa::kAvx2, true);
#endif
  ops.kernel = kernel_scalar_saturating;
  return ops;
}

// Whether `isa` (resolved) runs `pb` on the VPMADDUBSW kernel: only the AVX2 path, only for a PackedB in the int8
// layout whose k pairs were proven to fit int16 when it was packed.
template <class TB>
bool runs_maddubs(Isa isa, const PackedB<TB>& pb) {
  return isa == Isa::kAvx2 && pb.layout() == BPackLayout::kInt8K4 && pb.pairs_fit_int16();
}

template <class TA, class TB, class TC>
void run_gemm(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const PackedB<TB>& pb, TC* c,
              std::int64_t ldc, const Epilogue& e, Isa isa, int threads, bool saturate) {
  using qmath::detail::wrap_add;
  using qmath::detail::wrap_mul;
  const std::int32_t* col_sum = pb.column_sums();
  const std::int32_t za_p = za + a_offset<TA>(), zb_p = pb.zero_point() + b_offset<TB>();
  const PathOps<TA, TC> ops =
      saturate ? path_ops_saturating<TA, TC>(isa) : path_ops<TA, TC>(isa, runs_maddubs(isa, pb));
  // A PackedB in another layout than the kernel reads is converted for this call.
  const std::int8_t* b_packed = pb.data();
  AlignedBuffer converted;
  if (ops.b_layout != pb.layout()) {
    const std::size_t elems = packed_b_elements(s.k, s.n);
    if (ops.b_layout == BPackLayout::kInt16K2) {
      converted = AlignedBuffer(elems * sizeof(std::int16_t));
      widen_packed_b(s.k, s.n, pb.data(), converted.as<std::int16_t>());
    } else {
      converted = AlignedBuffer(elems);
      narrow_packed_b(s.k, s.n, reinterpret_cast<const std::int16_t*>(pb.data()), converted.as<std::int8_t>());
    }
    b_packed = converted.as<const std::int8_t>();
  }
  const int panels = ceil_div(s.n, kNr);
  std::vector<std::int32_t> col_comp(std::size_t(panels) * kNr);
  const std::int32_t kzz = wrap_mul(wrap_mul(s.k, za_p), zb_p);
  for (std::size_t n = 0; n < col_comp.size(); ++n) col_comp[n] = wrap_add(wrap_mul(-za_p, col_sum[n]), kzz);
  GemmJob<TA, TC> job{s, a, lda, b_packed, col_comp.data(), zb_p, c, ldc, &e, ops, streams_output<TC>(s, ldc)};
  if (job.stream) job.ops.epilogue = job.ops.epilogue_stream;  // chosen once per call
  auto run = [&job](int m0, int m1, int p0, int p1) {
    if (job.ops.a_elem_bytes == 2)
      run_block<std::int16_t>(job, m0, m1, p0, p1);
    else
      run_block<std::uint8_t>(job, m0, m1, p0, p1);
#if QMATH_CPU_X86
    if (job.stream) _mm_sfence();  // non-temporal stores are weakly ordered: complete them before C is handed over
#endif
  };
  const int row_blocks = ceil_div(s.m, kMr);
  // Split the larger of the panel and row-block counts; never start more threads than blocks.
  const bool split_n = panels >= row_blocks || panels >= 2 * threads;
  const int units = split_n ? panels : row_blocks;
  const int t_count = std::max(1, std::min(threads, units));
  if (t_count == 1) return run(0, s.m, 0, panels);
  std::vector<std::thread> pool;
  pool.reserve(t_count - 1);
  auto range = [&](int t, int& lo, int& hi) {
    lo = int(std::int64_t(units) * t / t_count);
    hi = int(std::int64_t(units) * (t + 1) / t_count);
  };
  // A worker's exception (std::bad_alloc of its packing buffers) is carried to the caller after every thread has
  // joined; a thread that cannot be started has its share run by the calling thread.
  std::vector<std::exception_ptr> errors(t_count);
  auto work = [&](int t) {
    try {
      int lo, hi;
      range(t, lo, hi);
      if (split_n)
        run(0, s.m, lo, hi);
      else
        run(lo * kMr, std::min(s.m, hi * kMr), 0, panels);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  for (int t = 1; t < t_count; ++t) {
    try {
      pool.emplace_back(work, t);
    } catch (const std::system_error&) {
      work(t);
    }
  }
  work(0);
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& err : errors)
    if (err) std::rethrow_exception(err);
}

inline Isa resolve_isa(const GemmOptions& opt, const char* where) {
  qmath::detail::require(opt.threads >= 1, where, "threads must be >= 1, got ", opt.threads);
  qmath::detail::require(isa_supported(opt.isa), where, "path ", isa_name(opt.isa),
                         " is not available on this CPU / compiler");
  return opt.isa == Isa::kAuto ? best_isa() : opt.isa;
}

}  // namespace detail

// GEMM with pre-packed B: s.k and s.n must equal b.k() and b.n(). Throws qmath::error before writing C.
template <class TA, class TB, class TC>
void gemm(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const PackedB<TB>& b, TC* c, std::int64_t ldc,
          const Epilogue& epilogue, GemmOptions options = {}) {
  const char* where = "cpu::gemm";
  qmath::detail::require(!b.empty(), where, "PackedB is empty (not packed)");
  qmath::detail::require(s.k == b.k() && s.n == b.n(), where, "PackedB was packed for K=", b.k(), " N=", b.n(),
                         ", called with K=", s.k, " N=", s.n);
  // B's own checks ran at packing; this checks A, C, the zero points and the K bound for TA x TB.
  qmath::detail::check_gemm_args(where, s, a, lda, za, reinterpret_cast<const TB*>(b.data()), s.k, BLayout::kNxK,
                                 b.zero_point(), c, ldc);
  validate_epilogue<TC>(epilogue, s.n);
  const Isa isa = detail::resolve_isa(options, where);
  detail::run_gemm<TA, TB, TC>(s, a, lda, za, b, c, ldc, epilogue, isa, options.threads,
                               options.saturate_int16_pairs);
}

// One-shot GEMM, same arguments and result as qmath::gemm_reference; packs B internally.
template <class TA, class TB, class TC>
void gemm(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b, std::int64_t ldb, BLayout b_layout,
          std::int32_t zb, TC* c, std::int64_t ldc, const Epilogue& epilogue, GemmOptions options = {}) {
  const char* where = "cpu::gemm";
  qmath::detail::check_gemm_args(where, s, a, lda, za, b, ldb, b_layout, zb, c, ldc);
  validate_epilogue<TC>(epilogue, s.n);
  const Isa isa = detail::resolve_isa(options, where);
  const detail::BPackLayout int8 = detail::BPackLayout::kInt8K4;  // the saturating kernels read int8 pairs
  const detail::BPackLayout* layout = options.saturate_int16_pairs ? &int8 : nullptr;
  gemm(s, a, lda, za, detail::pack_b_for(isa, s.k, s.n, b, ldb, b_layout, zb, layout), c, ldc, epilogue, options);
}

}  // namespace cpu
}  // namespace qmath

// qmath/cpu/gemm.hpp - fast host INT8 GEMM: packed, cache-blocked, AVX-512 VNNI / AVX-VNNI / AVX2 / scalar kernels,
// with the fused epilogue of qmath/epilogue.hpp. Bit-exact with qmath::gemm_reference for every operand type,
// zero point, output type and epilogue.
//
//   C = epilogue((A - za) * (B - zb)),  A: M x K row-major int8/uint8, B: K x N int8/uint8 (row- or column-major),
//   C: M x N row-major int32 / int8 / uint8 / float, int32 accumulation.
//
// Two entry points:
//   - one-shot: cpu::gemm(GemmArgs{a, b, c, za, zb, epilogue}, options) - the arguments of gemm_reference plus
//     options; packs B on every call;
//   - pre-packed weights: auto pb = cpu::pack_b(b_view, zb) once, then
//     cpu::gemm(cpu::PackedGemmArgs{a, &pb, c, za, epilogue}, options) many times (pb is immutable and may be shared
//     by threads). A PackedB runs on every path, whatever path is chosen later.
//
// Paths (GemmOptions::isa, through the registry of qmath/isa.hpp): kAuto picks the best kernel at or below the
// process cap (QMATH_MAX_ISA) that the CPU runs (AVX-512 VNNI > AVX-VNNI > AVX2 > scalar; kAvx512 has no kernel of
// its own and runs AVX-VNNI or AVX2); a named path that the CPU, the compiler or the cap rules out is an error, never
// a silent fallback. All paths compute the same wrapping 32-bit dot products of A' = A + 128 (int8 A) or A (uint8 A) with
// B' = B (int8 B) or B - 128 (uint8 B); the offsets go into the zero-point compensation (see detail/pack.hpp), so
// signed x signed runs on VPDPBUSD (unsigned x signed) exactly. The AVX2 path multiplies int16 operands with VPMADDWD
// (exact for every input; B is widened once, when packed), or, for a B whose packed k pairs satisfy
// |B'0| + |B'1| <= 128 (checked when B is packed), uint8 x int8 with VPMADDUBSW, which cannot saturate then.
//
// Packed B layout: pack_b packs for the path kAuto resolves to on this CPU: int16 pairs (detail::BPackLayout::
// kInt16K2) for the AVX2 path unless the VPMADDUBSW bound holds, int8 groups of 4 (kInt8K4) otherwise. A PackedB in
// the int16 layout keeps the int8 panels too (PackedB::int8_data()), which every kernel reading int8 takes; a GEMM
// whose kernel reads int16 widens an int8-layout PackedB into a temporary for that call (O(K N), as a one-shot GEMM
// packs B), so any PackedB runs on every path; the one-shot gemm packs for the path it runs.
//
// 7-bit activations (GemmOptions::activations_7bit, a checked contract on a uint8 A: every value <= 127): the AVX2
// path then runs the VPMADDUBSW kernels for every B, exactly (at M <= kSmallMMax small_m_kernel_maddubs_avx2).
//
// Small M (M <= detail::kSmallMMax on the x86 and scalar paths; exact mode: int16 A' on AVX2 and scalar, uint8 A'
// with VPDPBUSD on the VNNI paths; saturating mode: the VPMADDUBSW kernel on A' = a + 128 or a in uint8 on every x86
// SIMD path): A is not packed and each B panel is read once for all rows by the small-M kernels
// (detail/kernel_small_m.hpp), which read the int8 panels: a PackedB in the int16 layout keeps an int8 copy of its
// panels for them (PackedB::int8_data(), 1 more byte per weight), so a batch-1 call reads 1 byte per weight instead
// of 2. The fused epilogue is the path's own.
// On the AArch64 paths M <= detail::kSmallMMaxNeon runs detail/kernel_small_m_neon.hpp instead (SMULL, SDOT over
// kInt8K4; USMMLA over the kInt8K8 panels that a PackedB of the I8MM path holds), through run_small_m_i8.
//
// Threading: GemmOptions::threads (default 1) std::threads are started for this call and joined before it returns
// (no global pool); the work is split over 32-column panels of B, or over rows of A when N is narrow. Results do
// not depend on the thread count.
//
// Errors: qmath::error, before anything is written to C, from qmath::validate (gemm_args.hpp: views, extents, zero
// points, the K bound, the epilogue) and from can_implement (A and C row-major), or naming cpu::pack_b / cpu::gemm
// for a PackedB that is null, empty or packed for another K or N, threads < 1, or an unavailable path.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include <qmath/cpu/detail/cpu_features.hpp>
#include <qmath/cpu/detail/epilogue_lanes.hpp>
#include <qmath/cpu/detail/kernel_avx2.hpp>
#include <qmath/cpu/detail/kernel_avx512vnni.hpp>
#include <qmath/cpu/detail/kernel_avxvnni.hpp>
#include <qmath/cpu/detail/kernel_neon.hpp>
#include <qmath/cpu/detail/kernel_neon_dotprod.hpp>
#include <qmath/cpu/detail/kernel_neon_i8mm.hpp>
#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/cpu/detail/kernel_small_m.hpp>
#include <qmath/cpu/detail/kernel_small_m_neon.hpp>
#include <qmath/cpu/detail/pack.hpp>
#include <qmath/cpu/detail/saturating.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/error.hpp>
#include <qmath/gemm_args.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/isa.hpp>

namespace qmath {
namespace cpu {

// GEMM kernel paths: kScalar (portable C++), kAvx2 (exact int16 VPMADDWD, or VPMADDUBSW where proven exact),
// kAvxVnni (256-bit VEX VPDPBUSD), kAvx512Vnni (512-bit VPDPBUSD); on AArch64 kNeon (SMULL + SADALP),
// kNeonDotprod (SDOT), kNeonI8mm (USMMLA).
constexpr unsigned kGemmKernels = isa_bit(Isa::kScalar) |
                                  (QMATH_CPU_X86 ? isa_bit(Isa::kAvx2) | isa_bit(Isa::kAvx512Vnni) : 0u) |
                                  (QMATH_CPU_HAS_AVXVNNI_TARGET ? isa_bit(Isa::kAvxVnni) : 0u) |
                                  (QMATH_CPU_AARCH64 ? isa_bit(Isa::kNeon) : 0u) |
                                  (QMATH_CPU_HAS_ARM_I8MM_TARGET ? isa_bit(Isa::kNeonDotprod) | isa_bit(Isa::kNeonI8mm)
                                                                 : 0u);

// The kernel path cpu::gemm runs for `requested` (see the file comment). Throws as cpu::gemm would.
inline Isa resolved_isa_for_gemm(Isa requested = Isa::kAuto) {
  return qmath::resolve_isa(requested, kGemmKernels, "cpu::resolved_isa_for_gemm");
}

struct GemmOptions {
  Isa isa = Isa::kAuto;
  int threads = 1;  // >= 1; std::threads started and joined by this call
  // Opt-in, not exact: add each k pair's two products in int16 with saturation, as oneDNN's / MLAS's AVX2 u8s8
  // kernels do (VPMADDUBSW), to reproduce their results bit for bit. The result is then that of
  // cpu::gemm_reference_int16_saturating (detail/saturating.hpp), on every path.
  bool saturate_int16_pairs = false;
  // A contract on A, exact: every A value lies in [0, 127] (uint8 activations quantized to 7 bits, PyTorch's /
  // FBGEMM's reduce_range). cpu::gemm checks it on every call (O(M K)) and throws qmath::error naming the first value
  // outside, before writing C; int8 A is rejected (its A' = a + 128 is not 7-bit). Then every k pair sum
  // A'0 B'0 + A'1 B'1 lies within 2 * 127 * 128 = 32512 in magnitude for every B, so the AVX2 path runs the
  // VPMADDUBSW kernel (which cannot saturate then) for every PackedB, on its int8 panels; results equal
  // gemm_reference on every path.
  bool activations_7bit = false;
};

template <class TB>
class PackedB;
namespace detail {
template <class TB>
PackedB<TB> pack_b_for(Isa isa, const MatrixView<const TB>& b, std::int32_t zb, const BPackLayout* force = nullptr);
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
  // The same panels in kInt8K4, which the small-M kernels read (detail/kernel_small_m.hpp): data() itself for that
  // layout; for kInt16K2 a second copy kept at packing (1 byte per padded weight beside the 2 of data()), so that a
  // small batch reads 1 byte per weight without converting B on every call; null for kInt8K8 (converted per call).
  const std::int8_t* int8_data() const {
    return layout_ == detail::BPackLayout::kInt8K4 ? data() : int8_copy_.as<const std::int8_t>();
  }
  // Sums over k of B' = B - b_offset per column, padded with zeros to a multiple of 32 columns.
  const std::int32_t* column_sums() const { return col_sum_.data(); }

 private:
  template <class T>
  friend PackedB<T> detail::pack_b_for(Isa isa, const MatrixView<const T>& b, std::int32_t zb,
                                       const detail::BPackLayout* force);
  int k_ = 0, n_ = 0;
  std::int32_t zb_ = 0;
  detail::BPackLayout layout_ = detail::BPackLayout::kInt8K4;
  bool pairs_fit_int16_ = false;
  detail::AlignedBuffer data_;
  detail::AlignedBuffer int8_copy_;  // kInt8K4 panels when layout_ is kInt16K2, else empty
  std::vector<std::int32_t> col_sum_;
};

namespace detail {

// The packed B layout that the (resolved) path runs directly: the AVX2 path takes int16 pairs unless VPMADDUBSW is
// proven exact for this B; the I8MM path takes the 8-k form.
inline BPackLayout preferred_b_layout(Isa isa, bool pairs_fit) {
  if (isa == Isa::kNeonI8mm) return BPackLayout::kInt8K8;
  return isa == Isa::kAvx2 && !pairs_fit ? BPackLayout::kInt16K2 : BPackLayout::kInt8K4;
}

// pack_b of a validated B for a resolved path, or in the layout *force when force is not null (tests and
// benchmarks).
template <class TB>
PackedB<TB> pack_b_for(Isa isa, const MatrixView<const TB>& b, std::int32_t zb, const BPackLayout* force) {
  const int k = b.rows, n = b.cols;
  PackedB<TB> p;
  const std::size_t elems = packed_b_elements(k, n);
  AlignedBuffer bytes(elems);
  p.col_sum_.assign(std::size_t(ceil_div(n, kNr)) * kNr, 0);
  pack_b(k, n, b.data, b.stride, b.order == Order::kRowMajor ? BLayout::kKxN : BLayout::kNxK, bytes.as<std::int8_t>(),
         p.col_sum_.data());
  p.pairs_fit_int16_ = pairs_fit_int16(k, n, bytes.as<std::int8_t>());
  p.layout_ = force ? *force : preferred_b_layout(isa, p.pairs_fit_int16_);
  if (p.layout_ == BPackLayout::kInt16K2) {
    p.data_ = AlignedBuffer(elems * sizeof(std::int16_t));
    widen_packed_b(k, n, bytes.as<std::int8_t>(), p.data_.template as<std::int16_t>());
    p.int8_copy_ = std::move(bytes);
  } else if (p.layout_ == BPackLayout::kInt8K8) {
    packed_b_k4_to_k8(k, n, bytes.as<std::int8_t>());
    p.data_ = std::move(bytes);
  } else {
    p.data_ = std::move(bytes);
  }
  p.k_ = k;
  p.n_ = n;
  p.zb_ = zb;
  return p;
}

}  // namespace detail

// Packs the K x N matrix B (row- or column-major view) with zero point zb, in the layout of the path kAuto resolves
// to (see the top of this file). Throws qmath::error on bad arguments. K is checked against the accumulator bound for
// any A here, and for the actual A when the GEMM runs.
template <class TB>
PackedB<TB> pack_b(MatrixView<const TB> b, std::int32_t zb) {
  const char* where = "cpu::pack_b";
  qmath::detail::validate_b(where, b, zb);
  // Every 8-bit A has max |a - za| >= 128, so no A type or zero point allows more than this K.
  const std::int64_t kmax = max_k_for_int32(QuantRange{-128, 127}, 0, full_range<TB>(), zb);
  qmath::detail::require(b.rows <= kmax, where, "K = ", b.rows, " can overflow the int32 accumulator for any A: at most ",
                         kmax);
  return detail::pack_b_for(qmath::resolve_isa(Isa::kAuto, kGemmKernels, where), b, zb);
}
template <class TB>
PackedB<TB> pack_b(MatrixView<TB> b, std::int32_t zb) {
  return pack_b(MatrixView<const TB>(b), zb);
}

// The arguments of a GEMM with pre-packed B: as GemmArgs, with B and its zero point taken from the PackedB (which
// must outlive the call).
template <class TA, class TB, class TC>
struct PackedGemmArgs {
  MatrixView<const TA> a;         // M x K, row-major
  const PackedB<TB>* b = nullptr;
  MatrixView<TC> c;               // M x N, row-major
  std::int32_t a_zero_point = 0;
  Epilogue epilogue{};
};
template <class TA, class TB, class TC>
PackedGemmArgs(MatrixView<TA>, const PackedB<TB>*, MatrixView<TC>) -> PackedGemmArgs<std::remove_const_t<TA>, TB, TC>;
template <class TA, class TB, class TC>
PackedGemmArgs(MatrixView<TA>, const PackedB<TB>*, MatrixView<TC>, std::int32_t)
    -> PackedGemmArgs<std::remove_const_t<TA>, TB, TC>;
template <class TA, class TB, class TC>
PackedGemmArgs(MatrixView<TA>, const PackedB<TB>*, MatrixView<TC>, std::int32_t, Epilogue)
    -> PackedGemmArgs<std::remove_const_t<TA>, TB, TC>;

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
void pack_a_int16_avx2(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  pack_a_panel_int16_avx2<TA>(rows, k, a, lda, static_cast<std::int16_t*>(dst), row_sum);
}
template <class TA>
void pack_a_u8_avx2(int rows, int k, const TA* a, std::int64_t lda, void* dst, std::int32_t* row_sum) {
  pack_a_panel_u8_avx2<TA>(rows, k, a, lda, static_cast<std::uint8_t*>(dst), row_sum);
}
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
  // The kernel computes sum (A' - a_shift) B' (pack_a stores A' - a_shift); run_gemm adds a_shift * column sum of B'
  // back. 0 for every kernel but the AArch64 signed ones (SMULL, SDOT: 128).
  std::int32_t a_shift = 0;
  int kc_align = 1;                 // K blocks start at multiples of this many groups (2: the 8-k form)
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
        return {kernel_avx2_maddubs,     epilogue_avx2<TC>,    pack_a_u8_avx2<TA>, 1,
                epilogue_avx2<TC, true>, BPackLayout::kInt8K4, kKcGroups};
      return {kernel_avx2,             epilogue_avx2<TC>,     pack_a_int16_avx2<TA>, 2,
              epilogue_avx2<TC, true>, BPackLayout::kInt16K2, kKcGroupsInt16};
#endif
#if QMATH_CPU_HAS_AVXVNNI_TARGET
    case Isa::kAvxVnni:
      return {kernel_avxvnni,    epilogue_avx2<TC>,    pack_a_u8_avx2<TA>, 1,
              epilogue_avx2<TC>, BPackLayout::kInt8K4, kKcGroups};
#endif
#if QMATH_CPU_AARCH64
    // The AArch64 paths share the NEON lane epilogue (epilogue_lanes.hpp).
    case Isa::kNeon:
      return {kernel_neon,         epilogue_neon<TC>,    pack_a_panel_s8<TA>, 1,
              epilogue_neon<TC>,   BPackLayout::kInt8K4, kKcGroups,           128};
#endif
#if QMATH_CPU_HAS_ARM_I8MM_TARGET
    case Isa::kNeonDotprod:
      return {kernel_neon_dotprod, epilogue_neon<TC>,    pack_a_panel_s8<TA>, 1,
              epilogue_neon<TC>,   BPackLayout::kInt8K4, kKcGroups,           128};
    case Isa::kNeonI8mm:
      return {kernel_neon_i8mm,    epilogue_neon<TC>,    pack_a_panel_k8<TA>, 1,
              epilogue_neon<TC>,   BPackLayout::kInt8K8, kKcGroups,           0, 2};
#endif
    default:
      (void)maddubs;
      return {kernel_scalar,       epilogue_scalar<TC>,  pack_a_generic<std::uint8_t, TA>, 1,
              epilogue_scalar<TC>, BPackLayout::kInt8K4, kKcGroups};
  }
}

// The column term of C, per column n: mult * col_sum[n] + add (wrapping), with mult = a_shift - za' and
// add = K za' zb'. col_sum is padded to the panel width, so a whole panel (kNr columns) can always be computed.
struct ColumnTerm {
  const std::int32_t* col_sum;
  std::int32_t mult, add;
  // Columns [n0, n0 + count) into out.
  void compute(int n0, int count, std::int32_t* out) const {
    for (int n = 0; n < count; ++n)
      out[n] = qmath::detail::wrap_add(qmath::detail::wrap_mul(mult, col_sum[n0 + n]), add);
  }
};

// Everything one thread needs to compute rows [m0, m1) x panels [p0, p1) of C.
template <class TA, class TC>
struct GemmJob {
  GemmShape s;
  const TA* a;
  std::int64_t lda;
  const std::int8_t* b_packed;
  ColumnTerm col_term;  // C's column term: each run_* computes it per panel, just before the epilogue
  std::int32_t zb_prime;
  TC* c;
  std::int64_t ldc;
  const Epilogue* epilogue;
  PathOps<TA, TC> ops;
  bool stream;  // C is written with ops.epilogue_stream (see streams_output): fence before returning
  SmallMKernelFn small_m_kernel;  // not null: run_small_m over a kInt8K4 b_packed instead of run_block
  // Not null: run_small_m with A' as uint8 and this kernel (a 7-bit A, or the saturating mode), not small_m_kernel.
  SmallMKernelU8Fn small_m_u8_kernel;
  SmallMKernelI8 small_m_i8;  // fn not null: run_small_m_i8 (AArch64) over b_packed in its b_layout
};

// Whether C is written with non-temporal stores: 4-byte outputs (whole 64-byte lines per 16-lane chunk) and a C of at
// least kStreamOutputBytes, which does not stay in L2 anyway; written through the caches, its lines evict the packed
// A block (measurements: docs/cpu-gemm.md, "Memory streams"). Smaller outputs keep plain stores, so a consumer that
// reads C next finds it in cache.
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
  // K blocks of at most ops.kc_groups groups, of equal size (no short tail block), rounded up to ops.kc_align.
  const int kc_groups =
      ceil_div(ceil_div(kgroups, ceil_div(kgroups, j.ops.kc_groups)), j.ops.kc_align) * j.ops.kc_align;
  const std::size_t b_group_bytes = std::size_t(kNr) * kKGroup * (j.ops.b_layout == BPackLayout::kInt16K2 ? 2 : 1);
  AlignedBuffer a_pack(panel_elems * sizeof(AE) * a_panels);
  AlignedBuffer acc(sizeof(std::int32_t) * std::size_t(a_panels) * kMr * kNr);
  std::vector<std::int32_t> row_comp(std::size_t(a_panels) * kMr);
  alignas(64) std::int32_t col_comp[kNr];
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
      j.col_term.compute(n0, kNr, col_comp);
      j.ops.epilogue(*j.epilogue, acc.as<std::int32_t>(), kNr, row_comp.data(), rows_b, col_comp, n0, cols,
                     j.c + std::int64_t(mb) * j.ldc + n0, j.ldc);
    }
  }
}

// The small-M path (detail/kernel_small_m.hpp): rows [m0, m1) (at most kSmallMMax) x panels [p0, p1), A widened
// once, each panel read once for all rows, K whole in registers, then the path's fused epilogue on the rows x 32
// tile.
template <class TA, class TC>
void run_small_m(const GemmJob<TA, TC>& j, int m0, int m1, int p0, int p1) {
  const int kgroups = ceil_div(j.s.k, kKGroup), kpad = kgroups * kKGroup, rows = m1 - m0;
  const bool u8 = j.small_m_u8_kernel != nullptr;
  // Scratch on the stack where it fits (A' of short rows; the tile, row and column terms always): at batch 1 the
  // heap allocations of a call cost more than its epilogue.
  alignas(64) unsigned char a_small[4096];
  alignas(64) std::int32_t tile[kSmallMMax * kNr], row_comp[kSmallMMax], col_comp[kNr];
  const std::size_t a_bytes = (u8 ? 1 : sizeof(std::int16_t)) * std::size_t(rows) * kpad;
  AlignedBuffer a_large(a_bytes > sizeof(a_small) ? a_bytes : 0);
  unsigned char* a_rows = a_bytes > sizeof(a_small) ? a_large.as<unsigned char>() : a_small;
  if (u8)
    copy_a_rows_u8(rows, j.s.k, j.a + std::int64_t(m0) * j.lda, j.lda, reinterpret_cast<std::uint8_t*>(a_rows),
                   row_comp);
  else
    widen_a_rows(rows, j.s.k, j.a + std::int64_t(m0) * j.lda, j.lda, reinterpret_cast<std::int16_t*>(a_rows), row_comp);
  for (int r = 0; r < rows; ++r) row_comp[r] = qmath::detail::wrap_mul(-j.zb_prime, row_comp[r]);
  for (int p = p0; p < p1; ++p) {
    const std::int8_t* bp = j.b_packed + std::size_t(p) * kgroups * kNr * kKGroup;
    if (u8)
      j.small_m_u8_kernel(rows, kgroups, reinterpret_cast<const std::uint8_t*>(a_rows), kpad, bp, tile);
    else
      j.small_m_kernel(rows, kgroups, reinterpret_cast<const std::int16_t*>(a_rows), kpad, bp, tile);
    const int n0 = p * kNr, cols = std::min(kNr, j.s.n - n0);
    j.col_term.compute(n0, kNr, col_comp);
    j.ops.epilogue(*j.epilogue, tile, kNr, row_comp, rows, col_comp, n0, cols, j.c + std::int64_t(m0) * j.ldc + n0,
                   j.ldc);
  }
}

// The AArch64 small-M path (detail/kernel_small_m_neon.hpp): rows [m0, m1) (at most kSmallMMaxNeon) x panels
// [p0, p1), A copied once as A' - a_shift in 8 bits, each panel read once for all rows, then the path's epilogue.
template <class TA, class TC>
void run_small_m_i8(const GemmJob<TA, TC>& j, int m0, int m1, int p0, int p1) {
  const int kgroups = ceil_div(j.s.k, kKGroup), rows = m1 - m0, ld = small_m_i8_row_stride(j.s.k);
  AlignedBuffer a_rows(std::size_t(rows) * ld);
  AlignedBuffer tile(sizeof(std::int32_t) * std::size_t(rows) * kNr);
  std::vector<std::int32_t> row_comp(rows);
  alignas(64) std::int32_t col_comp[kNr];
  copy_a_rows_i8(rows, j.s.k, j.a + std::int64_t(m0) * j.lda, j.lda, j.small_m_i8.a_shift, a_rows.as<std::int8_t>(),
                 row_comp.data());
  for (std::int32_t& rc : row_comp) rc = qmath::detail::wrap_mul(-j.zb_prime, rc);
  for (int p = p0; p < p1; ++p) {
    const std::int8_t* bp = j.b_packed + std::size_t(p) * kgroups * kNr * kKGroup;  // both layouts: same panel size
    j.small_m_i8.fn(rows, kgroups, a_rows.as<const std::int8_t>(), ld, bp, tile.as<std::int32_t>());
    const int n0 = p * kNr, cols = std::min(kNr, j.s.n - n0);
    j.col_term.compute(n0, kNr, col_comp);
    j.ops.epilogue(*j.epilogue, tile.as<std::int32_t>(), kNr, row_comp.data(), rows, col_comp, n0, cols,
                   j.c + std::int64_t(m0) * j.ldc + n0, j.ldc);
  }
}

// The int16 small-M kernel of a resolved path for an exact GEMM of M rows, or null: M <= kSmallMMax on the AVX2 and
// scalar paths (the VNNI paths run a uint8 one, small_m_u8_kernel_for).
inline SmallMKernelFn small_m_kernel_for(Isa isa, int m) {
  if (m > kSmallMMax) return nullptr;
#if QMATH_CPU_X86
  if (isa == Isa::kAvx2) return small_m_kernel_avx2;
#endif
  return isa == Isa::kScalar ? small_m_kernel_scalar : nullptr;
}

// The uint8 small-M kernel of a resolved path for an exact GEMM of M rows (A' copied as uint8), or null:
// M <= kSmallMMax on the VNNI paths (VPDPBUSD, exact for every A), and on the AVX2 path for a 7-bit uint8 A
// (a7: GemmOptions::activations_7bit, checked; VPMADDUBSW is exact then).
template <class TA>
SmallMKernelU8Fn small_m_u8_kernel_for(Isa isa, int m, bool a7) {
  if (m > kSmallMMax) return nullptr;
#if QMATH_CPU_X86
  if (isa == Isa::kAvx512Vnni) return small_m_kernel_avx512vnni;
  if (std::is_same<TA, std::uint8_t>::value && a7 && isa == Isa::kAvx2) return small_m_kernel_maddubs_avx2;
#endif
#if QMATH_CPU_HAS_AVXVNNI_TARGET
  if (isa == Isa::kAvxVnni) return small_m_kernel_avxvnni;
#endif
  (void)isa;
  (void)a7;
  return nullptr;
}

// The small-M kernel of the saturating mode (GemmOptions::saturate_int16_pairs) for M rows, or null where the
// cache-blocked kernels run: the uint8 VPMADDUBSW kernel at M <= kSmallMMax on every x86 SIMD path (all run the
// AVX2 kernels in this mode, as path_ops_saturating does); the scalar path keeps kernel_scalar_saturating.
inline SmallMKernelU8Fn small_m_saturating_kernel_for(Isa isa, int m) {
#if QMATH_CPU_X86
  if (qmath::isa_family(isa) == IsaFamily::kX86 && m <= kSmallMMax) return small_m_kernel_maddubs_avx2;
#endif
  (void)isa;
  (void)m;
  return nullptr;
}

// The kernels of the saturating mode (GemmOptions::saturate_int16_pairs): VPMADDUBSW on AVX2 (AVX-512 and AVX-VNNI
// CPUs run AVX2 too), the scalar saturating kernel where the CPU has no AVX2.
template <class TA, class TC>
PathOps<TA, TC> path_ops_saturating(Isa isa) {
  PathOps<TA, TC> ops = path_ops<TA, TC>(Isa::kScalar, false);
  (void)isa;  // only x86 has SIMD kernels of this mode
#if QMATH_CPU_X86
  if (isa != Isa::kScalar) return path_ops<TA, TC>(Isa::kAvx2, true);  // every resolved x86 SIMD path implies AVX2
#endif
  ops.kernel = kernel_scalar_saturating;
  return ops;
}

// Whether `isa` (resolved) runs `pb` on the VPMADDUBSW kernel: only the AVX2 path, for a PackedB in the int8 layout
// whose k pairs were proven to fit int16 when it was packed, or for any PackedB when A is 7-bit (a7: checked
// GemmOptions::activations_7bit).
template <class TB>
bool runs_maddubs(Isa isa, const PackedB<TB>& pb, bool a7 = false) {
  return isa == Isa::kAvx2 && (a7 || (pb.layout() == BPackLayout::kInt8K4 && pb.pairs_fit_int16()));
}

// GemmOptions::activations_7bit: A must be uint8 with every value in [0, 127]. Throws qmath::error otherwise.
template <class TA>
void check_activations_7bit(const char* where, const MatrixView<const TA>& a) {
  qmath::detail::require(std::is_same<TA, std::uint8_t>::value, where,
                         "activations_7bit needs uint8 A (values in [0, 127]); this A is int8");
  for (int r = 0; r < a.rows; ++r) {
    const TA* row = a.data + std::int64_t(r) * a.stride;
    unsigned high = 0;  // OR of the row: bit 7 set iff some value exceeds 127 (a loop the compiler vectorises)
    for (int c = 0; c < a.cols; ++c) high |= static_cast<unsigned>(row[c]);
    if (high & 0x80u)
      for (int c = 0; c < a.cols; ++c)
        qmath::detail::require(static_cast<unsigned>(row[c]) <= 127u, where, "activations_7bit: a(", r, ", ", c,
                               ") = ", static_cast<unsigned>(row[c]), " is above 127");
  }
}

// Runs a validated GEMM on the resolved path `isa` with `threads` threads; a7: A checked to be 7-bit
// (GemmOptions::activations_7bit).
template <class TA, class TB, class TC>
void run_gemm(const PackedGemmArgs<TA, TB, TC>& args, Isa isa, int threads, bool saturate, bool a7 = false) {
  const GemmShape s{args.c.rows, args.c.cols, args.a.cols};
  const TA* a = args.a.data;
  const std::int64_t lda = args.a.stride, ldc = args.c.stride;
  const std::int32_t za = args.a_zero_point;
  const PackedB<TB>& pb = *args.b;
  TC* c = args.c.data;
  const Epilogue& e = args.epilogue;
  using qmath::detail::wrap_mul;
  const std::int32_t* col_sum = pb.column_sums();
  const std::int32_t za_p = za + a_offset<TA>(), zb_p = pb.zero_point() + b_offset<TB>();
  const PathOps<TA, TC> ops =
      saturate ? path_ops_saturating<TA, TC>(isa) : path_ops<TA, TC>(isa, runs_maddubs(isa, pb, a7));
  const SmallMKernelFn small_m = saturate ? nullptr : small_m_kernel_for(isa, s.m);
  // The uint8 small-M kernel: the saturating mode's, or the exact mode's (VNNI paths; AVX2 with a 7-bit A).
  const SmallMKernelU8Fn small_m_u8 =
      saturate ? small_m_saturating_kernel_for(isa, s.m) : small_m_u8_kernel_for<TA>(isa, s.m, a7);
  const bool runs_small_m = small_m != nullptr || small_m_u8 != nullptr;
  const SmallMKernelI8 small_m_i8 = saturate ? SmallMKernelI8{} : small_m_kernel_i8_for(isa, s.m);  // AArch64
  // A PackedB in another layout than the kernel reads is converted for this call; the small-M kernels read the
  // kInt8K4 panels that a PackedB keeps unless it is in the 8-k form (the AArch64 ones: their path's layout).
  const BPackLayout want = runs_small_m ? BPackLayout::kInt8K4 : small_m_i8.fn ? small_m_i8.b_layout : ops.b_layout;
  const std::int8_t* b_packed =
      pb.layout() == want ? pb.data() : want == BPackLayout::kInt8K4 ? pb.int8_data() : nullptr;
  AlignedBuffer converted;
  if (b_packed == nullptr) {
    converted = convert_packed_b(s.k, s.n, pb.layout(), pb.data(), want);
    b_packed = converted.as<const std::int8_t>();
  }
  const int panels = ceil_div(s.n, kNr);
  // The x86 small-M kernels take A' itself, the AArch64 ones A' - small_m_i8.a_shift.
  const std::int32_t a_shift = runs_small_m ? 0 : small_m_i8.fn ? small_m_i8.a_shift : ops.a_shift;
  const ColumnTerm col_term{col_sum, a_shift - za_p, wrap_mul(wrap_mul(s.k, za_p), zb_p)};
  GemmJob<TA, TC> job{s,   a,   lda, b_packed, col_term, zb_p, c, ldc, &e, ops, streams_output<TC>(s, ldc),
                      small_m, small_m_u8, small_m_i8};
  if (job.stream) job.ops.epilogue = job.ops.epilogue_stream;  // chosen once per call
  auto run = [&job](int m0, int m1, int p0, int p1) {
    if (job.small_m_kernel || job.small_m_u8_kernel)
      run_small_m(job, m0, m1, p0, p1);
    else if (job.small_m_i8.fn)
      run_small_m_i8(job, m0, m1, p0, p1);
    else if (job.ops.a_elem_bytes == 2)
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
  return qmath::resolve_isa(opt.isa, kGemmKernels, where);
}

// What the CPU kernels take beyond qmath::validate: A and C row-major (B may be either).
template <class TA, class TC>
void can_implement(const char* where, const MatrixView<const TA>& a, const MatrixView<TC>& c) {
  qmath::detail::require(a.order == Order::kRowMajor, where, "a must be row-major");
  qmath::detail::require(c.order == Order::kRowMajor, where, "c must be row-major");
}

}  // namespace detail

// GEMM with pre-packed B. Throws qmath::error before writing C.
template <class TA, class TB, class TC>
void gemm(const PackedGemmArgs<TA, TB, TC>& args, GemmOptions options = {}) {
  const char* where = "cpu::gemm";
  qmath::detail::require(args.b != nullptr, where, "b (the PackedB) is null");
  const PackedB<TB>& b = *args.b;
  qmath::detail::require(!b.empty(), where, "PackedB is empty (not packed)");
  qmath::detail::require(args.a.cols == b.k() && args.c.cols == b.n(), where, "PackedB was packed for K=", b.k(),
                         " N=", b.n(), ", called with a of K=", args.a.cols, " and c of N=", args.c.cols);
  // B's own checks ran at packing; this checks A, C, the extents, A's zero point, the K bound and the epilogue.
  qmath::detail::validate_gemm_except_b<TA, TB, TC>(where, args.a, args.a_zero_point, b.k(), b.n(), b.zero_point(),
                                                    args.c, args.epilogue, true);
  detail::can_implement(where, args.a, args.c);
  const Isa isa = detail::resolve_isa(options, where);
  if (options.activations_7bit) detail::check_activations_7bit(where, args.a);
  detail::run_gemm<TA, TB, TC>(args, isa, options.threads, options.saturate_int16_pairs, options.activations_7bit);
}

// One-shot GEMM, same arguments and result as qmath::gemm_reference; packs B internally, for the path it runs.
template <class TA, class TB, class TC>
void gemm(const GemmArgs<TA, TB, TC>& args, GemmOptions options = {}) {
  const char* where = "cpu::gemm";
  validate(args, where);
  detail::can_implement(where, args.a, args.c);
  const Isa isa = detail::resolve_isa(options, where);
  if (options.activations_7bit) detail::check_activations_7bit(where, args.a);
  // The saturating, the 7-bit-A and the small-M kernels read int8 panels (the VNNI paths' layout anyway).
  const detail::BPackLayout int8 = detail::BPackLayout::kInt8K4;
  const bool int8_panels = options.saturate_int16_pairs || options.activations_7bit ||
                           detail::small_m_kernel_for(isa, args.c.rows) != nullptr;
  const PackedB<TB> b = detail::pack_b_for(isa, args.b, args.b_zero_point, int8_panels ? &int8 : nullptr);
  detail::run_gemm<TA, TB, TC>(PackedGemmArgs<TA, TB, TC>{args.a, &b, args.c, args.a_zero_point, args.epilogue}, isa,
                               options.threads, options.saturate_int16_pairs, options.activations_7bit);
}

}  // namespace cpu
}  // namespace qmath

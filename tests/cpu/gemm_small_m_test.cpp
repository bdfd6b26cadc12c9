// Tests for the small-M kernels of qmath/cpu/detail/kernel_small_m.hpp and their dispatch in qmath/cpu/gemm.hpp:
// the A row copies (widen_a_rows, copy_a_rows_u8) for every K remainder; each kernel against its contract (exact, or
// with each k pair saturated) for 1..kSmallMMax rows, group counts 1..9 and beyond, random and extreme data;
// cpu::gemm bit for bit against qmath::gemm_reference for M = 1..9, 16, 33, 64 (both sides of kSmallMMax) with odd N
// and K, every operand / output type, both packed B layouts, both APIs, one and two threads, extreme operands and
// zero points; the saturating mode (which runs the uint8 small-M kernel at M <= kSmallMMax on x86 SIMD paths)
// against gemm_reference_int16_saturating likewise at M = 1..kSmallMMax + 1. The AArch64 small-M kernels
// (detail/kernel_small_m_neon.hpp) likewise: their selection, their contract for 1..8 rows and every K tail, and
// cpu::gemm on each AArch64 path for M = 1..9 on extreme data (run under qemu by scripts/test-arm.sh).
// The VNNI small-M kernels (VPDPBUSD): their selection; their exact contract where the CPU runs them (a warning
// elsewhere); on every x86 CPU the loop arrangement of each VNNI plan, run with an AVX2 emulation of VPDPBUSD.
#include <qmath/cpu/detail/kernel_small_m.hpp>  // first: the header under test is self-contained
#include <qmath/cpu/detail/kernel_small_m_neon.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <qmath/cpu/detail/saturating.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../epilogue_fields.hpp"
#include "../gemm_args_support.hpp"
#include "gemm_test_support.hpp"
#include "packed_args.hpp"

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Isa;
using qmath::Scaling;
using qmath::cpu::detail::BPackLayout;
using qtest::BLayout;
using qtest::OutputStage;
namespace cd = qmath::cpu::detail;

// B of `size` elements all +127 (b_case 0), all -128 (1), or alternating -128 / +127 per element (2): against an
// all-255 A' every k pair sum lies beyond int16.
std::vector<std::int8_t> extreme_b(std::size_t size, int b_case) {
  std::vector<std::int8_t> b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = b_case == 0 ? 127 : b_case == 1 ? -128 : (i % 2 ? -128 : 127);
  return b;
}

using qtest::random_vector;
using qtest::runnable_paths;
using qtest::same_bits;


// The SmallMKernelFn contract computed directly: rows x 32 dot products of int16 A' rows with panel 0 of a kInt8K4 B;
// with `saturate`, the SmallMKernelU8Fn contract: each k pair's sum saturated to int16 (cd::saturating_pair) first.
std::vector<std::int32_t> contract(int rows, int kgroups, const std::vector<std::int16_t>& a, int lda,
                                   const std::int8_t* b, bool saturate = false) {
  std::vector<std::int32_t> t(std::size_t(rows) * cd::kNr);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cd::kNr; ++j) {
      std::int64_t sum = 0;
      for (int k = 0; k < kgroups * cd::kKGroup; k += 2) {
        const std::int32_t a0 = a[std::size_t(r) * lda + k], a1 = a[std::size_t(r) * lda + k + 1];
        const std::int32_t b0 = b[(k / 4) * 128 + 4 * j + k % 4], b1 = b[(k / 4) * 128 + 4 * j + k % 4 + 1];
        sum += saturate ? cd::saturating_pair(a0, b0, a1, b1) : std::int64_t(a0) * b0 + std::int64_t(a1) * b1;
      }
      t[std::size_t(r) * cd::kNr + j] = static_cast<std::int32_t>(std::uint32_t(std::uint64_t(sum)));
    }
  return t;
}

// Operands of the kernel contract tests: kSmallMMax rows of A' (int16, row stride 4 * kgroups, values in
// [0, a_max]) and panel 0 of a kInt8K4 B (kgroups groups, 64-byte aligned). data 0: uniform random; 1, 2: A' = a_max
// against B' = -128, +127 everywhere (the largest products; with a_max = 255 every k pair saturates int16);
// 3: random A' against B' drawn from {-128, 127} (pairs of either sign, saturating or not).
struct ContractOperands {
  std::vector<std::int16_t> a;
  cd::AlignedBuffer panel;
  const std::int8_t* b() const { return panel.as<const std::int8_t>(); }
};
constexpr int kContractData = 4;
ContractOperands contract_operands(int kgroups, int data, int a_max, std::mt19937& rng) {
  std::vector<std::int8_t> b = random_vector<std::int8_t>(std::size_t(kgroups) * 128, rng, -128, 127);
  ContractOperands o{random_vector<std::int16_t>(std::size_t(cd::kSmallMMax) * kgroups * cd::kKGroup, rng, 0, a_max),
                     cd::AlignedBuffer(b.size())};
  if (data == 1 || data == 2) {
    std::fill(o.a.begin(), o.a.end(), std::int16_t(a_max));
    std::fill(b.begin(), b.end(), std::int8_t(data == 1 ? -128 : 127));
  } else if (data == 3) {
    for (std::int8_t& x : b) x = x < 0 ? -128 : 127;
  }
  std::memcpy(o.panel.as<std::int8_t>(), b.data(), b.size());
  return o;
}

// Group counts of the kernel contract tests: 1..9 (every count below and around the kernels' loops), both sides of
// 64, and a long K.
const int kContractGroups[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 64, 65, 300};

// Calls fn(o, a8, kgroups, kpad, rows, a_max) for every case of the kernel contract tests: kContractGroups, every
// data case, A' in [0, 255] and [0, 127] (o.a as int16, a8 the same values as uint8), 1..kSmallMMax rows.
template <class Fn>
void for_each_contract_case(const char* name, unsigned seed, Fn fn) {
  std::mt19937 rng(seed);
  for (int kgroups : kContractGroups) {
    const int kpad = kgroups * cd::kKGroup;
    for (int data = 0; data < kContractData; ++data)
      for (int a_max : {255, 127}) {
        const ContractOperands o = contract_operands(kgroups, data, a_max, rng);
        const std::vector<std::uint8_t> a8(o.a.begin(), o.a.end());
        for (int rows = 1; rows <= cd::kSmallMMax; ++rows) {
          INFO(name << " kgroups " << kgroups << " data " << data << " A' max " << a_max << " rows " << rows);
          fn(o, a8, kgroups, kpad, rows, a_max);
        }
      }
  }
}

// Runs an exact SmallMKernelU8Fn-shaped kernel on every contract case against the exact contract; the tile rows
// past `rows` must stay untouched.
template <class Kernel>
void check_exact_u8_kernel(const char* name, Kernel kernel, unsigned seed) {
  for_each_contract_case(name, seed, [&](const ContractOperands& o, const std::vector<std::uint8_t>& a8, int kgroups,
                                         int kpad, int rows, int) {
    std::vector<std::int32_t> expect = contract(rows, kgroups, o.a, kpad, o.b());
    expect.resize(std::size_t(cd::kSmallMMax) * cd::kNr, 7);
    std::vector<std::int32_t> got(expect.size(), 7);
    kernel(rows, kgroups, a8.data(), kpad, o.b(), got.data());
    REQUIRE(got == expect);
  });
}

#if QMATH_CPU_X86
// Test only: VPDPBUSD's exact result with AVX2 instructions, so that the VNNI plans' loop runs on a CPU without VNNI.
// Per int32 lane: the even bytes of A' (zero-extended) and of B' (sign-extended) as int16, VPMADDWD (2 products,
// exact); the odd bytes likewise; both sums added to the accumulator modulo 2^32 - what VPDPBUSD computes.
struct EmulatedDpbusdStep : cd::SmallMStepU8 {
  __attribute__((target("avx2,fma"))) static __m256i accumulate(__m256i acc, __m256i a, __m256i b) {
    const __m256i a_even = _mm256_and_si256(a, _mm256_set1_epi16(0x00FF)), a_odd = _mm256_srli_epi16(a, 8);
    const __m256i b_even = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8), b_odd = _mm256_srai_epi16(b, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(a_even, b_even), _mm256_madd_epi16(a_odd, b_odd)));
  }
};
// The same for the AVX-512 VNNI step's 64-byte chunks (16 columns x 4 k): each chunk and accumulator as two ymm
// halves (columns 0-7, 8-15), each half through EmulatedDpbusdStep.
struct EmulatedDpbusdStep512 {
  using AE = std::uint8_t;
  struct V {
    __m256i lo, hi;
  };
  static constexpr int kChunkBytes = 64, kChunkCols = 16;
  static_assert(kChunkBytes == cd::SmallMStepAvx512Vnni::kChunkBytes, "the emulated chunk is the real one");
  __attribute__((target("avx2,fma"))) static V zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  __attribute__((target("avx2,fma"))) static V add(V x, V y) {
    return {_mm256_add_epi32(x.lo, y.lo), _mm256_add_epi32(x.hi, y.hi)};
  }
  __attribute__((target("avx2,fma"))) static void keep_in_register(V&) {}
  __attribute__((target("avx2,fma"))) static V broadcast_a(const AE* a) {
    const __m256i v = cd::SmallMStepU8::broadcast_a(a);
    return {v, v};
  }
  __attribute__((target("avx2,fma"))) static V load_b(const std::int8_t* b) {
    return {cd::SmallMStepU8::load_b(b), cd::SmallMStepU8::load_b(b + 32)};
  }
  __attribute__((target("avx2,fma"))) static V accumulate(V acc, V a, V b) {
    return {EmulatedDpbusdStep::accumulate(acc.lo, a.lo, b.lo), EmulatedDpbusdStep::accumulate(acc.hi, a.hi, b.hi)};
  }
  template <int R, int C>
  __attribute__((target("avx2,fma"))) static void store(const V (&acc)[R][C], std::int32_t* tile) {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * cd::kNr + 16 * c), acc[r][c].lo);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * cd::kNr + 16 * c + 8), acc[r][c].hi);
      }
  }
};
#endif

// Pre-packed B in both layouts and the one-shot API, every runnable path, 1 and 2 threads, against the reference:
// qmath::gemm_reference, or with `saturate` (GemmOptions::saturate_int16_pairs) gemm_reference_int16_saturating.
template <class TA, class TB, class TC>
void check_all(GemmShape s, const std::vector<TA>& a, std::int32_t za, const std::vector<TB>& b, BLayout bl,
               std::int32_t zb, const Epilogue& e, bool saturate = false) {
  const std::int64_t ldb = bl == BLayout::kKxN ? s.n : s.k;
  std::vector<TC> expect(std::size_t(s.m) * s.n, TC(7));
  const auto args = qtest::gemm_args(s, a.data(), s.k, za, b.data(), ldb, bl, zb, expect.data(), s.n, e);
  if (saturate)
    qmath::cpu::gemm_reference_int16_saturating(args);
  else
    qmath::gemm_reference(args);
  qmath::cpu::GemmOptions opt;
  opt.saturate_int16_pairs = saturate;
  for (BPackLayout layout : {BPackLayout::kInt8K4, BPackLayout::kInt16K2}) {
    const auto packed = cd::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), ldb, bl), zb, &layout);
    for (Isa isa : runnable_paths())
      for (int threads : {1, 2}) {
        INFO("path " << qmath::isa_name(isa) << " layout " << (layout == BPackLayout::kInt8K4 ? "int8" : "int16")
                     << " saturate " << saturate << " small-M "
                     << (saturate ? cd::small_m_saturating_kernel_for(isa, s.m) != nullptr
                                  : cd::small_m_kernel_for(isa, s.m) != nullptr ||
                                        cd::small_m_u8_kernel_for<TA>(isa, s.m, false) != nullptr)
                     << " threads " << threads << " M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za
                     << " zb=" << zb);
        std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
        opt.isa = isa;
        opt.threads = threads;
        qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, e), opt);
        REQUIRE(same_bits(got, expect));
      }
  }
  for (Isa isa : runnable_paths()) {
    INFO("one-shot, path " << qmath::isa_name(isa) << " saturate " << saturate << " M=" << s.m << " N=" << s.n
                           << " K=" << s.k);
    std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
    auto one_shot = args;
    one_shot.c = qmath::row_major(got.data(), s.m, s.n, s.n);
    opt.isa = isa;
    opt.threads = 1;
    qmath::cpu::gemm(one_shot, opt);
    REQUIRE(same_bits(got, expect));
  }
}

// The saturating mode at M = 1..kSmallMMax + 1 (the uint8 small-M kernel, then the blocked one), odd N and K (a K
// tail in the last group and in the last pair), random operands and zero points, one output type.
template <class TA, class TB, class TC>
void check_saturating_batches(unsigned seed) {
  std::mt19937 rng(seed);
  const qmath::QuantRange ra = qmath::full_range<TA>(), rb = qmath::full_range<TB>();
  std::uniform_int_distribution<int> za_d(ra.qmin, ra.qmax), zb_d(rb.qmin, rb.qmax);
  const GemmShape nk[] = {{0, 37, 67}, {0, 33, 129}, {0, 1, 5}};
  for (int m = 1; m <= cd::kSmallMMax + 1; ++m) {
    const GemmShape s{m, nk[m % 3].n, nk[m % 3].k};
    const std::int32_t za = m % 2 ? 0 : za_d(rng), zb = m % 3 ? zb_d(rng) : 0;
    const auto a = random_vector<TA>(std::size_t(s.m) * s.k, rng, ra.qmin, ra.qmax);
    const auto b = random_vector<TB>(std::size_t(s.n) * s.k, rng, rb.qmin, rb.qmax);
    const OutputStage<TC> out(s.n, s.k, rng);
    check_all<TA, TB, TC>(s, a, za, b, m % 2 ? BLayout::kKxN : BLayout::kNxK, zb, out.e, true);
  }
}

template <class TA, class TB, class TC>
void check_batches(unsigned seed) {
  std::mt19937 rng(seed);
  const qmath::QuantRange ra = qmath::full_range<TA>(), rb = qmath::full_range<TB>();
  std::uniform_int_distribution<int> za_d(ra.qmin, ra.qmax), zb_d(rb.qmin, rb.qmax);
  const GemmShape nk[] = {{0, 37, 67}, {0, 1, 1}, {0, 65, 3}, {0, 33, 130}};
  int i = 0;
  for (int m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 33, 64}) {
    const GemmShape s{m, nk[i % 4].n, nk[i % 4].k};
    const BLayout bl = i % 2 ? BLayout::kKxN : BLayout::kNxK;
    const std::int32_t za = i % 3 == 0 ? 0 : za_d(rng), zb = i % 4 == 1 ? 0 : zb_d(rng);
    ++i;
    const auto a = random_vector<TA>(std::size_t(s.m) * s.k, rng, ra.qmin, ra.qmax);
    const auto b = random_vector<TB>(std::size_t(s.n) * s.k, rng, rb.qmin, rb.qmax);
    const OutputStage<TC> out(s.n, s.k, rng);
    check_all<TA, TB, TC>(s, a, za, b, bl, zb, out.e);
  }
}

template <class TA, class TB>
void check_batches_all_outputs(unsigned seed) {
  check_batches<TA, TB, std::int32_t>(seed);
  check_batches<TA, TB, std::int8_t>(seed + 1);
  check_batches<TA, TB, std::uint8_t>(seed + 2);
  check_batches<TA, TB, float>(seed + 3);
}

}  // namespace

TEST_CASE("small-M kernels: the A row copies, every K remainder", "[cpu][gemm][small_m]") {
  // widen_a_rows (int16) and copy_a_rows_u8 (uint8): A' = a (uint8 A) or a + 128 (int8 A), zeros up to the next
  // multiple of 4, the row sums of A'; rows read at stride lda, written at stride kpad.
  std::mt19937 rng(5);
  for (int k = 1; k <= 9; ++k) {
    const int rows = 3, lda = k + 2, kpad = cd::ceil_div(k, cd::kKGroup) * cd::kKGroup;
    const auto a_u8 = random_vector<std::uint8_t>(std::size_t(rows) * lda, rng);
    std::vector<std::int8_t> a_s8(a_u8.size());
    for (std::size_t i = 0; i < a_u8.size(); ++i) a_s8[i] = static_cast<std::int8_t>(a_u8[i] ^ 0x80u);  // same A'
    std::vector<std::int16_t> expect(std::size_t(rows) * kpad, 0);
    std::vector<std::int32_t> expect_sum(rows, 0);
    for (int r = 0; r < rows; ++r)
      for (int kk = 0; kk < k; ++kk) {
        expect[std::size_t(r) * kpad + kk] = a_u8[std::size_t(r) * lda + kk];
        expect_sum[r] += a_u8[std::size_t(r) * lda + kk];
      }
    const std::vector<std::uint8_t> expect_u8(expect.begin(), expect.end());
    INFO("K " << k);
    // Each call writes over a buffer of 7s: the padding and every row sum must come from the call.
    std::vector<std::int32_t> sum(rows);
    auto check = [&](auto copy_rows, const auto& src, auto& out, const auto& want) {
      using E = typename std::decay_t<decltype(out)>::value_type;
      std::fill(out.begin(), out.end(), E(7));
      std::fill(sum.begin(), sum.end(), 7);
      copy_rows(rows, k, src.data(), lda, out.data(), sum.data());
      REQUIRE(out == want);
      REQUIRE(sum == expect_sum);
    };
    const auto widen = [](auto... args) { cd::widen_a_rows(args...); };
    const auto copy_u8 = [](auto... args) { cd::copy_a_rows_u8(args...); };
    std::vector<std::int16_t> w(expect.size());
    std::vector<std::uint8_t> c(expect.size());
    check(widen, a_u8, w, expect);
    check(widen, a_s8, w, expect);
    check(copy_u8, a_u8, c, expect_u8);
    check(copy_u8, a_s8, c, expect_u8);
  }
}

TEST_CASE("small-M kernels: the exact kernels' contract on random and extreme operands", "[cpu][gemm][small_m]") {
  // The int16 kernels (scalar, AVX2) on A' in [0, 255] and [0, 127]; the uint8 AVX2 kernel on the 7-bit A' (its
  // exact use).
  for_each_contract_case("exact kernels", 11, [](const ContractOperands& o, const std::vector<std::uint8_t>& a8,
                                                 int kgroups, int kpad, int rows, int a_max) {
    const auto expect = contract(rows, kgroups, o.a, kpad, o.b());
    std::vector<std::int32_t> got(expect.size(), 7);
    cd::small_m_kernel_scalar(rows, kgroups, o.a.data(), kpad, o.b(), got.data());
    REQUIRE(got == expect);
#if QMATH_CPU_X86
    if (qmath::isa_available(Isa::kAvx2)) {
      std::fill(got.begin(), got.end(), 7);
      cd::small_m_kernel_avx2(rows, kgroups, o.a.data(), kpad, o.b(), got.data());
      REQUIRE(got == expect);
      if (a_max == 127) {
        std::fill(got.begin(), got.end(), 7);
        cd::small_m_kernel_maddubs_avx2(rows, kgroups, a8.data(), kpad, o.b(), got.data());
        REQUIRE(got == expect);
      }
    }
#else
    (void)a8;
    (void)a_max;
#endif
  });
}

TEST_CASE("small-M kernels: the uint8 kernel saturates each k pair of a full-range A'", "[cpu][gemm][small_m]") {
#if QMATH_CPU_X86
  if (!qmath::isa_available(Isa::kAvx2)) return;
  std::mt19937 rng(12);
  for (int kgroups : kContractGroups) {
    const int kpad = kgroups * cd::kKGroup;
    for (int data = 0; data < kContractData; ++data) {
      const ContractOperands o = contract_operands(kgroups, data, 255, rng);
      const std::vector<std::uint8_t> a8(o.a.begin(), o.a.end());
      for (int rows = 1; rows <= cd::kSmallMMax; ++rows) {
        INFO("kgroups " << kgroups << " data " << data << " rows " << rows);
        const auto expect = contract(rows, kgroups, o.a, kpad, o.b(), true);
        std::vector<std::int32_t> got(expect.size(), 7);
        cd::small_m_kernel_maddubs_avx2(rows, kgroups, a8.data(), kpad, o.b(), got.data());
        REQUIRE(got == expect);
        // A' = 255 everywhere: every pair sum, 255 * 2 * 127 or 255 * 2 * -128, saturates to 32767 or -32768.
        if (data == 1 || data == 2)
          for (std::int32_t v : got) REQUIRE(v == 2 * kgroups * (data == 1 ? -32768 : 32767));
      }
    }
  }
#endif
}

TEST_CASE("small-M kernels: the VNNI kernels' contract (exact) on random and extreme operands",
          "[cpu][gemm][small_m]") {
  // The real VPDPBUSD kernels, where this CPU runs them (this build compiles both: a compile check); elsewhere the
  // next test checks their loop arrangement through an emulated step.
  int run = 0;
  const auto run_where_available = [&run](Isa isa, const char* name, cd::SmallMKernelU8Fn kernel, unsigned seed) {
    if (qmath::isa_available(isa)) {
      check_exact_u8_kernel(name, kernel, seed);
      ++run;
    } else {
      WARN(name << " not run: this CPU has no " << qmath::isa_name(isa)
                << " (its plan is checked by the emulated step)");
    }
  };
#if QMATH_CPU_HAS_AVXVNNI_TARGET
  run_where_available(Isa::kAvxVnni, "small_m_kernel_avxvnni", cd::small_m_kernel_avxvnni, 13);
#else
  WARN("small_m_kernel_avxvnni not compiled: this compiler has no target(\"avxvnni\")");
#endif
#if QMATH_CPU_X86
  run_where_available(Isa::kAvx512Vnni, "small_m_kernel_avx512vnni", cd::small_m_kernel_avx512vnni, 14);
#endif
  (void)run_where_available;
  REQUIRE(run == int(qmath::isa_available(Isa::kAvxVnni)) + int(qmath::isa_available(Isa::kAvx512Vnni)));
}

TEST_CASE("small-M kernels: the VNNI plans' loop arrangement, through an emulated VPDPBUSD step",
          "[cpu][gemm][small_m]") {
  // small_m_run with each VNNI plan (rows per pass, column parts, chunks, accumulator sets, their sum, the K groups
  // left over by the sets, the stores) compiled for AVX2 with EmulatedDpbusdStep in place of VPDPBUSD. This checks
  // the arrangement of the loop that the VNNI kernels instantiate, not the VPDPBUSD instruction itself (the previous
  // test runs that, on a VNNI CPU). kContractGroups covers every remainder of the group count by the sets (2, 3).
#if QMATH_CPU_X86
  if (!qmath::isa_available(Isa::kAvx2)) {
    WARN("emulated VNNI plans not run: this CPU has no AVX2");
    return;
  }
  check_exact_u8_kernel("AVX-VNNI plan",
                        cd::small_m_avx2::small_m_run<EmulatedDpbusdStep, cd::SmallMPlanAvxVnni>, 15);
  check_exact_u8_kernel("AVX-512 VNNI plan",
                        cd::small_m_avx2::small_m_run<EmulatedDpbusdStep512, cd::SmallMPlanAvx512Vnni>, 16);
  // The plans use accumulator sets and column parts for some row count (what the test is for).
  STATIC_REQUIRE(cd::SmallMPlanAvxVnni::sets(1) > 1);
  STATIC_REQUIRE(cd::SmallMPlanAvxVnni::chunks(4) * cd::SmallMStepU8::kChunkCols < cd::kNr);
  STATIC_REQUIRE(cd::SmallMPlanAvx512Vnni::sets(2) > 1);
#else
  WARN("emulated VNNI plans not run: not an x86 build");
#endif
}

TEST_CASE("small-M kernels: the uint8 kernel of the exact mode, per path and M", "[cpu][gemm][small_m]") {
  // small_m_u8_kernel_for<TA>(isa, m, a7): the VNNI kernels on their paths for every A, M <= kSmallMMax; the
  // VPMADDUBSW kernel on AVX2 only for a 7-bit uint8 A; none on scalar and the AArch64 paths.
  for (int m = 1; m <= cd::kSmallMMax + 1; ++m)
    for (bool a7 : {false, true}) {
      INFO("M " << m << " a7 " << a7);
      const bool small = m <= cd::kSmallMMax;
      (void)small;  // only the x86 checks below use it
      for (Isa isa : {Isa::kScalar, Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm}) {
        REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(isa, m, a7) == nullptr);
        REQUIRE(cd::small_m_u8_kernel_for<std::int8_t>(isa, m, a7) == nullptr);
      }
      // The VNNI paths never run the int16 kernels.
      REQUIRE(cd::small_m_kernel_for(Isa::kAvxVnni, m) == nullptr);
      REQUIRE(cd::small_m_kernel_for(Isa::kAvx512Vnni, m) == nullptr);
#if QMATH_CPU_X86
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvx512Vnni, m, a7) ==
              (small ? &cd::small_m_kernel_avx512vnni : nullptr));
      REQUIRE(cd::small_m_u8_kernel_for<std::int8_t>(Isa::kAvx512Vnni, m, a7) ==
              (small ? &cd::small_m_kernel_avx512vnni : nullptr));
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvx2, m, a7) ==
              (small && a7 ? &cd::small_m_kernel_maddubs_avx2 : nullptr));
      REQUIRE(cd::small_m_u8_kernel_for<std::int8_t>(Isa::kAvx2, m, a7) == nullptr);
#else
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvx512Vnni, m, a7) == nullptr);
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvx2, m, a7) == nullptr);
#endif
#if QMATH_CPU_HAS_AVXVNNI_TARGET
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvxVnni, m, a7) ==
              (small ? &cd::small_m_kernel_avxvnni : nullptr));
      REQUIRE(cd::small_m_u8_kernel_for<std::int8_t>(Isa::kAvxVnni, m, a7) ==
              (small ? &cd::small_m_kernel_avxvnni : nullptr));
#else
      REQUIRE(cd::small_m_u8_kernel_for<std::uint8_t>(Isa::kAvxVnni, m, a7) == nullptr);
#endif
    }
  // The panels they read: a VNNI path's PackedB is in the int8 layout (no conversion per call).
  REQUIRE(cd::preferred_b_layout(Isa::kAvxVnni, false) == BPackLayout::kInt8K4);
  REQUIRE(cd::preferred_b_layout(Isa::kAvx512Vnni, false) == BPackLayout::kInt8K4);
}

TEST_CASE("small-M kernels: chosen for M <= kSmallMMax on the AVX2 and scalar paths only", "[cpu][gemm][small_m]") {
  for (int m = 1; m <= cd::kSmallMMax; ++m) {
    REQUIRE(cd::small_m_kernel_for(Isa::kScalar, m) != nullptr);
#if QMATH_CPU_X86
    REQUIRE(cd::small_m_kernel_for(Isa::kAvx2, m) != nullptr);
#endif
  }
  REQUIRE(cd::small_m_kernel_for(Isa::kScalar, cd::kSmallMMax + 1) == nullptr);
  REQUIRE(cd::small_m_kernel_for(Isa::kAvx2, cd::kSmallMMax + 1) == nullptr);
  REQUIRE(cd::small_m_kernel_for(Isa::kAvx512Vnni, 1) == nullptr);
}

TEST_CASE("small-M kernels: the saturating mode's kernel is chosen for M <= kSmallMMax on the x86 SIMD paths",
          "[cpu][gemm][small_m]") {
  for (int m = 1; m <= cd::kSmallMMax + 1; ++m) {
    INFO("M " << m);
    for (Isa isa : {Isa::kScalar, Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm})
      REQUIRE(cd::small_m_saturating_kernel_for(isa, m) == nullptr);  // the blocked saturating kernels run there
    for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni}) {
#if QMATH_CPU_X86
      // Every x86 SIMD path runs the AVX2 kernels in this mode (path_ops_saturating).
      REQUIRE(cd::small_m_saturating_kernel_for(isa, m) ==
              (m <= cd::kSmallMMax ? &cd::small_m_kernel_maddubs_avx2 : nullptr));
#else
      REQUIRE(cd::small_m_saturating_kernel_for(isa, m) == nullptr);
#endif
    }
  }
}

TEST_CASE("small-M gemm: PackedB keeps int8 panels equal to the int8 layout's", "[cpu][gemm][small_m]") {
  std::mt19937 rng(3);
  const GemmShape s{1, 45, 39};
  const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, rng, -128, 127);
  const BPackLayout int8 = BPackLayout::kInt8K4, int16 = BPackLayout::kInt16K2;
  const auto view = qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK);
  const auto p8 = cd::pack_b_for(Isa::kAuto, view, 0, &int8);
  const auto p16 = cd::pack_b_for(Isa::kAuto, view, 0, &int16);
  REQUIRE(p8.int8_data() == p8.data());
  REQUIRE(p16.int8_data() != p16.data());
  REQUIRE(std::memcmp(p8.int8_data(), p16.int8_data(), cd::packed_b_elements(s.k, s.n)) == 0);
}

TEST_CASE("small-M gemm: M = 1..9, 16, 33, 64, odd N and K, every type, layout, path and API",
          "[cpu][gemm][small_m]") {
  check_batches_all_outputs<std::int8_t, std::int8_t>(100);
  check_batches_all_outputs<std::uint8_t, std::int8_t>(200);
  check_batches_all_outputs<std::uint8_t, std::uint8_t>(300);
  check_batches_all_outputs<std::int8_t, std::uint8_t>(400);
}

TEST_CASE("small-M gemm: extreme operands and zero points", "[cpu][gemm][small_m]") {
  // A' = 255 everywhere against B' = +127 / -128 / alternating, zero points at both ends, K = 1001 (a group tail).
  for (int m : {1, 2, 3, 4, 5}) {
    const GemmShape s{m, 35, 1001};
    for (int b_case = 0; b_case < 3; ++b_case) {
      const std::vector<std::int8_t> b = extreme_b(std::size_t(s.n) * s.k, b_case);
      const std::vector<std::uint8_t> a_u8(std::size_t(s.m) * s.k, 255);
      const std::vector<std::int8_t> a_s8(std::size_t(s.m) * s.k, 127);
      for (std::int32_t zb : {-128, 127}) {
        INFO("M " << m << " b case " << b_case << " zb " << zb);
        for (std::int32_t za : {0, 255})
          check_all<std::uint8_t, std::int8_t, std::int32_t>(s, a_u8, za, b, BLayout::kNxK, zb, Epilogue{});
        for (std::int32_t za : {-128, 127})
          check_all<std::int8_t, std::int8_t, std::int32_t>(s, a_s8, za, b, BLayout::kKxN, zb, Epilogue{});
      }
    }
  }
}

// The AArch64 small-M kernels (detail/kernel_small_m_neon.hpp).

TEST_CASE("small-M kernels (AArch64): chosen for M <= kSmallMMaxNeon on the AArch64 paths only",
          "[cpu][gemm][small_m]") {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni})
    REQUIRE(cd::small_m_kernel_i8_for(isa, 1).fn == nullptr);
  for (Isa isa : {Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm}) {
    REQUIRE(cd::small_m_kernel_for(isa, 1) == nullptr);  // the x86 / scalar kernels never run on these paths
    REQUIRE(cd::small_m_kernel_i8_for(isa, cd::kSmallMMaxNeon + 1).fn == nullptr);
    REQUIRE(cd::small_m_kernel_i8_for(isa, 0).fn == nullptr);
  }
  for (int m = 1; m <= cd::kSmallMMaxNeon; ++m) {
    INFO("M " << m);
#if QMATH_CPU_AARCH64
    const cd::SmallMKernelI8 neon = cd::small_m_kernel_i8_for(Isa::kNeon, m);
    REQUIRE(neon.fn == &cd::small_m_kernel_neon);
    REQUIRE(neon.a_shift == 128);
    REQUIRE(neon.b_layout == BPackLayout::kInt8K4);
#else
    REQUIRE(cd::small_m_kernel_i8_for(Isa::kNeon, m).fn == nullptr);
#endif
#if QMATH_CPU_HAS_ARM_I8MM_TARGET
    const cd::SmallMKernelI8 dot = cd::small_m_kernel_i8_for(Isa::kNeonDotprod, m);
    REQUIRE(dot.fn == &cd::small_m_kernel_neon_dotprod);
    REQUIRE(dot.a_shift == 128);
    REQUIRE(dot.b_layout == BPackLayout::kInt8K4);
    // The I8MM path reads the 8-k form its PackedB holds (pack_b on an I8MM CPU), so no call converts B.
    const cd::SmallMKernelI8 mm = cd::small_m_kernel_i8_for(Isa::kNeonI8mm, m);
    REQUIRE(mm.fn == &cd::small_m_kernel_neon_i8mm);
    REQUIRE(mm.a_shift == 0);
    REQUIRE(mm.b_layout == BPackLayout::kInt8K8);
    REQUIRE(mm.b_layout == cd::preferred_b_layout(Isa::kNeonI8mm, false));
#else
    REQUIRE(cd::small_m_kernel_i8_for(Isa::kNeonDotprod, m).fn == nullptr);
    REQUIRE(cd::small_m_kernel_i8_for(Isa::kNeonI8mm, m).fn == nullptr);
#endif
  }
}

TEST_CASE("small-M kernels (AArch64): the contract, every row count, K tails, extreme operands",
          "[cpu][gemm][small_m]") {
  std::mt19937 rng(17);
  int kernels_run = 0;
  for (Isa isa : runnable_paths()) {
    const cd::SmallMKernelI8 km = cd::small_m_kernel_i8_for(isa, 1);
    if (km.fn == nullptr) continue;
    // kgroups: every remainder mod 4 (the SDOT kernel's 4-group loads) and both parities (the 8-k form's tail).
    for (int kgroups : {1, 2, 3, 4, 5, 7, 18, 301}) {
      const int k = kgroups * cd::kKGroup, ld = cd::small_m_i8_row_stride(k);
      // 0: random; 1, 2: A' = 255 against B' = -128, +127; 3: A' = 0 against B' = -128 (A' - 128 = -128: the
      // largest positive int8 product, 16384, for the signed kernels).
      for (int data = 0; data < 4; ++data) {
        std::vector<std::int8_t> b = random_vector<std::int8_t>(std::size_t(kgroups) * 128, rng, -128, 127);
        std::vector<std::uint8_t> a = random_vector<std::uint8_t>(std::size_t(cd::kSmallMMaxNeon) * k, rng, 0, 255);
        if (data) {
          std::fill(a.begin(), a.end(), std::uint8_t(data == 3 ? 0 : 255));
          std::fill(b.begin(), b.end(), std::int8_t(data == 2 ? 127 : -128));
        }
        cd::AlignedBuffer panel(b.size());
        std::memcpy(panel.as<std::int8_t>(), b.data(), b.size());  // kInt8K4
        if (km.b_layout == BPackLayout::kInt8K8) cd::groups_k4_to_k8(cd::kNr, kgroups, panel.as<std::int8_t>());
        cd::AlignedBuffer rows_i8(std::size_t(cd::kSmallMMaxNeon) * ld);
        std::vector<std::int32_t> row_sum(cd::kSmallMMaxNeon);
        cd::copy_a_rows_i8(cd::kSmallMMaxNeon, k, a.data(), k, km.a_shift, rows_i8.as<std::int8_t>(), row_sum.data());
        // The contract's A: A' - a_shift, as int16 rows of stride k; its B: the kInt8K4 panel b.
        std::vector<std::int16_t> shifted(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) shifted[i] = static_cast<std::int16_t>(a[i] - km.a_shift);
        for (int r = 0; r < cd::kSmallMMaxNeon; ++r) {
          std::int32_t sum = 0;
          for (int kk = 0; kk < k; ++kk) sum += a[std::size_t(r) * k + kk];
          REQUIRE(row_sum[r] == sum);
        }
        for (int rows = 1; rows <= cd::kSmallMMaxNeon; ++rows) {
          INFO("path " << qmath::isa_name(isa) << " kgroups " << kgroups << " data " << data << " rows " << rows);
          const auto expect = contract(rows, kgroups, shifted, k, b.data());
          std::vector<std::int32_t> got(expect.size(), 7);
          km.fn(rows, kgroups, rows_i8.as<const std::int8_t>(), ld, panel.as<const std::int8_t>(), got.data());
          REQUIRE(got == expect);
        }
      }
    }
    ++kernels_run;
  }
#if QMATH_CPU_AARCH64
  REQUIRE(kernels_run >= 1);  // kNeon runs on every AArch64 CPU
#else
  REQUIRE(kernels_run == 0);
#endif
}

#if QMATH_CPU_AARCH64

namespace {

// cpu::gemm on every runnable AArch64 path against the reference: B packed as pack_b packs it for that path (the
// layout its kernels read), 1 and 2 threads, and the one-shot API; asserts which kernel family the path takes.
template <class TA, class TB, class TC>
void check_arm(GemmShape s, const std::vector<TA>& a, std::int32_t za, const std::vector<TB>& b, std::int32_t zb,
               const Epilogue& e) {
  std::vector<TC> expect(std::size_t(s.m) * s.n, TC(7));
  const auto args = qtest::gemm_args(s, a.data(), s.k, za, b.data(), s.k, BLayout::kNxK, zb, expect.data(), s.n, e);
  qmath::gemm_reference(args);
  for (Isa isa : runnable_paths()) {
    if (qmath::isa_family(isa) != qmath::IsaFamily::kAarch64) continue;
    REQUIRE((cd::small_m_kernel_i8_for(isa, s.m).fn != nullptr) == (s.m <= cd::kSmallMMaxNeon));
    const auto packed = cd::pack_b_for(isa, qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK), zb);
    for (int threads : {1, 2}) {
      INFO("path " << qmath::isa_name(isa) << " threads " << threads << " M=" << s.m << " za=" << za << " zb=" << zb);
      std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
      qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, e), {isa, threads});
      REQUIRE(same_bits(got, expect));
    }
    INFO("one-shot, path " << qmath::isa_name(isa) << " M=" << s.m);
    std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
    auto one_shot = args;
    one_shot.c = qmath::row_major(got.data(), s.m, s.n, s.n);
    qmath::cpu::gemm(one_shot, {isa, 1});
    REQUIRE(same_bits(got, expect));
  }
}

}  // namespace

TEST_CASE("small-M gemm (AArch64): M = 1..9, extreme operands and zero points, every output type",
          "[cpu][gemm][small_m]") {
  // A' = 255 or 0 everywhere against B' = +127 / -128 / alternating, zero points at both ends, K = 203 (odd: a tail
  // of 3 k in the last 4-k group, an odd group count for the 8-k form), N = 37 (a partial panel).
  std::mt19937 rng(23);
  for (int m = 1; m <= cd::kSmallMMaxNeon + 1; ++m) {
    const GemmShape s{m, 37, 203};
    for (int b_case = 0; b_case < 3; ++b_case) {
      const std::vector<std::int8_t> b = extreme_b(std::size_t(s.n) * s.k, b_case);
      for (int a_case = 0; a_case < 2; ++a_case) {
        const std::vector<std::uint8_t> a_u8(std::size_t(s.m) * s.k, a_case ? 0 : 255);
        const std::vector<std::int8_t> a_s8(std::size_t(s.m) * s.k, a_case ? -128 : 127);
        for (std::int32_t zb : {-128, 127}) {
          INFO("M " << m << " b case " << b_case << " a case " << a_case << " zb " << zb);
          check_arm<std::uint8_t, std::int8_t, std::int32_t>(s, a_u8, a_case ? 255 : 0, b, zb, Epilogue{});
          check_arm<std::int8_t, std::int8_t, std::int32_t>(s, a_s8, a_case ? 127 : -128, b, zb, Epilogue{});
        }
      }
      // The requantizing outputs on the same extreme data, with random epilogue parameters.
      const std::vector<std::uint8_t> a_u8(std::size_t(s.m) * s.k, 255);
      const OutputStage<std::int8_t> out8(s.n, s.k, rng);
      check_arm<std::uint8_t, std::int8_t, std::int8_t>(s, a_u8, 0, b, -128, out8.e);
      const OutputStage<std::uint8_t> outu8(s.n, s.k, rng);
      check_arm<std::uint8_t, std::int8_t, std::uint8_t>(s, a_u8, 0, b, 127, outu8.e);
      const OutputStage<float> outf(s.n, s.k, rng);
      check_arm<std::uint8_t, std::int8_t, float>(s, a_u8, 0, b, 127, outf.e);
    }
  }
}

#endif  // QMATH_CPU_AARCH64

TEST_CASE("small-M gemm: the saturating mode, M = 1..kSmallMMax + 1, every type, layout, path and API",
          "[cpu][gemm][small_m]") {
  qtest::for_each_output(500, [](auto tc, unsigned seed) {
    using TC = typename decltype(tc)::type;
    check_saturating_batches<std::uint8_t, std::int8_t, TC>(seed);
    check_saturating_batches<std::int8_t, std::int8_t, TC>(seed + 10);
  });
  check_saturating_batches<std::uint8_t, std::uint8_t, std::int32_t>(520);
  check_saturating_batches<std::int8_t, std::uint8_t, std::int8_t>(530);
}

TEST_CASE("small-M gemm: the saturating mode on extreme operands (every pair saturates)", "[cpu][gemm][small_m]") {
  // A' = 255 everywhere (uint8 A = 255, int8 A = 127) against B' = +127 / -128 / alternating per element, K = 1001
  // (a tail of one k: its pair is (k, 0)), M = 1..kSmallMMax + 1, zero points at both ends.
  std::mt19937 rng(29);
  for (int m = 1; m <= cd::kSmallMMax + 1; ++m) {
    const GemmShape s{m, 35, 1001};
    for (int b_case = 0; b_case < 3; ++b_case) {
      const std::vector<std::int8_t> b = extreme_b(std::size_t(s.n) * s.k, b_case);
      const std::vector<std::uint8_t> a_u8(std::size_t(s.m) * s.k, 255);
      const std::vector<std::int8_t> a_s8(std::size_t(s.m) * s.k, 127);
      INFO("M " << m << " b case " << b_case);
      for (std::int32_t zb : {-128, 127}) {
        check_all<std::uint8_t, std::int8_t, std::int32_t>(s, a_u8, 255, b, BLayout::kNxK, zb, Epilogue{}, true);
        check_all<std::int8_t, std::int8_t, std::int32_t>(s, a_s8, -128, b, BLayout::kKxN, zb, Epilogue{}, true);
      }
      const OutputStage<std::int8_t> out8(s.n, s.k, rng);
      check_all<std::uint8_t, std::int8_t, std::int8_t>(s, a_u8, 0, b, BLayout::kNxK, 0, out8.e, true);
      const OutputStage<float> outf(s.n, s.k, rng);
      check_all<std::int8_t, std::int8_t, float>(s, a_s8, 3, b, BLayout::kKxN, -1, outf.e, true);
    }
  }
}

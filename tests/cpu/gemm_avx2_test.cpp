// Tests for the AVX2 kernels of qmath/cpu/detail/kernel_avx2.hpp and the packed B layouts of detail/pack.hpp:
// the exact int16 (VPMADDWD) kernel and the VPMADDUBSW kernel bit for bit against qmath::gemm_reference on every
// operand / output type, edge sizes 1..70 and K blocks, extreme values and zero points; every packed layout on every
// path; that the VPMADDUBSW kernel runs only when its no-saturation bound was proven at packing (and then does); and
// the opt-in saturating mode against its reference (detail/saturating.hpp) and, with oneDNN, dnnl_gemm_u8s8s32.
#include <qmath/cpu/gemm.hpp>  // first: the header under test is self-contained

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../epilogue_fields.hpp"
#include "../gemm_args_support.hpp"
#include "gemm_test_support.hpp"
#include "packed_args.hpp"
#if QMATH_TEST_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Isa;
using qmath::Scaling;
using qtest::BLayout;
using qmath::cpu::detail::BPackLayout;

using qtest::random_vector;
using qtest::OutputStage;
using qtest::runnable_paths;
using qtest::same_bits;


// B values whose B' = b + b_offset lies in [-64, 64]: every k pair satisfies |B'0| + |B'1| <= 128.
template <class TB>
constexpr int bounded_lo() {
  return std::is_same<TB, std::uint8_t>::value ? 64 : -64;
}
template <class TB>
constexpr int bounded_hi() {
  return std::is_same<TB, std::uint8_t>::value ? 192 : 64;
}


// A B packed in `layout`, run on every path, one and two threads, against the reference.
template <class TA, class TB, class TC>
void check_layouts(GemmShape s, const std::vector<TA>& a, std::int32_t za, const std::vector<TB>& b, BLayout bl,
                   std::int32_t zb, const Epilogue& e) {
  const std::int64_t ldb = bl == BLayout::kKxN ? s.n : s.k;
  std::vector<TC> expect(std::size_t(s.m) * s.n, TC(7));
  qmath::gemm_reference(qtest::gemm_args(s, a.data(), s.k, za, b.data(), ldb, bl, zb, expect.data(), s.n, e));
  for (BPackLayout layout : {BPackLayout::kInt8K4, BPackLayout::kInt16K2}) {
    const auto packed = qmath::cpu::detail::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), ldb, bl), zb, &layout);
    for (Isa isa : runnable_paths()) {
      for (int threads : {1, 2}) {
        INFO("path " << qmath::isa_name(isa) << " layout " << (layout == BPackLayout::kInt8K4 ? "int8" : "int16")
                     << " maddubs " << qmath::cpu::detail::runs_maddubs(isa, packed) << " threads " << threads
                     << " M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za << " zb=" << zb);
        std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
        qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, e), {isa, threads});
        REQUIRE(same_bits(got, expect));
      }
    }
  }
}

// The random draws of the TA x TB tests, from one generator: shapes with M, N, K in 1..70 and zero points over each
// operand's whole range.
template <class TA, class TB>
struct RandomDraws {
  explicit RandomDraws(unsigned seed) : rng(seed) {}
  std::mt19937 rng;
  const qmath::QuantRange ra = qmath::full_range<TA>(), rb = qmath::full_range<TB>();
  GemmShape shape() { return {dim_(rng), dim_(rng), dim_(rng)}; }
  std::int32_t za() { return za_(rng); }
  std::int32_t zb() { return zb_(rng); }

 private:
  std::uniform_int_distribution<int> dim_{1, 70}, za_{ra.qmin, ra.qmax}, zb_{rb.qmin, rb.qmax};
};

// Random shapes with M, N, K in 1..70 (tails of the 6-row micro-tile, 12-row panel, 8/16/32 columns, k pair and
// group) plus K blocks of both layouts; full-range weights and weights within the VPMADDUBSW bound.
template <class TA, class TB, class TC>
void check_random(unsigned seed) {
  RandomDraws<TA, TB> draw(seed);
  std::mt19937& rng = draw.rng;
  const qmath::QuantRange ra = draw.ra, rb = draw.rb;
  std::vector<GemmShape> shapes;
  for (int i = 0; i < 6; ++i) shapes.push_back(draw.shape());
  shapes.push_back({13, 17, 257});  // several int16 K blocks (64 groups) with a pair tail
  shapes.push_back({7, 40, 643});   // several int8 K blocks (160 groups) with a group tail
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const GemmShape s = shapes[i];
    const BLayout bl = i % 2 ? BLayout::kKxN : BLayout::kNxK;
    const std::int32_t za = i % 3 == 0 ? 0 : draw.za(), zb = i % 4 == 0 ? 0 : draw.zb();
    const auto a = random_vector<TA>(std::size_t(s.m) * s.k, rng, ra.qmin, ra.qmax);
    const OutputStage<TC> out(s.n, s.k, rng);
    const auto b_full = random_vector<TB>(std::size_t(s.n) * s.k, rng, rb.qmin, rb.qmax);
    check_layouts<TA, TB, TC>(s, a, za, b_full, bl, zb, out.e);
    const auto b_bounded = random_vector<TB>(std::size_t(s.n) * s.k, rng, bounded_lo<TB>(), bounded_hi<TB>());
    check_layouts<TA, TB, TC>(s, a, za, b_bounded, bl, zb, out.e);
  }
}

template <class TA, class TB>
void check_random_all_outputs(unsigned seed) {
  qtest::for_each_output(seed, [](auto out, unsigned s) { check_random<TA, TB, typename decltype(out)::type>(s); });
}

}  // namespace

TEST_CASE("avx2 kernels: random shapes 1..70 and K blocks, every type, layout and path", "[cpu][gemm][avx2]") {
  check_random_all_outputs<std::int8_t, std::int8_t>(100);
  check_random_all_outputs<std::uint8_t, std::int8_t>(200);
  check_random_all_outputs<std::uint8_t, std::uint8_t>(300);
  check_random_all_outputs<std::int8_t, std::uint8_t>(400);
}

TEST_CASE("avx2 kernels: extreme operands and zero points", "[cpu][gemm][avx2]") {
  // A' = 255 everywhere (uint8 255 or int8 127) against B' = +127 / -128 / alternating / at the VPMADDUBSW bound,
  // zero points at both ends of their types; K large enough to cross K blocks, within the int32 bound.
  const GemmShape s{13, 37, 300};
  for (int b_case = 0; b_case < 5; ++b_case) {
    std::vector<std::int8_t> b(std::size_t(s.n) * s.k);
    for (std::size_t i = 0; i < b.size(); ++i) {
      switch (b_case) {
        case 0: b[i] = 127; break;
        case 1: b[i] = -128; break;
        case 2: b[i] = i % 2 ? -128 : 127; break;
        case 3: b[i] = i % 2 ? 64 : -64; break;   // |w0| + |w1| = 128: VPMADDUBSW at its bound
        default: b[i] = i % 2 ? 0 : -128; break;  // |w0| + |w1| = 128 with -128
      }
    }
    for (std::int32_t zb : {-128, 0, 127}) {
      const std::vector<std::uint8_t> a_u8(std::size_t(s.m) * s.k, 255);
      const std::vector<std::int8_t> a_s8(std::size_t(s.m) * s.k, 127);
      INFO("b case " << b_case << " zb " << zb);
      for (std::int32_t za : {0, 255})
        check_layouts<std::uint8_t, std::int8_t, std::int32_t>(s, a_u8, za, b, BLayout::kNxK, zb, Epilogue{});
      for (std::int32_t za : {-128, 127})
        check_layouts<std::int8_t, std::int8_t, std::int32_t>(s, a_s8, za, b, BLayout::kNxK, zb, Epilogue{});
    }
  }
}

namespace {

// M = 16..64 (whole 12-row panels plus every 6-row micro-tile tail) with A' = 255 everywhere or random, against
// B' = +127, -128 and alternating, on every layout and path: the exact kernel has no saturating step at these M.
TEST_CASE("avx2 kernels: M = 16..64 tiles and tails with extreme operands", "[cpu][gemm][avx2]") {
  std::mt19937 rng(61);
  for (int m : {16, 17, 18, 22, 23, 24, 29, 30, 31, 35, 36, 47, 48, 52, 63, 64}) {
    const GemmShape s{m, 33, 67};
    const int b_case = m % 3;
    std::vector<std::int8_t> b(std::size_t(s.n) * s.k);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = b_case == 0 ? 127 : b_case == 1 ? -128 : i % 2 ? -128 : 127;
    const std::vector<std::uint8_t> a_max(std::size_t(s.m) * s.k, 255);
    const auto a_rand = random_vector<std::uint8_t>(std::size_t(s.m) * s.k, rng);
    INFO("M=" << m << " b case " << b_case);
    check_layouts<std::uint8_t, std::int8_t, std::int32_t>(s, a_max, 0, b, BLayout::kNxK, 0, Epilogue{});
    check_layouts<std::uint8_t, std::int8_t, std::int32_t>(s, a_rand, 3, b, BLayout::kKxN, -128, Epilogue{});
  }
}

// GemmOptions::activations_7bit on a uint8 A in [0, 127]: pre-packed (both layouts) and one-shot, every path,
// 1 and 2 threads, bit for bit against gemm_reference.
template <class TB, class TC>
void check_a7(GemmShape s, const std::vector<std::uint8_t>& a, std::int32_t za, const std::vector<TB>& b,
              std::int32_t zb, const Epilogue& e) {
  std::vector<TC> expect(std::size_t(s.m) * s.n, TC(7));
  qmath::gemm_reference(qtest::gemm_args(s, a.data(), s.k, za, b.data(), s.k, BLayout::kNxK, zb, expect.data(), s.n, e));
  for (BPackLayout layout : {BPackLayout::kInt8K4, BPackLayout::kInt16K2}) {
    const auto packed =
        qmath::cpu::detail::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK), zb, &layout);
    REQUIRE(qmath::cpu::detail::runs_maddubs(Isa::kAvx2, packed, true));  // whatever B holds
    for (Isa isa : runnable_paths())
      for (int threads : {1, 2}) {
        INFO("path " << qmath::isa_name(isa) << " layout " << (layout == BPackLayout::kInt8K4 ? "int8" : "int16")
                     << " threads " << threads << " M=" << s.m << " N=" << s.n << " K=" << s.k);
        qmath::cpu::GemmOptions opt{isa, threads};
        opt.activations_7bit = true;
        std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
        qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, e), opt);
        REQUIRE(same_bits(got, expect));
        if (layout == BPackLayout::kInt8K4) {
          std::vector<TC> oneshot(std::size_t(s.m) * s.n, TC(7));
          qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, za, b.data(), s.k, BLayout::kNxK, zb, oneshot.data(), s.n, e),
                           opt);
          REQUIRE(same_bits(oneshot, expect));
        }
      }
  }
}

}  // namespace

TEST_CASE("activations_7bit: VPMADDUBSW exact for every B when A is in [0, 127]", "[cpu][gemm][avx2]") {
  std::mt19937 rng(71);
  // Extreme: A = 127 everywhere against B' = -128, +127 and alternating (pair sums up to 2 * 127 * 128 in
  // magnitude, which VPMADDUBSW holds), zero points at both ends; K crosses K blocks.
  for (int b_case = 0; b_case < 3; ++b_case) {
    const GemmShape s{17, 37, 300};
    std::vector<std::int8_t> b(std::size_t(s.n) * s.k);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = b_case == 0 ? -128 : b_case == 1 ? 127 : i % 2 ? -128 : 127;
    const std::vector<std::uint8_t> a(std::size_t(s.m) * s.k, 127);
    for (std::int32_t za : {0, 255})
      for (std::int32_t zb : {-128, 127}) check_a7<std::int8_t, std::int32_t>(s, a, za, b, zb, Epilogue{});
  }
  // M = 1..4 (the small-M kernels, VPMADDUBSW on AVX2) at the same extremes, K with a group tail.
  for (int m = 1; m <= 4; ++m) {
    const GemmShape s{m, 70, 301};
    std::vector<std::int8_t> b(std::size_t(s.n) * s.k);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = i % 3 ? -128 : 127;
    const std::vector<std::uint8_t> a(std::size_t(s.m) * s.k, 127);
    check_a7<std::int8_t, std::int32_t>(s, a, 255, b, -128, Epilogue{});
  }
  // Random shapes (M = 1..70, so both the small-M and the cache-blocked paths; the first four M = 1..4), uint8 and
  // int8 B, every output type.
  for (int i = 0; i < 8; ++i) {
    const GemmShape s{i < 4 ? i + 1 : int(rng() % 70) + 1, int(rng() % 70) + 1, int(rng() % 200) + 1};
    const auto a = random_vector<std::uint8_t>(std::size_t(s.m) * s.k, rng, 0, 127);
    const auto b8 = random_vector<std::int8_t>(std::size_t(s.n) * s.k, rng);
    const auto bu8 = random_vector<std::uint8_t>(std::size_t(s.n) * s.k, rng);
    const qtest::OutputStage<std::int8_t> out8(s.n, s.k, rng);
    const qtest::OutputStage<std::uint8_t> outu8(s.n, s.k, rng);
    check_a7<std::int8_t, std::int32_t>(s, a, int(rng() % 256), b8, int(rng() % 256) - 128, Epilogue{});
    check_a7<std::uint8_t, std::int8_t>(s, a, 127, bu8, int(rng() % 256), out8.e);
    check_a7<std::int8_t, std::uint8_t>(s, a, 0, b8, 0, outu8.e);
  }
}

TEST_CASE("activations_7bit: an A outside [0, 127] or an int8 A throws before C is written", "[cpu][gemm][avx2]") {
  const GemmShape s{5, 9, 20};
  std::vector<std::uint8_t> a(std::size_t(s.m) * s.k, 127);
  a[3 * s.k + 11] = 128;
  const std::vector<std::int8_t> a_s8(std::size_t(s.m) * s.k, 0);
  const std::vector<std::int8_t> b(std::size_t(s.n) * s.k, 1);
  const auto packed = qmath::cpu::pack_b(qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK), 0);
  for (Isa isa : runnable_paths()) {
    qmath::cpu::GemmOptions opt{isa, 1};
    opt.activations_7bit = true;
    std::vector<std::int32_t> c(std::size_t(s.m) * s.n, 7);
    const std::vector<std::int32_t> untouched = c;
    REQUIRE_THROWS_WITH(
        qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, 0, packed, c.data(), s.n, Epilogue{}), opt),
        Catch::Contains("a(3, 11) = 128 is above 127"));
    REQUIRE_THROWS_WITH(qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.k, BLayout::kNxK, 0,
                                                          c.data(), s.n, Epilogue{}),
                                         opt),
                        Catch::Contains("a(3, 11) = 128 is above 127"));
    REQUIRE_THROWS_WITH(
        qmath::cpu::gemm(qtest::packed_args(s, a_s8.data(), s.k, 0, packed, c.data(), s.n, Epilogue{}), opt),
        Catch::Contains("activations_7bit needs uint8 A"));
    REQUIRE(c == untouched);
  }
}

TEST_CASE("avx2 packed B: int8 <-> int16 layouts convert losslessly", "[cpu][gemm][avx2]") {
  std::mt19937 rng(5);
  for (GemmShape s : {GemmShape{1, 1, 1}, GemmShape{1, 33, 7}, GemmShape{1, 70, 130}}) {
    const auto b = random_vector<std::int8_t>(std::size_t(s.n) * s.k, rng, -128, 127);
    const BPackLayout int8 = BPackLayout::kInt8K4, int16 = BPackLayout::kInt16K2;
    const auto p8 = qmath::cpu::detail::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK), 0, &int8);
    const auto p16 = qmath::cpu::detail::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), s.k, BLayout::kNxK), 0, &int16);
    REQUIRE(p8.layout() == int8);
    REQUIRE(p16.layout() == int16);
    const std::size_t elems = qmath::cpu::detail::packed_b_elements(s.k, s.n);
    const auto* w16 = reinterpret_cast<const std::int16_t*>(p16.data());
    // Element (k, n) sits where the documented formulas put it, in both layouts.
    const int kgroups = qmath::cpu::detail::ceil_div(s.k, 4);
    for (int n = 0; n < s.n; ++n)
      for (int k = 0; k < s.k; ++k) {
        const int p = n / 32, j = n % 32, g = k / 4, t = k % 4, h = k / 2;
        REQUIRE(p8.data()[(std::size_t(p) * kgroups + g) * 128 + 4 * j + t] == b[std::size_t(n) * s.k + k]);
        REQUIRE(w16[(std::size_t(p) * kgroups * 2 + h) * 64 + 2 * j + k % 2] == b[std::size_t(n) * s.k + k]);
      }
    std::vector<std::int16_t> widened(elems);
    std::vector<std::int8_t> narrowed(elems);
    qmath::cpu::detail::widen_packed_b(s.k, s.n, p8.data(), widened.data());
    qmath::cpu::detail::narrow_packed_b(s.k, s.n, w16, narrowed.data());
    REQUIRE(std::memcmp(widened.data(), w16, elems * 2) == 0);
    REQUIRE(std::memcmp(narrowed.data(), p8.data(), elems) == 0);
    REQUIRE(std::memcmp(p8.column_sums(), p16.column_sums(), sizeof(std::int32_t) * ((s.n + 31) / 32 * 32)) == 0);
  }
}

#if QMATH_CPU_X86
// The AVX2 A-panel packers against the portable pack_a_panel<AE>: every panel element (padding included) and row
// sum, for 1..12 rows, K around the 16-k / 32-k steps and the 4-k group, strided rows, random and extreme A.
template <class AE, class TA, class Pack>
void check_pack_a(std::mt19937& rng, Pack pack) {
  using qmath::cpu::detail::kMr;
  for (int k : {1, 3, 4, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 259}) {
    const int kgroups = qmath::cpu::detail::ceil_div(k, 4);
    const std::int64_t lda = k + 5;
    for (int fill = 0; fill < 3; ++fill) {  // random, all minimum, all maximum
      auto a = random_vector<TA>(std::size_t(kMr) * lda, rng);
      if (fill) std::fill(a.begin(), a.end(), fill == 1 ? std::numeric_limits<TA>::min() : std::numeric_limits<TA>::max());
      for (int rows = 1; rows <= kMr; ++rows) {
        INFO("K=" << k << " rows=" << rows << " fill=" << fill);
        const std::size_t elems = std::size_t(kgroups) * kMr * 4;
        std::vector<AE> want(elems, 99), got(elems, 99);
        std::vector<std::int32_t> want_sum(kMr, 99), got_sum(kMr, 99);
        qmath::cpu::detail::pack_a_panel<AE, TA>(rows, k, a.data(), lda, want.data(), want_sum.data());
        pack(rows, k, a.data(), lda, got.data(), got_sum.data());
        REQUIRE(same_bits(got, want));
        REQUIRE(same_bits(got_sum, want_sum));
      }
    }
  }
}

TEST_CASE("avx2 pack A: the AVX2 int16 and uint8 panel packings equal the portable ones", "[cpu][gemm][avx2]") {
  if (!qmath::isa_available(Isa::kAvx2)) {
    WARN("this CPU has no AVX2: pack_a_panel_int16_avx2 and pack_a_panel_u8_avx2 not run");
    return;
  }
  std::mt19937 rng(41);
  using qmath::cpu::detail::pack_a_panel_int16_avx2;
  using qmath::cpu::detail::pack_a_panel_u8_avx2;
  check_pack_a<std::int16_t, std::int8_t>(rng, pack_a_panel_int16_avx2<std::int8_t>);
  check_pack_a<std::int16_t, std::uint8_t>(rng, pack_a_panel_int16_avx2<std::uint8_t>);
  check_pack_a<std::uint8_t, std::int8_t>(rng, pack_a_panel_u8_avx2<std::int8_t>);
  check_pack_a<std::uint8_t, std::uint8_t>(rng, pack_a_panel_u8_avx2<std::uint8_t>);
}
#endif

TEST_CASE("avx2 VPMADDUBSW kernel runs exactly when its bound was proven at packing", "[cpu][gemm][avx2]") {
  using qmath::cpu::detail::pack_b_for;
  using qmath::cpu::detail::runs_maddubs;
  const int k = 8, n = 3;
  // Weights stored N x K; pairs are (k0, k1), (k2, k3), ... of one column.
  auto packed = [&](std::vector<std::int8_t> b, Isa isa) {
    return pack_b_for(isa, qtest::b_view(k, n, b.data(), k, BLayout::kNxK), 0);
  };
  std::vector<std::int8_t> fit(std::size_t(n) * k, 0);
  fit[0] = 64, fit[1] = -64;       // |64| + |-64| = 128
  fit[2] = -128, fit[3] = 0;       // |-128| = 128
  fit[k + 4] = 127, fit[k + 5] = 1;  // 128
  fit[k + 1] = 127, fit[k + 2] = 127;  // 127 + 127 across two pairs: each pair is within the bound
  std::vector<std::int8_t> over = fit;
  over[2 * k + 6] = -127, over[2 * k + 7] = -2;  // 129 in one pair of the last column
  std::vector<std::int8_t> over2 = fit;
  over2[0] = 65;  // 65 + 64 = 129
  CHECK(packed(fit, Isa::kScalar).pairs_fit_int16());
  CHECK_FALSE(packed(over, Isa::kScalar).pairs_fit_int16());
  CHECK_FALSE(packed(over2, Isa::kScalar).pairs_fit_int16());
  // uint8 B: the bound is on B' = b - 128.
  const std::vector<std::uint8_t> u_fit(std::size_t(n) * k, 192), u_over(std::size_t(n) * k, 193);
  CHECK(pack_b_for(Isa::kScalar, qtest::b_view(k, n, u_fit.data(), k, BLayout::kNxK), 0).pairs_fit_int16());
  CHECK_FALSE(pack_b_for(Isa::kScalar, qtest::b_view(k, n, u_over.data(), k, BLayout::kNxK), 0).pairs_fit_int16());
  CHECK(packed(fit, Isa::kScalar).layout() == BPackLayout::kInt8K4);
  CHECK(packed(over, Isa::kScalar).layout() == BPackLayout::kInt8K4);
  CHECK_FALSE(runs_maddubs(Isa::kScalar, packed(fit, Isa::kScalar)));
  if (!qmath::isa_available(Isa::kAvx2)) {
    WARN("path avx2 is not runnable on this CPU/compiler: its layout choice is not tested here");
    return;
  }
  // Packed for AVX2: the int8 layout and VPMADDUBSW when the bound holds, the int16 layout otherwise.
  const auto p_fit = packed(fit, Isa::kAvx2), p_over = packed(over, Isa::kAvx2);
  CHECK(p_fit.layout() == BPackLayout::kInt8K4);
  CHECK(runs_maddubs(Isa::kAvx2, p_fit));
  CHECK(p_over.layout() == BPackLayout::kInt16K2);
  CHECK_FALSE(runs_maddubs(Isa::kAvx2, p_over));
  // An int8-layout B outside the bound (packed for another path) is not run on VPMADDUBSW on the AVX2 path.
  CHECK_FALSE(runs_maddubs(Isa::kAvx2, packed(over, Isa::kScalar)));
  // An int16-layout B within the bound stays on the int16 kernel.
  const BPackLayout int16 = BPackLayout::kInt16K2;
  CHECK_FALSE(runs_maddubs(Isa::kAvx2, pack_b_for(Isa::kAvx2, qtest::b_view(k, n, fit.data(), k, BLayout::kNxK), 0, &int16)));
}

#if QMATH_CPU_X86
TEST_CASE("avx2 VPMADDUBSW kernel: exact at its bound, saturates beyond it (why the bound is checked)",
          "[cpu][gemm][avx2]") {
  if (!qmath::isa_available(Isa::kAvx2)) {
    WARN("path avx2 is not runnable on this CPU/compiler: not tested here");
    return;
  }
  namespace d = qmath::cpu::detail;
  const int k = 4, n = 32, rows = 12;
  const std::vector<std::uint8_t> a(std::size_t(rows) * k, 255);
  std::vector<std::int32_t> row_sum(d::kMr);
  d::AlignedBuffer a_pack(std::size_t(d::kMr) * d::kKGroup), b_pack(d::packed_b_elements(k, n));
  d::pack_a_panel<std::uint8_t>(rows, k, a.data(), k, a_pack.as<std::uint8_t>(), row_sum.data());
  std::vector<std::int32_t> col_sum(32);
  for (int pair : {128, 254}) {  // |w0| + |w1| of every pair: 64 + 64, 127 + 127
    const std::vector<std::int8_t> b(std::size_t(n) * k, static_cast<std::int8_t>(pair / 2));
    d::pack_b(k, n, b.data(), k, d::BLayout::kNxK, b_pack.as<std::int8_t>(), col_sum.data());
    std::vector<std::int32_t> tile(std::size_t(d::kMr) * d::kNr, 0), expect(tile.size(), 0);
    d::kernel_avx2_maddubs(rows, 1, a_pack.as<std::uint8_t>(), b_pack.as<std::int8_t>(), tile.data(), false);
    d::kernel_scalar(rows, 1, a_pack.as<std::uint8_t>(), b_pack.as<std::int8_t>(), expect.data(), false);
    INFO("pair sum " << pair);
    CHECK(expect[0] == 4 * 255 * (pair / 2));
    if (pair <= 128)
      CHECK(tile == expect);
    else
      CHECK(tile[0] == 2 * 32767);  // each pair saturated to int16
    CHECK(d::pairs_fit_int16(k, n, b_pack.as<std::int8_t>()) == (pair <= 128));
  }
}
#endif

namespace {

// The saturating mode on every path, layout and thread count, against gemm_reference_int16_saturating.
template <class TA, class TB, class TC>
void check_saturating(GemmShape s, const std::vector<TA>& a, std::int32_t za, const std::vector<TB>& b, BLayout bl,
                      std::int32_t zb, const Epilogue& e) {
  const std::int64_t ldb = bl == BLayout::kKxN ? s.n : s.k;
  std::vector<TC> expect(std::size_t(s.m) * s.n, TC(7));
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(s, a.data(), s.k, za, b.data(), ldb, bl, zb, expect.data(), s.n, e));
  for (BPackLayout layout : {BPackLayout::kInt8K4, BPackLayout::kInt16K2}) {
    const auto packed = qmath::cpu::detail::pack_b_for(Isa::kAuto, qtest::b_view(s.k, s.n, b.data(), ldb, bl), zb, &layout);
    for (Isa isa : runnable_paths()) {
      for (int threads : {1, 2}) {
        qmath::cpu::GemmOptions opt{isa, threads};
        opt.saturate_int16_pairs = true;
        INFO("saturating, path " << qmath::isa_name(isa) << " layout "
                                 << (layout == BPackLayout::kInt8K4 ? "int8" : "int16") << " threads " << threads
                                 << " M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za << " zb=" << zb);
        std::vector<TC> got(std::size_t(s.m) * s.n, TC(7));
        qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, e), opt);
        REQUIRE(same_bits(got, expect));
        if (layout == BPackLayout::kInt8K4 && threads == 1) {  // one-shot
          std::fill(got.begin(), got.end(), TC(7));
          qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, za, b.data(), ldb, bl, zb, got.data(), s.n, e), opt);
          REQUIRE(same_bits(got, expect));
        }
      }
    }
  }
}

template <class TA, class TB, class TC>
void check_saturating_random(unsigned seed) {
  RandomDraws<TA, TB> draw(seed);
  std::mt19937& rng = draw.rng;
  const qmath::QuantRange ra = draw.ra, rb = draw.rb;
  for (int i = 0; i < 5; ++i) {
    const GemmShape s = i == 4 ? GemmShape{9, 35, 333} : draw.shape();
    const BLayout bl = i % 2 ? BLayout::kKxN : BLayout::kNxK;
    const std::int32_t za = i % 2 ? 0 : draw.za(), zb = i % 3 ? 0 : draw.zb();
    // A' near 255 and B' near the ends make most pairs saturate; random values mix both.
    const auto a = i % 2 ? random_vector<TA>(std::size_t(s.m) * s.k, rng, ra.qmax - 20, ra.qmax)
                         : random_vector<TA>(std::size_t(s.m) * s.k, rng, ra.qmin, ra.qmax);
    const auto b = random_vector<TB>(std::size_t(s.n) * s.k, rng, rb.qmin, rb.qmax);
    const OutputStage<TC> out(s.n, s.k, rng);
    check_saturating<TA, TB, TC>(s, a, za, b, bl, zb, out.e);
  }
}

}  // namespace

TEST_CASE("saturating mode: reference arithmetic on hand-computed cases", "[cpu][gemm][avx2]") {
  // A' = 255, B' = 127: a pair gives sat16(64770) = 32767; a K tail pairs with zero (255 * 127 = 32385).
  const std::vector<std::uint8_t> a(5, 255);
  const std::vector<std::int8_t> b(5, 127), bn(5, -128);
  std::int32_t c = 0;
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{1, 1, 4}, a.data(), 4, 0, b.data(), 4, BLayout::kNxK, 0, &c,
                                              1, Epilogue{}));
  CHECK(c == 2 * 32767);
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{1, 1, 5}, a.data(), 5, 0, b.data(), 5, BLayout::kNxK, 0, &c,
                                              1, Epilogue{}));
  CHECK(c == 2 * 32767 + 255 * 127);
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{1, 1, 4}, a.data(), 4, 0, bn.data(), 4, BLayout::kNxK, 0, &c,
                                              1, Epilogue{}));
  CHECK(c == 2 * -32768);
  // Zero points are exact terms: (a - 1) * b summed = dot - 1 * sum b.
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{1, 1, 4}, a.data(), 4, 1, b.data(), 4, BLayout::kNxK, 0, &c,
                                              1, Epilogue{}));
  CHECK(c == 2 * 32767 - 4 * 127);
  // int8 A enters as A' = a + 128: a = -128 gives A' = 0 and a zero dot; za' = za + 128.
  const std::vector<std::int8_t> a_s8(4, -128);
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{1, 1, 4}, a_s8.data(), 4, 0, b.data(), 4, BLayout::kNxK, 0,
                                              &c, 1, Epilogue{}));
  CHECK(c == -128 * 4 * 127);
  // Within the VPMADDUBSW bound the saturating result is the exact one.
  std::mt19937 rng(9);
  const auto ar = random_vector<std::uint8_t>(7 * 30, rng, 0, 255);
  const auto br = random_vector<std::int8_t>(30 * 11, rng, -64, 64);
  std::vector<std::int32_t> exact(7 * 11), sat(7 * 11);
  qmath::gemm_reference(qtest::gemm_args(GemmShape{7, 11, 30}, ar.data(), 30, 3, br.data(), 30, BLayout::kNxK, -2, exact.data(), 11,
                        Epilogue{}));
  qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(GemmShape{7, 11, 30}, ar.data(), 30, 3, br.data(), 30, BLayout::kNxK, -2,
                                              sat.data(), 11, Epilogue{}));
  CHECK(exact == sat);
}

TEST_CASE("saturating mode: every path matches gemm_reference_int16_saturating", "[cpu][gemm][avx2]") {
  check_saturating_random<std::uint8_t, std::int8_t, std::int32_t>(11);
  check_saturating_random<std::int8_t, std::int8_t, std::int32_t>(12);
  check_saturating_random<std::uint8_t, std::uint8_t, std::int8_t>(13);
  check_saturating_random<std::int8_t, std::uint8_t, float>(14);
  check_saturating_random<std::uint8_t, std::int8_t, std::uint8_t>(15);
  // All A' = 255 against B' = 127 / -128: every pair saturates.
  const GemmShape s{5, 33, 31};
  const std::vector<std::uint8_t> a(std::size_t(s.m) * s.k, 255);
  for (int v : {127, -128}) {
    const std::vector<std::int8_t> b(std::size_t(s.n) * s.k, static_cast<std::int8_t>(v));
    check_saturating<std::uint8_t, std::int8_t, std::int32_t>(s, a, 0, b, BLayout::kNxK, 0, Epilogue{});
    check_saturating<std::uint8_t, std::int8_t, std::int32_t>(s, a, 255, b, BLayout::kKxN, v < 0 ? -128 : 127,
                                                              Epilogue{});
  }
}

#if QMATH_TEST_HAVE_DNNL
TEST_CASE("saturating mode: equals oneDNN dnnl_gemm_u8s8s32 on this AVX2 CPU", "[cpu][gemm][avx2][onednn]") {
  if (!qmath::isa_available(Isa::kAvx2) || qmath::isa_available(Isa::kAvxVnni) ||
      qmath::isa_available(Isa::kAvx512Vnni)) {
    WARN("oneDNN's u8s8 GEMM saturates only on AVX2 CPUs without VNNI: not compared on this CPU");
    return;
  }
  // oneDNN forms the pairs from the start of each of its K blocks, and for K > 256 its driver may start a block at
  // an odd k (blocking chosen per problem), where qmath pairs from k = 0: random inputs are compared for K <= 256,
  // inputs constant along K (where the pairing cannot matter) at any K.
  std::mt19937 rng(77);
  const int ks[] = {64, 65, 700, 1001, 9, 130, 255, 256};
  for (int trial = 0; trial < 8; ++trial) {
    const GemmShape s{trial < 4 ? 7 : 37, trial < 4 ? 45 : 70, ks[trial]};
    std::vector<std::uint8_t> a(std::size_t(s.m) * s.k, 255);
    std::vector<std::int8_t> b(std::size_t(s.n) * s.k, trial % 2 ? -128 : 127);
    if (trial >= 4) {  // random, mostly saturating
      a = random_vector<std::uint8_t>(a.size(), rng, 200, 255);
      b = random_vector<std::int8_t>(b.size(), rng, -128, 127);
    }
    std::vector<std::int32_t> onednn(std::size_t(s.m) * s.n), expect(onednn.size()), exact(onednn.size()),
        got(onednn.size());
    const std::int32_t co = 0;
    REQUIRE(dnnl_gemm_u8s8s32('N', 'T', 'F', s.m, s.n, s.k, 1.0f, a.data(), s.k, 0, b.data(), s.k, 0, 0.0f,
                              onednn.data(), s.n, &co) == dnnl_success);
    qmath::cpu::gemm_reference_int16_saturating(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.k, BLayout::kNxK, 0, expect.data(),
                                                s.n, Epilogue{}));
    qmath::gemm_reference(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.k, BLayout::kNxK, 0, exact.data(), s.n, Epilogue{}));
    qmath::cpu::GemmOptions opt;
    opt.saturate_int16_pairs = true;
    qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.k, BLayout::kNxK, 0, got.data(), s.n, Epilogue{}), opt);
    INFO("trial " << trial << " M=" << s.m << " N=" << s.n << " K=" << s.k);
    CHECK(exact != expect);  // the input does saturate
    CHECK(onednn == expect);
    CHECK(got == onednn);
  }
}
#endif

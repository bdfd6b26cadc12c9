// Tests for qmath/cpu/gemm.hpp: every kernel path this CPU can run, compared bit for bit with qmath::gemm_reference
// (the normative GEMM) over random shapes with edge sizes, every operand/output type combination, every epilogue,
// both B layouts, one and two threads, pre-packed and one-shot B; plus the accumulator bound and bad input.
#include <qmath/cpu/gemm.hpp>  // first: the header under test is self-contained

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../epilogue_fields.hpp"
#include "../gemm_args_support.hpp"
#include "gemm_test_support.hpp"
#include "packed_args.hpp"

namespace {

using qtest::BLayout;
using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Isa;
using qmath::Scaling;

using qtest::random_vector;
using qtest::runnable_paths;
using qtest::same_bits;


// Epilogue variants; the arrays live in the struct so the pointers stay valid.
struct EpilogueCase {
  std::string name;
  qtest::EpilogueFields e;
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
};

template <class TC>
std::vector<EpilogueCase> epilogue_cases(int n, int k, std::mt19937& rng) {
  std::vector<EpilogueCase> cases;
  // Scales that map the accumulator spread (~128 * 128 * sqrt(K)) onto a few hundred output steps.
  const float base = 200.0f / (128.0f * 128.0f * std::sqrt(float(k)));
  std::uniform_real_distribution<float> spread(0.25f, 4.0f);
  std::uniform_int_distribution<std::int32_t> bias_d(-40000, 40000);
  auto fill = [&](EpilogueCase& c, bool per_channel, bool bias) {
    const int count = per_channel ? n : 1;
    c.scale.resize(count);
    c.multiplier.resize(count);
    c.shift.resize(count);
    for (int i = 0; i < count; ++i) {
      c.scale[i] = base * spread(rng);
      const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(c.scale[i]);
      c.multiplier[i] = q.multiplier;
      c.shift[i] = q.shift;
    }
    if (bias) {
      c.bias.resize(n);
      for (auto& b : c.bias) b = bias_d(rng);
    }
    c.e.per_channel = per_channel;
    c.e.float_multiplier = c.scale.data();
    c.e.fixed_point_multiplier = c.multiplier.data();
    c.e.shift = c.shift.data();
    c.e.bias = bias ? c.bias.data() : nullptr;
  };
  auto add = [&](std::string name, Scaling mode, bool per_channel, bool bias) {
    EpilogueCase c;
    c.name = std::move(name);
    fill(c, per_channel, bias);
    c.e.scaling = mode;
    cases.push_back(std::move(c));
  };
  add("none", Scaling::kNone, false, false);
  add("none+bias", Scaling::kNone, false, true);
  add("float per-tensor", Scaling::kFloatMultiplier, false, false);
  add("float per-channel+bias", Scaling::kFloatMultiplier, true, true);
  if constexpr (!std::is_same<TC, float>::value) {
    add("fixed double per-channel+bias", Scaling::kFixedPointMultiplier, true, true);
    add("fixed single per-tensor", Scaling::kFixedPointMultiplier, false, false);
    cases.back().e.rounding = qmath::FixedPointRounding::kSingleRounding;
    // Output zero point and an activation clamp (ReLU-like lower bound, capped upper bound).
    const qmath::QuantRange t = qmath::full_range<TC>();
    const std::int32_t zp = std::is_same<TC, std::int32_t>::value ? 3 : (t.qmin + t.qmax + 1) / 2 - 5;
    add("float per-channel+bias+zp+clamp", Scaling::kFloatMultiplier, true, true);
    cases.back().e.output_zero_point = zp;
    cases.back().e.clamp_min = zp;
    cases.back().e.clamp_max = zp + 90;
    add("fixed per-channel+zp+clamp", Scaling::kFixedPointMultiplier, true, false);
    cases.back().e.output_zero_point = zp;
    cases.back().e.clamp_min = zp - 20;
    add("none clamp", Scaling::kNone, false, true);
    cases.back().e.clamp_min = -1000;
    cases.back().e.clamp_max = 1000;
  } else {
    add("float per-channel+bias+clamp", Scaling::kFloatMultiplier, true, true);
    cases.back().e.float_clamp_min = 0.0f;
    cases.back().e.float_clamp_max = 6.0f;
  }
  return cases;
}

struct Layouts {
  std::int64_t lda, ldb, ldc;
};

// Runs one shape through every path, thread count, B form and epilogue and compares with the reference.
template <class TA, class TB, class TC>
void check_shape(GemmShape s, BLayout layout, std::int32_t za, std::int32_t zb, Layouts pad, std::mt19937& rng) {
  const std::int64_t lda = s.k + pad.lda, ldb = (layout == BLayout::kKxN ? s.n : s.k) + pad.ldb, ldc = s.n + pad.ldc;
  const std::vector<TA> a = random_vector<TA>(std::size_t(s.m) * lda, rng);
  const std::vector<TB> b = random_vector<TB>(std::size_t(layout == BLayout::kKxN ? s.k : s.n) * ldb, rng);
  const qmath::cpu::PackedB<TB> packed = qmath::cpu::pack_b(qtest::b_view(s.k, s.n, b.data(), ldb, layout), zb);
  for (const EpilogueCase& ec : epilogue_cases<TC>(s.n, s.k, rng)) {
    std::vector<TC> expect(std::size_t(s.m) * ldc, TC(7));
    qmath::gemm_reference(qtest::gemm_args(s, a.data(), lda, za, b.data(), ldb, layout, zb, expect.data(), ldc, ec.e));
    for (Isa isa : runnable_paths()) {
      for (int threads : {1, 2}) {
        for (bool prepacked : {true, false}) {
          INFO("path " << qmath::isa_name(isa) << " threads " << threads
                       << (prepacked ? " prepacked" : " one-shot") << " M=" << s.m << " N=" << s.n << " K=" << s.k
                       << " layout " << (layout == BLayout::kKxN ? "KxN" : "NxK") << " za=" << za << " zb=" << zb
                       << " epilogue " << ec.name);
          std::vector<TC> got(std::size_t(s.m) * ldc, TC(7));  // padding columns must stay untouched
          const qmath::cpu::GemmOptions opt{isa, threads};
          if (prepacked)
            qmath::cpu::gemm(qtest::packed_args(s, a.data(), lda, za, packed, got.data(), ldc, ec.e), opt);
          else
            qmath::cpu::gemm(qtest::gemm_args(s, a.data(), lda, za, b.data(), ldb, layout, zb, got.data(), ldc, ec.e), opt);
          REQUIRE(same_bits(got, expect));
        }
      }
    }
  }
}

template <class TA, class TB, class TC>
void check_random_shapes(unsigned seed) {
  std::mt19937 rng(seed);
  const int edge[] = {1, 3, 5, 17, 63, 65};
  std::uniform_int_distribution<int> pick(0, 5);
  std::uniform_int_distribution<int> za_d(qmath::full_range<TA>().qmin, qmath::full_range<TA>().qmax);
  std::uniform_int_distribution<int> zb_d(qmath::full_range<TB>().qmin, qmath::full_range<TB>().qmax);
  // Edge sizes in every dimension, then a few tile-crossing shapes (several 12-row and 32-column blocks, several
  // K blocks).
  std::vector<GemmShape> shapes;
  for (int i = 0; i < 6; ++i) shapes.push_back({edge[pick(rng)], edge[pick(rng)], edge[pick(rng)]});
  shapes.push_back({1, 1, 1});
  shapes.push_back({65, 65, 65});
  shapes.push_back({25, 97, 130});
  shapes.push_back({13, 33, 1100});  // several K blocks with a K tail
  shapes.push_back({2, 40, 301});    // 2- and 4-row tiles (several accumulator sets per tile) with a group tail
  shapes.push_back({4, 33, 70});
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const BLayout layout = i % 2 ? BLayout::kKxN : BLayout::kNxK;
    const std::int32_t za = i % 3 == 0 ? 0 : za_d(rng), zb = i % 4 == 0 ? 0 : zb_d(rng);
    const Layouts pad = i % 3 == 1 ? Layouts{3, 5, 2} : Layouts{0, 0, 0};
    check_shape<TA, TB, TC>(shapes[i], layout, za, zb, pad, rng);
  }
}

template <class TA, class TB>
void check_random_shapes_all_outputs(unsigned seed) {
  qtest::for_each_output(seed,
                         [](auto out, unsigned s) { check_random_shapes<TA, TB, typename decltype(out)::type>(s); });
}

}  // namespace

TEST_CASE("cpu::gemm matches gemm_reference bit for bit: int8 x int8", "[cpu][gemm]") {
  check_random_shapes_all_outputs<std::int8_t, std::int8_t>(1);  // seeds 1 to 4
}

TEST_CASE("cpu::gemm matches gemm_reference bit for bit: uint8 x int8", "[cpu][gemm]") {
  check_random_shapes_all_outputs<std::uint8_t, std::int8_t>(5);  // seeds 5 to 8
}

TEST_CASE("cpu::gemm matches gemm_reference bit for bit: uint8 x uint8 and int8 x uint8", "[cpu][gemm]") {
  check_random_shapes<std::uint8_t, std::uint8_t, std::int32_t>(9);
  check_random_shapes<std::uint8_t, std::uint8_t, std::uint8_t>(10);
  check_random_shapes<std::int8_t, std::uint8_t, std::int32_t>(11);
  check_random_shapes<std::int8_t, std::uint8_t, float>(12);
}

TEST_CASE("cpu::gemm is exact at the int32 accumulator bound", "[cpu][gemm]") {
  // K = max_k_for_int32 and operands at the extremes: the true accumulator is within int32 but the raw u8 x s8
  // partial sums of A' = A + 128 wrap around 2^32 several times.
  const int k = static_cast<int>(qmath::max_k_for_int32<std::int8_t, std::int8_t>());
  REQUIRE(k == 131071);
  const GemmShape s{3, 33, k};
  std::vector<std::int8_t> a(std::size_t(s.m) * k), b(std::size_t(s.n) * k);
  std::mt19937 rng(99);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = i % 1000 == 0 ? std::int8_t(rng() % 256 - 128) : std::int8_t(-128);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = i % 997 == 0 ? std::int8_t(rng() % 256 - 128) : std::int8_t(-128);
  a[0] = 127;  // row 0 mixes signs
  qtest::EpilogueFields e;  // int32 output, no scaling: the raw accumulator
  std::vector<std::int32_t> expect(std::size_t(s.m) * s.n), got(expect.size());
  qmath::gemm_reference(qtest::gemm_args(s, a.data(), k, 0, b.data(), k, BLayout::kNxK, 0, expect.data(), s.n, e));
  REQUIRE(expect[1] > (std::int64_t(1) << 31) - 2 * 128 * 128 * 1000);  // close to INT32_MAX indeed
  for (Isa isa : runnable_paths()) {
    INFO("path " << qmath::isa_name(isa));
    std::fill(got.begin(), got.end(), 0);
    qmath::cpu::gemm(qtest::gemm_args(s, a.data(), k, 0, b.data(), k, BLayout::kNxK, 0, got.data(), s.n, e), {isa, 1});
    REQUIRE(got == expect);
  }
}

TEST_CASE("cpu::gemm bias saturates like the reference", "[cpu][gemm]") {
  const GemmShape s{4, 40, 64};
  std::mt19937 rng(5);
  const std::vector<std::int8_t> a = random_vector<std::int8_t>(s.m * s.k, rng);
  const std::vector<std::int8_t> b = random_vector<std::int8_t>(s.k * s.n, rng);
  std::vector<std::int32_t> bias(s.n);
  for (int n = 0; n < s.n; ++n) bias[n] = n % 2 ? INT32_MAX - n : INT32_MIN + n;
  qtest::EpilogueFields e;
  e.bias = bias.data();
  std::vector<std::int32_t> expect(s.m * s.n), got(s.m * s.n);
  qmath::gemm_reference(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.n, BLayout::kKxN, 0, expect.data(), s.n, e));
  for (Isa isa : runnable_paths()) {
    INFO("path " << qmath::isa_name(isa));
    qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, 0, b.data(), s.n, BLayout::kKxN, 0, got.data(), s.n, e), {isa, 1});
    REQUIRE(got == expect);
  }
}

// Outputs of at least kStreamOutputBytes take the non-temporal-store epilogue: same bits as the reference, for int32
// and float C, an aligned and a misaligned (odd ldc) C, with a column tail, one and two threads.
template <class TC>
void check_streamed_output(std::int64_t ldc_pad) {
  const GemmShape s{1030, 1021, 12};
  const std::int64_t ldc = s.n + ldc_pad;
  REQUIRE(qmath::cpu::detail::streams_output<TC>(s, ldc));
  std::mt19937 rng(11);
  const std::vector<std::int8_t> a = random_vector<std::int8_t>(std::size_t(s.m) * s.k, rng);
  const std::vector<std::int8_t> b = random_vector<std::int8_t>(std::size_t(s.k) * s.n, rng);
  std::vector<std::int32_t> bias(s.n);
  for (auto& x : bias) x = static_cast<std::int32_t>(rng() % 2001) - 1000;
  const float scale = 0.013f;
  qtest::EpilogueFields e;
  e.bias = bias.data();
  if (std::is_same<TC, float>::value) {
    e.scaling = Scaling::kFloatMultiplier;
    e.float_multiplier = &scale;
  }
  std::vector<TC> expect(std::size_t(s.m) * ldc, TC(7));
  qmath::gemm_reference(qtest::gemm_args(s, a.data(), s.k, 3, b.data(), s.n, BLayout::kKxN, -2, expect.data(), ldc, e));
  // C on a 64-byte boundary (streaming stores need it; glibc's large allocations are only 16-byte aligned)
  std::vector<TC> storage(expect.size() + 16);
  TC* const c = reinterpret_cast<TC*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t(63));
  for (Isa isa : runnable_paths())
    for (int threads : {1, 2}) {
      INFO("path " << qmath::isa_name(isa) << " threads " << threads << " ldc " << ldc);
      std::fill(c, c + expect.size(), TC(7));
      qmath::cpu::gemm(qtest::gemm_args(s, a.data(), s.k, 3, b.data(), s.n, BLayout::kKxN, -2, c, ldc, e), {isa, threads});
      REQUIRE(std::memcmp(c, expect.data(), expect.size() * sizeof(TC)) == 0);
    }
}

TEST_CASE("cpu::gemm large int32 / float outputs (streaming stores) match the reference", "[cpu][gemm]") {
  CHECK_FALSE(qmath::cpu::detail::streams_output<std::int8_t>(GemmShape{4096, 4096, 1}, 4096));
  CHECK_FALSE(qmath::cpu::detail::streams_output<std::int32_t>(GemmShape{64, 4096, 1}, 4096));
  check_streamed_output<std::int32_t>(3);   // ldc 1024: rows 64-byte aligned
  check_streamed_output<std::int32_t>(0);   // ldc 1021: most chunks misaligned, plain stores
  check_streamed_output<float>(3);
}

// The vectorised epilogues against epilogue_scalar on their own, over inputs the GEMM tests rarely reach: accumulators
// over the whole int32 range (the compensation adds wrap), bias that saturates, zero points and clamps, tails of 1..15
// columns; fixed point: per-channel multipliers including 0, 1, 2^30 and 2^31 - 1, every shift in [-31, 30] (left
// shifts that saturate), both roundings; float: scales from 0 and 1e-9 to 1e30 and FLT_MAX (products that overflow to
// infinity), negative scales, and exact ties (scale 0.5).
template <class TC>
void check_epilogue_paths(std::mt19937& rng) {
  using qmath::cpu::detail::path_ops;
  const int cols = 45, rows = 3, ld = 48;
  std::uniform_int_distribution<std::int32_t> any(INT32_MIN, INT32_MAX), small(-3000000, 3000000);
  std::uniform_int_distribution<std::int32_t> mult_d(0, INT32_MAX), shift_d(-31, 30);
  const qmath::QuantRange t = qmath::full_range<TC>();
  std::uniform_real_distribution<float> log_scale(-12.0f, 2.0f);
  for (int trial = 0; trial < 800; ++trial) {
    const bool fixed = trial % 2 == 0;
    std::vector<std::int32_t> dot(std::size_t(rows) * ld), row_comp(rows), col_comp(cols), bias(cols), mult(cols),
        shift(cols);
    std::vector<float> scale(cols);
    const bool wide = (trial / 2) % 2 == 0;  // whole int32 range, or values that requantize into the output range
    for (auto& v : dot) v = wide ? any(rng) : small(rng);
    for (auto& v : row_comp) v = wide ? any(rng) : small(rng);
    for (auto& v : col_comp) v = wide ? any(rng) : small(rng);
    for (auto& v : bias) v = any(rng);
    for (int j = 0; j < cols; ++j) {
      const int pick = (trial + j) % 8;
      mult[j] = pick == 0 ? 0 : pick == 1 ? 1 : pick == 2 ? (1 << 30) : pick == 3 ? INT32_MAX : mult_d(rng);
      shift[j] = j % 4 == 0 ? shift_d(rng) : std::uniform_int_distribution<std::int32_t>(-20, 2)(rng);
      const int spick = (trial / 2 + j) % 9;
      scale[j] = spick == 0   ? 0.0f
                 : spick == 1 ? 1e30f
                 : spick == 2 ? std::numeric_limits<float>::max()
                 : spick == 3 ? -0.37f
                 : spick == 4 ? 0.5f
                 : spick == 5 ? 1e-9f
                              : std::pow(10.0f, log_scale(rng));
    }
    qtest::EpilogueFields e;
    e.scaling = fixed ? Scaling::kFixedPointMultiplier : Scaling::kFloatMultiplier;
    e.float_multiplier = scale.data();
    e.per_channel = trial % 3 != 0;
    e.fixed_point_multiplier = mult.data();
    e.shift = shift.data();
    e.rounding = (trial / 4) % 2 == 0 ? qmath::FixedPointRounding::kDoubleRounding : qmath::FixedPointRounding::kSingleRounding;
    e.bias = trial % 5 == 0 ? nullptr : bias.data();
    std::uniform_int_distribution<std::int32_t> zp_d(t.qmin, t.qmax);
    e.output_zero_point = trial % 7 == 0 ? 0 : zp_d(rng);
    if ((trial / 2) % 3 == 1) {
      e.clamp_min = std::min(e.output_zero_point, t.qmax - 3);
      e.clamp_max = std::is_same<TC, std::int32_t>::value ? INT32_MAX : t.qmax - 3;
    }
    qmath::validate_epilogue<TC>(e, cols);
    const int n0 = 0, width = 1 + (trial / 2) % cols;  // 1 .. 45 columns: full vectors and every tail
    std::vector<TC> expect(std::size_t(rows) * ld, TC(7));
    qmath::cpu::detail::epilogue_scalar<TC>(e, dot.data(), ld, row_comp.data(), rows, col_comp.data(), n0, width,
                                            expect.data(), ld);
    for (Isa isa : runnable_paths()) {
      std::vector<TC> got(std::size_t(rows) * ld, TC(7));
      path_ops<std::int8_t, TC>(isa, false).epilogue(e, dot.data(), ld, row_comp.data(), rows, col_comp.data(), n0,
                                                     width, got.data(), ld);
      INFO("path " << qmath::isa_name(isa) << " trial " << trial << " width " << width);
      REQUIRE(same_bits(got, expect));
    }
  }
}

TEST_CASE("cpu::gemm vectorised fixed-point and float epilogues match the scalar one on extreme inputs",
          "[cpu][gemm]") {
  std::mt19937 rng(2024);
  check_epilogue_paths<std::int8_t>(rng);
  check_epilogue_paths<std::uint8_t>(rng);
  check_epilogue_paths<std::int32_t>(rng);
}

TEST_CASE("cpu::gemm paths and dispatch", "[cpu][gemm]") {
  CHECK(qmath::isa_available(Isa::kScalar));
  CHECK(qmath::isa_available(Isa::kAuto));
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm})
    if (!qmath::isa_available(isa))
      WARN("path " << qmath::isa_name(isa) << " is not runnable on this CPU/compiler: not tested here");
  const Isa best = qmath::cpu::resolved_isa_for_gemm();
  CHECK(qmath::isa_available(best));
  CHECK(best != Isa::kAuto);
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
  // The AVX-VNNI kernel is compiled into this binary even where the CPU cannot run it.
  CHECK(QMATH_CPU_HAS_AVXVNNI_TARGET == 1);
#endif
  // Asking for a path this CPU cannot run is an error, not a silent fallback.
  const GemmShape s{2, 2, 2};
  const std::int8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4};
  std::int32_t c[4] = {};
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm}) {
    if (!qmath::isa_available(isa))
      CHECK_THROWS_AS(qmath::cpu::gemm(qtest::gemm_args(s, a, 2, 0, b, 2, BLayout::kKxN, 0, c, 2, Epilogue{}), {isa, 1}), qmath::error);
  }
}

TEST_CASE("cpu::gemm rejects bad input and writes nothing", "[cpu][gemm]") {
  const GemmShape s{4, 5, 6};
  std::vector<std::int8_t> a(4 * 6, 1), b(6 * 5, 1);
  std::vector<std::int8_t> c(4 * 5, 42);
  const std::vector<std::int8_t> untouched = c;
  const auto packed = qmath::cpu::pack_b(qtest::b_view(6, 5, b.data(), 5, BLayout::kKxN), 0);
  qtest::EpilogueFields e;
  using qmath::cpu::gemm;
  auto one_shot = [&](GemmShape sh, const std::int8_t* pa, std::int64_t lda, const std::int8_t* pb, std::int64_t ldb,
                      BLayout layout, std::int8_t* pc, std::int64_t ldc,
                      qmath::cpu::GemmOptions opt = {}) { gemm(qtest::gemm_args(sh, pa, lda, 0, pb, ldb, layout, 0, pc, ldc, e), opt); };
  CHECK_THROWS_AS(one_shot(s, nullptr, 6, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, nullptr, 5, BLayout::kKxN, c.data(), 5), qmath::error);
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, b.data(), 5, BLayout::kKxN, nullptr, 5), qmath::error);
  CHECK_THROWS_AS(one_shot({0, 5, 6}, a.data(), 6, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);
  CHECK_THROWS_AS(one_shot({4, -1, 6}, a.data(), 6, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);
  CHECK_THROWS_AS(one_shot({4, 5, 0}, a.data(), 6, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);
  CHECK_THROWS_AS(one_shot(s, a.data(), 5, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);  // lda < K
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, b.data(), 4, BLayout::kKxN, c.data(), 5), qmath::error);  // ldb < N
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, b.data(), 5, BLayout::kNxK, c.data(), 5), qmath::error);  // ldb < K
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, b.data(), 5, BLayout::kKxN, c.data(), 4), qmath::error);  // ldc < N
  CHECK_THROWS_AS(one_shot(s, a.data(), 6, b.data(), 5, BLayout::kKxN, c.data(), 5, {Isa::kAuto, 0}), qmath::error);
  CHECK_THROWS_AS(gemm(qtest::gemm_args(s, a.data(), 6, 200, b.data(), 5, BLayout::kKxN, 0, c.data(), 5, e)), qmath::error);  // za
  // K beyond the int32-safe bound (the check fires before any operand is read).
  const int k_big = static_cast<int>(qmath::max_k_for_int32<std::int8_t, std::int8_t>()) + 1;
  CHECK_THROWS_AS(one_shot({4, 5, k_big}, a.data(), k_big, b.data(), 5, BLayout::kKxN, c.data(), 5), qmath::error);
  const int k_u8 = static_cast<int>(qmath::max_k_for_int32<std::uint8_t, std::int8_t>()) + 1;  // 65794
  std::vector<std::uint8_t> au(std::size_t(k_u8), 1);
  std::vector<std::int8_t> bk(std::size_t(k_u8), 1);
  CHECK_THROWS_AS(gemm(qtest::gemm_args(GemmShape{1, 1, k_u8}, au.data(), k_u8, 0, bk.data(), 1, BLayout::kKxN, 0, c.data(), 1, e)),
                  qmath::error);
  // Packed B used with another K or N, or never packed.
  CHECK_THROWS_AS(gemm(qtest::packed_args(GemmShape{4, 5, 7}, a.data(), 7, 0, packed, c.data(), 5, e)), qmath::error);
  CHECK_THROWS_AS(gemm(qtest::packed_args(GemmShape{4, 4, 6}, a.data(), 6, 0, packed, c.data(), 5, e)), qmath::error);
  CHECK_THROWS_AS(gemm(qtest::packed_args(s, a.data(), 6, 0, qmath::cpu::PackedB<std::int8_t>{}, c.data(), 5, e)), qmath::error);
  // What the CPU kernels cannot take: a column-major A or C, a null PackedB.
  CHECK_THROWS_WITH(gemm(qmath::GemmArgs{qmath::col_major(a.data(), 4, 6), qtest::b_view(6, 5, b.data(), 5, BLayout::kKxN),
                                         qmath::row_major(c.data(), 4, 5)}),
                    "qmath::cpu::gemm: a must be row-major");
  CHECK_THROWS_WITH(gemm(qmath::GemmArgs{qmath::row_major(a.data(), 4, 6), qtest::b_view(6, 5, b.data(), 5, BLayout::kKxN),
                                         qmath::col_major(c.data(), 4, 5)}),
                    "qmath::cpu::gemm: c must be row-major");
  CHECK_THROWS_WITH(gemm(qmath::cpu::PackedGemmArgs<std::int8_t, std::int8_t, std::int8_t>{
                        qmath::row_major(a.data(), 4, 6), nullptr, qmath::row_major(c.data(), 4, 5)}),
                    "qmath::cpu::gemm: b (the PackedB) is null");
  // A bad epilogue.
  const float nan_scale = std::nanf("");
  qtest::EpilogueFields bad;
  bad.scaling = Scaling::kFloatMultiplier;
  bad.float_multiplier = &nan_scale;
  CHECK_THROWS_AS(gemm(qtest::packed_args(s, a.data(), 6, 0, packed, c.data(), 5, bad)), qmath::error);
  CHECK(c == untouched);
  // pack_b's own checks.
  CHECK_THROWS_AS(qmath::cpu::pack_b(qtest::b_view(0, 5, b.data(), 5, BLayout::kKxN), 0), qmath::error);
  CHECK_THROWS_AS(qmath::cpu::pack_b(qtest::b_view(6, 5, static_cast<const std::int8_t*>(nullptr), 5, BLayout::kKxN), 0),
                  qmath::error);
  CHECK_THROWS_AS(qmath::cpu::pack_b(qtest::b_view(6, 5, b.data(), 4, BLayout::kKxN), 0), qmath::error);
  CHECK_THROWS_AS(qmath::cpu::pack_b(qtest::b_view(6, 5, b.data(), 5, BLayout::kKxN), 128), qmath::error);
  // The message names the problem.
  try {
    gemm(qtest::packed_args(GemmShape{4, 5, 7}, a.data(), 7, 0, packed, c.data(), 5, e));
    FAIL("no throw");
  } catch (const qmath::error& err) {
    CHECK(std::string(err.what()).find("packed for K=6 N=5") != std::string::npos);
  }
}

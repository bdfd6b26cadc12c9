// Tests for qmath/gemm_reference.hpp: the reference GEMM against a naive int64 triple loop (random shapes including
// 1 and non-multiples of 4/8/16, both B layouts, s8s8/u8s8/u8u8/s8u8, zero points, padded leading dimensions, every
// epilogue), the int32 accumulator bound and the wrapping zero-point expansion, ONNX MatMulInteger / QLinearMatMul
// worked examples, and the error policy (C untouched when it throws).
#include <qmath/gemm_reference.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include "epilogue_fields.hpp"
#include "gemm_args_support.hpp"
#include "core_reference.hpp"

using Catch::Contains;
using qtest::BLayout;
using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Scaling;

namespace {

template <class T>
std::vector<T> random_matrix(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Naive int64 accumulator: sum_k (A[m][k] - za) * (B[k][n] - zb).
template <class TA, class TB>
std::int64_t naive_acc(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za, const TB* b, std::int64_t ldb,
                       BLayout layout, std::int32_t zb, int m, int n) {
  std::int64_t acc = 0;
  for (int k = 0; k < s.k; ++k) {
    const std::int64_t bv = layout == BLayout::kKxN ? b[k * ldb + n] : b[n * ldb + k];
    acc += (std::int64_t(a[m * lda + k]) - za) * (bv - zb);
  }
  return acc;
}

// An epilogue plus the arrays it points to.
struct EpilogueSpec {
  qtest::EpilogueFields e;
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
  const char* name = "";
};

// Every epilogue kind for output type TC and n columns; multipliers put typical accumulators of depth k into the
// output range (and some beyond it, to exercise saturation).
template <class TC>
std::vector<EpilogueSpec> epilogues(int n, int k) {
  std::vector<EpilogueSpec> out;
  const double base = 1.0 / (std::sqrt(double(k)) * 200.0);
  auto add = [&](const char* name, Scaling mode, bool per_channel, bool bias, qmath::FixedPointRounding r,
                 std::int32_t zp, qmath::QuantRange clamp) {
    EpilogueSpec s;
    s.name = name;
    const int count = per_channel ? n : 1;
    for (int i = 0; i < count; ++i) {
      const double real = base * (0.5 + 0.37 * i);
      s.scale.push_back(static_cast<float>(real));
      const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(real);
      s.multiplier.push_back(qm.multiplier);
      s.shift.push_back(qm.shift);
    }
    for (int i = 0; i < n; ++i) s.bias.push_back((i * 7919) % 4001 - 2000);
    s.e.scaling = mode;
    s.e.per_channel = per_channel;
    s.e.bias = bias ? s.bias.data() : nullptr;
    s.e.float_multiplier = s.scale.data();
    s.e.fixed_point_multiplier = s.multiplier.data();
    s.e.shift = s.shift.data();
    s.e.rounding = r;
    s.e.output_zero_point = zp;
    s.e.clamp_min = clamp.qmin;
    s.e.clamp_max = clamp.qmax;
    out.push_back(std::move(s));
  };
  using R = qmath::FixedPointRounding;
  const qmath::QuantRange open{INT32_MIN, INT32_MAX};
  if constexpr (std::is_same<TC, float>::value) {
    add("float: raw", Scaling::kNone, false, false, R::kDoubleRounding, 0, open);
    add("float: per-tensor scale", Scaling::kFloatMultiplier, false, false, R::kDoubleRounding, 0, open);
    add("float: per-channel scale + bias + ReLU", Scaling::kFloatMultiplier, true, true, R::kDoubleRounding, 0, open);
    out.back().e.float_clamp_min = 0.0f;
  } else if constexpr (std::is_same<TC, std::int32_t>::value) {
    add("int32: raw", Scaling::kNone, false, false, R::kDoubleRounding, 0, open);
    add("int32: bias", Scaling::kNone, false, true, R::kDoubleRounding, 0, open);
    add("int32: per-channel fixed point", Scaling::kFixedPointMultiplier, true, true, R::kSingleRounding, 0, open);
    add("int32: float scale", Scaling::kFloatMultiplier, false, true, R::kDoubleRounding, 0, open);
  } else {
    const std::int32_t zp = std::is_same<TC, std::uint8_t>::value ? 131 : -7;
    const qmath::QuantParams outp{1.0f / 16, zp};
    const qmath::QuantRange full = qmath::full_range<TC>();
    add("int8: raw clamp", Scaling::kNone, false, false, R::kDoubleRounding, 0, open);
    add("int8: per-tensor float", Scaling::kFloatMultiplier, false, false, R::kDoubleRounding, zp, open);
    add("int8: per-channel float + bias", Scaling::kFloatMultiplier, true, true, R::kDoubleRounding, zp, open);
    add("int8: per-tensor fixed double", Scaling::kFixedPointMultiplier, false, true, R::kDoubleRounding, zp, open);
    add("int8: per-channel fixed single", Scaling::kFixedPointMultiplier, true, false, R::kSingleRounding, zp, open);
    add("int8: per-channel fixed double + ReLU", Scaling::kFixedPointMultiplier, true, true, R::kDoubleRounding, zp,
        qmath::activation_clamp(0.0f, std::numeric_limits<float>::infinity(), outp, full));
    add("int8: per-channel float + ReLU6", Scaling::kFloatMultiplier, true, true, R::kDoubleRounding, zp,
        qmath::activation_clamp(0.0f, 6.0f, outp, full));
  }
  return out;
}

template <class T>
bool same(T a, T b) {
  if constexpr (std::is_same<T, float>::value) return qref::float_bits(a) == qref::float_bits(b);
  else return a == b;
}

// Runs one GEMM and compares every output with naive int64 accumulation + the independent epilogue; also checks
// that the padding columns of C (ldc > N) are untouched. Returns the number of mismatches.
template <class TA, class TB, class TC>
std::int64_t run_case(GemmShape s, BLayout layout, std::int32_t za, std::int32_t zb, int pad, std::mt19937& rng) {
  const std::int64_t lda = s.k + pad, ldc = s.n + pad;
  const std::int64_t ldb = (layout == BLayout::kKxN ? s.n : s.k) + pad;
  const std::vector<TA> a = random_matrix<TA>(std::size_t(s.m) * lda, rng);
  const std::vector<TB> b = random_matrix<TB>(std::size_t(layout == BLayout::kKxN ? s.k : s.n) * ldb, rng);
  std::int64_t bad = 0;
  for (EpilogueSpec& spec : epilogues<TC>(s.n, s.k)) {
    std::vector<TC> c(std::size_t(s.m) * ldc, TC(99));
    qmath::gemm_reference(qtest::gemm_args(s, a.data(), lda, za, b.data(), ldb, layout, zb, c.data(), ldc, spec.e));
    for (int m = 0; m < s.m; ++m) {
      for (int n = 0; n < s.n; ++n) {
        const std::int64_t acc = naive_acc(s, a.data(), lda, za, b.data(), ldb, layout, zb, m, n);
        if (acc < INT32_MIN || acc > INT32_MAX) return 1000000;  // cannot happen below max_k_for_int32
        const TC want = qref::epilogue<TC>(spec.e, static_cast<std::int32_t>(acc), n);
        if (!same(c[m * ldc + n], want)) {
          if (bad < 3)
            UNSCOPED_INFO(spec.name << " M=" << s.m << " N=" << s.n << " K=" << s.k << " at (" << m << ", " << n
                                    << "): got " << +c[m * ldc + n] << ", want " << +want);
          ++bad;
        }
      }
      for (std::int64_t n = s.n; n < ldc; ++n) bad += !same(c[m * ldc + n], TC(99));
    }
  }
  return bad;
}

template <class TA, class TB>
std::int64_t run_all_outputs(GemmShape s, BLayout layout, std::int32_t za, std::int32_t zb, int pad,
                             std::mt19937& rng) {
  return run_case<TA, TB, std::int32_t>(s, layout, za, zb, pad, rng) +
         run_case<TA, TB, std::int8_t>(s, layout, za, zb, pad, rng) +
         run_case<TA, TB, std::uint8_t>(s, layout, za, zb, pad, rng) +
         run_case<TA, TB, float>(s, layout, za, zb, pad, rng);
}

template <class T>
std::vector<std::int32_t> zero_points() {
  if (std::is_same<T, std::int8_t>::value) return {0, -128, 127, -3};
  return {0, 128, 255, 3};
}

}  // namespace

TEMPLATE_TEST_CASE("gemm_reference equals a naive int64 triple loop + the epilogue", "[gemm]",
                   (std::pair<std::int8_t, std::int8_t>), (std::pair<std::uint8_t, std::int8_t>),
                   (std::pair<std::uint8_t, std::uint8_t>), (std::pair<std::int8_t, std::uint8_t>)) {
  using TA = typename TestType::first_type;
  using TB = typename TestType::second_type;
  std::mt19937 rng(2024);
  const BLayout layout = GENERATE(BLayout::kKxN, BLayout::kNxK);
  // Fixed shapes: ones, and non-multiples of 4, 8, 16 around vector widths; then random shapes.
  std::vector<GemmShape> shapes{{1, 1, 1},  {1, 1, 17}, {1, 13, 1},  {9, 1, 1},   {3, 5, 7},
                                {4, 8, 16}, {5, 9, 17}, {15, 31, 33}, {16, 16, 64}, {2, 3, 127}};
  std::uniform_int_distribution<int> dim(1, 40);
  for (int i = 0; i < 10; ++i) shapes.push_back({dim(rng), dim(rng), dim(rng)});
  const std::vector<std::int32_t> zas = zero_points<TA>(), zbs = zero_points<TB>();
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const std::int32_t za = zas[i % zas.size()], zb = zbs[(i / zas.size() + i) % zbs.size()];
    bad += run_all_outputs<TA, TB>(shapes[i], layout, za, zb, static_cast<int>(i % 3) * 5, rng);
  }
  CHECK(bad == 0);
}

TEST_CASE("gemm_reference on many random shapes (exhaustive-ish)", "[.slow][gemm]") {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> dim(1, 70), zpd(-128, 127), zpu(0, 255), padd(0, 9);
  std::int64_t bad = 0;
  for (int i = 0; i < 200; ++i) {
    const GemmShape s{dim(rng), dim(rng), dim(rng)};
    const BLayout layout = i % 2 ? BLayout::kKxN : BLayout::kNxK;
    bad += run_all_outputs<std::int8_t, std::int8_t>(s, layout, zpd(rng), zpd(rng), padd(rng), rng);
    bad += run_all_outputs<std::uint8_t, std::int8_t>(s, layout, zpu(rng), zpd(rng), padd(rng), rng);
    bad += run_all_outputs<std::uint8_t, std::uint8_t>(s, layout, zpu(rng), zpu(rng), padd(rng), rng);
    bad += run_all_outputs<std::int8_t, std::uint8_t>(s, layout, zpd(rng), zpu(rng), padd(rng), rng);
  }
  CHECK(bad == 0);
}

TEST_CASE("max_k_for_int32: the accumulator bound from the types and zero points", "[gemm]") {
  // floor((2^31 - 1) / (max|a - za| * max|b - zb|)), written out: 2147483647 / 16384 = 131071.99 -> 131071.
  STATIC_REQUIRE(qmath::max_k_for_int32<std::int8_t, std::int8_t>() == 131071);
  STATIC_REQUIRE(qmath::max_k_for_int32<std::uint8_t, std::int8_t>() == 65793);   // / (255 * 128 = 32640)
  STATIC_REQUIRE(qmath::max_k_for_int32<std::int8_t, std::uint8_t>() == 65793);
  STATIC_REQUIRE(qmath::max_k_for_int32<std::uint8_t, std::uint8_t>() == 33025);  // / (255 * 255 = 65025)
  STATIC_REQUIRE(qmath::max_k_for_int32<std::uint8_t, std::uint8_t>(128, 128) == 131071);  // |0 - 128| = 128
  STATIC_REQUIRE(qmath::max_k_for_int32<std::int8_t, std::int8_t>(-128, 127) == 33025);    // 255 * 255
  STATIC_REQUIRE(qmath::max_k_for_int32<std::uint8_t, std::int8_t>(127, 0) == 131071);     // max(127, 128) = 128
  STATIC_REQUIRE(qmath::max_k_for_int32(qmath::QuantRange{0, 0}, 0, qmath::full_range<std::int8_t>(), 0) ==
                 INT32_MAX);
}

TEST_CASE("gemm_reference at the largest K: exact, even where the wrapping expansion overflows", "[gemm]") {
  const Epilogue raw;
  std::int32_t c = 0;
  SECTION("s8s8, all -128, K = 131071: 16384 * 131071 = 2147467264") {
    const int k = 131071;
    const std::vector<std::int8_t> a(k, -128), b(k, -128);
    qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, k}, a.data(), k, 0, b.data(), 1, BLayout::kKxN, 0, &c, 1, raw));
    CHECK(c == 2147467264);
    qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, k}, a.data(), k, 0, b.data(), k, BLayout::kNxK, 0, &c, 1, raw));
    CHECK(c == 2147467264);
  }
  SECTION("u8s8, 255 x -128, K = 65793: -32640 * 65793 = -2147483520") {
    const int k = 65793;
    const std::vector<std::uint8_t> a(k, 255);
    const std::vector<std::int8_t> b(k, -128);
    qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, k}, a.data(), k, 0, b.data(), 1, BLayout::kKxN, 0, &c, 1, raw));
    CHECK(c == -2147483520);
  }
  SECTION("u8u8 with zero points 128, all 255, K = 131071: sum a*b wraps, the result 127*127*K = 2114044159 is "
          "exact") {
    const int k = 131071;
    const std::vector<std::uint8_t> a(k, 255), b(k, 255);
    // sum_k a*b = 65025 * 131071 = 8522891775 overflows int32 several times; the expansion is exact modulo 2^32.
    qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, k}, a.data(), k, 128, b.data(), k, BLayout::kNxK, 128, &c, 1, raw));
    CHECK(c == 2114044159);
    const std::vector<std::uint8_t> z(k, 0);  // (0 - 128)^2 * K = 2147467264
    qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, k}, z.data(), k, 128, z.data(), 1, BLayout::kKxN, 128, &c, 1, raw));
    CHECK(c == 2147467264);
  }
  SECTION("zero_point_correct is exact modulo 2^32") {
    // acc = sum_ab - zb * rowsum - za * colsum + K * za * zb, each term wrapped; compare with int64 modulo 2^32.
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::int32_t> any(INT32_MIN, INT32_MAX), zp(-128, 255), kd(1, 131071);
    for (int i = 0; i < 100000; ++i) {
      const std::int32_t sab = any(rng), rs = any(rng), cs = any(rng), za = zp(rng), zb = zp(rng);
      const int k = kd(rng);
      const std::int64_t exact = std::int64_t(sab) - std::int64_t(zb) * rs - std::int64_t(za) * cs +
                                 std::int64_t(k) * za * zb;
      const auto wrapped = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(exact)));
      if (qmath::detail::zero_point_correct(sab, rs, cs, za, zb, k) != wrapped) FAIL("mismatch at " << i);
    }
  }
}

TEST_CASE("ONNX MatMulInteger and QLinearMatMul worked examples", "[gemm][onnx]") {
  SECTION("MatMulInteger (operator docs example): uint8 A with a_zero_point 12, B with zero point 0") {
    // Row 0: (11-12)*1 + (7-12)*2 + (3-12)*3 = -38; (11-12)*4 + (7-12)*5 + (3-12)*6 = -83; each further row
    // subtracts 1 from every A entry: -6 and -15 per row.
    const std::uint8_t a[12] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0};
    const std::uint8_t b[6] = {1, 4, 2, 5, 3, 6};
    std::int32_t y[8];
    qmath::gemm_reference(qtest::gemm_args(GemmShape{4, 2, 3}, a, 3, 12, b, 2, BLayout::kKxN, 0, y, 2, Epilogue{}));
    const std::int32_t want[8] = {-38, -83, -44, -98, -50, -113, -56, -128};
    for (int i = 0; i < 8; ++i) CHECK(y[i] == want[i]);
  }
  SECTION("QLinearMatMul (operator docs example): uint8, float scales, half to even") {
    // a_scale 0.0066, a_zp 113; b_scale 0.00705, b_zp 114; y_scale 0.0107, y_zp 118. The multiplier as ONNX
    // Runtime forms it in float32: f32(f32(0.0066 * 0.00705) / 0.0107) = 0.00434859795 (0x3b8e7eaf). Accumulators
    // (by hand / python int arithmetic): [[11475, -778, 31402], [-26914, -11872, 7513]]; e.g. 11475 * M = 49.90
    // -> 50 + 118 = 168, 31402 * M = 136.6 -> 255 (saturated). Published output: [[168, 115, 255], [1, 66, 151]].
    const std::uint8_t a[8] = {208, 236, 0, 238, 3, 214, 255, 29};
    const std::uint8_t b[12] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
    const float multiplier = 0.0066f * 0.00705f / 0.0107f;
    REQUIRE(qref::float_bits(multiplier) == 0x3b8e7eafu);
    std::int32_t acc[6];
    qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a, 4, 113, b, 3, BLayout::kKxN, 114, acc, 3, Epilogue{}));
    const std::int32_t want_acc[6] = {11475, -778, 31402, -26914, -11872, 7513};
    for (int i = 0; i < 6; ++i) CHECK(acc[i] == want_acc[i]);
    qtest::EpilogueFields e;
    e.scaling = Scaling::kFloatMultiplier;
    e.float_multiplier = &multiplier;
    e.output_zero_point = 118;
    std::uint8_t y[6];
    qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a, 4, 113, b, 3, BLayout::kKxN, 114, y, 3, e));
    const std::uint8_t want[6] = {168, 115, 255, 1, 66, 151};
    for (int i = 0; i < 6; ++i) CHECK(+y[i] == +want[i]);
    // The same GEMM with B in the N x K ("TN") layout.
    std::uint8_t bt[12];
    for (int k = 0; k < 4; ++k)
      for (int n = 0; n < 3; ++n) bt[n * 4 + k] = b[k * 3 + n];
    std::uint8_t yt[6];
    qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a, 4, 113, bt, 4, BLayout::kNxK, 114, yt, 3, e));
    for (int i = 0; i < 6; ++i) CHECK(+yt[i] == +want[i]);
  }
}

TEST_CASE("gemm_reference: error policy, and C is untouched when it throws", "[gemm][errors]") {
  std::vector<std::int8_t> a(131072 * 2, 1), b(131072 * 2, 1);
  std::vector<std::uint8_t> au(65794, 1);
  std::vector<std::int32_t> c(64, 12345);
  std::vector<std::int8_t> c8(64, 77);
  const Epilogue raw;
  auto untouched = [&] {
    for (std::int32_t v : c)
      if (v != 12345) return false;
    for (std::int8_t v : c8)
      if (v != 77) return false;
    return true;
  };
  // Int8 operands with a bad K, size, pointer, leading dimension or zero point, and the message each throws: all of
  // it (exact) or the part quoted (contains). K beyond the int32 bound: the message says why, and the bound; zero
  // points move the bound (s8s8 with za = -128, zb = 127 allows 33025).
  struct BadCall {
    GemmShape s;
    const std::int8_t* a;
    std::int64_t lda;
    std::int32_t za;
    const std::int8_t* b;
    std::int64_t ldb;
    BLayout layout;
    std::int32_t zb;
    std::int32_t* c;
    std::int64_t ldc;
    bool exact;
    const char* message;
  };
  const BLayout kn = BLayout::kKxN, nk = BLayout::kNxK;
  const std::int8_t* const no_i8 = nullptr;
  std::int32_t* const no_i32 = nullptr;
  const BadCall bad_calls[] = {
      {{1, 1, 131072}, a.data(), 131072, 0, b.data(), 1, kn, 0, c.data(), 1, true,
       "qmath::gemm_reference: K = 131072 can overflow the int32 accumulator: at most 131071 for these operand types "
       "and zero points"},
      {{1, 1, 33026}, a.data(), 33026, -128, b.data(), 1, kn, 127, c.data(), 1, false, "at most 33025"},
      {{0, 2, 2}, a.data(), 2, 0, b.data(), 2, kn, 0, c.data(), 2, true,
       "qmath::gemm_reference: a must have positive extents, got 0 x 2"},
      {{2, 0, 2}, a.data(), 2, 0, b.data(), 2, kn, 0, c.data(), 2, false, "b must have positive extents, got 2 x 0"},
      {{2, 2, 0}, a.data(), 2, 0, b.data(), 2, kn, 0, c.data(), 2, false, "b must have positive extents, got 0 x 2"},
      {{2, 2, 2}, no_i8, 2, 0, b.data(), 2, kn, 0, c.data(), 2, true, "qmath::gemm_reference: a.data is null"},
      {{2, 2, 2}, a.data(), 2, 0, no_i8, 2, kn, 0, c.data(), 2, false, "b.data is null"},
      {{2, 2, 2}, a.data(), 2, 0, b.data(), 2, kn, 0, no_i32, 2, false, "c.data is null"},
      {{2, 3, 4}, a.data(), 3, 0, b.data(), 3, kn, 0, c.data(), 3, true,
       "qmath::gemm_reference: a.stride (3) < its columns (4)"},
      {{2, 3, 4}, a.data(), 4, 0, b.data(), 2, kn, 0, c.data(), 3, true,
       "qmath::gemm_reference: b.stride (2) < its columns (3)"},
      {{2, 3, 4}, a.data(), 4, 0, b.data(), 3, nk, 0, c.data(), 3, true,
       "qmath::gemm_reference: b.stride (3) < its rows (4)"},
      {{2, 3, 4}, a.data(), 4, 0, b.data(), 3, kn, 0, c.data(), 2, true,
       "qmath::gemm_reference: c.stride (2) < its columns (3)"},
      {{2, 3, 4}, a.data(), 4, 128, b.data(), 3, kn, 0, c.data(), 3, true,
       "qmath::gemm_reference: a_zero_point 128 outside A's type range [-128, 127]"},
  };
  for (const BadCall& t : bad_calls) {
    INFO(t.message);
    const auto call = [&] {
      qmath::gemm_reference(qtest::gemm_args(t.s, t.a, t.lda, t.za, t.b, t.ldb, t.layout, t.zb, t.c, t.ldc, raw));
    };
    CHECK_THROWS_AS(call(), qmath::error);
    if (t.exact) {
      CHECK_THROWS_WITH(call(), t.message);
    } else {
      CHECK_THROWS_WITH(call(), Contains(t.message));
    }
  }
  // uint8 B: its own K bound and zero-point range.
  CHECK_THROWS_WITH(qmath::gemm_reference(qtest::gemm_args(GemmShape{1, 1, 65794}, au.data(), 65794, 0, b.data(), 65794, BLayout::kNxK,
                                          0, c.data(), 1, raw)),
                    Contains("overflow") && Contains("at most 65793"));
  CHECK_THROWS_WITH(qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a.data(), 4, 0, au.data(), 3, BLayout::kKxN, -1,
                                          c.data(), 3, raw)),
                    "qmath::gemm_reference: b_zero_point -1 outside B's type range [0, 255]");
  // a bad epilogue (checked before anything is written).
  const float one = 1.0f;
  qtest::EpilogueFields bad_zp;
  bad_zp.scaling = Scaling::kFloatMultiplier;
  bad_zp.float_multiplier = &one;
  bad_zp.output_zero_point = 300;
  CHECK_THROWS_WITH(qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a.data(), 4, 0, b.data(), 3, BLayout::kKxN, 0,
                                          c8.data(), 3, bad_zp)),
                    Contains("validate_epilogue: output zero point 300"));
  qtest::EpilogueFields no_scale;
  no_scale.scaling = Scaling::kFloatMultiplier;
  CHECK_THROWS_WITH(qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a.data(), 4, 0, b.data(), 3, BLayout::kKxN, 0,
                                          c8.data(), 3, no_scale)),
                    "qmath::Epilogue::float_multiplier: null multiplier array");
  const std::int32_t mult = 1 << 30, shift = 0;
  qtest::EpilogueFields fixed_float;
  fixed_float.scaling = Scaling::kFixedPointMultiplier;
  fixed_float.fixed_point_multiplier = &mult;
  fixed_float.shift = &shift;
  std::vector<float> cf(8, 5.0f);
  CHECK_THROWS_WITH(qmath::gemm_reference(qtest::gemm_args(GemmShape{2, 3, 4}, a.data(), 4, 0, b.data(), 3, BLayout::kKxN, 0,
                                          cf.data(), 3, fixed_float)),
                    Contains("a float output takes no fixed-point multiplier"));
  CHECK(untouched());
  for (float v : cf) CHECK(v == 5.0f);
}

// tests/lanes_test.cpp - every lane primitive (qmath/detail/lanes*.hpp) on every backend this machine runs, lane by
// lane against the scalar definitions (lanes_scalar.hpp), bit for bit, over systematic values: +-2^i +-{0, 1, 2},
// the neighbourhood of INT32_MIN and INT32_MAX, every shift exponent, exact ties, +-0, infinities, products that
// overflow to infinity or fall to subnormals, saturating narrowing of every int32 neighbourhood, clamps of NaN and
// infinities, all-lanes mask tests with each lane failing alone. Backends: scalar always; AVX2 and AVX-512 where the CPU has them
// (those the CPU lacks are reported, not run); NEON when built for AArch64 (e.g. under qemu-aarch64).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx2.hpp>
#include <qmath/detail/lanes_avx512.hpp>
#include <qmath/detail/lanes_neon.hpp>
#include <qmath/detail/lanes_scalar.hpp>
#include <qmath/isa.hpp>

namespace {

enum class BinaryI32 { kAdd, kSub, kAddSaturate, kMin, kMax, kSrdhm, kRoundingDivideByPot, kShiftLeftSaturate };
enum class BinaryF32 {
  kMul, kMin, kMax, kSelectLess, kSelectGreater, kSelectLessOrEqual, kSelectBetween, kAbs, kSelectZero
};
enum class ArithF32 { kAdd, kSub, kDiv, kTrunc };

// The array-level entry points of one backend (tests/lanes_test-inl.hpp).
struct Backend {
  const char* name;
  int lanes;
  void (*binary_i32)(BinaryI32, const std::int32_t*, const std::int32_t*, std::int32_t*, int);
  void (*mul_round_shift)(const std::int32_t*, const std::int32_t*, const std::int32_t*, std::int32_t*, int);
  void (*to_f32)(const std::int32_t*, float*, int);
  void (*trunc)(const float*, std::int32_t*, int);
  void (*round_even)(const float*, float*, int);
  void (*binary_f32)(BinaryF32, const float*, const float*, float*, int);
  void (*decrement_where_less)(const std::int32_t*, const float*, const float*, std::int32_t*, int);
  void (*add_saturate_integral)(const float*, std::int32_t, std::int32_t, std::int32_t, std::int32_t*, int);
  void (*narrow_i8)(const std::int32_t*, std::int8_t*, int);
  void (*narrow_u8)(const std::int32_t*, std::uint8_t*, int);
  void (*splat_stream)(const std::int32_t*, std::int32_t, const float*, float, std::int32_t*, float*, int);
  void (*arith_f32)(ArithF32, const float*, const float*, float*, int);
  void (*widen_i8)(const std::int8_t*, std::int32_t*, int);
  void (*widen_u8)(const std::uint8_t*, std::int32_t*, int);
  void (*narrow4_i8)(const std::int32_t*, std::int8_t*, int);
  void (*narrow4_u8)(const std::int32_t*, std::uint8_t*, int);
  void (*clamp)(const float*, float, float, float*, int);
  void (*all_less)(const float*, const float*, bool*, int);
  void (*all_less_i32)(const std::int32_t*, const std::int32_t*, bool*, int);
  void (*bits)(const float*, std::int32_t*, int);
};

}  // namespace

namespace lanes_test_scalar {
using namespace qmath::detail::lanes_scalar;
constexpr const char* kName = "scalar";
#include "lanes_test-inl.hpp"
}  // namespace lanes_test_scalar

#if QMATH_CPU_X86
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
namespace lanes_test_avx2 {
using namespace qmath::detail::lanes_avx2;
constexpr const char* kName = "avx2";
#include "lanes_test-inl.hpp"
}  // namespace lanes_test_avx2
QMATH_LANES_POP_TARGET()

QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX512_FEATURES)
namespace lanes_test_avx512 {
using namespace qmath::detail::lanes_avx512;
constexpr const char* kName = "avx512";
#include "lanes_test-inl.hpp"
}  // namespace lanes_test_avx512
QMATH_LANES_POP_TARGET()
#endif

#if QMATH_LANES_NEON
namespace lanes_test_neon {
using namespace qmath::detail::lanes_neon;
constexpr const char* kName = "neon";
#include "lanes_test-inl.hpp"
}  // namespace lanes_test_neon
#endif

namespace {

// The vector backends this machine runs (the scalar one is the reference).
std::vector<Backend> vector_backends() {
  std::vector<Backend> b;
#if QMATH_CPU_X86
  if (qmath::isa_available(qmath::Isa::kAvx2))
    b.push_back(lanes_test_avx2::backend());
  else
    WARN("AVX2 lane backend not runnable on this CPU: not tested here");
  if (qmath::isa_available(qmath::Isa::kAvx512))
    b.push_back(lanes_test_avx512::backend());
  else
    WARN("AVX-512 lane backend not runnable on this CPU: not tested here");
#endif
#if QMATH_LANES_NEON
  b.push_back(lanes_test_neon::backend());
#endif
  return b;
}

constexpr int kPad = 16;  // every array is padded to a multiple of the widest backend

// +-(2^i + d) for i in [0, 31], d in [-2, 2], inside int32, and the neighbourhoods of 0, INT32_MIN and INT32_MAX.
std::vector<std::int32_t> systematic_i32() {
  std::vector<std::int32_t> v = {0, INT32_MIN, INT32_MIN + 1, INT32_MIN + 2, INT32_MAX, INT32_MAX - 1, INT32_MAX - 2};
  for (int i = 0; i <= 31; ++i)
    for (int d = -2; d <= 2; ++d)
      for (int sign : {1, -1}) {
        const std::int64_t x = sign * ((std::int64_t(1) << i) + d);
        if (x >= INT32_MIN && x <= INT32_MAX) v.push_back(static_cast<std::int32_t>(x));
      }
  return v;
}

// Floats: +-2^i +-{0, 1, 0.5, 1.5} where representable and below 2^31, exact ties, +-0, the largest float below 2^31.
std::vector<float> systematic_f32_in_int32() {
  std::vector<float> v = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                          2147483520.0f, -2147483520.0f, 8388607.5f, -8388607.5f, 1e-30f, -1e-30f};
  for (int i = 0; i <= 30; ++i)
    for (float d : {0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, -1.5f})
      for (float sign : {1.0f, -1.0f}) v.push_back(sign * (std::ldexp(1.0f, i) + d));
  return v;
}

template <class T>
void pad(std::vector<T>& v) {
  while (v.size() % kPad != 0) v.push_back(v.front());
}

template <class T>
bool same_bits(const T& x, const T& y) {
  return std::memcmp(&x, &y, sizeof(T)) == 0;
}

// Index of the first element whose bits differ, or -1.
template <class T>
long first_difference(const std::vector<T>& got, const std::vector<T>& expect) {
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!same_bits(got[i], expect[i])) return static_cast<long>(i);
  return -1;
}

const char* name(BinaryI32 op) {
  const char* names[] = {"add", "sub", "add_saturate", "min", "max", "srdhm", "rounding_divide_by_pot",
                         "shift_left_saturate"};
  return names[static_cast<int>(op)];
}
const char* name(BinaryF32 op) {
  const char* names[] = {"mul",    "min",           "max", "select(lt)", "select(gt)", "select(lt or eq)",
                         "select(gt and lt)", "abs", "select_zero(lt)"};
  return names[static_cast<int>(op)];
}

// all_mf of a per-lane compare (`all`, a Backend member) on every vector backend against the conjunction of the
// scalar backend's lanes (with one lane, the scalar all_mf is the lane's compare); some vectors must fail.
template <class V>
void expect_all_mf_matches_lanes(const std::vector<V>& a, const std::vector<V>& b,
                                 void (*Backend::*all)(const V*, const V*, bool*, int), const char* what) {
  const Backend ref = lanes_test_scalar::backend();
  std::unique_ptr<bool[]> lane(new bool[a.size()]);
  (ref.*all)(a.data(), b.data(), lane.get(), int(a.size()));
  for (const Backend& be : vector_backends()) {
    const std::size_t vectors = a.size() / static_cast<std::size_t>(be.lanes);
    std::unique_ptr<bool[]> got(new bool[vectors]);
    (be.*all)(a.data(), b.data(), got.get(), int(a.size()));
    std::size_t wrong = 0, failing = 0, passing = 0;
    for (std::size_t g = 0; g < vectors; ++g) {
      bool expect = true;
      for (int l = 0; l < be.lanes; ++l) expect = expect && lane[g * static_cast<std::size_t>(be.lanes) + l];
      failing += !expect;
      passing += expect;
      wrong += got[g] != expect;
    }
    INFO(be.name << " " << what << ": " << wrong << " wrong vectors of " << vectors);
    CHECK(wrong == 0);
    CHECK(failing > 0);
    CHECK(passing > 0);
  }
}

}  // namespace

TEST_CASE("lane primitives: int32 arithmetic, saturation and fixed point", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  const std::vector<std::int32_t> values = systematic_i32();
  // Every pair of systematic values.
  std::vector<std::int32_t> a, b;
  for (std::int32_t x : values)
    for (std::int32_t y : values) a.push_back(x), b.push_back(y);
  pad(a);
  pad(b);
  // Every value with every exponent / left shift in [0, 31].
  std::vector<std::int32_t> xs, es;
  for (std::int32_t x : values)
    for (int e = 0; e <= 31; ++e) xs.push_back(x), es.push_back(e);
  pad(xs);
  pad(es);
  for (const Backend& be : vector_backends())
    for (BinaryI32 op : {BinaryI32::kAdd, BinaryI32::kSub, BinaryI32::kAddSaturate, BinaryI32::kMin, BinaryI32::kMax,
                         BinaryI32::kSrdhm, BinaryI32::kRoundingDivideByPot, BinaryI32::kShiftLeftSaturate}) {
      const bool shift = op == BinaryI32::kRoundingDivideByPot || op == BinaryI32::kShiftLeftSaturate;
      const std::vector<std::int32_t>& x = shift ? xs : a;
      const std::vector<std::int32_t>& y = shift ? es : b;
      std::vector<std::int32_t> expect(x.size()), got(x.size());
      ref.binary_i32(op, x.data(), y.data(), expect.data(), int(x.size()));
      be.binary_i32(op, x.data(), y.data(), got.data(), int(x.size()));
      const long i = first_difference(got, expect);
      INFO(be.name << " " << name(op) << " at " << i << ": (" << (i < 0 ? 0 : x[i]) << ", " << (i < 0 ? 0 : y[i])
                   << ") gives " << (i < 0 ? 0 : got[i]) << ", expected " << (i < 0 ? 0 : expect[i]));
      CHECK(i == -1);
    }
}

TEST_CASE("lane primitives: single-rounding multiply and shift over every shift", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  const std::vector<std::int32_t> values = systematic_i32();
  std::vector<std::int32_t> x, m, t;
  for (std::size_t i = 0; i < values.size(); ++i)
    for (std::size_t j = i % 3; j < values.size(); j += 3)  // a third of the multipliers, a different third per x
      for (int s = 1; s <= 62; ++s) x.push_back(values[i]), m.push_back(values[j]), t.push_back(s);
  pad(x);
  pad(m);
  pad(t);
  std::vector<std::int32_t> expect(x.size()), got(x.size());
  ref.mul_round_shift(x.data(), m.data(), t.data(), expect.data(), int(x.size()));
  for (const Backend& be : vector_backends()) {
    be.mul_round_shift(x.data(), m.data(), t.data(), got.data(), int(x.size()));
    const long i = first_difference(got, expect);
    INFO(be.name << " mul_round_shift at " << i << ": (" << (i < 0 ? 0 : x[i]) << ", " << (i < 0 ? 0 : m[i]) << ", "
                 << (i < 0 ? 0 : t[i]) << ") gives " << (i < 0 ? 0 : got[i]) << ", expected "
                 << (i < 0 ? 0 : expect[i]));
    CHECK(i == -1);
  }
}

TEST_CASE("lane primitives: conversions and rounding", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<std::int32_t> ints = systematic_i32();
  for (std::int32_t v = -300; v <= 300; ++v) ints.push_back(v);
  pad(ints);
  std::vector<float> in_range = systematic_f32_in_int32();
  pad(in_range);
  std::vector<float> any = in_range;
  for (float f : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 1e30f, -1e30f,
                  std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::denorm_min(), 4294967296.0f, -2147483648.0f})
    any.push_back(f);
  pad(any);
  for (const Backend& be : vector_backends()) {
    INFO("backend " << be.name);
    std::vector<float> fe(ints.size()), fg(ints.size());
    ref.to_f32(ints.data(), fe.data(), int(ints.size()));
    be.to_f32(ints.data(), fg.data(), int(ints.size()));
    CHECK(first_difference(fg, fe) == -1);
    std::vector<std::int32_t> ie(in_range.size()), ig(in_range.size());
    ref.trunc(in_range.data(), ie.data(), int(in_range.size()));
    be.trunc(in_range.data(), ig.data(), int(in_range.size()));
    CHECK(first_difference(ig, ie) == -1);
    std::vector<float> re(any.size()), rg(any.size());
    ref.round_even(any.data(), re.data(), int(any.size()));
    be.round_even(any.data(), rg.data(), int(any.size()));
    const long i = first_difference(rg, re);
    INFO("round_even at " << i << ": " << (i < 0 ? 0.0f : any[i]) << " gives " << (i < 0 ? 0.0f : rg[i]));
    CHECK(i == -1);
    // The bytes of every int8 and uint8 value.
    std::vector<std::int32_t> s8, u8;
    for (int v = -128; v <= 127; ++v) s8.push_back(v);
    for (int v = 0; v <= 255; ++v) u8.push_back(v);
    std::vector<std::int8_t> s8e(s8.size()), s8g(s8.size());
    std::vector<std::uint8_t> u8e(u8.size()), u8g(u8.size());
    ref.narrow_i8(s8.data(), s8e.data(), int(s8.size()));
    be.narrow_i8(s8.data(), s8g.data(), int(s8.size()));
    ref.narrow_u8(u8.data(), u8e.data(), int(u8.size()));
    be.narrow_u8(u8.data(), u8g.data(), int(u8.size()));
    CHECK(s8g == s8e);
    CHECK(u8g == u8e);
  }
}

TEST_CASE("lane primitives: float products, min / max and compare-select", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<float> values = systematic_f32_in_int32();
  for (float f : {1e30f, -1e30f, std::numeric_limits<float>::max(), 1e-38f, -3e-39f, 0.37f, -0.37f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    values.push_back(f);
  std::vector<float> a, b;
  for (float x : values)
    for (float y : values) {
      // inf * 0 is NaN, for which no primitive promises bits
      if ((std::isinf(x) && y == 0.0f) || (std::isinf(y) && x == 0.0f)) continue;
      a.push_back(x), b.push_back(y);
    }
  pad(a);
  pad(b);
  for (const Backend& be : vector_backends())
    for (BinaryF32 op : {BinaryF32::kMul, BinaryF32::kMin, BinaryF32::kMax, BinaryF32::kSelectLess,
                         BinaryF32::kSelectGreater, BinaryF32::kSelectLessOrEqual, BinaryF32::kSelectBetween,
                         BinaryF32::kAbs, BinaryF32::kSelectZero}) {
      std::vector<float> expect(a.size()), got(a.size());
      ref.binary_f32(op, a.data(), b.data(), expect.data(), int(a.size()));
      be.binary_f32(op, a.data(), b.data(), got.data(), int(a.size()));
      long i = -1;
      for (std::size_t k = 0; k < a.size() && i < 0; ++k) {
        // min / max of two zeros of different signs: either zero (detail/lanes.hpp)
        const bool zeros = (op == BinaryF32::kMin || op == BinaryF32::kMax) && a[k] == 0.0f && b[k] == 0.0f;
        if (zeros ? got[k] != 0.0f : !same_bits(got[k], expect[k])) i = static_cast<long>(k);
      }
      INFO(be.name << " " << name(op) << " at " << i << ": (" << (i < 0 ? 0.0f : a[i]) << ", "
                   << (i < 0 ? 0.0f : b[i]) << ") gives " << (i < 0 ? 0.0f : got[i]) << ", expected "
                   << (i < 0 ? 0.0f : expect[i]));
      CHECK(i == -1);
    }
}

TEST_CASE("lane primitives: integral float plus zero point, clamped exactly", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<float> x = {0.0f, -0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          1e30f, -1e30f, std::numeric_limits<float>::max()};
  for (int i = 0; i <= 40; ++i)
    for (float d : {0.0f, 1.0f, -1.0f, 2.0f})
      for (float sign : {1.0f, -1.0f}) {
        const float v = sign * (std::ldexp(1.0f, i) + d);
        if (std::nearbyint(v) == v) x.push_back(v);
      }
  pad(x);
  const std::int32_t zps[] = {0, 1, -1, -128, 127, 255, INT32_MIN, INT32_MAX, 1 << 30, -(1 << 30)};
  const std::int32_t bounds[][2] = {{INT32_MIN, INT32_MAX}, {-128, 127}, {0, 255}, {-5, 5}, {INT32_MIN, 0},
                                    {0, INT32_MAX},         {7, 7},      {INT32_MAX, INT32_MAX}};
  for (const Backend& be : vector_backends())
    for (std::int32_t zp : zps)
      for (const auto& q : bounds) {
        std::vector<std::int32_t> expect(x.size()), got(x.size());
        ref.add_saturate_integral(x.data(), zp, q[0], q[1], expect.data(), int(x.size()));
        be.add_saturate_integral(x.data(), zp, q[0], q[1], got.data(), int(x.size()));
        const long i = first_difference(got, expect);
        INFO(be.name << " zp " << zp << " [" << q[0] << ", " << q[1] << "] at " << i << ": x = "
                     << (i < 0 ? 0.0f : x[i]) << " gives " << (i < 0 ? 0 : got[i]));
        CHECK(i == -1);
      }
}

TEST_CASE("lane primitives: splat, loads and streaming stores", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  const int n = 64;
  std::vector<std::int32_t> a(n);
  std::vector<float> b(n);
  for (int i = 0; i < n; ++i) a[i] = i * 7919 - 200000, b[i] = 0.25f * float(i) - 3.0f;
  alignas(64) std::int32_t expect_i[n], got_i[n];
  alignas(64) float expect_f[n], got_f[n];
  ref.splat_stream(a.data(), -17, b.data(), 1.5f, expect_i, expect_f, n);
  for (const Backend& be : vector_backends()) {
    INFO("backend " << be.name);
    be.splat_stream(a.data(), -17, b.data(), 1.5f, got_i, got_f, n);
    CHECK(std::memcmp(got_i, expect_i, sizeof(got_i)) == 0);
    CHECK(std::memcmp(got_f, expect_f, sizeof(got_f)) == 0);
  }
}

TEST_CASE("lane primitives: compares, masks and abs with NaN; decrement where", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<float> values = systematic_f32_in_int32();
  for (float f : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN()})
    values.push_back(f);
  std::vector<float> a, b;
  std::vector<std::int32_t> v;
  const std::vector<std::int32_t> ints = systematic_i32();
  for (float x : values)
    for (float y : values) a.push_back(x), b.push_back(y), v.push_back(ints[v.size() % ints.size()]);
  pad(a);
  pad(b);
  pad(v);
  for (const Backend& be : vector_backends()) {
    for (BinaryF32 op : {BinaryF32::kSelectLess, BinaryF32::kSelectGreater, BinaryF32::kSelectLessOrEqual,
                         BinaryF32::kSelectBetween, BinaryF32::kAbs, BinaryF32::kSelectZero}) {
      std::vector<float> expect(a.size()), got(a.size());
      ref.binary_f32(op, a.data(), b.data(), expect.data(), int(a.size()));
      be.binary_f32(op, a.data(), b.data(), got.data(), int(a.size()));
      const long i = first_difference(got, expect);
      INFO(be.name << " " << name(op) << " at " << i << ": (" << (i < 0 ? 0.0f : a[i]) << ", "
                   << (i < 0 ? 0.0f : b[i]) << ")");
      CHECK(i == -1);
    }
    std::vector<std::int32_t> expect(v.size()), got(v.size());
    ref.decrement_where_less(v.data(), a.data(), b.data(), expect.data(), int(v.size()));
    be.decrement_where_less(v.data(), a.data(), b.data(), got.data(), int(v.size()));
    INFO(be.name << " decrement_where");
    CHECK(first_difference(got, expect) == -1);
  }
}

TEST_CASE("lane primitives: float sum, difference, quotient and truncation; widening byte loads", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<float> values = systematic_f32_in_int32();
  for (float f : {1e30f, -1e30f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1e-38f,
                  -3e-39f, 1e-45f, 0.37f, -0.37f, 0.1f, 3.0f, 7.0f, std::numeric_limits<float>::infinity(),
                  -std::numeric_limits<float>::infinity()})
    values.push_back(f);
  std::vector<float> a, b;
  for (float x : values)
    for (float y : values) a.push_back(x), b.push_back(y);
  pad(a);
  pad(b);
  const char* names[] = {"add", "sub", "div", "trunc"};
  for (const Backend& be : vector_backends())
    for (ArithF32 op : {ArithF32::kAdd, ArithF32::kSub, ArithF32::kDiv, ArithF32::kTrunc}) {
      std::vector<float> expect(a.size()), got(a.size());
      ref.arith_f32(op, a.data(), b.data(), expect.data(), int(a.size()));
      be.arith_f32(op, a.data(), b.data(), got.data(), int(a.size()));
      long i = -1;
      for (std::size_t k = 0; k < a.size() && i < 0; ++k) {
        // inf - inf, 0 / 0, inf / inf: NaN, whose payload no primitive promises
        const bool nan = std::isnan(expect[k]);
        if (nan ? !std::isnan(got[k]) : !same_bits(got[k], expect[k])) i = static_cast<long>(k);
      }
      INFO(be.name << " " << names[static_cast<int>(op)] << " at " << i << ": (" << (i < 0 ? 0.0f : a[i]) << ", "
                   << (i < 0 ? 0.0f : b[i]) << ") gives " << (i < 0 ? 0.0f : got[i]) << ", expected "
                   << (i < 0 ? 0.0f : expect[i]));
      CHECK(i == -1);
    }
  // Every int8 and uint8 value, at every offset modulo the widest vector.
  std::vector<std::int8_t> s8;
  std::vector<std::uint8_t> u8;
  for (int v = -128; v <= 127; ++v) s8.push_back(static_cast<std::int8_t>(v));
  for (int v = 0; v <= 255; ++v) u8.push_back(static_cast<std::uint8_t>(v));
  for (const Backend& be : vector_backends())
    for (int off = 0; off < kPad; ++off) {
      INFO(be.name << " widening loads at offset " << off);
      const int n = 256 - kPad;
      std::vector<std::int32_t> e(n), g(n);
      ref.widen_i8(s8.data() + off, e.data(), n);
      be.widen_i8(s8.data() + off, g.data(), n);
      CHECK(g == e);
      ref.widen_u8(u8.data() + off, e.data(), n);
      be.widen_u8(u8.data() + off, g.data(), n);
      CHECK(g == e);
    }
}

TEST_CASE("lane primitives: four-vector narrowing saturates to the byte type", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  // Every int32 neighbourhood, every value around both byte types' edges, and their interleavings; padded to a
  // multiple of four of the widest vector (64 lanes) so that the store covers whole blocks.
  std::vector<std::int32_t> v = systematic_i32();
  for (std::int32_t k = -400; k <= 400; ++k) v.push_back(k);
  for (std::int32_t k : {32767, 32768, -32768, -32769, 65535, 65536, -65536}) v.push_back(k);
  while (v.size() % (4 * kPad) != 0) v.push_back(static_cast<std::int32_t>(v.size()) - 300);
  // Expected values by the clamp itself, so that the scalar definition is checked too.
  std::vector<std::int8_t> s8(v.size()), s8e(v.size());
  std::vector<std::uint8_t> u8(v.size()), u8e(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) {
    s8e[k] = static_cast<std::int8_t>(v[k] < -128 ? -128 : (v[k] > 127 ? 127 : v[k]));
    u8e[k] = static_cast<std::uint8_t>(v[k] < 0 ? 0 : (v[k] > 255 ? 255 : v[k]));
  }
  std::vector<Backend> all = vector_backends();
  all.insert(all.begin(), ref);
  for (const Backend& be : all) {
    INFO("backend " << be.name);
    be.narrow4_i8(v.data(), s8.data(), int(v.size()));
    be.narrow4_u8(v.data(), u8.data(), int(v.size()));
    const long i = first_difference(s8, s8e), j = first_difference(u8, u8e);
    INFO("int8 at " << i << " (" << (i < 0 ? 0 : v[i]) << "), uint8 at " << j << " (" << (j < 0 ? 0 : v[j]) << ")");
    CHECK(i == -1);
    CHECK(j == -1);
  }
}

TEST_CASE("lane primitives: clamp keeps NaN, saturates infinities; all-lanes mask test", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = systematic_f32_in_int32();
  for (float f : {inf, -inf, nan, -nan, 1e30f, -1e30f, 1e-45f, -1e-45f, -128.25f, -128.0f, 127.25f, 127.0f, 383.25f})
    x.push_back(f);
  pad(x);
  const float bounds[][2] = {{-128.25f, 127.25f}, {-0.25f, 255.25f}, {0.5f, inf}, {-inf, inf}, {3.0f, 3.0f},
                             {0.0f, 1.0f}};
  for (const Backend& be : vector_backends())
    for (const auto& b : bounds) {
      std::vector<float> expect(x.size()), got(x.size());
      ref.clamp(x.data(), b[0], b[1], expect.data(), int(x.size()));
      be.clamp(x.data(), b[0], b[1], got.data(), int(x.size()));
      long i = -1;
      for (std::size_t k = 0; k < x.size() && i < 0; ++k) {
        // NaN in, some NaN out; a zero against a zero bound: either zero (detail/lanes.hpp)
        const bool ok = std::isnan(expect[k]) ? std::isnan(got[k])
                        : expect[k] == 0.0f   ? got[k] == 0.0f
                                              : same_bits(got[k], expect[k]);
        if (!ok) i = static_cast<long>(k);
      }
      INFO(be.name << " clamp to [" << b[0] << ", " << b[1] << "] at " << i << ": " << (i < 0 ? 0.0f : x[i])
                   << " gives " << (i < 0 ? 0.0f : got[i]));
      CHECK(i == -1);
    }
  // all_mf(a < b): vectors where every lane passes, and for every lane position a vector where that lane alone fails
  // (by being equal, greater or NaN), compared with the conjunction of the scalar lanes.
  std::vector<float> a, b;
  for (int fail = -1; fail < kPad; ++fail)
    for (float bad : {1.0f, 2.0f, nan}) {
      for (int lane = 0; lane < kPad; ++lane) {
        a.push_back(lane == fail ? bad : 0.5f - float(lane));
        b.push_back(1.0f);
      }
      if (fail < 0) break;
    }
  expect_all_mf_matches_lanes(a, b, &Backend::all_less, "all_mf(lt_f32)");
}

TEST_CASE("lane primitives: bit patterns and signed int32 compares", "[lanes]") {
  const Backend ref = lanes_test_scalar::backend();
  std::vector<float> x = systematic_f32_in_int32();
  for (float f : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                  std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(), 1e-45f, -0.0f,
                  std::numeric_limits<float>::max()})
    x.push_back(f);
  pad(x);
  std::vector<std::int32_t> expect(x.size()), got(x.size());
  for (std::size_t k = 0; k < x.size(); ++k) std::memcpy(&expect[k], &x[k], sizeof(float));
  std::vector<Backend> all = vector_backends();
  all.insert(all.begin(), ref);
  for (const Backend& be : all) {
    be.bits(x.data(), got.data(), int(x.size()));
    INFO(be.name << " bits_i32");
    CHECK(got == expect);
  }
  // all_mf(lt_i32(a, b)) over every pair of systematic values (each lane its own pair: vectors mix passing and failing
  // lanes), and vectors where all lanes pass but one, at each position, equal or greater by one.
  const std::vector<std::int32_t> values = systematic_i32();
  std::vector<std::int32_t> a, b;
  for (std::int32_t u : values)
    for (std::int32_t v : values) a.push_back(u), b.push_back(v);
  for (int fail = 0; fail < kPad; ++fail)
    for (std::int32_t d : {0, 1}) {
      for (int lane = 0; lane < kPad; ++lane) {
        a.push_back(lane == fail ? INT32_MIN + d : INT32_MIN + lane);
        b.push_back(lane == fail ? INT32_MIN : INT32_MAX - lane);
      }
    }
  while (a.size() % kPad != 0) a.push_back(-1), b.push_back(0);
  expect_all_mf_matches_lanes(a, b, &Backend::all_less_i32, "all_mf(lt_i32)");
}

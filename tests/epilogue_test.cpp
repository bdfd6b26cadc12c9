// Tests for qmath/epilogue.hpp: apply_epilogue against the formula in the header comment (written independently in
// core_reference.hpp) for every output type, scale mode, rounding, bias and clamp; activation_clamp worked numbers;
// validate_epilogue's error policy.
#include <qmath/epilogue.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "epilogue_fields.hpp"
#include "core_reference.hpp"

using Catch::Contains;
using qmath::Epilogue;
using qmath::FixedPointRounding;
using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Scaling;

namespace {
constexpr int kN = 5;  // output columns

struct Arrays {
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
};

Arrays make_arrays() {
  Arrays a;
  a.bias = {0, 1000, -1000, INT32_MAX, INT32_MIN};
  a.scale = {0.0123f, 1.0f, 0.5f, 3.0e-5f, 2.5f};
  const double reals[kN] = {0.0123, 1.0, 0.5, 3.0e-5, 2.5};
  for (double r : reals) {
    const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(r);
    a.multiplier.push_back(qm.multiplier);
    a.shift.push_back(qm.shift);
  }
  return a;
}

std::vector<std::int32_t> accumulators() {
  std::vector<std::int32_t> v = qref::edge_values();
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int32_t> small(-70000, 70000);
  for (int i = 0; i < 2000; ++i) v.push_back(small(rng));
  for (int a = -128; a <= 127; a += 5)
    for (int b = -128; b <= 127; b += 3) v.push_back(a * b * 3);
  return v;
}

template <class OutT>
bool same(OutT a, OutT b) {
  if constexpr (std::is_same<OutT, float>::value) return qref::float_bits(a) == qref::float_bits(b);
  else return a == b;
}

struct Config {
  Scaling mode;
  bool per_channel, bias;
  FixedPointRounding rounding;
  std::int32_t zero_point, clamp_min, clamp_max;
};
}  // namespace

TEMPLATE_TEST_CASE("apply_epilogue agrees with the documented formula", "[epilogue]", std::int8_t, std::uint8_t,
                   std::int32_t, float) {
  const Arrays arr = make_arrays();
  const bool is_float = std::is_same<TestType, float>::value;
  const bool is_unsigned = std::is_same<TestType, std::uint8_t>::value;
  const Config c = GENERATE(values<Config>({
      {Scaling::kNone, false, false, FixedPointRounding::kDoubleRounding, 0, INT32_MIN, INT32_MAX},
      {Scaling::kNone, false, true, FixedPointRounding::kDoubleRounding, 0, -20, 100},
      {Scaling::kFloatMultiplier, false, false, FixedPointRounding::kDoubleRounding, 3, INT32_MIN, INT32_MAX},
      {Scaling::kFloatMultiplier, true, true, FixedPointRounding::kDoubleRounding, 3, INT32_MIN, INT32_MAX},
      {Scaling::kFloatMultiplier, true, true, FixedPointRounding::kDoubleRounding, 10, 10, 90},  // ReLU-like clamp above zp
      {Scaling::kFixedPointMultiplier, false, false, FixedPointRounding::kDoubleRounding, 0, INT32_MIN, INT32_MAX},
      {Scaling::kFixedPointMultiplier, true, true, FixedPointRounding::kDoubleRounding, 7, INT32_MIN, INT32_MAX},
      {Scaling::kFixedPointMultiplier, true, true, FixedPointRounding::kSingleRounding, 7, INT32_MIN, INT32_MAX},
      {Scaling::kFixedPointMultiplier, true, false, FixedPointRounding::kSingleRounding, 1, 1, 61},
  }));
  if (is_float && c.mode == Scaling::kFixedPointMultiplier) return;  // rejected by validate_epilogue (tested below)
  qtest::EpilogueFields e;
  e.scaling = c.mode;
  e.per_channel = c.per_channel;
  e.bias = c.bias ? arr.bias.data() : nullptr;
  e.float_multiplier = arr.scale.data();
  e.fixed_point_multiplier = arr.multiplier.data();
  e.shift = arr.shift.data();
  e.rounding = c.rounding;
  e.output_zero_point = (is_unsigned && c.mode != Scaling::kNone) ? c.zero_point + 128 : c.zero_point;
  e.clamp_min = c.clamp_min;
  e.clamp_max = c.clamp_max;
  if (is_float && c.clamp_min != INT32_MIN) {
    e.float_clamp_min = -1000.0f;
    e.float_clamp_max = 2.5e6f;
  }
  REQUIRE_NOTHROW(qmath::validate_epilogue<TestType>(e, kN));
  std::int64_t bad = 0;
  for (std::int32_t acc : accumulators())
    for (int n = 0; n < kN; ++n) {
      const TestType got = qmath::apply_epilogue<TestType>(e, acc, n), want = qref::epilogue<TestType>(e, acc, n);
      if (!same(got, want)) {
        if (bad < 3) UNSCOPED_INFO("acc " << acc << " n " << n << ": got " << +got << ", want " << +want);
        ++bad;
      }
    }
  CHECK(bad == 0);
}

TEST_CASE("apply_epilogue: worked numbers", "[epilogue]") {
  // int8 output, float scale 0.5, zp 3: 7 * 0.5 = 3.5 -> 4 (half to even) + 3 = 7; 5 * 0.5 = 2.5 -> 2 + 3 = 5.
  const float half = 0.5f;
  qtest::EpilogueFields e;
  e.scaling = Scaling::kFloatMultiplier;
  e.float_multiplier = &half;
  e.output_zero_point = 3;
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 7, 0) == 7);
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 5, 0) == 5);
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 1000, 0) == 127);
  CHECK(qmath::apply_epilogue<std::int8_t>(e, -1000, 0) == -128);
  // with a bias of 2 per column: (5 + 2) * 0.5 = 3.5 -> 4 + 3 = 7.
  const std::int32_t bias[2] = {2, -2};
  e.bias = bias;
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 5, 0) == 7);
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 5, 1) == 5);  // (5 - 2) * 0.5 = 1.5 -> 2 + 3
  // the same in fixed point: 0.5 = 2^30 * 2^(0 - 31); double rounding: RDBPOT(SRDHM(7, 2^30), 0) = round-half-up
  // (3.5) = 4 -> 7 with zp 3; single rounding gives the same here.
  const std::int32_t m = 1 << 30, s = 0;
  qtest::EpilogueFields f;
  f.scaling = Scaling::kFixedPointMultiplier;
  f.fixed_point_multiplier = &m;
  f.shift = &s;
  f.output_zero_point = 3;
  CHECK(qmath::apply_epilogue<std::int8_t>(f, 7, 0) == 7);
  CHECK(qmath::apply_epilogue<std::int8_t>(f, -7, 0) == 0);  // -3.5 -> -3 (SRDHM ties up) + 3
  f.rounding = FixedPointRounding::kSingleRounding;
  CHECK(qmath::apply_epilogue<std::int8_t>(f, -7, 0) == 0);
  // float output: acc * scale, then the float clamp (ReLU).
  qtest::EpilogueFields g;
  g.scaling = Scaling::kFloatMultiplier;
  g.float_multiplier = &half;
  g.float_clamp_min = 0.0f;
  CHECK(qmath::apply_epilogue<float>(g, 7, 0) == 3.5f);
  CHECK(qmath::apply_epilogue<float>(g, -7, 0) == 0.0f);
  // int32 output, no scale: the raw accumulator plus bias, saturated.
  qtest::EpilogueFields r;
  const std::int32_t big[1] = {INT32_MAX};
  r.bias = big;
  CHECK(qmath::apply_epilogue<std::int32_t>(r, 1, 0) == INT32_MAX);
  CHECK(qmath::apply_epilogue<std::int32_t>(r, -1, 0) == INT32_MAX - 1);
  CHECK(qmath::apply_epilogue<std::int32_t>(r, INT32_MIN, 0) == -1);
  // uint8 output, no scale: the accumulator clamped to [0, 255].
  qtest::EpilogueFields u;
  CHECK(qmath::apply_epilogue<std::uint8_t>(u, 300, 0) == 255);
  CHECK(qmath::apply_epilogue<std::uint8_t>(u, -3, 0) == 0);
}

TEST_CASE("apply_epilogue: a float bias after the multiplier, two roundings", "[epilogue]") {
  // 3 * f32(1/3) = 1 + 2^-25 exactly, which rounds to 1; + (-1) = 0. A fused multiply-add would give 2^-25.
  const float third = 1.0f / 3.0f, minus_one = -1.0f;
  qtest::EpilogueFields f;
  f.scaling = Scaling::kFloatMultiplier;
  f.float_multiplier = &third;
  f.float_bias = &minus_one;
  REQUIRE(std::fma(3.0f, third, -1.0f) != 0.0f);
  CHECK(qmath::apply_epilogue<float>(f, 3, 0) == 0.0f);
  // Per column, with the int32 bias before the multiplier and a clamp after the float bias.
  const Arrays arr = make_arrays();
  const float fmax = std::numeric_limits<float>::max();
  const std::vector<float> fbias = {0.0f, -0.0f, 1e-30f, -fmax, 0.75f};
  for (bool per_channel : {false, true})
    for (bool int_bias : {false, true})
      for (bool no_multiplier : {false, true})
        for (bool clamped : {false, true}) {
          qtest::EpilogueFields e;
          e.scaling = no_multiplier ? Scaling::kNone : Scaling::kFloatMultiplier;
          e.per_channel = per_channel && !no_multiplier;
          e.float_multiplier = arr.scale.data();
          e.bias = int_bias ? arr.bias.data() : nullptr;
          e.float_bias = fbias.data();
          if (clamped) e.float_clamp_min = -1000.0f, e.float_clamp_max = 2.5e6f;
          REQUIRE_NOTHROW(qmath::validate_epilogue<float>(e, kN));
          std::int64_t bad = 0;
          for (std::int32_t acc : accumulators())
            for (int n = 0; n < kN; ++n) {
              const float got = qmath::apply_epilogue<float>(e, acc, n), want = qref::epilogue<float>(e, acc, n);
              if (!same(got, want)) {
                if (bad < 3) UNSCOPED_INFO("acc " << acc << " n " << n << ": got " << got << ", want " << want);
                ++bad;
              }
            }
          CHECK(bad == 0);
        }
}

TEST_CASE("apply_epilogue: int32 output with a float scale saturates at both int32 limits", "[epilogue]") {
  // float(INT32_MAX) is 2^31, which no int32 holds; the result must saturate to INT32_MAX, not wrap.
  const float one = 1.0f, two = 2.0f;
  qtest::EpilogueFields e;
  e.scaling = Scaling::kFloatMultiplier;
  e.float_multiplier = &one;
  CHECK(qmath::apply_epilogue<std::int32_t>(e, INT32_MAX, 0) == INT32_MAX);
  CHECK(qmath::apply_epilogue<std::int32_t>(e, INT32_MIN, 0) == INT32_MIN);
  CHECK(qmath::apply_epilogue<std::int32_t>(e, INT32_MAX - 63, 0) == INT32_MAX);  // a tie, float rounds it to 2^31
  CHECK(qmath::apply_epilogue<std::int32_t>(e, INT32_MAX - 64, 0) == INT32_MAX - 127);  // float rounds it down
  CHECK(qmath::apply_epilogue<std::int32_t>(e, 1 << 30, 0) == (1 << 30));
  e.float_multiplier = &two;
  CHECK(qmath::apply_epilogue<std::int32_t>(e, 1 << 30, 0) == INT32_MAX);
  CHECK(qmath::apply_epilogue<std::int32_t>(e, -(1 << 30) - 1, 0) == INT32_MIN);
  e.output_zero_point = -5;  // 2^31 - 5 fits: the zero point is added before saturating
  CHECK(qmath::apply_epilogue<std::int32_t>(e, 1 << 30, 0) == INT32_MAX - 4);
  CHECK(qmath::apply_epilogue<std::int32_t>(e, (1 << 30) + 128, 0) == INT32_MAX);  // 2^31 + 256 - 5
  CHECK(qmath::apply_epilogue<std::int32_t>(e, 100, 0) == 195);
  CHECK(qmath::requantize_float(INT32_MAX, 1.0f, 0, qmath::full_range<std::int32_t>()) == INT32_MAX);
  CHECK(qmath::requantize_float(INT32_MIN, 1.0f, 7, qmath::full_range<std::int32_t>()) == INT32_MIN + 7);
  CHECK(qmath::requantize_float(INT32_MIN, 1.0f, -7, qmath::full_range<std::int32_t>()) == INT32_MIN);
}

TEST_CASE("activation_clamp: ReLU and ReLU6 in the quantized domain", "[epilogue]") {
  // int8 output with scale 0.05, zp -10: ReLU is [0 / 0.05 - 10, 127] = [-10, 127]; ReLU6 upper bound is
  // 6 / 0.05 = 120 -> 110.
  const QuantParams out{0.05f, -10};
  const QuantRange s8 = qmath::full_range<std::int8_t>();
  const float inf = std::numeric_limits<float>::infinity();
  QuantRange r = qmath::activation_clamp(0.0f, inf, out, s8);
  CHECK((r.qmin == -10 && r.qmax == 127));
  r = qmath::activation_clamp(0.0f, 6.0f, out, s8);
  CHECK((r.qmin == -10 && r.qmax == 110));
  // uint8 output with scale 0.1, zp 5: ReLU6 -> [5, 65].
  r = qmath::activation_clamp(0.0f, 6.0f, QuantParams{0.1f, 5}, qmath::full_range<std::uint8_t>());
  CHECK((r.qmin == 5 && r.qmax == 65));
  // bounds beyond the representable range saturate: scale 0.01, ReLU6 -> 600 -> 127; no bound -> the range.
  r = qmath::activation_clamp(0.0f, 6.0f, QuantParams{0.01f, 0}, s8);
  CHECK((r.qmin == 0 && r.qmax == 127));
  r = qmath::activation_clamp(-inf, inf, out, s8);
  CHECK((r.qmin == -128 && r.qmax == 127));
  // an arbitrary [lo, hi] rounds half to even: [-0.125, 0.125] with scale 0.1 -> [-1.25, 1.25] -> [-1, 1].
  r = qmath::activation_clamp(-0.125f, 0.125f, QuantParams{0.1f, 0}, s8);
  CHECK((r.qmin == -1 && r.qmax == 1));
  // used in an epilogue: ReLU6 on int8 output.
  const float scale = 0.25f;  // s_a * s_b / s_out
  qtest::EpilogueFields e;
  e.scaling = Scaling::kFloatMultiplier;
  e.float_multiplier = &scale;
  e.output_zero_point = out.zero_point;
  const QuantRange relu6 = qmath::activation_clamp(0.0f, 6.0f, out, s8);
  e.clamp_min = relu6.qmin;
  e.clamp_max = relu6.qmax;
  CHECK(qmath::apply_epilogue<std::int8_t>(e, -400, 0) == -10);  // negative -> real 0
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 200, 0) == 40);    // 50 - 10
  CHECK(qmath::apply_epilogue<std::int8_t>(e, 4000, 0) == 110);  // real 6
  CHECK_THROWS_WITH(qmath::activation_clamp(1.0f, 0.0f, out, s8),
                    "qmath::activation_clamp: lower bound 1 is above upper bound 0");
  CHECK_THROWS_WITH(qmath::activation_clamp(std::nanf(""), 0.0f, out, s8), Contains("bound is NaN"));
}

TEST_CASE("Epilogue stages and validate_epilogue: error policy", "[epilogue][errors]") {
  const float nan = std::nanf("");
  const float scales[2] = {1.0f, nan};
  const std::int32_t m_ok[2] = {1 << 30, 1 << 30}, m_neg[2] = {1 << 30, -1};
  const std::int32_t s_ok[2] = {0, -3}, s_bad[2] = {0, 31};
  using qmath::Granularity;
  // Construction rejects what no output type makes valid: null arrays, a zero point without a multiplier, empty or
  // NaN clamps.
  CHECK_NOTHROW(qmath::validate_epilogue<std::int8_t>(Epilogue::accumulator(), 2));
  CHECK_THROWS_WITH(Epilogue::fixed_point_multiplier(nullptr, s_ok),
                    "qmath::Epilogue::fixed_point_multiplier: null multiplier or shift array");
  CHECK_THROWS_WITH(Epilogue::fixed_point_multiplier(m_ok, nullptr), Contains("null multiplier or shift array"));
  CHECK_THROWS_WITH(Epilogue::float_multiplier(nullptr), "qmath::Epilogue::float_multiplier: null multiplier array");
  CHECK_THROWS_WITH(Epilogue::accumulator().with_bias(nullptr), "qmath::Epilogue::with_bias: null bias array");
  CHECK_THROWS_WITH(Epilogue::accumulator().with_output_zero_point(3),
                    Contains("an output zero point needs a multiplier stage"));
  CHECK_NOTHROW(Epilogue::accumulator().with_output_zero_point(0));
  CHECK_THROWS_WITH(Epilogue::accumulator().with_clamp(5, 4), "qmath::Epilogue::with_clamp: clamp_min 5 > clamp_max 4");
  CHECK_THROWS_WITH(Epilogue::accumulator().with_float_clamp(1.0f, 0.0f), Contains("float clamp is empty"));
  CHECK_THROWS_WITH(Epilogue::accumulator().with_float_clamp(nan, 0.0f), Contains("bound is NaN"));
  // with_arrays re-points existing stages and refuses null for a stage that exists.
  const std::int32_t bias[2] = {1, 2};
  const Epilogue fixed_bias = Epilogue::fixed_point_multiplier(m_ok, s_ok).with_bias(bias);
  CHECK_THROWS_WITH(fixed_bias.with_arrays(nullptr, nullptr, m_ok, s_ok), Contains("null bias array"));
  CHECK_THROWS_WITH(fixed_bias.with_arrays(bias, nullptr, nullptr, s_ok), Contains("null multiplier or shift array"));
  CHECK(fixed_bias.with_arrays(bias, nullptr, m_neg, s_bad).shifts() == s_bad);
  // A float bias: null refused at once, re-pointed by with_arrays, refused for integer outputs and when not finite.
  const float fbias[2] = {0.5f, nan};
  CHECK_THROWS_WITH(Epilogue::accumulator().with_float_bias(nullptr),
                    "qmath::Epilogue::with_float_bias: null float bias array");
  const Epilogue with_fbias = Epilogue::float_multiplier(scales).with_float_bias(fbias);
  CHECK_THROWS_WITH(with_fbias.with_arrays(nullptr, scales, nullptr, nullptr), Contains("null float bias array"));
  CHECK(with_fbias.with_arrays(nullptr, scales, nullptr, nullptr, fbias + 1).float_bias() == fbias + 1);
  CHECK(Epilogue::float_multiplier(scales).with_arrays(nullptr, scales, nullptr, nullptr).float_bias() == nullptr);
  CHECK_NOTHROW(qmath::validate_epilogue<float>(with_fbias, 1));
  CHECK_THROWS_WITH(qmath::validate_epilogue<float>(with_fbias, 2), Contains("float bias[1] is not finite (nan)"));
  CHECK_NOTHROW(qmath::validate_epilogue<float>(with_fbias, 2, /*arrays_on_host=*/false));
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int8_t>(with_fbias, 1),
                    Contains("a float bias (with_float_bias) needs a float output"));
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int32_t>(Epilogue::accumulator().with_float_bias(fbias), 1),
                    Contains("a float bias (with_float_bias) needs a float output"));
  // Validation: what depends on the output type, the column count and the arrays' contents.
  Epilogue e = Epilogue::fixed_point_multiplier(m_neg, s_ok);
  CHECK_THROWS_WITH(qmath::validate_epilogue<float>(e, 2),
                    "qmath::validate_epilogue: a float output takes no fixed-point multiplier (use float_multiplier)");
  CHECK_NOTHROW(qmath::validate_epilogue<std::int8_t>(e, 2));  // per tensor: only index 0 is read
  e = Epilogue::fixed_point_multiplier(m_neg, s_ok, Granularity::kPerChannel);
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int8_t>(e, 2), Contains("multiplier[1] is negative (-1)"));
  CHECK_NOTHROW(qmath::validate_epilogue<std::int8_t>(e, 2, /*arrays_on_host=*/false));
  e = Epilogue::fixed_point_multiplier(m_ok, s_bad, Granularity::kPerChannel);
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int8_t>(e, 2), Contains("shift[1] = 31 outside [-31, 30]"));
  e = Epilogue::float_multiplier(scales);
  CHECK_NOTHROW(qmath::validate_epilogue<std::int8_t>(e, 2));
  e = Epilogue::float_multiplier(scales, Granularity::kPerChannel);
  CHECK_THROWS_WITH(qmath::validate_epilogue<float>(e, 2), Contains("float multiplier[1] is not finite (nan)"));
  e = Epilogue::float_multiplier(scales).with_output_zero_point(128);
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int8_t>(e, 1),
                    "qmath::validate_epilogue: output zero point 128 outside the output type's range [-128, 127]");
  e = Epilogue::float_multiplier(scales).with_output_zero_point(-1);
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::uint8_t>(e, 1), Contains("output zero point -1"));
  e = Epilogue::accumulator().with_clamp(200, 300);
  CHECK_THROWS_WITH(qmath::validate_epilogue<std::int8_t>(e, 1),
                    Contains("clamp [200, 300] does not meet the output type's range"));
  CHECK_NOTHROW(qmath::validate_epilogue<std::uint8_t>(e, 1));
}

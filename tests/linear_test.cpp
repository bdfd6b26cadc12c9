// Tests for qmath/linear.hpp: a quantized linear layer built with make_linear_requantization and run through
// gemm_reference stays within the quantization error bound of the float layer (float and int8 outputs, float and
// fixed-point multipliers, per channel and per tensor); the bias rounding rule (half to even, float quotient);
// saturation exactly at kMaxBiasMagnitude; the epilogue fields; every rejected argument.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <qmath/epilogue.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/linear.hpp>
#include <qmath/quantize_array.hpp>

using namespace qmath;
using Catch::Matchers::Contains;

namespace {

constexpr QuantRange kR8 = narrow_range<std::int8_t>();

struct FloatLayer {
  int m, n, k;
  std::vector<float> x, w, b;  // x: m x k, w: n x k, b: n
  FloatLayer(int m_, int n_, int k_, unsigned seed) : m(m_), n(n_), k(k_) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    x.resize(std::size_t(m) * k);
    w.resize(std::size_t(n) * k);
    b.resize(std::size_t(n));
    for (float& v : x) v = d(g);
    for (int r = 0; r < n; ++r)  // every output channel its own weight range
      for (int c = 0; c < k; ++c) w[std::size_t(r) * k + c] = d(g) * 0.1f * static_cast<float>(r % 5 + 1);
    for (float& v : b) v = d(g);
  }
  double y(int i, int j) const {
    double s = b[j];
    for (int c = 0; c < k; ++c) s += double(x[std::size_t(i) * k + c]) * w[std::size_t(j) * k + c];
    return s;
  }
};

// The quantized operands of a layer: symmetric int8 input (per tensor) and weights (per channel or per tensor).
struct QuantizedOperands {
  QuantParams in;
  std::vector<QuantParams> wp;
  std::vector<std::int8_t> xq, wq;
  QuantizedOperands(const FloatLayer& f, bool per_channel) {
    float amax = 0.0f;
    for (float v : f.x) amax = std::max(amax, std::fabs(v));
    in = symmetric_params(amax, kR8);
    xq.resize(f.x.size());
    quantize_array(f.x.data(), f.x.size(), xq.data(), in, kR8);
    if (per_channel) {
      const ChannelLayout wl = channel_layout({f.n, f.k}, 0);
      wp = per_channel_symmetric_params(f.w.data(), wl, kR8);
      wq.resize(f.w.size());
      quantize_per_channel(f.w.data(), wl, wp.data(), wq.data(), kR8);
    } else {
      float wmax = 0.0f;
      for (float v : f.w) wmax = std::max(wmax, std::fabs(v));
      wp = {symmetric_params(wmax, kR8)};
      wq.resize(f.w.size());
      quantize_array(f.w.data(), f.w.size(), wq.data(), wp[0], kR8);
    }
  }
  // The layer's arguments that these operands fix: output features, input and weight parameters, float bias.
  LinearLayerArgs layer_args(const FloatLayer& f) const {
    LinearLayerArgs a;
    a.n = f.n;
    a.input = in;
    a.weight = wp;
    a.bias = f.b;
    return a;
  }
  float sw(int j) const { return wp[wp.size() == 1 ? 0 : std::size_t(j)].scale; }
  // |y_int - y_float| bound: each product's rounding (|x| s_w / 2 + |w| s_in / 2 + s_in s_w / 4), the bias's half
  // unit, and a float rounding margin.
  double bound(const FloatLayer& f, int i, int j) const {
    double e = 0.5 * double(in.scale) * sw(j);
    for (int c = 0; c < f.k; ++c)
      e += std::fabs(f.x[std::size_t(i) * f.k + c]) * sw(j) / 2 + std::fabs(f.w[std::size_t(j) * f.k + c]) * in.scale / 2 +
           double(in.scale) * sw(j) / 4;
    return e * 1.0001 + 1e-5;
  }
};

template <class TC>
std::vector<TC> run(const FloatLayer& f, const QuantizedOperands& q, const LinearRequantization& r) {
  std::vector<TC> c(std::size_t(f.m) * f.n);
  gemm_reference(GemmArgs{row_major(q.xq.data(), f.m, f.k), col_major(q.wq.data(), f.k, f.n), row_major(c.data(), f.m, f.n),
                          0, 0, r.epilogue()});
  return c;
}

}  // namespace

TEST_CASE("float output: the quantized layer is within the quantization error bound of the float layer") {
  const FloatLayer f(16, 24, 96, 1);
  for (bool per_channel : {true, false}) {
    INFO("per channel " << per_channel);
    const QuantizedOperands q(f, per_channel);
    LinearLayerArgs a = q.layer_args(f);
    a.float_output = true;
    const LinearRequantization r = make_linear_requantization(a);
    CHECK(r.saturated_bias == 0);
    CHECK(r.scale.size() == (per_channel ? std::size_t(f.n) : 1u));
    const std::vector<float> y = run<float>(f, q, r);
    for (int i = 0; i < f.m; ++i)
      for (int j = 0; j < f.n; ++j) {
        INFO(i << "," << j);
        CHECK(std::fabs(y[std::size_t(i) * f.n + j] - f.y(i, j)) <= q.bound(f, i, j));
      }
  }
}

TEST_CASE("int8 output with ReLU: float and fixed-point multipliers within one step, both within the bound") {
  const FloatLayer f(16, 24, 96, 2);
  const QuantizedOperands q(f, true);
  double ymax = 0.0;
  for (int i = 0; i < f.m; ++i)
    for (int j = 0; j < f.n; ++j) ymax = std::max(ymax, f.y(i, j));
  const QuantParams out = symmetric_params(static_cast<float>(ymax), kR8);
  LinearLayerArgs a = q.layer_args(f);
  a.output = out;
  a.clamp = activation_clamp(0.0f, std::numeric_limits<float>::infinity(), out, kR8);
  REQUIRE(a.clamp.qmin == 0);
  a.mode = Scaling::kFloatMultiplier;
  const LinearRequantization rf = make_linear_requantization(a);
  a.mode = Scaling::kFixedPointMultiplier;
  const LinearRequantization rx = make_linear_requantization(a);
  REQUIRE(rx.multiplier.size() == std::size_t(f.n));
  for (int j = 0; j < f.n; ++j) {
    const QuantizedMultiplier qm = quantize_multiplier(double(rf.scale[std::size_t(j)]));
    CHECK(rx.multiplier[std::size_t(j)] == qm.multiplier);
    CHECK(rx.shift[std::size_t(j)] == qm.shift);
    CHECK(rf.scale[std::size_t(j)] == q.in.scale * q.wp[std::size_t(j)].scale / out.scale);
  }
  const std::vector<std::int8_t> yf = run<std::int8_t>(f, q, rf), yx = run<std::int8_t>(f, q, rx);
  for (int i = 0; i < f.m; ++i)
    for (int j = 0; j < f.n; ++j) {
      const std::size_t at = std::size_t(i) * f.n + j;
      INFO(i << "," << j);
      CHECK(std::abs(int(yf[at]) - int(yx[at])) <= 1);
      const double relu = std::max(0.0, f.y(i, j));
      CHECK(yf[at] >= 0);
      CHECK(std::fabs(yf[at] * double(out.scale) - relu) <= q.bound(f, i, j) + out.scale * 0.5001);
      CHECK(std::fabs(yx[at] * double(out.scale) - relu) <= q.bound(f, i, j) + out.scale * 1.0001);
    }
}

TEST_CASE("bias rounding: the float quotient rounded half to even") {
  // acc_scale = 1 * 0.5: every quotient below is exact in float, the ties land on .5.
  const float s = 0.5f;
  CHECK(quantize_bias(1.25f, s) == 2);    // 2.5 -> 2
  CHECK(quantize_bias(1.75f, s) == 4);    // 3.5 -> 4
  CHECK(quantize_bias(-1.25f, s) == -2);  // -2.5 -> -2
  CHECK(quantize_bias(-1.75f, s) == -4);
  CHECK(quantize_bias(0.25f, s) == 0);    // 0.5 -> 0
  CHECK(quantize_bias(0.7f, s) == 1);     // 1.4
  CHECK(quantize_bias(0.0f, s) == 0);
  // The quotient is a float division: 0.1f / 3e-5f rounds in float before the integer rounding.
  CHECK(quantize_bias(0.1f, 3e-5f) == static_cast<std::int32_t>(std::nearbyint(0.1f / 3e-5f)));
  LinearLayerArgs a;
  a.n = 3;
  a.input = {1.0f, 0};
  a.weight = {{0.5f, 0}, {0.25f, 0}, {2.0f, 0}};
  a.bias = {1.25f, 0.625f, 5.0f};  // 2.5, 2.5, 2.5 in each channel's units
  a.float_output = true;
  const LinearRequantization r = make_linear_requantization(a);
  CHECK(r.bias == std::vector<std::int32_t>{2, 2, 2});
  a.bias = {1.75f, 0.875f, 7.0f};  // 3.5 in each
  CHECK(make_linear_requantization(a).bias == std::vector<std::int32_t>{4, 4, 4});
}

TEST_CASE("bias saturation: exactly at kMaxBiasMagnitude = 2^31 - 2^7, counted") {
  CHECK(kMaxBiasMagnitude == std::nextafter(2147483648.0f, 0.0f));  // the largest float below 2^31
  CHECK(quantize_bias(2147483520.0f, 1.0f) == 2147483520);
  CHECK(!bias_saturates(2147483520.0f, 1.0f));
  CHECK(quantize_bias(2147483648.0f, 1.0f) == 2147483520);  // 2^31 does not fit int32
  CHECK(bias_saturates(2147483648.0f, 1.0f));
  CHECK(quantize_bias(-2147483648.0f, 1.0f) == -2147483520);  // symmetric
  CHECK(bias_saturates(-2147483648.0f, 1.0f));
  CHECK(quantize_bias(-2147483520.0f, 1.0f) == -2147483520);
  CHECK(quantize_bias(1e38f, 1e-30f) == 2147483520);  // the quotient overflows to +inf
  CHECK(quantize_bias(-1e38f, 1e-30f) == -2147483520);
  // A pruned channel: all-zero weights get kMinScale, its bias no longer fits.
  LinearLayerArgs a;
  a.n = 2;
  a.input = {0.01f, 0};
  a.weight = {{0.01f, 0}, {kMinScale, 0}};
  a.bias = {1.0f, 1e4f};  // 1e4 / (0.01 * 2^-23) ~ 8.4e12
  a.float_output = true;
  const LinearRequantization r = make_linear_requantization(a);
  CHECK(r.saturated_bias == 1);
  CHECK(r.bias[1] == 2147483520);
  CHECK(r.bias[0] == 10000);
  // The epilogue then adds it with int32 saturation, never wrapping.
  CHECK(apply_epilogue<float>(r.epilogue(), 1000, 1) == float(2147483647) * r.scale[1]);
}

TEST_CASE("epilogue fields: per channel or per tensor, float or integer output, no bias") {
  LinearLayerArgs a;
  a.n = 4;
  a.input = {0.02f, 0};
  a.weight = {{0.01f, 0}};
  a.output = {0.05f, 3};
  a.clamp = {-20, 100};
  a.mode = Scaling::kFixedPointMultiplier;
  a.rounding = FixedPointRounding::kSingleRounding;
  const LinearRequantization r = make_linear_requantization(a);
  const Epilogue e = r.epilogue();
  CHECK(e.bias() == nullptr);
  CHECK(!e.per_channel());
  CHECK(e.scaling() == Scaling::kFixedPointMultiplier);
  CHECK(e.output_zero_point() == 3);
  CHECK(e.clamp_min() == -20);
  CHECK(e.clamp_max() == 100);
  CHECK(e.rounding() == FixedPointRounding::kSingleRounding);
  CHECK(e.fixed_point_multipliers()[0] == quantize_multiplier(double(0.02f * 0.01f / 0.05f)).multiplier);
  CHECK_NOTHROW(validate_epilogue<std::int8_t>(e, a.n));
  a.float_output = true;
  a.mode = Scaling::kFloatMultiplier;
  const LinearRequantization rf = make_linear_requantization(a);
  const Epilogue ef = rf.epilogue();
  CHECK(ef.scaling() == Scaling::kFloatMultiplier);
  CHECK(ef.float_multipliers()[0] == 0.02f * 0.01f);
  CHECK(ef.float_clamp_min() == -std::numeric_limits<float>::infinity());
  CHECK_NOTHROW(validate_epilogue<float>(ef, a.n));
}

TEST_CASE("bad arguments are rejected, naming the field") {
  LinearLayerArgs good;
  good.n = 2;
  good.input = {0.1f, 0};
  good.weight = {{0.1f, 0}, {0.2f, 0}};
  good.bias = {1.0f, 2.0f};
  good.output = {0.5f, 0};
  CHECK_NOTHROW(make_linear_requantization(good));
  auto fails = [](LinearLayerArgs a, const char* what) {
    CHECK_THROWS_WITH(make_linear_requantization(a), Contains("make_linear_requantization") && Contains(what));
  };
  LinearLayerArgs a = good;
  a.n = 0;
  fails(a, "n = 0");
  a = good;
  a.weight.push_back({0.1f, 0});
  fails(a, "weight has 3 parameter sets");
  a = good;
  a.bias = {1.0f};
  fails(a, "bias has 1 entries");
  a = good;
  a.bias[1] = std::numeric_limits<float>::quiet_NaN();
  fails(a, "bias[1] is not finite");
  a = good;
  a.input.scale = 0.0f;
  fails(a, "input scale 0");
  a = good;
  a.weight[1].scale = std::numeric_limits<float>::infinity();
  fails(a, "weight[1].scale inf");
  a = good;
  a.output.scale = -1.0f;
  fails(a, "output scale -1");
  a = good;
  a.mode = Scaling::kNone;
  fails(a, "needs Scaling::kFloatMultiplier or kFixedPoint");
  a = good;
  a.clamp = {5, 4};
  fails(a, "clamp [5, 4] is empty");
  a = good;
  a.float_output = true;
  a.mode = Scaling::kFixedPointMultiplier;
  fails(a, "a float output takes Scaling::kFloatMultiplier");
  a = good;
  a.input.scale = 1e-30f;
  a.weight = {{1e-30f, 0}};
  fails(a, "underflows to 0");
}

TEST_CASE("set_input_scale: in place, equal to building the layer for that input scale") {
  LinearLayerArgs a;
  a.n = 3;
  a.input = {0.02f, 0};
  a.weight = {{0.01f, 0}, {0.003f, 0}, {0.25f, 0}};
  a.bias = {1.5f, -2.25f, 1e9f};  // the last saturates for a small input scale
  a.output = {0.05f, 3};
  for (int form = 0; form < 5; ++form) {
    LinearLayerArgs b = a;
    b.mode = form == 1 ? Scaling::kFixedPointMultiplier : Scaling::kFloatMultiplier;
    b.float_output = form >= 2;
    b.bias_after_scale = form == 3;
    if (form == 4) b.weight = {{0.01f, 0}};  // per tensor
    b.input = {0.02f, 0};
    LinearRequantization r = make_linear_requantization(b);
    const Epilogue before = r.epilogue();
    for (float s_in : {0.02f, 1e-7f, 3.0f, 0.0117f}) {
      r.set_input_scale(s_in);
      b.input = {s_in, 0};
      const LinearRequantization want = make_linear_requantization(b);
      INFO("form " << form << ", input scale " << s_in);
      CHECK(r.scale == want.scale);
      CHECK(r.multiplier == want.multiplier);
      CHECK(r.shift == want.shift);
      CHECK(r.bias == want.bias);
      CHECK(r.saturated_bias == want.saturated_bias);
      // The epilogue built before still reads the arrays: nothing moved.
      CHECK(before.float_multipliers() == r.epilogue().float_multipliers());
      CHECK(before.bias() == r.epilogue().bias());
      CHECK(before.float_bias() == r.epilogue().float_bias());
    }
  }
  // Errors name the problem and leave the object as it was.
  LinearRequantization r = make_linear_requantization(a);
  const std::vector<float> scale = r.scale;
  const std::vector<std::int32_t> bias = r.bias;
  CHECK_THROWS_WITH(r.set_input_scale(0.0f), Contains("LinearRequantization::set_input_scale: input scale 0"));
  CHECK_THROWS_WITH(r.set_input_scale(std::numeric_limits<float>::quiet_NaN()), Contains("is not finite and > 0"));
  CHECK_THROWS_WITH(r.set_input_scale(1e-44f), Contains("input scale * weight[0].scale underflows to 0"));
  CHECK(r.scale == scale);
  CHECK(r.bias == bias);
}

TEST_CASE("bias_after_scale: the float bias stage, no integer bias") {
  LinearLayerArgs a;
  a.n = 2;
  a.input = {0.02f, 0};
  a.weight = {{0.01f, 0}, {0.5f, 0}};
  a.bias = {0.125f, -3.0f};
  a.float_output = true;
  a.bias_after_scale = true;
  const LinearRequantization r = make_linear_requantization(a);
  const Epilogue e = r.epilogue();
  CHECK(e.bias() == nullptr);
  REQUIRE(e.float_bias() != nullptr);
  CHECK(e.float_bias()[1] == -3.0f);
  // y = f32(f32(acc * f32(0.02 * 0.5)) + b) per column.
  CHECK(apply_epilogue<float>(e, 7, 1) == (7.0f * (0.02f * 0.5f)) + -3.0f);
  CHECK(apply_epilogue<float>(e, -5, 0) == (-5.0f * (0.02f * 0.01f)) + 0.125f);
  a.float_output = false;
  CHECK_THROWS_WITH(make_linear_requantization(a), Contains("bias_after_scale needs a float output"));
}

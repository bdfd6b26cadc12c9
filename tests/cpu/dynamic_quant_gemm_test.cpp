// Tests for bench/dynamic_quant_matmul.hpp, the composition of ONNX Runtime's DynamicQuantizeMatMul and
// MatMulIntegerToFloat from qmath's public API: bit for bit against the scalar references (ONNX DynamicQuantizeLinear
// parameters, quantize_value, gemm_reference and the float epilogue y = f32(f32(float(acc) * f32(a_scale *
// b_scale[n])) + bias[n])) with and without a bias on every GEMM path this CPU runs, the ONNX operator example, and
// bad input (an error before y is written).
#include "dynamic_quant_matmul.hpp"  // first: the header under test is self-contained

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/quantize.hpp>

#include "gemm_test_support.hpp"

namespace {

using qmath::Granularity;
using qmath::Isa;
using qmath::QuantParams;

struct Operands {
  int m, n, k;
  std::vector<float> x;       // M x K
  std::vector<std::int8_t> b;  // K x N row-major (ONNX's MatMul layout)
  std::vector<float> b_scale;  // 1 or N
  std::vector<float> bias;     // none or N
};

Operands random_operands(int m, int n, int k, bool per_column, bool with_bias, std::mt19937& rng) {
  Operands o{m, n, k, {}, {}, {}, {}};
  // An off-centre range, so the zero point is neither 0 nor 128; a few exact ties x = (j + 0.5) * scale arise too.
  std::uniform_real_distribution<float> dx(-1.75f, 4.5f);
  o.x.resize(std::size_t(m) * k);
  for (float& v : o.x) v = dx(rng);
  o.b = qtest::random_vector<std::int8_t>(std::size_t(k) * n, rng);
  std::uniform_real_distribution<float> ds(1e-3f, 2e-2f);
  o.b_scale.resize(per_column ? std::size_t(n) : 1);
  for (float& s : o.b_scale) s = ds(rng);
  std::uniform_real_distribution<float> db(-3.0f, 3.0f);
  if (with_bias)
    for (int j = 0; j < n; ++j) o.bias.push_back(j % 5 == 0 ? 0.0f : db(rng));
  return o;
}

// The references, element by element: DynamicQuantizeLinear's parameters from a plain min/max loop (widened to
// include 0), quantize_value, gemm_reference into int32 and the float epilogue's formula (no clamp is set).
struct Reference {
  QuantParams a;
  std::vector<std::uint8_t> a_q;
  std::vector<std::int32_t> acc;
  std::vector<float> y;
};

Reference reference(const Operands& o, std::int32_t b_zero_point) {
  Reference r;
  float lo = 0.0f, hi = 0.0f;
  for (float v : o.x) {
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  r.a = qmath::asymmetric_params(lo, hi, qmath::full_range<std::uint8_t>(), qmath::AsymmetricConvention::kOnnx);
  for (float v : o.x)
    r.a_q.push_back(static_cast<std::uint8_t>(qmath::quantize_value(v, r.a, qmath::full_range<std::uint8_t>())));
  r.acc.resize(std::size_t(o.m) * o.n);
  qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(static_cast<const std::uint8_t*>(r.a_q.data()), o.m, o.k),
                                        qmath::row_major(o.b.data(), o.k, o.n),
                                        qmath::row_major(r.acc.data(), o.m, o.n), r.a.zero_point, b_zero_point});
  for (int i = 0; i < o.m; ++i)
    for (int j = 0; j < o.n; ++j) {
      const float multiplier = r.a.scale * o.b_scale[o.b_scale.size() == 1 ? 0 : j];
      const float product = static_cast<float>(r.acc[std::size_t(i) * o.n + j]) * multiplier;
      // The sum rounded once to float, through double (exact for a float sum), whatever the compiler contracts.
      r.y.push_back(o.bias.empty() ? product : static_cast<float>(double(product) + double(o.bias[j])));
    }
  return r;
}

}  // namespace

TEST_CASE("DynamicQuantizeMatMul composition: bit for bit with the scalar references on every path",
          "[cpu][dynamic_quant]") {
  std::mt19937 rng(19);
  const struct {
    int m, n, k;
  } shapes[] = {{1, 1, 1}, {1, 33, 70}, {3, 70, 33}, {4, 32, 64}, {5, 31, 17}, {16, 48, 100}, {17, 65, 300}};
  for (Isa isa : qtest::runnable_paths())
    for (const auto& s : shapes)
      for (bool per_column : {false, true})
        for (std::int32_t b_zero_point : {0, -3})
          for (bool with_bias : {false, true}) {
            CAPTURE(qmath::isa_name(isa), s.m, s.n, s.k, per_column, b_zero_point, with_bias);
            const Operands o = random_operands(s.m, s.n, s.k, per_column, with_bias, rng);
            const Reference r = reference(o, b_zero_point);
            qmath_bench::QuantizedWeights w =
                qmath_bench::prepare_weights(qmath::row_major(o.b.data(), o.k, o.n), o.b_scale, b_zero_point, o.bias);

            // The float epilogue of gemm_reference (per-column multiplier f32(a_scale * b_scale[n]), float bias) is
            // the formula.
            std::vector<float> multipliers;
            for (float bs : o.b_scale) multipliers.push_back(r.a.scale * bs);
            qmath::Epilogue e = qmath::Epilogue::float_multiplier(
                multipliers.data(), per_column ? Granularity::kPerChannel : Granularity::kPerTensor);
            if (with_bias) e = e.with_float_bias(o.bias.data());
            std::vector<float> y_epilogue(std::size_t(s.m) * s.n);
            qmath::gemm_reference(qmath::GemmArgs{
                qmath::row_major(static_cast<const std::uint8_t*>(r.a_q.data()), s.m, s.k),
                qmath::row_major(o.b.data(), s.k, s.n), qmath::row_major(y_epilogue.data(), s.m, s.n), r.a.zero_point,
                b_zero_point, e});
            CHECK(qtest::same_bits(y_epilogue, r.y));

            std::vector<std::uint8_t> a_q;
            std::vector<float> y(std::size_t(s.m) * s.n, -1.0f);
            const QuantParams p = qmath_bench::dynamic_quantize_matmul(
                qmath::row_major(static_cast<const float*>(o.x.data()), s.m, s.k), w, a_q,
                qmath::row_major(y.data(), s.m, s.n), {isa, 1});
            CHECK(p.scale == r.a.scale);
            CHECK(p.zero_point == r.a.zero_point);
            CHECK(a_q == r.a_q);
            CHECK(qtest::same_bits(y, r.y));

            // MatMulIntegerToFloat on the same quantized A.
            std::vector<float> y2(std::size_t(s.m) * s.n, -1.0f);
            qmath_bench::matmul_integer_to_float(
                qmath::row_major(static_cast<const std::uint8_t*>(r.a_q.data()), s.m, s.k), r.a, w,
                qmath::row_major(y2.data(), s.m, s.n), {isa, 1});
            CHECK(qtest::same_bits(y2, r.y));
          }
}

TEST_CASE("DynamicQuantizeMatMul composition: the ONNX DynamicQuantizeLinear example", "[cpu][dynamic_quant]") {
  // ONNX operator docs: x = [0, 2, -3, -2.5, 1.34, 0.5] -> scale f32(5 / 255), zero point 153,
  // y = [153, 255, 0, 26, 221, 179]. With B the 6 x 6 identity and b_scale 2, Y = (A_q - 153) * f32(scale * 2).
  const std::vector<float> x = {0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f};
  std::vector<std::int8_t> b(36, 0);
  for (int i = 0; i < 6; ++i) b[std::size_t(i) * 6 + i] = 1;
  auto w = qmath_bench::prepare_weights(qmath::row_major(static_cast<const std::int8_t*>(b.data()), 6, 6), {2.0f});
  for (Isa isa : qtest::runnable_paths()) {
    CAPTURE(qmath::isa_name(isa));
    std::vector<std::uint8_t> a_q;
    std::vector<float> y(6);
    const QuantParams p = qmath_bench::dynamic_quantize_matmul(qmath::row_major(x.data(), 1, 6), w, a_q,
                                                               qmath::row_major(y.data(), 1, 6), {isa, 1});
    CHECK(p.scale == 5.0f / 255.0f);
    CHECK(p.zero_point == 153);
    CHECK(a_q == std::vector<std::uint8_t>{153, 255, 0, 26, 221, 179});
    const float m = p.scale * 2.0f;
    CHECK(y == std::vector<float>{0.0f * m, 102.0f * m, -153.0f * m, -127.0f * m, 68.0f * m, 26.0f * m});
  }
}

TEST_CASE("DynamicQuantizeMatMul composition: bad input throws before y is written", "[cpu][dynamic_quant]") {
  std::vector<std::int8_t> b(4 * 3, 1);
  const auto bview = qmath::row_major(static_cast<const std::int8_t*>(b.data()), 4, 3);
  CHECK_THROWS_WITH(qmath_bench::prepare_weights(bview, {1.0f, 2.0f}),
                    Catch::Contains("b_scale has 2 entries, expected 1 or N = 3"));
  std::vector<float> x(2 * 4, 0.5f);
  std::vector<float> y(2 * 3, 7.0f);
  std::vector<std::uint8_t> a_q;
  const auto xview = qmath::row_major(static_cast<const float*>(x.data()), 2, 4);
  const auto yview = qmath::row_major(y.data(), 2, 3);
  // A NaN activation (MinMaxCalibrator's default policy).
  qmath_bench::QuantizedWeights w = qmath_bench::prepare_weights(bview, {1.0f});
  x[5] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(qmath_bench::dynamic_quantize_matmul(xview, w, a_q, yview), Catch::Contains("non-finite"));
  x[5] = 0.5f;
  // A weight scale that is not > 0; a bias of the wrong count or not finite.
  CHECK_THROWS_WITH(qmath_bench::prepare_weights(bview, {1.0f, 0.0f, 1.0f}), Catch::Contains("weight[1].scale"));
  const float inf = std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(qmath_bench::prepare_weights(bview, {1.0f}, 0, {1.0f, 2.0f}),
                    Catch::Contains("bias has 2 entries"));
  CHECK_THROWS_WITH(qmath_bench::prepare_weights(bview, {1.0f}, 0, {1.0f, inf, 0.0f}),
                    Catch::Contains("bias[1] is not finite"));
  // y of 2 columns for N = 3.
  CHECK_THROWS_WITH(qmath_bench::dynamic_quantize_matmul(xview, w, a_q, qmath::row_major(y.data(), 2, 2)),
                    Catch::Contains("c of N=2"));
  // x not dense.
  qmath_bench::QuantizedWeights w3 =
      qmath_bench::prepare_weights(qmath::row_major(static_cast<const std::int8_t*>(b.data()), 3, 3), {1.0f});
  CHECK_THROWS_WITH(qmath_bench::dynamic_quantize_matmul(qmath::row_major(static_cast<const float*>(x.data()), 2, 3, 4),
                                                         w3, a_q, yview),
                    Catch::Contains("dense"));
  CHECK(y == std::vector<float>(2 * 3, 7.0f));
}

// qmath-arithmetic-tour: the arithmetic core at work, printed step by step. Every number below is computed by
// qmath at run time; the comments say what to look for. See docs/arithmetic.md for the formulas.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include <qmath/epilogue.hpp>
#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/qparams.hpp>
#include <qmath/quantize.hpp>

namespace {

const char* round_name(qmath::Round mode) {
  switch (mode) {
    case qmath::Round::kHalfToEven:
      return "half to even       ";
    case qmath::Round::kHalfAwayFromZero:
      return "half away from zero";
    case qmath::Round::kHalfUp:
      return "half up            ";
    case qmath::Round::kTowardZero:
      return "toward zero        ";
  }
  return "?";
}

void section(const char* title) { std::printf("\n== %s\n", title); }

}  // namespace

int main() {
  using qmath::QuantParams;
  using qmath::Round;

  section("1. Symmetric scales for one amax: TensorRT vs PyTorch");
  const float amax = 2.54f;
  const QuantParams trt = qmath::symmetric_params(amax, qmath::narrow_range<std::int8_t>(),
                                                  qmath::SymmetricConvention::kTensorRT);
  const QuantParams pt = qmath::symmetric_params(amax, qmath::full_range<std::int8_t>(),
                                                 qmath::SymmetricConvention::kPyTorch);
  const QuantParams pt_u8 = qmath::symmetric_params(amax, qmath::full_range<std::uint8_t>(),
                                                    qmath::SymmetricConvention::kPyTorch);
  std::printf("amax = %.9g\n", amax);
  std::printf("  TensorRT  int8 [-127, 127]: scale = amax / 127   = %.9g, zero point %d\n", trt.scale, trt.zero_point);
  std::printf("  PyTorch  qint8 [-128, 127]: scale = amax / 127.5 = %.9g, zero point %d\n", pt.scale, pt.zero_point);
  std::printf("  PyTorch quint8 [0, 255]   : scale = amax / 127.5 = %.9g, zero point %d\n", pt_u8.scale,
              pt_u8.zero_point);
  std::printf("  amax itself quantizes to %d (TensorRT) and %d (PyTorch qint8)\n",
              qmath::quantize_value(amax, trt, qmath::narrow_range<std::int8_t>()),
              qmath::quantize_value(amax, pt, qmath::full_range<std::int8_t>()));

  section("2. Asymmetric (affine) parameters for an observed range [-1.3, 4.7], uint8");
  const QuantParams a_pt = qmath::asymmetric_params(-1.3f, 4.7f, qmath::full_range<std::uint8_t>(),
                                                    qmath::AsymmetricConvention::kPyTorch);
  const QuantParams a_onnx = qmath::asymmetric_params(-1.3f, 4.7f, qmath::full_range<std::uint8_t>(),
                                                      qmath::AsymmetricConvention::kOnnx);
  std::printf("  PyTorch observer          : scale = %.9g, zero point %d\n", a_pt.scale, a_pt.zero_point);
  std::printf("  ONNX DynamicQuantizeLinear: scale = %.9g, zero point %d\n", a_onnx.scale, a_onnx.zero_point);
  std::printf("  real 0.0 -> %d, -1.3 -> %d, 4.7 -> %d (0 is exact: it maps to the zero point)\n",
              qmath::quantize_value(0.0f, a_pt, qmath::full_range<std::uint8_t>()),
              qmath::quantize_value(-1.3f, a_pt, qmath::full_range<std::uint8_t>()),
              qmath::quantize_value(4.7f, a_pt, qmath::full_range<std::uint8_t>()));
  const QuantParams narrow_range_ex = qmath::asymmetric_params(2.0f, 3.0f, qmath::full_range<std::uint8_t>());
  std::printf("  [2, 3] is widened to [0, 3]: scale = %.9g, zero point %d\n", narrow_range_ex.scale,
              narrow_range_ex.zero_point);

  section("3. Rounding modes at exact ties (scale 0.5, so x / scale = +-2.5 and +-3.5 exactly)");
  const QuantParams half{0.5f, 0};
  for (Round mode : {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero}) {
    std::printf("  %s:", round_name(mode));
    for (float x : {1.25f, -1.25f, 1.75f, -1.75f, 1.3f})
      std::printf("  %5.2f -> %2d", x, qmath::quantize_value(x, half, qmath::full_range<std::int8_t>(), mode));
    std::printf("\n");
  }
  std::printf("  saturation: 1000 -> %d, -inf -> %d, NaN -> %d (the zero point)\n",
              qmath::quantize_value(1000.0f, half, qmath::full_range<std::int8_t>()),
              qmath::quantize_value(-std::numeric_limits<float>::infinity(), half, qmath::full_range<std::int8_t>()),
              qmath::quantize_value(std::numeric_limits<float>::quiet_NaN(), half, qmath::full_range<std::int8_t>()));

  section("4. Fixed-point requantization of one accumulator: M = 0.0123, acc = -4756 (exact: -58.4988)");
  const double real_multiplier = 0.0123;
  const qmath::QuantizedMultiplier qm = qmath::quantize_multiplier(real_multiplier);
  const std::int32_t acc = -4756;
  std::printf("  quantize_multiplier(0.0123) = {multiplier %d, shift %d}: %d * 2^(%d - 31) = %.12g\n", qm.multiplier,
              qm.shift, qm.multiplier, qm.shift, double(qm.multiplier) * std::ldexp(1.0, qm.shift - 31));
  std::printf("  double rounding (gemmlowp, classic TFLite): %d\n",
              qmath::multiply_by_quantized_multiplier_double_rounding(acc, qm.multiplier, qm.shift));
  std::printf("  single rounding (ruy, newer TFLite)      : %d\n",
              qmath::multiply_by_quantized_multiplier_single_rounding(acc, qm.multiplier, qm.shift));
  std::printf("  float scale, half to even (ONNX)          : %d\n",
              qmath::requantize_float(acc, float(real_multiplier), 0, qmath::full_range<std::int32_t>()));
  std::printf("  (the high-mul rounds to about -58.5 first, so the second rounding goes to -59)\n");

  section("5. A 2x3x4 reference GEMM (M=2, N=3, K=4), uint8 x int8 with zero points, int8 output");
  const std::uint8_t a[2 * 4] = {130, 120, 128, 255,  //
                                 0, 128, 200, 64};
  const std::int8_t b[4 * 3] = {1, -2, 3,  //
                                4, 5, -6,  //
                                -7, 8, 9,  //
                                10, -11, 12};
  const std::int32_t za = 128, zb = 0;
  std::int32_t acc32[6];
  qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(a, 2, 4), qmath::row_major(b, 4, 3), qmath::row_major(acc32, 2, 3), za, zb});
  // Requantize to int8: M = s_a * s_b / s_out = 1/64, output zero point -3, ReLU (clamp at the zero point).
  const float out_scale = 1.0f / 64.0f;
  const qmath::Epilogue e = qmath::Epilogue::float_multiplier(&out_scale)
                                .with_output_zero_point(-3)
                                .with_clamp(-3, INT32_MAX);  // ReLU in the quantized domain
  std::int8_t c8[6];
  qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(a, 2, 4), qmath::row_major(b, 4, 3), qmath::row_major(c8, 2, 3), za, zb, e});
  for (int m = 0; m < 2; ++m) {
    std::printf("  row %d: int32 acc", m);
    for (int n = 0; n < 3; ++n) std::printf(" %6d", acc32[m * 3 + n]);
    std::printf("   -> int8");
    for (int n = 0; n < 3; ++n) std::printf(" %4d", c8[m * 3 + n]);
    std::printf("\n");
  }
  std::printf("  largest safe K for u8 x s8 with these zero points: %lld\n",
              static_cast<long long>(qmath::max_k_for_int32<std::uint8_t, std::int8_t>(za, zb)));
  return 0;
}

// Tests for qmath/qparams.hpp: PyTorch, ONNX and TensorRT parameter conventions reproduced bit for bit, per-channel
// layouts with ONNX axis semantics, and the error policy.
//
// Expected float32 values are written as bit patterns. Each was derived by hand from the convention's formula in
// float32 arithmetic (checked with python3: f = lambda x: struct.unpack('f', struct.pack('f', x))[0], a float32
// division being f(f(a) / f(b)) because double rounding is innocuous for division), never by running qmath.
#include <qmath/qparams.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core_reference.hpp"

using qmath::AsymmetricConvention;
using qmath::QuantParams;
using qmath::QuantRange;
using qmath::SymmetricConvention;
using Catch::Contains;

namespace {
const QuantRange kU8 = qmath::full_range<std::uint8_t>();
const QuantRange kS8 = qmath::full_range<std::int8_t>();
const QuantRange kS8Narrow = qmath::narrow_range<std::int8_t>();
}  // namespace

TEST_CASE("asymmetric_params, PyTorch MinMaxObserver: published-style numbers as float32 bits", "[qparams]") {
  struct Row {
    float min, max;
    QuantRange range;
    std::uint32_t scale_bits;
    std::int32_t zero_point;
  };
  // scale = f32(f32(max' - min') / f32(qmax - qmin)), floored at eps = 2^-23; zp = qmin - rne(f32(min' / scale)).
  const Row row = GENERATE_COPY(values<Row>({
      // quint8 [-1, 3]: scale = f32(4 / 255) = 0.0156862754 (0x3c808081); -1 / scale = -63.7499962 -> -64; zp 64.
      {-1.0f, 3.0f, kU8, 0x3c808081u, 64},
      // qint8 [-1, 3]: same scale; zp = -128 - (-64) = -64.
      {-1.0f, 3.0f, kS8, 0x3c808081u, -64},
      // reduce_range quint8 [0, 127], [-1, 3]: scale = f32(4 / 127) = 0.0314960629 (0x3d010204); -31.75 -> -32; zp 32.
      {-1.0f, 3.0f, QuantRange{0, 127}, 0x3d010204u, 32},
      // all positive [0.5, 6] widens to [0, 6]: scale = f32(6 / 255) = 0.0235294122 (0x3cc0c0c1); zp 0.
      {0.5f, 6.0f, kU8, 0x3cc0c0c1u, 0},
      // all negative [-6, -0.5] widens to [-6, 0]: -6 / scale = -255.0 exactly in float32; zp 255.
      {-6.0f, -0.5f, kU8, 0x3cc0c0c1u, 255},
      // min == max == 2 widens to [0, 2]: scale = f32(2 / 255) = 0.00784313772 (0x3c008081); zp 0.
      {2.0f, 2.0f, kU8, 0x3c008081u, 0},
      // min == max == 0: scale is eps = 2^-23 (0x34000000); zp = qmin - 0.
      {0.0f, 0.0f, kU8, 0x34000000u, 0},
      {0.0f, 0.0f, kS8, 0x34000000u, -128},
      // a range below eps * 255 is floored to eps: -1e-9 / 2^-23 = -0.0084 -> 0; zp 0.
      {-1e-9f, 1e-9f, kU8, 0x34000000u, 0},
      // a half-to-even tie in the zero point: [-0.3125, 31.5625] has scale 31.875 / 255 = 0.125 exactly and
      // min / scale = -2.5 exactly, which rounds to -2 (half away from zero would give -3): zp 2, or -126 for qint8.
      {-0.3125f, 31.5625f, kU8, 0x3e000000u, 2},
      {-0.3125f, 31.5625f, kS8, 0x3e000000u, -126},
      // qint8 [-2.7, 1.3]: f32(1.3 - -2.7) = 4 -> scale 0x3c808081; -2.7 / scale = -172.125 -> -172; zp 44.
      {-2.7f, 1.3f, kS8, 0x3c808081u, 44},
      // quint8 [-0.1, 25.3]: f32(25.3 + 0.1) / 255 = 0.0996078402 (0x3dcbff32); -0.1 / scale = -1.003937 -> -1; zp 1.
      {-0.1f, 25.3f, kU8, 0x3dcbff32u, 1},
  }));
  CAPTURE(row.min, row.max, row.range.qmin, row.range.qmax);
  const QuantParams p = qmath::asymmetric_params(row.min, row.max, row.range, AsymmetricConvention::kPyTorch);
  CHECK(qref::float_bits(p.scale) == row.scale_bits);
  CHECK(p.zero_point == row.zero_point);
  // kPyTorch is the default convention.
  const QuantParams d = qmath::asymmetric_params(row.min, row.max, row.range);
  CHECK(qref::float_bits(d.scale) == row.scale_bits);
  CHECK(d.zero_point == row.zero_point);
}

TEST_CASE("asymmetric_params, ONNX DynamicQuantizeLinear conventions", "[qparams]") {
  // ONNX operator docs example: x = [0, 2, -3, -2.5, 1.34, 0.5] -> min -3, max 2: scale = f32(5 / 255) =
  // 0.0196078438 (0x3ca0a0a1); zp = rne(clamp(0 - (-3 / scale))) = rne(153.0) = 153.
  QuantParams p = qmath::asymmetric_params(-3.0f, 2.0f, kU8, AsymmetricConvention::kOnnx);
  CHECK(qref::float_bits(p.scale) == 0x3ca0a0a1u);
  CHECK(p.zero_point == 153);
  // max adjusted: all positive data (min 1, max 4) widens to [0, 4]: scale = f32(4 / 255) (0x3c808081), zp 0.
  p = qmath::asymmetric_params(1.0f, 4.0f, kU8, AsymmetricConvention::kOnnx);
  CHECK(qref::float_bits(p.scale) == 0x3c808081u);
  CHECK(p.zero_point == 0);
  // min adjusted: all negative data [-4, -1] widens to [-4, 0]: zp = rne(0 + 4 / scale) = rne(255.0) = 255.
  p = qmath::asymmetric_params(-4.0f, -1.0f, kU8, AsymmetricConvention::kOnnx);
  CHECK(qref::float_bits(p.scale) == 0x3c808081u);
  CHECK(p.zero_point == 255);
  // all zeros: ONNX Runtime uses scale 1 (PyTorch would use eps), zp 0.
  p = qmath::asymmetric_params(0.0f, 0.0f, kU8, AsymmetricConvention::kOnnx);
  CHECK(p.scale == 1.0f);
  CHECK(p.zero_point == 0);
  // the zero point tie: 0 - (-0.3125 / 0.125) = 2.5 -> 2 (half to even), as for PyTorch.
  p = qmath::asymmetric_params(-0.3125f, 31.5625f, kU8, AsymmetricConvention::kOnnx);
  CHECK(p.scale == 0.125f);
  CHECK(p.zero_point == 2);
}

TEST_CASE("asymmetric_params: the zero point maps real 0 exactly and stays in range", "[qparams]") {
  // Property over a grid of ranges, both conventions, int8 and uint8 and a 4-bit range: zp in [qmin, qmax], and
  // min' and max' quantize within one step of qmin and qmax.
  const QuantRange range = GENERATE(values<QuantRange>({kU8, kS8, qmath::bit_range(4, true), QuantRange{0, 127}}));
  const auto conv = GENERATE(AsymmetricConvention::kPyTorch, AsymmetricConvention::kOnnx);
  for (float lo : {-100.0f, -3.0f, -1.0f, -0.01f, 0.0f, 0.5f})
    for (float hi : {0.0f, 0.001f, 0.7f, 2.0f, 55.5f, 1000.0f}) {
      if (lo > hi) continue;
      const QuantParams p = qmath::asymmetric_params(lo, hi, range, conv);
      CAPTURE(lo, hi, range.qmin, range.qmax, p.scale, p.zero_point);
      CHECK(p.scale > 0.0f);
      CHECK(p.zero_point >= range.qmin);
      CHECK(p.zero_point <= range.qmax);
      const float lo0 = std::min(lo, 0.0f), hi0 = std::max(hi, 0.0f);
      if (hi0 > lo0) {
        CHECK(std::abs(lo0 / p.scale + p.zero_point - range.qmin) <= 1.0f);
        CHECK(std::abs(hi0 / p.scale + p.zero_point - range.qmax) <= 1.0f);
      }
    }
}

TEST_CASE("symmetric_params: TensorRT amax/127 on the narrow range and PyTorch amax/127.5", "[qparams]") {
  // TensorRT: scale = f32(2 / 127) = 0.0157480314 (0x3c810204), zp 0 - on [-127, 127].
  QuantParams p = qmath::symmetric_params(2.0f, kS8Narrow, SymmetricConvention::kTensorRT);
  CHECK(qref::float_bits(p.scale) == 0x3c810204u);
  CHECK(p.zero_point == 0);
  // kTensorRT is the default; scale = amax / qmax, so the full int8 range gives the same amax/127.
  CHECK(qref::float_bits(qmath::symmetric_params(1.0f, kS8Narrow).scale) == 0x3c010204u);  // f32(1/127)
  CHECK(qref::float_bits(qmath::symmetric_params(6.0f, kS8).scale) == 0x3d418306u);        // f32(6/127)
  // TensorRT-style unsigned (post-ReLU): amax / 255, zp 0: f32(6 / 255) = 0x3cc0c0c1.
  p = qmath::symmetric_params(6.0f, kU8, SymmetricConvention::kTensorRT);
  CHECK(qref::float_bits(p.scale) == 0x3cc0c0c1u);
  CHECK(p.zero_point == 0);
  // PyTorch per_tensor_symmetric qint8: amax / ((127 - -128) / 2) = 2.5 / 127.5 = 0.0196078438 (0x3ca0a0a1), zp 0.
  p = qmath::symmetric_params(2.5f, kS8, SymmetricConvention::kPyTorch);
  CHECK(qref::float_bits(p.scale) == 0x3ca0a0a1u);
  CHECK(p.zero_point == 0);
  // PyTorch quint8 symmetric: same scale, zp 128.
  p = qmath::symmetric_params(2.5f, kU8, SymmetricConvention::kPyTorch);
  CHECK(qref::float_bits(p.scale) == 0x3ca0a0a1u);
  CHECK(p.zero_point == 128);
  // f32(6 / 127.5) = 0.0470588244 (0x3d40c0c1).
  CHECK(qref::float_bits(qmath::symmetric_params(6.0f, kU8, SymmetricConvention::kPyTorch).scale) == 0x3d40c0c1u);
  CHECK(qref::float_bits(qmath::symmetric_params(1.0f, kS8, SymmetricConvention::kPyTorch).scale) == 0x3c008081u);
  // amax == 0 gives eps (0x34000000) in both conventions; tiny amax is floored to eps too.
  for (auto conv : {SymmetricConvention::kTensorRT, SymmetricConvention::kPyTorch}) {
    CHECK(qmath::symmetric_params(0.0f, kS8, conv).scale == qmath::kMinScale);
    CHECK(qmath::symmetric_params(1e-30f, kS8, conv).scale == qmath::kMinScale);
  }
  CHECK(qref::float_bits(qmath::kMinScale) == 0x34000000u);
  // 4-bit symmetric: amax / 7 on [-7, 7].
  CHECK(qmath::symmetric_params(7.0f, qmath::bit_range(4, true, true)).scale == 1.0f);
}

TEST_CASE("qparams error policy: NaN, Inf, negative amax, min > max, bad ranges", "[qparams]") {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(qmath::symmetric_params(nan, kS8), qmath::error);
  CHECK_THROWS_WITH(qmath::symmetric_params(nan, kS8), "qmath::symmetric_params: amax is NaN");
  CHECK_THROWS_WITH(qmath::symmetric_params(inf, kS8), Contains("amax is infinite"));
  CHECK_THROWS_WITH(qmath::symmetric_params(-1.0f, kS8), "qmath::symmetric_params: amax is negative (-1)");
  CHECK_THROWS_WITH(qmath::symmetric_params(1.0f, QuantRange{3, 3}), Contains("empty quantized range [3, 3]"));
  CHECK_THROWS_WITH(qmath::symmetric_params(1.0f, QuantRange{0, 1 << 20}), Contains("wider than 16 bits"));
  CHECK_THROWS_WITH(qmath::asymmetric_params(nan, 1.0f, kU8), "qmath::asymmetric_params: min is NaN");
  CHECK_THROWS_WITH(qmath::asymmetric_params(0.0f, nan, kU8), "qmath::asymmetric_params: max is NaN");
  CHECK_THROWS_WITH(qmath::asymmetric_params(-inf, 1.0f, kU8), Contains("min is infinite"));
  CHECK_THROWS_WITH(qmath::asymmetric_params(0.0f, inf, kU8, AsymmetricConvention::kOnnx),
                    Contains("max is infinite"));
  CHECK_THROWS_WITH(qmath::asymmetric_params(2.0f, 1.0f, kU8),
                    "qmath::asymmetric_params: min (2) is greater than max (1)");
  CHECK_THROWS_WITH(qmath::asymmetric_params(0.0f, 1.0f, QuantRange{5, 1}), Contains("empty quantized range"));
}

TEST_CASE("channel_layout: ONNX axis semantics on a row-major N-d tensor", "[qparams]") {
  const std::vector<std::int64_t> shape{2, 3, 4, 5};
  struct Row {
    int axis;
    std::size_t outer, channels, inner;
  };
  const Row row = GENERATE(values<Row>({{0, 1, 2, 60}, {1, 2, 3, 20}, {2, 6, 4, 5}, {3, 24, 5, 1},
                                        {-1, 24, 5, 1}, {-3, 2, 3, 20}, {-4, 1, 2, 60}}));
  const qmath::ChannelLayout l = qmath::channel_layout(shape, row.axis);
  CAPTURE(row.axis);
  CHECK(l.outer == row.outer);
  CHECK(l.channels == row.channels);
  CHECK(l.inner == row.inner);
  CHECK(l.size() == 120);
}

TEST_CASE("channel_layout: errors", "[qparams]") {
  CHECK_THROWS_WITH(qmath::channel_layout({2, 3}, 2), "qmath::channel_layout: axis 2 out of range for rank 2");
  CHECK_THROWS_WITH(qmath::channel_layout({2, 3}, -3), Contains("axis -3 out of range"));
  CHECK_THROWS_WITH(qmath::channel_layout({}, 0), Contains("rank >= 1"));
  CHECK_THROWS_WITH(qmath::channel_layout({2, -1, 3}, 0), Contains("dimension 1 is negative (-1)"));
  // A zero dimension is allowed: an empty tensor.
  CHECK(qmath::channel_layout({2, 0, 3}, 1).size() == 0);
}

TEST_CASE("channel_amax and per_channel_symmetric_params follow the axis", "[qparams]") {
  // Tensor [2, 3, 4]; x[i][c][j] = (c + 1) * (j - 1.5) * (i ? -1 : 1) * (i + 1): per channel c along axis 1 the
  // absolute maximum is (c + 1) * 1.5 * 2 = 3 (c + 1). Along axis 2 (j), it is 3 * |j - 1.5| * 2.
  std::vector<float> x(24);
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c)
      for (int j = 0; j < 4; ++j) x[(i * 3 + c) * 4 + j] = (c + 1) * (j - 1.5f) * (i ? -2.0f : 1.0f);
  const auto a1 = qmath::channel_amax(x.data(), qmath::channel_layout({2, 3, 4}, 1));
  REQUIRE(a1.size() == 3);
  CHECK(a1[0] == 3.0f);
  CHECK(a1[1] == 6.0f);
  CHECK(a1[2] == 9.0f);
  const auto a2 = qmath::channel_amax(x.data(), qmath::channel_layout({2, 3, 4}, -1));
  REQUIRE(a2.size() == 4);
  CHECK(a2[0] == 9.0f);
  CHECK(a2[1] == 3.0f);
  CHECK(a2[2] == 3.0f);
  CHECK(a2[3] == 9.0f);
  const auto p = qmath::per_channel_symmetric_params(x.data(), qmath::channel_layout({2, 3, 4}, 1), kS8Narrow);
  REQUIRE(p.size() == 3);
  for (int c = 0; c < 3; ++c) {
    CHECK(p[c].scale == qmath::symmetric_params(a1[c], kS8Narrow).scale);
    CHECK(p[c].zero_point == 0);
  }
  const auto pp = qmath::per_channel_symmetric_params(x.data(), qmath::channel_layout({2, 3, 4}, 1), kS8,
                                                      SymmetricConvention::kPyTorch);
  CHECK(pp[2].scale == 9.0f / 127.5f);
  // A non-finite value names the channel and the flat element index: element 13 is (i=1, c=0, j=1).
  x[13] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(qmath::channel_amax(x.data(), qmath::channel_layout({2, 3, 4}, 1)),
                    "qmath::channel_amax: non-finite value nan in channel 0 at element 13");
  x[13] = -std::numeric_limits<float>::infinity();
  CHECK_THROWS_WITH(qmath::per_channel_symmetric_params(x.data(), qmath::channel_layout({2, 3, 4}, -1), kS8),
                    Contains("in channel 1 at element 13"));
}

TEST_CASE("asymmetric_params refuses ranges whose scale overflows or underflows to 0", "[qparams][hostile]") {
  CHECK_THROWS_WITH(qmath::asymmetric_params(-3.4e38f, 3.4e38f, qmath::full_range<std::int8_t>()),
                    Catch::Contains("overflows"));
  CHECK_THROWS_WITH(
      qmath::asymmetric_params(-3.4e38f, 3.4e38f, qmath::full_range<std::uint8_t>(), AsymmetricConvention::kOnnx),
      Catch::Contains("overflows"));
  CHECK_THROWS_WITH(
      qmath::asymmetric_params(-1e-44f, 0.0f, qmath::full_range<std::uint8_t>(), AsymmetricConvention::kOnnx),
      Catch::Contains("underflows"));
  // PyTorch floors the scale at eps: a tiny range is fine there.
  const QuantParams t = qmath::asymmetric_params(-1e-44f, 0.0f, qmath::full_range<std::uint8_t>());
  CHECK(t.scale == qmath::kMinScale);
  // The widest range that still fits.
  const QuantParams w = qmath::asymmetric_params(-1.0e38f, 1.0e38f, qmath::full_range<std::int8_t>());
  CHECK(std::isfinite(w.scale));
}

TEST_CASE("channel_layout refuses a shape whose element count overflows size_t", "[qparams][hostile]") {
  const std::int64_t big = std::int64_t(1) << 40;
  CHECK_THROWS_WITH(qmath::channel_layout({big, big}, 0), Catch::Contains("overflows"));
  CHECK_THROWS_WITH(qmath::channel_layout({big, 1, big}, 1), Catch::Contains("overflows"));
  CHECK_THROWS_WITH(qmath::channel_layout({big, big, 0}, 2), Catch::Contains("overflows"));
  CHECK(qmath::channel_layout({big, 2}, 1).size() == static_cast<std::size_t>(big) * 2);
}

// ---- PyTorch observers: reduce_range ----------------------------------------------------------------------------
// Expected values checked against torch 1.13 (Debian python3-torch): MinMaxObserver(dtype, qscheme, reduce_range=True)
// on [-1, 3] gives (0.0315, 32) quint8 affine, (0.0315, -32) qint8 affine, (0.0472, 0) qint8 symmetric, and refuses
// quint8 symmetric with NotImplementedError. tests/pytorch/ holds the generated vectors.

TEST_CASE("pytorch_observer_range: the default 8-bit ranges, halved by reduce_range", "[qparams][pytorch]") {
  using qmath::TorchDtype;
  const QuantRange s8 = qmath::pytorch_observer_range(TorchDtype::kQInt8, false);
  const QuantRange s8r = qmath::pytorch_observer_range(TorchDtype::kQInt8, true);
  const QuantRange u8 = qmath::pytorch_observer_range(TorchDtype::kQUInt8, false);
  const QuantRange u8r = qmath::pytorch_observer_range(TorchDtype::kQUInt8, true);
  CHECK((s8.qmin == -128 && s8.qmax == 127));
  CHECK((s8r.qmin == -64 && s8r.qmax == 63));
  CHECK((u8.qmin == 0 && u8.qmax == 255));
  CHECK((u8r.qmin == 0 && u8r.qmax == 127));
}

TEST_CASE("pytorch_observer_params with reduce_range: affine and symmetric, and PyTorch's refusal",
          "[qparams][pytorch]") {
  using qmath::PyTorchObserverSpec;
  using qmath::TorchDtype;
  using qmath::TorchQScheme;
  // [-1, 3] affine, reduce_range: scale f32(4 / 127) = 0x3d010204, min' / scale = -31.75 -> -32.
  const QuantParams u = qmath::pytorch_observer_params(-1.0f, 3.0f, {TorchDtype::kQUInt8, TorchQScheme::kAffine, true});
  CHECK(qref::float_bits(u.scale) == 0x3d010204u);
  CHECK(u.zero_point == 32);
  const QuantParams s = qmath::pytorch_observer_params(-1.0f, 3.0f, {TorchDtype::kQInt8, TorchQScheme::kAffine, true});
  CHECK(qref::float_bits(s.scale) == 0x3d010204u);
  CHECK(s.zero_point == -32);
  // Symmetric qint8, reduce_range: 3 / 63.5 = 0x3d418306, zero point 0.
  const QuantParams ss =
      qmath::pytorch_observer_params(-1.0f, 3.0f, {TorchDtype::kQInt8, TorchQScheme::kSymmetric, true});
  CHECK(qref::float_bits(ss.scale) == 0x3d418306u);
  CHECK(ss.zero_point == 0);
  // Without reduce_range: symmetric quint8 3 / 127.5 = 0x3cc0c0c1 with zero point 128; affine quint8 4 / 255, 64.
  const QuantParams su = qmath::pytorch_observer_params(-1.0f, 3.0f, {TorchDtype::kQUInt8, TorchQScheme::kSymmetric});
  CHECK(qref::float_bits(su.scale) == 0x3cc0c0c1u);
  CHECK(su.zero_point == 128);
  const QuantParams au = qmath::pytorch_observer_params(-1.0f, 3.0f, {TorchDtype::kQUInt8, TorchQScheme::kAffine});
  CHECK(qref::float_bits(au.scale) == 0x3c808081u);
  CHECK(au.zero_point == 64);
  // An empty range: eps, as PyTorch's observers.
  const QuantParams z = qmath::pytorch_observer_params(0.0f, 0.0f, {TorchDtype::kQInt8, TorchQScheme::kSymmetric, true});
  CHECK(z.scale == qmath::kMinScale);
  // The refusal: at construction, as PyTorch's observer constructors; the affine quint8 and the qint8 forms are fine.
  CHECK_THROWS_AS(PyTorchObserverSpec(TorchDtype::kQUInt8, TorchQScheme::kSymmetric, true), qmath::error);
  CHECK_THROWS_WITH(PyTorchObserverSpec(TorchDtype::kQUInt8, TorchQScheme::kSymmetric, true),
                    "qmath::PyTorchObserverSpec: cannot reduce range for symmetric quantization for quint8 "
                    "(PyTorch's observers refuse it too)");
  CHECK_NOTHROW(PyTorchObserverSpec(TorchDtype::kQUInt8, TorchQScheme::kAffine, true));
  CHECK_NOTHROW(PyTorchObserverSpec(TorchDtype::kQInt8, TorchQScheme::kSymmetric, true));
  CHECK_NOTHROW(PyTorchObserverSpec(TorchDtype::kQUInt8, TorchQScheme::kSymmetric, false));
  // Bad ranges are refused in both schemes.
  CHECK_THROWS_WITH(qmath::pytorch_observer_params(2.0f, 1.0f, {TorchDtype::kQInt8, TorchQScheme::kSymmetric}),
                    Contains("min (2) is greater than max (1)"));
  CHECK_THROWS_WITH(qmath::pytorch_observer_params(std::numeric_limits<float>::quiet_NaN(), 1.0f,
                                                   {TorchDtype::kQInt8, TorchQScheme::kSymmetric}),
                    Contains("min is NaN"));
  CHECK_THROWS_WITH(qmath::pytorch_observer_params(0.0f, std::numeric_limits<float>::infinity(),
                                                   {TorchDtype::kQUInt8, TorchQScheme::kAffine, true}),
                    Contains("max is infinite"));
}

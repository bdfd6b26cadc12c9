// PyTorch conformance (tests/pytorch/data/pytorch_vectors.txt, generated from torch 1.13 by gen_pytorch_vectors.py):
// quantize_per_tensor, quantize_per_channel and fake_quantize_per_tensor_affine reproduced bit for bit by
// QuantizeRule::kMultiplyReciprocal on every quantize path this machine runs (portable loops, AVX2, AVX-512), the
// kDivide rule differing on many of the same near-tie inputs; the MinMax observers' calculate_qparams with dtype,
// qscheme and reduce_range reproduced by the calibrators' compute_params; and PyTorch's refusal of symmetric quint8
// with reduce_range reproduced by PyTorchObserverSpec; torch.ops.quantized.linear_dynamic (qnnpack) with a float bias
// reproduced bit for bit by a float-output GEMM with the layer's multipliers and bias_after_scale (the epilogue's
// float bias stage) on every GEMM path this machine runs.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include <qmath/calibration/minmax.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/linear.hpp>
#include <qmath/quantize_array.hpp>

#include "pytorch_vectors.hpp"

namespace {

using qmath::Isa;
using qmath::QuantizeRule;
using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Round;
namespace pt = qmath_test::pytorch;

// The quantize paths (qmath/isa.hpp) with kernels of their own; a path this CPU lacks is reported, not passed.
std::vector<Isa> runnable_paths() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (qmath::isa_available(isa))
      v.push_back(isa);
    else
      WARN(qmath::isa_name(isa) << " is not available here: its quantize kernel is NOT checked against PyTorch");
  }
  return v;
}

QuantRange dtype_range(int dtype) {
  return dtype == 0 ? qmath::full_range<std::int8_t>() : qmath::full_range<std::uint8_t>();
}

template <class T>
std::vector<std::int32_t> quantize_on(Isa isa, const std::vector<float>& x, QuantParams p, QuantizeRule rule) {
  std::vector<T> q(x.size());
  qmath::quantize_array(x.data(), x.size(), q.data(), p, qmath::full_range<T>(), Round::kHalfToEven, isa, rule);
  return std::vector<std::int32_t>(q.begin(), q.end());
}

std::vector<std::int32_t> quantize_on(Isa isa, int dtype, const std::vector<float>& x, QuantParams p,
                                      QuantizeRule rule) {
  return dtype == 0 ? quantize_on<std::int8_t>(isa, x, p, rule) : quantize_on<std::uint8_t>(isa, x, p, rule);
}

// The index of the first difference, or -1.
long first_difference(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i] != b[i]) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(std::min(a.size(), b.size()));
}

// An observer setting as the ob and rf records hold it: dtype (0 qint8), qscheme (0 affine), reduce_range.
struct ObserverSetting {
  qmath::TorchDtype dtype;
  qmath::TorchQScheme qscheme;
  bool reduce_range;
  explicit ObserverSetting(pt::Words& w)
      : dtype(w.i32() == 0 ? qmath::TorchDtype::kQInt8 : qmath::TorchDtype::kQUInt8),
        qscheme(w.i32() == 0 ? qmath::TorchQScheme::kAffine : qmath::TorchQScheme::kSymmetric),
        reduce_range(w.i32() != 0) {}
  qmath::PyTorchObserverSpec spec() const { return qmath::PyTorchObserverSpec(dtype, qscheme, reduce_range); }
};
std::ostream& operator<<(std::ostream& os, const ObserverSetting& s) {
  return os << "dtype " << static_cast<int>(s.dtype) << " qscheme " << static_cast<int>(s.qscheme) << " reduce_range "
            << s.reduce_range;
}

}  // namespace

TEST_CASE("quantize_per_tensor: kMultiplyReciprocal equals torch 1.13 bit for bit on every path", "[pytorch]") {
  const std::vector<pt::TensorCase> cases = pt::tensor_cases();
  const std::vector<Isa> paths = runnable_paths();
  std::size_t values = 0, divide_differs = 0;
  for (const pt::TensorCase& c : cases) {
    const QuantParams p{c.scale, c.zero_point};
    const QuantRange range = dtype_range(c.dtype);
    values += c.x.size();
    std::vector<std::int32_t> scalar(c.x.size());
    for (std::size_t i = 0; i < c.x.size(); ++i)
      scalar[i] = qmath::quantize_value(c.x[i], p, range, Round::kHalfToEven, QuantizeRule::kMultiplyReciprocal);
    INFO("dtype " << c.dtype << " scale " << c.scale << " zp " << c.zero_point);
    CHECK(first_difference(scalar, c.q) == -1);
    for (Isa isa : paths) {
      INFO("path " << qmath::isa_name(isa));
      CHECK(first_difference(quantize_on(isa, c.dtype, c.x, p, QuantizeRule::kMultiplyReciprocal), c.q) == -1);
    }
    const std::vector<std::int32_t> divided = quantize_on(Isa::kScalar, c.dtype, c.x, p, QuantizeRule::kDivide);
    for (std::size_t i = 0; i < c.x.size(); ++i) divide_differs += divided[i] != c.q[i];
  }
  // The data holds near-ties chosen where the rules disagree: kDivide (ONNX) cannot reproduce them.
  WARN("PyTorch vectors: " << values << " quantize_per_tensor values in " << cases.size() << " tensors; kDivide differs on "
                           << divide_differs << ", kMultiplyReciprocal on none");
  CHECK(divide_differs > values / 10);
}

TEST_CASE("quantize_per_channel: kMultiplyReciprocal equals torch 1.13 on every path", "[pytorch]") {
  const std::vector<Isa> paths = runnable_paths();
  for (const pt::ChannelCase& c : pt::channel_cases()) {
    std::vector<QuantParams> params;
    for (std::size_t k = 0; k < c.channels; ++k) params.push_back({c.scales[k], c.zero_points[k]});
    const qmath::ChannelLayout layout{c.outer, c.channels, c.inner};
    for (Isa isa : paths) {
      std::vector<std::int32_t> got;
      if (c.dtype == 0) {
        std::vector<std::int8_t> q(layout.size());
        qmath::quantize_per_channel(c.x.data(), layout, params.data(), q.data(), qmath::full_range<std::int8_t>(),
                                    Round::kHalfToEven, isa, QuantizeRule::kMultiplyReciprocal);
        got.assign(q.begin(), q.end());
      } else {
        std::vector<std::uint8_t> q(layout.size());
        qmath::quantize_per_channel(c.x.data(), layout, params.data(), q.data(), qmath::full_range<std::uint8_t>(),
                                    Round::kHalfToEven, isa, QuantizeRule::kMultiplyReciprocal);
        got.assign(q.begin(), q.end());
      }
      INFO("dtype " << c.dtype << " path " << qmath::isa_name(isa));
      CHECK(first_difference(got, c.q) == -1);
    }
  }
}

TEST_CASE("fake_quantize_per_tensor_affine: kMultiplyReciprocal equals torch 1.13 on every path", "[pytorch]") {
  const std::vector<Isa> paths = runnable_paths();
  for (const pt::FakeCase& c : pt::fake_cases()) {
    const QuantParams p{c.scale, c.zero_point};
    const QuantRange range{c.qmin, c.qmax};
    for (Isa isa : paths) {
      std::vector<float> y(c.x.size());
      qmath::fake_quantize_array(c.x.data(), c.x.size(), y.data(), p, range, Round::kHalfToEven, isa,
                                 QuantizeRule::kMultiplyReciprocal);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < y.size(); ++i) bad += pt::as_bits(y[i]) != c.y_bits[i];
      INFO("range [" << c.qmin << ", " << c.qmax << "] scale " << c.scale << " zp " << c.zero_point << " path "
                     << qmath::isa_name(isa));
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("MinMax observers with dtype, qscheme and reduce_range equal torch 1.13's calculate_qparams", "[pytorch]") {
  std::size_t n = 0;
  for (const pt::Record& r : pt::read_records("ob")) {
    pt::Words w(r);
    const int observer = w.i32();
    const ObserverSetting setting(w);
    const std::size_t batches = w.size(), outer = w.size(), channels = w.size(), inner = w.size();
    const qmath::ChannelLayout layout{outer, channels, inner};
    const std::vector<float> x = w.floats(batches * layout.size());
    const qmath::PyTorchObserverSpec spec = setting.spec();
    std::vector<QuantParams> got;
    switch (observer) {
      case 0: {
        qmath::MinMaxCalibrator c;
        for (std::size_t b = 0; b < batches; ++b) c.collect(x.data() + b * layout.size(), layout.size());
        got.push_back(c.compute_params(spec));
        break;
      }
      case 1: {
        qmath::MovingAverageMinMaxCalibrator c;
        for (std::size_t b = 0; b < batches; ++b) c.collect(x.data() + b * layout.size(), layout.size());
        got.push_back(c.compute_params(spec));
        break;
      }
      case 2: {
        qmath::PerChannelMinMaxCalibrator c(channels);
        for (std::size_t b = 0; b < batches; ++b) c.collect(x.data() + b * layout.size(), layout);
        got = c.compute_params(spec);
        break;
      }
      default: {
        qmath::PerChannelMovingAverageMinMaxCalibrator c(channels);
        for (std::size_t b = 0; b < batches; ++b) c.collect(x.data() + b * layout.size(), layout);
        got = c.compute_params(spec);
        break;
      }
    }
    REQUIRE(got.size() == channels);
    for (std::size_t k = 0; k < channels; ++k) {
      const std::uint32_t scale_bits = w.u32();
      const std::int32_t zero_point = w.i32();
      INFO("observer " << observer << " " << setting << " channel " << k);
      CHECK(pt::as_bits(got[k].scale) == scale_bits);
      CHECK(got[k].zero_point == zero_point);
    }
    CHECK(w.done());
    ++n;
  }
  CHECK(n == 28);  // 4 observers x 8 settings, less the 4 that PyTorch refuses (symmetric quint8 with reduce_range)
}

TEST_CASE("PyTorchObserverSpec refuses exactly what torch 1.13's MinMaxObserver refuses", "[pytorch]") {
  std::size_t refused = 0;
  for (const pt::Record& r : pt::read_records("rf")) {
    pt::Words w(r);
    const ObserverSetting setting(w);
    const bool torch_refuses = w.i32() != 0;
    INFO(setting);
    if (torch_refuses)
      CHECK_THROWS_AS(setting.spec(), qmath::error);
    else
      CHECK_NOTHROW(setting.spec());
    refused += torch_refuses;
  }
  CHECK(refused == 1);
}

TEST_CASE("torch linear_dynamic (qnnpack), float bias: the float-output GEMM with bias_after_scale", "[pytorch]") {
  const std::vector<pt::DynamicLinearCase> cases = pt::dynamic_linear_cases();
  REQUIRE(cases.size() == 3);
  for (const pt::DynamicLinearCase& c : cases) {
    qmath::LinearLayerArgs layer;
    layer.n = c.n;
    layer.input = {c.a_scale, c.a_zero_point};
    for (float s : c.w_scale) layer.weight.push_back({s, 0});
    layer.bias = c.bias;
    layer.float_output = true;
    layer.bias_after_scale = true;
    const qmath::LinearRequantization r = qmath::make_linear_requantization(layer);
    const auto a = qmath::row_major(c.a_q.data(), c.m, c.k);
    const auto w = qmath::col_major(c.w_q.data(), c.k, c.n);  // torch's n x k weight is B (k x n) column-major
    std::vector<float> y(std::size_t(c.m) * c.n);
    qmath::gemm_reference(qmath::GemmArgs{a, w, qmath::row_major(y.data(), c.m, c.n), c.a_zero_point, 0, r.epilogue()});
    INFO("m " << c.m << " n " << c.n << " k " << c.k << " per channel " << c.per_channel);
    CHECK(std::vector<std::uint32_t>(y.size()) != c.y_bits);  // a real output, not zeros
    std::vector<std::uint32_t> got;
    for (float v : y) got.push_back(pt::as_bits(v));
    CHECK(got == c.y_bits);
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDotprod,
                    Isa::kNeonI8mm}) {
      if (!qmath::isa_available(isa)) continue;  // the GEMM paths this CPU runs
      std::vector<float> y2(y.size(), -1.0f);
      qmath::cpu::GemmOptions options;
      options.isa = isa;
      qmath::cpu::gemm(qmath::GemmArgs{a, w, qmath::row_major(y2.data(), c.m, c.n), c.a_zero_point, 0, r.epilogue()},
                       options);
      INFO("path " << qmath::isa_name(isa));
      CHECK(std::memcmp(y2.data(), y.data(), y.size() * sizeof(float)) == 0);
    }
  }
}

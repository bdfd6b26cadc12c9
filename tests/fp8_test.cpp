// Tests for qmath/fp8.hpp against the vectors of tests/formats/gen_vectors.py (ml_dtypes decode tables, the ONNX
// reference Cast / QuantizeLinear / DequantizeLinear with the spec's table where they differ), plus the spec table's
// rows written out by hand and the error policy.
#include <qmath/fp8.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "float_specials.hpp"
#include "formats/fp8_vectors.hpp"
#include "formats/vector_file.hpp"

using qmath_test::kInf;
using qmath_test::kNaN;
using qmath::Fp8Format;
using qmath_test::as_float;
using qmath_test::read_vectors;
using qmath_test::same_float;
using qmath_test::kFp8Formats;

TEST_CASE("fp8_to_float decodes every code as ml_dtypes does", "[fp8]") {
  std::size_t n = 0;
  for (const auto& r : read_vectors("fp8_cast.txt", "dec")) {
    const Fp8Format f = kFp8Formats[r.words[0]];
    const float got = qmath::fp8_to_float(static_cast<std::uint8_t>(r.words[1]), f);
    INFO("format " << r.words[0] << " code " << r.words[1]);
    CHECK(same_float(got, r.words[2]));
    ++n;
  }
  CHECK(n == 4 * 256);
}

TEST_CASE("fp8_from_float matches ONNX Cast (ties, subnormals, max and beyond, specials) with and without saturate",
          "[fp8]") {
  std::size_t n = 0;
  for (const auto& r : read_vectors("fp8_cast.txt", "c")) {
    const Fp8Format f = kFp8Formats[r.words[0]];
    const bool sat = r.words[1] != 0;
    const float x = as_float(r.words[2]);
    INFO("format " << r.words[0] << " saturate " << sat << " x " << x << " (bits " << std::hex << r.words[2] << ")");
    CHECK(qmath::fp8_from_float(x, f, sat) == r.words[3]);
    ++n;
  }
  CHECK(n > 4000);
}

TEST_CASE("fp8: every finite code survives decode then encode", "[fp8]") {
  for (Fp8Format f : kFp8Formats)
    for (int c = 0; c < 256; ++c) {
      const float v = qmath::fp8_to_float(static_cast<std::uint8_t>(c), f);
      if (std::isnan(v) || std::isinf(v)) continue;
      for (bool sat : {true, false}) CHECK(qmath::fp8_from_float(v, f, sat) == c);
    }
}

TEST_CASE("fp8: the ONNX Cast table's rows", "[fp8]") {
  using F = Fp8Format;
  // max values and the amax helpers
  CHECK(qmath::fp8_max(F::kE4M3FN) == 448.0f);
  CHECK(qmath::fp8_max(F::kE5M2) == 57344.0f);
  CHECK(qmath::fp8_max(F::kE4M3FNUZ) == 240.0f);
  CHECK(qmath::fp8_max(F::kE5M2FNUZ) == 57344.0f);
  // +-Inf, saturate: FLT_MAX for E4M3FN / E5M2, NaN for the FNUZ types
  CHECK(qmath::fp8_from_float(kInf, F::kE4M3FN) == 0x7E);
  CHECK(qmath::fp8_from_float(-kInf, F::kE4M3FN) == 0xFE);
  CHECK(qmath::fp8_from_float(kInf, F::kE5M2) == 0x7B);
  CHECK(qmath::fp8_from_float(-kInf, F::kE4M3FNUZ) == 0x80);
  CHECK(qmath::fp8_from_float(kInf, F::kE5M2FNUZ) == 0x80);
  // +-Inf without saturation: -NaN for E4M3FN, -Inf for E5M2
  CHECK(qmath::fp8_from_float(-kInf, F::kE4M3FN, false) == 0xFF);
  CHECK(qmath::fp8_from_float(-kInf, F::kE5M2, false) == 0xFC);
  // [x] > FLT_MAX: 464 is the tie between 448 and 480 and rounds to 448 (even); 464.00003 rounds to 480
  CHECK(qmath::fp8_from_float(464.0f, F::kE4M3FN, false) == 0x7E);
  CHECK(qmath::fp8_from_float(464.00003f, F::kE4M3FN, false) == 0x7F);
  CHECK(qmath::fp8_from_float(464.00003f, F::kE4M3FN, true) == 0x7E);
  // E5M2: 61440 is the tie between 57344 (mantissa 11) and 2^16 (mantissa 00, the Inf code): even wins -> Inf
  CHECK(qmath::fp8_from_float(61440.0f, F::kE5M2, false) == 0x7C);
  CHECK(qmath::fp8_from_float(61439.996f, F::kE5M2, false) == 0x7B);
  CHECK(qmath::fp8_from_float(61440.0f, F::kE5M2, true) == 0x7B);
  // -0 and negatives rounding to zero: -0 where it exists, +0 in FNUZ
  CHECK(qmath::fp8_from_float(-0.0f, F::kE4M3FN) == 0x80);
  CHECK(qmath::fp8_from_float(-0.0f, F::kE4M3FNUZ) == 0x00);
  CHECK(qmath::fp8_from_float(-1e-30f, F::kE5M2FNUZ) == 0x00);
  // NaN
  CHECK(qmath::fp8_from_float(kNaN, F::kE4M3FN) == 0x7F);
  CHECK(qmath::fp8_from_float(kNaN, F::kE5M2) == 0x7E);
  CHECK(qmath::fp8_from_float(-kNaN, F::kE4M3FNUZ) == 0x80);
  // smallest subnormal of E4M3FN is 2^-9; 2^-10 is the tie with 0 and goes to 0 (even), a hair more to 2^-9
  CHECK(qmath::fp8_from_float(std::ldexp(1.0f, -10), F::kE4M3FN) == 0x00);
  CHECK(qmath::fp8_from_float(std::nextafter(std::ldexp(1.0f, -10), 1.0f), F::kE4M3FN) == 0x01);
  CHECK(qmath::fp8_from_float(3 * std::ldexp(1.0f, -10), F::kE4M3FN) == 0x02);  // tie 1.5 ulp -> 2 (even)
}

TEST_CASE("fp8 QuantizeLinear / DequantizeLinear per tensor match the ONNX reference, scalar and array", "[fp8]") {
  // The records grouped by (format, saturate, scale) so that the array forms see the same inputs.
  const auto groups = qmath_test::read_fp8_quant_groups();
  REQUIRE(groups.quantize.size() == 4 * 2 * 3);
  REQUIRE(groups.dequantize.size() == 4 * 2);
  for (const auto& g : groups.quantize) {
    std::vector<std::uint8_t> arr(g.x.size());
    qmath::fp8_quantize_array(g.x.data(), g.x.size(), arr.data(), g.scale, g.format, g.saturate);
    for (std::size_t i = 0; i < g.x.size(); ++i) {
      INFO("format " << g.format_index << " saturate " << g.saturate << " scale " << g.scale << " x " << g.x[i]);
      CHECK(qmath::fp8_quantize(g.x[i], g.scale, g.format, g.saturate) == g.want[i]);
      CHECK(arr[i] == g.want[i]);
    }
  }
  for (const auto& g : groups.dequantize) {
    std::vector<float> arr(g.codes.size());
    qmath::fp8_dequantize_array(g.codes.data(), g.codes.size(), arr.data(), g.scale, g.format);
    for (std::size_t i = 0; i < g.codes.size(); ++i) {
      INFO("format " << g.format_index << " scale " << g.scale << " code " << int(g.codes[i]));
      CHECK(same_float(qmath::fp8_dequantize(g.codes[i], g.scale, g.format), g.want[i]));
      CHECK(same_float(arr[i], g.want[i]));
    }
  }
}

TEST_CASE("fp8 per-axis QuantizeLinear / DequantizeLinear match the ONNX reference", "[fp8]") {
  const auto cases = qmath_test::read_fp8_per_axis_cases();
  CHECK(cases.size() == 4);
  for (const auto& c : cases) {
    std::vector<std::uint8_t> q(c.x.size());
    std::vector<float> d(c.x.size());
    qmath::fp8_quantize_per_axis(c.x.data(), c.layout, c.scales.data(), q.data(), c.format);
    qmath::fp8_dequantize_per_axis(q.data(), c.layout, c.scales.data(), d.data(), c.format);
    for (std::size_t k = 0; k < c.x.size(); ++k) {
      CHECK(q[k] == c.want_q[k]);
      CHECK(same_float(d[k], c.want_d[k]));
    }
  }
}

TEST_CASE("fp8 per-axis rows long enough for the vector kernel equal the scalar functions", "[fp8]") {
  const auto layout = qmath::channel_layout({2, 3, 45}, 1);  // rows of 45: one 32-element block and a remainder
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 300.0f);
  std::vector<float> x(layout.size());
  for (float& v : x) v = nd(rng);
  x[7] = kNaN;
  x[50] = -kInf;
  const float scales[3] = {0.25f, 1.5f, 40.0f};
  for (Fp8Format f : kFp8Formats)
    for (bool sat : {true, false}) {
      std::vector<std::uint8_t> q(x.size());
      qmath::fp8_quantize_per_axis(x.data(), layout, scales, q.data(), f, sat);
      for (std::size_t e = 0; e < x.size(); ++e)
        CHECK(q[e] == qmath::fp8_quantize(x[e], scales[(e / 45) % 3], f, sat));
    }
}

TEST_CASE("fp8: bad scales and amax throw qmath::error before anything is written", "[fp8]") {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  for (float bad : {0.0f, -1.0f, kNaN, kInf, -0.0f}) {
    std::uint8_t q[3] = {0xAA, 0xAA, 0xAA};
    float y[3] = {7.0f, 7.0f, 7.0f};
    CHECK_THROWS_AS(qmath::fp8_quantize_array(x, 3, q, bad, Fp8Format::kE4M3FN), qmath::error);
    CHECK_THROWS_WITH(qmath::fp8_dequantize_array(q, 3, y, bad, Fp8Format::kE5M2),
                      Catch::Contains("fp8_dequantize_array") && Catch::Contains("scale"));
    const float scales[3] = {1.0f, bad, 1.0f};
    CHECK_THROWS_AS(qmath::fp8_quantize_per_axis(x, {1, 3, 1}, scales, q, Fp8Format::kE4M3FN), qmath::error);
    CHECK_THROWS_AS(qmath::fp8_dequantize_per_axis(q, {1, 3, 1}, scales, y, Fp8Format::kE4M3FN), qmath::error);
    for (int i = 0; i < 3; ++i) {
      CHECK(q[i] == 0xAA);
      CHECK(y[i] == 7.0f);
    }
  }
  CHECK(qmath::fp8_scale_from_amax(448.0f, Fp8Format::kE4M3FN) == 1.0f);
  CHECK(qmath::fp8_scale_from_amax(57344.0f * 2, Fp8Format::kE5M2) == 2.0f);
  CHECK(qmath::fp8_scale_from_amax(0.0f, Fp8Format::kE4M3FN) == qmath::kMinScale);
  CHECK_THROWS_WITH(qmath::fp8_scale_from_amax(kNaN, Fp8Format::kE4M3FN), Catch::Contains("amax is NaN"));
  CHECK_THROWS_AS(qmath::fp8_scale_from_amax(-1.0f, Fp8Format::kE4M3FN), qmath::error);
  CHECK_THROWS_AS(qmath::fp8_scale_from_amax(kInf, Fp8Format::kE4M3FN), qmath::error);
}

#if QMATH_X86_SIMD
namespace {
// Kernel vs portable loop over x (several lengths, so that the scalar remainder runs too).
void check_kernel(const std::vector<float>& x, float scale) {
  for (Fp8Format f : kFp8Formats)
    for (bool sat : {true, false}) {
      std::vector<std::uint8_t> got(x.size()), want(x.size());
      qmath::detail::fp8_avx2::quantize(x.data(), x.size(), got.data(), scale, qmath::fp8_spec(f), sat);
      qmath::detail::fp8_quantize_array_scalar(x.data(), x.size(), want.data(), scale, f, sat);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (got[i] != want[i] && bad++ < 5) {
          INFO("format " << static_cast<int>(f) << " saturate " << sat << " scale " << scale << " x bits " << std::hex
                         << qmath_test::as_bits(x[i]));
          CHECK(int(got[i]) == int(want[i]));
        }
      CHECK(bad == 0);
    }
}
}  // namespace

TEST_CASE("fp8 AVX2 kernel equals the scalar reference bit for bit", "[fp8][simd]") {
  if (!qmath::isa_available(qmath::Isa::kAvx2)) {
    WARN("this CPU has no AVX2: the FP8 AVX2 kernel is not exercised here");
    return;
  }
  // Every edge value of the conformance vectors, then random bit patterns (NaN payloads, subnormals, all binades)
  // and random normal values, at several scales; 100003 elements leave a scalar remainder.
  std::vector<float> x;
  for (const auto& r : read_vectors("fp8_cast.txt"))
    if (r.tag == "c") x.push_back(as_float(r.words[2]));
  std::mt19937 rng(17);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::normal_distribution<float> nd(0.0f, 100.0f);
  for (int i = 0; i < 50000; ++i) x.push_back(as_float(bits(rng)));
  for (int i = 0; i < 50003; ++i) x.push_back(nd(rng));
  for (float scale : {1.0f, 0.5f, 3.0f, 1e-3f, 1e30f, 1e-38f}) check_kernel(x, scale);
  for (std::size_t n : {0u, 1u, 31u, 32u, 33u, 95u}) check_kernel(std::vector<float>(x.begin(), x.begin() + n), 0.7f);
}

TEST_CASE("fp8 AVX2 kernel equals the scalar reference on every float32 bit pattern", "[.slow][fp8][simd]") {
  if (!qmath::isa_available(qmath::Isa::kAvx2)) {
    WARN("this CPU has no AVX2: the FP8 AVX2 kernel is not exercised here");
    return;
  }
  std::vector<float> x(1u << 20);
  std::vector<std::uint8_t> got(x.size()), want(x.size());
  std::size_t bad = 0;
  for (std::uint64_t base = 0; base < (std::uint64_t(1) << 32); base += x.size()) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = as_float(static_cast<std::uint32_t>(base + i));
    for (Fp8Format f : kFp8Formats)
      for (bool sat : {true, false}) {
        qmath::detail::fp8_avx2::quantize(x.data(), x.size(), got.data(), 1.0f, qmath::fp8_spec(f), sat);
        qmath::detail::fp8_quantize_array_scalar(x.data(), x.size(), want.data(), 1.0f, f, sat);
        for (std::size_t i = 0; i < x.size(); ++i) bad += got[i] != want[i];
      }
  }
  CHECK(bad == 0);
}
#endif

TEST_CASE("fp8_quantize_array: every path the registry allows gives the scalar path's bits", "[fp8][isa]") {
  std::vector<float> x(1000);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 300.0f);
  for (float& v : x) v = nd(rng);
  std::vector<std::uint8_t> want(x.size()), got(x.size());
  qmath::fp8_quantize_array(x.data(), x.size(), want.data(), 0.5f, Fp8Format::kE4M3FN, true, qmath::Isa::kScalar);
  for (qmath::Isa isa : qmath::kAllIsas) {
    INFO("path " << qmath::isa_name(isa));
    if (!qmath::isa_available(isa) || isa > qmath::max_isa()) {
      CHECK_THROWS_AS(qmath::fp8_quantize_array(x.data(), x.size(), got.data(), 0.5f, Fp8Format::kE4M3FN, true, isa),
                      qmath::error);
      continue;
    }
    std::fill(got.begin(), got.end(), std::uint8_t(0));
    qmath::fp8_quantize_array(x.data(), x.size(), got.data(), 0.5f, Fp8Format::kE4M3FN, true, isa);
    CHECK(got == want);
  }
  CHECK(qmath::resolved_isa_for_fp8_quantize(qmath::Isa::kScalar) == qmath::Isa::kScalar);
}

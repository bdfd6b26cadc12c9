// Tests for qmath/cuda/fp8.cuh: every device entry point against its host function in <qmath/fp8.hpp> bit for bit,
// and against the ONNX conformance vectors of tests/formats/data/ (Cast with scale 1, QuantizeLinear /
// DequantizeLinear per tensor and per axis, the decode of all 256 codes of each format), plus random float32 bit
// patterns (NaN of both signs, subnormals, every binade), subnormal scales, input / output offsets that run the
// scalar head, the vector body, the tail and the all-scalar path, nothing written outside the output, and the
// validation before launch. Runs through the host execution layer in CI (QMATH_CUDA_HOST_EMULATION) and unchanged
// on a GPU (fp8_test_gpu.cu).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <qmath/cuda/fp8.cuh>
#include <qmath/fp8.hpp>
#include <random>
#include <tuple>
#include <vector>

#include "../formats/fp8_vectors.hpp"
#include "../formats/vector_file.hpp"
#include "test_support.hpp"

namespace {

using qmath::Fp8Format;
using qmath_test::as_bits;
using qmath_test::as_float;
using qmath_test::DeviceBuffer;
using qmath_test::kFp8Formats;
using qmath_test::read_vectors;

constexpr std::size_t kPad = 5;
constexpr std::uint8_t kCodeSentinel = 0xA5;
const float kFloatSentinel = -12345.0f;

// (input offset, output offset) pairs: both aligned (vector body and tail), both shifted alike (a scalar head
// first), shifted differently (the whole array scalar). Each launch runs its threads as OS threads under the host
// execution layer, so the list stays short.
const std::pair<std::size_t, std::size_t> kOffsets[] = {{0, 0}, {3, 3}, {1, 2}};

// Runs the device quantizer on x at the given offsets; returns the n codes and checks the padding is untouched.
std::vector<std::uint8_t> device_quantize(const std::vector<float>& x, float scale, Fp8Format f, bool sat,
                                          std::pair<std::size_t, std::size_t> off) {
  std::vector<float> hx(x.size() + 2 * kPad, 0.0f);
  std::copy(x.begin(), x.end(), hx.begin() + static_cast<std::ptrdiff_t>(off.first));
  DeviceBuffer<float> dx(hx);
  DeviceBuffer<std::uint8_t> dq(std::vector<std::uint8_t>(x.size() + 2 * kPad, kCodeSentinel));
  qmath::cuda::fp8_quantize(dx.get() + off.first, x.size(), dq.get() + off.second, scale, f, sat);
  const auto all = dq.download();
  std::vector<std::uint8_t> q(all.begin() + static_cast<std::ptrdiff_t>(off.second),
                              all.begin() + static_cast<std::ptrdiff_t>(off.second + x.size()));
  for (std::size_t i = 0; i < all.size(); ++i)
    if (i < off.second || i >= off.second + x.size()) CHECK(all[i] == kCodeSentinel);
  return q;
}

std::vector<float> device_dequantize(const std::vector<std::uint8_t>& q, float scale, Fp8Format f,
                                     std::pair<std::size_t, std::size_t> off) {
  std::vector<std::uint8_t> hq(q.size() + 2 * kPad, 0);
  std::copy(q.begin(), q.end(), hq.begin() + static_cast<std::ptrdiff_t>(off.first));
  DeviceBuffer<std::uint8_t> dq(hq);
  DeviceBuffer<float> dx(std::vector<float>(q.size() + 2 * kPad, kFloatSentinel));
  qmath::cuda::fp8_dequantize(dq.get() + off.first, q.size(), dx.get() + off.second, scale, f);
  const auto all = dx.download();
  std::vector<float> x(all.begin() + static_cast<std::ptrdiff_t>(off.second),
                       all.begin() + static_cast<std::ptrdiff_t>(off.second + q.size()));
  for (std::size_t i = 0; i < all.size(); ++i)
    if (i < off.second || i >= off.second + q.size()) CHECK(as_bits(all[i]) == as_bits(kFloatSentinel));
  return x;
}

std::size_t bit_differences(const std::vector<float>& a, const std::vector<float>& b) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) bad += as_bits(a[i]) != as_bits(b[i]);
  return bad;
}

}  // namespace

TEST_CASE("cuda::fp8_quantize / fp8_dequantize: ONNX vectors and the host arrays, bit for bit, every offset",
          "[cuda][fp8]" QMATH_CUDA_TEST_TAG) {
  const auto groups = qmath_test::read_fp8_quant_groups();
  REQUIRE(groups.quantize.size() == 4 * 2 * 3);
  REQUIRE(groups.dequantize.size() == 4 * 2);
  for (const auto& g : groups.quantize) {
    std::vector<std::uint8_t> host(g.x.size());
    qmath::fp8_quantize_array(g.x.data(), g.x.size(), host.data(), g.scale, g.format, g.saturate);
    for (const auto& off : kOffsets) {
      INFO("format " << g.format_index << " saturate " << g.saturate << " scale " << g.scale << " offsets "
                     << off.first << ", " << off.second);
      const auto got = device_quantize(g.x, g.scale, g.format, g.saturate, off);
      CHECK(got == g.want);
      CHECK(got == host);
    }
  }
  for (const auto& g : groups.dequantize) {
    std::vector<float> host(g.codes.size());
    qmath::fp8_dequantize_array(g.codes.data(), g.codes.size(), host.data(), g.scale, g.format);
    for (const auto& off : kOffsets) {
      INFO("format " << g.format_index << " scale " << g.scale << " offsets " << off.first << ", " << off.second);
      const auto got = device_dequantize(g.codes, g.scale, g.format, off);
      CHECK(bit_differences(got, host) == 0);
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(qmath_test::same_float(got[i], g.want[i]));
    }
  }
}

TEST_CASE("cuda::fp8_quantize with scale 1 is ONNX Cast; fp8_dequantize with scale 1 decodes every code",
          "[cuda][fp8]" QMATH_CUDA_TEST_TAG) {
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<std::vector<float>, std::vector<std::uint8_t>>> casts;
  for (const auto& r : read_vectors("fp8_cast.txt", "c")) {
    auto& g = casts[{r.words[0], r.words[1]}];
    g.first.push_back(as_float(r.words[2]));
    g.second.push_back(static_cast<std::uint8_t>(r.words[3]));
  }
  REQUIRE(casts.size() == 8);
  for (const auto& [key, g] : casts) {
    INFO("format " << key.first << " saturate " << key.second);
    CHECK(device_quantize(g.first, 1.0f, kFp8Formats[key.first], key.second != 0, {1, 1}) == g.second);
  }
  std::map<std::uint32_t, std::pair<std::vector<std::uint8_t>, std::vector<std::uint32_t>>> decodes;
  for (const auto& r : read_vectors("fp8_cast.txt", "dec")) {
    decodes[r.words[0]].first.push_back(static_cast<std::uint8_t>(r.words[1]));
    decodes[r.words[0]].second.push_back(r.words[2]);
  }
  REQUIRE(decodes.size() == 4);
  for (const auto& [fi, g] : decodes) {
    INFO("format " << fi);
    const auto got = device_dequantize(g.first, 1.0f, kFp8Formats[fi], {0, 0});
    REQUIRE(got.size() == 256);
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(qmath_test::same_float(got[i], g.second[i]));
      CHECK(as_bits(got[i]) == as_bits(qmath::fp8_to_float(g.first[i], kFp8Formats[fi])));  // NaN sign included
    }
  }
}

TEST_CASE("cuda::fp8 on random bit patterns and subnormal scales equals the host bit for bit",
          "[cuda][fp8]" QMATH_CUDA_TEST_TAG) {
  std::mt19937 rng(17);
  std::vector<float> x(3001);
  for (float& v : x) v = as_float(static_cast<std::uint32_t>(rng()));
  x[0] = std::numeric_limits<float>::quiet_NaN();
  x[1] = -std::numeric_limits<float>::quiet_NaN();
  x[2] = std::numeric_limits<float>::infinity();
  x[3] = -0.0f;
  std::vector<std::uint8_t> codes(1024);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i);
  for (const float scale : {0.37f, 3.0e-39f, 1.0e-45f, 2.5e38f})  // scale 1: the Cast test
    for (Fp8Format f : kFp8Formats) {
      for (bool sat : {true, false}) {
        INFO("format " << int(f) << " saturate " << sat << " scale " << scale);
        std::vector<std::uint8_t> host(x.size());
        qmath::fp8_quantize_array(x.data(), x.size(), host.data(), scale, f, sat);
        CHECK(device_quantize(x, scale, f, sat, {2, 2}) == host);
      }
      INFO("format " << int(f) << " scale " << scale);
      std::vector<float> host(codes.size());
      qmath::fp8_dequantize_array(codes.data(), codes.size(), host.data(), scale, f);
      CHECK(bit_differences(device_dequantize(codes, scale, f, {0, 0}), host) == 0);
    }
}

TEST_CASE("cuda::fp8 per axis matches the ONNX vectors and the host", "[cuda][fp8]" QMATH_CUDA_TEST_TAG) {
  const auto cases = qmath_test::read_fp8_per_axis_cases();
  CHECK(cases.size() == 4);
  for (const auto& c : cases) {
    std::vector<std::uint8_t> host_q(c.x.size());
    std::vector<float> host_d(c.x.size());
    qmath::fp8_quantize_per_axis(c.x.data(), c.layout, c.scales.data(), host_q.data(), c.format);
    qmath::fp8_dequantize_per_axis(host_q.data(), c.layout, c.scales.data(), host_d.data(), c.format);
    DeviceBuffer<float> dx(c.x), ds(c.scales), dd(c.x.size());
    DeviceBuffer<std::uint8_t> dq(c.x.size());
    qmath::cuda::check_fp8_scales(c.scales.data(), c.scales.size());
    qmath::cuda::fp8_quantize_per_axis(dx.get(), c.layout, ds.get(), dq.get(), c.format);
    qmath::cuda::fp8_dequantize_per_axis(dq.get(), c.layout, ds.get(), dd.get(), c.format);
    const auto q = dq.download();
    const auto d = dd.download();
    for (std::size_t k = 0; k < c.x.size(); ++k) CHECK(q[k] == c.want_q[k]);
    CHECK(q == host_q);
    CHECK(bit_differences(d, host_d) == 0);
  }
  // A longer tensor whose rows are not a multiple of the vector width: channels change inside a vector step.
  const auto layout = qmath::channel_layout({3, 5, 7}, 1);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 100.0f);
  std::vector<float> x(layout.size()), s = {0.5f, 1.0f / 3, 2.0f, 1e-3f, 7.0f};
  for (float& v : x) v = nd(rng);
  for (bool sat : {true, false}) {
    std::vector<std::uint8_t> host(x.size());
    qmath::fp8_quantize_per_axis(x.data(), layout, s.data(), host.data(), Fp8Format::kE4M3FNUZ, sat);
    DeviceBuffer<float> dx(x), ds(s);
    DeviceBuffer<std::uint8_t> dq(x.size());
    qmath::cuda::fp8_quantize_per_axis(dx.get(), layout, ds.get(), dq.get(), Fp8Format::kE4M3FNUZ, sat);
    CHECK(dq.download() == host);
  }
}

TEST_CASE("cuda::fp8: bad parameters throw before anything is written", "[cuda][fp8]" QMATH_CUDA_TEST_TAG) {
  using Catch::Matchers::Contains;
  DeviceBuffer<float> dx(std::vector<float>(8, 1.0f));
  DeviceBuffer<std::uint8_t> dq(std::vector<std::uint8_t>(8, kCodeSentinel));
  const auto untouched = [&] {
    for (std::uint8_t v : dq.download()) CHECK(v == kCodeSentinel);
  };
  CHECK_THROWS_WITH(qmath::cuda::fp8_quantize(dx.get(), 8, dq.get(), 0.0f, Fp8Format::kE4M3FN),
                    Contains("cuda::fp8_quantize") && Contains("scale"));
  CHECK_THROWS_WITH(qmath::cuda::fp8_quantize(dx.get(), 8, dq.get(), std::numeric_limits<float>::infinity(),
                                              Fp8Format::kE5M2),
                    Contains("scale"));
  CHECK_THROWS_WITH(qmath::cuda::fp8_quantize(nullptr, 8, dq.get(), 1.0f, Fp8Format::kE5M2), Contains("null input"));
  untouched();
  CHECK_THROWS_WITH(qmath::cuda::fp8_dequantize(dq.get(), 8, dx.get(), -1.0f, Fp8Format::kE5M2),
                    Contains("cuda::fp8_dequantize") && Contains("scale"));
  CHECK_THROWS_WITH(qmath::cuda::fp8_quantize_per_axis(dx.get(), qmath::channel_layout({2, 4}, 1), nullptr, dq.get(),
                                                       Fp8Format::kE4M3FN),
                    Contains("null per-axis scale pointer"));
  untouched();
  const float bad[3] = {1.0f, std::nanf(""), 2.0f};
  CHECK_THROWS_WITH(qmath::cuda::check_fp8_scales(bad, 3), Contains("cuda::check_fp8_scales") && Contains("scale"));
  qmath::cuda::fp8_quantize(dx.get(), 0, nullptr, 1.0f, Fp8Format::kE4M3FN);  // n = 0: nothing to do, no error
}

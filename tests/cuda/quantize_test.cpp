// Tests for qmath/cuda/quantize.cuh: every device entry point against its host function in <qmath/quantize.hpp>,
// compared bit for bit, over systematic values (every tie of every grid point near the range ends, NaN, +-inf,
// +-0, subnormals, +-FLT_MAX), fixed-seed random values, every rounding mode, full / narrow / 4-bit ranges, lengths
// around the vector width and input / output offsets that exercise the scalar head, the vector body, the scalar
// tail and the all-scalar path (input and output misaligned differently); the quantize rules (PyTorch's
// multiply-by-reciprocal against torch 1.13's own outputs from tests/pytorch/data, pytorch-quantization's
// bound-over-amax against the host). Runs in CI through the host shim (tests/cuda/shim) and unchanged on a GPU.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <qmath/cuda/quantize.cuh>
#include <qmath/quantize_array.hpp>
#include <random>
#include <vector>

#include "../pytorch/pytorch_vectors.hpp"
#include "../quantize_case.hpp"

namespace {

using qmath::ChannelLayout;
using qmath::QuantParams;
using qmath::QuantRange;
using qmath::Round;

const Round kModes[] = {Round::kHalfToEven, Round::kHalfAwayFromZero, Round::kHalfUp, Round::kTowardZero};

// A device array with `pad` spare elements on each side so tests can offset pointers; filled with a sentinel byte.
// Under the host execution layer "device memory" is host memory; on a GPU it is cudaMalloc'd.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(std::size_t n, std::size_t pad = 4) : n_(n + 2 * pad), pad_(pad) {
    ok(cudaMalloc(reinterpret_cast<void**>(&p_), n_ * sizeof(T)));
    ok(cudaMemset(p_, 0x5A, n_ * sizeof(T)));
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { cudaFree(p_); }
  // Pointer to element 0 of the usable part, shifted by `offset` elements (offset <= pad).
  T* at(std::size_t offset) { return p_ + pad_ + offset; }
  void upload(const std::vector<T>& v, std::size_t offset) { copy(at(offset), v.data(), v.size(), true); }
  std::vector<T> download(std::size_t n, std::size_t offset) {
    std::vector<T> v(n);
    copy(v.data(), at(offset), n, false);
    return v;
  }
  // The whole allocation, padding included (to prove nothing outside [offset, offset + n) was written).
  std::vector<T> download_all() {
    std::vector<T> v(n_);
    copy(v.data(), p_, n_, false);
    return v;
  }

 private:
  static void copy(T* dst, const T* src, std::size_t n, bool to_device) {
    if (n == 0) return;
    ok(cudaDeviceSynchronize());
    ok(cudaMemcpy(dst, src, n * sizeof(T), to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost));
  }
  static void ok(cudaError_t e) {
    if (e != cudaSuccess) FAIL("CUDA error: " << cudaGetErrorString(e));
  }
  std::size_t n_, pad_;
  T* p_ = nullptr;
};

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Index of the first element whose bits differ, or a.size().
template <class T>
std::size_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return i;
  return a.size();
}

// Values that probe quantize under p and range: every grid point of the quantized range near both ends and near
// the zero point, each +-ulp and each exact tie between neighbours (in real units), specials, and random values.
std::vector<float> probe_values(QuantParams p, QuantRange range, std::size_t random_count, std::uint32_t seed) {
  const float inf = std::numeric_limits<float>::infinity();
  // Constructed from the list, not inserted into an empty vector: GCC 12 under nvcc reports a false
  // -Wstringop-overflow on the insert once this function is inlined into a large test.
  std::vector<float> v{0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                       inf, -inf, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                       std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                       std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(), 1.0f, -1.0f};
  auto around = [&](std::int64_t q) {
    for (int half = -1; half <= 1; ++half) {
      const float r = static_cast<float>((static_cast<double>(q - p.zero_point) + 0.5 * half) * p.scale);
      v.push_back(r);
      v.push_back(std::nextafter(r, inf));
      v.push_back(std::nextafter(r, -inf));
    }
  };
  for (std::int64_t d = -3; d <= 3; ++d) {
    around(range.qmin + d);
    around(range.qmax + d);
    around(p.zero_point + d);
  }
  std::mt19937 rng(seed);
  const float span = static_cast<float>(range.qmax - range.qmin) * p.scale;
  std::uniform_real_distribution<float> dist(-span, span);
  std::uniform_int_distribution<int> grid(range.qmin - 2, range.qmax + 2);
  for (std::size_t i = 0; i < random_count; ++i) {
    if (i % 2 == 0) {
      v.push_back(dist(rng));
    } else {  // an exact tie: (k + 0.5) * scale
      v.push_back(static_cast<float>((grid(rng) - p.zero_point + 0.5) * static_cast<double>(p.scale)));
    }
  }
  return v;
}

using Case = qmath_test::QuantizeCase;

template <class T>
std::vector<Case> cases_for() {
  const QuantRange full = qmath::full_range<T>(), narrow = qmath::narrow_range<T>();
  const std::int32_t mid = full.qmin < 0 ? 0 : (full.qmax + 1) / 2;
  return {{{1.0f, 0}, full},
          {{0.0078125f, mid}, full},  // a power of two: x / scale exact
          {{0.1f, mid + 3}, full},    // not a power of two: ties after a rounded division
          {{3.0f, mid - 7}, narrow},
          {{2.5e-3f, full.qmin + 1}, narrow},
          {{1e-30f, full.qmax}, full}};  // tiny scale: almost everything saturates
}

}  // namespace

TEMPLATE_TEST_CASE("cuda::quantize / dequantize / fake_quantize match the host arrays bit for bit", "[cuda][quantize]",
                   std::int8_t, std::uint8_t, std::int16_t, std::uint16_t) {
  using T = TestType;
  std::uint32_t seed = 1;
  // Each case runs under two rounding modes, rotating, so every mode meets several cases (each emulated launch
  // starts 256 threads: the product of everything would be slow without adding coverage).
  const std::vector<Case> cases = cases_for<T>();
  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    const QuantRange range = c.range;
    if (c.p.zero_point < range.qmin || c.p.zero_point > range.qmax) continue;
    for (Round mode : {kModes[ci % 4], kModes[(ci + 1) % 4]}) {
      CAPTURE(c.p.scale, c.p.zero_point, range.qmin, range.qmax, static_cast<int>(mode));
      const std::vector<float> x = probe_values(c.p, range, 600, seed++);
      const std::size_t n = x.size();

      std::vector<T> want_q(n);
      qmath::quantize_array(x.data(), n, want_q.data(), c.p, range, mode);
      std::vector<float> want_dq(n), want_fq(n);
      qmath::dequantize_array(want_q.data(), n, want_dq.data(), c.p);
      qmath::fake_quantize_array(x.data(), n, want_fq.data(), c.p, range, mode);

      DeviceArray<float> dx(n), dy(n);
      DeviceArray<T> dq(n);
      dx.upload(x, 0);
      qmath::cuda::quantize(dx.at(0), n, dq.at(0), c.p, range, mode);
      const std::vector<T> got_q = dq.download(n, 0);
      INFO("first difference at " << first_difference(got_q, want_q));
      CHECK(same_bits(got_q, want_q));

      qmath::cuda::dequantize(dq.at(0), n, dy.at(0), c.p);
      const std::vector<float> got_dq = dy.download(n, 0);
      CHECK(same_bits(got_dq, want_dq));

      qmath::cuda::fake_quantize(dx.at(0), n, dy.at(0), c.p, range, mode);
      CHECK(same_bits(dy.download(n, 0), want_fq));
      // In place.
      qmath::cuda::fake_quantize(dx.at(0), n, dx.at(0), c.p, range, mode);
      CHECK(same_bits(dx.download(n, 0), want_fq));
    }
  }
}

TEST_CASE("cuda::quantize: lengths around the vector width at input/output offsets, nothing written outside",
          "[cuda][quantize]") {
  // Covers head-only, body-only, head+body+tail, tail-only and the all-scalar path (offsets that differ mod 4).
  // (Each emulated launch starts 256 threads, so the combinations are chosen rather than exhaustive.)
  const QuantParams p{0.05f, -3};
  const QuantRange range = qmath::full_range<std::int8_t>();
  const std::vector<float> pool = probe_values(p, range, 200, 7);
  const std::size_t offsets[][2] = {{0, 0}, {1, 1}, {3, 3}, {0, 1}, {2, 1}, {3, 0}};
  for (std::size_t n : {0, 1, 3, 4, 5, 7, 8, 9, 13, 16, 17, 37}) {
    const std::vector<float> x(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::int8_t> want(n);
    qmath::quantize_array(x.data(), n, want.data(), p, range);
    std::vector<float> want_dq(n);
    qmath::dequantize_array(want.data(), n, want_dq.data(), p);
    for (const auto& o : offsets) {
      const std::size_t in_off = o[0], out_off = o[1];
      CAPTURE(n, in_off, out_off);
      DeviceArray<float> dx(n), dy(n);
      DeviceArray<std::int8_t> dq(n);
      dx.upload(x, in_off);
      qmath::cuda::quantize(dx.at(in_off), n, dq.at(out_off), p, range);
      std::vector<std::int8_t> all = dq.download_all();
      const std::vector<std::int8_t> got(all.begin() + 4 + static_cast<std::ptrdiff_t>(out_off),
                                         all.begin() + 4 + static_cast<std::ptrdiff_t>(out_off + n));
      CHECK(same_bits(got, want));
      std::size_t untouched = 0;
      for (std::size_t i = 0; i < all.size(); ++i)
        if (i < 4 + out_off || i >= 4 + out_off + n) untouched += all[i] == static_cast<std::int8_t>(0x5A);
      CHECK(untouched == all.size() - n);

      // dequantize back from the offset int8 array into an offset float array.
      qmath::cuda::dequantize(dq.at(out_off), n, dy.at(in_off), p);
      CHECK(same_bits(dy.download(n, in_off), want_dq));
    }
  }
}

TEST_CASE("cuda::quantize: a long random array over every path, 4-bit range stored in int8", "[cuda][quantize]") {
  const QuantParams p{0.3f, 2};
  const QuantRange range = qmath::bit_range(4, true);
  std::mt19937 rng(11);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  const std::size_t n = 100003;
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  for (std::size_t i = 0; i < n; i += 997) x[i] = (static_cast<float>(i % 17) - 8.5f) * p.scale;  // ties
  for (std::size_t off = 0; off < 4; ++off) {
    CAPTURE(off);
    std::vector<std::int8_t> want(n);
    qmath::quantize_array(x.data(), n, want.data(), p, range, Round::kHalfAwayFromZero);
    DeviceArray<float> dx(n);
    DeviceArray<std::int8_t> dq(n);
    dx.upload(x, off);
    qmath::cuda::quantize(dx.at(off), n, dq.at(off), p, range, Round::kHalfAwayFromZero);
    CHECK(same_bits(dq.download(n, off), want));
  }
}

TEMPLATE_TEST_CASE("cuda per-channel quantize / dequantize / fake_quantize match the host", "[cuda][quantize]",
                   std::int8_t, std::uint8_t, std::int16_t) {
  using T = TestType;
  const QuantRange range = qmath::full_range<T>();
  const std::int32_t mid = range.qmin < 0 ? 0 : (range.qmax + 1) / 2;
  // inner = 1 (channels last), 3 and 5 (vectors straddle channels), 4 and 8 (aligned rows).
  const ChannelLayout layout =
      GENERATE(ChannelLayout{1, 5, 1}, ChannelLayout{2, 3, 3}, ChannelLayout{3, 7, 5}, ChannelLayout{2, 4, 4},
               ChannelLayout{1, 1, 37}, ChannelLayout{4, 6, 8}, ChannelLayout{2, 9, 13}, ChannelLayout{0, 3, 4});
  const std::size_t off = GENERATE(0u, 3u);
  CAPTURE(layout.outer, layout.channels, layout.inner, off);
  const std::size_t n = layout.size();
  std::vector<QuantParams> params;
  std::mt19937 rng(static_cast<std::uint32_t>(n * 31 + off));
  for (std::size_t c = 0; c < layout.channels; ++c)
    params.push_back({0.01f * static_cast<float>(c + 1) + 0.003f, mid + static_cast<std::int32_t>(c % 5) - 2});
  std::vector<float> x(n);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  for (std::size_t e = 0; e < n; ++e) {
    const std::size_t c = (e / layout.inner) % layout.channels;
    switch (e % 7) {
      case 0:  // an exact tie of this element's own channel
        x[e] = static_cast<float>((static_cast<int>(e % 23) - 11 + 0.5) * static_cast<double>(params[c].scale));
        break;
      case 1:
        x[e] = e % 3 == 0 ? std::numeric_limits<float>::quiet_NaN() : (e % 3 == 1 ? 1e30f : -1e30f);
        break;
      default:
        x[e] = dist(rng);
    }
  }
  for (Round mode : {off == 0 ? Round::kHalfToEven : Round::kTowardZero}) {
    CAPTURE(static_cast<int>(mode));
    std::vector<T> want_q(n);
    qmath::quantize_per_channel(x.data(), layout, params.data(), want_q.data(), range, mode);
    std::vector<float> want_dq(n), want_fq(n);
    qmath::dequantize_per_channel(want_q.data(), layout, params.data(), want_dq.data());
    for (std::size_t e = 0; e < n; ++e)
      want_fq[e] = qmath::fake_quantize_value(x[e], params[(e / layout.inner) % layout.channels], range, mode);

    DeviceArray<QuantParams> dp(params.size());
    if (!params.empty()) dp.upload(params, 0);
    DeviceArray<float> dx(n), dy(n);
    DeviceArray<T> dq(n);
    dx.upload(x, off);
    qmath::cuda::quantize_per_channel(dx.at(off), layout, dp.at(0), dq.at(off), range, mode);
    CHECK(same_bits(dq.download(n, off), want_q));
    qmath::cuda::dequantize_per_channel(dq.at(off), layout, dp.at(0), dy.at(0));
    CHECK(same_bits(dy.download(n, 0), want_dq));
    qmath::cuda::fake_quantize_per_channel(dx.at(off), layout, dp.at(0), dy.at(off), range, mode);
    CHECK(same_bits(dy.download(n, off), want_fq));
  }
}

TEST_CASE("cuda::quantize: bad parameters throw before anything is written", "[cuda][quantize]") {
  DeviceArray<float> dx(8);
  DeviceArray<std::int8_t> dq(8);
  DeviceArray<QuantParams> dp(2);
  const std::vector<std::int8_t> before = dq.download_all();
  const QuantRange r8 = qmath::full_range<std::int8_t>();
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(qmath::cuda::quantize(dx.at(0), 8, dq.at(0), QuantParams{0.0f, 0}, r8),
                    Contains("cuda::quantize") && Contains("scale"));
  CHECK_THROWS_WITH(qmath::cuda::quantize(dx.at(0), 8, dq.at(0), QuantParams{std::nanf(""), 0}, r8), Contains("scale"));
  CHECK_THROWS_WITH(qmath::cuda::quantize(dx.at(0), 8, dq.at(0), QuantParams{1.0f, 200}, r8), Contains("zero point"));
  CHECK_THROWS_WITH(qmath::cuda::quantize(dx.at(0), 8, dq.at(0), QuantParams{1.0f, 0}, QuantRange{0, 255}),
                    Contains("does not fit"));
  CHECK_THROWS_WITH(qmath::cuda::quantize(static_cast<const float*>(nullptr), 8, dq.at(0), QuantParams{1.0f, 0}, r8),
                    Contains("null input"));
  CHECK_THROWS_WITH(qmath::cuda::dequantize(dq.at(0), 8, static_cast<float*>(nullptr), QuantParams{1.0f, 0}),
                    Contains("null output"));
  CHECK_THROWS_WITH(qmath::cuda::quantize_per_channel(dx.at(0), ChannelLayout{1, 2, 4}, nullptr, dq.at(0), r8),
                    Contains("null per-channel"));
  const std::size_t big = std::size_t(1) << 40;
  CHECK_THROWS_WITH(qmath::cuda::dequantize_per_channel(dq.at(0), ChannelLayout{big, big, 2}, dp.at(0), dx.at(0)),
                    Contains("overflows"));
  CHECK_THROWS_WITH(
      qmath::cuda::fake_quantize_per_channel(dx.at(0), ChannelLayout{1, 2, 4}, dp.at(0), dx.at(0), QuantRange{3, 3}),
      Contains("empty quantized range"));
  const QuantParams bad[2] = {{1.0f, 0}, {-1.0f, 0}};
  CHECK_THROWS_WITH(qmath::cuda::check_channel_params(bad, 2, r8), Contains("scale"));
  CHECK_NOTHROW(qmath::cuda::check_channel_params(bad, 1, r8));
  CHECK(same_bits(dq.download_all(), before));
  // n == 0 launches nothing and accepts null pointers.
  CHECK_NOTHROW(qmath::cuda::quantize(static_cast<const float*>(nullptr), 0, static_cast<std::int8_t*>(nullptr),
                                      QuantParams{1.0f, 0}));
}

// ---- the quantize rules -------------------------------------------------------------------------------------------

TEST_CASE("cuda quantize under kMultiplyReciprocal equals torch 1.13 (tests/pytorch/data) bit for bit",
          "[cuda][quantize][rule]") {
  namespace pt = qmath_test::pytorch;
  const qmath::QuantizeRule rule = qmath::QuantizeRule::kMultiplyReciprocal;
  for (const pt::TensorCase& c : pt::tensor_cases()) {
    const QuantParams p{c.scale, c.zero_point};
    const std::size_t n = c.x.size();
    DeviceArray<float> dx(n);
    dx.upload(c.x, 1);  // offset 1: scalar head, vector body, scalar tail
    std::vector<std::int32_t> got(n);
    if (c.dtype == 0) {
      DeviceArray<std::int8_t> dq(n);
      qmath::cuda::quantize(dx.at(1), n, dq.at(1), p, qmath::full_range<std::int8_t>(), Round::kHalfToEven, 0, rule);
      const std::vector<std::int8_t> q = dq.download(n, 1);
      got.assign(q.begin(), q.end());
    } else {
      DeviceArray<std::uint8_t> dq(n);
      qmath::cuda::quantize(dx.at(1), n, dq.at(1), p, qmath::full_range<std::uint8_t>(), Round::kHalfToEven, 0, rule);
      const std::vector<std::uint8_t> q = dq.download(n, 1);
      got.assign(q.begin(), q.end());
    }
    INFO("dtype " << c.dtype << " scale " << c.scale << " zp " << c.zero_point << " first difference at "
                  << first_difference(got, c.q));
    CHECK(same_bits(got, c.q));
  }
  for (const pt::ChannelCase& c : pt::channel_cases()) {
    std::vector<QuantParams> params;
    for (std::size_t k = 0; k < c.channels; ++k) params.push_back({c.scales[k], c.zero_points[k]});
    const ChannelLayout layout{c.outer, c.channels, c.inner};
    const std::size_t n = layout.size();
    DeviceArray<QuantParams> dp(params.size());
    dp.upload(params, 0);
    DeviceArray<float> dx(n);
    dx.upload(c.x, 0);
    std::vector<std::int32_t> got;
    if (c.dtype == 0) {
      DeviceArray<std::int8_t> dq(n);
      qmath::cuda::quantize_per_channel(dx.at(0), layout, dp.at(0), dq.at(0), qmath::full_range<std::int8_t>(),
                                        Round::kHalfToEven, 0, rule);
      const std::vector<std::int8_t> q = dq.download(n, 0);
      got.assign(q.begin(), q.end());
    } else {
      DeviceArray<std::uint8_t> dq(n);
      qmath::cuda::quantize_per_channel(dx.at(0), layout, dp.at(0), dq.at(0), qmath::full_range<std::uint8_t>(),
                                        Round::kHalfToEven, 0, rule);
      const std::vector<std::uint8_t> q = dq.download(n, 0);
      got.assign(q.begin(), q.end());
    }
    INFO("per channel, dtype " << c.dtype);
    CHECK(same_bits(got, c.q));
  }
  for (const pt::FakeCase& c : pt::fake_cases()) {
    const std::size_t n = c.x.size();
    DeviceArray<float> dx(n), dy(n);
    dx.upload(c.x, 0);
    qmath::cuda::fake_quantize(dx.at(0), n, dy.at(0), QuantParams{c.scale, c.zero_point}, QuantRange{c.qmin, c.qmax},
                               Round::kHalfToEven, 0, rule);
    const std::vector<float> y = dy.download(n, 0);
    std::vector<std::uint32_t> bits(n);
    for (std::size_t i = 0; i < n; ++i) bits[i] = pt::as_bits(y[i]);
    INFO("fake quantize [" << c.qmin << ", " << c.qmax << "] scale " << c.scale);
    CHECK(same_bits(bits, c.y_bits));
  }
}

TEST_CASE("cuda quantize under kMultiplyBoundOverAmax and kMultiplyReciprocal matches the host arrays",
          "[cuda][quantize][rule]") {
  const QuantRange narrow = qmath::narrow_range<std::int8_t>();
  for (qmath::QuantizeRule rule : {qmath::QuantizeRule::kMultiplyBoundOverAmax, qmath::QuantizeRule::kMultiplyReciprocal})
    for (float a : {2.7f, 0.3f, 0.0f, 1e-38f}) {
      if (rule == qmath::QuantizeRule::kMultiplyReciprocal && !(a > 1e-30f)) continue;
      const QuantParams p{a, 0};
      const std::vector<float> x = probe_values(QuantParams{a > 0.0f ? a / 127.0f : 1.0f, 0}, narrow, 300, 77);
      const std::size_t n = x.size();
      std::vector<std::int8_t> want(n);
      qmath::quantize_array(x.data(), n, want.data(), p, narrow, Round::kHalfToEven, qmath::Isa::kScalar, rule);
      DeviceArray<float> dx(n);
      DeviceArray<std::int8_t> dq(n);
      dx.upload(x, 2);
      qmath::cuda::quantize(dx.at(2), n, dq.at(2), p, narrow, Round::kHalfToEven, 0, rule);
      INFO("rule " << static_cast<int>(rule) << " amax " << a);
      CHECK(same_bits(dq.download(n, 2), want));
    }
  // The host's checks, before any launch.
  DeviceArray<float> dx(4), dy(4);
  DeviceArray<std::int8_t> dq(4);
  CHECK_THROWS_WITH(qmath::cuda::quantize(dx.at(0), 4, dq.at(0), QuantParams{1.0f, 3}, narrow, Round::kHalfToEven, 0,
                                          qmath::QuantizeRule::kMultiplyBoundOverAmax),
                    Catch::Contains("cuda::quantize: kMultiplyBoundOverAmax has no zero point"));
  CHECK_THROWS_WITH(qmath::cuda::fake_quantize(dx.at(0), 4, dy.at(0), QuantParams{1.0f, 0}, narrow,
                                               Round::kHalfToEven, 0, qmath::QuantizeRule::kMultiplyBoundOverAmax),
                    Catch::Contains("cuda::fake_quantize: kMultiplyBoundOverAmax is not supported"));
  const QuantParams bad[1] = {{1e-40f, 0}};
  CHECK_THROWS_WITH(qmath::cuda::check_channel_params(bad, 1, narrow, qmath::QuantizeRule::kMultiplyReciprocal),
                    Catch::Contains("1 / scale overflows float"));
}

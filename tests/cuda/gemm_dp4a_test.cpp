// qmath/cuda/gemm_dp4a.cuh: bit-exact against qmath::gemm_reference (BLayout::kNxK) for every operand signedness,
// zero point, edge shape and epilogue. Runs through the host shim (tests/cuda/shim) in CI and, compiled
// by nvcc into cuda_gpu_test, on a real GPU where there is one.
#include <qmath/cuda/gemm_dp4a.cuh>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../epilogue_fields.hpp"
#include "../gemm_args_support.hpp"
#include "test_support.hpp"

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Scaling;
using qmath_test::DeviceBuffer;

// A tile with few threads (16) and unequal M / N / K steps, so that the emulated sweep is fast and index mix-ups
// between the dimensions show.
using TileTest = qmath::cuda::GemmTile<16, 8, 8, 4, 2>;

// Values in T's range: mostly uniform, with a share of the extremes (min, max, 0, +-1).
template <class T>
std::vector<T> operand(std::size_t n, std::mt19937& rng) {
  const qmath::QuantRange r = qmath::full_range<T>();
  std::uniform_int_distribution<int> v(r.qmin, r.qmax), pick(0, 9);
  const int special[] = {r.qmin, r.qmax, 0, r.qmin + 1, r.qmax - 1};
  std::vector<T> out(n);
  for (auto& x : out) {
    const int p = pick(rng);
    x = static_cast<T>(p < 5 ? special[p] : v(rng));
  }
  return out;
}

// The epilogue's parameter arrays, on the host (for the reference) and on the device (for the kernel).
struct EpilogueArrays {
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
};

struct DeviceEpilogue {
  DeviceBuffer<std::int32_t> bias, multiplier, shift;
  DeviceBuffer<float> scale;
  explicit DeviceEpilogue(const EpilogueArrays& h)
      : bias(h.bias), multiplier(h.multiplier), shift(h.shift), scale(h.scale) {}
  Epilogue on_device(const Epilogue& host, const EpilogueArrays& h) {
    (void)h;
    return host.with_arrays(bias.get(), scale.get(), multiplier.get(), shift.get());
  }
};

#if defined(QMATH_CUDA_HOST_SHIM)
// Cycles the emulator through its schedules (free-running threads, and the two deterministic adversarial orders
// under which a missing or misplaced __syncthreads in the kernel corrupts the result every time).
struct RotatingSchedule {
  qmath::cuda::emu::ScopedSchedule scope;
  explicit RotatingSchedule(std::uint32_t seed)
      : scope(seed % 3 == 0 ? qmath::cuda::emu::Schedule::kConcurrent
                            : (seed % 3 == 1 ? qmath::cuda::emu::Schedule::kSerialForward
                                             : qmath::cuda::emu::Schedule::kSerialReverse)) {}
};
#else
struct RotatingSchedule {
  explicit RotatingSchedule(std::uint32_t) {}
};
#endif

// Runs the kernel and the reference on the same inputs; checks that C (including the untouched ldc padding)
// matches bit for bit.
template <class Tile, class TA, class TB, class TC>
void check_gemm(GemmShape s, std::int32_t za, std::int32_t zb, const Epilogue& host_ep, const EpilogueArrays& arrays,
                std::uint32_t seed, int extra_ld = 0) {
  std::mt19937 rng(seed);
  const std::int64_t lda = (s.k + 3) / 4 * 4 + 4 * extra_ld, ldb = (s.k + 3) / 4 * 4, ldc = s.n + extra_ld;
  const std::vector<TA> a = operand<TA>(static_cast<std::size_t>(s.m * lda), rng);
  const std::vector<TB> b = operand<TB>(static_cast<std::size_t>(s.n * ldb), rng);
  std::vector<TC> expect(static_cast<std::size_t>(s.m * ldc), TC(77));
  qmath::gemm_reference(qtest::tn_args(s, a.data(), lda, za, b.data(), ldb, zb, expect.data(), ldc, host_ep));

  DeviceBuffer<TA> da(a);
  DeviceBuffer<TB> db(b);
  DeviceBuffer<TC> dc(std::vector<TC>(expect.size(), TC(77)));
  DeviceEpilogue dep(arrays);
  const RotatingSchedule schedule(seed);
  qmath::cuda::gemm_dp4a_tile<Tile>(
      qtest::tn_args(s, da.get(), lda, za, db.get(), ldb, zb, dc.get(), ldc, dep.on_device(host_ep, arrays)));
  const std::vector<TC> got = dc.download();
  INFO("M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za << " zb=" << zb << " tile=" << Tile::kM << "x"
            << Tile::kN << "x" << Tile::kK);
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool same = std::is_same<TC, float>::value ? std::memcmp(&got[i], &expect[i], sizeof(TC)) == 0
                                                     : got[i] == expect[i];
    if (!same && mismatches++ == 0) first = i;
  }
  INFO("first mismatch at " << first << ": got " << +got[first] << " expected " << +expect[first]);
  CHECK(mismatches == 0);
}

template <class T>
std::int32_t some_zero_point(std::mt19937& rng) {
  const qmath::QuantRange r = qmath::full_range<T>();
  return std::uniform_int_distribution<int>(r.qmin, r.qmax)(rng);
}

template <class TA, class TB>
void shape_sweep() {
  const int sizes_mn[] = {1, 3, 4, 5, 17, 33};
  const int sizes_k[] = {1, 3, 4, 5, 17, 33, 64, 65};
  std::mt19937 rng(1234);
  const Epilogue raw{};
  const EpilogueArrays none{};
  std::uint32_t seed = 1;
  for (int m : sizes_mn)
    for (int n : sizes_mn)
      for (int k : sizes_k) {
        // Alternate zero points: none, both, and random ones, so both the plain and the corrected paths run.
        const int variant = (m + n + k) % 3;
        const std::int32_t za = variant == 0 ? 0 : (variant == 1 ? qmath::full_range<TA>().qmax : some_zero_point<TA>(rng));
        const std::int32_t zb = variant == 0 ? 0 : (variant == 1 ? qmath::full_range<TB>().qmin : some_zero_point<TB>(rng));
        check_gemm<TileTest, TA, TB, std::int32_t>({m, n, k}, za, zb, raw, none, seed++);
      }
}

}  // namespace

TEST_CASE("gemm_dp4a int32 output: shape sweep, int8 x int8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  shape_sweep<std::int8_t, std::int8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, uint8 x int8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  shape_sweep<std::uint8_t, std::int8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, int8 x uint8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  shape_sweep<std::int8_t, std::uint8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, uint8 x uint8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  shape_sweep<std::uint8_t, std::uint8_t>();
}

TEST_CASE("gemm_dp4a fused epilogues are bit-exact with the reference", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  const GemmShape shapes[] = {{17, 33, 65}, {33, 5, 130}};
  const int n_max = 33;
  EpilogueArrays h;
  std::mt19937 rng(99);
  for (int i = 0; i < n_max; ++i) {
    h.bias.push_back(std::uniform_int_distribution<int>(-40000, 40000)(rng));
    h.scale.push_back(std::uniform_real_distribution<float>(1e-4f, 4e-3f)(rng));
    const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(h.scale.back());
    h.multiplier.push_back(q.multiplier);
    h.shift.push_back(q.shift);
  }
  h.scale[3] = 0.0f;   // a dead channel
  h.bias[0] = INT32_MAX;  // saturating bias addition
  h.bias[1] = INT32_MIN;

  std::vector<std::pair<const char*, qtest::EpilogueFields>> int_epilogues;
  {
    qtest::EpilogueFields e;
    e.scaling = Scaling::kFloatMultiplier;
    e.float_multiplier = h.scale.data();
    int_epilogues.push_back({"float per-tensor", e});
    e.per_channel = true;
    e.bias = h.bias.data();
    e.output_zero_point = 3;
    int_epilogues.push_back({"float per-channel + bias + zero point", e});
    e.clamp_min = 3;  // ReLU in the quantized domain
    int_epilogues.push_back({"float per-channel + bias + relu", e});
  }
  for (auto rounding : {qmath::FixedPointRounding::kDoubleRounding, qmath::FixedPointRounding::kSingleRounding}) {
    qtest::EpilogueFields e;
    e.scaling = Scaling::kFixedPointMultiplier;
    e.fixed_point_multiplier = h.multiplier.data();
    e.shift = h.shift.data();
    e.rounding = rounding;
    int_epilogues.push_back({"fixed-point per-tensor", e});
    e.per_channel = true;
    e.bias = h.bias.data();
    e.output_zero_point = -5;
    e.clamp_min = -20;
    e.clamp_max = 100;
    int_epilogues.push_back({"fixed-point per-channel + bias + clamp", e});
  }
  std::uint32_t seed = 500;
  for (const GemmShape s : shapes) {
    for (const auto& named : int_epilogues) {
      INFO("epilogue: " << named.first);
      check_gemm<TileTest, std::int8_t, std::int8_t, std::int8_t>(s, 0, 0, named.second, h, seed++);
      check_gemm<TileTest, std::uint8_t, std::int8_t, std::int8_t>(s, 131, 0, named.second, h, seed++, 1);
      qtest::EpilogueFields u = named.second;
      u.output_zero_point = named.second.output_zero_point + 128;
      u.clamp_min = named.second.clamp_min == INT32_MIN ? INT32_MIN : named.second.clamp_min + 128;
      u.clamp_max = named.second.clamp_max == INT32_MAX ? INT32_MAX : named.second.clamp_max + 128;
      check_gemm<TileTest, std::uint8_t, std::uint8_t, std::uint8_t>(s, 120, 140, u, h, seed++);
      check_gemm<qmath::cuda::TileSmall, std::int8_t, std::uint8_t, std::uint8_t>(s, -7, 128, u, h, seed++);
    }
    qtest::EpilogueFields bias_only;
    bias_only.bias = h.bias.data();
    check_gemm<TileTest, std::int8_t, std::int8_t, std::int32_t>(s, 2, -3, bias_only, h, seed++, 2);
    qtest::EpilogueFields f;
    check_gemm<TileTest, std::int8_t, std::int8_t, float>(s, 0, 0, f, h, seed++);
    f.scaling = Scaling::kFloatMultiplier;
    f.per_channel = true;
    f.float_multiplier = h.scale.data();
    f.bias = h.bias.data();
    f.float_clamp_min = 0.0f;
    f.float_clamp_max = 6.0f;
    check_gemm<TileTest, std::uint8_t, std::int8_t, float>(s, 128, 1, f, h, seed++, 1);
  }
}

TEST_CASE("gemm_dp4a production presets", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  const Epilogue raw{};
  const EpilogueArrays none{};
  check_gemm<qmath::cuda::TileSmall, std::int8_t, std::int8_t, std::int32_t>({33, 65, 100}, 5, -9, raw, none, 11);
  check_gemm<qmath::cuda::TileMedium, std::uint8_t, std::int8_t, std::int32_t>({65, 70, 37}, 200, 0, raw, none, 12, 1);
  check_gemm<qmath::cuda::TileLarge, std::int8_t, std::uint8_t, std::int32_t>({130, 129, 33}, 0, 17, raw, none, 13);
}

TEST_CASE("gemm_dp4a accumulates the worst case exactly", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  // Every product at its largest magnitude: uint8 255 x int8 -128 with zero points that maximise |a - za| * |b - zb|.
  const GemmShape s{3, 5, 4099};
  const std::int64_t ld = 4100;
  std::vector<std::uint8_t> a(static_cast<std::size_t>(s.m * ld), 255);
  std::vector<std::int8_t> b(static_cast<std::size_t>(s.n * ld), -128);
  const std::int32_t za = 0, zb = 127;
  std::vector<std::int32_t> expect(static_cast<std::size_t>(s.m * s.n));
  qmath::gemm_reference(qtest::tn_args(s, a.data(), ld, za, b.data(), ld, zb, expect.data(), s.n, Epilogue{}));
  CHECK(expect[0] == 255 * -255 * 4099);
  DeviceBuffer<std::uint8_t> da(a);
  DeviceBuffer<std::int8_t> db(b);
  DeviceBuffer<std::int32_t> dc(expect.size());
  qmath::cuda::gemm_dp4a_tile<qmath::cuda::TileSmall>(
      qtest::tn_args(s, da.get(), ld, za, db.get(), ld, zb, dc.get(), s.n, Epilogue{}));
  CHECK(dc.download() == expect);
}

TEST_CASE("gemm_dp4a preset choice and dispatch", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  using qmath::cuda::GemmPreset;
  CHECK(qmath::cuda::choose_gemm_preset({4096, 4096, 4096}) == GemmPreset::kLarge);
  CHECK(qmath::cuda::choose_gemm_preset({1024, 640, 64}) == GemmPreset::kMedium);
  CHECK(qmath::cuda::choose_gemm_preset({8, 1000, 512}) == GemmPreset::kSmall);
  // The dispatching entry point gives the reference result whatever the preset.
  const GemmShape s{40, 24, 36};
  std::mt19937 rng(5);
  const std::vector<std::int8_t> a = operand<std::int8_t>(40 * 36, rng), b = operand<std::int8_t>(24 * 36, rng);
  std::vector<std::int32_t> expect(40 * 24);
  qmath::gemm_reference(qtest::tn_args(s, a.data(), 36, 1, b.data(), 36, -1, expect.data(), 24, Epilogue{}));
  DeviceBuffer<std::int8_t> da(a), db(b);
  for (GemmPreset p : {GemmPreset::kAuto, GemmPreset::kSmall, GemmPreset::kMedium}) {
    DeviceBuffer<std::int32_t> dc(expect.size());
    qmath::cuda::gemm_dp4a(qtest::tn_args(s, da.get(), 36, 1, db.get(), 36, -1, dc.get(), 24, Epilogue{}), nullptr, p);
    CHECK(dc.download() == expect);
  }
}

TEST_CASE("gemm_dp4a rejects bad arguments before launching", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  DeviceBuffer<std::int8_t> a(64 * 64), b(64 * 64);
  DeviceBuffer<std::int32_t> c(64 * 64);
  DeviceBuffer<std::int8_t> c8(64 * 64);
  const Epilogue e{};
  auto msg = [](auto&& f) {
    try {
      f();
    } catch (const qmath::error& err) {
      return std::string(err.what());
    }
    return std::string("no error");
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 6}, a.get(), 6, 0, b.get(), 8, 0, c.get(), 8, e)); }),
             Contains("multiples of 4"));
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 8}, a.get() + 1, 8, 0, b.get(), 8, 0, c.get(), 8, e)); }),
             Contains("4-byte aligned"));
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 8}, a.get(), 4, 0, b.get(), 8, 0, c.get(), 8, e)); }),
             Contains("a.stride (4) < its columns (8)"));
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{0, 8, 8}, a.get(), 8, 0, b.get(), 8, 0, c.get(), 8, e)); }),
             Contains("positive"));
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 8}, a.get(), 8, 0, b.get(), 8, 0, c.get(), 8, e)); }),
             Contains("no error"));
  const std::int32_t mult = 1 << 30, shift = 0;  // host pointers: only their presence matters to the launcher
  const Epilogue fixed = Epilogue::fixed_point_multiplier(&mult, &shift);
  CHECK_THAT(msg([&] {
               qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 8}, a.get(), 8, 0, b.get(), 8, 0,
                                                     reinterpret_cast<float*>(c.get()), 8, fixed));
             }),
             Contains("a float output takes no fixed-point multiplier"));
  CHECK_THAT(msg([&] {
               qmath::cuda::gemm_dp4a(qmath::GemmArgs{qmath::row_major(a.get(), 8, 8), qmath::row_major(b.get(), 8, 8),
                                                      qmath::row_major(c.get(), 8, 8)});
             }),
             Contains("b must be column-major"));
  CHECK_THAT(msg([&] { qmath::cuda::gemm_dp4a(qtest::tn_args(GemmShape{8, 8, 200000}, a.get(), 200000, 0, b.get(), 200000, 0, c.get(), 8, e)); }),
             Contains("overflow"));
  // Nothing was written by the rejected calls.
  CHECK(c8.download() == std::vector<std::int8_t>(64 * 64, 0));
}

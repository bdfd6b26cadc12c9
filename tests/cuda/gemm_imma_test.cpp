// qmath/cuda/gemm_imma.cuh: the same bit-exact sweeps as gemm_dp4a (gemm_cuda_test_support.hpp) for both mma paths,
// sm_80 (m16n8k32, cp.async pipeline) and sm_75 (m8n8k16, register double buffering), plus path selection and
// argument errors. Runs through the host shim (tests/cuda/shim) in CI, whose warp-level execution gives mma.sync,
// ldmatrix and cp.async their per-lane semantics; compiled by nvcc into cuda_gpu_test on a real GPU.
#include <qmath/cuda/gemm_imma.cuh>

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../gemm_args_support.hpp"
#include "gemm_cuda_test_support.hpp"
#include "test_support.hpp"

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::cuda::ImmaPath;
using qmath_test::check_gemm;
using qmath_test::DeviceBuffer;
using qmath_test::EpilogueArrays;
using qmath_test::operand;

// Four warps of 16 x 8 outputs and a 4-deep pipeline: K = 65 has fewer K tiles than the prologue fills.
using ImmaTileTest = qmath::cuda::ImmaTile<32, 16, 32, 16, 8, 4>;

template <class Tile, ImmaPath kPath>
struct Imma {
  static constexpr int kLdAlign = 16;
  static const char* name() { return kPath == ImmaPath::kSm80 ? "gemm_imma_tile sm80" : "gemm_imma_tile sm75"; }
  template <class Args>
  static void run(const Args& args) {
    qmath::cuda::gemm_imma_tile<Tile>(args, nullptr, kPath);
  }
};

template <ImmaPath kPath>
void all_sweeps() {
  using Test = Imma<ImmaTileTest, kPath>;
  qmath_test::shape_sweep<Test, std::int8_t, std::int8_t>();
  qmath_test::shape_sweep<Test, std::uint8_t, std::int8_t>();
  qmath_test::shape_sweep<Test, std::int8_t, std::uint8_t>();
  qmath_test::shape_sweep<Test, std::uint8_t, std::uint8_t>();
  qmath_test::epilogue_sweep<Test, Imma<qmath::cuda::ImmaTileSmall, kPath>>();
  qmath_test::worst_case_sweep<Imma<qmath::cuda::ImmaTileSmall, kPath>>();
  const Epilogue raw{};
  const EpilogueArrays none{};
  check_gemm<Imma<qmath::cuda::ImmaTileMedium, kPath>, std::uint8_t, std::int8_t, std::int32_t>({65, 70, 37}, 200, 0,
                                                                                               raw, none, 12, 1);
  check_gemm<Imma<qmath::cuda::ImmaTileLarge, kPath>, std::int8_t, std::uint8_t, std::int32_t>({130, 129, 97}, 0, 17,
                                                                                              raw, none, 13);
}

std::string error_of(void (*f)()) {
  try {
    f();
  } catch (const qmath::error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// The full sweeps take minutes through the shim (every mma / ldmatrix is a warp collective of 32 OS threads): hidden
// tag, registered as cuda_gemm_imma_sweep with the `slow` label (tests/cuda/CMakeLists.txt).
TEST_CASE("gemm_imma sm_80 path (m16n8k32, cp.async): the gemm_dp4a sweeps, bit-exact",
          "[cuda][gemm_imma][.slow]" QMATH_CUDA_TEST_TAG) {
  all_sweeps<ImmaPath::kSm80>();
}

TEST_CASE("gemm_imma sm_75 path (m8n8k16, register double buffering): the gemm_dp4a sweeps, bit-exact",
          "[cuda][gemm_imma][.slow]" QMATH_CUDA_TEST_TAG) {
  all_sweeps<ImmaPath::kSm75>();
}

// The quick default: both paths, every operand signedness, edge shapes (partial M / N tiles, K tails shorter than a
// 16-byte chunk, fewer K tiles than pipeline stages), zero points and a requantizing epilogue.
TEST_CASE("gemm_imma both paths: edge shapes, signedness, zero points, epilogue (quick)",
          "[cuda][gemm_imma]" QMATH_CUDA_TEST_TAG) {
  const Epilogue raw{};
  const EpilogueArrays none{};
  const GemmShape shapes[] = {{1, 1, 1}, {17, 33, 65}, {33, 5, 130}, {5, 17, 33}};
  std::uint32_t seed = 700;
  for (const GemmShape s : shapes) {
    check_gemm<Imma<ImmaTileTest, ImmaPath::kSm80>, std::int8_t, std::int8_t, std::int32_t>(s, 0, 0, raw, none, seed++);
    check_gemm<Imma<ImmaTileTest, ImmaPath::kSm75>, std::int8_t, std::int8_t, std::int32_t>(s, 0, 0, raw, none, seed++);
    check_gemm<Imma<ImmaTileTest, ImmaPath::kSm80>, std::uint8_t, std::int8_t, std::int32_t>(s, 255, -128, raw, none,
                                                                                             seed++, 1);
    check_gemm<Imma<ImmaTileTest, ImmaPath::kSm75>, std::int8_t, std::uint8_t, std::int32_t>(s, 127, 3, raw, none,
                                                                                             seed++);
    check_gemm<Imma<qmath::cuda::ImmaTileSmall, ImmaPath::kSm80>, std::uint8_t, std::uint8_t, std::int32_t>(
        s, 0, 200, raw, none, seed++);
    check_gemm<Imma<qmath::cuda::ImmaTileSmall, ImmaPath::kSm75>, std::uint8_t, std::uint8_t, std::int32_t>(
        s, 77, 0, raw, none, seed++, 2);
  }
  EpilogueArrays h;
  std::mt19937 rng(98);
  for (int i = 0; i < 33; ++i) {
    h.bias.push_back(std::uniform_int_distribution<int>(-40000, 40000)(rng));
    const qmath::QuantizedMultiplier q =
        qmath::quantize_multiplier(std::uniform_real_distribution<float>(1e-4f, 4e-3f)(rng));
    h.multiplier.push_back(q.multiplier);
    h.shift.push_back(q.shift);
  }
  qtest::EpilogueFields e;
  e.scaling = qmath::Scaling::kFixedPointMultiplier;
  e.fixed_point_multiplier = h.multiplier.data();
  e.shift = h.shift.data();
  e.per_channel = true;
  e.bias = h.bias.data();
  e.output_zero_point = -5;
  e.clamp_min = -20;
  check_gemm<Imma<ImmaTileTest, ImmaPath::kSm80>, std::int8_t, std::int8_t, std::int8_t>({17, 33, 65}, 3, -2, e, h, 801);
  check_gemm<Imma<ImmaTileTest, ImmaPath::kSm75>, std::int8_t, std::int8_t, std::int8_t>({17, 33, 65}, 3, -2, e, h, 802);
}

TEST_CASE("gemm_imma dispatch: presets and kAuto give the reference result", "[cuda][gemm_imma]" QMATH_CUDA_TEST_TAG) {
  const GemmShape s{40, 24, 48};
  std::mt19937 rng(5);
  const std::vector<std::int8_t> a = operand<std::int8_t>(40 * 48, rng), b = operand<std::int8_t>(24 * 48, rng);
  std::vector<std::int32_t> expect(40 * 24);
  qmath::gemm_reference(qtest::tn_args(s, a.data(), 48, 1, b.data(), 48, -1, expect.data(), 24, Epilogue{}));
  DeviceBuffer<std::int8_t> da(a), db(b);
  using qmath::cuda::GemmPreset;
  for (GemmPreset p : {GemmPreset::kAuto, GemmPreset::kSmall, GemmPreset::kMedium}) {
    DeviceBuffer<std::int32_t> dc(expect.size());
    qmath::cuda::gemm_imma(qtest::tn_args(s, da.get(), 48, 1, db.get(), 48, -1, dc.get(), 24, Epilogue{}), nullptr,
                           ImmaPath::kAuto, p);
    CHECK(dc.download() == expect);
  }
}

#if defined(QMATH_CUDA_HOST_SHIM)
TEST_CASE("gemm_imma picks the mma path from the compute capability", "[cuda][gemm_imma]" QMATH_CUDA_TEST_TAG) {
  using qmath::cuda::emu::ScopedComputeCapability;
  static DeviceBuffer<std::int8_t> a(64 * 64), b(64 * 64);
  static DeviceBuffer<std::int32_t> c(64 * 64);
  static auto run = [](ImmaPath path) {
    qmath::cuda::gemm_imma(qtest::tn_args(GemmShape{8, 8, 16}, a.get(), 16, 0, b.get(), 16, 0, c.get(), 8, Epilogue{}),
                           nullptr, path);
  };
  {
    ScopedComputeCapability cc(75);
    CHECK(error_of([] { run(ImmaPath::kAuto); }) == "no error");
    CHECK(error_of([] { run(ImmaPath::kSm75); }) == "no error");
    CHECK_THAT(error_of([] { run(ImmaPath::kSm80); }), Catch::Contains("kSm80") && Catch::Contains("8.0+"));
  }
  {
    ScopedComputeCapability cc(70);
    CHECK_THAT(error_of([] { run(ImmaPath::kAuto); }), Catch::Contains("7.5+") && Catch::Contains("gemm_dp4a"));
  }
  ScopedComputeCapability cc(90);
  CHECK(error_of([] { run(ImmaPath::kAuto); }) == "no error");
}
#endif

TEST_CASE("gemm_imma rejects operands it cannot take before launching", "[cuda][gemm_imma]" QMATH_CUDA_TEST_TAG) {
  static DeviceBuffer<std::int8_t> a(64 * 64), b(64 * 64);
  static DeviceBuffer<std::int32_t> c(64 * 64);
  static const Epilogue e{};
  CHECK_THAT(error_of([] {
               qmath::cuda::gemm_imma(qtest::tn_args(GemmShape{8, 8, 8}, a.get(), 8, 0, b.get(), 16, 0, c.get(), 8, e));
             }),
             Catch::Contains("multiples of 16"));
  CHECK_THAT(error_of([] {
               qmath::cuda::gemm_imma(
                   qtest::tn_args(GemmShape{8, 8, 16}, a.get() + 4, 16, 0, b.get(), 16, 0, c.get(), 8, e));
             }),
             Catch::Contains("16-byte aligned"));
  CHECK_THAT(error_of([] {
               qmath::cuda::gemm_imma(qmath::GemmArgs{qmath::row_major(a.get(), 8, 16),
                                                      qmath::row_major(b.get(), 16, 8), qmath::row_major(c.get(), 8, 8)});
             }),
             Catch::Contains("b must be column-major"));
  CHECK_THAT(error_of([] {
               qmath::cuda::gemm_imma(qtest::tn_args(GemmShape{8, 8, 200000}, a.get(), 200000, 0, b.get(), 200000,
                                                     0, c.get(), 8, e));
             }),
             Catch::Contains("overflow"));
  CHECK(c.download() == std::vector<std::int32_t>(64 * 64, 0));
}

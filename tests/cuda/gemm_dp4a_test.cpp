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

#include <qmath/gemm_reference.hpp>

#include "../gemm_args_support.hpp"
#include "gemm_cuda_test_support.hpp"
#include "test_support.hpp"

namespace {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath_test::check_gemm;
using qmath_test::DeviceBuffer;
using qmath_test::EpilogueArrays;
using qmath_test::operand;

// A tile with few threads (16) and unequal M / N / K steps, so that the emulated sweep is fast and index mix-ups
// between the dimensions show.
using TileTest = qmath::cuda::GemmTile<16, 8, 8, 4, 2>;

template <class Tile>
struct Dp4a {
  static constexpr int kLdAlign = 4;
  static const char* name() { return "gemm_dp4a_tile"; }
  template <class Args>
  static void run(const Args& args) {
    qmath::cuda::gemm_dp4a_tile<Tile>(args);
  }
};

}  // namespace

TEST_CASE("gemm_dp4a int32 output: shape sweep, int8 x int8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::shape_sweep<Dp4a<TileTest>, std::int8_t, std::int8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, uint8 x int8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::shape_sweep<Dp4a<TileTest>, std::uint8_t, std::int8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, int8 x uint8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::shape_sweep<Dp4a<TileTest>, std::int8_t, std::uint8_t>();
}
TEST_CASE("gemm_dp4a int32 output: shape sweep, uint8 x uint8", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::shape_sweep<Dp4a<TileTest>, std::uint8_t, std::uint8_t>();
}

TEST_CASE("gemm_dp4a fused epilogues are bit-exact with the reference", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::epilogue_sweep<Dp4a<TileTest>, Dp4a<qmath::cuda::TileSmall>>();
}

TEST_CASE("gemm_dp4a production presets", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  const Epilogue raw{};
  const EpilogueArrays none{};
  check_gemm<Dp4a<qmath::cuda::TileSmall>, std::int8_t, std::int8_t, std::int32_t>({33, 65, 100}, 5, -9, raw, none, 11);
  check_gemm<Dp4a<qmath::cuda::TileMedium>, std::uint8_t, std::int8_t, std::int32_t>({65, 70, 37}, 200, 0, raw, none, 12, 1);
  check_gemm<Dp4a<qmath::cuda::TileLarge>, std::int8_t, std::uint8_t, std::int32_t>({130, 129, 33}, 0, 17, raw, none, 13);
}

TEST_CASE("gemm_dp4a accumulates the worst case exactly", "[cuda][gemm_dp4a]" QMATH_CUDA_TEST_TAG) {
  qmath_test::worst_case_sweep<Dp4a<qmath::cuda::TileSmall>>();
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

// tests/cpu/epilogue_lanes_test.cpp - the GEMM epilogue written over the lane primitives (cpu/detail/epilogue_lanes.hpp)
// against epilogue_scalar (apply_epilogue per element), bit for bit, on every path this machine runs: the body on
// the scalar backend (any machine), epilogue_avx2 and epilogue_avx512 (the GEMM's functions, plain and streaming)
// where the CPU has them, epilogue_neon on AArch64. Every output type (int32, int8, uint8, float) x every scaling
// (none, float multiplier, fixed-point multiplier with both roundings) x per tensor / per channel x bias x zero
// point x clamp (x float bias for a float output), over widths that leave every tail length of 4-, 8- and 16-lane
// vectors, with accumulators and compensations that wrap, biases that saturate, every shift in [-31, 30], multipliers 0, 1, 2^30 and 2^31 - 1,
// scales 0, 1e-9, exact ties (0.5), 1e30 and FLT_MAX (products that overflow), negative scales.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include <qmath/cpu/detail/epilogue_lanes.hpp>
#include <qmath/cpu/detail/kernel_avx2.hpp>
#include <qmath/cpu/detail/kernel_avx512vnni.hpp>
#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/isa.hpp>

#include "../epilogue_fields.hpp"

namespace {

using qmath::FixedPointRounding;
using qmath::Scaling;

template <class TC>
using EpilogueFn = void (*)(const qmath::Epilogue&, const std::int32_t*, int, const std::int32_t*, int,
                            const std::int32_t*, int, int, TC*, std::int64_t);

template <class TC>
struct Path {
  const char* name;
  EpilogueFn<TC> fn;
};

// The vector epilogues this machine runs (a CPU without a path is reported, not tested).
template <class TC>
std::vector<Path<TC>> runnable_epilogues() {
  std::vector<Path<TC>> p = {{"lanes_scalar", qmath::cpu::detail::epilogue_lanes_scalar<TC>}};
#if QMATH_CPU_X86
  if (qmath::isa_available(qmath::Isa::kAvx2)) {
    p.push_back({"avx2", qmath::cpu::detail::epilogue_avx2<TC, false>});
    p.push_back({"avx2 streaming", qmath::cpu::detail::epilogue_avx2<TC, true>});
  } else {
    WARN("epilogue_avx2 not runnable on this CPU: not tested here");
  }
  if (qmath::isa_available(qmath::Isa::kAvx512Vnni)) {
    p.push_back({"avx512", qmath::cpu::detail::epilogue_avx512<TC, false>});
    p.push_back({"avx512 streaming", qmath::cpu::detail::epilogue_avx512<TC, true>});
  } else {
    WARN("epilogue_avx512 not runnable on this CPU: not tested here");
  }
#endif
#if QMATH_LANES_NEON
  p.push_back({"neon", qmath::cpu::detail::epilogue_neon<TC, false>});
#endif
  return p;
}

// +-2^i +-{0, 1, 2} and the ends of int32, then fixed-seed random values over the whole range.
std::vector<std::int32_t> accumulator_values(std::size_t count, std::mt19937& rng) {
  std::vector<std::int32_t> v = {0, 1, -1, INT32_MIN, INT32_MAX, INT32_MIN + 1, INT32_MAX - 1};
  for (int i = 0; i <= 30; ++i)
    for (int d = -2; d <= 2; ++d) v.push_back((1 << i) + d), v.push_back(-(1 << i) - d);
  std::uniform_int_distribution<std::int32_t> any(INT32_MIN, INT32_MAX), small(-70000, 70000);
  while (v.size() < count) v.push_back(v.size() % 2 ? any(rng) : small(rng));
  std::shuffle(v.begin(), v.end(), rng);
  v.resize(count);
  return v;
}

template <class TC>
void check_all_stages(unsigned seed) {
  constexpr bool kFloatOut = std::is_same<TC, float>::value;
  const int rows = 3, ld = 64;  // 64 elements: every row of a 64-byte-aligned buffer starts aligned
  std::mt19937 rng(seed);
  const std::vector<std::int32_t> dot = accumulator_values(std::size_t(rows) * ld, rng);
  std::vector<std::int32_t> row_comp = accumulator_values(rows, rng), col_comp = accumulator_values(ld, rng);
  const std::vector<std::int32_t> bias = accumulator_values(ld, rng);
  std::vector<std::int32_t> multiplier(ld), shift(ld);
  std::vector<float> scale(ld), float_bias(ld);
  std::uniform_real_distribution<float> any_bias(-1e6f, 1e6f);
  std::uniform_int_distribution<std::int32_t> mult_d(0, INT32_MAX);
  std::uniform_real_distribution<float> log_scale(-12.0f, 2.0f);
  for (int j = 0; j < ld; ++j) {
    const int pick = j % 6;
    multiplier[j] = pick == 0 ? 0 : pick == 1 ? 1 : pick == 2 ? (1 << 30) : pick == 3 ? INT32_MAX : mult_d(rng);
    shift[j] = -31 + (j * 7 + int(seed)) % 62;  // every shift in [-31, 30] over the columns
    const int spick = j % 9;
    scale[j] = spick == 0   ? 0.0f
               : spick == 1 ? 1e30f
               : spick == 2 ? std::numeric_limits<float>::max()
               : spick == 3 ? -0.37f
               : spick == 4 ? 0.5f
               : spick == 5 ? 1e-9f
                            : std::pow(10.0f, log_scale(rng));
    const int bpick = j % 7;  // zeros of both signs, the float extremes (sums that overflow), a tiny value
    float_bias[j] = bpick == 0   ? 0.0f
                    : bpick == 1 ? -0.0f
                    : bpick == 2 ? std::numeric_limits<float>::max()
                    : bpick == 3 ? -std::numeric_limits<float>::max()
                    : bpick == 4 ? 1e-30f
                                 : any_bias(rng);
  }
  const qmath::QuantRange t = qmath::full_range<typename std::conditional<kFloatOut, std::int32_t, TC>::type>();
  const std::vector<Path<TC>> paths = runnable_epilogues<TC>();
  int configs = 0;
  for (Scaling scaling : {Scaling::kNone, Scaling::kFloatMultiplier, Scaling::kFixedPointMultiplier}) {
    if (kFloatOut && scaling == Scaling::kFixedPointMultiplier) continue;
    for (bool per_channel : {false, true})
      for (FixedPointRounding rounding : {FixedPointRounding::kDoubleRounding, FixedPointRounding::kSingleRounding})
        for (bool with_bias : {false, true})
          for (int zp_case = 0; zp_case < 2; ++zp_case)
            for (int stage_case = 0; stage_case < 4; ++stage_case) {
              const bool clamped = (stage_case & 1) != 0, with_float_bias = (stage_case & 2) != 0;
              if (!kFloatOut && with_float_bias) continue;
              const bool has_multiplier = scaling != Scaling::kNone;
              if ((!has_multiplier && per_channel) || ((!has_multiplier || kFloatOut) && zp_case)) continue;
              if (scaling != Scaling::kFixedPointMultiplier && rounding == FixedPointRounding::kSingleRounding) continue;
              qtest::EpilogueFields f;
              f.scaling = scaling;
              f.per_channel = per_channel;
              f.rounding = rounding;
              f.float_multiplier = scale.data();
              f.fixed_point_multiplier = multiplier.data();
              f.shift = shift.data();
              f.bias = with_bias ? bias.data() : nullptr;
              f.float_bias = with_float_bias ? float_bias.data() : nullptr;
              if (!kFloatOut) {
                f.output_zero_point = zp_case ? (t.qmin < 0 ? -5 : 128) : 0;
                if (std::is_same<TC, std::int32_t>::value && zp_case) f.output_zero_point = 1 << 30;
                if (clamped) f.clamp_min = t.qmin / 2 + 3, f.clamp_max = t.qmax / 2 + 7;
              } else if (clamped) {
                f.float_clamp_min = -1000.5f, f.float_clamp_max = 2000.25f;
              }
              const qmath::Epilogue e = f;
              qmath::validate_epilogue<TC>(e, ld);
              ++configs;
              for (int width : {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64}) {
                const int n0 = width == 64 ? 0 : (width * 5) % (ld - width + 1);  // columns n0 .. n0 + width - 1
                std::vector<TC> expect(std::size_t(rows) * ld, TC(7));
                qmath::cpu::detail::epilogue_scalar<TC>(e, dot.data(), ld, row_comp.data(), rows, col_comp.data(), n0,
                                                        width, expect.data(), ld);
                for (const Path<TC>& path : paths) {
                  struct alignas(64) Block {
                    TC v[64];
                  };
                  std::vector<Block> got(rows);
                  for (Block& b : got) std::fill(b.v, b.v + 64, TC(7));
                  path.fn(e, dot.data(), ld, row_comp.data(), rows, col_comp.data(), n0, width, got[0].v, ld);
#if QMATH_CPU_X86
                  _mm_sfence();
#endif
                  INFO("path " << path.name << ", scaling " << int(scaling) << ", per channel " << per_channel
                               << ", rounding " << int(rounding) << ", bias " << with_bias << ", float bias "
                               << with_float_bias << ", zero point " << f.output_zero_point << ", clamped " << clamped << ", columns " << n0 << " + "
                               << width);
                  REQUIRE(std::memcmp(got.data(), expect.data(), expect.size() * sizeof(TC)) == 0);
                }
              }
            }
  }
  CHECK(configs == (kFloatOut ? 2 * (4 + 8) : 4 + 16 + 32));
}

}  // namespace

TEST_CASE("epilogue over lanes: int32 output, every stage, every runnable path", "[cpu][epilogue]") {
  check_all_stages<std::int32_t>(1);
  check_all_stages<std::int32_t>(2);
}
TEST_CASE("epilogue over lanes: int8 output, every stage, every runnable path", "[cpu][epilogue]") {
  check_all_stages<std::int8_t>(3);
  check_all_stages<std::int8_t>(4);
}
TEST_CASE("epilogue over lanes: uint8 output, every stage, every runnable path", "[cpu][epilogue]") {
  check_all_stages<std::uint8_t>(5);
  check_all_stages<std::uint8_t>(6);
}
TEST_CASE("epilogue over lanes: float output, every stage, every runnable path", "[cpu][epilogue]") {
  check_all_stages<float>(7);
  check_all_stages<float>(8);
}

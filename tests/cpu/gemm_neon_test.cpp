// Tests for the AArch64 GEMM paths (detail/kernel_neon*.hpp) and the 8-k packed form they add (detail/pack.hpp):
// which path the registry resolves to on this CPU (checked against what the test run expects of the emulated or
// real CPU), the kernels' edges bit for bit against qmath::gemm_reference (every K tail of the 4-k and 8-k forms,
// every row remainder of the 12-row tile, K blocks with an odd group count, the extreme operand values, PackedB of
// every layout on every path) and the layout conversions. Shapes are small: under qemu-user the whole file runs in
// seconds; the random sweep of gemm_test.cpp covers the rest on every path. On x86-64 only the layout checks run.
#include <qmath/cpu/gemm.hpp>  // first: the header under test is self-contained

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <qmath/gemm_reference.hpp>

#include "../gemm_args_support.hpp"
#include "gemm_test_support.hpp"
#include "packed_args.hpp"

namespace {

using qmath::GemmShape;
using qmath::Isa;
using qtest::BLayout;
using qtest::random_vector;
using qtest::same_bits;
namespace cd = qmath::cpu::detail;

constexpr Isa kArmPaths[] = {Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm};

// Every path this machine runs, kScalar first.
std::vector<Isa> available_paths() { return qtest::runnable_paths(); }

// Restores the process cap (set_max_isa) at the end of a test case.
struct CapGuard {
  ~CapGuard() { qmath::reset_max_isa(); }
};

// One GEMM of int32 output through `isa`, one-shot or with B packed for `pack_for`, against the reference.
template <class TA, class TB>
void check_gemm(GemmShape s, const std::vector<TA>& a, std::int32_t za, const std::vector<TB>& b, std::int32_t zb,
                Isa isa, std::optional<Isa> pack_for, int threads = 1) {
  std::vector<std::int32_t> expect(std::size_t(s.m) * s.n), got(expect.size(), 7);
  const auto args = [&](std::int32_t* c) {
    return qtest::gemm_args(s, a.data(), s.k, za, b.data(), s.n, BLayout::kKxN, zb, c, s.n, qmath::Epilogue{});
  };
  qmath::gemm_reference(args(expect.data()));
  if (pack_for) {
    const auto packed = cd::pack_b_for(*pack_for, qtest::b_view(s.k, s.n, b.data(), s.n, BLayout::kKxN), zb);
    qmath::cpu::gemm(qtest::packed_args(s, a.data(), s.k, za, packed, got.data(), s.n, qmath::Epilogue{}),
                     {isa, threads});
  } else {
    qmath::cpu::gemm(args(got.data()), {isa, threads});
  }
  INFO("path " << qmath::isa_name(isa) << " M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za
               << " zb=" << zb << " threads=" << threads
               << (pack_for ? std::string(" packed for ") + qmath::isa_name(*pack_for) : std::string(" one-shot")));
  REQUIRE(same_bits(got, expect));
}

}  // namespace

TEST_CASE("AArch64: the registry resolves to the path this CPU should run", "[cpu][gemm][neon]") {
  // scripts/test-arm.sh sets QMATH_TEST_EXPECT_GEMM_PATH to the best path of the qemu CPU model it runs (neoni8mm
  // for -cpu max, neon for cortex-a57), so that detection through getauxval is checked, not assumed.
  const char* expect = std::getenv("QMATH_TEST_EXPECT_GEMM_PATH");
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  const Isa best = qmath::cpu::resolved_isa_for_gemm();
#if QMATH_CPU_AARCH64
  CHECK(qmath::isa_family(best) == qmath::IsaFamily::kAarch64);
  CHECK(qmath::isa_available(Isa::kNeon));
#endif
  if (expect == nullptr || *expect == '\0') {
    WARN("QMATH_TEST_EXPECT_GEMM_PATH is not set: the resolved GEMM path " << qmath::isa_name(best)
                                                                           << " is NOT checked against the CPU model");
    return;
  }
  const std::optional<Isa> want = qmath::parse_isa(expect);
  REQUIRE(want.has_value());
  CHECK(best == *want);
  // The levels above the expected one are errors when named, the ones at or below it run their own kernel.
  for (Isa isa : kArmPaths) {
    INFO("path " << qmath::isa_name(isa));
    if (qmath::isa_within(isa, *want)) {
      CHECK(qmath::cpu::resolved_isa_for_gemm(isa) == isa);
    } else {
      CHECK_FALSE(qmath::isa_available(isa));
      CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(isa), Catch::Contains(qmath::isa_name(isa)) &&
                                                                    Catch::Contains("not available"));
    }
  }
  // x86 paths are not available on AArch64: named, they are errors.
  CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(Isa::kAvx2), Catch::Contains("avx2") &&
                                                                       Catch::Contains("not available"));
  // The cap orders the AArch64 levels.
  qmath::set_max_isa(Isa::kNeon);
  CHECK(qmath::cpu::resolved_isa_for_gemm() == Isa::kNeon);
  if (qmath::isa_available(Isa::kNeonDotprod))
    CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(Isa::kNeonDotprod), Catch::Contains("above the cap"));
  qmath::set_max_isa(Isa::kAvx512Vnni);  // a cap of the other family leaves only the scalar kernel
  CHECK(qmath::cpu::resolved_isa_for_gemm() == Isa::kScalar);
}

TEST_CASE("8-k packed form: conversions are exact inverses and keep every value", "[cpu][gemm][neon]") {
  std::mt19937 rng(81);
  for (int k : {1, 4, 5, 8, 12, 13, 17, 24}) {
    for (int n : {1, 32, 45}) {
      INFO("K=" << k << " N=" << n);
      const std::vector<std::int8_t> b = random_vector<std::int8_t>(std::size_t(k) * n, rng);
      const std::size_t elems = cd::packed_b_elements(k, n);
      std::vector<std::int32_t> col_sum(std::size_t(cd::ceil_div(n, cd::kNr)) * cd::kNr);
      std::vector<std::int8_t> k4(elems);
      cd::pack_b(k, n, b.data(), n, cd::BLayout::kKxN, k4.data(), col_sum.data());
      std::vector<std::int8_t> k8 = k4;
      cd::packed_b_k4_to_k8(k, n, k8.data());
      // The definition: panel p, group pair (2h, 2h + 1), column j, t < 8 holds B'[8h + t][32p + j]; an odd last
      // group stays in the 4-k form.
      const int kgroups = cd::ceil_div(k, cd::kKGroup);
      for (int p = 0; p < cd::ceil_div(n, cd::kNr); ++p)
        for (int kk = 0; kk < kgroups * cd::kKGroup; ++kk)
          for (int j = 0; j < cd::kNr; ++j) {
            const int col = p * cd::kNr + j;
            const std::int8_t want = kk < k && col < n ? b[std::size_t(kk) * n + col] : std::int8_t(0);
            const std::size_t panel = std::size_t(p) * kgroups * cd::kNr * cd::kKGroup;
            const int g = kk / cd::kKGroup;
            const std::size_t at = (g + 1 < kgroups || g % 2 == 1)
                                       ? std::size_t(g / 2) * 2 * cd::kNr * cd::kKGroup + 8 * j + kk % 8
                                       : std::size_t(g) * cd::kNr * cd::kKGroup + 4 * j + kk % 4;
            REQUIRE(k8[panel + at] == want);
          }
      std::vector<std::int8_t> back = k8;
      cd::packed_b_k8_to_k4(k, n, back.data());
      CHECK(back == k4);
      // convert_packed_b between every pair of layouts agrees with the direct forms.
      using L = cd::BPackLayout;
      const cd::AlignedBuffer to8 = cd::convert_packed_b(k, n, L::kInt8K4, k4.data(), L::kInt8K8);
      CHECK(std::memcmp(to8.as<std::int8_t>(), k8.data(), elems) == 0);
      const cd::AlignedBuffer wide = cd::convert_packed_b(k, n, L::kInt8K8, k8.data(), L::kInt16K2);
      const cd::AlignedBuffer from_wide = cd::convert_packed_b(k, n, L::kInt16K2, wide.as<std::int8_t>(), L::kInt8K8);
      CHECK(std::memcmp(from_wide.as<std::int8_t>(), k8.data(), elems) == 0);
      const cd::AlignedBuffer to4 = cd::convert_packed_b(k, n, L::kInt8K8, k8.data(), L::kInt8K4);
      CHECK(std::memcmp(to4.as<std::int8_t>(), k4.data(), elems) == 0);
    }
  }
}

TEST_CASE("AArch64 kernels: every K tail and every row remainder, bit-exact", "[cpu][gemm][neon]") {
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  std::mt19937 rng(82);
  int ran = 0;
  for (Isa isa : available_paths()) {
    if (isa == Isa::kScalar) continue;
    for (int k = 1; k <= 17; ++k)  // K mod 8 and K mod 4: every tail of both packed forms
      for (int m : {1, 5, 12, 13}) {
        const GemmShape s{m, 33, k};
        check_gemm(s, random_vector<std::int8_t>(std::size_t(m) * k, rng), 3,
                   random_vector<std::int8_t>(std::size_t(k) * 33, rng), -2, isa, std::nullopt);
      }
    for (int m = 1; m <= 13; ++m) {  // every row count of the 12-row tile, the 4-row and 2-row sub-tiles
      const GemmShape s{m, 40, 20};
      check_gemm(s, random_vector<std::uint8_t>(std::size_t(m) * 20, rng), 131, random_vector<std::int8_t>(800, rng),
                 0, isa, std::nullopt);
    }
    ++ran;
  }
#if QMATH_CPU_AARCH64
  CHECK(ran >= 1);  // kNeon runs on every AArch64 CPU
#else
  if (ran == 0) WARN("no AArch64 path on this machine: the AArch64 kernels are NOT tested here");
#endif
}

TEST_CASE("AArch64 kernels: K blocks with an odd group count and the extreme operands", "[cpu][gemm][neon]") {
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  std::mt19937 rng(83);
  for (Isa isa : available_paths()) {
    // K = 4 * 161 + 1: 162 groups in two K blocks (of 82 and 80 with kc_align 2), and K = 4 * 161: an odd count
    // whose tail group ends the last block.
    for (int k : {645, 644, 1283}) {
      const GemmShape s{13, 35, k};
      check_gemm(s, random_vector<std::int8_t>(std::size_t(13) * k, rng), -7,
                 random_vector<std::uint8_t>(std::size_t(k) * 35, rng), 200, isa, std::nullopt, 2);
    }
    // Extreme operands: every product (A' - 128) B' at +-16384 (A = -128 or 127 int8, B = -128), the int16 product
    // limit of SMULL; uint8 A at 0 / 255.
    for (int pattern = 0; pattern < 4; ++pattern) {
      const int k = 37, m = 12, n = 32;
      std::vector<std::int8_t> a8(std::size_t(m) * k), b8(std::size_t(k) * n);
      std::vector<std::uint8_t> a_u8(std::size_t(m) * k);
      for (std::size_t i = 0; i < a8.size(); ++i) {
        a8[i] = pattern & 1 ? std::int8_t(-128) : std::int8_t(i % 3 == 0 ? 127 : -128);
        a_u8[i] = pattern & 1 ? std::uint8_t(255) : std::uint8_t(i % 2 ? 0 : 255);
      }
      for (std::size_t i = 0; i < b8.size(); ++i)
        b8[i] = pattern & 2 ? std::int8_t(-128) : std::int8_t(i % 2 ? 127 : -128);
      check_gemm(GemmShape{m, n, k}, a8, 0, b8, 0, isa, std::nullopt);
      check_gemm(GemmShape{m, n, k}, a8, -128, b8, 127, isa, std::nullopt);
      check_gemm(GemmShape{m, n, k}, a_u8, 255, b8, -128, isa, std::nullopt);
    }
  }
}

TEST_CASE("AArch64: a PackedB of every layout runs on every path", "[cpu][gemm][neon]") {
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  std::mt19937 rng(84);
  const std::vector<Isa> paths = available_paths();
  for (Isa pack_for : paths) {
    const std::vector<std::int8_t> zeros(15);
    const auto probe = cd::pack_b_for(pack_for, qtest::b_view(5, 3, zeros.data(), 3, BLayout::kKxN), 0);
    if (pack_for == Isa::kNeonI8mm) {
      CHECK(probe.layout() == cd::BPackLayout::kInt8K8);
      CHECK(probe.int8_data() == nullptr);  // the small-M kernels convert it per call
    }
    for (Isa isa : paths)
      for (int m : {1, 3, 14}) {  // 1 and 3: the small-M kernels (scalar and AArch64 paths), 14: the blocked ones
        const GemmShape s{m, 45, 29};
        check_gemm(s, random_vector<std::uint8_t>(std::size_t(m) * 29, rng), 9,
                   random_vector<std::uint8_t>(29 * 45, rng), 77, isa, pack_for, m == 14 ? 2 : 1);
      }
  }
}

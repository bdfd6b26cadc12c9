// The host shim's mma fragment layouts (qmath_shim/fragments.hpp) against an independent source: CuTe's MMA_Traits
// (nvidia-cutlass, installed by scripts/install-deps.sh into the repository's .venv) for
// SM80_16x8x32_S32S8S8S32_TN and SM75_8x8x16_S32S8S8S32_TN. CuTe's ALayout / BLayout / CLayout map (thread, value)
// to the column-major index of (m, k), (n, k) and (m, n); value v of a thread is byte v % 4 of register v / 4 for A
// and B, register v for C.
#include <cute/atom/mma_traits_sm75.hpp>
#include <cute/atom/mma_traits_sm80.hpp>

#include "shim/qmath_shim/fragments.hpp"

#include <catch2/catch.hpp>

namespace {

namespace emu = qmath::cuda::emu;

template <class Traits, class FA, class FB, class FC>
void check_traits(int m, int n, int k, FA frag_a, FB frag_b, FC frag_c) {
  typename Traits::ALayout a{};
  typename Traits::BLayout b{};
  typename Traits::CLayout c{};
  int checked = 0;
  for (int lane = 0; lane < 32; ++lane) {
    for (int v = 0; v < m * k / 32; ++v) {
      const int idx = a(lane, v);
      const emu::Element e = frag_a(lane, v / 4, v % 4);
      CHECK(e.row == idx % m);
      CHECK(e.col == idx / m);
      ++checked;
    }
    for (int v = 0; v < n * k / 32; ++v) {
      const int idx = b(lane, v);  // (n, k)
      const emu::Element e = frag_b(lane, v / 4, v % 4);  // (k, n)
      CHECK(e.col == idx % n);
      CHECK(e.row == idx / n);
      ++checked;
    }
    for (int v = 0; v < m * n / 32; ++v) {
      const int idx = c(lane, v);
      const emu::Element e = frag_c(lane, v);
      CHECK(e.row == idx % m);
      CHECK(e.col == idx / m);
      ++checked;
    }
  }
  CHECK(checked == m * k + n * k + m * n);
}

TEST_CASE("shim fragment layouts equal CuTe's MMA_Traits for m16n8k32 (sm_80) and m8n8k16 (sm_75)", "[shim][cute]") {
  check_traits<cute::MMA_Traits<cute::SM80_16x8x32_S32S8S8S32_TN>>(
      16, 8, 32, emu::mma16832_a, emu::mma16832_b, emu::mma16832_c);
  check_traits<cute::MMA_Traits<cute::SM75_8x8x16_S32S8S8S32_TN>>(
      8, 8, 16, [](int lane, int, int byte) { return emu::mma8816_a(lane, byte); },
      [](int lane, int, int byte) { return emu::mma8816_b(lane, byte); }, emu::mma8816_c);
}

}  // namespace

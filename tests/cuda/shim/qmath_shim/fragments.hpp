// qmath_shim/fragments.hpp - the per-lane fragment layouts of the integer mma.sync shapes, as the tests' host shim
// implements them (PTX ISA, "Matrix fragments for mma.m16n8k32" / "mma.m8n8k16" with .s8/.u8): which element of
// A (M x K), B (K x N) or C/D (M x N) byte j of register r of lane `lane` holds. tests/cuda/shim_cute_test.cpp checks
// every entry against CuTe's MMA_Traits (nvidia-cutlass), an independent source.
#pragma once

namespace qmath {
namespace cuda {
namespace emu {

struct Element {
  int row, col;
};

// m16n8k32: a[4] (16 bytes), b[2] (8 bytes), c/d[4] (int32).
constexpr Element mma16832_a(int lane, int reg, int byte) {
  return {lane / 4 + 8 * (reg % 2), 16 * (reg / 2) + 4 * (lane % 4) + byte};
}
constexpr Element mma16832_b(int lane, int reg, int byte) { return {16 * reg + 4 * (lane % 4) + byte, lane / 4}; }
constexpr Element mma16832_c(int lane, int reg) { return {lane / 4 + 8 * (reg / 2), 2 * (lane % 4) + reg % 2}; }

// m8n8k16: a[1] (4 bytes), b[1] (4 bytes), c/d[2] (int32).
constexpr Element mma8816_a(int lane, int byte) { return {lane / 4, 4 * (lane % 4) + byte}; }
constexpr Element mma8816_b(int lane, int byte) { return {4 * (lane % 4) + byte, lane / 4}; }
constexpr Element mma8816_c(int lane, int reg) { return {lane / 4, 2 * (lane % 4) + reg}; }

}  // namespace emu
}  // namespace cuda
}  // namespace qmath

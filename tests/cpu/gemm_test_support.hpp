// tests/cpu/gemm_test_support.hpp - what the CPU GEMM tests share: the paths to sweep and random operands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include <qmath/fixed_point.hpp>
#include <qmath/isa.hpp>
#include <qmath/quant_range.hpp>

#include "../epilogue_fields.hpp"

namespace qtest {

// The paths to test: those this CPU and compiler run (GEMM kernels of both families). A path the CPU cannot run is
// reported, not tested.
inline std::vector<qmath::Isa> runnable_paths() {
  using qmath::Isa;
  std::vector<Isa> paths;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDotprod,
                  Isa::kNeonI8mm})
    if (qmath::isa_available(isa)) paths.push_back(isa);
  return paths;
}

// `size` values of T drawn uniformly from [lo, hi] (default: T's whole range).
template <class T>
std::vector<T> random_vector(std::size_t size, std::mt19937& rng, int lo = qmath::full_range<T>().qmin,
                             int hi = qmath::full_range<T>().qmax) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(size);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Whether x and y hold the same bytes (floats compared by their bits: -0 and NaN payloads count).
template <class T>
bool same_bits(const std::vector<T>& x, const std::vector<T>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

// A type as a value, so that a generic lambda can receive it.
template <class T>
struct TypeTag {
  using type = T;
};

// Runs check(TypeTag<TC>{}, seed + i) for the four output types TC = int32, int8, uint8, float (i = 0, 1, 2, 3).
template <class Check>
void for_each_output(unsigned seed, Check check) {
  check(TypeTag<std::int32_t>{}, seed);
  check(TypeTag<std::int8_t>{}, seed + 1);
  check(TypeTag<std::uint8_t>{}, seed + 2);
  check(TypeTag<float>{}, seed + 3);
}

// One output stage per output type for the kernel tests: the raw accumulator (int32), a per-channel float
// multiplier with bias (int8 with zero point -5, float), a per-channel fixed-point multiplier with bias and zero
// point 128 (uint8).
template <class TC>
struct OutputStage {
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale;
  qtest::EpilogueFields e;
  OutputStage(int n, int k, std::mt19937& rng) : bias(n), multiplier(n), shift(n), scale(n) {
    const float base = 200.0f / (128.0f * 128.0f * float(k));
    std::uniform_real_distribution<float> spread(0.25f, 4.0f);
    for (int i = 0; i < n; ++i) {
      bias[i] = int(rng() % 80001) - 40000;
      scale[i] = base * spread(rng);
      const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(scale[i]);
      multiplier[i] = q.multiplier;
      shift[i] = q.shift;
    }
    if (std::is_same<TC, std::int32_t>::value) return;  // the raw accumulator
    e.bias = bias.data();
    e.per_channel = true;
    e.float_multiplier = scale.data();
    e.scaling = qmath::Scaling::kFloatMultiplier;
    if (std::is_same<TC, std::uint8_t>::value) {  // fixed-point requantization with a zero point
      e.scaling = qmath::Scaling::kFixedPointMultiplier;
      e.fixed_point_multiplier = multiplier.data();
      e.shift = shift.data();
      e.output_zero_point = 128;
    } else if (std::is_same<TC, std::int8_t>::value) {
      e.output_zero_point = -5;
    }
  }
};

}  // namespace qtest

// tests/cpu/gemm_test_support.hpp - what the CPU GEMM tests share: the paths to sweep and random operands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <qmath/isa.hpp>
#include <qmath/quant_range.hpp>

namespace qtest {

// The paths to test: those this CPU and compiler run. A path the CPU cannot run is reported, not tested.
inline std::vector<qmath::Isa> runnable_paths() {
  using qmath::Isa;
  std::vector<Isa> paths;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni})
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

}  // namespace qtest

// bench/bench_support.hpp - what the benchmarks share: their random input and the timed loop with its counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace qbench {

// n floats from N(0, 2), drawn by mt19937 seeded with 42 (the same input in every run).
inline std::vector<float> normal_input(std::size_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

// A sized benchmark's input: n = its first argument, x = normal_input(n).
struct NormalInput {
  explicit NormalInput(const benchmark::State& state)
      : n(static_cast<std::size_t>(state.range(0))), x(normal_input(n)) {}
  std::size_t n;
  std::vector<float> x;
};

// Runs body() once per benchmark iteration (the body keeps its results alive itself: ClobberMemory or
// DoNotOptimize), then reports `elements` items per iteration and, when bytes_per_element is not 0,
// elements * bytes_per_element bytes per iteration.
template <class Body>
void time_elements(benchmark::State& state, std::size_t elements, Body body, std::size_t bytes_per_element = 0) {
  for (auto _ : state) body();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(elements));
  if (bytes_per_element != 0)
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(elements * bytes_per_element));
}

}  // namespace qbench

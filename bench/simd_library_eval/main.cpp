// bench/simd_library_eval - the measurement behind docs/simd.md "xsimd and Highway": one epilogue stage (int8
// output, per-channel float multiplier, bias, zero point) written with xsimd, with Highway (static dispatch) and run
// by today's epilogue_avx2; bits against apply_epilogue and ns per element. Not part of the CMake build (it needs
// libxsimd-dev and libhwy-dev, which qmath does not depend on). Build by hand from the repository root:
//   d=bench/simd_library_eval; g++ -std=c++17 -O2 -march=znver3 -c $d/stage_xsimd.cpp -o /tmp/xs.o
//   g++ -std=c++17 -O2 -march=znver3 -c $d/stage_highway.cpp -o /tmp/hw.o
//   g++ -std=c++17 -O2 -Iinclude -c $d/stage_current.cpp -o /tmp/cur.o
//   g++ -std=c++17 -O2 -Iinclude $d/main.cpp /tmp/xs.o /tmp/hw.o /tmp/cur.o -o /tmp/simd_eval && /tmp/simd_eval
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include <qmath/epilogue.hpp>
#include "common.hpp"
void stage_xsimd(const Stage&, const std::int32_t*, int, std::int8_t*);
void stage_hwy(const Stage&, const std::int32_t*, int, std::int8_t*);
void stage_current(const qmath::Epilogue&, const std::int32_t*, const std::int32_t*, int, std::int8_t*);
int main() {
  const int n = 4096, reps = 20000;
  std::mt19937 rng(1);
  std::vector<std::int32_t> acc(n), bias(n), zeros(n, 0);
  std::vector<float> scale(n);
  for (int i = 0; i < n; ++i) {
    acc[i] = int(rng()); bias[i] = (i % 16 == 0) ? int(rng()) : int(rng() % 200001) - 100000;
    scale[i] = (i % 5 == 0) ? 0.5f : std::ldexp(float(rng() % 1000 + 1), -int(rng() % 40));
    if (i % 7 == 0) acc[i] = int(rng() % 2001) - 1000;
  }
  const std::int32_t zp = -5;
  const qmath::Epilogue e = qmath::Epilogue::float_multiplier(scale.data(), qmath::Granularity::kPerChannel)
      .with_bias(bias.data()).with_output_zero_point(zp);
  std::vector<std::int8_t> ref(n), a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) ref[i] = qmath::apply_epilogue<std::int8_t>(e, acc[i], i);
  const Stage s{bias.data(), scale.data(), zp, -128 - zp, 127 - zp};
  auto time = [&](auto f) { auto t0 = std::chrono::steady_clock::now(); for (int r = 0; r < reps; ++r) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e9 / (double(reps) * n); };
  for (int round = 0; round < 3; ++round) {
    double tc = time([&] { stage_current(e, acc.data(), zeros.data(), n, c.data()); });
    double tx = time([&] { stage_xsimd(s, acc.data(), n, a.data()); });
    double th = time([&] { stage_hwy(s, acc.data(), n, b.data()); });
    std::printf("ns/element: epilogue_avx2 %.3f  xsimd %.3f  highway %.3f\n", tc, tx, th);
  }
  std::printf("bits vs apply_epilogue: current %s xsimd %s highway %s\n", c == ref ? "same" : "DIFFER",
              a == ref ? "same" : "DIFFER", b == ref ? "same" : "DIFFER");
}

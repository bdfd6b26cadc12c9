// bench/simd_library_eval/epilogue_throughput.cpp - epilogue_avx2<TC> per configuration (16 x 1024 accumulators,
// per-channel stages), thread CPU ns per output element (median of 7 timings; thread CPU time, not wall time, because
// the measuring machine is shared). Built by hand against two include trees and run alternately by
// paired_epilogue.py (docs/simd.md):
//   g++ -std=c++17 -O2 -I<old>/include epilogue_throughput.cpp -o epi_old
//   g++ -std=c++17 -O2 -Iinclude epilogue_throughput.cpp -o epi_new
//   python3 paired_epilogue.py 9
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>
#include <time.h>
static double cpu_now() { timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + 1e-9 * ts.tv_nsec; }
#include <qmath/cpu/gemm.hpp>
using namespace qmath;
template <class TC>
double run(const Epilogue& e, const std::vector<std::int32_t>& dot, const std::vector<std::int32_t>& rc,
           const std::vector<std::int32_t>& cc, int rows, int cols) {
  std::vector<TC> out(std::size_t(rows) * cols);
  std::vector<double> t;
  for (int rep = 0; rep < 7; ++rep) {
    const int iters = 200;
    const double t0 = cpu_now();
    for (int i = 0; i < iters; ++i)
      cpu::detail::epilogue_avx2<TC>(e, dot.data(), cols, rc.data(), rows, cc.data(), 0, cols, out.data(), cols);
    t.push_back((cpu_now() - t0) * 1e9 / (double(iters) * rows * cols));
  }
  std::sort(t.begin(), t.end());
  return t[3];
}
int main() {
  const int rows = 16, cols = 1024;
  std::mt19937 rng(3);
  std::vector<std::int32_t> dot(std::size_t(rows) * cols), rc(rows), cc(cols), bias(cols), mult(cols), shift(cols);
  std::vector<float> scale(cols);
  for (auto& v : dot) v = int(rng() % 2000001) - 1000000;
  for (auto& v : rc) v = int(rng() % 2001) - 1000;
  for (auto& v : cc) v = int(rng() % 2001) - 1000;
  for (int j = 0; j < cols; ++j) {
    bias[j] = int(rng() % 20001) - 10000;
    scale[j] = 1e-4f * (1 + rng() % 100);
    const auto q = quantize_multiplier(scale[j]);
    mult[j] = q.multiplier, shift[j] = q.shift;
  }
  const auto pc = Granularity::kPerChannel;
  const Epilogue f = Epilogue::float_multiplier(scale.data(), pc).with_bias(bias.data()).with_output_zero_point(-5);
  const Epilogue fu = Epilogue::float_multiplier(scale.data(), pc).with_bias(bias.data()).with_output_zero_point(128);
  const Epilogue d = Epilogue::fixed_point_multiplier(mult.data(), shift.data(), pc).with_bias(bias.data()).with_output_zero_point(128);
  const Epilogue s = Epilogue::fixed_point_multiplier(mult.data(), shift.data(), pc, FixedPointRounding::kSingleRounding).with_bias(bias.data()).with_output_zero_point(-5);
  const Epilogue f32 = Epilogue::float_multiplier(scale.data(), pc).with_bias(bias.data());
  std::printf("int8_float %.3f\n", run<std::int8_t>(f, dot, rc, cc, rows, cols));
  std::printf("uint8_float %.3f\n", run<std::uint8_t>(fu, dot, rc, cc, rows, cols));
  std::printf("uint8_fixed_double %.3f\n", run<std::uint8_t>(d, dot, rc, cc, rows, cols));
  std::printf("int8_fixed_single %.3f\n", run<std::int8_t>(s, dot, rc, cc, rows, cols));
  std::printf("int32_float %.3f\n", run<std::int32_t>(f32, dot, rc, cc, rows, cols));
  std::printf("int32_none %.3f\n", run<std::int32_t>(Epilogue(), dot, rc, cc, rows, cols));
  std::printf("float_float %.3f\n", run<float>(f32, dot, rc, cc, rows, cols));
}

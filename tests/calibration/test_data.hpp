// Fixed-seed analytic test distributions shared by the calibration tests.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace qmath_test {

inline std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float sigma = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = d(g);
  return x;
}
inline std::vector<float> uniform(std::size_t n, std::uint32_t seed, float lo, float hi) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> x(n);
  for (float& v : x) v = d(g);
  return x;
}
// Laplace(0, b) by inverse CDF of a uniform.
inline std::vector<float> laplace(std::size_t n, std::uint32_t seed, float b = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> d(-0.5, 0.5);
  std::vector<float> x(n);
  for (float& v : x) {
    const double u = d(g);
    v = static_cast<float>(-b * (u < 0 ? -1.0 : 1.0) * std::log(1.0 - 2.0 * std::fabs(u)));
  }
  return x;
}
inline std::vector<float> relu(std::vector<float> x) {
  for (float& v : x) v = v > 0.0f ? v : 0.0f;
  return x;
}
// Replaces every (n / count)-th value by an outlier from 10 to 10 + 0.17 * (count - 1).
inline std::vector<float> with_outliers(std::vector<float> x, std::size_t count) {
  const std::size_t step = x.size() / count;
  for (std::size_t k = 0; k < count; ++k) x[k * step] = 10.0f + 0.17f * static_cast<float>(k);
  return x;
}

}  // namespace qmath_test

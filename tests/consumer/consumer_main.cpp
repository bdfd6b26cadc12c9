// A consumer of an installed or vendored qmath: quantizes a few values and checks the round trip.
#include <cstdint>
#include <cstdio>

#include <qmath/qparams.hpp>
#include <qmath/quantize_array.hpp>
#if defined(QMATH_CONSUMER_WITH_EIGEN)
#include <qmath/eigen.hpp>
#endif

int main() {
  const qmath::QuantParams p = qmath::symmetric_params(2.54f, qmath::narrow_range<std::int8_t>());  // 0.02
  const float x[4] = {-2.54f, -0.004f, 0.061f, 9.0f};
  std::int8_t q[4];
  qmath::quantize_array(x, 4, q, p, qmath::narrow_range<std::int8_t>());
  const bool ok = q[0] == -127 && q[1] == 0 && q[2] == 3 && q[3] == 127;
#if defined(QMATH_CONSUMER_WITH_EIGEN)
  Eigen::MatrixXf m(1, 2);
  m << 0.02f, -0.04f;
  const auto qm = qmath::eigen::quantize<std::int8_t>(m, p);
  const bool eigen_ok = qm(0, 0) == 1 && qm(0, 1) == -2;
#else
  const bool eigen_ok = true;
#endif
  std::printf("qmath consumer: %d %d %d %d (%s)\n", q[0], q[1], q[2], q[3], ok && eigen_ok ? "ok" : "WRONG");
  return ok && eigen_ok ? 0 : 1;
}

#include <cstdint>
#include <cstdio>
#include <qmath/quantize_array.hpp>  // the array forms; qmath/quantize.hpp has the scalar ones

int main() {
  // TensorRT-style symmetric INT8: scale = amax / 127, q in [-127, 127].
  const qmath::QuantRange range = qmath::narrow_range<std::int8_t>();
  const qmath::QuantParams p = qmath::symmetric_params(/*amax=*/2.54f, range);

  const float x[5] = {-3.0f, -0.5f, 0.0f, 0.03f, 1.27f};
  std::int8_t q[5];
  qmath::quantize_array(x, 5, q, p, range, qmath::Round::kHalfToEven);  // AVX2/AVX-512 when available
  float back[5];
  qmath::dequantize_array(q, 5, back, p);

  for (int i = 0; i < 5; ++i) std::printf("%6.3f -> %4d -> %6.3f\n", x[i], q[i], back[i]);
  return 0;
}

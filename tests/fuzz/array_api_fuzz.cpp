// libFuzzer harness: the public array API against the normative scalar reference. The input chooses an operation,
// its shape, parameters (raw float bits: NaN, infinities, subnormals, negatives included), epilogue and data.
// Invariant: no crash or sanitizer report, and either a qmath::error with the output untouched, or exactly the
// reference's answer (bit for bit): quantize / dequantize / fake-quantize arrays against their per-element scalar
// forms, per-channel forms against per-element scalars, and cpu::gemm against gemm_reference (which must reject
// exactly the same arguments).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include <qmath/cpu/gemm.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/quantize_array.hpp>

namespace {

float any_float(FuzzedDataProvider& d) {
  const std::uint32_t u = d.ConsumeIntegral<std::uint32_t>();
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
// Mostly sensible values, sometimes any bit pattern.
float some_scale(FuzzedDataProvider& d) {
  if (d.ConsumeBool()) return any_float(d);
  return d.ConsumeFloatingPointInRange<float>(1e-6f, 10.0f);
}
bool same_bits(const void* a, const void* b, std::size_t n) { return n == 0 || std::memcmp(a, b, n) == 0; }
template <class T>
std::vector<T> ints(FuzzedDataProvider& d, std::size_t n) {
  std::vector<T> v(n);
  for (T& x : v) x = d.ConsumeIntegral<T>();
  return v;
}
std::vector<float> floats(FuzzedDataProvider& d, std::size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = d.ConsumeBool() ? any_float(d) : d.ConsumeFloatingPointInRange<float>(-300.0f, 300.0f);
  return v;
}
qmath::Round some_round(FuzzedDataProvider& d) {
  return d.PickValueInArray({qmath::Round::kHalfToEven, qmath::Round::kHalfAwayFromZero, qmath::Round::kHalfUp,
                             qmath::Round::kTowardZero});
}

template <class T>
void quantize_case(FuzzedDataProvider& d) {
  const std::size_t n = d.ConsumeIntegralInRange<std::size_t>(0, 100);
  const qmath::QuantParams p{some_scale(d), d.ConsumeIntegralInRange<std::int32_t>(-70000, 70000)};
  const qmath::QuantRange full = qmath::full_range<T>();
  qmath::QuantRange range = full;
  if (d.ConsumeBool()) {
    range.qmin = d.ConsumeIntegralInRange<std::int32_t>(-70000, 70000);
    range.qmax = d.ConsumeIntegralInRange<std::int32_t>(-70000, 70000);
  }
  const qmath::Round mode = some_round(d);
  const std::vector<float> x = floats(d, n);
  std::vector<T> q(n, T(7)), expect(n);
  try {
    qmath::quantize_array(x.data(), n, q.data(), p, range, mode);
  } catch (const qmath::error&) {
    for (T v : q)
      if (v != T(7)) __builtin_trap();  // nothing written
    return;
  }
  qmath::detail::quantize_array_scalar(x.data(), n, expect.data(), p, range, mode);
  if (!same_bits(q.data(), expect.data(), n * sizeof(T))) __builtin_trap();
  // Dequantize what came out, against the scalar form.
  std::vector<float> y(n), ey(n);
  qmath::dequantize_array(q.data(), n, y.data(), p);
  for (std::size_t i = 0; i < n; ++i) ey[i] = qmath::dequantize_value(q[i], p);
  if (!same_bits(y.data(), ey.data(), n * sizeof(float))) __builtin_trap();
  // Fake quantization, in place, against the scalar form.
  std::vector<float> f = x;
  qmath::fake_quantize_array(f.data(), n, f.data(), p, range, mode);
  for (std::size_t i = 0; i < n; ++i) {
    const float e = qmath::fake_quantize_value(x[i], p, range, mode);
    if (!same_bits(&f[i], &e, sizeof e)) __builtin_trap();
  }
}

template <class T>
void dequantize_case(FuzzedDataProvider& d) {
  const std::size_t n = d.ConsumeIntegralInRange<std::size_t>(0, 100);
  const qmath::QuantParams p{some_scale(d), d.ConsumeIntegral<std::int32_t>()};
  const std::vector<T> q = ints<T>(d, n);
  std::vector<float> x(n, 7.0f);
  try {
    qmath::dequantize_array(q.data(), n, x.data(), p);
  } catch (const qmath::error&) {
    for (float v : x)
      if (v != 7.0f) __builtin_trap();
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const float e = qmath::dequantize_value(q[i], p);
    if (!same_bits(&x[i], &e, sizeof e)) __builtin_trap();
  }
}

void per_channel_case(FuzzedDataProvider& d) {
  std::vector<std::int64_t> shape(d.ConsumeIntegralInRange<std::size_t>(1, 4));
  for (std::int64_t& s : shape) s = d.ConsumeIntegralInRange<std::int64_t>(d.ConsumeBool() ? -1 : 0, 5);
  const int axis = d.ConsumeIntegralInRange<int>(-5, 4);
  qmath::ChannelLayout layout;
  try {
    layout = qmath::channel_layout(shape, axis);
  } catch (const qmath::error&) {
    return;
  }
  std::vector<qmath::QuantParams> params(layout.channels);
  for (auto& p : params) p = {some_scale(d), d.ConsumeIntegralInRange<std::int32_t>(-130, 130)};
  const std::vector<float> x = floats(d, layout.size());
  const qmath::Round mode = some_round(d);
  std::vector<std::int8_t> q(layout.size(), 7);
  try {
    qmath::quantize_per_channel(x.data(), layout, params.data(), q.data(), qmath::full_range<std::int8_t>(), mode);
  } catch (const qmath::error&) {
    for (std::int8_t v : q)
      if (v != 7) __builtin_trap();
    return;
  }
  for (std::size_t o = 0; o < layout.outer; ++o)
    for (std::size_t c = 0; c < layout.channels; ++c)
      for (std::size_t i = 0; i < layout.inner; ++i) {
        const std::size_t at = (o * layout.channels + c) * layout.inner + i;
        if (q[at] != qmath::quantize<std::int8_t>(x[at], params[c], mode)) __builtin_trap();
      }
}

template <class TA, class TB, class TC>
void gemm_case(FuzzedDataProvider& d) {
  const qmath::GemmShape s{d.ConsumeIntegralInRange<int>(-1, 9), d.ConsumeIntegralInRange<int>(-1, 9),
                           d.ConsumeIntegralInRange<int>(-1, 40)};
  const int m = s.m > 0 ? s.m : 0, n = s.n > 0 ? s.n : 0, k = s.k > 0 ? s.k : 0;
  const bool b_row_major = d.ConsumeBool();  // B stored K x N (row-major) or N x K (a column-major K x N view)
  const std::int64_t lda = k + d.ConsumeIntegralInRange<int>(0, 2);
  const std::int64_t ldb = (b_row_major ? n : k) + d.ConsumeIntegralInRange<int>(0, 2);
  const std::int64_t ldc = n + d.ConsumeIntegralInRange<int>(0, 2);
  const std::int32_t za = d.ConsumeIntegralInRange<std::int32_t>(-300, 300);
  const std::int32_t zb = d.ConsumeIntegralInRange<std::int32_t>(-300, 300);
  const std::vector<TA> a = ints<TA>(d, static_cast<std::size_t>(m * lda + 1));
  const std::vector<TB> b = ints<TB>(d, static_cast<std::size_t>((b_row_major ? k : n) * ldb + 1));
  const std::size_t per = d.ConsumeBool() ? static_cast<std::size_t>(n > 0 ? n : 1) : 1;
  std::vector<std::int32_t> bias = ints<std::int32_t>(d, static_cast<std::size_t>(n > 0 ? n : 1));
  std::vector<float> scale(per);
  for (float& f : scale) f = d.ConsumeBool() ? any_float(d) : d.ConsumeFloatingPointInRange<float>(-0.01f, 0.01f);
  std::vector<std::int32_t> mult(per), shift(per);
  for (std::size_t i = 0; i < per; ++i) {
    mult[i] = d.ConsumeIntegralInRange<std::int32_t>(-10, INT32_MAX);
    shift[i] = d.ConsumeIntegralInRange<std::int32_t>(-33, 31);
  }
  // The epilogue through its public stages: a stage that refuses its arguments (qmath::error) is a valid outcome,
  // and then neither GEMM runs.
  const bool use_bias = d.ConsumeBool();
  const qmath::Scaling scaling = d.PickValueInArray(
      {qmath::Scaling::kNone, qmath::Scaling::kFloatMultiplier, qmath::Scaling::kFixedPointMultiplier});
  const qmath::Granularity g = per > 1 ? qmath::Granularity::kPerChannel : qmath::Granularity::kPerTensor;
  const qmath::FixedPointRounding rounding =
      d.ConsumeBool() ? qmath::FixedPointRounding::kDoubleRounding : qmath::FixedPointRounding::kSingleRounding;
  const std::int32_t zp = d.ConsumeIntegralInRange<std::int32_t>(-300, 300);
  const std::int32_t clamp_lo = d.ConsumeIntegralInRange<std::int32_t>(-300, 300);
  const std::int32_t clamp_hi = d.ConsumeIntegralInRange<std::int32_t>(-300, 300);
  float fmin = -std::numeric_limits<float>::infinity(), fmax = std::numeric_limits<float>::infinity();
  if (d.ConsumeBool()) fmin = any_float(d);
  if (d.ConsumeBool()) fmax = any_float(d);
  qmath::Epilogue e;
  try {
    if (scaling == qmath::Scaling::kFloatMultiplier) e = qmath::Epilogue::float_multiplier(scale.data(), g);
    if (scaling == qmath::Scaling::kFixedPointMultiplier)
      e = qmath::Epilogue::fixed_point_multiplier(mult.data(), shift.data(), g, rounding);
    if (use_bias) e = e.with_bias(bias.data());
    e = e.with_output_zero_point(zp).with_clamp(clamp_lo, clamp_hi).with_float_clamp(fmin, fmax);
  } catch (const qmath::error&) {
    return;
  }
  const std::size_t c_size = static_cast<std::size_t>(m * ldc + 1);
  std::vector<TC> c_ref(c_size, TC(7)), c_cpu(c_size, TC(7));
  // The views carry the fuzzed (possibly non-positive) extents and strides as they are: validate() must refuse them.
  auto args = [&](TC* c) {
    const qmath::MatrixView<const TB> bv = b_row_major ? qmath::row_major(b.data(), s.k, s.n, ldb)
                                                       : qmath::col_major(b.data(), s.k, s.n, ldb);
    return qmath::GemmArgs<TA, TB, TC>{qmath::row_major(a.data(), s.m, s.k, lda), bv, qmath::row_major(c, s.m, s.n, ldc),
                                       za, zb, e};
  };
  bool ref_threw = false, cpu_threw = false;
  try {
    qmath::gemm_reference(args(c_ref.data()));
  } catch (const qmath::error&) {
    ref_threw = true;
  }
  qmath::cpu::GemmOptions opt;
  opt.threads = d.ConsumeIntegralInRange<int>(1, 2);
  try {
    qmath::cpu::gemm(args(c_cpu.data()), opt);
  } catch (const qmath::error&) {
    cpu_threw = true;
  }
  if (ref_threw != cpu_threw) __builtin_trap();
  if (ref_threw) {
    for (const TC& v : c_cpu)
      if (!(v == TC(7))) __builtin_trap();
    return;
  }
  for (int i = 0; i < m; ++i)
    if (!same_bits(&c_ref[static_cast<std::size_t>(i * ldc)], &c_cpu[static_cast<std::size_t>(i * ldc)],
                   static_cast<std::size_t>(n) * sizeof(TC)))
      __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider d(data, size);
  switch (d.ConsumeIntegralInRange<int>(0, 10)) {
    case 0: quantize_case<std::int8_t>(d); break;
    case 1: quantize_case<std::uint8_t>(d); break;
    case 2: quantize_case<std::int16_t>(d); break;
    case 3: dequantize_case<std::int8_t>(d); break;
    case 4: dequantize_case<std::int32_t>(d); break;
    case 5: per_channel_case(d); break;
    case 6: gemm_case<std::int8_t, std::int8_t, std::int8_t>(d); break;
    case 7: gemm_case<std::uint8_t, std::int8_t, std::uint8_t>(d); break;
    case 8: gemm_case<std::int8_t, std::int8_t, std::int32_t>(d); break;
    case 9: gemm_case<std::uint8_t, std::int8_t, float>(d); break;
    default: gemm_case<std::int8_t, std::int8_t, float>(d); break;
  }
  return 0;
}

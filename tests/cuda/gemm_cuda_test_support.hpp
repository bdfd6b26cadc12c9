// The bit-exact GEMM sweeps shared by the CUDA INT8 GEMM tests (gemm_dp4a_test.cpp, gemm_imma_test.cpp): every
// kernel runs the same shapes, operand types, zero points and epilogues against qmath::gemm_reference. A Runner
// supplies `static void run(const GemmArgs&)`, `kLdAlign` (the operand stride multiple it needs) and `name()`.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include <qmath/fixed_point.hpp>
#include <qmath/gemm_reference.hpp>

#include "../epilogue_fields.hpp"
#include "../gemm_args_support.hpp"
#include "test_support.hpp"

namespace qmath_test {

using qmath::Epilogue;
using qmath::GemmShape;
using qmath::Scaling;

// Values in T's range: mostly uniform, with a share of the extremes (min, max, 0, +-1).
template <class T>
std::vector<T> operand(std::size_t n, std::mt19937& rng) {
  const qmath::QuantRange r = qmath::full_range<T>();
  std::uniform_int_distribution<int> v(r.qmin, r.qmax), pick(0, 9);
  const int special[] = {r.qmin, r.qmax, 0, r.qmin + 1, r.qmax - 1};
  std::vector<T> out(n);
  for (auto& x : out) {
    const int p = pick(rng);
    x = static_cast<T>(p < 5 ? special[p] : v(rng));
  }
  return out;
}

// The epilogue's parameter arrays, on the host (for the reference) and on the device (for the kernel).
struct EpilogueArrays {
  std::vector<std::int32_t> bias, multiplier, shift;
  std::vector<float> scale, float_bias;
};

struct DeviceEpilogue {
  DeviceBuffer<std::int32_t> bias, multiplier, shift;
  DeviceBuffer<float> scale, float_bias;
  explicit DeviceEpilogue(const EpilogueArrays& h)
      : bias(h.bias), multiplier(h.multiplier), shift(h.shift), scale(h.scale), float_bias(h.float_bias) {}
  Epilogue on_device(const Epilogue& host, const EpilogueArrays& h) {
    (void)h;
    return host.with_arrays(bias.get(), scale.get(), multiplier.get(), shift.get(), float_bias.get());
  }
};

#if defined(QMATH_CUDA_HOST_SHIM)
// Cycles the emulator through its schedules (free-running threads, and the two deterministic adversarial orders
// under which a missing or misplaced __syncthreads in the kernel corrupts the result every time).
struct RotatingSchedule {
  qmath::cuda::emu::ScopedSchedule scope;
  explicit RotatingSchedule(std::uint32_t seed)
      : scope(seed % 3 == 0 ? qmath::cuda::emu::Schedule::kConcurrent
                            : (seed % 3 == 1 ? qmath::cuda::emu::Schedule::kSerialForward
                                             : qmath::cuda::emu::Schedule::kSerialReverse)) {}
};
#else
struct RotatingSchedule {
  explicit RotatingSchedule(std::uint32_t) {}
};
#endif

// Runs the kernel (Runner::run(args), Runner::kLdAlign: the operand strides' multiple) and the reference on the same
// inputs; checks that C (including the untouched ldc padding) matches bit for bit.
template <class Runner, class TA, class TB, class TC>
void check_gemm(GemmShape s, std::int32_t za, std::int32_t zb, const Epilogue& host_ep, const EpilogueArrays& arrays,
                std::uint32_t seed, int extra_ld = 0) {
  std::mt19937 rng(seed);
  constexpr int kAl = Runner::kLdAlign;
  const std::int64_t lda = (s.k + kAl - 1) / kAl * kAl + kAl * extra_ld, ldb = (s.k + kAl - 1) / kAl * kAl;
  const std::int64_t ldc = s.n + extra_ld;
  const std::vector<TA> a = operand<TA>(static_cast<std::size_t>(s.m * lda), rng);
  const std::vector<TB> b = operand<TB>(static_cast<std::size_t>(s.n * ldb), rng);
  std::vector<TC> expect(static_cast<std::size_t>(s.m * ldc), TC(77));
  qmath::gemm_reference(qtest::tn_args(s, a.data(), lda, za, b.data(), ldb, zb, expect.data(), ldc, host_ep));

  DeviceBuffer<TA> da(a);
  DeviceBuffer<TB> db(b);
  DeviceBuffer<TC> dc(std::vector<TC>(expect.size(), TC(77)));
  DeviceEpilogue dep(arrays);
  const RotatingSchedule schedule(seed);
  Runner::run(qtest::tn_args(s, da.get(), lda, za, db.get(), ldb, zb, dc.get(), ldc, dep.on_device(host_ep, arrays)));
  const std::vector<TC> got = dc.download();
  INFO("M=" << s.m << " N=" << s.n << " K=" << s.k << " za=" << za << " zb=" << zb << " kernel=" << Runner::name());
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool same = std::is_same<TC, float>::value ? std::memcmp(&got[i], &expect[i], sizeof(TC)) == 0
                                                     : got[i] == expect[i];
    if (!same && mismatches++ == 0) first = i;
  }
  INFO("first mismatch at " << first << ": got " << +got[first] << " expected " << +expect[first]);
  CHECK(mismatches == 0);
}

template <class T>
std::int32_t some_zero_point(std::mt19937& rng) {
  const qmath::QuantRange r = qmath::full_range<T>();
  return std::uniform_int_distribution<int>(r.qmin, r.qmax)(rng);
}

template <class Runner, class TA, class TB>
void shape_sweep() {
  const int sizes_mn[] = {1, 3, 4, 5, 17, 33};
  const int sizes_k[] = {1, 3, 4, 5, 17, 33, 64, 65};
  std::mt19937 rng(1234);
  const Epilogue raw{};
  const EpilogueArrays none{};
  std::uint32_t seed = 1;
  for (int m : sizes_mn)
    for (int n : sizes_mn)
      for (int k : sizes_k) {
        // Alternate zero points: none, both, and random ones, so both the plain and the corrected paths run.
        const int variant = (m + n + k) % 3;
        const std::int32_t za = variant == 0 ? 0 : (variant == 1 ? qmath::full_range<TA>().qmax : some_zero_point<TA>(rng));
        const std::int32_t zb = variant == 0 ? 0 : (variant == 1 ? qmath::full_range<TB>().qmin : some_zero_point<TB>(rng));
        check_gemm<Runner, TA, TB, std::int32_t>({m, n, k}, za, zb, raw, none, seed++);
      }
}


// Every fused epilogue on two shapes (Runner2: a second tile shape of the same kernel).
template <class Runner, class Runner2>
void epilogue_sweep() {
  const GemmShape shapes[] = {{17, 33, 65}, {33, 5, 130}};
  const int n_max = 33;
  EpilogueArrays h;
  std::mt19937 rng(99);
  for (int i = 0; i < n_max; ++i) {
    h.bias.push_back(std::uniform_int_distribution<int>(-40000, 40000)(rng));
    h.scale.push_back(std::uniform_real_distribution<float>(1e-4f, 4e-3f)(rng));
    const qmath::QuantizedMultiplier q = qmath::quantize_multiplier(h.scale.back());
    h.multiplier.push_back(q.multiplier);
    h.shift.push_back(q.shift);
    h.float_bias.push_back(std::uniform_real_distribution<float>(-3.0f, 3.0f)(rng));
  }
  h.scale[3] = 0.0f;   // a dead channel
  h.bias[0] = INT32_MAX;  // saturating bias addition
  h.bias[1] = INT32_MIN;

  std::vector<std::pair<const char*, qtest::EpilogueFields>> int_epilogues;
  {
    qtest::EpilogueFields e;
    e.scaling = Scaling::kFloatMultiplier;
    e.float_multiplier = h.scale.data();
    int_epilogues.push_back({"float per-tensor", e});
    e.per_channel = true;
    e.bias = h.bias.data();
    e.output_zero_point = 3;
    int_epilogues.push_back({"float per-channel + bias + zero point", e});
    e.clamp_min = 3;  // ReLU in the quantized domain
    int_epilogues.push_back({"float per-channel + bias + relu", e});
  }
  for (auto rounding : {qmath::FixedPointRounding::kDoubleRounding, qmath::FixedPointRounding::kSingleRounding}) {
    qtest::EpilogueFields e;
    e.scaling = Scaling::kFixedPointMultiplier;
    e.fixed_point_multiplier = h.multiplier.data();
    e.shift = h.shift.data();
    e.rounding = rounding;
    int_epilogues.push_back({"fixed-point per-tensor", e});
    e.per_channel = true;
    e.bias = h.bias.data();
    e.output_zero_point = -5;
    e.clamp_min = -20;
    e.clamp_max = 100;
    int_epilogues.push_back({"fixed-point per-channel + bias + clamp", e});
  }
  std::uint32_t seed = 500;
  for (const GemmShape s : shapes) {
    for (const auto& named : int_epilogues) {
      INFO("epilogue: " << named.first);
      check_gemm<Runner, std::int8_t, std::int8_t, std::int8_t>(s, 0, 0, named.second, h, seed++);
      check_gemm<Runner, std::uint8_t, std::int8_t, std::int8_t>(s, 131, 0, named.second, h, seed++, 1);
      qtest::EpilogueFields u = named.second;
      u.output_zero_point = named.second.output_zero_point + 128;
      u.clamp_min = named.second.clamp_min == INT32_MIN ? INT32_MIN : named.second.clamp_min + 128;
      u.clamp_max = named.second.clamp_max == INT32_MAX ? INT32_MAX : named.second.clamp_max + 128;
      check_gemm<Runner, std::uint8_t, std::uint8_t, std::uint8_t>(s, 120, 140, u, h, seed++);
      check_gemm<Runner2, std::int8_t, std::uint8_t, std::uint8_t>(s, -7, 128, u, h, seed++);
    }
    qtest::EpilogueFields bias_only;
    bias_only.bias = h.bias.data();
    check_gemm<Runner, std::int8_t, std::int8_t, std::int32_t>(s, 2, -3, bias_only, h, seed++, 2);
    qtest::EpilogueFields f;
    check_gemm<Runner, std::int8_t, std::int8_t, float>(s, 0, 0, f, h, seed++);
    f.scaling = Scaling::kFloatMultiplier;
    f.per_channel = true;
    f.float_multiplier = h.scale.data();
    f.bias = h.bias.data();
    f.float_clamp_min = 0.0f;
    f.float_clamp_max = 6.0f;
    check_gemm<Runner, std::uint8_t, std::int8_t, float>(s, 128, 1, f, h, seed++, 1);
    // The float bias after the multiplier (ONNX Runtime's MatMulIntegerToFloat): two roundings on the device too.
    f.bias = nullptr;
    f.float_bias = h.float_bias.data();
    f.float_clamp_min = -std::numeric_limits<float>::infinity();
    f.float_clamp_max = std::numeric_limits<float>::infinity();
    check_gemm<Runner, std::uint8_t, std::int8_t, float>(s, 128, 0, f, h, seed++);
  }
}

// Every product at its largest magnitude over a long K.
template <class Runner>
void worst_case_sweep() {
  // Every product at its largest magnitude: uint8 255 x int8 -128 with zero points that maximise |a - za| * |b - zb|.
  const GemmShape s{3, 5, 4099};
  const std::int64_t ld = 4112;  // a multiple of 16 for every kernel
  std::vector<std::uint8_t> a(static_cast<std::size_t>(s.m * ld), 255);
  std::vector<std::int8_t> b(static_cast<std::size_t>(s.n * ld), -128);
  const std::int32_t za = 0, zb = 127;
  std::vector<std::int32_t> expect(static_cast<std::size_t>(s.m * s.n));
  qmath::gemm_reference(qtest::tn_args(s, a.data(), ld, za, b.data(), ld, zb, expect.data(), s.n, Epilogue{}));
  CHECK(expect[0] == 255 * -255 * 4099);
  DeviceBuffer<std::uint8_t> da(a);
  DeviceBuffer<std::int8_t> db(b);
  DeviceBuffer<std::int32_t> dc(expect.size());
  Runner::run(qtest::tn_args(s, da.get(), ld, za, db.get(), ld, zb, dc.get(), s.n, Epilogue{}));
  CHECK(dc.download() == expect);
}

}  // namespace qmath_test

// Tests for qmath/isa.hpp: path names and the parser, the cap (QMATH_MAX_ISA's parser and set_max_isa), the
// resolution rule, and every dispatcher (quantize / dequantize / fake-quantize arrays, per-channel, the histogram
// fill, cpu::gemm) under every path this machine runs, bit for bit against the scalar reference; paths the machine or
// the cap does not allow must throw and write nothing.
// The hidden cases [.max_isa_env_scalar] and [.max_isa_env_invalid] run from CTest with QMATH_MAX_ISA set
// (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <qmath/calibration/histogram.hpp>
#include <qmath/cpu/gemm.hpp>
#include <qmath/gemm_reference.hpp>
#include <qmath/isa.hpp>
#include <qmath/quantize_array.hpp>

namespace {

using qmath::Isa;

// Restores the environment's cap when a test that sets one ends (also on failure).
struct CapGuard {
  CapGuard() = default;
  CapGuard(const CapGuard&) = delete;
  CapGuard& operator=(const CapGuard&) = delete;
  ~CapGuard() { qmath::reset_max_isa(); }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Inputs for every dispatcher: float data with ties, NaN, infinities and out-of-range values; int8 / uint8 operands.
struct Data {
  std::vector<float> x;
  std::vector<std::int8_t> a, b;
  static constexpr int kM = 37, kN = 45, kK = 70;
  Data() {
    std::mt19937 rng(12);
    std::normal_distribution<float> g(0.0f, 3.0f);
    for (int i = 0; i < 4099; ++i) x.push_back(g(rng));
    for (int i = -300; i <= 300; ++i) x.push_back((static_cast<float>(i) + 0.5f) * 0.05f);  // ties at scale 0.05
    a.resize(std::size_t(kM) * kK);
    b.resize(std::size_t(kK) * kN);
    std::uniform_int_distribution<int> d(-128, 127);
    for (auto& v : a) v = static_cast<std::int8_t>(d(rng));
    for (auto& v : b) v = static_cast<std::int8_t>(d(rng));
  }
  // x plus NaN and +-inf (for the quantize family; the histogram gets finite data).
  std::vector<float> with_specials() const {
    std::vector<float> y = x;
    y[5] = std::numeric_limits<float>::quiet_NaN();
    y[77] = std::numeric_limits<float>::infinity();
    y[1000] = -std::numeric_limits<float>::infinity();
    return y;
  }
};

const qmath::QuantParams kP{0.05f, 3};
const qmath::QuantParams kChannelParams[3] = {{0.05f, 3}, {0.02f, -7}, {0.11f, 0}};

// The scalar references of every dispatcher on Data.
struct Reference {
  std::vector<std::int8_t> q8;
  std::vector<std::uint8_t> qu8;
  std::vector<float> dq8, fq, fq_u8, pc_dq;
  std::vector<std::int8_t> pc_q;
  std::vector<std::int32_t> gemm;
  explicit Reference(const Data& d) {
    const std::vector<float> x = d.with_specials();
    const std::size_t n = x.size();
    const qmath::QuantParams pu{0.05f, 128};
    q8.resize(n);
    qu8.resize(n);
    dq8.resize(n);
    fq.resize(n);
    fq_u8.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      q8[i] = qmath::quantize<std::int8_t>(x[i], kP);
      qu8[i] = qmath::quantize<std::uint8_t>(x[i], pu);
      dq8[i] = qmath::dequantize_value(q8[i], kP);
      fq[i] = qmath::fake_quantize_value(x[i], kP, qmath::narrow_range<std::int8_t>());
      fq_u8[i] = qmath::fake_quantize_value(x[i], pu, qmath::full_range<std::uint8_t>());
    }
    const qmath::ChannelLayout l = layout(n);
    pc_q.resize(l.size());
    pc_dq.resize(l.size());
    for (std::size_t o = 0; o < l.outer; ++o)
      for (std::size_t c = 0; c < l.channels; ++c)
        for (std::size_t i = 0; i < l.inner; ++i) {
          const std::size_t k = (o * l.channels + c) * l.inner + i;
          pc_q[k] = qmath::quantize<std::int8_t>(x[k], kChannelParams[c]);
          pc_dq[k] = qmath::dequantize_value(pc_q[k], kChannelParams[c]);
        }
    gemm.resize(std::size_t(Data::kM) * Data::kN);
    qmath::gemm_reference(qmath::GemmArgs{qmath::row_major(d.a.data(), Data::kM, Data::kK), qmath::row_major(d.b.data(), Data::kK, Data::kN),
                                   qmath::row_major(gemm.data(), Data::kM, Data::kN), 5, -3});
  }
  // 2 x 3 channels x inner (>= 16: the vector kernels run per row).
  static qmath::ChannelLayout layout(std::size_t n) { return {2, 3, n / 6}; }
};

// Runs every dispatcher with path `isa` and checks each against the reference, bit for bit.
void check_all_dispatchers_match(Isa isa, const Data& d, const Reference& ref) {
  INFO("path " << qmath::isa_name(isa));
  const std::vector<float> x = d.with_specials();
  const std::size_t n = x.size();
  std::vector<std::int8_t> q8(n);
  qmath::quantize_array(x.data(), n, q8.data(), kP, qmath::full_range<std::int8_t>(), qmath::Round::kHalfToEven, isa);
  CHECK(q8 == ref.q8);
  std::vector<std::uint8_t> qu8(n);
  qmath::quantize_array(x.data(), n, qu8.data(), qmath::QuantParams{0.05f, 128}, qmath::full_range<std::uint8_t>(),
                        qmath::Round::kHalfToEven, isa);
  CHECK(qu8 == ref.qu8);
  std::vector<float> dq(n);
  qmath::dequantize_array(ref.q8.data(), n, dq.data(), kP, isa);
  CHECK(same_bits(dq, ref.dq8));
  std::vector<float> fq(n);
  qmath::fake_quantize_array(x.data(), n, fq.data(), kP, qmath::narrow_range<std::int8_t>(),
                             qmath::Round::kHalfToEven, isa);
  CHECK(same_bits(fq, ref.fq));
  std::vector<float> fq_u8 = x;  // in place
  qmath::fake_quantize_array(fq_u8.data(), n, fq_u8.data(), qmath::QuantParams{0.05f, 128},
                             qmath::full_range<std::uint8_t>(), qmath::Round::kHalfToEven, isa);
  CHECK(same_bits(fq_u8, ref.fq_u8));
  const qmath::ChannelLayout l = Reference::layout(n);
  std::vector<std::int8_t> pc_q(l.size());
  qmath::quantize_per_channel(x.data(), l, kChannelParams, pc_q.data(), qmath::full_range<std::int8_t>(),
                              qmath::Round::kHalfToEven, isa);
  CHECK(pc_q == ref.pc_q);
  std::vector<float> pc_dq(l.size());
  qmath::dequantize_per_channel(ref.pc_q.data(), l, kChannelParams, pc_dq.data(), isa);
  CHECK(same_bits(pc_dq, ref.pc_dq));

  // Histogram fill: the first batch takes the careful path (statistics, range, then the fast fill), the second,
  // inside the range, the one-pass fast path; both must give the rule's counts under the final range.
  for (qmath::HistogramKind kind : {qmath::HistogramKind::kAbsolute, qmath::HistogramKind::kSigned}) {
    qmath::HistogramOptions o;
    o.kind = kind;
    o.bins = 256;
    qmath::Histogram h(o);
    h.collect(d.x.data(), d.x.size(), isa);
    h.collect(d.x.data() + 100, d.x.size() - 100, isa);
    std::vector<std::uint64_t> want(256, 0);
    qmath::detail::fill_histogram_scalar(d.x.data(), d.x.size(), h.range(), false, want.data());
    qmath::detail::fill_histogram_scalar(d.x.data() + 100, d.x.size() - 100, h.range(), false, want.data());
    CHECK(h.counts() == want);
  }

  std::vector<std::int32_t> c(std::size_t(Data::kM) * Data::kN);
  qmath::cpu::gemm(qmath::GemmArgs{qmath::row_major(d.a.data(), Data::kM, Data::kK), qmath::row_major(d.b.data(), Data::kK, Data::kN),
                                   qmath::row_major(c.data(), Data::kM, Data::kN), 5, -3},
                   qmath::cpu::GemmOptions{isa, 2});
  CHECK(c == ref.gemm);
}

// Checks that every dispatcher rejects path `isa` with a qmath::error naming it, and writes nothing.
void check_all_dispatchers_throw(Isa isa, const Data& d) {
  INFO("path " << qmath::isa_name(isa));
  const std::string name = qmath::isa_name(isa);
  const std::size_t n = d.x.size();
  std::vector<std::int8_t> q8(n, 42);
  std::vector<float> f(n, 42.0f);
  const std::vector<std::int8_t> q8_before = q8;
  const std::vector<float> f_before = f;
  CHECK_THROWS_WITH(qmath::quantize_array(d.x.data(), n, q8.data(), kP, qmath::full_range<std::int8_t>(),
                                          qmath::Round::kHalfToEven, isa),
                    Catch::Contains(name));
  CHECK_THROWS_WITH(qmath::dequantize_array(q8.data(), n, f.data(), kP, isa), Catch::Contains(name));
  CHECK_THROWS_WITH(qmath::fake_quantize_array(d.x.data(), n, f.data(), kP, qmath::narrow_range<std::int8_t>(),
                                               qmath::Round::kHalfToEven, isa),
                    Catch::Contains(name));
  const qmath::ChannelLayout l = Reference::layout(n);
  CHECK_THROWS_WITH(qmath::quantize_per_channel(d.x.data(), l, kChannelParams, q8.data(),
                                                qmath::full_range<std::int8_t>(), qmath::Round::kHalfToEven, isa),
                    Catch::Contains(name));
  CHECK_THROWS_WITH(qmath::dequantize_per_channel(q8.data(), l, kChannelParams, f.data(), isa), Catch::Contains(name));
  CHECK(q8 == q8_before);
  CHECK(same_bits(f, f_before));
  qmath::Histogram h;
  CHECK_THROWS_WITH(h.collect(d.x.data(), n, isa), Catch::Contains(name));
  CHECK(h.total() == 0);
  std::vector<std::int32_t> c(std::size_t(Data::kM) * Data::kN, 42);
  CHECK_THROWS_WITH(qmath::cpu::gemm(qmath::GemmArgs{qmath::row_major(d.a.data(), Data::kM, Data::kK), qmath::row_major(d.b.data(), Data::kK, Data::kN),
                                   qmath::row_major(c.data(), Data::kM, Data::kN), 5, -3},
                                     qmath::cpu::GemmOptions{isa, 1}),
                    Catch::Contains(name));
  CHECK(c == std::vector<std::int32_t>(c.size(), 42));
  CHECK_THROWS_WITH(qmath::resolved_isa_for_quantize(isa), Catch::Contains(name));
  CHECK_THROWS_WITH(qmath::resolved_isa_for_histogram_fill(isa), Catch::Contains(name));
  CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(isa), Catch::Contains(name));
}

// The environment's cap, for the tests that run whatever the environment says.
bool environment_has_cap() {
  const char* v = std::getenv("QMATH_MAX_ISA");
  return v != nullptr && *v != '\0';
}

}  // namespace

TEST_CASE("isa names, order and parser", "[isa]") {
  CHECK(Isa::kScalar < Isa::kAvx2);
  CHECK(Isa::kAvx2 < Isa::kAvxVnni);
  CHECK(Isa::kAvxVnni < Isa::kAvx512);
  CHECK(Isa::kAvx512 < Isa::kAvx512Vnni);
  CHECK(Isa::kNeon < Isa::kNeonDotprod);
  CHECK(Isa::kNeonDotprod < Isa::kNeonI8mm);
  CHECK(std::string(qmath::isa_name(Isa::kNeon)) == "neon");
  CHECK(std::string(qmath::isa_name(Isa::kNeonDotprod)) == "neondotprod");
  CHECK(std::string(qmath::isa_name(Isa::kNeonI8mm)) == "neoni8mm");
  CHECK(std::string(qmath::isa_name(Isa::kScalar)) == "scalar");
  CHECK(std::string(qmath::isa_name(Isa::kAvx2)) == "avx2");
  CHECK(std::string(qmath::isa_name(Isa::kAvxVnni)) == "avxvnni");
  CHECK(std::string(qmath::isa_name(Isa::kAvx512)) == "avx512");
  CHECK(std::string(qmath::isa_name(Isa::kAvx512Vnni)) == "avx512vnni");
  CHECK(std::string(qmath::isa_name(Isa::kAuto)) == "auto");
  for (Isa isa : qmath::kAllIsas) CHECK(qmath::parse_isa(qmath::isa_name(isa)) == isa);
  CHECK(qmath::parse_isa("auto") == Isa::kAuto);
  CHECK(qmath::parse_isa("AVX512VNNI") == Isa::kAvx512Vnni);
  CHECK(qmath::parse_isa("Avx2") == Isa::kAvx2);
  CHECK(qmath::parse_isa("NEON") == Isa::kNeon);
  for (const char* bad : {"", "avx", "avx2 ", " avx2", "avx-512", "sse2", "neon_dotprod", "sve", "avx512_core"})
    CHECK_FALSE(qmath::parse_isa(bad).has_value());
}

TEST_CASE("isa_available: build and CPU", "[isa]") {
  CHECK(qmath::isa_available(Isa::kScalar));
  CHECK(qmath::isa_available(Isa::kAuto));
  for (Isa isa : qmath::kAllIsas) {
    INFO(qmath::isa_name(isa));
    if (qmath::isa_available(isa)) CHECK(qmath::isa_built(isa));
    if (!qmath::isa_available(isa)) WARN("path " << qmath::isa_name(isa) << " is not available on this machine");
  }
  // Each level includes AVX2 + FMA; AVX-512 VNNI includes AVX-512 F/BW/DQ/VL.
  for (Isa isa : {Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni})
    if (qmath::isa_available(isa)) CHECK(qmath::isa_available(Isa::kAvx2));
  if (qmath::isa_available(Isa::kAvx512Vnni)) CHECK(qmath::isa_available(Isa::kAvx512));
  CHECK(qmath::isa_available(qmath::best_available_isa()));
  for (Isa isa : qmath::kAllIsas)
    if (qmath::isa_available(isa)) CHECK(qmath::isa_within(isa, qmath::best_available_isa()));
  // Each AArch64 level includes the lower ones; only one family is ever available.
  if (qmath::isa_available(Isa::kNeonI8mm)) CHECK(qmath::isa_available(Isa::kNeonDotprod));
  if (qmath::isa_available(Isa::kNeonDotprod)) CHECK(qmath::isa_available(Isa::kNeon));
  for (Isa x86 : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512, Isa::kAvx512Vnni})
    for (Isa arm : {Isa::kNeon, Isa::kNeonDotprod, Isa::kNeonI8mm})
      CHECK_FALSE((qmath::isa_available(x86) && qmath::isa_available(arm)));
#if QMATH_CPU_AARCH64
  CHECK(qmath::isa_available(Isa::kNeon));  // every AArch64 CPU
#endif
#if QMATH_CPU_X86
  // Every x86-64 CPU this project targets has AVX2 (the build machine does); a detection that finds none is broken.
  const qmath::detail::CpuFeatures& f = qmath::detail::cpu_features();
  if (!f.avx2) WARN("no AVX2 detected on an x86-64 build");
  CHECK_FALSE(f.amx_int8);  // not detected yet
#endif
}

#if (QMATH_CPU_X86 || QMATH_CPU_AARCH64) && defined(__linux__)
namespace {
// Checks each detected feature against its flag on the first /proc/cpuinfo line that starts with `key`; when there
// is no such line, warns (naming `line`) and checks nothing.
void check_against_cpuinfo(const char* key, const char* line,
                           std::initializer_list<std::pair<bool, const char*>> features) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string text, flags;
  while (std::getline(cpuinfo, text))
    if (text.rfind(key, 0) == 0) {
      flags = " " + text.substr(text.find(':') + 1) + " ";  // " flag " then finds a whole flag
      break;
    }
  if (flags.empty()) {
    WARN("/proc/cpuinfo has no " << line << ": detection NOT cross-checked");
    return;
  }
  for (const auto& [detected, flag] : features) {
    INFO("flag " << flag);
    CHECK(detected == (flags.find(" " + std::string(flag) + " ") != std::string::npos));
  }
}
}  // namespace
#endif

TEST_CASE("the detected features agree with the Linux kernel's /proc/cpuinfo flags", "[isa]") {
#if QMATH_CPU_X86 && defined(__linux__)
  const qmath::detail::CpuFeatures& f = qmath::detail::cpu_features();
  // The kernel lists AVX / AVX-512 flags only when it enables their state in XCR0, as the detection requires.
  check_against_cpuinfo("flags", "flags line",
                        {{f.avx2, "avx2"},
                         {f.fma, "fma"},
                         {f.avx512f, "avx512f"},
                         {f.avx512bw, "avx512bw"},
                         {f.avx512dq, "avx512dq"},
                         {f.avx512vl, "avx512vl"},
                         {f.avx512vnni, "avx512_vnni"},
                         {f.avxvnni, "avx_vnni"}});
#elif QMATH_CPU_AARCH64 && defined(__linux__)
  // The kernel's "Features" line lists asimd, asimddp and i8mm from the same hardware capability bits.
  const qmath::detail::CpuFeatures& f = qmath::detail::cpu_features();
  check_against_cpuinfo("Features", "Features line (e.g. under qemu-user)",
                        {{f.neon, "asimd"}, {f.arm_dotprod, "asimddp"}, {f.arm_i8mm, "i8mm"}});
#else
  WARN("not x86-64 or AArch64 Linux: detection NOT cross-checked");
#endif
}

TEST_CASE("QMATH_MAX_ISA values and the programmatic cap", "[isa]") {
  CHECK(qmath::parse_max_isa_env(nullptr) == Isa::kAuto);
  CHECK(qmath::parse_max_isa_env("") == Isa::kAuto);
  CHECK(qmath::parse_max_isa_env("auto") == Isa::kAuto);
  CHECK(qmath::parse_max_isa_env("scalar") == Isa::kScalar);
  CHECK(qmath::parse_max_isa_env("AVX2") == Isa::kAvx2);
  CHECK(qmath::parse_max_isa_env("avx512vnni") == Isa::kAvx512Vnni);
  CHECK_THROWS_AS(qmath::parse_max_isa_env("avx9"), qmath::error);
  CHECK_THROWS_WITH(qmath::parse_max_isa_env("avx9"), Catch::Contains("QMATH_MAX_ISA") && Catch::Contains("avx9"));
  CHECK_THROWS_WITH(qmath::parse_max_isa_env("scalar,avx2"), Catch::Contains("scalar,avx2"));

  CapGuard guard;
  for (Isa cap : qmath::kAllIsas) {
    INFO("cap " << qmath::isa_name(cap));
    qmath::set_max_isa(cap);
    CHECK(qmath::max_isa() == cap);
    CHECK(qmath::isa_within(qmath::resolved_isa_for_quantize(), cap));
    CHECK(qmath::isa_within(qmath::resolved_isa_for_histogram_fill(), cap));
    CHECK(qmath::isa_within(qmath::cpu::resolved_isa_for_gemm(), cap));
    for (Isa isa : qmath::kAllIsas) {
      if (!qmath::isa_available(isa)) continue;
      if (qmath::isa_within(isa, cap))
        CHECK(qmath::resolved_isa_for_quantize(isa) <= isa);
      else
        CHECK_THROWS_WITH(qmath::resolved_isa_for_quantize(isa),
                          Catch::Contains(qmath::isa_name(isa)) && Catch::Contains("above the cap"));
    }
  }
  qmath::set_max_isa(Isa::kAuto);  // no cap
  CHECK(qmath::max_isa() == Isa::kAuto);
  CHECK(qmath::resolve_isa(Isa::kAuto, ~0u, "test") == qmath::best_available_isa());
  if (!environment_has_cap()) {
    qmath::reset_max_isa();
    CHECK(qmath::max_isa() == Isa::kAuto);
  }
}

TEST_CASE("resolve_isa: the best kernel at or below the requested level", "[isa]") {
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  const unsigned scalar_only = qmath::isa_bit(Isa::kScalar);
  const unsigned avx2 = scalar_only | qmath::isa_bit(Isa::kAvx2);
  const unsigned gemm_like = avx2 | qmath::isa_bit(Isa::kAvxVnni) | qmath::isa_bit(Isa::kAvx512Vnni);
  for (Isa level : qmath::kAllIsas) {
    if (!qmath::isa_available(level)) {
      CHECK_THROWS_WITH(qmath::resolve_isa(level, gemm_like, "test"),
                        Catch::Contains(qmath::isa_name(level)) && Catch::Contains("not available"));
      continue;
    }
    INFO("level " << qmath::isa_name(level));
    CHECK(qmath::resolve_isa(level, scalar_only, "test") == Isa::kScalar);
    CHECK(qmath::resolve_isa(level, avx2, "test") ==
          (qmath::isa_within(Isa::kAvx2, level) ? Isa::kAvx2 : Isa::kScalar));
    // A kernel for the level itself runs exactly; otherwise the best available one below it, in its family.
    Isa want = Isa::kScalar;
    for (Isa k : qmath::kAllIsas)
      if (qmath::isa_within(k, level) && (gemm_like & qmath::isa_bit(k)) != 0 && qmath::isa_available(k)) want = k;
    CHECK(qmath::resolve_isa(level, gemm_like, "test") == want);
    if (level != Isa::kAvx512 && qmath::isa_family(level) != qmath::IsaFamily::kAarch64) CHECK(want == level);
    // The AArch64 levels: a dispatcher with only a NEON kernel runs it at every AArch64 level.
    if (qmath::isa_family(level) == qmath::IsaFamily::kAarch64)
      CHECK(qmath::resolve_isa(level, scalar_only | qmath::isa_bit(Isa::kNeon), "test") == Isa::kNeon);
  }
  // A cap of the other family leaves only kScalar; the families' order is not comparable.
  CHECK(qmath::isa_within(Isa::kScalar, Isa::kNeon));
  CHECK(qmath::isa_within(Isa::kNeon, Isa::kNeonI8mm));
  CHECK_FALSE(qmath::isa_within(Isa::kNeonI8mm, Isa::kNeonDotprod));
  CHECK_FALSE(qmath::isa_within(Isa::kAvx2, Isa::kNeonI8mm));
  CHECK_FALSE(qmath::isa_within(Isa::kNeon, Isa::kAvx512Vnni));
  CHECK(qmath::isa_within(Isa::kAvx512Vnni, Isa::kAuto));
  for (Isa cap : {Isa::kAvx2, Isa::kNeon}) {
    qmath::set_max_isa(cap);
    const Isa best = qmath::best_available_isa();
    if (qmath::isa_family(best) != qmath::isa_family(cap) && best != Isa::kScalar) {
      INFO("cap " << qmath::isa_name(cap) << " on a machine whose best path is " << qmath::isa_name(best));
      CHECK(qmath::cpu::resolved_isa_for_gemm() == Isa::kScalar);
      CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(best), Catch::Contains("above the cap"));
    }
  }
  qmath::set_max_isa(Isa::kAuto);
  // GEMM has no AVX-512-without-VNNI kernel: kAvx512 runs AVX-VNNI or AVX2.
  if (qmath::isa_available(Isa::kAvx512)) {
    const Isa g = qmath::cpu::resolved_isa_for_gemm(Isa::kAvx512);
    CHECK((g == Isa::kAvxVnni || g == Isa::kAvx2));
  }
  // The histogram fill has kernels for kScalar and kAvx512 only.
  if (qmath::isa_available(Isa::kAvx2)) CHECK(qmath::resolved_isa_for_histogram_fill(Isa::kAvx2) == Isa::kScalar);
  CHECK_THROWS_WITH(qmath::resolve_isa(static_cast<Isa>(99), ~0u, "test"), Catch::Contains("unknown path"));
}

TEST_CASE("every dispatcher under every path: bit-exact where allowed, an error where not", "[isa]") {
  CapGuard guard;
  const Data d;
  const Reference ref(d);
  qmath::set_max_isa(Isa::kAuto);
  int ran = 0;
  for (Isa isa : qmath::kAllIsas) {
    if (qmath::isa_available(isa)) {
      check_all_dispatchers_match(isa, d, ref);
      ++ran;
      // A dispatcher with a kernel for the path runs exactly that kernel.
      if (QMATH_X86_SIMD && (isa == Isa::kAvx2 || isa == Isa::kAvx512))
        CHECK(qmath::resolved_isa_for_quantize(isa) == isa);
      if (isa != Isa::kAvx512) CHECK(qmath::cpu::resolved_isa_for_gemm(isa) == isa);
      if (qmath::isa_family(isa) == qmath::IsaFamily::kAarch64) {
        CHECK(qmath::resolved_isa_for_quantize(isa) == (QMATH_NEON_SIMD ? Isa::kNeon : Isa::kScalar));
        CHECK(qmath::resolved_isa_for_histogram_fill(isa) == Isa::kNeon);
      }
      if (isa == Isa::kAvx512) CHECK(qmath::resolved_isa_for_histogram_fill(isa) == Isa::kAvx512);
    } else {
      check_all_dispatchers_throw(isa, d);  // above this machine (or this build)
    }
  }
  check_all_dispatchers_match(Isa::kAuto, d, ref);
  CHECK(ran >= 1);
  // Under a cap, every path above it throws and kAuto stays at or below it.
  for (Isa cap : qmath::kAllIsas) {
    if (!qmath::isa_available(cap)) continue;
    INFO("cap " << qmath::isa_name(cap));
    qmath::set_max_isa(cap);
    check_all_dispatchers_match(Isa::kAuto, d, ref);
    for (Isa isa : qmath::kAllIsas)
      if (!qmath::isa_within(isa, cap) && qmath::isa_available(isa)) check_all_dispatchers_throw(isa, d);
  }
  qmath::set_max_isa(Isa::kScalar);
  CHECK(qmath::resolved_isa_for_quantize() == Isa::kScalar);
  CHECK(qmath::resolved_isa_for_histogram_fill() == Isa::kScalar);
  CHECK(qmath::cpu::resolved_isa_for_gemm() == Isa::kScalar);
}

TEST_CASE("set_max_isa while other threads dispatch: every result stays bit-exact", "[isa]") {
  CapGuard guard;
  const Data d;
  const Reference ref(d);
  std::atomic<bool> stop{false};
  std::thread toggler([&stop] {
    for (int i = 0; !stop.load(); ++i) qmath::set_max_isa(i % 2 == 0 ? Isa::kScalar : Isa::kAuto);
  });
  const std::vector<float> x = d.with_specials();
  bool all_equal = true;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::int8_t> q(x.size());
    qmath::quantize_array(x.data(), x.size(), q.data(), kP);
    all_equal = all_equal && q == ref.q8;
    std::vector<std::int32_t> c(std::size_t(Data::kM) * Data::kN);
    qmath::cpu::gemm(qmath::GemmArgs{qmath::row_major(d.a.data(), Data::kM, Data::kK), qmath::row_major(d.b.data(), Data::kK, Data::kN),
                                   qmath::row_major(c.data(), Data::kM, Data::kN), 5, -3});
    all_equal = all_equal && c == ref.gemm;
  }
  stop = true;
  toggler.join();
  CHECK(all_equal);
}

// Run by CTest as isa_test_max_isa_scalar with QMATH_MAX_ISA=scalar in the environment.
TEST_CASE("QMATH_MAX_ISA=scalar: kAuto resolves to scalar in every dispatcher", "[.max_isa_env_scalar]") {
  const char* env = std::getenv("QMATH_MAX_ISA");
  REQUIRE(env != nullptr);
  REQUIRE(std::string(env) == "scalar");
  CHECK(qmath::max_isa() == Isa::kScalar);
  CHECK(qmath::resolved_isa_for_quantize() == Isa::kScalar);
  CHECK(qmath::resolved_isa_for_histogram_fill() == Isa::kScalar);
  CHECK(qmath::cpu::resolved_isa_for_gemm() == Isa::kScalar);
  const Data d;
  const Reference ref(d);
  check_all_dispatchers_match(Isa::kAuto, d, ref);
  check_all_dispatchers_match(Isa::kScalar, d, ref);
  for (Isa isa : qmath::kAllIsas)
    if (isa > Isa::kScalar && qmath::isa_available(isa)) check_all_dispatchers_throw(isa, d);
}

// Run by CTest as isa_test_max_isa_invalid with QMATH_MAX_ISA=avx9 in the environment.
TEST_CASE("QMATH_MAX_ISA=avx9: every dispatch throws naming the variable and the value", "[.max_isa_env_invalid]") {
  const char* env = std::getenv("QMATH_MAX_ISA");
  REQUIRE(env != nullptr);
  REQUIRE(std::string(env) == "avx9");
  // (Catch2 v2's combined matchers hold references to their parts: build each one inside its assertion.)
#define NAMES_IT (Catch::Contains("QMATH_MAX_ISA") && Catch::Contains("avx9"))
  CHECK_THROWS_WITH(qmath::max_isa(), NAMES_IT);
  const Data d;
  std::vector<std::int8_t> q(d.x.size(), 42);
  CHECK_THROWS_WITH(qmath::quantize_array(d.x.data(), d.x.size(), q.data(), kP), NAMES_IT);
  CHECK(q == std::vector<std::int8_t>(q.size(), 42));
  qmath::Histogram h;
  CHECK_THROWS_WITH(h.collect(d.x.data(), d.x.size()), NAMES_IT);
  CHECK_THROWS_WITH(qmath::cpu::resolved_isa_for_gemm(), NAMES_IT);
  // The programmatic cap overrides the environment; dropping it brings the error back.
  CapGuard guard;
  qmath::set_max_isa(Isa::kAuto);
  CHECK_NOTHROW(qmath::max_isa());
  const Reference ref(d);
  check_all_dispatchers_match(Isa::kAuto, d, ref);
  qmath::reset_max_isa();
  CHECK_THROWS_WITH(qmath::resolved_isa_for_quantize(), NAMES_IT);
}
#undef NAMES_IT

// tests/calibration/histogram_bin_lanes_test.cpp - the histogram bin rule written over the lane primitives
// (qmath/calibration/detail/histogram_bin_lanes-inl.hpp) on every lane backend this machine runs, against
// histogram_bin itself: absolute and signed shift-0 layouts (1, 2, 7, 2048 and 65536 bins, inverse widths from 0 and
// 2^-140 to 2^100), values +-2^i +-ulp, every bin edge of a small layout and its neighbours, +-0, subnormals, tiny
// negative values whose product underflows to -0, values beyond both ends. NaN and infinities must give an index
// inside [0, bins).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <qmath/calibration/histogram_bin.hpp>
#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx2.hpp>
#include <qmath/detail/lanes_avx512.hpp>
#include <qmath/detail/lanes_neon.hpp>
#include <qmath/detail/lanes_scalar.hpp>
#include <qmath/isa.hpp>

using qmath::HistogramRange;

namespace hb_scalar {
using namespace qmath::detail::lanes_scalar;
using qmath::HistogramRange;
#include <qmath/calibration/detail/histogram_bin_lanes-inl.hpp>
#include "histogram_bin_lanes_test-inl.hpp"
}  // namespace hb_scalar

#if QMATH_CPU_X86
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
namespace hb_avx2 {
using namespace qmath::detail::lanes_avx2;
using qmath::HistogramRange;
#include <qmath/calibration/detail/histogram_bin_lanes-inl.hpp>
#include "histogram_bin_lanes_test-inl.hpp"
}  // namespace hb_avx2
QMATH_LANES_POP_TARGET()

QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX512_FEATURES)
namespace hb_avx512 {
using namespace qmath::detail::lanes_avx512;
using qmath::HistogramRange;
#include <qmath/calibration/detail/histogram_bin_lanes-inl.hpp>
#include "histogram_bin_lanes_test-inl.hpp"
}  // namespace hb_avx512
QMATH_LANES_POP_TARGET()
#endif

#if QMATH_LANES_NEON
namespace hb_neon {
using namespace qmath::detail::lanes_neon;
using qmath::HistogramRange;
#include <qmath/calibration/detail/histogram_bin_lanes-inl.hpp>
#include "histogram_bin_lanes_test-inl.hpp"
}  // namespace hb_neon
#endif

namespace {

struct Backend {
  const char* name;
  void (*bins)(const float*, int, HistogramRange, std::int32_t*);
};

std::vector<Backend> backends() {
  std::vector<Backend> b = {{"scalar", hb_scalar::bins_of}};
#if QMATH_CPU_X86
  if (qmath::isa_available(qmath::Isa::kAvx2))
    b.push_back({"avx2", hb_avx2::bins_of});
  else
    WARN("AVX2 lane backend not runnable on this CPU: not tested here");
  if (qmath::isa_available(qmath::Isa::kAvx512))
    b.push_back({"avx512", hb_avx512::bins_of});
  else
    WARN("AVX-512 lane backend not runnable on this CPU: not tested here");
#endif
#if QMATH_LANES_NEON
  b.push_back({"neon", hb_neon::bins_of});
#endif
  return b;
}

std::vector<float> finite_values(HistogramRange r) {
  std::vector<float> v = {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1e-45f, -1e-44f};
  for (int i = -149; i <= 127; ++i)
    for (float sign : {1.0f, -1.0f}) {
      const float p = sign * std::ldexp(1.0f, i);
      v.push_back(p);
      v.push_back(std::nextafter(p, 0.0f));
      v.push_back(std::nextafter(p, 2 * p));
    }
  // Every bin edge of the layout (where the width is a normal float) and its neighbours.
  if (r.inv_width > 0.0f && r.bins <= 4096)
    for (int b = -r.zero_bin - 2; b <= r.bins - r.zero_bin + 2; ++b) {
      const float edge = static_cast<float>(b) / r.inv_width;
      if (!std::isfinite(edge)) continue;
      v.push_back(edge);
      v.push_back(std::nextafter(edge, -std::numeric_limits<float>::infinity()));
      v.push_back(std::nextafter(edge, std::numeric_limits<float>::infinity()));
      v.push_back((static_cast<float>(b) + 0.5f) / r.inv_width);
    }
  while (v.size() % 16 != 0) v.push_back(0.0f);
  return v;
}

std::vector<HistogramRange> layouts() {
  std::vector<HistogramRange> out;
  for (int bins : {1, 2, 7, 2048, 65536})
    for (int e : {-140, -20, -1, 0, 3, 30, 100})
      for (bool absolute : {true, false}) {
        if (!absolute && bins % 2 != 0) continue;  // shift-0 signed layouts have an even bin count
        out.push_back({std::ldexp(1.0f, e), 0.0f, bins, absolute ? 0 : bins / 2, absolute});
      }
  out.push_back({0.0f, 0.0f, 2048, 0, true});      // before any non-zero value
  out.push_back({0.0f, 0.0f, 2048, 1024, false});
  out.push_back({0.37f, 0.0f, 2048, 1024, false});  // a width that is not a power of two
  out.push_back({3.0f, 0.0f, 7, 0, true});
  return out;
}

}  // namespace

TEST_CASE("histogram bin over lanes equals histogram_bin on every backend", "[calibration][lanes]") {
  for (const HistogramRange& r : layouts()) {
    const std::vector<float> x = finite_values(r);
    std::vector<std::int32_t> expect(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) expect[i] = qmath::histogram_bin(x[i], r);
    for (const Backend& be : backends()) {
      std::vector<std::int32_t> got(x.size(), -1);
      be.bins(x.data(), int(x.size()), r, got.data());
      std::size_t bad = x.size();
      for (std::size_t i = 0; i < x.size() && bad == x.size(); ++i)
        if (got[i] != expect[i]) bad = i;
      INFO(be.name << ": bins " << r.bins << ", inv_width " << r.inv_width << ", absolute " << r.absolute << ", x = "
                   << (bad < x.size() ? x[bad] : 0.0f) << " gives " << (bad < x.size() ? got[bad] : 0)
                   << ", histogram_bin " << (bad < x.size() ? expect[bad] : 0));
      CHECK(bad == x.size());
    }
  }
}

TEST_CASE("histogram bin over lanes keeps NaN and infinities inside the histogram", "[calibration][lanes]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {inf, -inf, nan, -nan};
  while (x.size() % 16 != 0) x.push_back(nan);
  for (const HistogramRange& r : layouts())
    for (const Backend& be : backends()) {
      std::vector<std::int32_t> got(x.size(), -1);
      be.bins(x.data(), int(x.size()), r, got.data());
      for (std::size_t i = 0; i < x.size(); ++i) {
        INFO(be.name << ": bins " << r.bins << ", inv_width " << r.inv_width << ", x = " << x[i]);
        CHECK((got[i] >= 0 && got[i] < r.bins));
      }
    }
}

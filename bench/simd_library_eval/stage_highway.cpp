#include <hwy/highway.h>
#include "common.hpp"
namespace hn = hwy::HWY_NAMESPACE;
void stage_hwy(const Stage& s, const std::int32_t* acc, int n, std::int8_t* out) {
  const hn::ScalableTag<std::int32_t> di;
  const hn::Rebind<float, decltype(di)> df;
  const hn::Rebind<std::int8_t, decltype(di)> d8;
  const int N = hn::Lanes(di);
  const auto lo = hn::Set(df, float(s.lo)), hi = hn::Set(df, float(s.hi));
  const auto zp = hn::Set(di, s.zp);
  const auto imax = hn::Set(di, INT32_MAX);
  for (int j = 0; j + N <= n; j += N) {
    const auto a = hn::LoadU(di, acc + j), b = hn::LoadU(di, s.bias + j);
    const auto sum = hn::Add(a, b);
    // saturating int32 add (Highway 1.0 has SaturatedAdd only for 8/16-bit lanes)
    const auto overflow = hn::And(hn::Xor(a, sum), hn::Xor(b, sum));
    const auto sat = hn::Xor(hn::ShiftRight<31>(a), imax);
    const auto v = hn::IfThenElse(hn::MaskFromVec(hn::ShiftRight<31>(overflow)), sat, sum);
    auto x = hn::Round(hn::Mul(hn::ConvertTo(df, v), hn::LoadU(df, s.scale + j)));
    x = hn::Min(hn::Max(x, lo), hi);
    hn::StoreU(hn::DemoteTo(d8, hn::Add(hn::ConvertTo(di, x), zp)), d8, out + j);
  }
}

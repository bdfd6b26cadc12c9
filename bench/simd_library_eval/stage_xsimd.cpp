#include <xsimd/xsimd.hpp>
#include "common.hpp"
using B = xsimd::batch<std::int32_t, xsimd::avx2>;
using F = xsimd::batch<float, xsimd::avx2>;
void stage_xsimd(const Stage& s, const std::int32_t* acc, int n, std::int8_t* out) {
  int j = 0;
  const F lo(float(s.lo)), hi(float(s.hi));
  const B zp(s.zp);
  for (; j + 8 <= n; j += 8) {
    B v = xsimd::sadd(B::load_unaligned(acc + j), B::load_unaligned(s.bias + j));
    F x = xsimd::nearbyint(xsimd::batch_cast<float>(v) * F::load_unaligned(s.scale + j));
    x = xsimd::min(xsimd::max(x, lo), hi);
    B q = xsimd::batch_cast<std::int32_t>(x) + zp;
    alignas(32) std::int32_t t[8];
    q.store_aligned(t);
    for (int i = 0; i < 8; ++i) out[j + i] = static_cast<std::int8_t>(t[i]);
  }
}

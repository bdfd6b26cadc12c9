// qmath/detail/lanes_body_avx2.hpp - the lane body named by QMATH_LANES_BODY (a header name) compiled into
// qmath::detail::lanes_avx2 under the AVX2 target, on x86.
// The pattern: qmath/detail/lanes.hpp. No include guard: included once per body, after
// `#define QMATH_LANES_BODY <qmath/.../body-inl.hpp>`.

#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx2.hpp>

#if QMATH_CPU_X86
QMATH_LANES_PUSH_TARGET(QMATH_LANES_AVX2_FEATURES)
namespace qmath::detail::lanes_avx2 {
#include QMATH_LANES_BODY
}  // namespace qmath::detail::lanes_avx2
QMATH_LANES_POP_TARGET()
#endif

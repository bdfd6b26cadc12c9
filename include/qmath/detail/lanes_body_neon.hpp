// qmath/detail/lanes_body_neon.hpp - the lane body named by QMATH_LANES_BODY (a header name) compiled into
// qmath::detail::lanes_neon on AArch64 (NEON is its baseline: no target).
// The pattern: qmath/detail/lanes.hpp. No include guard: included once per body, after
// `#define QMATH_LANES_BODY <qmath/.../body-inl.hpp>`.

#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_neon.hpp>

#if QMATH_LANES_NEON
namespace qmath::detail::lanes_neon {
#include QMATH_LANES_BODY
}  // namespace qmath::detail::lanes_neon
#endif

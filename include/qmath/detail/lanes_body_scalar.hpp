// qmath/detail/lanes_body_scalar.hpp - the lane body named by QMATH_LANES_BODY (a header name) compiled into
// qmath::detail::lanes_scalar with no target (one lane).
// The pattern: qmath/detail/lanes.hpp. No include guard: included once per body, after
// `#define QMATH_LANES_BODY <qmath/.../body-inl.hpp>`.

#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_scalar.hpp>

namespace qmath::detail::lanes_scalar {
#include QMATH_LANES_BODY
}  // namespace qmath::detail::lanes_scalar

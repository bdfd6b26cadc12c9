// qmath/cpu/detail/epilogue_lanes.hpp - the GEMM epilogue of every vector path, one body over the lane primitives.
//
// cpu/detail/epilogue_lanes-inl.hpp holds the body; it is included here once per lane backend (qmath/detail/lanes.hpp
// explains the pattern), giving qmath::detail::lanes_<isa>::epilogue_lanes<TC, kStream> with the contract of
// epilogue_scalar. The kernels' epilogue functions are thin wrappers: epilogue_avx2 (kernel_avx2.hpp),
// epilogue_avx512 (kernel_avx512vnni.hpp), and epilogue_neon below for AArch64. The scalar backend's copy
// (epilogue_lanes_scalar) runs the same body on one lane: the tests use it to check the body on every machine.
#pragma once

#include <cstdint>
#include <type_traits>

#include <qmath/cpu/detail/kernel_scalar.hpp>
#include <qmath/detail/lanes.hpp>
#include <qmath/detail/lanes_avx2.hpp>
#include <qmath/detail/lanes_avx512.hpp>
#include <qmath/detail/lanes_neon.hpp>
#include <qmath/detail/lanes_scalar.hpp>
#include <qmath/epilogue.hpp>
#include <qmath/fixed_point.hpp>

#define QMATH_LANES_BODY <qmath/cpu/detail/epilogue_lanes-inl.hpp>
#include <qmath/detail/lanes_body_scalar.hpp>
#include <qmath/detail/lanes_body_avx2.hpp>
#include <qmath/detail/lanes_body_avx512.hpp>
#include <qmath/detail/lanes_body_neon.hpp>
#undef QMATH_LANES_BODY

namespace qmath {
namespace cpu {
namespace detail {

// The lane body on the scalar backend: the same results as epilogue_scalar (a test of the body, not a fast path).
template <class TC>
void epilogue_lanes_scalar(const Epilogue& e, const std::int32_t* dot, int ld, const std::int32_t* row_comp, int rows,
                           const std::int32_t* col_comp, int n0, int cols, TC* out, std::int64_t ldc) {
  qmath::detail::lanes_scalar::epilogue_lanes<TC, false>(e, dot, ld, row_comp, rows, col_comp, n0, cols, out, ldc);
}

#if QMATH_LANES_NEON
// The AArch64 epilogue, with epilogue_avx2's signature (kStream: no non-temporal stores on NEON, plain stores).
template <class TC, bool kStream = false>
void epilogue_neon(const Epilogue& e, const std::int32_t* dot, int ld, const std::int32_t* row_comp, int rows,
                   const std::int32_t* col_comp, int n0, int cols, TC* out, std::int64_t ldc) {
  qmath::detail::lanes_neon::epilogue_lanes<TC, kStream>(e, dot, ld, row_comp, rows, col_comp, n0, cols, out, ldc);
}
#endif

}  // namespace detail
}  // namespace cpu
}  // namespace qmath

// The tests' host shim's copy of qmath/cuda/arch/runtime.cuh (tests/cuda/shim is first on the include path of the
// host-compiled CUDA tests, so this file stands in for the installed one): the same shared-memory macros, mapped to
// the shim's per-block arena instead of __shared__ arrays, which a host compiler cannot express.
#pragma once

#include <cuda_runtime.h>

#define QMATH_SHARED(type, name, count) type* const name = ::qmath::cuda::emu::shared_alloc<type>(count)
#define QMATH_SHARED_2D(type, name, rows, cols)                                                         \
  type(*const name)[cols] = reinterpret_cast<type(*)[cols]>(::qmath::cuda::emu::shared_alloc<type>( \
      static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)))
#define QMATH_DYNAMIC_SHARED(type, name) \
  type* const name = static_cast<type*>(::qmath::cuda::emu::context().launch->dynamic_shared())

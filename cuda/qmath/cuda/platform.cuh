// qmath/cuda/platform.cuh - what every qmath CUDA header includes first: the CUDA runtime and built-ins, the
// shared-memory macros (qmath/cuda/arch/runtime.cuh) and qmath/config.hpp.
//
// Layering: kernels are plain C++ over CUDA's built-in variables (threadIdx, blockIdx, ...), atomics, vector types
// and the arch layer (qmath/cuda/arch/: dp4a, barriers, shuffles, mma, ldmatrix, cp.async), which is the only place
// with intrinsics or inline PTX. Shared memory is declared only through the macros
//
//   QMATH_SHARED(type, name, count);           // __shared__ type name[count]         (16-byte aligned)
//   QMATH_SHARED_2D(type, name, rows, cols);   // __shared__ type name[rows][cols]    (16-byte aligned)
//   QMATH_DYNAMIC_SHARED(type, name);          // type* name = the launch's dynamic shared memory
//
// at the top of a kernel, unconditionally (every thread executes the same declarations in the same order); no sizeof
// on a shared array's name.
#pragma once

#include <qmath/config.hpp>
#include <qmath/cuda/arch/runtime.cuh>

// cuda_runtime.h of the qmath tests' host shim (tests/cuda/shim, first on the include path of the host-compiled CUDA
// tests, never installed): the CUDA runtime API, the built-ins and the host definitions of the arch layer's
// PTX functions, so that the qmath kernels run on the CPU unchanged. See qmath_shim/engine.hpp for the execution
// model and docs/cuda.md for what it proves.
#pragma once

#define QMATH_CUDA_HOST_SHIM 1

#include <qmath_shim/engine.hpp>
#include <qmath_shim/runtime_api.hpp>
#include <qmath_shim/builtins.hpp>
#include <qmath_shim/arch.hpp>

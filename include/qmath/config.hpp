// qmath/config.hpp - portability macros shared by every qmath header.
//
// QMATH_HOST_DEVICE marks every arithmetic primitive: under a CUDA compiler it is `__host__ __device__ inline`, so
// the CUDA kernels' epilogues and the CPU reference run the very same code; elsewhere it is plain `inline`.
#pragma once

#if defined(__CUDACC__) || defined(__CUDA__)
#define QMATH_HOST_DEVICE __host__ __device__ inline
#define QMATH_DEVICE __device__ inline
#define QMATH_HOST __host__ inline
#else
#define QMATH_HOST_DEVICE inline
#define QMATH_DEVICE inline
#define QMATH_HOST inline
#endif

// True while compiling device code (nvcc's device pass).
#if defined(__CUDA_ARCH__)
#define QMATH_DEVICE_CODE 1
#else
#define QMATH_DEVICE_CODE 0
#endif

#define QMATH_STRINGIFY_IMPL(x) #x
#define QMATH_STRINGIFY(x) QMATH_STRINGIFY_IMPL(x)

// QMATH_UNROLL: ask the compiler to unroll the following loop fully.
// nvcc's host pass: its front end rejects the GCC spelling and the host compiler warns on the CUDA one, so the
// CUDA spelling is used only in device passes and nothing in nvcc's host pass.
#if defined(__CUDA_ARCH__) || defined(__clang__)
#define QMATH_UNROLL _Pragma("unroll")
#elif defined(__CUDACC__)
#define QMATH_UNROLL
#elif defined(__GNUC__)
#define QMATH_UNROLL _Pragma("GCC unroll 16")
#else
#define QMATH_UNROLL
#endif

#define QMATH_VERSION_MAJOR 0
#define QMATH_VERSION_MINOR 1
#define QMATH_VERSION_PATCH 0

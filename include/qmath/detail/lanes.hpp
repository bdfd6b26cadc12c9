// qmath/detail/lanes.hpp - the lane layer: vector arithmetic written once over a few primitives per ISA.
//
// Each instruction set supplies the same primitives in its own namespace (lanes_scalar.hpp, lanes_avx2.hpp,
// lanes_avx512.hpp, lanes_neon.hpp); code above them (the GEMM epilogue: cpu/detail/epilogue_lanes-inl.hpp) is
// written once with unqualified calls and included once into each namespace, between QMATH_LANES_PUSH_TARGET and
// QMATH_LANES_POP_TARGET, so that every function of that copy is compiled for that ISA (the pattern of Highway's
// foreach_target.h, without the library; see docs/simd.md). The program stays built with the baseline flags and
// chooses a copy at run time (qmath/isa.hpp). lanes_body_<isa>.hpp does one such include: a user names its body once
// and includes one line per backend,
//   #define QMATH_LANES_BODY <qmath/detail/quantize_lanes-inl.hpp>
//   #include <qmath/detail/lanes_body_scalar.hpp>
//   #include <qmath/detail/lanes_body_avx2.hpp>  // and so on; each is empty where its ISA is not compiled
//   #undef QMATH_LANES_BODY
//
// The primitives and their scalar definitions (lanes_scalar.hpp is normative; every backend matches it bit for bit,
// tests/lanes_test.cpp). I32: kLanes int32 lanes, F32: kLanes float lanes, MF: a lane mask of F32 compares.
//   splat_i32(int32) splat_f32(float)                       every lane = the value
//   load_i32(p) load_f32(p) store_i32(p, v) store_f32(p, v)   kLanes consecutive elements, any alignment
//   stream_i32(p, v) stream_f32(p, v)                        store_*, non-temporal where the ISA has it; p aligned to
//                                                            kLanes * 4 bytes
//   store_narrow(int8_t* / uint8_t* p, I32 v)                kLanes bytes; every lane already inside the type
//   store_narrow4(int8_t* / uint8_t* p, I32 a, b, c, d)      4 * kLanes bytes: the lanes of a, then b, c, d, each
//                                                            saturated to the byte type (clamp to [-128, 127] or
//                                                            [0, 255]; any int32 lane)
//   add_i32 sub_i32                                          wrapping (modulo 2^32)
//   add_saturate_i32(a, b)                                   saturate_to_int32(int64(a) + b)
//   min_i32 max_i32
//   load_widen_i32(const int8_t* / const uint8_t* p)          kLanes bytes, each widened exactly to an int32 lane
//   to_f32(I32)                                              int32 -> float, round to nearest even
//   add_f32 sub_f32 div_f32                                  float sum, difference, quotient, round to nearest even
//   trunc_f32(x)                                             round_to_integral(x, Round::kTowardZero); keeps +-inf
//   mul_f32(a, b)                                            float product, round to nearest even
//   round_even_f32(x)                                        round_to_integral(x, Round::kHalfToEven)
//   min_f32 max_f32                                          for ordered lanes; which zero a pair of zeros of
//                                                            different signs gives is the ISA's
//   clamp_f32(x, lo, hi)                                     x < lo ? lo : x > hi ? hi : x for lo <= hi (not NaN);
//                                                            a NaN x gives a NaN (payload unspecified); zeros as
//                                                            min_f32 / max_f32
//   lt_f32(a, b) gt_f32(a, b) -> MF; select_f32(MF m, a, b)  m ? a : b per lane (ordered compares: NaN is false)
//   select_zero_f32(MF m, a)                                 m ? a : +0.0 per lane
//   bits_i32(F32 x)                                          the IEEE-754 bit pattern of each lane, as int32
//   lt_i32(I32 a, I32 b) -> MF                               a < b per lane (signed)
//   eq_f32(a, b) -> MF; and_mf(m, n) or_mf(m, n)             ordered ==; mask and / or
//   all_mf(MF m) -> bool                                     every lane of m is set
//   abs_f32(x)                                               x with its sign bit cleared
//   decrement_where(I32 v, MF m)                             m ? v - 1 : v per lane (wrapping)
//   trunc_i32(F32 x)                                         toward zero; x inside (-2^31, 2^31)
//   add_saturate_integral(F32 x, zp, qmin, qmax)             clamp(int64(x) + zp, qmin, qmax) for integral or
//                                                            infinite x (round_add_saturate of an integer); qmin <= qmax
//   srdhm_i32(a, b)                                          saturating_rounding_doubling_high_mul (VQRDMULH)
//   rounding_divide_by_pot_i32(x, e)                         rounding_divide_by_pot, per-lane e in [0, 31]
//   shift_left_saturate_i32(x, s)                            saturate_to_int32(int64(x) * 2^s), s in [0, 31]
//   mul_round_shift_i32(x, m, t)                             saturate_to_int32((int64(x) * m + 2^(t-1)) >> t),
//                                                            arithmetic shift, per-lane t in [1, 62]
#pragma once

#include <qmath/config.hpp>

// QMATH_LANES_PUSH_TARGET("avx2,fma") ... QMATH_LANES_POP_TARGET(): every function defined in between (templates and
// lambdas included) is compiled for those target features, as if it carried __attribute__((target(...))).
#if defined(__clang__)
#define QMATH_LANES_PUSH_TARGET(features) \
  _Pragma(QMATH_STRINGIFY(clang attribute push(__attribute__((target(features))), apply_to = function)))
#define QMATH_LANES_POP_TARGET() _Pragma("clang attribute pop")
#elif defined(__GNUC__)
#define QMATH_LANES_PUSH_TARGET(features) _Pragma("GCC push_options") _Pragma(QMATH_STRINGIFY(GCC target(features)))
#define QMATH_LANES_POP_TARGET() _Pragma("GCC pop_options")
#else
#define QMATH_LANES_PUSH_TARGET(features)
#define QMATH_LANES_POP_TARGET()
#endif

// QMATH_LANES_NOINLINE: keeps a function out of line (a rarely taken path whose constants would crowd a hot loop's).
#if defined(__GNUC__) || defined(__clang__)
#define QMATH_LANES_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define QMATH_LANES_NOINLINE __declspec(noinline)
#else
#define QMATH_LANES_NOINLINE
#endif

// The target features of the x86 backends (the same strings as the kernels' target attributes).
#define QMATH_LANES_AVX2_FEATURES "avx2,fma"
#define QMATH_LANES_AVX512_FEATURES "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl"

// 1 where lanes_neon.hpp is compiled: AArch64 (Advanced SIMD is part of its baseline).
#if defined(__aarch64__) && defined(__ARM_NEON)
#define QMATH_LANES_NEON 1
#else
#define QMATH_LANES_NEON 0
#endif

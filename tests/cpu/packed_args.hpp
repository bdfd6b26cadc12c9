// tests/cpu/packed_args.hpp - cpu::PackedGemmArgs from the positional form the CPU GEMM tests sweep over.
#pragma once

#include <cstdint>

#include <qmath/cpu/gemm.hpp>

#include "../gemm_args_support.hpp"

namespace qtest {

// A row-major with lda, C row-major with ldc, B pre-packed.
template <class TA, class TB, class TC>
qmath::cpu::PackedGemmArgs<TA, TB, TC> packed_args(GemmShape s, const TA* a, std::int64_t lda, std::int32_t za,
                                                   const qmath::cpu::PackedB<TB>& b, TC* c, std::int64_t ldc,
                                                   const qmath::Epilogue& e) {
  return {qmath::row_major(a, s.m, s.k, lda), &b, qmath::row_major(c, s.m, s.n, ldc), za, e};
}

}  // namespace qtest

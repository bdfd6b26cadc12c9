#!/usr/bin/env bash
# AArch64: cross build with Debian's g++-aarch64-linux-gnu (cmake/toolchains/aarch64-linux-gnu.cmake) and the tests
# of the instruction-set registry, the lane primitives, the CPU GEMM and the other dispatchers run under qemu-user twice:
#   -cpu max         Advanced SIMD + DotProd + I8MM: the kNeon, kNeonDotprod and kNeonI8mm GEMM paths all run;
#   -cpu cortex-a57  Advanced SIMD only (Armv8.0): kNeon runs, the DotProd and I8MM paths must be unavailable.
# QMATH_TEST_EXPECT_GEMM_PATH tells cpu_gemm_neon_test which path the model must resolve to. Shapes are sized for
# the emulator; the full random sweeps stay for native runs (cpu_gemm_small_m_test runs the AArch64 small-M kernels,
# M <= 8). Then the AArch64 kernels' machine code must hold SDOT and USMMLA (scripts/arm_kernel_cost.py reports their
# inner loops, the small-M sub-tiles' among them), and the benchmark sources must compile for AArch64 (compiled, not
# linked: Google Benchmark is installed for the host only).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
build=build-aarch64
tests=(isa_test cpu_gemm_test cpu_gemm_neon_test cpu_gemm_small_m_test quantize_simd_test gemm_reference_test
       calibration_histogram_test qmath_header_hygiene lanes_test cpu_epilogue_lanes_test
       calibration_histogram_bin_lanes_test)

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DQMATH_QEMU_CPU= \
  -DQMATH_ENABLE_CUDA=OFF -DQMATH_BUILD_BENCHMARKS=OFF -DQMATH_BUILD_EXAMPLES=OFF
cmake --build "$build" -j "$jobs" --target "${tests[@]}"
# CTest names: the targets' (isa_test also selects isa_test_max_isa_*), and the intrinsics-header check.
regex="^($(IFS='|'; echo "${tests[*]/qmath_header_hygiene/header_hygiene}")|scalar_headers_no_intrinsics)"
for model in max:neoni8mm cortex-a57:neon; do
  cpu=${model%%:*}
  echo "qmath: AArch64 tests under qemu-aarch64 -cpu $cpu (expected GEMM path ${model##*:})"
  start=$SECONDS
  QEMU_CPU=$cpu QMATH_TEST_EXPECT_GEMM_PATH=${model##*:} \
    ctest --test-dir "$build" --output-on-failure -j "$jobs" -R "$regex" -LE slow
  echo "qmath: qemu -cpu $cpu: $((SECONDS - start)) s"
done

# The kernels' instructions are in the binary: SDOT in the DotProd kernel, USMMLA in the I8MM kernel.
bin="$build/tests/cpu/cpu_gemm_neon_test"
dis=$(aarch64-linux-gnu-objdump -d -C --no-show-raw-insn "$bin")
for insn in sdot usmmla; do
  grep -qE "^\s+[0-9a-f]+:\s+$insn\s" <<<"$dis" || { echo "qmath: no $insn in $bin" >&2; exit 1; }
done
report=$(python3 scripts/arm_kernel_cost.py "$bin")
echo "$report"
for kernel in neon dotprod i8mm; do
  grep -qE "small_m_(chunks|rows)_$kernel<" <<<"$report" || { echo "qmath: no small-M $kernel loop in $bin" >&2; exit 1; }
done

# Benchmarks: every source compiles to an AArch64 object (Google Benchmark's headers are architecture-independent;
# its library is not installed for arm64, so nothing is linked).
for src in bench/quantize_bench.cpp bench/formats_bench.cpp bench/calibration_bench.cpp bench/cpu_gemm_bench.cpp \
           bench/cpu_gemm_bench_eigen.cpp; do
  aarch64-linux-gnu-g++ -std=c++17 -O1 -c -o /dev/null -Wall -Wextra -Werror -Iinclude -I/usr/include/eigen3 "$src"
done
echo "qmath: AArch64 benchmark sources compile"

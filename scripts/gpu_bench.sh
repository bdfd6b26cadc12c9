#!/usr/bin/env bash
# The GPU run in one command, for a machine with an NVIDIA GPU, nvcc and cuBLAS (it needs neither CMake nor the
# project's Debian packages): builds build-gpu/cuda_gpu_test and build-gpu/cuda_gemm_bench with nvcc for this GPU,
# runs the GPU tests (the kernels against the host references on the device, cuBLAS / cuBLASLt checks), then the
# GEMM benchmark over square and inference shapes: DP4A (int32 and fused int8 output), FP32 SIMT, cuBLAS SGEMM,
# cuBLASLt INT8 (IMMA) and any qmath tensor-core benchmark the binary has; prints TOPS per kernel and shape and the
# ratios from that one run (scripts/gpu_bench_report.py). The raw JSON stays in build-gpu/cuda_gemm_bench.json.
#
#   scripts/gpu_bench.sh --pack     (here, on a machine with the Debian packages) copies Catch2's and Google
#                                   Benchmark's headers and libbenchmark into .gpu-deps/ (gitignored), for a GPU
#                                   machine that has neither: carry .gpu-deps there with the working tree.
#   scripts/gpu_bench.sh [--build-only] [--skip-tests] [cuda_gemm_bench flags, e.g. --benchmark_filter=/4096/]
# QMATH_GPU_ARCH (default: native, i.e. the GPU present) picks the nvcc -arch.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=.gpu-deps
if [ "${1:-}" = "--pack" ]; then
  rm -rf "$deps" && mkdir -p "$deps/include" "$deps/lib"
  cp -r /usr/include/catch2 /usr/include/benchmark "$deps/include/"
  cp -P /usr/lib/x86_64-linux-gnu/libbenchmark.so* "$deps/lib/"
  du -sh "$deps"
  exit 0
fi
build_only=0 run_tests=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) build_only=1 ;;
    --skip-tests) run_tests=0 ;;
    *) break ;;
  esac
  shift
done
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader || true
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$nvcc" ] || { echo "gpu_bench: nvcc not found"; exit 1; }
"$nvcc" --version | tail -1
arch=${QMATH_GPU_ARCH:-native}
flags=(-std=c++17 -O3 -arch="$arch" -Icuda -Iinclude -Itests/cuda -Itests)
libs=(-lcublas -lcublasLt)
if [ -d "$deps" ]; then
  flags+=(-I"$deps/include")
  libs+=(-L"$deps/lib" -Xlinker -rpath -Xlinker "$(pwd)/$deps/lib")
fi
mkdir -p build-gpu/obj
# One nvcc per translation unit, in parallel (ptxas on the 8x8 DP4A kernels dominates).
pids=()
for src in tests/cuda/gpu_main.cpp tests/cuda/*_gpu.cu tests/cuda/cublas_test.cu bench/cuda_gemm_bench.cu; do
  obj=build-gpu/obj/$(basename "$src").o
  lang=(); [[ "$src" == *.cpp ]] && lang=(-x cu)
  "$nvcc" "${flags[@]}" "${lang[@]}" -c "$src" -o "$obj" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
"$nvcc" -arch="$arch" -o build-gpu/cuda_gpu_test build-gpu/obj/gpu_main.cpp.o build-gpu/obj/*_gpu.cu.o \
  build-gpu/obj/cublas_test.cu.o "${libs[@]}"
"$nvcc" -arch="$arch" -o build-gpu/cuda_gemm_bench build-gpu/obj/cuda_gemm_bench.cu.o "${libs[@]}" -lbenchmark -lpthread
[ "$build_only" -eq 0 ] || { echo "gpu_bench: built build-gpu/cuda_gpu_test and build-gpu/cuda_gemm_bench"; exit 0; }

status=0
if [ "$run_tests" -eq 1 ]; then
  build-gpu/cuda_gpu_test || status=$?
  [ "$status" -eq 0 ] || echo "gpu_bench: cuda_gpu_test FAILED (exit $status); benchmarking anyway"
fi
build-gpu/cuda_gemm_bench --benchmark_out=build-gpu/cuda_gemm_bench.json --benchmark_out_format=json \
  --benchmark_counters_tabular=true "$@"
python3 scripts/gpu_bench_report.py build-gpu/cuda_gemm_bench.json
exit "$status"

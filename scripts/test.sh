#!/usr/bin/env bash
# The test command: installs what is missing, builds everything (CUDA kernels for every target architecture when
# nvcc is present), runs the whole CTest suite, the fuzz regressions, then the ASan + UBSan configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

# Static main-loop model of the CUDA GEMMs beside CUTLASS's (SASS; nvcc plus the .venv wheels, no GPU).
if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then python3 scripts/sass_model.py --check; fi

# Fuzz regressions: every seed and kept crash input replayed, then a few seconds of fuzzing per harness (Clang,
# libFuzzer, ASan + UBSan; build-fuzz/).
scripts/fuzz.sh --regress

cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DQMATH_SANITIZE=ON -DQMATH_ENABLE_CUDA=OFF \
  -DQMATH_BUILD_BENCHMARKS=OFF -DQMATH_BUILD_EXAMPLES=OFF
cmake --build build-sanitize -j "$jobs"
ctest --test-dir build-sanitize --output-on-failure -j "$jobs" -LE slow

# AArch64: cross build, tests under qemu-user with and without DotProd/I8MM, kernel instruction check (build-aarch64/).
scripts/test-arm.sh

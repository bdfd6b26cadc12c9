#!/usr/bin/env bash
# The README's main command: installs the Debian packages qmath needs (if missing), builds the post-training
# quantization demo and runs it on Fashion-MNIST: FP32 vs INT8 accuracy with every calibrator, a TensorRT
# calibration cache, a JSON table, and the INT8 vs FP32 speed. Extra arguments go to qmath-ptq-demo
# (e.g. scripts/demo.sh --test 2000; --help lists them). Outputs land in build-quickstart/ptq_demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${QMATH_DEMO_BUILD_DIR:-build-quickstart}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQMATH_ENABLE_CUDA=OFF \
  -DQMATH_BUILD_TESTS=OFF -DQMATH_BUILD_BENCHMARKS=OFF -DQMATH_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target qmath-ptq-demo -j "$(nproc)"
out="$build/ptq_demo"
mkdir -p "$out"
echo
"$build/examples/ptq_demo/qmath-ptq-demo" --cache "$out/entropy.cache" --json "$out/results.json" "$@"
echo
echo "TensorRT calibration cache ($out/entropy.cache):"
cat "$out/entropy.cache"

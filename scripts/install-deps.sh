#!/usr/bin/env bash
# Installs the Debian packages qmath's build, tests, benchmarks and demo use, skipping those already present.
# The CUDA toolkit (nvcc, cuBLAS) is expected on the machine already; without it the CUDA layer is skipped.
set -euo pipefail
# clang + libclang-rt-dev (libFuzzer and the sanitizer runtimes of the default clang): scripts/fuzz.sh.
packages=(cmake ninja-build g++ libeigen3-dev catch2 libbenchmark-dev libgemmlowp-dev nlohmann-json3-dev zlib1g-dev
          libdnnl-dev dataset-fashion-mnist libcli11-dev clang libclang-rt-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "qmath: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# CuTe's MMA traits (headers of the nvidia-cutlass wheel) for tests/cuda/shim_cute_test.cpp, in the repository's
# .venv (ignored by git; found by tests/cuda/CMakeLists.txt).
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
if ! python3 -c "import ensurepip" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
"$venv/bin/pip" show nvidia-cutlass >/dev/null 2>&1 || "$venv/bin/pip" install -q nvidia-cutlass==4.2.0.0

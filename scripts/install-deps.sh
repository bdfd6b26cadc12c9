#!/usr/bin/env bash
# Installs the Debian packages qmath's build, tests, benchmarks and demo use, skipping those already present.
# The CUDA toolkit (nvcc, cuBLAS) is expected on the machine already; without it the CUDA layer is skipped.
set -euo pipefail
# clang + libclang-rt-dev (libFuzzer and the sanitizer runtimes of the default clang): scripts/fuzz.sh.
packages=(cmake ninja-build g++ libeigen3-dev catch2 libbenchmark-dev libgemmlowp-dev nlohmann-json3-dev zlib1g-dev
          libdnnl-dev dataset-fashion-mnist libcli11-dev clang libclang-rt-dev python3-venv)
# The AArch64 cross build and its tests under emulation (scripts/test-arm.sh).
packages+=(g++-aarch64-linux-gnu qemu-user)
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

# With nvcc: NVIDIA's pip wheels in .venv at the repository root (gitignored). cuobjdump / nvdisasm (the SASS steps of
# tests/cuda/static_checks.sh and scripts/sass_model.py; a minimal toolkit has neither) and nvidia-cutlass (only its
# C++ headers: CUTLASS's reference kernels in scripts/sass_model.py and CuTe's MMA traits for
# tests/cuda/shim_cute_test.cpp; --no-deps skips its Python runtime).
nvcc_bin=$(command -v nvcc || true)
[ -n "$nvcc_bin" ] || { [ -x /usr/local/cuda/bin/nvcc ] && nvcc_bin=/usr/local/cuda/bin/nvcc; } || true
if [ -n "$nvcc_bin" ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  cuda_major=$("$nvcc_bin" --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
  [ -x "$root/.venv/bin/pip" ] || python3 -m venv "$root/.venv"
  wheels=("nvidia-cuda-cuobjdump==$cuda_major.*" "nvidia-cuda-nvdisasm==$cuda_major.*" "nvidia-cutlass==4.2.*")
  "$root/.venv/bin/pip" install -q --disable-pip-version-check --no-deps "${wheels[@]}"
fi

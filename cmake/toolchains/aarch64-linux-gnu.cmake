# Cross build for AArch64 Linux with Debian's g++-aarch64-linux-gnu; CTest runs the tests under qemu-user
# (qemu-aarch64 with the target's libraries from /usr/aarch64-linux-gnu).
#   cmake -S . -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DQMATH_ENABLE_CUDA=OFF -DQMATH_BUILD_BENCHMARKS=OFF -DQMATH_BUILD_EXAMPLES=OFF
# The emulated CPU: QMATH_QEMU_CPU (cache variable; default: the QEMU_CPU environment variable at configure time,
# else "max", which has Advanced SIMD, DotProd and I8MM). qemu-user also reads QEMU_CPU from the environment of
# each run when the command line names none, so scripts/test-arm.sh sets the model per CTest run through it and
# configures QMATH_QEMU_CPU empty.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(_qmath_sysroot /usr/aarch64-linux-gnu)
if(DEFINED ENV{QEMU_CPU})
  set(_qmath_qemu_cpu_default "$ENV{QEMU_CPU}")
else()
  set(_qmath_qemu_cpu_default max)
endif()
set(QMATH_QEMU_CPU "${_qmath_qemu_cpu_default}" CACHE STRING
    "CPU model qemu-aarch64 emulates for CTest (-cpu); empty: QEMU_CPU from each run's environment")
find_program(QMATH_QEMU_AARCH64 qemu-aarch64 REQUIRED)
if(QMATH_QEMU_CPU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${QMATH_QEMU_AARCH64} -L ${_qmath_sysroot} -cpu ${QMATH_QEMU_CPU})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${QMATH_QEMU_AARCH64} -L ${_qmath_sysroot})
endif()

# Libraries and programs: the target's only (the host's x86-64 libraries cannot link). Headers and CMake package
# files: the target's first, then the host's, so that header-only packages installed for the host (Catch2 2's
# catch.hpp, gemmlowp, Eigen) serve the cross build too; a package with a compiled library for the host only
# (Google Benchmark, oneDNN) must be left out of the cross build (QMATH_BUILD_BENCHMARKS=OFF).
set(CMAKE_FIND_ROOT_PATH ${_qmath_sysroot} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

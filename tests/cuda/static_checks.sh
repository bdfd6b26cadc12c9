#!/usr/bin/env bash
# Static checks of the qmath CUDA kernels (registered with CTest as cuda_static_checks; needs nvcc, no GPU):
#   1. static_check_kernels.cu (every DP4A / FP32 preset kernel) and static_check_imma_kernels.cu (every gemm_imma
#      preset x output type x mma path) compile for every architecture with warnings as errors;
#   2. ptxas -v reports 0 bytes spill stores / loads and no stack frame for every kernel and architecture
#      (the register table is printed; docs/cuda.md records it);
#   3. every DP4A kernel's PTX has its dp4a instructions inside a loop (a block that ends in a backward branch);
#   4. in the SASS (cuobjdump -sass) for every architecture: IDP.4A in every DP4A kernel, FFMA in every FP32 kernel,
#      IMMA in every tensor-core kernel (names with Imma / TensorOp; gemm_imma: IMMA.8816 in the sm_75 path on every
#      architecture, IMMA.16832 in the sm_80 path from sm_80 on, where sm_75 compiles that path to a trap), no local
#      memory (LDL / STL) in any kernel, and registers x threads within the launch bound (__launch_bounds__(threads,
#      1): at most 65536 per block, 255 each).
# usage: static_checks.sh <nvcc> <cuobjdump> <source-root> <work-dir> <arch>...   (cuobjdump: a path or a name on PATH;
#        scripts/install-deps.sh installs NVIDIA's cuobjdump wheel into .venv where the toolkit has none)
set -euo pipefail
nvcc=$1 cuobjdump=$2 root=$3 work=$4
shift 4
archs=("$@")
mkdir -p "$work"
src="$root/tests/cuda/static_check_kernels.cu"
src_imma="$root/tests/cuda/static_check_imma_kernels.cu"
kernels_dp4a_fp32=15 kernels_imma=24
flags=(-std=c++17 -I"$root/cuda" -I"$root/include" -Werror all-warnings -Xcompiler -Wall,-Wextra,-Werror)
gencode=()
for a in "${archs[@]}"; do gencode+=(-gencode "arch=compute_$a,code=sm_$a"); done
demangle() { if command -v c++filt >/dev/null; then c++filt; else cat; fi; }
status=0

echo "== 1+2. compile for sm_${archs[*]} with -Werror, ptxas -v"
# Two compilations at a time (CI has 2 cores): the DP4A / FP32 source for every architecture, and the gemm_imma
# source once per architecture (its kernels are the long pole). Each job writes its own log; a failed job leaves a
# .failed marker, reported after all have finished.
rm -f "$work"/*.failed
compile() {  # object log source gencode...
  local obj=$1 log=$2 source=$3
  shift 3
  "$nvcc" "${flags[@]}" "$@" -Xptxas -v -c -o "$obj" "$source" >"$log" 2>&1 || echo "$source" >"$log.failed"
}
running=0
launch() {
  if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
  compile "$@" &
  running=$((running + 1))
}
launch "$work/kernels.o" "$work/ptxas_main.log" "$src" "${gencode[@]}"
imma_objs=() imma_logs=()
for a in "${archs[@]}"; do
  launch "$work/kernels_imma_sm$a.o" "$work/ptxas_imma_sm$a.log" "$src_imma" -gencode "arch=compute_$a,code=sm_$a"
  imma_objs+=("$work/kernels_imma_sm$a.o") imma_logs+=("$work/ptxas_imma_sm$a.log")
done
wait
for log in "$work/ptxas_main.log" "${imma_logs[@]}"; do
  if [ -e "$log.failed" ]; then
    cat "$log"
    echo "FAIL: compilation of $(cat "$log.failed") (warnings are errors; log $log)"
    exit 1
  fi
done
cat "$work/ptxas_main.log" "${imma_logs[@]}" >"$work/ptxas.log"
# One line per (kernel, arch): arch regs stack spill_stores spill_loads kernel
awk -v q="'" '
  /Compiling entry function/ {
    s = $0; sub(".*function " q, "", s); fn = s; sub(q ".*", "", fn)
    arch = s; sub(".* for " q, "", arch); sub(q ".*", "", arch)
  }
  /bytes stack frame/ { stack = $1; st = $5; ld = $9 }
  /Used [0-9]+ registers/ { r = $0; sub(/.*Used /, "", r); sub(/ registers.*/, "", r); print arch, r, stack, st, ld, fn }
' "$work/ptxas.log" >"$work/resources.txt"
expected=$(((kernels_dp4a_fp32 + kernels_imma) * ${#archs[@]}))
found=$(wc -l <"$work/resources.txt")
if [ "$found" -ne "$expected" ]; then
  echo "FAIL: expected $expected (kernel, arch) entries in the ptxas output, found $found"
  status=1
fi
printf '%-6s %5s %6s %7s %7s  %s\n' arch regs stack spill_st spill_ld kernel
while read -r arch regs stack st ld fn; do
  short=$(echo "$fn" | demangle | sed -e 's/qmath::cuda:://g' -e 's/detail:://g' -e 's/GemmTnParams<.*//' \
    -e 's/ImmaTile<\([0-9]*\), \([0-9]*\), \([0-9]*\), [0-9, ]*>/ImmaTile<\1x\2x\3>/' -e 's/(.*//')
  printf '%-6s %5s %6s %7s %7s  %s\n' "$arch" "$regs" "$stack" "$st" "$ld" "$short"
  if [ "$st" != 0 ] || [ "$ld" != 0 ] || [ "$stack" != 0 ]; then
    echo "FAIL: spills or stack frame in $short for $arch"
    status=1
  fi
done <"$work/resources.txt"

echo "== 3. dp4a inside the main loop (PTX, sm_${archs[0]})"
"$nvcc" "${flags[@]}" -arch="sm_${archs[0]}" -ptx -o "$work/kernels.ptx" "$src"
# Per DP4A entry: count dp4a lines that lie between a label and a later branch back to that label.
awk '
  function flush() {
    if (name != "" && name ~ /Int8Math/) {
      inloop = 0
      for (i = 1; i <= n; i++) if (isdp[i]) for (j = 1; j <= nl; j++) if (i >= lo[j] && i <= hi[j]) { inloop++; break }
      print inloop, total, name
    }
    name = ""; n = 0; nl = 0; total = 0; delete isdp; delete lab
  }
  /^\.visible \.entry/ { flush(); name = $3; sub(/\(.*/, "", name); next }
  name != "" {
    n++
    if ($0 ~ /^\$L__[A-Za-z0-9_]+:/) { l = $0; sub(/:.*/, "", l); lab[l] = n }
    if ($0 ~ /dp4a\.s32\.s32/) { isdp[n] = 1; total++ }
    if ($0 ~ /bra(\.uni)?[ \t]/) { t = $NF; sub(/;.*/, "", t); if (t in lab) { nl++; lo[nl] = lab[t]; hi[nl] = n } }
  }
  END { flush() }
' "$work/kernels.ptx" >"$work/dp4a.txt"
if [ "$(wc -l <"$work/dp4a.txt")" -ne 12 ]; then
  echo "FAIL: expected 12 DP4A kernels in the PTX"
  status=1
fi
while read -r inloop total fn; do
  short=$(echo "$fn" | demangle | sed -e 's/qmath::cuda:://g' -e 's/detail:://g' -e 's/GemmTnParams<.*//' -e 's/(.*//')
  echo "dp4a in loop: $inloop of $total  $short"
  # Each preset's micro-tile is at least 4x4 over 8 K words per tile: 128 dp4a per main-loop iteration.
  if [ "$inloop" -lt 128 ]; then
    echo "FAIL: fewer than 128 dp4a instructions inside a loop in $short"
    status=1
  fi
done <"$work/dp4a.txt"

echo "== 4. SASS: IDP.4A / FFMA / IMMA where expected, no local memory, registers within the launch bound"
if ! command -v "$cuobjdump" >/dev/null 2>&1; then
  echo "FAIL: $cuobjdump not found; scripts/install-deps.sh installs NVIDIA's nvidia-cuda-cuobjdump wheel into .venv"
  exit 1
fi
"$cuobjdump" -sass "$work/kernels.o" >"$work/kernels.sass"
for obj in "${imma_objs[@]}"; do "$cuobjdump" -sass "$obj" >>"$work/kernels.sass"; done
# One line per (arch, kernel): arch idp4a ffma imma local imma8816 imma16832 kernel
awk '
  function flush() { if (fn != "") print arch, idp, ffma, imma, local, i8816, i16832, fn; idp = ffma = imma = local = i8816 = i16832 = 0 }
  /arch = sm_/ { flush(); fn = ""; arch = $3 }
  /Function :/ { flush(); fn = $3 }
  /IDP\.4A/ { idp++ }
  / FFMA/ { ffma++ }
  / IMMA/ { imma++ }
  / IMMA\.8816\./ { i8816++ }
  / IMMA\.16832\./ { i16832++ }
  / (LDL|STL)[ .]/ { local++ }
  END { flush() }
' "$work/kernels.sass" >"$work/sass.txt"
found=$(wc -l <"$work/sass.txt")
if [ "$found" -ne "$expected" ]; then
  echo "FAIL: expected $expected (kernel, arch) functions in the SASS, found $found"
  status=1
fi
declare -A want_count=([IDP.4A]=0 [FFMA]=0 [IMMA]=0 [IMMA.8816]=0 [IMMA.16832]=0 [trap]=0)
while read -r arch idp ffma imma local i8816 i16832 fn; do
  short=$(echo "$fn" | demangle | sed -e 's/qmath::cuda:://g' -e 's/detail:://g' -e 's/GemmTnParams<.*//' -e 's/(.*//' \
    -e 's/ImmaTile<\([0-9]*\), \([0-9]*\), \([0-9]*\), [0-9, ]*>/ImmaTile<\1x\2x\3>/')
  case "$fn" in
    *ImmaSm75*) want=IMMA.8816 n=$i8816 ;;
    *ImmaSm80*)
      if [ "$arch" = sm_75 ]; then  # m16n8k32 needs sm_80: the path compiles to a trap, never launched
        want="" n=0
        if [ "$imma" -ne 0 ]; then
          echo "FAIL: IMMA in $short ($arch), expected the trap"
          status=1
        else
          want_count[trap]=$((want_count[trap] + 1))
        fi
      else
        want=IMMA.16832 n=$i16832
      fi
      ;;
    *Imma* | *TensorOp*) want=IMMA n=$imma ;;
    *Int8Math*) want=IDP.4A n=$idp ;;
    *Fp32Math*) want=FFMA n=$ffma ;;
    *) want="" n=0 ;;
  esac
  if [ -n "$want" ]; then
    if [ "$n" -eq 0 ]; then
      echo "FAIL: no $want in $short ($arch)"
      status=1
    else
      want_count[$want]=$((want_count[$want] + 1))
    fi
  fi
  if [ "$local" -ne 0 ]; then
    echo "FAIL: $local local-memory instructions (LDL / STL) in $short ($arch)"
    status=1
  fi
done <"$work/sass.txt"
echo "kernels with their math instruction, over sm_${archs[*]}: IDP.4A ${want_count[IDP.4A]}," \
  "FFMA ${want_count[FFMA]}, IMMA.8816 ${want_count[IMMA.8816]}," \
  "IMMA.16832 ${want_count[IMMA.16832]} (sm_80 path compiled to a trap: ${want_count[trap]});" \
  "local memory: $(awk '{s += $5} END {print s + 0}' "$work/sass.txt")"
if [ "${want_count[IDP.4A]}" -ne $((12 * ${#archs[@]})) ] || [ "${want_count[FFMA]}" -ne $((3 * ${#archs[@]})) ]; then
  echo "FAIL: expected IDP.4A in 12 and FFMA in 3 kernels per architecture"
  status=1
fi
narch80=0
for a in "${archs[@]}"; do [ "$a" -ge 80 ] && narch80=$((narch80 + 1)); done
if [ "${want_count[IMMA.8816]}" -ne $((kernels_imma / 2 * ${#archs[@]})) ] ||
  [ "${want_count[IMMA.16832]}" -ne $((kernels_imma / 2 * narch80)) ] ||
  [ "${want_count[trap]}" -ne $((kernels_imma / 2 * (${#archs[@]} - narch80))) ]; then
  echo "FAIL: expected IMMA.8816 in the $((kernels_imma / 2)) sm_75-path gemm_imma kernels per architecture and" \
    "IMMA.16832 in the $((kernels_imma / 2)) sm_80-path ones per architecture from sm_80 on"
  status=1
fi
# Registers within the launch bound: threads per block from the tile (GemmTile<M, N, K, TM, TN>).
while read -r arch regs stack st ld fn; do
  # GemmTile<M, N, K, TM, TN>: one thread per TM x TN outputs; ImmaTile<M, N, K, WM, WN, S>: one warp per WM x WN.
  tile=$(echo "$fn" | demangle | sed -n 's/.*GemmTile<\([0-9]*\), \([0-9]*\), [0-9]*, \([0-9]*\), \([0-9]*\)>.*/\1 \2 \3 \4 1/p')
  [ -n "$tile" ] || tile=$(echo "$fn" | demangle |
    sed -n 's/.*ImmaTile<\([0-9]*\), \([0-9]*\), [0-9]*, \([0-9]*\), \([0-9]*\), [0-9]*>.*/\1 \2 \3 \4 32/p')
  if [ -z "$tile" ]; then
    echo "FAIL: no tile shape (launch bound) in the name of $fn"
    status=1
    continue
  fi
  read -r tm tn ttm ttn per <<<"$tile"
  threads=$(((tm / ttm) * (tn / ttn) * per))
  if [ "$regs" -gt 255 ] || [ $((regs * threads)) -gt 65536 ]; then
    echo "FAIL: $regs registers x $threads threads exceed the launch bound ($arch, $fn)"
    status=1
  fi
done <"$work/resources.txt"
[ "$status" -eq 0 ] && echo "PASS: all static checks"
exit "$status"

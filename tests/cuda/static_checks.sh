#!/usr/bin/env bash
# Static checks of the qmath CUDA kernels (registered with CTest as cuda_static_checks; needs nvcc, no GPU):
#   1. static_check_kernels.cu (every preset kernel) compiles for every architecture with warnings as errors;
#   2. ptxas -v reports 0 bytes spill stores / loads and no stack frame for every kernel and architecture
#      (the register table is printed; docs/cuda.md records it);
#   3. every DP4A kernel's PTX has its dp4a instructions inside a loop (a block that ends in a backward branch);
#   4. cuobjdump -sass shows IDP.4A in every DP4A kernel for every architecture.
# usage: static_checks.sh <nvcc> <cuobjdump> <source-root> <work-dir> <arch>...   (cuobjdump: a path or a name on PATH)
set -euo pipefail
nvcc=$1 cuobjdump=$2 root=$3 work=$4
shift 4
archs=("$@")
mkdir -p "$work"
src="$root/tests/cuda/static_check_kernels.cu"
flags=(-std=c++17 -I"$root/cuda" -I"$root/include" -Werror all-warnings -Xcompiler -Wall,-Wextra,-Werror)
gencode=()
for a in "${archs[@]}"; do gencode+=(-gencode "arch=compute_$a,code=sm_$a"); done
demangle() { if command -v c++filt >/dev/null; then c++filt; else cat; fi; }
status=0

echo "== 1+2. compile for sm_${archs[*]} with -Werror, ptxas -v"
"$nvcc" "${flags[@]}" "${gencode[@]}" -Xptxas -v -c -o "$work/kernels.o" "$src" >"$work/ptxas.log" 2>&1 || {
  cat "$work/ptxas.log"
  echo "FAIL: compilation (warnings are errors)"
  exit 1
}
# One line per (kernel, arch): arch regs stack spill_stores spill_loads kernel
awk -v q="'" '
  /Compiling entry function/ {
    s = $0; sub(".*function " q, "", s); fn = s; sub(q ".*", "", fn)
    arch = s; sub(".* for " q, "", arch); sub(q ".*", "", arch)
  }
  /bytes stack frame/ { stack = $1; st = $5; ld = $9 }
  /Used [0-9]+ registers/ { r = $0; sub(/.*Used /, "", r); sub(/ registers.*/, "", r); print arch, r, stack, st, ld, fn }
' "$work/ptxas.log" >"$work/resources.txt"
expected=$((15 * ${#archs[@]}))
found=$(wc -l <"$work/resources.txt")
if [ "$found" -ne "$expected" ]; then
  echo "FAIL: expected $expected (kernel, arch) entries in the ptxas output, found $found"
  status=1
fi
printf '%-6s %5s %6s %7s %7s  %s\n' arch regs stack spill_st spill_ld kernel
while read -r arch regs stack st ld fn; do
  short=$(echo "$fn" | demangle | sed -e 's/qmath::cuda:://g' -e 's/detail:://g' -e 's/GemmTnParams<.*//' \
    -e 's/(.*//')
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

echo "== 4. IDP.4A in the SASS of every DP4A kernel"
if ! command -v "$cuobjdump" >/dev/null 2>&1; then
  # The toolkit on this machine may be a minimal one without cuobjdump; the issue asks for this check only where it
  # is available. Say so loudly instead of passing silently.
  echo "NOT CHECKED: $cuobjdump not found, IDP.4A presence in SASS was not verified (steps 1-3 still apply)"
  [ "$status" -eq 0 ] && echo "PASS: static checks 1-3 (4 skipped: no cuobjdump)"
  exit "$status"
fi
"$cuobjdump" -sass "$work/kernels.o" >"$work/kernels.sass"
awk '
  /arch = sm_/ { arch = $3 }
  /Function :/ { fn = $3 }
  /IDP\.4A/ { if (fn ~ /Int8Math/) seen[arch " " fn] = 1 }
  END { for (k in seen) print k }
' "$work/kernels.sass" | sort >"$work/idp4a.txt"
for a in "${archs[@]}"; do
  c=$(grep -c "^sm_$a " "$work/idp4a.txt" || true)
  echo "sm_$a: $c DP4A kernels with IDP.4A"
  if [ "$c" -ne 12 ]; then
    echo "FAIL: expected 12 DP4A kernels with IDP.4A for sm_$a"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "PASS: all static checks"
exit "$status"

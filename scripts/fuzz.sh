#!/usr/bin/env bash
# Builds qmath's libFuzzer harnesses (tests/fuzz) with Clang + ASan + UBSan in their own build directory, then
#   scripts/fuzz.sh --regress              replays every seed corpus and kept regression input, then fuzzes each
#                                          harness for a few seconds (CI; exits non-zero on any crash or report);
#   scripts/fuzz.sh --run SECONDS [NAME..] fuzzes each harness (or the NAMEs) for SECONDS, one job each, niced.
#                                          Findings go to fuzz-findings/<name>/ (crash-*, leak-*, timeout-* inputs,
#                                          the log), the grown corpus to fuzz-findings/<name>/corpus, and a summary
#                                          with the execution count of every harness to fuzz-findings/summary.txt.
# Reproduce a finding: build-fuzz/tests/fuzz/<name> fuzz-findings/<name>/crash-<sha1>; keep it as a regression by
# copying it into tests/fuzz/regressions/<name>/ once fixed.
# Environment: QMATH_FUZZ_BUILD_DIR (default build-fuzz), QMATH_FUZZ_OUT (default fuzz-findings), CXX (clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMATH_FUZZ_BUILD_DIR:-build-fuzz}
out=${QMATH_FUZZ_OUT:-fuzz-findings}
all=(tensorrt_cache_fuzz npy_header_fuzz npy_file_fuzz qmw_fuzz array_api_fuzz calibrate_args_fuzz)
declare -A dict=([tensorrt_cache_fuzz]=tensorrt_cache [npy_header_fuzz]=npy [npy_file_fuzz]=npy [qmw_fuzz]=qmw [calibrate_args_fuzz]=calibrate_args)

mode=${1:-}
case "$mode" in
  --regress) shift; names=("${all[@]}") ;;
  --run)
    seconds=${2:?usage: scripts/fuzz.sh --run SECONDS [NAME...]}
    shift 2
    if (($#)); then names=("$@"); else names=("${all[@]}"); fi ;;
  *) echo "usage: scripts/fuzz.sh --regress | --run SECONDS [NAME...]" >&2; exit 2 ;;
esac

command -v "${CXX:-clang++}" >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/install-deps.sh)" >&2; exit 1; }
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DQMATH_BUILD_FUZZERS=ON -DQMATH_BUILD_TESTS=OFF -DQMATH_BUILD_BENCHMARKS=OFF -DQMATH_BUILD_EXAMPLES=OFF \
  -DQMATH_ENABLE_CUDA=OFF -DQMATH_INSTALL=OFF >/dev/null
cmake --build "$build" --target "${names[@]}" -j"${QMATH_FUZZ_JOBS:-2}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
dict_arg() { [[ -n "${dict[$1]:-}" ]] && echo "-dict=tests/fuzz/dict/${dict[$1]}.dict" || true; }

if [[ "$mode" == --regress ]]; then
  for n in "${names[@]}"; do
    exe="$build/tests/fuzz/$n"
    inputs=(tests/fuzz/corpus/"$n"/* )
    shopt -s nullglob
    regress=(tests/fuzz/regressions/"$n"/*)
    shopt -u nullglob
    ((${#regress[@]})) && inputs+=("${regress[@]}")
    echo "== $n: ${#inputs[@]} corpus and regression inputs"
    "$exe" "${inputs[@]}" >/dev/null 2>"$build/$n.replay.log" || { cat "$build/$n.replay.log" >&2; exit 1; }
    scratch=$(mktemp -d)
    cp tests/fuzz/corpus/"$n"/* "$scratch"/
    # A short fuzzing run on a scratch copy of the corpus (the checked-in corpus stays as it is).
    "$exe" $(dict_arg "$n") -max_total_time="${QMATH_FUZZ_REGRESS_SECONDS:-8}" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$build/$n-" -print_final_stats=1 "$scratch" 2>"$build/$n.fuzz.log" ||
      { rm -rf "$scratch"; tail -60 "$build/$n.fuzz.log" >&2; exit 1; }
    rm -rf "$scratch"
    grep -E "stat::number_of_executed_units" "$build/$n.fuzz.log" | sed "s/^/   /"
  done
  echo "fuzz.sh --regress: all harnesses clean"
  exit 0
fi

mkdir -p "$out"
summary="$out/summary.txt"
echo "qmath fuzz run $(date -u +%Y-%m-%dT%H:%MZ), ${seconds}s per harness, $(uname -m), $(nproc) cores" >"$summary"
status=0
for n in "${names[@]}"; do
  exe="$build/tests/fuzz/$n"
  dir="$out/$n"
  mkdir -p "$dir/corpus"
  cp -n tests/fuzz/corpus/"$n"/* "$dir/corpus"/ 2>/dev/null || true
  echo "== $n: fuzzing for ${seconds}s (log: $dir/log.txt)"
  set +e
  nice -n 10 "$exe" $(dict_arg "$n") -max_total_time="$seconds" -jobs=1 -workers=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir/" -print_final_stats=1 "$dir/corpus" >"$dir/log.txt" 2>&1
  rc=$?
  set -e
  # With -jobs=1 libFuzzer writes the worker's output to fuzz-0.log in the current directory.
  [[ -f fuzz-0.log ]] && { cat fuzz-0.log >>"$dir/log.txt"; rm -f fuzz-0.log; }
  runs=$(grep -Eo "stat::number_of_executed_units: [0-9]+" "$dir/log.txt" | tail -1 | grep -Eo "[0-9]+$" || echo "?")
  found=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' \
            -o -maxdepth 1 -name 'oom-*' | wc -l)
  echo "$n: $runs executions, $found finding(s), exit $rc" | tee -a "$summary"
  ((found == 0 && rc == 0)) || status=1
done
echo "summary: $summary"
exit $status

#!/usr/bin/env python3
"""Paired speed ratios from a Google Benchmark binary on a machine whose speed drifts.

Runs the binary `--rounds` times; each round runs the numerator and the denominator benchmark back to back (a short
process, so both see the same machine state), and the ratio of their counter (default GOPs, or items_per_second) is
taken within the round. Prints, per pair, the median ratio and the range of the middle half of the rounds. A ratio
from one round pair is far more stable than the ratio of two medians taken minutes apart on a shared machine.

Usage:
  scripts/bench_ratio.py BINARY NUM/SHAPE DEN/SHAPE [NUM/SHAPE DEN/SHAPE ...] [--rounds 15] [--counter GOPs]
Example:
  scripts/bench_ratio.py build/bench/cpu_gemm_bench qmath_fused_i8/1x768x768 onednn_s8s8_plus_requant/1x768x768
  scripts/bench_ratio.py build/bench/calibration_bench BM_FillKernel/2 BM_IncrementCeiling/0 --counter items_per_second
"""
import argparse
import json
import re
import statistics
import subprocess
import tempfile


def run_round(binary, names, counter, min_time):
    pattern = "^(" + "|".join(re.escape(n) for n in names) + ")(/|$)"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([binary, "--benchmark_filter=" + pattern, "--benchmark_min_time=%g" % min_time,
                        "--benchmark_out=" + out.name, "--benchmark_out_format=json"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data = json.load(open(out.name))
    values = {}
    for b in data["benchmarks"]:
        name = "/".join(b["name"].split("/")[:2])
        if counter in b:
            values[name] = b[counter]
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("names", nargs="+", help="numerator / denominator benchmark names (method/shape), in pairs")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--counter", default="GOPs")
    ap.add_argument("--min-time", type=float, default=0.1)
    args = ap.parse_args()
    if len(args.names) % 2:
        ap.error("benchmark names come in numerator / denominator pairs")
    pairs = list(zip(args.names[0::2], args.names[1::2]))
    for num, den in pairs:
        ratios, nums = [], []
        for _ in range(args.rounds):
            v = run_round(args.binary, [num, den], args.counter, args.min_time)
            if num not in v or den not in v:
                raise SystemExit("benchmark %s or %s did not run (check the names)" % (num, den))
            ratios.append(v[num] / v[den])
            nums.append(v[num])
        q = statistics.quantiles(ratios, n=4)
        print("%-45s / %-45s  ratio median %.2fx  middle half [%.2f, %.2f]  (%s of numerator: median %.3g)"
              % (num, den, statistics.median(ratios), q[0], q[2], args.counter, statistics.median(nums)))


if __name__ == "__main__":
    main()

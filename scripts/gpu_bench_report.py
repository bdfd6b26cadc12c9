#!/usr/bin/env python3
"""Per-shape throughput table and ratios from one run of bench/cuda_gemm_bench (Google Benchmark JSON).

usage: scripts/gpu_bench_report.py BENCH.json

Prints, for every shape (M x N x K), each kernel's TOPS (int8) or TFLOPS (fp32), then the ratios that compare like
with like within the same run: DP4A vs the FP32 SIMT kernel on the same tiles, each qmath kernel vs its vendor
baseline (cuBLAS SGEMM, cuBLASLt INT8 IMMA), and a qmath tensor-core kernel (a benchmark whose name starts with
"imma" or "tc_") vs cuBLASLt where the binary has one. A missing kernel leaves its cells empty.
"""
import collections
import json
import sys

# (numerator, denominator, what the ratio says)
RATIOS = [
    ("dp4a_int32", "fp32_simt", "DP4A / FP32 SIMT (same tiling)"),
    ("dp4a_int32", "cublas_sgemm", "DP4A / cuBLAS SGEMM"),
    ("fp32_simt", "cublas_sgemm", "FP32 SIMT / cuBLAS SGEMM"),
    ("dp4a_int32", "cublaslt_i8", "DP4A / cuBLASLt INT8"),
    ("dp4a_int8", "dp4a_int32", "fused requant epilogue / int32 out"),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data = json.load(open(sys.argv[1]))
    ctx = data.get("context", {})
    print(f"GPU: {ctx.get('gpu', '?')}   host: {ctx.get('host_name', '?')}   {ctx.get('date', '')}")
    table = collections.OrderedDict()
    kernels = []
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" or "error_occurred" in b and b["error_occurred"]:
            continue
        kernel = b["name"].split("/")[0]
        value = b.get("TOPS", b.get("TFLOPS"))
        if value is None:
            continue
        shape = b.get("label") or "/".join(b["name"].split("/")[1:4])
        table.setdefault(shape, {})[kernel] = value
        if kernel not in kernels:
            kernels.append(kernel)
    tc = [k for k in kernels if k.startswith(("imma", "tc_"))]
    ratios = RATIOS + [(k, "cublaslt_i8", f"{k} / cuBLASLt INT8") for k in tc]
    ratios = [r for r in ratios if r[0] in kernels and r[1] in kernels]

    print("\nT(FL)OPS (2*M*N*K / time; int8 kernels TOPS, fp32 TFLOPS)")
    w = max(12, max(len(k) for k in kernels) + 1)
    print(f"{'M x N x K':<20}" + "".join(f"{k:>{w}}" for k in kernels))
    for shape, row in table.items():
        print(f"{shape:<20}" + "".join(f"{row[k]:>{w}.2f}" if k in row else f"{'':>{w}}" for k in kernels))
    print("\nratios (same run)")
    print(f"{'M x N x K':<20}" + "".join(f"{i + 1:>8}" for i in range(len(ratios))))
    for shape, row in table.items():
        cells = []
        for num, den, _ in ratios:
            cells.append(f"{row[num] / row[den]:>7.2f}x" if num in row and den in row and row[den] else f"{'':>8}")
        print(f"{shape:<20}" + "".join(cells))
    for i, (_, _, what) in enumerate(ratios):
        print(f"  {i + 1}: {what}")


if __name__ == "__main__":
    main()

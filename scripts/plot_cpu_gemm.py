#!/usr/bin/env python3
"""Plots and tabulates cpu_gemm_bench results (Google Benchmark JSON) for docs/cpu-gemm.md.

Usage:
  build/bench/cpu_gemm_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
      --benchmark_min_time=0.1 --benchmark_out=cpu_gemm.json --benchmark_out_format=json
  /usr/bin/python3 scripts/plot_cpu_gemm.py cpu_gemm.json docs/cpu-gemm.png > table.md

With repetitions, the median of each benchmark is plotted (interleaving spreads a drifting machine's speed over
all methods). Needs matplotlib (Debian: python3-matplotlib). Writes the PNG and prints Markdown tables of GOP/s by shape and
method, with the ratios the issue's targets are stated in (INT8 / Eigen FP32, INT8 / oneDNN, fused / oneDNN+requant).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GEMM_METHODS = [
    ("qmath_s8s8_avx512vnni", "qmath s8s8 AVX-512 VNNI"),
    ("qmath_u8s8_avx512vnni", "qmath u8s8 AVX-512 VNNI"),
    ("qmath_s8s8_avxvnni", "qmath s8s8 AVX-VNNI"),
    ("qmath_s8s8_avx2", "qmath s8s8 AVX2"),
    ("qmath_s8s8_scalar", "qmath s8s8 scalar"),
    ("qmath_s8s8_oneshot", "qmath s8s8 one-shot (packs B)"),
    ("onednn_s8s8", "oneDNN gemm_s8s8s32"),
    ("onednn_u8s8", "oneDNN gemm_u8s8s32"),
    ("eigen_f32", "Eigen FP32"),
    ("reference", "qmath reference"),
]
FUSED_METHODS = [
    ("qmath_fused_i8", "qmath fused int8 epilogue (float scale)"),
    ("qmath_fused_i8_fixed", "qmath fused int8 epilogue (fixed point)"),
    ("onednn_s8s8_plus_requant", "oneDNN s8s8s32 + requant pass"),
]


def load(path):
    with open(path) as f:
        data = json.load(f)
    results = {}
    shapes = []
    medians = set()
    for b in data["benchmarks"]:
        if "GOPs" not in b:
            continue
        # With --benchmark_repetitions the median aggregate is used; otherwise the single iteration run.
        is_median = b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"
        if b.get("run_type", "iteration") != "iteration" and not is_median:
            continue
        method, shape = b.get("run_name", b["name"]).split("/")[:2]
        if (method, shape) in medians and not is_median:
            continue
        if is_median:
            medians.add((method, shape))
        results[(method, shape)] = b["GOPs"] / 1e9 if b["GOPs"] > 1e6 else b["GOPs"]
        if shape not in shapes:
            shapes.append(shape)
    # interleaved repetitions leave the JSON in random order: squares by size, then the rest by batch and layer size
    shapes.sort(key=lambda sh: tuple(int(v) for v in sh.split("x")))
    return data.get("context", {}), results, shapes


def is_square(shape):
    m, n, k = shape.split("x")
    return m == n == k


def table(results, shapes, methods, ratios):
    present = [(m, label) for m, label in methods if any((m, s) in results for s in shapes)]
    head = "| shape (MxNxK) | " + " | ".join(label for _, label in present)
    head += "".join(" | " + name for name, _, _ in ratios) + " |"
    lines = [head, "|" + "---|" * (1 + len(present) + len(ratios))]
    for s in shapes:
        if not any((m, s) in results for m, _ in present):
            continue
        cells = ["%.1f" % results[(m, s)] if (m, s) in results else "-" for m, _ in present]
        for _, num, den in ratios:
            ok = (num, s) in results and (den, s) in results
            cells.append("%.2fx" % (results[(num, s)] / results[(den, s)]) if ok else "-")
        lines.append("| %s | %s |" % (s, " | ".join(cells)))
    return "\n".join(lines)


def bars(ax, results, shapes, methods, title):
    present = [(m, label) for m, label in methods if any((m, s) in results for s in shapes)]
    width = 0.8 / max(1, len(present))
    for i, (m, label) in enumerate(present):
        xs = [j + i * width for j, s in enumerate(shapes) if (m, s) in results]
        ys = [results[(m, s)] for s in shapes if (m, s) in results]
        ax.bar(xs, ys, width, label=label)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(shapes))])
    ax.set_xticklabels(shapes, rotation=45, ha="right", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("GOP/s (2*M*N*K / s), log scale")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    context, results, shapes = load(sys.argv[1])
    squares = [s for s in shapes if is_square(s)]
    inference = [s for s in shapes if not is_square(s)]
    fused = [s for s in shapes if any((m, s) in results for m, _ in FUSED_METHODS)]
    fig, axes = plt.subplots(3, 1, figsize=(13, 15))
    bars(axes[0], results, squares, GEMM_METHODS, "Square GEMM, single thread")
    bars(axes[1], results, inference, GEMM_METHODS,
         "Inference shapes (batch x out x in fully connected; im2col 3x3 convolutions), single thread")
    bars(axes[2], results, fused, FUSED_METHODS,
         "int8 output with bias + per-channel scale + zero point + ReLU: fused vs separate pass")
    cpu = "%s x %s MHz" % (context.get("num_cpus", "?"), context.get("mhz_per_cpu", "?"))
    fig.suptitle("qmath CPU INT8 GEMM (cpu_gemm_bench, %s, %s)" % (cpu, context.get("date", "")), fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(sys.argv[2], dpi=90)
    ratios = [("VNNI / Eigen", "qmath_s8s8_avx512vnni", "eigen_f32"),
              ("VNNI / oneDNN", "qmath_s8s8_avx512vnni", "onednn_s8s8")]
    print(table(results, squares + inference, GEMM_METHODS, ratios))
    print()
    print(table(results, fused, FUSED_METHODS, [("fused / oneDNN+pass", "qmath_fused_i8", "onednn_s8s8_plus_requant"),
                                                 ("fixed / oneDNN+pass", "qmath_fused_i8_fixed",
                                                  "onednn_s8s8_plus_requant")]))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Plots one activation tensor's calibration histogram and the threshold (amax) each calibrator chose.

    build/examples/ptq_demo/qmath-ptq-demo --histogram hist.json --histogram-tensor relu1
    /usr/bin/python3 docs/plot_histogram.py hist.json docs/ptq_histogram.png

Needs python3-matplotlib (Debian). Input: the JSON written by qmath-ptq-demo --histogram.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        h = json.load(f)
    width = h["bin_width"]
    counts = h["counts"]
    edges = [i * width for i in range(len(counts) + 1)]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.stairs(counts, edges, fill=True, color="#9db4d6", label=f"|x| histogram ({h['total']:,} values)")
    ax.set_yscale("log")
    colors = {"minmax": "#d62728", "percentile": "#ff7f0e", "mse": "#2ca02c", "entropy": "#9467bd"}
    for i, (name, amax) in enumerate(h["thresholds"].items()):
        ax.axvline(amax, color=colors.get(name, "k"), linestyle=("-", "--", "-.", ":")[i % 4], linewidth=1.8,
                   label=f"{name}: amax = {amax:.3f}")
    ax.set_xlabel(f"|activation| of tensor '{h['tensor']}' (bin width {width:g})")
    ax.set_ylabel("count (log scale)")
    ax.set_title(f"Calibration histogram of '{h['tensor']}' and the threshold each calibrator chose")
    ax.legend(loc="upper center", bbox_to_anchor=(0.6, 1.0), fontsize=9)
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()

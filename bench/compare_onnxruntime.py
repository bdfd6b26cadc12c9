#!/usr/bin/env python3
"""qmath's u8s8 GEMM against ONNX Runtime's MatMulInteger (uint8 A x int8 B -> int32), one thread.

qmath figures come from cpu_gemm_bench's JSON output (benchmark qmath_u8s8_<isa>/MxNxK, GOP/s from CPU time);
ONNX Runtime runs MatMulInteger on the same shapes (B a constant initializer, so it is packed once like qmath's
PackedB; zero points 0) in a session with one intra-op thread, timed here (median of --repeats runs of --iters
calls, per-call session overhead included). Prints GOP/s of both and qmath/ORT per shape. Run the two close together:
on a shared machine only ratios taken at the same time mean much.

Without onnxruntime, numpy and onnx importable it prints why and exits 0. Install them into a venv, for example:
  python3 -m venv /work/venv-ort && /work/venv-ort/bin/pip install onnxruntime numpy onnx
Usage:
  build/bench/cpu_gemm_bench --benchmark_filter='^qmath_u8s8_' --benchmark_out=qmath.json \
      --benchmark_out_format=json
  /work/venv-ort/bin/python bench/compare_onnxruntime.py qmath.json [--isa avx2] [--shapes 1x768x3072,...]
"""
import argparse
import json
import re
import statistics
import sys
import time


def load_qmath(path, isa):
    """{(m, n, k): GOP/s} of qmath_u8s8_<isa>/MxNxK (the median when repetitions are present)."""
    data = json.load(open(path))
    found = {}
    pattern = re.compile(r"^qmath_u8s8_%s/(\d+)x(\d+)x(\d+)(/|$)" % re.escape(isa))
    for b in data["benchmarks"]:
        m = pattern.match(b["name"])
        if not m or "GOPs" not in b or b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        found.setdefault(tuple(int(x) for x in m.groups()[:3]), []).append(b["GOPs"])
    return {s: statistics.median(v) for s, v in found.items()}


def ort_gops(ort, np, onnx, m, n, k, iters, repeats):
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, size=(m, k), dtype=np.uint8)
    b = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["A", "B"], ["Y"])], "mmi",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])],
        initializer=[numpy_helper.from_array(b, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = min(model.ir_version, 8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feed = {"A": a}
    y = sess.run(None, feed)[0]
    exact = a.astype(np.int64) @ b.astype(np.int64)
    saturated = int(np.count_nonzero(y != exact))
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(iters):
            sess.run(None, feed)
        times.append((time.process_time() - t0) / iters)
    return 2.0 * m * n * k / statistics.median(times) / 1e9, saturated


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("qmath_json")
    ap.add_argument("--isa", default="avx2", help="qmath path whose qmath_u8s8_<isa> figures to use")
    ap.add_argument("--shapes", default="", help="comma-separated MxNxK (default: every shape in the JSON)")
    ap.add_argument("--iters", type=int, default=0, help="calls per timing (default: about 0.1 s worth)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        print("compare_onnxruntime: skipped, %s (pip install onnxruntime numpy onnx into a venv)" % e)
        return 0
    qmath = load_qmath(args.qmath_json, args.isa)
    if args.shapes:
        shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]
    else:
        shapes = sorted(qmath)
    print("onnxruntime %s, MatMulInteger uint8 x int8 -> int32, 1 thread; qmath_u8s8_%s from %s"
          % (ort.__version__, args.isa, args.qmath_json))
    print("%-16s %12s %12s %10s %s" % ("MxNxK", "qmath GOP/s", "ORT GOP/s", "qmath/ORT", "ORT results != exact"))
    for s in shapes:
        if s not in qmath:
            print("%-16s no qmath_u8s8_%s figure in the JSON" % ("x".join(map(str, s)), args.isa))
            continue
        m, n, k = s
        iters = args.iters or max(1, int(0.1 * 50e9 / (2.0 * m * n * k)))
        gops, saturated = ort_gops(ort, np, onnx, m, n, k, iters, args.repeats)
        print("%-16s %12.1f %12.1f %9.2fx %d of %d" % ("x".join(map(str, s)), qmath[s], gops, qmath[s] / gops,
                                                       saturated, m * n))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""qmath's u8s8 GEMMs against ONNX Runtime's integer MatMuls, one thread, per shape.

Three operators, each against its qmath counterpart from cpu_gemm_bench (GOP/s from CPU time):
  MatMulInteger          uint8 A x int8 B -> int32              qmath_u8s8_<isa>/MxNxK (exact)
    (op matmulinteger_sat: the same ORT figure against qmath_u8s8_avx2_saturating/MxNxK, GemmOptions::
    saturate_int16_pairs, the int16-saturating pair arithmetic of MLAS's AVX2 u8s8 kernel: the same function as ORT's
    on an AVX2 machine without VNNI, bit for bit (--dump), where the exact path computes a different one)
  MatMulIntegerToFloat   uint8 A x int8 B -> float              qmath_u8s8_f32out/MxNxK
    (com.microsoft; Y = (A - a_zp)(B - b_zp) * a_scale * b_scale[n], a_zp 128, b_zp 0, per-column b_scale, no bias)
    (--dump also checks agreement with a float bias: Y = f32(f32(acc * f32(a_scale * b_scale[n])) + bias[n]))
  DynamicQuantizeMatMul  float A x int8 B -> float              qmath_dynquant_f32/MxNxK
    (com.microsoft; A quantized in every call with ONNX DynamicQuantizeLinear's uint8 parameters, then as above)
  (ops integertofloat_sat, dynquant_sat: those two ORT figures against qmath_u8s8_f32out_saturating and
  qmath_dynquant_f32_saturating, the same compositions with saturate_int16_pairs: ORT's function on AVX2, as above)
onednn_f32/MxNxK (dnnl_sgemm) is printed beside them as the FP32 anchor when the JSON has it.

ONNX Runtime runs each operator alone in a session with one intra-op thread and the default graph optimisations
(what an ORT user gets), B and the scales as constant initializers (so B is packed once, like qmath's PackedB); each
is timed here (median of --repeats runs of --iters calls, per-call session overhead included). Run the qmath
benchmark and this script close together (--bench runs it from here): on a shared machine only ratios taken at the
same time mean much.

Agreement (--dump, the dynamic_quant_matmul_dump program built beside cpu_gemm_bench): per shape, the same float A
and int8 B go through qmath's DynamicQuantizeMatMul composition (bench/dynamic_quant_matmul.hpp) and through ORT's
DynamicQuantizeLinear, DynamicQuantizeMatMul and MatMulIntegerToFloat (on qmath's quantized A), without and with a
float bias input (one line each; the bias in [-3, 3), as bench/dynamic_quant_matmul.hpp's). Printed: whether A's
scale, zero point and quantized values are bit-identical, and for Y the count of elements whose bits differ from
qmath's exact result and from qmath's saturate_int16_pairs result (the VPMADDUBSW arithmetic of MLAS's AVX2 u8s8
kernels), with the largest difference relative to max |Y|.

Without onnxruntime, numpy and onnx importable it prints why and exits 0. Install them into a venv, for example:
  python3 -m venv /work/venv-ort && /work/venv-ort/bin/pip install onnxruntime numpy onnx
Usage:
  build/bench/cpu_gemm_bench --benchmark_filter='^(qmath_u8s8_avx2|qmath_u8s8_f32out|qmath_dynquant_f32|onednn_f32)/' \
      --benchmark_out=qmath.json --benchmark_out_format=json
  /work/venv-ort/bin/python bench/compare_onnxruntime.py qmath.json [--isa avx2] [--shapes 1x768x3072,...] \
      [--ops matmulinteger,integertofloat,dynquant] [--dump build/bench/dynamic_quant_matmul_dump]
  /work/venv-ort/bin/python bench/compare_onnxruntime.py --bench build/bench/cpu_gemm_bench --shapes ... (runs the
      qmath benchmark for those shapes and operators first, writing qmath.json's equivalent to a temporary file)
  ... --bench build/bench/cpu_gemm_bench --shapes ... --rounds 5 (paired: per round and shape, the qmath benchmarks
      of that shape and then ORT's operators run back to back, and the ratio is taken within the round; printed: the
      median ratio, the middle half of the rounds and the median GOP/s. On a machine whose speed drifts, only these
      paired ratios are stable; the unpaired form times all of qmath first and ORT minutes later)
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# op key -> (ORT operator, qmath benchmark name with %s for the isa where it has one, label)
OPS = {
    "matmulinteger": ("MatMulInteger", "qmath_u8s8_%s", "MatMulInteger"),
    "matmulinteger_sat": ("MatMulInteger", "qmath_u8s8_avx2_saturating", "MatMulInteger (sat16)"),
    "integertofloat": ("MatMulIntegerToFloat", "qmath_u8s8_f32out", "MatMulIntegerToFloat"),
    "dynquant": ("DynamicQuantizeMatMul", "qmath_dynquant_f32", "DynamicQuantizeMatMul"),
    "integertofloat_sat": ("MatMulIntegerToFloat", "qmath_u8s8_f32out_saturating", "MatMulIntegerToFloat (sat16)"),
    "dynquant_sat": ("DynamicQuantizeMatMul", "qmath_dynquant_f32_saturating", "DynamicQuantizeMatMul (sat16)"),
}
A_SCALE, A_ZERO_POINT = 0.02, 128  # MatMulIntegerToFloat's A parameters (the qmath benchmark uses the same)


def load_bench(path):
    """{(name, (m, n, k)): GOP/s} of every <name>/MxNxK benchmark (the median when repetitions are present)."""
    data = json.load(open(path))
    found = {}
    pattern = re.compile(r"^([A-Za-z0-9_]+)/(\d+)x(\d+)x(\d+)(/|$)")
    for b in data["benchmarks"]:
        m = pattern.match(b["name"])
        if not m or "GOPs" not in b or b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        found.setdefault((m.group(1), tuple(int(x) for x in m.groups()[1:4])), []).append(b["GOPs"])
    return {key: statistics.median(v) for key, v in found.items()}


def operands(np, m, n, k):
    rng = np.random.default_rng(1)
    return {
        "a_u8": rng.integers(0, 256, size=(m, k), dtype=np.uint8),
        "x": rng.uniform(-1.75, 4.5, size=(m, k)).astype(np.float32),
        "b": rng.integers(-128, 128, size=(k, n), dtype=np.int8),
        "b_scale": rng.uniform(1e-3, 2e-2, size=(n,)).astype(np.float32),
        "bias": rng.uniform(-3.0, 3.0, size=(n,)).astype(np.float32),
    }


def session(ort, onnx, op, m, n, k, ops, a_scale=A_SCALE, a_zero_point=A_ZERO_POINT, bias=False):
    """A one-node session of `op` for M x K A and the constant K x N B of `ops` (and its float bias, with bias=True:
    MatMulIntegerToFloat and DynamicQuantizeMatMul only), one intra-op thread."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    init = [numpy_helper.from_array(ops["b"], "B")]
    if op == "MatMulInteger":
        node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    elif op == "MatMulIntegerToFloat":
        init += [numpy_helper.from_array(np.array(a_scale, dtype=np.float32), "AS"),
                 numpy_helper.from_array(ops["b_scale"], "BS"),
                 numpy_helper.from_array(np.array(a_zero_point, dtype=np.uint8), "AZ")]
        inputs = ["A", "B", "AS", "BS", "AZ"] + (["", "BIAS"] if bias else [])
        node = helper.make_node("MatMulIntegerToFloat", inputs, ["Y"], domain="com.microsoft")
        a_type, y_type = TensorProto.UINT8, TensorProto.FLOAT
    elif op == "DynamicQuantizeMatMul":
        init += [numpy_helper.from_array(ops["b_scale"], "BS")]
        inputs = ["A", "B", "BS"] + (["", "BIAS"] if bias else [])
        node = helper.make_node("DynamicQuantizeMatMul", inputs, ["Y"], domain="com.microsoft")
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    elif op == "DynamicQuantizeLinear":
        node = helper.make_node("DynamicQuantizeLinear", ["A"], ["Y", "YS", "YZ"])
        init = []
        a_type, y_type = TensorProto.FLOAT, TensorProto.UINT8
    else:
        raise ValueError(op)
    if bias:
        init.append(numpy_helper.from_array(ops["bias"], "BIAS"))
    outputs = [helper.make_tensor_value_info("Y", y_type, [m, n] if op != "DynamicQuantizeLinear" else [m, k])]
    if op == "DynamicQuantizeLinear":
        outputs += [helper.make_tensor_value_info("YS", TensorProto.FLOAT, []),
                    helper.make_tensor_value_info("YZ", TensorProto.UINT8, [])]
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("A", a_type, [m, k])], outputs,
                              initializer=init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = min(model.ir_version, 8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def qmath_name(o, isa):
    """The qmath benchmark name of op key `o` for the path `isa`."""
    name = OPS[o][1]
    return name % isa if "%s" in name else name


def ort_iters(args, m, n, k):
    """ORT calls per timing: --iters, or about 0.1 s worth."""
    return args.iters or max(1, int(0.1 * 50e9 / (2.0 * m * n * k)))


def ort_gops(ort, np, onnx, op, m, n, k, iters, repeats, count_inexact=True):
    """GOP/s of `op` and, for MatMulInteger with count_inexact, the count of outputs that differ from the exact
    product (else None)."""
    ops = operands(np, m, n, k)
    sess = session(ort, onnx, op, m, n, k, ops)
    feed = {"A": ops["x"] if op == "DynamicQuantizeMatMul" else ops["a_u8"]}
    y = sess.run(None, feed)[0]
    inexact = None
    if op == "MatMulInteger" and count_inexact:
        inexact = int(np.count_nonzero(y != ops["a_u8"].astype(np.int64) @ ops["b"].astype(np.int64)))
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        for _ in range(iters):
            sess.run(None, feed)
        times.append((time.process_time() - t0) / iters)
    return 2.0 * m * n * k / statistics.median(times) / 1e9, inexact


def agreement(ort, np, onnx, dump, m, n, k, bias):
    """One line comparing qmath's DynamicQuantizeMatMul composition with ORT's on the same operands."""
    ops = operands(np, m, n, k)
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name) for name in ("x.f32", "b.s8", "bs.f32", "bias.f32")}
        ops["x"].tofile(paths["x.f32"])
        ops["b"].tofile(paths["b.s8"])
        ops["b_scale"].tofile(paths["bs.f32"])
        ops["bias"].tofile(paths["bias.f32"])
        out = os.path.join(d, "y")
        run = subprocess.run([dump, str(m), str(n), str(k), paths["x.f32"], paths["b.s8"], paths["bs.f32"], out]
                             + ([paths["bias.f32"]] if bias else []), capture_output=True, text=True, check=True)
        scale_text, zp_text = run.stdout.split()
        a_scale, a_zp = np.float32(float(scale_text)), int(zp_text)
        a_q = np.fromfile(out + ".a_q.u8", dtype=np.uint8).reshape(m, k)
        exact = np.fromfile(out + ".exact.f32", dtype=np.float32).reshape(m, n)
        saturating = np.fromfile(out + ".saturating.f32", dtype=np.float32).reshape(m, n)
    q, qs, qz = session(ort, onnx, "DynamicQuantizeLinear", m, n, k, ops).run(None, {"A": ops["x"]})
    params_same = np.float32(qs) == a_scale and int(qz) == a_zp and np.array_equal(q, a_q)
    dq = session(ort, onnx, "DynamicQuantizeMatMul", m, n, k, ops, bias=bias).run(None, {"A": ops["x"]})[0]
    itf = session(ort, onnx, "MatMulIntegerToFloat", m, n, k, ops, a_scale, a_zp, bias).run(None, {"A": a_q})[0]
    scale = float(np.max(np.abs(exact))) or 1.0

    def diff(y, ref):
        bits = int(np.count_nonzero(y.view(np.uint32) != ref.view(np.uint32)))
        return "%d %.1e" % (bits, float(np.max(np.abs(y.astype(np.float64) - ref))) / scale)

    return "%-5s %-17s %-17s %-17s %-17s" % ("yes" if params_same else "NO", diff(dq, exact), diff(dq, saturating),
                                             diff(itf, exact), diff(itf, saturating))


def run_bench(bench, shapes, isa, ops):
    names = [qmath_name(o, isa) for o in ops] + ["onednn_f32"]
    shape_re = "|".join("x".join(map(str, s)) for s in shapes)
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    subprocess.run([bench, "--benchmark_filter=^(%s)/(%s)/" % ("|".join(names), shape_re),
                    "--benchmark_out=" + out, "--benchmark_out_format=json"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return out


def paired_rounds(ort, np, onnx, args, shapes, ops):
    """--rounds: per round and shape, qmath's benchmarks then ORT's operators; ratios taken within the round."""
    ratios, qg, og = {}, {}, {}  # (shape, op key) -> lists over rounds
    for _ in range(args.rounds):
        for s in shapes:
            m, n, k = s
            path = run_bench(args.bench, [s], args.isa, ops)
            qmath = load_bench(path)
            os.unlink(path)
            timed = {}
            for o in ops:
                op, qname = OPS[o][0], qmath_name(o, args.isa)
                if (qname, s) not in qmath:
                    continue
                if op not in timed:
                    timed[op] = ort_gops(ort, np, onnx, op, m, n, k, ort_iters(args, m, n, k), args.repeats,
                                         count_inexact=False)[0]
                q = qmath[(qname, s)]
                ratios.setdefault((s, o), []).append(q / timed[op])
                qg.setdefault((s, o), []).append(q)
                og.setdefault((s, o), []).append(timed[op])
    print("onnxruntime %s, 1 intra-op thread; %d paired rounds (qmath then ORT per shape and round)"
          % (ort.__version__, args.rounds))
    print("%-16s %-22s %11s %11s %10s  %s" % ("MxNxK", "op (qmath arithmetic)", "qmath GOP/s", "ORT GOP/s",
                                             "qmath/ORT", "middle half"))
    for s in shapes:
        for o in ops:
            r = ratios.get((s, o))
            if not r:
                print("%-16s %-22s no qmath figure" % ("x".join(map(str, s)), OPS[o][2]))
                continue
            r = sorted(r)
            lo, hi = r[len(r) // 4], r[(3 * len(r) - 1) // 4]
            print("%-16s %-22s %11.1f %11.1f %9.2fx  [%.2f, %.2f]" % (
                "x".join(map(str, s)), OPS[o][2], statistics.median(qg[(s, o)]), statistics.median(og[(s, o)]),
                statistics.median(r), lo, hi))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("qmath_json", nargs="?", help="cpu_gemm_bench JSON output (or use --bench)")
    ap.add_argument("--bench", help="cpu_gemm_bench to run first for --shapes (instead of a JSON file)")
    ap.add_argument("--isa", default="avx2", help="qmath path whose qmath_u8s8_<isa> figures MatMulInteger uses")
    ap.add_argument("--shapes", default="", help="comma-separated MxNxK (default: every shape in the JSON)")
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated, of: " + ", ".join(OPS))
    ap.add_argument("--dump", help="dynamic_quant_matmul_dump program: also check agreement with ORT per shape")
    ap.add_argument("--iters", type=int, default=0, help="calls per timing (default: about 0.1 s worth)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=0, help="with --bench: paired rounds (see above)")
    args = ap.parse_args()
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
    except ImportError as e:
        print("compare_onnxruntime: skipped, %s (pip install onnxruntime numpy onnx into a venv)" % e)
        return 0
    ops = [o for o in args.ops.split(",") if o]
    for o in ops:
        if o not in OPS:
            ap.error("unknown op %r (known: %s)" % (o, ", ".join(OPS)))
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",") if s]
    if args.rounds < 0 or args.rounds and not args.bench:
        ap.error("--rounds takes a count >= 1 and needs --bench (paired rounds run the benchmark)")
    if args.bench:
        if not shapes:
            ap.error("--bench needs --shapes")
        if args.rounds > 0:
            return paired_rounds(ort, np, onnx, args, shapes, ops)
        args.qmath_json = run_bench(args.bench, shapes, args.isa, ops)
    elif not args.qmath_json:
        ap.error("give a cpu_gemm_bench JSON file or --bench")
    qmath = load_bench(args.qmath_json)
    if not shapes:
        shapes = sorted({s for (name, s) in qmath if any(name == qmath_name(o, args.isa) for o in ops)})
    print("onnxruntime %s, 1 intra-op thread; qmath from %s (MatMulInteger against qmath_u8s8_%s)"
          % (ort.__version__, args.qmath_json, args.isa))
    print("%-16s %-22s %11s %11s %10s %11s  %s" % ("MxNxK", "op (qmath arithmetic)", "qmath GOP/s", "ORT GOP/s", "qmath/ORT",
                                                  "oneDNN f32", "ORT MatMulInteger results != exact"))
    for s in shapes:
        m, n, k = s
        name = "x".join(map(str, s))
        f32 = qmath.get(("onednn_f32", s))
        timed = {}  # ORT operator -> (GOP/s, inexact): one timing per operator and shape
        for o in ops:
            op, label, qname = OPS[o][0], OPS[o][2], qmath_name(o, args.isa)
            if (qname, s) not in qmath:
                print("%-16s %-22s no %s figure in the JSON" % (name, label, qname))
                continue
            if op not in timed:
                timed[op] = ort_gops(ort, np, onnx, op, m, n, k, ort_iters(args, m, n, k), args.repeats)
            gops, inexact = timed[op]
            q = qmath[(qname, s)]
            print("%-16s %-22s %11.1f %11.1f %9.2fx %11s  %s" % (
                name, label, q, gops, q / gops, "%.1f" % f32 if f32 else "-",
                "%d of %d" % (inexact, m * n) if inexact is not None else ""))
    if args.dump:
        print()
        print("Agreement, qmath DynamicQuantizeMatMul composition vs ORT on the same float A and int8 B (A in "
              "[-1.75, 4.5), per-column b_scale): A params/values bit-identical; then 'elements whose bits differ, "
              "max |diff| / max |Y|' of ORT's Y against qmath exact and qmath saturate_int16_pairs")
        print("%-16s %-5s %-5s %-17s %-17s %-17s %-17s" % ("MxNxK", "bias", "A", "DQMatMul/exact", "DQMatMul/saturat.",
                                                           "IntToFloat/exact", "IntToFloat/saturat."))
        for s in shapes:
            for bias in (False, True):
                print("%-16s %-5s %s" % ("x".join(map(str, s)), "yes" if bias else "no",
                                         agreement(ort, np, onnx, args.dump, *s, bias=bias)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Generates the conformance vectors under tests/formats/data/ for tests/{fp8,int4,mx}_test.cpp.

Sources: the ONNX reference implementation (onnx.reference, QuantizeLinear/DequantizeLinear/Cast, opset 21),
ml_dtypes (FP8/FP6/FP4/E8M0 conversions), and ONNX Runtime's C++ MatMulNBits quantizer binding
(onnxruntime.capi._pybind_state.quantize_matmul_4bits). Where the reference implementation and the ONNX operator
text disagree, the text wins: each such case is listed in KNOWN_DISAGREEMENTS, overridden here and counted on stdout.

Format of each data file: one record per line, `tag hex hex ...` (whitespace separated, hexadecimal words: float32
values as their bit patterns, integers as two's complement 32-bit words); `#` starts a comment line.

Regenerate (see docs/formats.md):
  python3 -m venv /work/venv-fmt && /work/venv-fmt/bin/pip install ml_dtypes onnx numpy onnxruntime
  /work/venv-fmt/bin/python tests/formats/gen_vectors.py
"""
import os
import sys

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from onnx.reference.ops.op_cast import cast_to

F32 = np.float32
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
RNG = np.random.default_rng(20261206)

FP8 = [  # index = qmath::Fp8Format
    ("E4M3FN", TensorProto.FLOAT8E4M3FN, ml_dtypes.float8_e4m3fn),
    ("E5M2", TensorProto.FLOAT8E5M2, ml_dtypes.float8_e5m2),
    ("E4M3FNUZ", TensorProto.FLOAT8E4M3FNUZ, ml_dtypes.float8_e4m3fnuz),
    ("E5M2FNUZ", TensorProto.FLOAT8E5M2FNUZ, ml_dtypes.float8_e5m2fnuz),
]

KNOWN_DISAGREEMENTS = {
    "fnuz_inf_saturate": "Cast/QuantizeLinear to E4M3FNUZ/E5M2FNUZ with saturate=1: the spec table maps +-Inf to "
    "NaN; onnx.reference clips to +-FLT_MAX first (numpy_helper.saturate_cast = np.clip + astype).",
    "int4_quotient_overflow": "QuantizeLinear to INT4/UINT4 with |x / scale| >= 2^31 (or +-Inf): the spec saturates; "
    "onnx.reference casts np.rint(x) to int32 first (undefined, numpy gives INT32_MIN) and then clips.",
    "int4_nan": "QuantizeLinear to INT4/UINT4 of NaN: the spec says nothing; onnx.reference gives the int32 cast of "
    "NaN (INT32_MIN) clipped to qmin; qmath maps NaN to the zero point (as its INT8 path does).",
}
overrides = {k: 0 for k in KNOWN_DISAGREEMENTS}


def fbits(v):
    return int(np.asarray(v, dtype=F32).view(np.uint32))


def hexs(words):
    return " ".join("%x" % (int(w) & 0xFFFFFFFF) for w in words)


def fhex(arr):
    return hexs(np.asarray(arr, dtype=F32).ravel().view(np.uint32))


def run_node(op, inputs, attrs, inits, out_type, out_shape=None):
    """Runs one ONNX node (opset 21) through the reference evaluator. inputs: list of (name, np.ndarray)."""
    in_vi = [helper.make_tensor_value_info(n, numpy_helper.from_array(a).data_type, a.shape) for n, a in inputs]
    node = helper.make_node(op, [n for n, _ in inputs] + [t.name for t in inits], ["y"], **attrs)
    out = helper.make_tensor_value_info("y", out_type, out_shape)
    graph = helper.make_graph([node], "g", in_vi, [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    with np.errstate(over="ignore", invalid="ignore"):  # quotients that overflow float32 are part of the vectors
        return ReferenceEvaluator(model).run(None, dict(inputs))[0]


# ---------------------------------------------------------------------------------------------------- FP8 ----------
def fp8_edge_values(np_t):
    """Every representable value, every midpoint (ties) and its float32 neighbours, max and beyond, specials."""
    codes = np.arange(256, dtype=np.uint8).view(np_t).astype(F32)
    pos = np.unique(codes[np.isfinite(codes) & (codes >= 0)])
    mids = ((pos[:-1].astype(np.float64) + pos[1:]) / 2).astype(F32)  # exact: fewer than 24 significant bits
    top = pos[-1]
    ulp_next = F32(2.0) ** (np.floor(np.log2(top)) - (3 if np_t in (ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e4m3fnuz) else 2))
    beyond = np.array([top + ulp_next / 2, top + ulp_next, top * 2, 1e30, np.finfo(F32).max], dtype=F32)
    vals = np.concatenate([pos, mids, np.nextafter(mids, F32(np.inf)), np.nextafter(mids, F32(0)), beyond,
                           np.nextafter(beyond, F32(0)), pos[1:2] / 2, pos[1:2] / 4, pos[1:2] / 2 * F32(1.0000001),
                           np.array([1e-45, 1e-40, 1.1754942e-38, 1e-30], dtype=F32)])
    vals = np.concatenate([vals, -vals, np.array([np.inf, -np.inf, np.nan, -np.nan, 0.0, -0.0], dtype=F32)])
    rnd = (RNG.standard_normal(100) * np.exp2(RNG.integers(-20, 20, 100))).astype(F32)
    return np.concatenate([vals, rnd]).astype(F32)


def spec_fp8_override(x, codes, fi, saturate):
    """Applies the ONNX Cast table where onnx.reference departs from it (KNOWN_DISAGREEMENTS)."""
    codes = codes.copy()
    if fi >= 2 and saturate:
        m = np.isinf(x) & (codes != 0x80)
        overrides["fnuz_inf_saturate"] += int(m.sum())
        codes[m] = 0x80
    return codes


def gen_fp8(lines):
    for fi, (name, tp, np_t) in enumerate(FP8):
        codes = np.arange(256, dtype=np.uint8)
        vals = codes.view(np_t).astype(F32)
        lines.append("# %s: decode of every code (code, float32 bits)" % name)
        for c, v in zip(codes, vals):
            lines.append("dec %x %s" % (fi, hexs([c, fbits(v)])))
        x = fp8_edge_values(np_t)
        for sat in (1, 0):
            ref = cast_to(x, tp, saturate=bool(sat)).view(np.uint8)
            mld = (np.clip(x, -float(ml_dtypes.finfo(np_t).max), float(ml_dtypes.finfo(np_t).max)) if sat else x).astype(np_t).view(np.uint8)
            assert (ref == mld).all(), name  # the reference is ml_dtypes (after np.clip when saturating)
            exp = spec_fp8_override(x, ref, fi, sat)
            lines.append("# %s saturate=%d: Cast (x bits, code)" % (name, sat))
            for xv, c in zip(x, exp):
                lines.append("c %x %x %s" % (fi, sat, hexs([fbits(xv), c])))


def gen_fp8_quant(lines):
    for fi, (name, tp, np_t) in enumerate(FP8):
        codes = np.arange(256, dtype=np.uint8)
        x = fp8_edge_values(np_t)
        # QuantizeLinear / DequantizeLinear per tensor, several scales (a power of two, amax-based, odd ones).
        mx = float(ml_dtypes.finfo(np_t).max)
        for si, scale in enumerate([F32(0.5), F32(7.25 / mx), F32(1e30)]):
            xs = np.concatenate([x[si::6], (RNG.standard_normal(32) * 8).astype(F32)]).astype(F32)
            zp = numpy_helper.from_array(np.zeros((), dtype=np_t), "zp")
            for sat in (1, 0):
                q = run_node("QuantizeLinear", [("x", xs), ("s", np.array(scale, dtype=F32))], {"saturate": sat},
                             [zp], tp).view(np.uint8)
                with np.errstate(over="ignore"):
                    q = spec_fp8_override((xs / scale).astype(F32), q, fi, sat)
                for xv, c in zip(xs, q):
                    lines.append("q %x %x %s" % (fi, sat, hexs([fbits(scale), fbits(xv), c])))
            if si == 2:
                continue
            d = run_node("DequantizeLinear", [("c", codes.view(np_t)), ("s", np.array(scale, dtype=F32))], {}, [zp],
                         TensorProto.FLOAT)
            for c, y in zip(codes, d):
                lines.append("dq %x %s" % (fi, hexs([fbits(scale), c, fbits(y)])))
        # Per axis: shape (2, 3, 5), axis 1.
        xa = (RNG.standard_normal((2, 3, 5)) * 100).astype(F32)
        sa = np.array([0.5, 0.03125, 0.3], dtype=F32)
        zpa = numpy_helper.from_array(np.zeros(3, dtype=np_t), "zp")
        qa = run_node("QuantizeLinear", [("x", xa), ("s", sa)], {"axis": 1, "saturate": 1}, [zpa], tp).view(np.uint8)
        da = run_node("DequantizeLinear", [("c", qa.view(np_t)), ("s", sa)], {"axis": 1}, [zpa], TensorProto.FLOAT)
        lines.append("pa %x %s" % (fi, hexs([2, 3, 5, 1])))
        lines.append("pax " + fhex(xa))
        lines.append("pas " + fhex(sa))
        lines.append("paq " + hexs(qa.ravel()))
        lines.append("pad " + fhex(da))


# ---------------------------------------------------------------------------------------------------- INT4 ---------
def int4_spec_fix(xq, ref, signed, zp):
    """Spec saturation where the reference's int32 cast overflows; NaN -> zero point (KNOWN_DISAGREEMENTS)."""
    lo, hi = (-8, 7) if signed else (0, 15)
    out = ref.astype(np.int64).copy()
    big = ~np.isnan(xq) & (np.abs(xq) >= 2.0 ** 31)
    want = np.where(xq > 0, hi, lo)
    fix = big & (out != want)
    overrides["int4_quotient_overflow"] += int(fix.sum())
    out[big] = want[big]
    nan = np.isnan(xq)
    fixn = nan & (out != zp)
    overrides["int4_nan"] += int(fixn.sum())
    out[nan] = np.broadcast_to(zp, out.shape)[nan] if np.ndim(zp) else zp
    return out


def pack_nibbles(vals):
    v = np.asarray(vals, dtype=np.int64).ravel() & 0xF
    if v.size % 2:
        v = np.append(v, 0)
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def gen_int4(lines):
    for signed in (1, 0):
        np_t = ml_dtypes.int4 if signed else ml_dtypes.uint4
        tp = TensorProto.INT4 if signed else TensorProto.UINT4
        for scale, zp in [(F32(1.0), 0), (F32(0.25), 3 if signed else 8), (F32(0.1), -2 if signed else 15),
                          (F32(3e-39), 0)]:
            k = np.arange(-20, 21, dtype=F32)
            x = np.concatenate([k * scale, (k + F32(0.5)) * scale, np.nextafter((k + F32(0.5)) * scale, F32(np.inf)),
                                np.array([np.inf, -np.inf, np.nan, 1e30, -1e30, 3e9, -3e9, 0.0, -0.0], dtype=F32),
                                (RNG.standard_normal(60) * 5 * scale).astype(F32)]).astype(F32)
            with np.errstate(all="ignore"):
                ref = run_node("QuantizeLinear", [("x", x), ("s", np.array(scale, dtype=F32))], {},
                               [numpy_helper.from_array(np.array(zp, dtype=np_t), "zp")], tp)
                q = int4_spec_fix((x / scale).astype(F32), ref.astype(np.int64), signed, zp)
            for xv, qv in zip(x, q):
                lines.append("q4 %x %s" % (signed, hexs([fbits(scale), zp, fbits(xv), qv])))
        # Per-axis (block 0) and blocked quantization, packed as ONNX packs the flattened tensor.
        for shape, axis, bs in [((3, 4), 1, 0), ((2, 5, 3), 1, 2), ((7,), 0, 3), ((4, 9), 1, 4), ((3, 3), 0, 1),
                                ((5,), 0, 0)]:
            x = (RNG.standard_normal(shape) * 3).astype(F32)
            x.ravel()[0] = np.nan if len(shape) > 1 else x.ravel()[0]
            if bs == 0:
                sshape = (shape[axis],)
            else:
                sshape = list(shape)
                sshape[axis] = -(-shape[axis] // bs)
                sshape = tuple(sshape)
            s = (RNG.random(sshape) * 0.5 + 0.05).astype(F32)
            z = RNG.integers(-8, 8, sshape) if signed else RNG.integers(0, 16, sshape)
            attrs = {"axis": axis}
            if bs:
                attrs["block_size"] = bs
            zpt = numpy_helper.from_array(z.astype(np_t), "zp")
            with np.errstate(all="ignore"):
                ref = run_node("QuantizeLinear", [("x", x), ("s", s)], attrs, [zpt], tp).astype(np.int64)
                # broadcast zero points to x's shape to fix NaN elements
                zb = z
                if bs:
                    zb = np.repeat(z, bs, axis=axis).take(range(shape[axis]), axis=axis)
                else:
                    bshape = [1] * len(shape)
                    bshape[axis] = shape[axis]
                    zb = np.broadcast_to(z.reshape(bshape), shape)
                q = int4_spec_fix(x, ref, signed, np.asarray(zb))  # scales are moderate: only NaN needs fixing
            packed = numpy_helper.from_array(q.astype(np_t)).raw_data
            assert packed == pack_nibbles(q).tobytes()
            d = run_node("DequantizeLinear", [("c", q.astype(np_t)), ("s", s)], attrs, [zpt], TensorProto.FLOAT)
            lines.append("blk %x %s" % (signed, hexs([len(shape), *shape, axis, bs])))
            lines.append("bx " + fhex(x))
            lines.append("bs " + fhex(s))
            lines.append("bz " + hexs(z.ravel()))
            lines.append("bq " + hexs(np.frombuffer(packed, dtype=np.uint8)))
            lines.append("bd " + fhex(d))
    # ONNX Runtime MatMulNBits quantizer (C++ MLAS BlockwiseQuantizer via the pybind entry point).
    from onnxruntime.capi._pybind_state import quantize_matmul_4bits
    for K, N, bs, sym, kind in [(64, 3, 32, True, "n"), (64, 3, 32, False, "n"), (100, 2, 32, True, "n"),
                                (100, 2, 32, False, "n"), (256, 2, 64, True, "n"), (200, 2, 128, False, "n"),
                                (48, 2, 16, True, "edge"), (48, 2, 16, False, "edge")]:
        w = (RNG.standard_normal((K, N)) * 0.2).astype(F32)
        if kind == "edge":
            w[0:16, 0] = 0.0  # all-zero block
            w[16:32, 0] = np.abs(w[16:32, 0])  # one-signed blocks
            w[32:48, 0] = -np.abs(w[32:48, 0])
            w[0:16, 1] = 0.5  # constant block
            w[16, 1] = -0.5  # ties at the extremes
            if sym:  # m = -8: scale 1, zero point 8, so v + 8 = k + 1/2: ties of roundf
                w[32:48, 1] = np.array([-8.0] + [k + 0.5 for k in range(-7, 8)], dtype=F32)
            else:  # min -6.5, max 8.5: scale 1, zero point roundf(6.5) (a tie), elements on ties too
                w[32:48, 1] = np.array([-6.5, 8.5] + [k + 0.5 for k in range(-7, 7)], dtype=F32)
        kb = -(-K // bs)
        packed = np.zeros((N, kb, bs // 2), np.uint8)
        sc = np.zeros((N, kb), F32)
        zpb = np.zeros((N, (kb + 1) // 2), np.uint8)
        quantize_matmul_4bits(packed, w, sc, zpb, bs, N, K, sym)
        lines.append("mnb %s" % hexs([1 if sym else 0, K, N, bs]))
        lines.append("mw " + fhex(w))
        lines.append("mq " + hexs(packed.ravel()))
        lines.append("ms " + fhex(sc))
        lines.append("mz " + hexs(zpb.ravel()))


# ---------------------------------------------------------------------------------------------------- MX -----------
MX = [  # index = qmath::MxFormat: (name, ml_dtypes type or None for INT8, emax_elem)
    ("MXFP8_E4M3", ml_dtypes.float8_e4m3fn, 8),
    ("MXFP8_E5M2", ml_dtypes.float8_e5m2, 15),
    ("MXFP6_E2M3", ml_dtypes.float6_e2m3fn, 2),
    ("MXFP6_E3M2", ml_dtypes.float6_e3m2fn, 4),
    ("MXFP4_E2M1", ml_dtypes.float4_e2m1fn, 2),
    ("MXINT8", None, 0),
]


def mx_block(x, np_t, emax):
    """OCP MX v1.0 section 6.3 with qmath's documented choices: returns (E8M0 scale code, element codes)."""
    if not np.isfinite(x).all():
        return 0xFF, np.zeros(32, dtype=np.int64)
    amax = float(np.max(np.abs(x.astype(np.float64))))
    if amax == 0.0:
        shared = -127
    else:
        _, e = np.frexp(amax)  # amax = m * 2^e, m in [0.5, 1)
        shared = max(int(e) - 1 - emax, -127)
    scaled = x.astype(np.float64) * 2.0 ** (-shared)  # exact
    if np_t is None:
        q = np.clip(np.rint(scaled * 64.0), -127, 127).astype(np.int64) & 0xFF
    else:
        m = float(ml_dtypes.finfo(np_t).max)
        q = np.clip(scaled, -m, m).astype(np_t).view(np.uint8).astype(np.int64)
    return shared + 127, q


def mx_decode(code, q, np_t):
    if code == 0xFF:
        return np.full(32, np.nan, dtype=F32)
    scale = F32(np.ldexp(1.0, code - 127))
    if np_t is None:
        v = (q.astype(np.uint8).view(np.int8).astype(F32) * F32(1 / 64.0)).astype(F32)
    else:
        v = q.astype(np.uint8).view(np_t).astype(F32)
    return (v * scale).astype(F32)


def gen_mx(lines):
    for fi, (name, np_t, emax) in enumerate(MX):
        if np_t is not None:  # element decode table (ml_dtypes)
            n = 1 << (8 if fi < 2 else 6 if fi < 4 else 4)
            vals = np.arange(n, dtype=np.uint8).view(np_t).astype(F32)
            lines.append("# %s element decode" % name)
            lines.append("mxe %x %s" % (fi, fhex(vals)))
        blocks = []
        for mag in [1.0, 1e-3, 3e5, 1e-40, 1e38]:
            blocks.append((RNG.standard_normal(32) * mag).astype(F32))
        b = (RNG.standard_normal(32)).astype(F32)
        b[5] = 4.0  # amax exactly a power of two
        blocks.append(b)
        b = (RNG.standard_normal(32) * 0.1).astype(F32)
        b[7] = -np.nextafter(F32(8.0), F32(0))  # amax just below a power of two
        blocks.append(b)
        blocks.append(np.zeros(32, dtype=F32))
        b = np.zeros(32, dtype=F32)
        b[3] = -0.0
        b[4] = 1e-45
        blocks.append(b)
        b = (RNG.standard_normal(32)).astype(F32)
        b[9] = np.nan
        blocks.append(b)
        b = (RNG.standard_normal(32)).astype(F32)
        b[0] = -np.inf
        blocks.append(b)
        # ties of the element grid: amax 1.5 * 2^k and values on midpoints after scaling
        if np_t is not None:
            pos = np.unique(np.arange(256 if fi < 2 else 64 if fi < 4 else 16, dtype=np.uint8).view(np_t).astype(F32))
            pos = pos[np.isfinite(pos) & (pos >= 0)]
            mids = ((pos[:-1].astype(np.float64) + pos[1:]) / 2).astype(F32)
            top = float(ml_dtypes.finfo(np_t).max)
            sel = mids[np.linspace(0, len(mids) - 1, 31).astype(int)]
            b = np.concatenate([[np.float32(top)], sel]).astype(F32) * F32(2.0 ** 3)
            blocks.append(b)
        else:
            b = ((np.arange(32) - 16) + 0.5).astype(F32) / F32(16)  # ties at 1/64 steps after scaling
            blocks.append(b)
        for _ in range(6):
            blocks.append((RNG.standard_normal(32) * np.exp2(RNG.integers(-30, 30))).astype(F32))
        lines.append("# %s blocks: x bits, then scale code and element codes" % name)
        for b in blocks:
            code, q = mx_block(b, np_t, emax)
            d = mx_decode(code, q, np_t)
            lines.append("mx %x" % fi)
            lines.append("mxx " + fhex(b))
            lines.append("mxq " + hexs([code, *q]))
            lines.append("mxd " + fhex(d))


def write(name, fn):
    lines = ["# generated by tests/formats/gen_vectors.py (onnx %s, ml_dtypes %s, numpy %s)"
             % (onnx.__version__, ml_dtypes.__version__, np.__version__)]
    fn(lines)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d lines, %d bytes" % (path, len(lines), os.path.getsize(path)))


def main():
    os.makedirs(OUT, exist_ok=True)
    write("fp8_cast.txt", gen_fp8)
    write("fp8_quant.txt", gen_fp8_quant)
    write("int4.txt", gen_int4)
    write("mx.txt", gen_mx)
    for k, n in overrides.items():
        print("spec override %-24s %5d values  (%s)" % (k, n, KNOWN_DISAGREEMENTS[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Generates tests/pytorch/data/pytorch_vectors.txt for tests/pytorch/pytorch_vectors_test.cpp (and the CUDA host
execution test tests/cuda/quantize_test.cpp) from PyTorch itself.

Source: torch 1.13 as Debian packages it (python3-torch; quantized engines qnnpack / onednn, no FBGEMM), run with
Debian's /usr/bin/python3. What is recorded:
  * torch.quantize_per_tensor / quantize_per_channel / fake_quantize_per_tensor_affine outputs for near-tie inputs
    (x within 2 ulps of (k + 1/2) * scale, kept where x / scale and x * f32(1 / scale) round differently, plus their
    neighbours), fixed-seed random values and saturating values, for several scales (reciprocals exact and inexact)
    and zero points. The script checks that every output equals zp + rne(f32(x * f32(1 / scale))), clamped (qmath's
    QuantizeRule::kMultiplyReciprocal), and counts where x / scale (kDivide) would differ.
  * MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, MovingAveragePerChannelMinMaxObserver
    calculate_qparams() for qint8 / quint8, affine / symmetric, with and without reduce_range, over several batches;
    and which (dtype, qscheme, reduce_range) PyTorch's MinMaxObserver constructor refuses.
Values whose x * (1 / scale) lies outside int64 (+-inf, NaN, |x / scale| >= 2^63) are left out: torch converts them
to int64 with undefined behaviour (x86 gives INT64_MIN, so +inf quantizes to qmin); qmath saturates them.

Format: one record per line, `tag word word ...`, hexadecimal words (float32 values as bit patterns, integers as
two's complement 32-bit words); `#` starts a comment line.
  qt  dtype scale zp n  x[0..n) q[0..n)                           quantize_per_tensor        (dtype 0 qint8, 1 quint8)
  qc  dtype outer channels inner  scale[c] zp[c]  x[..] q[..]     quantize_per_channel, axis 1 of [outer, channels, inner]
  fq  qmin qmax scale zp n  x[0..n) y[0..n)                      fake_quantize_per_tensor_affine
  ob  observer dtype qscheme reduce_range batches outer channels inner  x[batches * size]  (scale, zp)[channels]
        observer 0 MinMax, 1 MovingAverageMinMax (per tensor: channels 1), 2 PerChannelMinMax,
        3 MovingAveragePerChannelMinMax (ch_axis 1); qscheme 0 affine, 1 symmetric
  rf  dtype qscheme reduce_range refused                          MinMaxObserver(...) raises (1) or not (0)
  dl  m n k per_channel a_scale a_zp  w_scale[1 or n] bias[n] a_q[m*k] w_q[n*k] y[m*n]
        torch.ops.quantized.linear_dynamic (engine qnnpack: Debian's torch has no FBGEMM) of x (m x k) with int8
        weights w_q (n x k, zero point 0) and a float bias: a_q is x quantized with torch's own parameters
        (_choose_qparams_per_tensor, quantize_per_tensor to quint8), y the operator's float output. The script checks
        y == f32(f32(f32(acc) * f32(a_scale * w_scale[n])) + bias[n]) (two roundings) and counts where a fused
        multiply-add would differ.

Regenerate (the tests need only the checked-in data, so scripts/install-deps.sh does not pull in torch):
  apt-get install python3-torch python3-numpy
  /usr/bin/python3 tests/pytorch/gen_pytorch_vectors.py
The output is deterministic (fixed seed); regenerating with the same torch reproduces the file byte for byte.
"""
import os
import struct
import warnings

import numpy as np
import torch
from torch.ao.quantization import (MinMaxObserver, MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver,
                                   PerChannelMinMaxObserver)

warnings.filterwarnings("ignore")  # reduce_range deprecation notice
F32 = np.float32
RNG = np.random.default_rng(20261207)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "pytorch_vectors.txt")
DTYPES = [(torch.qint8, -128, 127), (torch.quint8, 0, 255)]


def fbits(v):
    return "%x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def ibits(v):
    return "%x" % (int(v) & 0xFFFFFFFF)


def words(xs, fn):
    return " ".join(fn(v) for v in xs)


def multiply_rule(x, scale, zp, qmin, qmax):
    t = (x.astype(F32) * (F32(1.0) / F32(scale))).astype(F32)
    return np.clip(np.rint(t) + zp, qmin, qmax).astype(np.int64)


def divide_rule(x, scale, zp, qmin, qmax):
    t = (x.astype(F32) / F32(scale)).astype(F32)
    return np.clip(np.rint(t) + zp, qmin, qmax).astype(np.int64)


def near_ties(scale, kmax):
    """Floats within 2 ulps of RN((k + 1/2) * scale)."""
    out = []
    for k in range(-kmax, kmax):
        x0 = F32((k + 0.5) * F32(scale))
        up = down = x0
        out.append(x0)
        for _ in range(2):
            up = np.nextafter(up, F32(np.inf), dtype=F32)
            down = np.nextafter(down, F32(-np.inf), dtype=F32)
            out += [up, down]
    return np.array(out, dtype=F32)


def tensor_inputs(scale, zp, qmin, qmax):
    """Near-ties where the two rules disagree (and one neighbour each), random values, saturating values."""
    ties = near_ties(scale, 130)
    differ = multiply_rule(ties, scale, zp, qmin, qmax) != divide_rule(ties, scale, zp, qmin, qmax)
    idx = np.flatnonzero(differ)
    keep = np.unique(np.concatenate([idx, np.minimum(idx + 1, len(ties) - 1)]))
    rand = (RNG.standard_normal(40) * 60.0 * scale).astype(F32)
    sat = np.array([300 * scale, -300 * scale, 1e6 * scale, -1e6 * scale, 0.0, -0.0], dtype=F32)
    return np.concatenate([ties[keep], rand, sat]).astype(F32)


SCALES = [0.3, 1.0 / 3.0, 0.00214854861, 2.0 / 127.0, 0.0625, 5.5]


def quantize_records(lines, stats):
    for d, (dtype, qmin, qmax) in enumerate(DTYPES):
        zps = [0, -5, 3] if d == 0 else [0, 128, 7]
        for s in SCALES:
            s = float(F32(s))
            for zp in zps:
                x = tensor_inputs(s, zp, qmin, qmax)
                q = torch.quantize_per_tensor(torch.from_numpy(x), s, zp, dtype).int_repr().numpy().astype(np.int64)
                assert (q == multiply_rule(x, s, zp, qmin, qmax)).all(), (s, zp)
                stats["qt"] += len(x)
                stats["qt_divide_differs"] += int((q != divide_rule(x, s, zp, qmin, qmax)).sum())
                lines.append("qt %d %s %s %x %s %s" % (d, fbits(s), ibits(zp), len(x), words(x, fbits), words(q, ibits)))


def per_channel_records(lines):
    for d, (dtype, qmin, qmax) in enumerate(DTYPES):
        outer, channels, inner = 2, 3, 37  # inner >= 16: the vector kernels run per channel row
        scales = np.array([0.3, 0.00214854861, 1.0 / 3.0], dtype=F32)
        zps = np.array([0, -5, 3] if d == 0 else [0, 128, 7], dtype=np.int64)
        x = np.empty((outer, channels, inner), dtype=F32)
        for c in range(channels):
            ties = near_ties(float(scales[c]), 120)
            x[:, c, :] = RNG.choice(ties, size=(outer, inner))
            x[0, c, :8] = (RNG.standard_normal(8) * 60.0 * scales[c]).astype(F32)
        q = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales.astype(np.float64)),
                                       torch.from_numpy(zps), 1, dtype).int_repr().numpy().astype(np.int64)
        for c in range(channels):
            assert (q[:, c, :] == multiply_rule(x[:, c, :], float(scales[c]), int(zps[c]), qmin, qmax)).all()
        lines.append("qc %d %x %x %x %s %s %s %s" % (d, outer, channels, inner, words(scales, fbits), words(zps, ibits),
                                                     words(x.ravel(), fbits), words(q.ravel(), ibits)))


def fake_quantize_records(lines, stats):
    for qmin, qmax in [(0, 255), (-128, 127), (0, 127), (-64, 63)]:
        for s, zp in [(0.3, 0 if qmin < 0 else 128), (0.00214854861, 3 if qmin < 0 else 7)]:
            s = float(F32(s))
            if not qmin <= zp <= qmax:
                continue
            x = tensor_inputs(s, zp, qmin, qmax)
            y = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), s, zp, qmin, qmax).numpy()
            expect = ((multiply_rule(x, s, zp, qmin, qmax) - zp).astype(F32) * F32(s)).astype(F32)
            assert (y.view(np.uint32) == expect.view(np.uint32)).all(), (s, zp, qmin, qmax)
            stats["fq"] += len(x)
            lines.append("fq %s %s %s %s %x %s %s" % (ibits(qmin), ibits(qmax), fbits(s), ibits(zp), len(x),
                                                      words(x, fbits), words(y, fbits)))


OBSERVERS = [MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
             MovingAveragePerChannelMinMaxObserver]


def observer_records(lines, stats):
    for o, cls in enumerate(OBSERVERS):
        per_channel = o >= 2
        for d, (dtype, _, _) in enumerate(DTYPES):
            for sym in (0, 1):
                qscheme = [[torch.per_tensor_affine, torch.per_tensor_symmetric],
                           [torch.per_channel_affine, torch.per_channel_symmetric]][per_channel][sym]
                for rr in (0, 1):
                    kwargs = dict(dtype=dtype, qscheme=qscheme, reduce_range=bool(rr))
                    if per_channel:
                        kwargs["ch_axis"] = 1
                    try:
                        obs = cls(**kwargs)
                    except NotImplementedError:
                        assert d == 1 and sym == 1 and rr == 1
                        continue
                    outer, channels, inner = (2, 3, 8) if per_channel else (1, 1, 32)
                    batches = 3
                    xs = []
                    for b in range(batches):
                        shift = RNG.uniform(-1.0, 2.0, size=(1, channels, 1))
                        x = (RNG.standard_normal((outer, channels, inner)) * RNG.uniform(0.1, 4.0) + shift).astype(F32)
                        if b == 1:
                            x[0, 0, 0] = F32(0.0)
                        xs.append(x)
                        obs(torch.from_numpy(x if per_channel else x.ravel()))
                    scale, zp = obs.calculate_qparams()
                    scale = scale.numpy().astype(F32).ravel()
                    zp = zp.numpy().astype(np.int64).ravel()
                    stats["ob"] += 1
                    lines.append("ob %d %d %d %d %x %x %x %x %s %s" % (
                        o, d, sym, rr, batches, outer, channels, inner,
                        words(np.concatenate([x.ravel() for x in xs]), fbits),
                        " ".join("%s %s" % (fbits(s), ibits(z)) for s, z in zip(scale, zp))))


def refusal_records(lines):
    for d, (dtype, _, _) in enumerate(DTYPES):
        for sym, qscheme in enumerate([torch.per_tensor_affine, torch.per_tensor_symmetric]):
            for rr in (0, 1):
                try:
                    MinMaxObserver(dtype=dtype, qscheme=qscheme, reduce_range=bool(rr))
                    refused = 0
                except NotImplementedError:
                    refused = 1
                lines.append("rf %d %d %d %d" % (d, sym, rr, refused))


def dynamic_linear_records(lines, stats):
    rng = np.random.default_rng(19)  # its own stream: the records above stay as they were
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "qnnpack"
    for m, n, k, per_channel in [(3, 37, 70, True), (2, 19, 33, False), (1, 40, 129, True)]:
        x = rng.uniform(-1.75, 4.5, size=(m, k)).astype(F32)
        w = (rng.standard_normal((n, k)) * 0.1).astype(F32)
        bias = rng.uniform(-3.0, 3.0, size=n).astype(F32)
        if per_channel:
            w_scale = (np.abs(w).max(axis=1) / 127.0).astype(F32)
            wq = torch.quantize_per_channel(torch.from_numpy(w), torch.from_numpy(w_scale.astype(np.float64)),
                                            torch.zeros(n, dtype=torch.long), 0, torch.qint8)
        else:
            w_scale = np.array([np.abs(w).max() / 127.0], dtype=F32)
            wq = torch.quantize_per_tensor(torch.from_numpy(w), float(w_scale[0]), 0, torch.qint8)
        packed = torch.ops.quantized.linear_prepack(wq, torch.from_numpy(bias))
        y = torch.ops.quantized.linear_dynamic(torch.from_numpy(x), packed, False).numpy()
        a_scale, a_zp = torch._choose_qparams_per_tensor(torch.from_numpy(x), False)
        a_q = torch.quantize_per_tensor(torch.from_numpy(x), a_scale, a_zp, torch.quint8).int_repr().numpy()
        w_q = wq.int_repr().numpy()
        acc = (a_q.astype(np.int64) - a_zp) @ w_q.astype(np.int64).T
        mult = (F32(a_scale) * np.broadcast_to(w_scale, (n,))).astype(F32)
        product = (acc.astype(F32) * mult).astype(F32)
        two = (product + bias).astype(F32)
        assert (y.view(np.uint32) == two.view(np.uint32)).all(), "linear_dynamic is not the two-rounding formula"
        fused = (acc.astype(np.float64) * mult.astype(np.float64) + bias.astype(np.float64)).astype(F32)
        stats["dl"] += y.size
        stats["dl_fma_differs"] += int(np.count_nonzero(fused.view(np.uint32) != y.view(np.uint32)))
        lines.append("dl %x %x %x %d %s %s %s %s %s %s %s" % (
            m, n, k, int(per_channel), fbits(F32(a_scale)), ibits(a_zp), words(w_scale, fbits), words(bias, fbits),
            words(a_q.ravel(), ibits), words(w_q.ravel(), ibits), words(y.ravel(), fbits)))
    torch.backends.quantized.engine = previous


def main():
    stats = {"qt": 0, "qt_divide_differs": 0, "fq": 0, "ob": 0, "dl": 0, "dl_fma_differs": 0}
    lines = ["# Generated by tests/pytorch/gen_pytorch_vectors.py from torch %s (Debian python3-torch); do not edit."
             % torch.__version__]
    quantize_records(lines, stats)
    per_channel_records(lines)
    fake_quantize_records(lines, stats)
    observer_records(lines, stats)
    refusal_records(lines)
    dynamic_linear_records(lines, stats)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d quantize_per_tensor values (%d where kDivide would differ), %d fake-quantize values, "
          "%d observer cases, %d dynamic Linear outputs (%d where a fused multiply-add would differ)"
          % (OUT, stats["qt"], stats["qt_divide_differs"], stats["fq"], stats["ob"], stats["dl"], stats["dl_fma_differs"]))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Trains the PTQ demo's Fashion-MNIST MLP (784-256-128-10, ReLU) once and writes its weights.

Run from the repository root (only needed to regenerate the committed model):

    /usr/bin/python3 examples/ptq_demo/train.py [--data /usr/share/datasets/fashion-mnist]
                                                [--out examples/ptq_demo/fashion_mlp.qmw]

Needs Debian's python3-torch and python3-numpy. Deterministic: fixed seeds, deterministic algorithms, a fixed thread
count, data order from a seeded generator. Costs about 8 CPU-minutes (4 minutes on 2 idle cores) with Debian's
reference BLAS (libblas3); much less with OpenBLAS. Result: FP32 test accuracy 88.50%.

Input convention (the C++ demo uses the same): pixel / 255 as float32, image flattened row-major to 784 values.

Output format ("qmath weights", .qmw), all little-endian:
    char[8]  magic "QMATHW01"
    uint32   layer count L
    L times: uint32 out_features N, uint32 in_features K,
             float32 weight[N][K] (row-major: PyTorch's Linear.weight layout),
             float32 bias[N]
    uint32   CRC-32 (zlib polynomial) of every byte before it
Layers are fully connected; every layer but the last is followed by ReLU.
"""
import argparse
import gzip
import os
import struct
import time
import zlib

import numpy as np
import torch

SEED = 20240601
HIDDEN = (256, 128)
EPOCHS = 8
BATCH = 128
LR = 1e-3


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / np.float32(255.0))
    return x, torch.from_numpy(y.astype(np.int64))


def write_qmw(path, layers):
    body = bytearray(b"QMATHW01")
    body += struct.pack("<I", len(layers))
    for lin in layers:
        w = lin.weight.detach().numpy().astype("<f4")
        b = lin.bias.detach().numpy().astype("<f4")
        body += struct.pack("<II", w.shape[0], w.shape[1])
        body += w.tobytes(order="C") + b.tobytes()
    body += struct.pack("<I", zlib.crc32(bytes(body)) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(body)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=os.path.join(here, "fashion_mlp.qmw"))
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)

    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "test")

    sizes = (x_train.shape[1],) + HIDDEN + (10,)
    layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    mods = []
    for i, lin in enumerate(layers):
        mods.append(lin)
        if i + 1 < len(layers):
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)

    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(perm), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {total / len(x_train):.4f}  test acc {acc * 100:.2f}%  "
              f"({time.time() - t0:.0f} s)", flush=True)

    write_qmw(args.out, layers)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), FP32 test accuracy {acc * 100:.2f}%")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Static cost of the AArch64 GEMM micro-kernels: multiply-accumulates per instruction in their inner loops.

Timings under qemu-user mean nothing, so this reads the machine code instead. It disassembles an AArch64 binary that
contains the kernels (the cross-built test program by default) with aarch64-linux-gnu-objdump, finds in every
function whose name contains `kernel_neon` the innermost loops (a backward branch and its target) that hold
multiply instructions, and reports per loop: instructions per iteration, the multiply instructions by kind, loads,
stack accesses (register spills), multiply-accumulates (MACs) per iteration and per instruction, next to the ideal
of the path's instruction on 128-bit vectors:
  SDOT (by element) .4S: 4 lanes x 4 products = 16 MACs per instruction;
  SMMLA / UMMLA / USMMLA: a 2x8 by 8x2 product = 32 MACs per instruction;
  SMULL / SMULL2 .8H + SADALP .4S (the kNeon baseline): 8 products per multiply, each added by one SADALP
  (8 int16 -> 4 int32 pairs), so 16 MACs take 4 instructions: 4 MACs per instruction.
The ideal counts only the arithmetic; a real loop also loads operands and advances pointers. Loads per MAC counts
load instructions (an LDP or a multi-register LD1 is one) per multiply-accumulate of the loop.

The small-M kernels (detail/kernel_small_m_neon.hpp) are reported one sub-tile at a time: each
small_m_chunks_<path><R, C> (or the small_m_rows_<path><R, C> it calls) is a function of its own (R rows, or R row
pairs for USMMLA, by C column chunks of 4, or column pairs for USMMLA). A
USMMLA row pair of an odd M carries a zero row: for M = 2R - 1 only (2R - 1) / 2R of its MACs are useful, which the
"useful" figure states.

Usage: scripts/arm_kernel_cost.py [BINARY] [--markdown]
"""
import re
import subprocess
import sys
from collections import Counter

OBJDUMP = "aarch64-linux-gnu-objdump"
DEFAULT_BINARY = "build-aarch64/tests/cpu/cpu_gemm_neon_test"

# MACs per instruction, by mnemonic (the element arrangement is checked where it matters).
MACS = {"sdot": 16, "udot": 16, "usdot": 16, "sudot": 16, "smmla": 32, "ummla": 32, "usmmla": 32,
        "smull": 8, "smull2": 8, "umull": 8, "umull2": 8}
ADD_ONLY = {"sadalp", "uadalp", "smlal", "smlal2"}  # counted as instructions of the MAC chain, not as extra MACs
IDEAL = [("usmmla", 32, "USMMLA/SMMLA/UMMLA"), ("smmla", 32, "SMMLA"), ("ummla", 32, "UMMLA"),
         ("sdot", 16, "SDOT"), ("udot", 16, "UDOT"), ("smull", 4, "SMULL+SMULL2+2 SADALP")]
BRANCH = re.compile(r"^(b(\.\w+)?|cbn?z|tbn?z)$")
LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
FUNC = re.compile(r"^[0-9a-f]+ <(.*)>:$")


def disassemble(binary):
    out = subprocess.run([OBJDUMP, "-d", "-C", "--no-show-raw-insn", binary], check=True, capture_output=True,
                         text=True).stdout
    funcs, name = {}, None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            name = m.group(1)
            funcs[name] = []
            continue
        m = LINE.match(line)
        if m and name is not None:
            funcs[name].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def loops(insns):
    """Backward branches inside the function: (start index, end index) of each loop body."""
    index = {addr: i for i, (addr, _, _) in enumerate(insns)}
    found = []
    for i, (addr, op, args) in enumerate(insns):
        if not BRANCH.match(op):
            continue
        target = re.search(r"\b([0-9a-f]+) <", args)
        if target and int(target.group(1), 16) < addr and int(target.group(1), 16) in index:
            found.append((index[int(target.group(1), 16)], i))
    return found


def macs_of(op, args):
    if op not in MACS:
        return 0
    if op in ("smull", "umull", "smull2", "umull2") and ".8h" not in args:
        return 0  # only the int8 -> int16 forms belong to the kernels
    return MACS[op]


def analyse(binary):
    rows = []
    for name, insns in disassemble(binary).items():
        if not any(key in name for key in ("kernel_neon", "small_m_chunks_", "small_m_rows_")):
            continue
        with_macs = []
        for s, e in loops(insns):
            body = insns[s:e + 1]
            if any(macs_of(op, a) for _, op, a in body):
                with_macs.append((s, e, body))
        # The hot loops: innermost (no other loop with multiplies inside), and at least half as dense in MACs as
        # the function's densest loop (this drops the outer column loops and their K-tail code).
        inner = [(s, e, body) for s, e, body in with_macs
                 if not any((s2, e2) != (s, e) and s <= s2 and e2 <= e for s2, e2, _ in with_macs)]
        density = lambda body: sum(macs_of(op, a) for _, op, a in body) / len(body)
        best = max((density(body) for _, _, body in inner), default=0)
        for s, e, body in inner:
            if density(body) < best / 2:
                continue
            kinds = Counter(op for _, op, a in body if macs_of(op, a) or op in ADD_ONLY)
            macs = sum(macs_of(op, a) for _, op, a in body)
            loads = sum(1 for _, op, _ in body if op.startswith("ld"))
            stack = sum(1 for _, op, a in body if (op.startswith("ld") or op.startswith("st")) and "sp" in a)
            ideal = next(((v, label) for key, v, label in IDEAL if key in kinds), (0, "?"))
            # USMMLA small-M sub-tiles of R row pairs also run M = 2R - 1 rows (one zero row).
            pair = re.search(r"small_m_(?:chunks|rows)_i8mm<(\d+), *\d+>", name)
            useful = (2 * int(pair.group(1)) - 1) / (2 * int(pair.group(1))) if pair else None
            rows.append({"function": name, "instructions": len(body), "macs": macs, "kinds": dict(kinds),
                         "loads": loads, "stack": stack, "per_insn": macs / len(body), "ideal": ideal[0],
                         "ideal_label": ideal[1], "loads_per_mac": loads / macs, "useful_odd": useful})
    return rows


def short(name):
    name = re.sub(r"qmath::cpu::detail::", "", name)
    return re.sub(r"\(.*\)$", "", name)


def main(argv):
    markdown = "--markdown" in argv
    args = [a for a in argv if a != "--markdown"]
    binary = args[0] if args else DEFAULT_BINARY
    rows = analyse(binary)
    if not rows:
        print(f"no kernel_neon* loop with multiplies found in {binary}", file=sys.stderr)
        return 1
    rows.sort(key=lambda r: (r["ideal_label"], r["function"]))
    if markdown:
        print("| kernel (inner loop) | instructions / iteration | multiply-class instructions | loads | spills "
              "| MACs / iteration | MACs / instruction | loads / MAC | ideal |")
        print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(r["kinds"].items()))
        useful = r["useful_odd"]
        odd = (f" (odd M: {r['per_insn'] * useful:.1f} useful)" if useful is not None else "")
        if markdown:
            print(f"| `{short(r['function'])}` | {r['instructions']} | {kinds} | {r['loads']} | {r['stack']} "
                  f"| {r['macs']} | {r['per_insn']:.1f}{odd} | {r['loads_per_mac']:.3f} "
                  f"| {r['ideal']} ({r['ideal_label']}) |")
        else:
            print(f"{short(r['function'])}: {r['instructions']} instructions/iteration ({kinds}; {r['loads']} loads, "
                  f"{r['stack']} stack accesses), {r['macs']} MACs/iteration = {r['per_insn']:.1f} MACs/instruction"
                  f"{odd}, {r['loads_per_mac']:.3f} loads/MAC; ideal {r['ideal']} ({r['ideal_label']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

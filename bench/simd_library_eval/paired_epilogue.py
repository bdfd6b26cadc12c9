# Runs ./epi_old and ./epi_new (epilogue_throughput.cpp built against two include trees) alternately N times;
# prints per configuration the median of the per-round time ratios old / new.
import subprocess, statistics, sys
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
ratios = {}
for r in range(rounds):
    res = {}
    for b in ("old", "new"):
        out = subprocess.run(["./epi_" + b], capture_output=True, text=True).stdout
        res[b] = {l.split()[0]: float(l.split()[1]) for l in out.splitlines()}
    for k in res["old"]:
        ratios.setdefault(k, []).append((res["old"][k] / res["new"][k], res["old"][k], res["new"][k]))
for k, v in ratios.items():
    rs = sorted(x[0] for x in v)
    print("%-20s old/new time ratio median %.2f (quartiles %.2f-%.2f); ns/elem old %.3f new %.3f (medians)" % (
        k, statistics.median(rs), rs[len(rs)//4], rs[3*len(rs)//4], statistics.median(x[1] for x in v), statistics.median(x[2] for x in v)))

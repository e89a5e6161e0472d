#!/usr/bin/env python3
"""Benchmarks of `qubemem profile`, side by side with GNU time and psrecord, in one run.

1. Cost: CPU seconds the profiler itself uses per second of the child's run, at 10 ms and
   100 ms, for a 1-process and a 4-process tree, against psrecord --include-children at the
   same intervals. The profiler's CPU is measured from outside (wait4 rusage of the profiler
   process minus its child's, via GNU time's %U+%S of a `sleep`-only tree).
2. Peak accuracy on tests/profile/helper_workload.c (true tree peak known by construction:
   a + b + child + a 30 ms spike, in two processes): qubemem profile at 100 ms and 10 ms,
   GNU `time -v` (Maximum resident set size) and psrecord at 100 ms and 10 ms.

    python3 bench/profile/bench_profile.py [--qubemem PATH] [--runs 5] [--seconds 20]

Prints Markdown tables for BENCHMARKS.md. Needs cc, /usr/bin/time and `pip install psrecord`.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20


def gnu_time(cmd):
    """Runs cmd under GNU time; returns (user+sys seconds of the whole tree, max RSS KiB, elapsed)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as f:
        subprocess.run(["/usr/bin/time", "-o", f.name, "-f", "%U %S %M %e", *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        u, s, m, e = f.read().split()[-4:]
    return float(u) + float(s), int(m), float(e)


def cost_table(qubemem, seconds):
    trees = {
        "1 process (sleep)": ["sleep", str(seconds)],
        "4 processes (sh + 3 sleep)": ["sh", "-c", f"sleep {seconds} & sleep {seconds} & sleep {seconds}; wait"],
    }
    rows = []
    for label, tree in trees.items():
        child_cpu, _, _ = gnu_time(tree)  # the tree alone: sleep costs ~0
        for interval in (0.01, 0.1):
            q_cpu, _, q_el = gnu_time([qubemem, "profile", "--quiet", "--interval", f"{int(interval * 1000)}ms", "--", *tree])
            p_cpu, _, p_el = gnu_time(["psrecord", " ".join(tree), "--interval", str(interval), "--include-children",
                                       "--log", os.devnull])
            rows.append((label, interval, (q_cpu - child_cpu) / q_el * 100, (p_cpu - child_cpu) / p_el * 100))
    out = ["| tree | interval | qubemem profile, % of a core | psrecord, % of a core | psrecord / qubemem |",
           "|---|---|---|---|---|"]
    for label, interval, q, p in rows:
        out.append(f"| {label} | {int(interval * 1000)} ms | {q:.2f} | {p:.2f} | {p / q if q > 0 else float('nan'):.1f}× |")
    return "\n".join(out)


def accuracy_table(qubemem, helper, runs):
    a, b, child, spike = 100, 100, 150, 64
    truth = (a + b + child + spike) * MIB
    args = [helper, f"a={a}", f"b={b}", f"child={child}", f"spike={spike}", "spike_ms=30", "mark=0"]
    results = {k: [] for k in ("qubemem profile, 100 ms", "qubemem profile, 10 ms", "GNU time -v",
                               "psrecord --include-children, 100 ms", "psrecord --include-children, 10 ms")}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for interval, key in ((100, "qubemem profile, 100 ms"), (10, "qubemem profile, 10 ms")):
                j = Path(tmp) / f"q{i}{interval}.json"
                subprocess.run([qubemem, "profile", "--quiet", "--json", str(j), "--interval", f"{interval}ms", "--", *args],
                               check=True)
                results[key].append(json.loads(j.read_text())["peak_bytes"])
            _, maxrss_kib, _ = gnu_time(args)
            results["GNU time -v"].append(maxrss_kib * 1024)
            for interval, key in ((0.1, "psrecord --include-children, 100 ms"), (0.01, "psrecord --include-children, 10 ms")):
                log = Path(tmp) / f"p{i}{interval}.txt"
                subprocess.run(["psrecord", " ".join(args), "--interval", str(interval), "--include-children",
                                "--log", str(log)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                real = [float(line.split()[2]) for line in log.read_text().splitlines()[1:] if line.strip()]
                results[key].append(int(max(real) * MIB))
    out = [f"True tree peak: {truth / MIB:.0f} MiB touched (+ about 2 MiB of two C programs' own RSS); "
           f"{runs} runs each, the same workload.", "",
           "| tool | peak reported, MiB (mean) | min – max | error vs touched total (mean) |", "|---|---|---|---|"]
    for key, values in results.items():
        mean = statistics.mean(values)
        out.append(f"| {key} | {mean / MIB:.1f} | {min(values) / MIB:.1f} – {max(values) / MIB:.1f} | "
                   f"{(mean - truth) / truth * 100:+.1f}% |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubemem", default=os.environ.get("QUBEMEM", str(REPO / ".build" / "release" / "qubemem")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=20)
    args = ap.parse_args()
    for tool in ("psrecord", "cc"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (pip install psrecord; apt-get install build-essential)")
    with tempfile.TemporaryDirectory() as tmp:
        helper = str(Path(tmp) / "helper_workload")
        subprocess.run(["cc", "-O2", "-o", helper, str(REPO / "tests" / "profile" / "helper_workload.c")], check=True)
        # Other work on the machine makes every figure here larger (cold caches at each wake-up):
        # the load is part of the result.
        print("Load average (1, 5, 15 min) at the start: %.2f %.2f %.2f\n" % os.getloadavg())
        print("## Profiler cost (CPU per second of the child's run)\n")
        print(cost_table(args.qubemem, args.seconds))
        print("\n## Peak accuracy on the helper workload\n")
        print(accuracy_table(args.qubemem, helper, args.runs))
        print("\nLoad average (1, 5, 15 min) at the end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Per-call time of the job_submit function inside the sandbox's real slurmctld: job_submit/qubemem
against the equivalent job_submit/lua (examples/job_submit.lua), side by side.

Each plugin's `job_submit` gets a perf uprobe at entry and return; the time between them, per call,
is the plugin's cost as slurmctld pays it (caches cold from the controller's other work, logging
included). The probes' own cost is measured the same way on qubemem's fast path (a comment
without `qube:`, which costs about 30 ns in-process) and reported so it can be subtracted.
Rounds interleave the variants; medians over rounds are reported.

Usage: bench/plugin/ctld_latency.py [--jobs N] [--rounds R]
Needs: root, perf, the sandbox (scripts/sandbox.sh), plugin/build/job_submit_qubemem.so.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import slurmsandbox as sb  # noqa: E402

COMMENT = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"
QUBEMEM_SO = REPO / "plugin" / "build" / "job_submit_qubemem.so"
LUA_SO = Path("/usr/lib/x86_64-linux-gnu/slurm-wlm/job_submit_lua.so")
VARIANTS = {
    "qubemem": ({"QUBEMEM_PLUGIN_DIR": str(QUBEMEM_SO.parent)}, QUBEMEM_SO, "qmbench"),
    "lua": ({"QUBEMEM_JOB_SUBMIT": "lua", "QUBEMEM_LUA_SCRIPT": str(REPO / "examples" / "job_submit.lua")},
            LUA_SO, "luabench"),
}


def sh(argv, **kw):
    return subprocess.run(argv, text=True, capture_output=True, **kw)


def add_probes(so: Path, name: str) -> list[str]:
    sh(["perf", "probe", "-d", f"probe_*:{name}*"])
    for spec in (f"{name}=job_submit", f"{name}_ret=job_submit%return"):
        proc = sh(["perf", "probe", "-x", str(so), "-a", spec])
        if proc.returncode != 0:
            raise RuntimeError(f"perf probe {spec} on {so}: {proc.stderr}")
    group = "probe_" + so.stem.replace("-", "_")
    return [f"{group}:{name}", f"{group}:{name}_ret__return"]


def submit_many(comment: str, jobs: int) -> list[str]:
    def one(_):
        proc = sb.run(["sbatch", "--parsable", "--hold", "--output=/dev/null", f"--comment={comment}",
                       "--wrap=true"], check=False)
        return proc.stdout.strip().split(";")[0] if proc.returncode == 0 else None
    with ThreadPoolExecutor(2) as pool:
        return [j for j in pool.map(one, range(jobs)) if j]


def measure(events: list[str], comment: str, jobs: int) -> list[float]:
    pid = (sb.SANDBOX_DIR / "run" / "slurm" / "slurmctld.pid").read_text().split()[0]
    data = f"/tmp/qubemem-ctld-latency-{time.time_ns()}.data"
    argv = ["perf", "record", "-q", "-o", data]
    for e in events:
        argv += ["-e", e]
    rec = subprocess.Popen(argv + ["-p", pid], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)
    ids = submit_many(comment, jobs)
    time.sleep(0.5)
    rec.send_signal(2)
    rec.wait(timeout=60)
    for start in range(0, len(ids), 200):
        sb.run(["scancel", *ids[start:start + 200]], check=False)
    out = sh(["perf", "script", "-i", data, "-F", "tid,time,event"]).stdout
    Path(data).unlink(missing_ok=True)
    begin: dict[str, float] = {}
    durations = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        tid, t, event = parts[0], float(parts[1].rstrip(":")), parts[2]
        if "__return" in event:
            if tid in begin:
                durations.append((t - begin.pop(tid)) * 1e6)
        else:
            begin[tid] = t
    if len(durations) < jobs * 0.9:
        raise RuntimeError(f"only {len(durations)} calls seen for {jobs} submissions")
    return sorted(durations)


def pct(d: list[float], q: float) -> float:
    return d[min(len(d) - 1, int(len(d) * q))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"qubemem": [], "lua": [], "probe overhead": []}
    try:
        for r in range(args.rounds):
            for variant, (env, so, name) in VARIANTS.items():
                sb.start_sandbox(**env)
                events = add_probes(so, name)
                submit_many(COMMENT, 5)  # warm-up: first call after load
                d = measure(events, COMMENT, args.jobs)
                results[variant].append((pct(d, 0.5), pct(d, 0.99)))
                print(f"round {r + 1} {variant:8s} n={len(d)} p50={pct(d, .5):6.1f} us p99={pct(d, .99):7.1f} us",
                      flush=True)
                if variant == "qubemem":
                    d = measure(events, "no qube section here", args.jobs)
                    results["probe overhead"].append((pct(d, 0.5), pct(d, 0.99)))
                    print(f"round {r + 1} probes   n={len(d)} p50={pct(d, .5):6.1f} us (qubemem fast path)",
                          flush=True)
    finally:
        sh(["perf", "probe", "-d", "probe_*:qmbench*"])
        sh(["perf", "probe", "-d", "probe_*:luabench*"])
        sb.start_sandbox(**VARIANTS["qubemem"][0])
    med = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in results.items()}
    over = med["probe overhead"][0]
    print(f"\nmedian of {args.rounds} rounds, {args.jobs} submissions each (2 parallel sbatch), in slurmctld:")
    for k, (p50, p99) in med.items():
        print(f"  {k:15s} p50 {p50:7.1f} us  p99 {p99:7.1f} us")
    q, l = med["qubemem"][0] - over, med["lua"][0] - over
    print(f"  per call, probes subtracted: qubemem {q:.1f} us, lua {l:.1f} us: lua/qubemem = {l / q:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

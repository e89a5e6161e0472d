#!/usr/bin/env python3
"""Submission throughput of the sandbox's real slurmctld with no job_submit plugin, with
job_submit/qubemem and with the equivalent job_submit/lua (examples/job_submit.lua), side by side.

For each round and each variant: switch the sandbox to the variant (restarts slurmctld), submit a
warm-up, reset sdiag, submit N held jobs with a qube comment from W parallel sbatch processes,
and read both the wall-clock rate and slurmctld's own server-side time per
REQUEST_SUBMIT_BATCH_JOB from sdiag (microseconds, averaged by slurmctld). The plugin's cost per
call is that server-side time minus the no-plugin one. Rounds interleave the variants so drift
in the machine's load hits all three alike; the median over rounds is reported.

Usage: bench/plugin/throughput.py [--jobs N] [--workers W] [--rounds R]
Needs: root, the sandbox (scripts/sandbox.sh), plugin/build/job_submit_qubemem.so.
"""

from __future__ import annotations

import argparse
import re
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
VARIANTS = {
    "none": {},
    "qubemem": {"QUBEMEM_PLUGIN_DIR": str(REPO / "plugin" / "build")},
    "lua": {"QUBEMEM_JOB_SUBMIT": "lua", "QUBEMEM_LUA_SCRIPT": str(REPO / "examples" / "job_submit.lua")},
}


def sbatch_held() -> tuple[str | None, str]:
    proc = sb.run(["sbatch", "--parsable", "--hold", "--output=/dev/null", f"--comment={COMMENT}",
                   "--wrap=true"], check=False)
    jobid = proc.stdout.strip().split(";")[0] if proc.returncode == 0 else None
    return jobid, proc.stderr


def submit_ave_us() -> tuple[int, float]:
    out = sb.run(["sdiag"]).stdout
    m = re.search(r"REQUEST_SUBMIT_BATCH_JOB\s+\(\s*\d+\)\s+count:(\d+)\s+ave_time:(\d+)", out)
    if not m:
        raise RuntimeError("no REQUEST_SUBMIT_BATCH_JOB line in sdiag:\n" + out)
    return int(m.group(1)), float(m.group(2))


def one_round(variant: str, jobs: int, workers: int) -> dict:
    sb.start_sandbox(**VARIANTS[variant])
    ids = []
    for _ in range(10):  # warm-up: first call after load, caches
        jobid, err = sbatch_held()
        if jobid is None:
            raise RuntimeError(f"{variant}: sbatch failed: {err}")
        ids.append(jobid)
    check = sb.scontrol_job(ids[-1])
    sb.run(["sdiag", "--reset"])
    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda _: sbatch_held(), range(jobs)))
    elapsed = time.monotonic() - t0
    count, ave = submit_ave_us()
    ids += [j for j, _ in results if j]
    failed = [e for j, e in results if not j]
    for start in range(0, len(ids), 200):
        sb.run(["scancel", *ids[start:start + 200]], check=False)
    if failed:
        raise RuntimeError(f"{variant}: {len(failed)} submissions failed: {failed[0]}")
    return {"variant": variant, "rate": jobs / elapsed, "server_us": ave, "count": count,
            "memory": check.get("MinMemoryNode")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rows: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for r in range(args.rounds):
        for variant in VARIANTS:
            res = one_round(variant, args.jobs, args.workers)
            rows[variant].append(res)
            print(f"round {r + 1} {variant:8s} {res['rate']:7.1f} jobs/s  slurmctld {res['server_us']:7.1f} us/submit"
                  f"  (sdiag count {res['count']}, MinMemoryNode {res['memory']})", flush=True)
    sb.start_sandbox(**VARIANTS["qubemem"])
    med = {v: {"rate": statistics.median(x["rate"] for x in rows[v]),
               "server_us": statistics.median(x["server_us"] for x in rows[v])} for v in VARIANTS}
    base = med["none"]
    print(f"\nmedian of {args.rounds} rounds, {args.jobs} held jobs from {args.workers} parallel sbatch each:")
    print(f"{'variant':10s} {'jobs/s':>9s} {'vs none':>8s} {'server us':>10s} {'plugin us':>10s}")
    for v in VARIANTS:
        extra = med[v]["server_us"] - base["server_us"]
        print(f"{v:10s} {med[v]['rate']:9.1f} {med[v]['rate'] / base['rate'] * 100:7.1f}% "
              f"{med[v]['server_us']:10.1f} {extra:10.1f}")
    q = med["qubemem"]["server_us"] - base["server_us"]
    l = med["lua"]["server_us"] - base["server_us"]
    if q > 0:
        print(f"lua/qubemem plugin time per call: {l / q:.1f}x")
    else:
        print(f"qubemem adds no measurable server time ({q:+.1f} us); lua adds {l:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())

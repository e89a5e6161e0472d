#!/usr/bin/env python3
"""Per-call time of job_submit inside the sandbox's real slurmctld, measured by timer plugins:
job_submit/qubemem against the equivalent job_submit/lua (examples/job_submit.lua), side by side.

slurmctld calls its job_submit plugins one after the other; the sandbox runs
`JobSubmitPlugins=qmtime_begin,PLUGIN,qmtime_end` (bench/plugin/bracket), whose two functions
read the vDSO clock and store each call's duration in /dev/shm/qmtime. No probe, trap or log
line is added to the measured call, so the figure is what slurmctld pays, cold caches included.
The bracket's own cost is measured with no plugin between the two timers. Variants run in
turns, round after round, so that machine load falls on all of them alike; medians over rounds.

Usage: [QUBEMEM_SANDBOX_RELEASE=24.11|26.05] bench/plugin/ctld_timer.py [--jobs N] [--rounds R]
Needs: root, the sandbox (scripts/sandbox.sh) of the release measured, the plugin and the timer
plugins built for it (`make -C plugin` and `make -C bench/plugin/bracket`, each with
`SLURM_RELEASE=...` for 24.11 and 26.05). Leaves the sandbox on job_submit/qubemem without timers.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import slurmsandbox as sb  # noqa: E402

SHARED = Path("/dev/shm/qmtime")
SLOTS = 65536
BRACKET = REPO / "bench" / "plugin" / "bracket" / "build"
PLUGIN_DIR = REPO / "plugin" / "build"
TYPICAL = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"
HARMONIC = "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64"
VARIANTS = {
    "timers alone": {},
    "qubemem": {"QUBEMEM_PLUGIN_DIR": str(PLUGIN_DIR)},
    "lua": {"QUBEMEM_JOB_SUBMIT": "lua", "QUBEMEM_LUA_SCRIPT": str(REPO / "examples" / "job_submit.lua")},
}


def durations() -> tuple[int, list[int]]:
    """The count of timed calls and the ring of durations (ns)."""
    data = SHARED.read_bytes()
    _, count = struct.unpack_from("QQ", data, 0)
    return count, list(struct.unpack_from(f"{SLOTS}I", data, 16))


def submit(comment: str, jobs: int) -> list[str]:
    def one(_):
        proc = sb.run(["sbatch", "--parsable", "--hold", "--output=/dev/null", f"--comment={comment}",
                       "--wrap=true"], check=False)
        return proc.stdout.strip().split(";")[0] if proc.returncode == 0 else None
    with ThreadPoolExecutor(2) as pool:
        return [j for j in pool.map(one, range(jobs)) if j]


def measure(comment: str, jobs: int) -> list[float]:
    """Submits `jobs` held jobs and returns the timed calls' durations in µs, sorted."""
    before, _ = durations()
    ids = submit(comment, jobs)
    after, ring = durations()
    for start in range(0, len(ids), 200):
        sb.run(["scancel", *ids[start:start + 200]], check=False)
    n = after - before
    if n < jobs * 0.9 or n > SLOTS:
        raise RuntimeError(f"{n} calls timed for {jobs} submissions")
    return sorted(ring[(before + i) % SLOTS] / 1000 for i in range(n))


def pct(d: list[float], q: float) -> float:
    return d[min(len(d) - 1, int(len(d) * q))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=200, help="submissions per variant and round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cases = [("timers alone", "", TYPICAL), ("qubemem", "typical", TYPICAL), ("qubemem", "harmonic", HARMONIC),
             ("qubemem", "no qube:", "run 17 of the nightly sweep"), ("lua", "typical", TYPICAL),
             ("lua", "no qube:", "run 17 of the nightly sweep")]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {(v, c): [] for v, c, _ in cases}
    try:
        for r in range(args.rounds):
            for variant, env in VARIANTS.items():
                sb.start_sandbox(QUBEMEM_BENCH_BRACKET=str(BRACKET), **env)
                submit(TYPICAL, 5)  # the first calls after a (re)start load lazily
                for v, case, comment in cases:
                    if v != variant:
                        continue
                    d = measure(comment, args.jobs)
                    results[(v, case)].append((pct(d, 0.5), pct(d, 0.99)))
                    print(f"round {r + 1} {v:12s} {case:9s} n={len(d)} p50={pct(d, .5):7.2f} us "
                          f"p99={pct(d, .99):7.2f} us", flush=True)
    finally:
        sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(PLUGIN_DIR))
    med = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in results.items()}
    print(f"\nmedian over {args.rounds} rounds of {args.jobs} submissions (2 sbatch in parallel), per call:")
    for (v, case), (p50, p99) in med.items():
        print(f"  {v:12s} {case:9s} p50 {p50:7.2f} us  p99 {p99:7.2f} us")
    timers = med[("timers alone", "")][0]
    q, lua = med[("qubemem", "typical")][0] - timers, med[("lua", "typical")][0] - timers
    ratios = [(l - t) / (x - t) for (x, _), (l, _), (t, _) in
              zip(results[("qubemem", "typical")], results[("lua", "typical")], results[("timers alone", "")])]
    print(f"  typical comment, timers' own cost subtracted: qubemem {q:.2f} us, lua {lua:.2f} us: "
          f"lua/qubemem = {lua / q:.1f}x (per round: {', '.join(f'{x:.1f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

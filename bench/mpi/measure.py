#!/usr/bin/env python3
"""Measure real multi-rank QUBE runs per node: `mpiexec -n R` of examples/qube/qube_workload.py
inside a memory cgroup of its own (cgroup v1, as SLURM's task/cgroup makes one per job on a node).

For each run it records, as one JSON line:
  cgroup_peak_bytes   memory.max_usage_in_bytes of the run's cgroup: the figure an OOM kill is
                      decided against (anonymous memory, shared windows and page cache charged to it)
  rss_sum_peak_bytes  the largest sum of the tree's VmRSS over samples every 20 ms (what SLURM's
                      jobacct_gather reports as a step's MaxRSS when one task holds the node's ranks)
  rank_peak_bytes     each rank's own getrusage high-water mark (the workload reports it)

Usage (as root, from the repository root, with qube-qml[mpi]==1.3.0 and mpich installed):
  python3 bench/mpi/measure.py --ranks 1 2 3 4 \\
      --run "harmonic QU 16 600 32 64" --run "pixel_direct QU 16 500 24 32" > runs.jsonl
  python3 bench/mpi/measure.py --table runs.jsonl --qubemem .build/release/qubemem
The table puts `qubemem predict --json --ntasks-per-node R` (its per-node request) beside each run.
A --run is "PATH FIELDS NSIDE N_OBS LMAX LMAX_SIGNAL [BINS]".
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKLOAD = REPO / "examples" / "qube" / "qube_workload.py"
CGROUP_ROOT = Path("/sys/fs/cgroup/memory")


def tree_rss(root_pid):
    """Sum of VmRSS (bytes) over root_pid and its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def run_one(spec, ranks):
    path, fields, nside, n_obs, lmax, lmax_signal, *rest = spec.split()
    bins = rest[0] if rest else None
    name = f"qubemem-mpi-bench-{os.getpid()}"
    cg = CGROUP_ROOT / name
    cg.mkdir()
    argv = [sys.executable, str(WORKLOAD), "--fields", fields, "--nside", nside, "--n-obs", n_obs,
            "--lmax", lmax, "--lmax-signal", lmax_signal, "--path", path, "--threads", "1"]
    if bins:
        argv += ["--bins", bins]
    if ranks > 1:
        argv = [shutil.which("mpiexec"), "-n", str(ranks)] + argv
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: (cg / "tasks").write_text(str(os.getpid())))
    peak_rss = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak_rss[0] = max(peak_rss[0], tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    elapsed = time.monotonic() - started
    cgroup_peak = int((cg / "memory.max_usage_in_bytes").read_text())
    for _ in range(50):
        try:
            cg.rmdir()
            break
        except OSError:
            time.sleep(0.1)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {' '.join(argv)}\n{err.decode()[-2000:]}")
    rank_peaks = {}
    for line in err.decode().splitlines():
        if line.startswith('{"rank"'):
            d = json.loads(line)
            rank_peaks[d["rank"]] = d["peak_rss_bytes"]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    record = {"path": path, "fields": fields, "nside": int(nside), "n_obs": int(n_obs), "lmax": int(lmax),
              "lmax_signal": int(lmax_signal), "bins": int(bins) if bins else None, "ranks": ranks,
              "n_pix": summary["n_pix"], "n_modes": summary.get("n_modes"), "elapsed_s": round(elapsed, 1),
              "cgroup_peak_bytes": cgroup_peak, "rss_sum_peak_bytes": peak_rss[0],
              "rank_peak_bytes": [rank_peaks[r] for r in sorted(rank_peaks)]}
    return record


def predict(r, qubemem):
    """`qubemem predict --json` for a run's dimensions and its ranks on one node."""
    cmd = [qubemem, "predict", "--json", "--path", r["path"], "--fields", r["fields"], "--n-obs", str(r["n_obs"]),
           "--lmax", str(r["lmax"]), "--lmax-signal", str(r["lmax_signal"]), "--ntasks-per-node", str(r["ranks"])]
    if r["bins"]:
        cmd += ["--n-bins", str(r["bins"])]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def table(lines, qubemem):
    rows = [json.loads(l) for l in lines if l.strip()]
    for r in rows:
        r["predicted"] = predict(r, qubemem)
    gib = lambda b: b / 2**30
    print("| path | fields | n_pix | n_modes | ranks | cgroup peak GiB | RSS-sum peak GiB | measured GiB |"
          " predicted GiB | request MiB | request / measured | predicted / measured |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = []
    for r in rows:
        measured = max(r["cgroup_peak_bytes"], r["rss_sum_peak_bytes"])
        node = r["predicted"]["node"]
        total = node["total_bytes"]
        req = node["request_mib"]
        ratio = req * 2**20 / measured if req else None
        if ratio:
            ratios.append(ratio)
        print(f"| {r['path']} | {r['fields']} | {r['n_pix']} | {r['n_modes'] or '-'} | {r['ranks']} "
              f"| {gib(r['cgroup_peak_bytes']):.2f} | {gib(r['rss_sum_peak_bytes']):.2f} | {gib(measured):.2f} "
              f"| {gib(total):.2f} | {req} | {ratio:.2f} | {total / measured:.2f} |" if total else "")
    if ratios:
        print(f"\nruns: {len(ratios)}; request / measured: min {min(ratios):.2f}, median "
              f"{statistics.median(ratios):.2f}, max {max(ratios):.2f}; runs under-requested: "
              f"{sum(1 for x in ratios if x < 1)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", action="append", default=[], help='"PATH FIELDS NSIDE N_OBS LMAX LMAX_SIGNAL [BINS]"')
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--qubemem", default=str(REPO / ".build" / "release" / "qubemem"),
                    help="qubemem binary whose per-node prediction --table puts beside each run")
    ap.add_argument("--table", help="print the markdown table of a JSON-lines file of earlier runs")
    args = ap.parse_args()
    if args.table:
        table(Path(args.table).read_text().splitlines(), args.qubemem)
        return
    for spec in args.run:
        for ranks in args.ranks:
            print(json.dumps(run_one(spec, ranks)), flush=True)


if __name__ == "__main__":
    main()

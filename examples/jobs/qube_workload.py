#!/usr/bin/env python3
"""A stand-in for a QUBE run that really allocates and touches the memory its dimensions imply.

Two modes:

  --comment "qube: ..."   Price the run with `qubemem predict --from-comment ... --json` and live
                          through its stages: hold each stage's persistent terms, allocate and touch
                          its transient terms (and qubemem's measured terms for that stage), free the
                          transients, move on. Before the stages it holds what the baseline counts:
                          the input covariances (n_pix² × 8 B each) and, with --emulate-imports (the
                          default), ballast up to the interpreter floor, since numpy alone imports far
                          less than QUBE's stack (healpy, numba, scipy: about 0.25 GiB).
                          --scale F multiplies every allocation (F > 1 plays a run the model
                          under-predicts).
  --touch-mib N           Allocate and touch N MiB, hold it, exit (the accounting tests).

Every allocation is written page by page (np.ones), so it is resident, not just reserved. Each
peak is held for --hold seconds (default 3) so SLURM's sampler (JobAcctGatherFrequency=1) sees it.
At the end it prints the kernel's exact high-water mark (VmHWM) of this process, in bytes.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

MIB = 1 << 20


def status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def touch(nbytes: int) -> np.ndarray:
    """A resident block of nbytes (rounded down to 8-byte words)."""
    return np.ones(max(int(nbytes) // 8, 0), dtype=np.float64)


def run_stages(comment: str, qubemem: str, scale: float, hold: float, emulate_imports: bool) -> None:
    out = subprocess.run([qubemem, "predict", "--from-comment", comment, "--json"],
                         check=True, capture_output=True, text=True).stdout
    p = json.loads(out)
    request = p["request"]
    n_pix = p["config"]["n_pix"]
    print(f"prediction: model {p['model']} path {p['path']} peak {request['peak_bytes']} "
          f"baseline {request['baseline_bytes']} request {request['request_mib']} MiB", flush=True)
    held = {}
    # Baseline: input covariance(s), then ballast up to the interpreter floor.
    input_cov = n_pix * n_pix * 8
    floor = request["baseline_bytes"] - input_cov
    held["input covariance"] = touch(input_cov * scale)
    if emulate_imports:
        rss = status_bytes("VmRSS") - input_cov * scale
        if floor > rss:
            held["imports ballast"] = touch(floor - rss)
    measured = {}
    for term in p.get("measured_terms", []):
        measured.setdefault(term["stage"], []).append(term)
    for stage in p["stages"]:
        names = {t["name"] for t in stage["persistent"]}
        for name in [n for n in held if n not in names and n not in ("input covariance", "imports ballast")]:
            del held[name]
        for t in stage["persistent"]:
            if t["name"] not in held:
                held[t["name"]] = touch(t["bytes"] * scale)
        transients = [touch(t["bytes"] * scale) for t in stage["transient"] + measured.get(stage["name"], [])]
        print(f"stage {stage['name']}: rss {status_bytes('VmRSS') // MIB} MiB", flush=True)
        time.sleep(hold)
        del transients
    del held


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comment", help="the job's qube: comment (default: $QUBE_COMMENT)")
    ap.add_argument("--touch-mib", type=int, help="allocate and touch this many MiB, hold, exit")
    ap.add_argument("--qubemem", default=os.environ.get("QUBEMEM", "qubemem"), help="the qubemem binary")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every allocation (default 1)")
    ap.add_argument("--hold", type=float, default=3.0, help="seconds to hold each peak (default 3)")
    ap.add_argument("--no-emulate-imports", action="store_true", help="no ballast up to the interpreter floor")
    args = ap.parse_args()
    if args.touch_mib is not None:
        block = touch(args.touch_mib * MIB)
        time.sleep(args.hold)
        del block
    else:
        comment = args.comment or os.environ.get("QUBE_COMMENT")
        if not comment:
            ap.error("give --comment, --touch-mib, or set QUBE_COMMENT")
        run_stages(comment, args.qubemem, args.scale, args.hold, not args.no_emulate_imports)
    print(f"VmHWM {status_bytes('VmHWM')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

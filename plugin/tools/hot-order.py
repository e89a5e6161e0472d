#!/usr/bin/env python3
"""Writes plugin/hot-functions.order: the .so's functions in the order one steady-state job_submit
call first runs them, for several typical comments.

Inside slurmctld every job_submit call starts with cold caches and TLB, so its cost is mostly one
miss per distinct page it touches. The linker (lld, --symbol-ordering-file) places the listed
functions side by side, so the hot path spans a few pages instead of dozens. Rerun this after
changing the plugin's Swift code (`make -C plugin hot-order`); a stale list still links, the path
is only spread over more pages again (`make -C plugin test` warns when many names are missing).

Method: valgrind --tool=lackey traces every instruction address of the third call of job_submit
made by the optimised test harness in "trace" mode (tests/harness.c; the first two calls warm up
lazy state), and each address is mapped to its function with nm.

Usage: plugin/tools/hot-order.py PLUGIN.so BENCH_HARNESS > hot-functions.order
"""
import bisect
import re
import subprocess
import sys
import tempfile

COMMENTS = [
    "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU",
    "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64",
    "qube: model=1.2 path=auto fields=TQU n_obs=1000 lmax_signal=24 lmax=20 cache=yes",
    "qube: n_pix=3 n_pix=4",  # a malformed comment: the rejection path
]


def functions(so):
    out = subprocess.run(["nm", "-S", "--defined-only", so], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    syms.sort()
    return syms


# The shim's own functions; every other listed name must come from qubemem's Swift modules (or be
# a specialisation made in them). Runtime and standard-library functions are left where they are:
# many share one big section with unrelated code, and placing that section would push the rest
# of the hot path away.
SHIM = {"job_submit", "job_modify", "decide", "log_line", "init", "fini"}


def ours(name):
    return name in SHIM or name.startswith("qubemem_v1_") or "QubeMem" in name


def main():
    so, harness = sys.argv[1], sys.argv[2]
    syms = functions(so)
    starts = [s[0] for s in syms]
    order, seen = [], set()
    for comment in COMMENTS:
        with tempfile.NamedTemporaryFile() as log, tempfile.TemporaryDirectory() as config:
            run = subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={log.name}",
                                  harness, "trace", so, config, comment], capture_output=True, text=True)
            marker = int(re.search(r"marker (0x[0-9a-f]+)", run.stderr).group(1), 16)
            base = int(re.search(r"base (0x[0-9a-f]+)", run.stderr).group(1), 16)
            calls, inside = 0, False
            for line in open(log.name):
                parts = line.split()
                if len(parts) < 2 or parts[0] not in ("I", "S", "M", "L"):
                    continue
                address = int(parts[1].split(",")[0], 16)
                if parts[0] in ("S", "M") and address == marker:
                    calls += 1
                    inside = calls == 3
                elif parts[0] in ("S", "M") and address == marker + 4096:
                    inside = False
                elif inside and parts[0] == "I":
                    offset = address - base
                    i = bisect.bisect_right(starts, offset) - 1
                    if (i >= 0 and offset < syms[i][0] + max(syms[i][1], 1) and syms[i][2] not in seen
                            and ours(syms[i][2])):
                        seen.add(syms[i][2])
                        order.append(syms[i][2])
    if len(order) < 10:
        sys.exit(f"hot-order: only {len(order)} functions traced; is valgrind working?")
    print("\n".join(order))


if __name__ == "__main__":
    main()

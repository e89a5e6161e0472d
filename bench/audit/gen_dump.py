#!/usr/bin/env python3
"""Write a synthetic `sacct -P` dump in qubemem's field order for the parse benchmark.

  gen_dump.py ROWS STEPS_PER_JOB OUT

Each job is one allocation row (with a qubemem:v1 AdminComment record and a qube comment) and
STEPS_PER_JOB step rows (batch, extern, then numbered steps); every 10th job is an array task and
every 50th a heterogeneous component, states vary (COMPLETED, OUT_OF_MEMORY, CANCELLED, TIMEOUT,
FAILED), sizes use bare bytes and K/M/G suffixes. Deterministic (seeded).
"""

import random
import sys

rows, steps, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(42)
STATES = ["COMPLETED"] * 90 + ["OUT_OF_MEMORY"] * 3 + ["CANCELLED by 1000"] * 3 + ["TIMEOUT"] * 2 + ["FAILED"] * 2
per_job = steps + 1
jobs = rows // per_job
with open(out, "w") as f:
    for i in range(jobs):
        base = 100000 + i
        if i % 10 == 0:
            jid = f"{base}_{i % 97}"
        elif i % 50 == 1:
            jid = f"{base}+{i % 2}"
        else:
            jid = str(base)
        total = rng.randint(300, 60000) * (1 << 20)
        peak = total - 268435456
        req = (total * 115 + 99) // 100 // (1 << 20) + 1
        state = rng.choice(STATES)
        path = "harmonic" if i % 3 else "pixel_direct"
        f.write(f"{jid}|qube-{i % 17}|user{i % 23}|acct{i % 5}|normal|{state}|{rng.randint(60, 86400)}|1||4|{req}M|||"
                f"qube: path={path} fields=QU n_obs={1000 + i % 5000} lmax=64|qubemem:v1 action=set model=1.3 "
                f"path={path} peak_bytes={peak} baseline_bytes=268435456 slack=1.15 request_mib={req} user_mib=none\n")
        used = int(total * rng.uniform(0.6, 1.2))
        for s in range(steps):
            name = "batch" if s == 0 else "extern" if s == 1 else str(s - 2)
            if s == 1:
                rss = "0"
            elif s % 3 == 0:
                rss = f"{used // 1024}K"
            elif s % 3 == 1:
                rss = str(used)
            else:
                rss = f"{used / (1 << 30):.2f}G"
            tasks = 1
            f.write(f"{jid}.{name}|{name}|||normal|COMPLETED|{rng.randint(60, 86400)}|1|{tasks}|4||{rss}|"
                    f"cpu=00:01:00,energy=0,fs/disk=4992919,mem={used},pages=0,vmem={used + 100000000}||\n")
print(f"{jobs * per_job} rows, {jobs} jobs -> {out}")

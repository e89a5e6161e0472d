#!/usr/bin/env python3
"""Write a synthetic `sacct -P` dump with every kind of job the audit tells apart.

  gen_varied.py JOBS OUT [--shuffle]

Unlike gen_dump.py (every job has a plugin record, rows in sacct's order), the jobs here mix:
records (two paths, two models, two slacks), multi-rank records (ranks_per_node and mem_per_cpu),
action=warn and unreadable records, no record with a qube comment (recomputed), with an
unpriceable one, and with none; ReqMem total, per node (n), per CPU (c) or empty (the record's
request is then used); OOM jobs and OOM steps; steps without MaxRSS; several tasks (task sum) and
several nodes (node bound); array tasks and heterogeneous components; running jobs, pending array
ranges and step rows without their job row. With --shuffle the rows are in random order, as a
database source may interleave them. Deterministic (seeded). Used by tests/audit/test_audit_scale.py
to compare reports.
"""

import random
import sys

MIB = 1 << 20


def rows(jobs, seed=7):
    rng = random.Random(seed)
    out = []
    for i in range(jobs):
        base = 500000 + i
        jid = f"{base}_{i % 13}" if i % 11 == 0 else f"{base}+{i % 3}" if i % 37 == 1 else str(base)
        state = rng.choice(["COMPLETED"] * 80 + ["OUT_OF_MEMORY"] * 6 + ["CANCELLED by 0"] * 4
                           + ["TIMEOUT"] * 4 + ["FAILED"] * 4 + ["NODE_FAIL"] * 2)
        if i % 97 == 5:
            out.append(f"{jid}|live|user{i % 7}|acct{i % 3}|normal|RUNNING|10|1||4|1000M|||qube: x|")
            continue
        if i % 101 == 7:
            out.append(f"{base}_[1-4%2]|pend|user1|acct0|normal|PENDING|0|1||1|1000M||||")
            continue
        peak = rng.randint(200, 40000) * MIB + rng.randint(0, MIB)
        baseline = 268435456
        slack = rng.choice(["1.15"] * 5 + ["1.2", "1.1"])
        model = "1.3" if i % 5 else "1.2"
        path = "harmonic" if i % 3 else "pixel_direct"
        nodes, cpus = 1, 4
        kind = i % 20
        total = peak + baseline
        req_mib = total * 115 // 100 // MIB + 1
        comment = f"qube: path={path} fields=QU n_obs={1000 + i % 4000} lmax=64"
        admin = (f"qubemem:v1 action=set model={model} path={path} peak_bytes={peak} baseline_bytes={baseline} "
                 f"slack={slack} request_mib={req_mib} user_mib=none")
        if kind == 1:  # MPI, ranks per node
            nodes, cpus = 2, 16
            admin += f" ranks_per_node=4 node_bytes={4 * total}"
            total *= 4
            req_mib = total * 115 // 100 // MIB + 1
        elif kind == 2:  # MPI, memory per CPU
            nodes, cpus = 3, 24
            admin = (f"qubemem:v1 action=set model={model} path={path} peak_bytes={peak} baseline_bytes={baseline} "
                     f"slack={slack} request_mib={req_mib // 2} user_mib=none ranks=12 mem_per_cpu=yes "
                     f"cpus_per_rank=2 rank_bytes={total}")
            total *= 4  # 8 CPUs per node, 4 ranks
        elif kind == 3:
            admin = "qubemem:v1 action=warn model=1.3 reason=bad_comment"
        elif kind == 4:
            admin = "note from ops; qubemem:v1 action=set model=1.3 path=harmonic slack=1.15"
        elif kind == 5:
            admin = ""  # recomputed from the comment
        elif kind == 6:
            admin, comment = "", "qube: path=harmonic fields=QU n_obs=abc lmax=64"
        elif kind == 7:
            admin, comment = "", "plain user comment"
        elif kind == 8:
            admin = "old tool text; " + admin.replace("user_mib=none", "user_mib=2048")
        reqmem = rng.choice([f"{req_mib * nodes}M", f"{req_mib}Mn", f"{-(-req_mib // cpus)}Mc", ""]) \
            if kind not in (5, 6, 7) else rng.choice([f"{req_mib}M", ""])
        name = f"qube-{i % 17}" if i % 29 else "qübe-ünïcode-long-name"
        out.append(f"{jid}|{name}|user{i % 23}|acct{i % 5}|{'normal' if i % 4 else 'big'}|{state}|"
                   f"{rng.randint(0, 90000)}|{nodes}||{cpus}|{reqmem}|||{comment}|{admin}")
        used = int(total * rng.uniform(0.5, 1.25))
        if i % 53 == 3:
            out.append(f"{900000000 + i}.batch|batch|||normal|COMPLETED|5|1|1|1||{used}|||")  # orphan
        steps = rng.choice([1, 2, 3])
        for s in range(steps):
            name = ["batch", "extern", "0"][s]
            tasks, snodes = 1, 1
            if s == 2 and i % 4 == 0:
                tasks, snodes = 8, nodes
            rss = "" if (i % 31 == 4 and s != 1) else ("0" if s == 1 else
                                                        rng.choice([f"{used // 1024}K", str(used // max(1, tasks // 2)),
                                                                    f"{used / (1 << 30):.2f}G"]))
            sstate = "OUT_OF_MEMORY" if (i % 43 == 2 and s == 0) else "COMPLETED"
            tres = f"cpu=00:01:00,mem={used * tasks // 2},pages=0" if tasks > 1 else ""
            out.append(f"{jid}.{name}|{name}|||normal|{sstate}|{rng.randint(1, 900)}|{snodes}|{tasks}|4||{rss}|{tres}||")
    return out


if __name__ == "__main__":
    jobs, path = int(sys.argv[1]), sys.argv[2]
    lines = rows(jobs)
    if "--shuffle" in sys.argv[3:]:
        random.Random(11).shuffle(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} rows, {jobs} jobs -> {path}")

#!/usr/bin/env python3
"""Fill a slurmdbd database with generated finished jobs, for `audit --source db` at scale.

  fill_db.py JOBS STEPS_PER_JOB --socket SOCK [--cluster qubesandbox] [--database slurm_acct_db]
             [--first-job 10000000] [--replace] [--requeued K]

Writes JOBS rows into `<cluster>_job_table` and JOBS × STEPS_PER_JOB into `<cluster>_step_table`
with LOAD DATA (tab-separated files streamed through the client), in the columns slurmdbd itself
fills and the audit's query reads; the rest keep their defaults. Jobs are those of gen_dump.py in
kind: a qube comment and a qubemem:v1 record on every job, states mostly COMPLETED with OOMs,
cancellations and timeouts, one to three nodes, peaks around the prediction. Ids start at
--first-job so that the sandbox's own jobs stay apart; --replace deletes earlier generated rows
(ids at or above --first-job) first. --requeued K gives every K-th job a second, newer record (as a
requeue does), after all the others in the table, with one batch step of 1 MiB: the newer
record of every other one of them is marked deleted, so that sacct shows the older record there,
and the newer one elsewhere. Deterministic (seeded).

The sandbox's database (`scripts/sandbox.sh start`) is the usual target: its socket is
.sandbox/run/mysql/mysqld.sock, its cluster `qubesandbox`.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

JOB_COLUMNS = [
    "job_db_inx", "id_job", "id_array_job", "id_array_task", "het_job_id", "het_job_offset", "id_user",
    "id_group", "id_assoc", "id_resv", "id_wckey", "cpus_req", "state", "kill_requid", "time_submit",
    "time_eligible", "time_start", "time_end", "time_suspended", "nodes_alloc", "tres_alloc", "tres_req",
    "job_name", "account", "`partition`", "derived_es", "admin_comment", "state_reason_prev", "priority",
    "deleted",
]
STEP_COLUMNS = [
    "job_db_inx", "id_step", "step_het_comp", "state", "kill_requid", "time_start", "time_end", "time_suspended",
    "nodelist", "nodes_alloc", "task_cnt", "tres_alloc", "tres_usage_in_max", "tres_usage_in_tot", "step_name",
]
NO_VAL = 4294967294
# (state number, weight): COMPLETED, OUT_OF_MEMORY, CANCELLED, TIMEOUT, FAILED
STATES = [3] * 90 + [11] * 3 + [4] * 3 + [6] * 2 + [5] * 2


def client(args, sql, stdin=None):
    cmd = ["mariadb", "--socket", args.socket, "-uroot", "--local-infile=1", args.database, "-e", sql]
    subprocess.run(cmd, check=True, stdin=stdin)


def rows(args):
    rng = random.Random(7)
    newer = []
    t0 = 1_780_000_000
    for j in range(args.jobs):
        inx = args.first_job + j
        job = args.first_job + j
        state = rng.choice(STATES)
        nodes = rng.choice((1, 1, 1, 2, 3))
        n_pix = rng.randrange(2_000, 40_000)
        peak = n_pix * n_pix * 8 * 3
        base = 470_000_000
        total = peak + base
        request_mib = (total * 115 // 100 + (1 << 20) - 1) >> 20
        start = t0 + j * 3
        end = start + rng.randrange(60, 7200)
        used = int(total * rng.uniform(0.7, 1.02)) if state != 11 else request_mib << 20
        comment = f"qube: path=pixel_direct n_pix={n_pix} n_bins=8 n_params=8"
        record = (f"qubemem:v1 action=set model=1.3 path=pixel_direct peak_bytes={peak} baseline_bytes={base} "
                  f"slack=1.15 request_mib={request_mib} user_mib=none")
        tres = f"1={2 * nodes},2={request_mib * nodes},4={nodes}"
        yield "job", [inx, job, 0, NO_VAL, 0, NO_VAL, 1000 + j % 50, 1000, 0, 0, 0, 2 * nodes, state, -1,
                      start - 30, start - 20, start, end, 0, nodes, tres, tres, "qube-fisher", f"acct{j % 7}",
                      "debug", comment, record, 0, 1, 0]
        if args.requeued and j % args.requeued == 0:
            n = j // args.requeued
            newer.append((args.first_job + args.jobs + n, job, nodes, tres, comment, record, start, end, n % 2))
        for s in range(args.steps):
            step_id, name = (-5, "batch") if s == 0 else (s - 1, "python3")
            tasks = 1 if s == 0 else nodes
            max_rss = used if s == args.steps - 1 else used // 10
            yield "step", [inx, step_id, NO_VAL, state if s == args.steps - 1 else 3, -1, start, end, 0,
                           "n1", 1 if s == 0 else nodes, tasks, f"1={2 * tasks}", f"2={max_rss}",
                           f"2={max_rss * tasks}", name]
    for inx, job, nodes, tres, comment, record, start, end, deleted in newer:
        yield "job", [inx, job, 0, NO_VAL, 0, NO_VAL, 1000, 1000, 0, 0, 0, 2 * nodes, 3, -1,
                      end + 60, end + 70, end + 80, end + 200, 0, nodes, tres, tres, "qube-fisher", "acct0",
                      "debug", comment, record, 0, 1, deleted]
        yield "step", [inx, -5, NO_VAL, 3, -1, end + 80, end + 200, 0, "n1", 1, 1, "1=2", "2=1048576",
                       "2=1048576", "batch"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("jobs", type=int)
    p.add_argument("steps", type=int, help="step rows per job (the first is batch)")
    p.add_argument("--socket", required=True)
    p.add_argument("--cluster", default="qubesandbox")
    p.add_argument("--database", default="slurm_acct_db")
    p.add_argument("--first-job", type=int, default=10_000_000)
    p.add_argument("--replace", action="store_true")
    p.add_argument("--requeued", type=int, default=0, metavar="K",
                   help="every K-th job has a second, newer record (every other one deleted)")
    args = p.parse_args()
    if not args.cluster.replace("_", "").isalnum() or not args.database.replace("_", "").isalnum():
        sys.exit(f"fill_db.py: cluster '{args.cluster}' and database '{args.database}' must be plain names")
    jobs_t, steps_t = f"`{args.cluster}_job_table`", f"`{args.cluster}_step_table`"
    if args.replace:
        client(args, f"DELETE s FROM {steps_t} s JOIN {jobs_t} j ON s.job_db_inx = j.job_db_inx "
                     f"WHERE j.id_job >= {args.first_job}; DELETE FROM {jobs_t} WHERE id_job >= {args.first_job}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"job": os.path.join(tmp, "jobs.tsv"), "step": os.path.join(tmp, "steps.tsv")}
        files = {k: open(v, "w") for k, v in paths.items()}
        for kind, values in rows(args):
            files[kind].write("\t".join(str(v) for v in values) + "\n")
        for f in files.values():
            f.close()
        # Keys checked once at the end, not per row: the load is then mostly sequential writes.
        for kind, table, columns in (("job", jobs_t, JOB_COLUMNS), ("step", steps_t, STEP_COLUMNS)):
            client(args, "SET unique_checks = 0; SET foreign_key_checks = 0; "
                         f"LOAD DATA LOCAL INFILE '{paths[kind]}' INTO TABLE {table} ({', '.join(columns)})")
    extra = f" and {(args.jobs + args.requeued - 1) // args.requeued} newer records" if args.requeued else ""
    print(f"fill_db.py: {args.jobs} jobs and {args.jobs * args.steps} steps{extra} in {args.cluster}'s tables")


if __name__ == "__main__":
    main()

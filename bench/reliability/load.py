#!/usr/bin/env python3
"""Load test of job_submit/qubemem inside the sandbox's real slurmctld: many submissions from
concurrent submitters, hostile comments among them, qubemem.conf rewritten, broken, removed and
restored under load, and job_modify updates on pending jobs.

    python3 bench/reliability/load.py --jobs 10000 --submitters 4 --phase 500   # BENCHMARKS.md
    python3 bench/reliability/load.py --jobs 400 --phase 25                     # make check's short run

The sandbox must be running with the plugin (scripts/sandbox.sh start with QUBEMEM_PLUGIN_DIR);
QUBEMEM names the qubemem binary whose `predict --request` is the oracle. Jobs are submitted held
(`sbatch --hold --wrap true`) and cancelled after each phase, so the node never runs them.

What is checked, each a counted failure (the script exits 1 on any):
- slurmctld keeps its pid from start to end;
- every accepted job with a valid comment has exactly the memory (MinMemoryNode / MinMemoryCPU)
  and AdminComment record fields that `qubemem predict --request` gives for that comment, layout
  and the qubemem.conf in force when it was submitted (the config changes only between phases);
- every malformed comment is refused with the documented "qubemem: invalid qube comment: ..."
  (or, under on_malformed=warn, accepted untouched with an action=warn record);
- jobs without a qube comment are untouched (no record, the memory they asked for);
- job_modify: a new comment on a pending job recomputes its memory as predict does;
- every accepted job with a valid comment has the copy of its record at the end of its comment
  (comment_record);
- every accepted job is in sacct (with its AdminComment) once slurmdbd has it;
- slurmctld's RSS after warm-up (the first quarter of the phases) stays within --rss-bound MiB of
  its level then;
- slurmctld's log has no error line the plugin did not write on purpose.
Prints one JSON summary line and a closing "N passed, N failed" line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
import slurmsandbox as sb  # noqa: E402

sys.path.insert(0, str(REPO / "tests" / "plugin"))
# The sandbox's qubemem.conf, slurmctld's pid and log, and the admin-style config rewrite: the
# plugin suite's own helpers.
from test_job_submit_qubemem import CTLD_LOG, ctld_pid, write_config  # noqa: E402

QUBEMEM = os.environ.get("QUBEMEM", str(REPO / ".build" / "release" / "qubemem"))

# Valid comments: every key, both paths, every model.
VALID = [
    "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU",
    "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64",
    "qube: fields=QU nside=16 fsky=0.2 lmax=32",
    "qube: model=1.0 path=pixel_direct fields=QU n_obs=1504 lmax=32 lmax_signal=64 switch=yes",
    "qube: model=1.2 path=pixel_direct fields=T nside=16 fsky=0.5 lmax=24 cache=yes",
    "qube: model=1.3 path=harmonic fields=QU n_obs=2496 lmax=64 lmax_signal=128 working_dim=3000",
    "qube: model=1.1.0 path=harmonic n_pix=4992 n_modes=8442 lmax_signal=128 lmax=64",
    "nightly run 7 qube: model=latest path=pixel_direct fields=TQU nside=8 fsky=1 lmax=16; owner=cmb",
    "qube: path=pixel_direct fields=T n_obs=1500 lmax=16 n_bins=6 keep_v=no",
]
# Malformed comments, one per error class; each is refused with the parser's message.
MALFORMED = [
    "qube: color=blue n_pix=3008",
    "qube: n_pix=3008 n_pix=3008 lmax=32",
    "qube: n_pix=-3 lmax=32",
    "qube: path=pixel_direct n_pix=0 lmax=32 fields=QU",
    "qube: path=pixel_direct n_pix=1099511627776 lmax=32 fields=QU",
    "qube: n_pix=" + "9" * 65536,
    "qube: %s%n%x%n lmax=%n",
    "qube: n_pix=$(reboot);`id`|&>/tmp/x",
    "qube:",
    "qube: path=sideways n_pix=3008",
    "qube: model=9.9 n_pix=3008 lmax=32",
]
NON_UTF8 = b"qube: n_pix=30\xff\xfe\xc3 lmax=2"
PLAIN = [None, "nightly run 7", "seeqube: n_pix=-1", "%n%n%n%s%s"]
# Task layouts (sbatch flags, predict flags), within the one-node sandbox's CPUs.
LAYOUTS = [([], []), (["--ntasks-per-node=2"], ["--ntasks-per-node", "2"]), (["-n", "2"], ["--ntasks", "2"])]

CONFIGS = [
    "",
    "slack = 1.3\n",
    "slack = 1.05\nuser_memory = override\nmin_request = 2G\n",
    "on_malformed = warn\ninterpreter_floor = 300M\n",
]
BROKEN = "slack = 1.2\nbogus = yes\n"


def ctld_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Oracle:
    """`qubemem predict --request` under a given config text, cached."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cache: dict = {}

    def request(self, config: str, comment: str, flags: list[str]) -> tuple[int, str] | None:
        key = (config, comment, tuple(flags))
        if key not in self.cache:
            path = self.folder / f"conf-{abs(hash(config))}.conf"
            path.write_text(config)
            r = subprocess.run([QUBEMEM, "predict", "--from-comment", comment, "--request", "--config", str(path),
                                *flags], text=True, capture_output=True, timeout=60)
            m = re.search(r"^Request: (\d+) MiB per (node|CPU)", r.stdout, re.M)
            self.cache[key] = (int(m.group(1)), m.group(2)) if r.returncode == 0 and m else None
        return self.cache[key]


def submit(comment, flags, name):
    argv = [b"sbatch", b"--parsable", b"--hold", b"--output=/dev/null", f"--job-name={name}".encode(),
            *[f.encode() for f in flags]]
    if comment is not None:
        argv.append(b"--comment=" + (comment if isinstance(comment, bytes) else comment.encode()))
    argv.append(b"--wrap=true")
    env = {k.encode(): v.encode() for k, v in sb.sandbox_env().items()}
    p = subprocess.run(argv, env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    jobid = p.stdout.decode().strip().split(";")[0] if p.returncode == 0 else None
    return jobid, p.stderr.decode(errors="replace")


def jobs_by_id() -> dict[str, dict[str, str]]:
    # Bytes, not text: a warned job keeps its non-UTF-8 comment, and scontrol prints it as is.
    out = subprocess.run(["scontrol", "show", "job"], env=sb.sandbox_env(), capture_output=True, timeout=120,
                         check=True).stdout.decode(errors="replace")
    jobs = {}
    for block in out.split("\n\n"):
        rec = sb.parse_scontrol_record(block)
        if "JobId" in rec:
            jobs[rec["JobId"]] = rec
    return jobs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--submitters", type=int, default=4)
    ap.add_argument("--phase", type=int, default=500, help="submissions between config changes")
    ap.add_argument("--modify", type=int, default=5, help="job_modify updates per phase")
    ap.add_argument("--rss-bound", type=float, default=64.0, help="allowed slurmctld RSS growth after warm-up, MiB")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"qubemem-load-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    oracle = Oracle(folder)
    run_name = f"qmload{os.getpid()}"
    failures: list[str] = []
    checks = 0

    def fail(text):
        failures.append(text)

    pid = ctld_pid()
    log_start = CTLD_LOG.stat().st_size
    good = ""            # the config in force
    accepted_all: list[str] = []
    rss: list[int] = []
    submitted = 0
    phase_no = 0
    t0 = time.monotonic()
    outcomes = {"accepted": 0, "refused": 0, "warned": 0, "untouched": 0, "modified": 0}
    while submitted < args.jobs:
        # The config for this phase: write one, break it (the last good stays), remove it, restore.
        # Phases go: config k, broken (k stays in force), removed (defaults), config k+1, ...
        step = phase_no % 4
        if step in (0, 3):
            good = CONFIGS[(phase_no // 4 + (1 if step == 3 else 0)) % len(CONFIGS)]
            write_config(good)
        elif step == 1:
            write_config(BROKEN)          # refused by the plugin: `good` stays in force
        else:
            write_config(None)            # no file: the documented defaults
            good = ""
        warn = "on_malformed = warn" in good
        n = min(args.phase, args.jobs - submitted)
        plan = []
        for i in range(n):
            kind = rng.choices(["valid", "malformed", "non-utf8", "plain"], [60, 25, 3, 12])[0]
            layout = rng.choice(LAYOUTS)
            if kind == "valid":
                comment = rng.choice(VALID)
            elif kind == "malformed":
                comment = rng.choice(MALFORMED)
            elif kind == "non-utf8":
                comment = NON_UTF8
            else:
                comment = rng.choice(PLAIN)
                layout = (["--mem=123"], [])
            plan.append((kind, comment, layout))
        results: list = [None] * n

        def worker(k):
            for i in range(k, n, args.submitters):
                kind, comment, layout = plan[i]
                results[i] = submit(comment, layout[0], run_name)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.submitters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        submitted += n
        jobs = jobs_by_id()
        phase_ids = []
        for (kind, comment, layout), (jobid, stderr) in zip(plan, results):
            checks += 1
            if kind in ("malformed", "non-utf8"):
                if warn and len(comment) > 1024:
                    # SLURM itself refuses comments over 1024 bytes, after the plugin's warning.
                    if jobid or "too long" not in stderr:
                        fail(f"phase {phase_no}: a {len(comment)}-byte comment under warn: {jobid} {stderr[:200]}")
                    else:
                        outcomes["refused"] += 1
                elif warn:
                    rec = jobs.get(jobid or "", {})
                    if not jobid or not rec.get("AdminComment", "").startswith("qubemem:v1 action=warn"):
                        fail(f"phase {phase_no}: malformed comment under warn not accepted with a warn record: {stderr[:200]}")
                    else:
                        outcomes["warned"] += 1
                elif jobid or "qubemem: invalid qube comment: " not in stderr:
                    fail(f"phase {phase_no}: malformed comment not refused with its message: {jobid} {stderr[:200]}")
                else:
                    outcomes["refused"] += 1
                if jobid:
                    phase_ids.append(jobid)
                continue
            if not jobid:
                fail(f"phase {phase_no}: {kind} job refused: {stderr[:300]}")
                continue
            phase_ids.append(jobid)
            rec = jobs.get(jobid)
            if rec is None:
                fail(f"phase {phase_no}: accepted job {jobid} not in scontrol")
                continue
            if kind == "plain":
                if sb.parse_size(rec.get("MinMemoryNode", "")) != 123 << 20 or "qubemem" in rec.get("AdminComment", ""):
                    fail(f"phase {phase_no}: plain job {jobid} touched: {rec.get('MinMemoryNode')} {rec.get('AdminComment')}")
                else:
                    outcomes["untouched"] += 1
                continue
            expected = oracle.request(good, comment, layout[1])
            if expected is None:
                fail(f"phase {phase_no}: predict cannot price {comment!r}")
                continue
            mib, unit = expected
            field = "MinMemoryCPU" if unit == "CPU" else "MinMemoryNode"
            if sb.parse_size(rec.get(field, "")) != mib << 20 or f"request_mib={mib} " not in rec.get("AdminComment", ""):
                fail(f"phase {phase_no}: job {jobid} {comment!r} {layout[0]} under {good!r}: "
                     f"{field}={rec.get(field)} record={rec.get('AdminComment')!r}, predict says {mib} per {unit}")
            elif "; " + rec.get("AdminComment", "?") not in rec.get("Comment", ""):
                # comment_record (default yes): the record's copy follows the user's text.
                fail(f"phase {phase_no}: job {jobid}: no copy of the record in its comment: {rec.get('Comment')!r}")
            else:
                outcomes["accepted"] += 1
        # job_modify on pending jobs: a new valid comment recomputes the memory.
        pending = [j for j, (kind, _, layout) in zip(results, plan)
                   if j[0] and kind in ("valid", "plain") and not layout[1]][: args.modify]
        for jobid, _ in pending:
            new = rng.choice(VALID)
            checks += 1
            r = sb.run(["scontrol", "update", f"jobid={jobid}", f"comment={new}"], check=False)
            rec = sb.scontrol_job(jobid) or {}
            mib, unit = oracle.request(good, new, []) or (None, None)
            if r.returncode != 0 or mib is None or sb.parse_size(rec.get("MinMemoryNode", "")) != mib << 20:
                fail(f"phase {phase_no}: job_modify of {jobid} to {new!r}: {rec.get('MinMemoryNode')} vs {mib}")
            else:
                outcomes["modified"] += 1
        for i in range(0, len(phase_ids), 200):
            sb.run(["scancel", *phase_ids[i:i + 200]], check=False, timeout=120)
        accepted_all += phase_ids
        now_pid = ctld_pid()
        checks += 1
        if now_pid != pid:
            fail(f"phase {phase_no}: slurmctld pid changed {pid} -> {now_pid}")
            break
        rss.append(ctld_rss_kib(pid))
        phase_no += 1
    elapsed = time.monotonic() - t0
    write_config(None)

    # sacct has every accepted job, with its AdminComment.
    deadline = time.monotonic() + 120
    while True:
        in_sacct = {}
        # Held jobs cancelled before they were eligible fall outside any -S window: ask by id.
        for i in range(0, len(accepted_all), 500):
            out = sb.run(["sacct", "-X", "-n", "-P", "--noconvert", "-j", ",".join(accepted_all[i:i + 500]),
                          "-o", "JobID,AdminComment"], timeout=300).stdout
            in_sacct.update(line.split("|", 1) for line in out.splitlines() if "|" in line)
        missing = [j for j in accepted_all if j not in in_sacct]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(3)
    checks += 1
    if missing:
        fail(f"{len(missing)} accepted jobs not in sacct (first: {missing[:5]})")
    checks += 1
    # Warm-up: the first quarter of the phases (slurmctld's own tables and caches fill up).
    warm = max(1, len(rss) // 4)
    growth = (max(rss[warm:]) - rss[warm - 1]) / 1024 if len(rss) > warm else 0.0
    if growth > args.rss_bound:
        fail(f"slurmctld RSS grew {growth:.1f} MiB after warm-up (bound {args.rss_bound} MiB): {rss}")
    # No error in slurmctld's log but the plugin's own (config it refused, on purpose).
    with CTLD_LOG.open("rb") as f:
        f.seek(log_start)
        log = f.read().decode(errors="replace")
    # SLURM prefixes its error() lines with "error: "; a refused submission's own line
    # (`_slurm_rpc_submit_batch_job: ...`) is the refusal the test asked for, not an error.
    unexpected = [l for l in log.splitlines() if "error: " in l and "qubemem:" not in l]
    checks += 1
    if unexpected:
        fail(f"{len(unexpected)} unexpected error lines in slurmctld's log, first: {unexpected[:3]}")
    summary = {
        "submissions": submitted, "submitters": args.submitters, "phases": phase_no, "elapsed_s": round(elapsed, 1),
        "submissions_per_s": round(submitted / elapsed, 1), "outcomes": outcomes, "in_sacct": len(accepted_all) - len(missing),
        "accepted_or_warned_jobs": len(accepted_all), "ctld_pid_unchanged": ctld_pid() == pid,
        "ctld_rss_mib": [round(x / 1024, 1) for x in (rss[0], max(rss), rss[-1])] if rss else None,
        "ctld_rss_growth_after_warmup_mib": round(growth, 1), "warmup_phases": warm, "failures": failures[:20],
    }
    print(json.dumps(summary))
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

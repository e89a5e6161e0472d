"""Coexistence with jobstats: its slurmctld epilog replaces the job's AdminComment.

jobstats (the most used job-efficiency tool) stores its summary with
`sacctmgr -i update job where jobid=N set AdminComment=JS1:<base64 of gzipped JSON>` when the job
ends, which wipes the plugin's record. The plugin also keeps a copy of the record at the end of
the job's Comment (comment_record, default yes), and the audit reads that copy when the
AdminComment holds no record, trusting it only when the memory it says was set is ReqMem.

This runs that epilog shape in the sandbox's slurmctld (scripts/sandbox.sh runs every executable
in etc/epilog-slurmctld.d/) on jobs named `jobstats-*`, and checks that the audit, through sacct
and through the database, attributes those jobs to the prediction the plugin recorded at
submission.
"""

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import EXAMPLES, qubemem, record_fields  # noqa: E402

MIB = 1 << 20
WORKLOAD = EXAMPLES / "jobs" / "qube_workload.py"
FLAGS = ["--path", "pixel_direct", "--fields", "T", "--n-obs", "2500", "--lmax", "24"]

EPILOG = """#!/bin/sh
# The shape of jobstats' slurmctld epilog: the job's summary replaces its AdminComment.
case "$SLURM_JOB_NAME" in jobstats-*) ;; *) exit 0 ;; esac
stats=$(printf '{"gpus":false,"nodes":{"n":{"total_memory":1}},"total_time":1}' | gzip -c | base64 -w0)
sacctmgr -i update job where jobid="$SLURM_JOB_ID" set AdminComment="JS1:$stats" >/dev/null 2>&1
exit 0
"""


def admin_comment(sb, jobid):
    rows = sb.sacct_rows(jobid, ["JobID", "AdminComment"], extra_args=["-X"])
    return rows[0]["AdminComment"] if rows else ""


@pytest.fixture(scope="module")
def jobstats_jobs(slurm_sandbox):
    sb = slurm_sandbox
    built = sb.build_plugin()
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    if not sb.current_variant().startswith("qubemem"):
        sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(sb.PLUGIN_BUILD))
    epilog_dir = sb.SANDBOX_DIR / "etc" / "epilog-slurmctld.d"
    assert (sb.SANDBOX_DIR / "etc" / "epilog-slurmctld").exists(), "sandbox without the slurmctld epilog"
    hook = epilog_dir / "jobstats"
    hook.write_text(EPILOG)
    hook.chmod(0o755)
    try:
        comment = qubemem("predict", *FLAGS, "--comment").stdout.strip()
        wrap = f"exec python3 {WORKLOAD} --touch-mib 200 --hold 2"
        sub = sb.submit(["--hold", "--time=5", "--job-name=jobstats-1"], wrap=wrap, comment=comment)
        held = sb.scontrol_job(sub.jobid)
        sb.run(["scontrol", "release", sub.jobid])
        state = sb.wait_final(sub.jobid, timeout=180)
        # The epilog runs after the job ends; its update reaches the database a moment later.
        deadline = time.monotonic() + 60
        while not admin_comment(sb, sub.jobid).upper().startswith("JS1:") and time.monotonic() < deadline:
            time.sleep(1)
        yield {"sb": sb, "sub": sub, "held": held, "state": state, "comment": comment}
    finally:
        hook.unlink(missing_ok=True)


def test_the_epilog_replaced_the_admin_comment(jobstats_jobs):
    sb, sub = jobstats_jobs["sb"], jobstats_jobs["sub"]
    assert jobstats_jobs["state"] == "COMPLETED"
    admin = admin_comment(sb, sub.jobid)
    # sacctmgr lowercases an unquoted value (22.05 does); either way the record is gone.
    assert admin.upper().startswith("JS1:") and "qubemem" not in admin, admin


def test_the_comment_keeps_the_record_the_plugin_wrote(jobstats_jobs):
    held = jobstats_jobs["held"]
    assert held["Comment"] == f"{jobstats_jobs['comment']}; {held['AdminComment']}"
    rows = jobstats_jobs["sb"].sacct_rows(jobstats_jobs["sub"].jobid, ["JobID", "Comment"], extra_args=["-X"])
    assert rows[0]["Comment"] == held["Comment"]


@pytest.mark.parametrize("source", ["sacct", "db"])
def test_the_audit_attributes_the_job_to_the_recorded_prediction(jobstats_jobs, source):
    sb, sub, held = jobstats_jobs["sb"], jobstats_jobs["sub"], jobstats_jobs["held"]
    rec = record_fields(held["AdminComment"])
    start = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    r = qubemem("audit", "--source", source, "--start", start, "--jobs", sub.jobid, "--all", "--json",
                env={**sb.sandbox_env()})
    assert r.returncode == 0, r.stderr
    [entry] = json.loads(r.stdout)["jobs"]
    assert entry["source"] == "record", entry
    assert entry["predicted_bytes"] == int(rec["peak_bytes"]) + int(rec["baseline_bytes"])
    assert entry["requested_bytes"] == int(rec["request_mib"]) * MIB
    assert (entry["model"], entry["path"], entry["slack"]) == (rec["model"], rec["path"], rec["slack"])


def test_without_the_copy_the_job_would_only_be_recomputed(jobstats_jobs, tmp_path):
    """The same sacct row with the copy cut from its comment: the audit can only recompute, which
    is what it did for such jobs before the copy existed."""
    sb, sub = jobstats_jobs["sb"], jobstats_jobs["sub"]
    fields = ("JobID,JobName,User,Account,Partition,State,ElapsedRaw,NNodes,NTasks,AllocCPUS,ReqMem,MaxRSS,"
              "TRESUsageInTot,Comment,AdminComment")
    rows = sb.run(["sacct", "--parsable2", "--noheader", "--noconvert", "-j", sub.jobid, "--format=" + fields],
                  check=True).stdout
    cut = rows.replace("; qubemem:v1 ", "; not-a-record ")
    assert cut != rows
    dump = tmp_path / "cut.sacct"
    dump.write_text(cut)
    r = qubemem("audit", "--input", str(dump), "--all", "--json")
    assert r.returncode == 0, r.stderr
    [entry] = json.loads(r.stdout)["jobs"]
    assert entry["source"] == "recomputed"

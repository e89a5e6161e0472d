"""`qubemem audit` against the real sandbox SLURM with the job_submit plugin.

The release is the sandbox's (QUBEMEM_SANDBOX_RELEASE, default the host's): scripts/check.sh runs
this suite once per release, so sacct's output and slurmdbd's tables of each release are read.

Jobs touch known amounts of memory (200, 600, 1000 MiB), with and without qube comments, and one
job goes over the request the plugin set. The audit runs real sacct.

Tolerance on measured peaks. sacct's MaxRSS for the batch step is the largest RSS that
jobacct_gather/linux sampled (JobAcctGatherFrequency=1 in the sandbox) over the step's processes.
The job is a single process (`exec python3 ...`) that holds its peak for 3 s, so at least two
samples land on the peak; the kernel's own high-water mark of that process (VmHWM, exact), which the
workload prints, is the reference. A sample can only miss what the process held for less than a
second outside the hold (numpy's small temporaries, the last pages being written), so the audit's
peak must be within 2 % + 8 MiB of VmHWM. Against the touched amount, the peak must be at least the
touched bytes and at most 64 MiB more: the interpreter with numpy is about 30 MiB resident here.
"""

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import EXAMPLES, QUBEMEM, REPO, qubemem, record_fields  # noqa: E402

MIB = 1 << 20
WORKLOAD = EXAMPLES / "jobs" / "qube_workload.py"
# A pixel-direct run whose request (1885 MiB) holds every touched amount below.
ROOMY = ["--path", "pixel_direct", "--fields", "T", "--n-obs", "2500", "--lmax", "24"]
# A small one (532 MiB) that a 1000 MiB touch overflows.
SMALL = ["--path", "pixel_direct", "--fields", "T", "--n-obs", "1500", "--lmax", "16", "--n-bins", "6"]


def comment_for(flags):
    r = qubemem("predict", *flags, "--comment")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def predicted_for(comment):
    r = qubemem("predict", "--from-comment", comment, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["request"]


def vmhwm(output):
    m = re.search(r"^VmHWM (\d+)$", output, re.M)
    assert m, f"the workload did not report VmHWM; its output: {output[-500:]!r}"
    return int(m.group(1))


@pytest.fixture(scope="module")
def audited(slurm_sandbox):
    sb = slurm_sandbox
    plugin_dir = sb.PLUGIN_BUILD
    built = sb.build_plugin()  # for the sandbox's release; nothing to do when it is up to date
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    if not sb.current_variant().startswith("qubemem"):
        sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(plugin_dir))
    start = (datetime.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    roomy, small = comment_for(ROOMY), comment_for(SMALL)
    jobs = {}
    for mib in (200, 600, 1000):
        wrap = f"exec python3 {WORKLOAD} --touch-mib {mib} --hold 3"
        jobs[f"plain-{mib}"] = (mib, sb.submit(["--mem=1500M", "--time=5", f"--job-name=plain-{mib}"], wrap=wrap))
        jobs[f"qube-{mib}"] = (mib, sb.submit(["--time=5", f"--job-name=qube-{mib}"], wrap=wrap, comment=roomy))
    wrap = f"exec python3 {WORKLOAD} --touch-mib 1000 --hold 3"
    jobs["oom"] = (1000, sb.submit(["--time=5", "--job-name=qube-oom"], wrap=wrap, comment=small))
    controller = {name: sb.scontrol_job(s.jobid) for name, (_, s) in jobs.items()}
    states = {name: sb.wait_final(s.jobid, timeout=180) for name, (_, s) in jobs.items()}
    ids = ",".join(s.jobid for _, s in jobs.values())
    r = qubemem("audit", "--start", start, "--jobs", ids, "--all", "--json",
                env={**sb.sandbox_env()})
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    by_id = {j["id"]: j for j in report["jobs"]}
    return {"jobs": jobs, "states": states, "controller": controller, "report": report, "by_id": by_id,
            "roomy": roomy, "small": small, "sb": sb}


@pytest.mark.parametrize("name", ["plain-200", "plain-600", "plain-1000", "qube-200", "qube-600", "qube-1000"])
def test_measured_peak_matches_the_touched_memory(audited, name):
    mib, sub = audited["jobs"][name]
    assert audited["states"][name] == "COMPLETED"
    entry = audited["by_id"][sub.jobid]
    peak = entry["peak_bytes"]
    hwm = vmhwm(audited["sb"].job_output(sub.jobid))
    assert abs(peak - hwm) <= 0.02 * hwm + 8 * MIB, (peak, hwm)
    assert mib * MIB <= peak <= (mib + 64) * MIB, (peak, mib)
    assert entry["peak_basis"] == "single_task"


@pytest.mark.parametrize("mib", [200, 600, 1000])
def test_predicted_equals_what_the_plugin_set(audited, mib):
    _, sub = audited["jobs"][f"qube-{mib}"]
    entry = audited["by_id"][sub.jobid]
    rec = record_fields(audited["controller"][f"qube-{mib}"]["AdminComment"])
    assert entry["source"] == "record"
    assert entry["predicted_bytes"] == int(rec["peak_bytes"]) + int(rec["baseline_bytes"])
    assert entry["requested_bytes"] == int(rec["request_mib"]) * MIB
    assert (entry["model"], entry["path"], entry["slack"]) == (rec["model"], rec["path"], rec["slack"])
    # ... and both are what `qubemem predict` says for the comment.
    expected = predicted_for(audited["roomy"])
    assert entry["predicted_bytes"] == expected["total_bytes"]
    assert entry["requested_bytes"] == expected["request_mib"] * MIB
    assert audited["controller"][f"qube-{mib}"]["MinMemoryNode"] == f"{expected['request_mib']}M"


@pytest.mark.parametrize("mib", [200, 600, 1000])
def test_jobs_without_comment_are_plain_requested_versus_used(audited, mib):
    _, sub = audited["jobs"][f"plain-{mib}"]
    entry = audited["by_id"][sub.jobid]
    assert entry["source"] == "none" and entry["predicted_bytes"] is None
    assert entry["requested_bytes"] == 1500 * MIB
    assert abs(entry["requested_over_peak"] - 1500 * MIB / entry["peak_bytes"]) < 1e-4


def test_job_over_its_request_ends_out_of_memory_and_is_flagged(audited):
    _, sub = audited["jobs"]["oom"]
    assert audited["states"]["oom"] == "OUT_OF_MEMORY"
    entry = audited["by_id"][sub.jobid]
    assert entry["oom"] is True and entry["near_miss"] is False
    assert entry["state"] == "OUT_OF_MEMORY"
    expected = predicted_for(audited["small"])
    assert entry["predicted_bytes"] == expected["total_bytes"]
    assert entry["requested_bytes"] == expected["request_mib"] * MIB
    summary = audited["report"]["summary"][0]
    assert summary["group"] == "all" and summary["oom"] == 1
    rec = audited["report"]["recommendation"]
    # The killed job needs more than request / predicted; the recommendation must exceed that.
    assert float(rec["slack"]) > expected["request_mib"] * MIB / expected["total_bytes"]


def test_database_source_gives_the_same_report_as_sacct(audited):
    """`--source db` reads slurmdbd's tables directly; for the same window and jobs the report
    (every job's figures, summary and recommendation) must be exactly sacct's."""
    sb = audited["sb"]
    ids = ",".join(s.jobid for _, s in audited["jobs"].values())
    start = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    reports = {}
    for source in ("sacct", "db"):
        r = qubemem("audit", "--source", source, "--start", start, "--jobs", ids, "--all", "--json",
                    env={**sb.sandbox_env()})
        assert r.returncode == 0, r.stderr
        reports[source] = json.loads(r.stdout)
    assert reports["db"]["input"].pop("origin").startswith("database 127.0.0.1:")
    assert reports["sacct"]["input"].pop("origin") == "sacct"
    assert reports["db"] == reports["sacct"]
    assert len(reports["db"]["jobs"]) == len(audited["jobs"])


def test_database_source_over_the_whole_sandbox_history_matches_sacct(audited):
    """Every job the sandbox ever ran (arrays, cancelled array remainders, multi-step jobs)."""
    sb = audited["sb"]
    reports = [json.loads(qubemem("audit", "--source", s, "--start", "2020-01-01", "--all", "--json",
                                  env={**sb.sandbox_env()}).stdout) for s in ("sacct", "db")]
    for r in reports:
        r["input"].pop("origin")
    assert reports[0] == reports[1]


def test_database_source_shows_a_requeued_job_as_sacct_does(audited):
    """A job requeued while it runs has one record per run in the job table. sacct (without
    --duplicates) shows the newest; `--source db` picks it on the client side (the `D` rows of
    `AccountingSQL`), with only that record's steps. Both sources must give the same report, and
    the database must really hold two records (sacct --duplicates shows both)."""
    sb = audited["sb"]
    start = (datetime.now() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    sub = sb.submit(["--time=5", "--job-name=requeued", "--requeue", "--mem=100M"],
                    wrap="sleep 3; echo run")
    assert sb.wait_state(sub.jobid, {"RUNNING"}, timeout=120) == "RUNNING"
    sb.run(["scontrol", "requeue", sub.jobid])
    assert sb.wait_final(sub.jobid, timeout=300) == "COMPLETED"
    records = sb.sacct_rows(sub.jobid, ["JobID", "State"], extra_args=["-X", "--duplicates"])
    assert len(records) >= 2, records
    reports = {}
    for source in ("sacct", "db"):
        r = qubemem("audit", "--source", source, "--start", start, "--jobs", sub.jobid, "--all", "--json",
                    env={**sb.sandbox_env()})
        assert r.returncode == 0, r.stderr
        reports[source] = json.loads(r.stdout)
        reports[source]["input"].pop("origin")
    assert reports["db"] == reports["sacct"]
    [job] = reports["db"]["jobs"]
    assert job["id"] == sub.jobid and job["state"] == "COMPLETED"


def test_database_source_names_the_user_of_a_deleted_account_as_sacct_does(audited):
    """slurmdbd gives sacct a job's User from the job's association; a job whose association is
    gone gets its uid's name, or, when the system does not know the uid (a deleted user), its
    number (24.11 and 26.05; 22.05's sacct printed nothing).
    Two copies of a finished job of the sandbox are put in its tables under a uid no passwd
    entry has, one with its association and one with none; sacct and `--source db` must name
    their users alike, on every SLURM release the suite runs against."""
    sb = audited["sb"]
    cluster = re.search(r"^ClusterName=(\S+)", sb.SLURM_CONF.read_text(), re.M).group(1)
    db = ["mariadb", "--socket", str(sb.SANDBOX_DIR / "run" / "mysql" / "mysqld.sock"), "-uroot", "-N", "-B",
          "slurm_acct_db", "-e"]
    jobs, steps = f"`{cluster}_job_table`", f"`{cluster}_step_table`"

    def sql(text):
        return subprocess.run([*db, text], check=True, capture_output=True, text=True, timeout=60).stdout.split()

    [source, association, top] = sql(
        f"SELECT job_db_inx, id_assoc, (SELECT MAX(job_db_inx) FROM {jobs}) FROM {jobs} WHERE state = 3 AND id_assoc > 0 "
        f"AND id_array_job = 0 AND het_job_id = 0 ORDER BY job_db_inx DESC LIMIT 1")
    copies = {int(top) + 1: (990000001, 0), int(top) + 2: (990000002, int(association))}
    try:
        for inx, (job, assoc) in copies.items():
            sql(f"CREATE TEMPORARY TABLE j SELECT * FROM {jobs} WHERE job_db_inx = {source}; "
                f"UPDATE j SET job_db_inx = {inx}, id_job = {job}, id_user = 4242, id_assoc = {assoc}; "
                f"INSERT INTO {jobs} SELECT * FROM j; "
                f"CREATE TEMPORARY TABLE s SELECT * FROM {steps} WHERE job_db_inx = {source}; "
                f"UPDATE s SET job_db_inx = {inx}; INSERT INTO {steps} SELECT * FROM s")
        reports = {}
        for kind in ("sacct", "db"):
            r = qubemem("audit", "--source", kind, "--start", "2020-01-01", "--jobs", "990000001,990000002", "--all",
                        "--json", env={**sb.sandbox_env()})
            assert r.returncode == 0, r.stderr
            reports[kind] = json.loads(r.stdout)
            reports[kind]["input"].pop("origin")
        users = {kind: {job["id"]: job.pop("user") for job in r["jobs"]} for kind, r in reports.items()}
        assert reports["db"] == reports["sacct"]
        assert set(users["db"]) == {"990000001", "990000002"}, users
        # No association, and uid 4242 has no name: sacct prints the number from 24.11 on (22.05
        # printed nothing); the database source prints the number.
        assert users["db"]["990000001"] == "4242", users
        assert users["sacct"]["990000001"] in ("4242", ""), users
        # The association's user, on every release.
        assert users["db"]["990000002"] == users["sacct"]["990000002"] != "", users
    finally:
        ids = ",".join(str(i) for i in copies)
        sql(f"DELETE FROM {steps} WHERE job_db_inx IN ({ids}); DELETE FROM {jobs} WHERE job_db_inx IN ({ids})")


@pytest.mark.parametrize("args, exit_code, quoted", [
    (["--source", "db", "--start", "last tuesday"], 64, "'last tuesday'"),
    (["--source", "db", "--account", "a' OR '1'='1"], 64, "'a' OR '1'='1'"),
    (["--source", "db", "--user", "no-such-user-qubemem"], 64, "'no-such-user-qubemem'"),
    (["--source", "db", "--slurmdbd-conf", "/nonexistent/slurmdbd.conf"], 1, "/nonexistent/slurmdbd.conf"),
    (["--source", "db", "--input", "x.sacct"], 64, "--input"),
])
def test_database_source_refuses_bad_values_with_their_text(audited, args, exit_code, quoted):
    r = qubemem("audit", *args, env={**audited["sb"].sandbox_env()})
    assert r.returncode == exit_code, (r.returncode, r.stderr)
    assert quoted in r.stderr, r.stderr


def test_database_password_never_reaches_the_command_line(audited, tmp_path):
    """The client gets StoragePass in a private option file, removed afterwards."""
    sb = audited["sb"]
    log = tmp_path / "argv.log"
    fake = tmp_path / "mariadb"
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {log}\nhead -c 400 \"${{1#--defaults-extra-file=}}\" >> {log}\n"
                    f"ls -l \"${{1#--defaults-extra-file=}}\" >> {log}\n")
    fake.chmod(0o755)
    r = qubemem("audit", "--source", "db", "--db-client", str(fake), "--start", "now-1hours", "--json",
                env={**sb.sandbox_env()})
    assert r.returncode == 0, r.stderr
    text = log.read_text()
    conf = (sb.SANDBOX_DIR / "etc" / "slurmdbd.conf").read_text()
    password = re.search(r"^StoragePass=(.*)$", conf, re.M).group(1)
    argv, _, option_file = text.partition("[client]")
    assert password not in argv
    assert f'password="{password}"' in option_file
    assert "-rw-------" in option_file
    assert text.split("\n")[0].startswith("--defaults-extra-file=")
    leftover = text.split("\n")[0].split("=", 1)[1]
    assert not Path(leftover).exists()

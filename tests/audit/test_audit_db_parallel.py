"""`audit --source db` through the client library (issue 16): the steps are read on a second
connection while the job records are, 65,536 records at a time, and merged as figures instead of
sacct rows. The report must be the one of the sequential read through the `mariadb` command-line
client (whose rows the whole-history test in test_audit_sandbox.py compares with sacct's), byte
for byte.

The tables are the test's own (`qmpar_*`, made like the sandbox's and dropped afterwards), filled
by bench/audit/fill_db.py with 150,000 jobs of 2 steps: three hand-overs and a last range. Every
997th job was requeued: its newer record (after all the others in the table, so in the last
range) has one 1 MiB step; every other newer record is deleted. So the older record of those
jobs is held from an early range until the end of the job read, and written then with the steps
read long before; the older record of the others is dropped with its steps.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import QUBEMEM, REPO, qubemem  # noqa: E402

JOBS = 150_000
EVERY = 997
FIRST = 20_000_000
MIB = 1 << 20


def make_tables(sb, cluster, *fill, copy_associations=False):
    """Tables `<cluster>_{job,step,assoc}_table` made like the sandbox's, filled by fill_db.py
    with `fill` (its jobs, steps and options). Returns the root client's command and the
    statement that drops them."""
    socket = sb.SANDBOX_DIR / "run" / "mysql" / "mysqld.sock"
    db = ["mariadb", "--socket", str(socket), "-uroot", "slurm_acct_db", "-e"]
    drop = f"DROP TABLE IF EXISTS {cluster}_job_table, {cluster}_step_table, {cluster}_assoc_table"
    copy = f"; INSERT INTO {cluster}_assoc_table SELECT * FROM qubesandbox_assoc_table" if copy_associations else ""
    subprocess.run([*db, drop + "; " + "; ".join(
        f"CREATE TABLE {cluster}_{t}_table LIKE qubesandbox_{t}_table" for t in ("job", "step", "assoc")) + copy],
        check=True, timeout=60)
    try:
        subprocess.run([sys.executable, str(REPO / "bench" / "audit" / "fill_db.py"), *fill, "--cluster", cluster,
                        "--socket", str(socket), "--first-job", str(FIRST)],
                       check=True, timeout=600, capture_output=True)
    except BaseException:
        subprocess.run([*db, drop], check=True, timeout=60)
        raise
    return db, drop


@pytest.fixture(scope="module")
def tables(slurm_sandbox):
    sb = slurm_sandbox
    db, drop = make_tables(sb, "qmpar", str(JOBS), "2", "--requeued", str(EVERY), copy_associations=True)
    yield sb
    subprocess.run([*db, drop], check=True, timeout=60)


def audit(sb, *options):
    r = qubemem("audit", "--source", "db", "--cluster", "qmpar", "--start", "2026-01-01", "--end", "2027-01-01",
                *options, env=sb.sandbox_env(), timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("options", [["--json"], ["--csv"], ["--suggest-config"], ["--all"]])
def test_library_read_gives_the_command_line_clients_report(tables, options):
    library, client = audit(tables, *options), audit(tables, *options, "--db-client", "mariadb")
    if library != client:  # not an assert: pytest's diff of two large reports takes minutes
        lines = [(a, b) for a, b in zip(library.splitlines(), client.splitlines()) if a != b]
        pytest.fail(f"{len(library)} and {len(client)} bytes; first differing line: {lines[:1]}")


def test_requeued_jobs_keep_the_steps_of_the_record_sacct_shows(tables):
    report = json.loads(audit(tables, "--json"))
    assert report["counts"]["finished_jobs"] == JOBS
    # Rows merged: a job row and two steps a job, but where the newer record is kept, its job row
    # and its one step.
    requeued = (JOBS + EVERY - 1) // EVERY
    assert report["input"]["rows"] == JOBS * 3 - (requeued + 1) // 2
    peaks = {int(job["id"]): job["peak_bytes"] for job in report["jobs"]}
    for n in range(requeued):
        job = FIRST + n * EVERY
        if n % 2:  # the newer record was deleted: the older one, with its own steps
            assert peaks[job] > 100 * MIB, (job, peaks[job])
        else:  # the newer record, with its 1 MiB step only
            assert peaks[job] == MIB, (job, peaks[job])
    assert sum(peak == MIB for peak in peaks.values()) == (requeued + 1) // 2


def test_a_summary_only_read_recommends_what_the_whole_read_does(tables, tmp_path):
    # --suggest-config alone reads no names, users, accounts or associations (AccountingSQL's
    # summaryOnly); with --svg the whole job is kept, and read. The recommendation and its
    # figures must not change, through either client.
    summary = audit(tables, "--suggest-config", "--prometheus", str(tmp_path / "summary.prom"))
    whole = audit(tables, "--suggest-config", "--svg", str(tmp_path / "whole.svg"),
                  "--prometheus", str(tmp_path / "whole.prom"))
    assert summary == whole
    assert "slack = " in summary
    def figures(name):  # every figure but the time of the run
        return [line for line in (tmp_path / name).read_text().splitlines() if "timestamp" not in line]
    assert figures("summary.prom") == figures("whole.prom")
    assert len(figures("summary.prom")) > 50
    client = audit(tables, "--suggest-config", "--db-client", "mariadb")
    assert client == summary


def test_step_figures_longer_than_the_first_buffer_are_read_whole(slurm_sandbox):
    # The prepared statement binds 512 bytes to each TRES list and grows the buffer when a longer
    # one comes: the memory figure at the end of a 2 kB list must still be read, as the
    # command-line client reads it.
    sb = slurm_sandbox
    db, drop = make_tables(sb, "qmlong", "3", "2")
    try:
        filler = ",".join(f"{1000 + i}=123456789012" for i in range(120))
        # Larger than the job's other step (its batch step, with a short list), so that the job's
        # peak is this one; the first long list read, so that it is the one that grows the buffer.
        peak, total = 50 * 1024 * MIB + 12345, 60 * 1024 * MIB + 6789
        subprocess.run([*db, f"UPDATE qmlong_step_table SET tres_usage_in_max = '1=5,{filler},2={peak}', "
                             f"tres_usage_in_tot = '{filler},2={total},3=1' "
                             f"WHERE job_db_inx = {FIRST + 1} AND id_step = 0"],
                       check=True, timeout=60)
        def report(*options):
            r = qubemem("audit", "--source", "db", "--cluster", "qmlong", "--start", "2026-01-01", "--end", "2027-01-01",
                        "--json", *options, env=sb.sandbox_env(), timeout=120)
            assert r.returncode == 0, r.stderr
            return r.stdout
        library, client = report(), report("--db-client", "mariadb")
        assert library == client
        jobs = {int(job["id"]): job for job in json.loads(library)["jobs"]}
        assert len(filler) > 2000 and jobs[FIRST + 1]["peak_bytes"] in (peak, total)
    finally:
        subprocess.run([*db, drop], check=True, timeout=60)

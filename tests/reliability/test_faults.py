"""Faults around the audit and the profiler, each with its exact outcome.

- Reports written to a full disk: the write fails with "cannot write '<path>'", exit status 1, and
  the file that was there before is left whole (outputs are written beside and renamed). To a
  read-only disk: the same error, and nothing is left there.
- A report on standard output (`--json`, `--csv`, the table) redirected to a full disk: exit 1
  and "cannot write standard output: ... (the report is incomplete)", not a crash.
- The accounting database down (`audit --source db` against a port nothing listens on): exit 1,
  the client's error quoted, nothing on standard output presented as a report.
- slurmdbd down (the sacct source, sacct pointed at a dead slurmdbd port): exit 1 with sacct's
  own error, no report.
The sandbox is not disturbed: the dead services are copies of its configuration with other ports.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import slurmsandbox as sb

sys.path.insert(0, str(sb.REPO / "tests" / "audit"))
from audit_helpers import EXAMPLES, QUBEMEM, qubemem  # noqa: E402

DUMP = EXAMPLES / "sacct" / "demo-run.sacct"


@contextlib.contextmanager
def tmpfs(mnt: Path, options: str):
    """A tmpfs mounted at `mnt` (made here) with these mount options, unmounted at the end."""
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (the fault tests run as root): {r.stderr}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs, filled to the last byte, holding one earlier report."""
    with tmpfs(tmp_path / "full", "size=256k") as mnt:
        (mnt / "report.svg").write_text("<svg>earlier report</svg>\n")
        (mnt / "report.prom").write_text("# earlier figures\n")
        (mnt / "run.json").write_text("{\"earlier\": true}\n")
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            for chunk in (65536, 4096, 512, 1):  # down to the last byte
                try:
                    while os.write(fd, b"\0" * chunk) > 0:
                        pass
                except OSError:
                    pass  # ENOSPC for this chunk size
        finally:
            os.close(fd)
        assert os.statvfs(mnt).f_bavail == 0
        yield mnt


@pytest.fixture
def empty_config(tmp_path):
    """An empty qubemem.conf: the audit's defaults, whatever /etc holds."""
    path = tmp_path / "qubemem.conf"
    path.write_text("")
    return path


def test_audit_reports_to_a_full_disk_fail_and_keep_the_earlier_file(full_disk):
    for flag, name, before in (("--svg", "report.svg", "<svg>earlier report</svg>\n"),
                               ("--prometheus", "report.prom", "# earlier figures\n")):
        r = qubemem("audit", "--input", DUMP, flag, full_disk / name)
        assert r.returncode == 1, (flag, r.stdout[-500:], r.stderr)
        assert f"cannot write '{full_disk / name}'" in r.stderr, r.stderr
        assert (full_disk / name).read_text() == before
    leftovers = sorted(p.name for p in full_disk.iterdir())
    assert leftovers == ["filler", "report.prom", "report.svg", "run.json"], leftovers


@pytest.mark.parametrize("command", [
    ("audit", "--input", str(DUMP), "--json"),
    ("audit", "--input", str(DUMP), "--csv", "--all"),
    ("audit", "--input", str(DUMP)),
    ("predict", "--from-comment", "qube: fields=QU n_obs=2496 lmax=64 lmax_signal=128", "--json"),
])
def test_a_report_on_standard_output_to_a_full_disk_is_an_error_not_a_crash(full_disk, command):
    with open(full_disk / "report.out", "w") as out:
        r = subprocess.run([QUBEMEM, *command], stdout=out, stderr=subprocess.PIPE, text=True, timeout=60,
                           env={**os.environ, "SWIFT_BACKTRACE": "enable=no"})
    assert r.returncode == 1, (command, r.returncode, r.stderr)
    assert r.stderr == "Error: cannot write standard output: No space left on device (the report is incomplete)\n", r.stderr


@pytest.fixture
def read_only_disk(tmp_path):
    """A read-only tmpfs."""
    with tmpfs(tmp_path / "ro", "size=64k,ro") as mnt:
        yield mnt


def test_reports_to_a_read_only_disk_fail_and_leave_nothing(read_only_disk):
    for flag, name in (("--svg", "report.svg"), ("--prometheus", "report.prom")):
        r = qubemem("audit", "--input", DUMP, flag, read_only_disk / name)
        assert r.returncode == 1, (flag, r.stdout[-500:], r.stderr)
        assert f"cannot write '{read_only_disk / name}'" in r.stderr, r.stderr
    r = subprocess.run([QUBEMEM, "profile", "--json", str(read_only_disk / "run.json"), "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"cannot write '{read_only_disk / 'run.json'}'" in r.stderr, r.stderr
    assert list(read_only_disk.iterdir()) == []


def test_profile_report_to_a_full_disk_fails_and_keeps_the_earlier_file(full_disk):
    r = subprocess.run([QUBEMEM, "profile", "--json", str(full_disk / "run.json"), "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"cannot write '{full_disk / 'run.json'}'" in r.stderr, r.stderr
    assert (full_disk / "run.json").read_text() == "{\"earlier\": true}\n"


def test_database_down_is_a_clear_error_without_a_report(tmp_path, slurm_sandbox, empty_config):
    conf = tmp_path / "slurmdbd.conf"
    conf.write_text("StorageType=accounting_storage/mysql\nStorageHost=127.0.0.1\nStoragePort=1\n"
                    "StorageUser=nobody\nStoragePass=none\nStorageLoc=slurm_acct_db\n")
    conf.chmod(0o600)
    r = qubemem("audit", "--source", "db", "--slurmdbd-conf", conf, "--start", "now-1days", "--json", "--config", empty_config,
                env=sb.sandbox_env(), timeout=120)
    assert r.returncode == 1, (r.stdout[-500:], r.stderr)
    assert r.stdout == ""
    assert "127.0.0.1" in r.stderr or "connect" in r.stderr.lower(), r.stderr


def test_slurmdbd_down_is_saccts_error_without_a_report(tmp_path, slurm_sandbox, empty_config):
    text = sb.SLURM_CONF.read_text()
    dead = "\n".join("AccountingStoragePort=1" if line.startswith("AccountingStoragePort=") else line
                     for line in text.splitlines()) + "\n"
    conf = tmp_path / "slurm.conf"
    conf.write_text(dead)
    env = sb.sandbox_env({"SLURM_CONF": str(conf)})
    r = qubemem("audit", "--start", "2026-01-01", "--json", "--timeout", "60", "--config", empty_config,
                env=env, timeout=180)
    assert r.returncode == 1, (r.stdout[-500:], r.stderr)
    assert r.stdout == ""
    assert "sacct" in r.stderr, r.stderr


MARIADB = ["mariadb", "--socket", str(sb.SANDBOX_DIR / "run" / "mysql" / "mysqld.sock"), "-uroot", "slurm_acct_db"]
"""The sandbox's database as root, over its socket (the audit itself logs in as slurmdbd.conf says)."""


@pytest.fixture
def locked_table(slurm_sandbox):
    """Holds a WRITE lock on a table of the sandbox's accounting database for as long as the test
    wants: `lock(name)` returns when the lock is held; it is released at the end."""
    sessions = []

    def lock(table: str) -> None:
        s = subprocess.Popen([*MARIADB, "--batch", "--unbuffered", "--skip-column-names"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        sessions.append(s)
        s.stdin.write(f"LOCK TABLES {table} WRITE; SELECT 'locked';\n")
        s.stdin.flush()
        assert s.stdout.readline().strip() == "locked"

    yield lock
    for s in sessions:
        s.stdin.write("UNLOCK TABLES;\n")
        s.stdin.close()
        s.wait(timeout=30)


def waiting_queries(table: str) -> list[str]:
    """Ids of the database sessions whose running statement reads `table`, other than this one
    (a plain query, or a prepared statement, which the server lists as `Execute`)."""
    r = subprocess.run([*MARIADB, "--batch", "--skip-column-names", "-e",
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Query', 'Execute') "
                        f"AND INFO LIKE 'SELECT%{table}%' AND ID <> CONNECTION_ID()"],
                       capture_output=True, text=True, timeout=30, check=True)
    return r.stdout.split()


def test_database_connection_lost_mid_audit_is_an_error_without_a_report(locked_table, empty_config):
    """`--source db` reads the job records, then the steps. With the step table locked, the audit
    has taken in every job row and waits on the steps; its connection is then killed by the
    server. The audit must fail with the client's error, and print no report built from the jobs
    it had."""
    locked_table("qubesandbox_step_table")
    audit = subprocess.Popen([QUBEMEM, "audit", "--source", "db", "--start", "2020-01-01", "--json",
                              "--config", str(empty_config)], env=sb.sandbox_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    ids: list[str] = []
    deadline = time.monotonic() + 60
    while not ids and time.monotonic() < deadline and audit.poll() is None:
        ids = waiting_queries("qubesandbox_step_table")
        time.sleep(0.1)
    assert ids, "the audit's step query never waited on the lock"
    for i in ids:
        subprocess.run([*MARIADB, "-e", f"KILL {i}"], check=True, timeout=30)
    out, err = audit.communicate(timeout=60)
    assert audit.returncode == 1, (audit.returncode, out[-500:], err)
    assert out == ""
    assert "Lost connection" in err or "killed" in err, err


def test_a_stalled_database_behind_slurmdbd_ends_the_audit_at_its_timeout(locked_table, empty_config):
    """The sacct source, with the job table locked in slurmdbd's database (as a long rollup or a
    dump would hold it): sacct waits on slurmdbd, which waits on MariaDB. The audit's --timeout
    stops sacct and says so; no report is printed."""
    locked_table("qubesandbox_job_table")
    t0 = time.monotonic()
    r = qubemem("audit", "--start", "2020-01-01", "--json", "--timeout", "3", "--config", empty_config,
                env=sb.sandbox_env(), timeout=120)
    assert r.returncode == 1, (r.stdout[-500:], r.stderr)
    assert r.stdout == ""
    assert "did not finish within 3 s" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 30

"""A controller set up from the packages alone, with accounting, and the packaged audit reading
its job back (issue 14: "a `qube:` job gets its memory, `qubemem audit` reads it back").

Into a fresh copy of the bare bookworm root (scripts/apt-root.sh), apt installs qubemem's two
packages and what a site adds for accounting: slurmd, slurmdbd, slurm-wlm-mysql-plugin and
mariadb-server, all from the archive's index. Then, as an admin would:

- /etc/slurm/slurm.conf gets `JobSubmitPlugins=qubemem` and no PluginDir: slurmctld finds the
  plugin where the package put it, in SLURM's own plugin folder;
- the packaged conffile /etc/slurm/qubemem.conf is edited (slack 1.25 instead of 1.15): the
  plugin must read that file, and so must `qubemem predict` and `qubemem audit`;
- munged, the root's own MariaDB (bookworm's, as its package configures it, on a port of its own),
  slurmdbd, slurmctld and slurmd start inside the root, each entered with scripts/slurm-chroot.sh (the sandbox's way into a root: a
  private mount namespace per daemon, nothing left mounted on the host).

A `qube:` job runs to completion; `qubemem audit` (through sacct, then `--source db` straight
from the MariaDB tables) must report it with the prediction record the plugin wrote.

Ports: slurmctld 6947, slurmd 6948, slurmdbd 6949, MariaDB 13436 (on 127.0.0.1), each plus
$QUBEMEM_SANDBOX_PORT_OFFSET (as every package test's ports), so that another checkout's check can
run beside this one.
Needs root; the first run makes the bare root (network access to the Debian archive).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from test_debian_packages import (COMMENT, CONF, PLUGIN, PORT_OFFSET, REPO, debs, fresh_root, run,
                                  stop_pids)

CTLD_PORT = 6947 + PORT_OFFSET
DB_PORT = CTLD_PORT + 6489   # as the sandboxes place theirs (13306 beside 6817)
SLACK = "1.25"   # not the packaged default (1.15): proves which qubemem.conf was read
DB_PASS = "qubemem-pkgtest"
CHROOT = REPO / "scripts" / "slurm-chroot.sh"
# The job holds about 40 MB for a few seconds, so that jobacct_gather (every second) measures it.
JOB = 'x=$(head -c 40000000 /dev/zero | tr "\\000" a); sleep 4; echo ${#x}'


class Cluster:
    """The daemons inside ROOT (a fresh_root copy), entered with scripts/slurm-chroot.sh."""

    def __init__(self, root):
        self.root = root
        self.path: Path = root.path
        self.node = f"pkgq{CTLD_PORT}"
        self.install_seconds = 0.0

    def argv(self, *args, user: str | None = None) -> list[str]:
        return [str(CHROOT), str(self.path), *(["--user", user] if user else []), *args]

    def env(self) -> dict:
        # Nothing of the host's sandbox (SLURM_CONF, QUBEMEM_CONF) may reach the root's commands.
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}

    def sh(self, script: str, check: bool = True, timeout: int = 300, user: str | None = None):
        res = run(self.argv("/bin/sh", "-c", script, user=user), env=self.env(), timeout=timeout)
        if check and res.returncode != 0:
            pytest.fail(f"in the root: {script}\nexit {res.returncode}\n{res.stdout}\n{res.stderr}")
        return res

    def daemon(self, pidfile: str, *args, user: str | None = None):
        """Starts a daemon that forks (munged, slurmdbd, slurmctld, slurmd); waits for its pid file."""
        res = run(self.argv(*args, user=user), env=self.env(), timeout=60)
        assert res.returncode == 0, f"{args}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
        self.wait(lambda: self.pid_in(pidfile), f"{args[0]} to write {pidfile}", log=None)
        self.root.pids.append(self.pid_in(pidfile))

    def pid_in(self, pidfile: str) -> int | None:
        try:
            pid = int(self.root.read(pidfile).split()[0])
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, IndexError):
            return None

    def wait(self, ok, what: str, log: str | None, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ok():
                return
            time.sleep(0.3)
        text = self.root.read(log) if log and self.root.exists(log) else ""
        pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}\n{text[-3000:]}")


def slurm_conf(host: str, node: str) -> str:
    """What an admin writes: no PluginDir (the package's folder is SLURM's own), one added line."""
    return f"""ClusterName=pkgacct
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={CTLD_PORT}
SlurmdPort={CTLD_PORT + 1}
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort={CTLD_PORT + 2}
AccountingStoreFlags=job_comment
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=300
MailProg=/bin/true
ReturnToService=2
# The node declares more memory than this machine has: the plugin's request must fit it. Nothing
# enforces memory here (task/none), and the job itself holds 40 MB.
SlurmdParameters=config_overrides
NodeName={node} NodeAddr=127.0.0.1 CPUs=1 RealMemory=200000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
JobSubmitPlugins=qubemem
"""


def slurmdbd_conf() -> str:
    return f"""AuthType=auth/munge
DbdHost=localhost
DbdPort={CTLD_PORT + 2}
SlurmUser=slurm
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort={DB_PORT}
StorageUser=slurm
StoragePass={DB_PASS}
StorageLoc=slurm_acct_db
"""


def stop_mariadb(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cli, plugin = debs()
    with fresh_root("bookworm", tmp_path_factory.mktemp("pkg-cluster")) as root:
        c = Cluster(root)
        dest = root.path / "root" / "debs"
        dest.mkdir(parents=True)
        for deb in (cli, plugin):
            shutil.copy(deb, dest)
        t0 = time.monotonic()
        # Without Recommends: half the time, and what is tested is ours (the other tests install
        # the two packages with their Recommends).
        c.sh(f"cd /root/debs && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
             f"--no-install-recommends ./{cli.name} ./{plugin.name} "
             "slurmd slurmdbd slurm-wlm-mysql-plugin mariadb-server", timeout=900)
        c.install_seconds = time.monotonic() - t0

        host = socket.gethostname().split(".")[0]
        (root.path / "etc/slurm/slurm.conf").write_text(slurm_conf(host, c.node))
        dbd = root.path / "etc/slurm/slurmdbd.conf"
        dbd.write_text(slurmdbd_conf())
        conf = root.path / CONF.lstrip("/")
        text = conf.read_text()
        assert re.search(r"^slack = 1\.15$", text, re.M), text   # the packaged default
        conf.write_text(re.sub(r"^slack = .*$", f"slack = {SLACK}", text, flags=re.M))
        c.sh("chown slurm:slurm /etc/slurm/slurmdbd.conf && chmod 0600 /etc/slurm/slurmdbd.conf && "
             "install -d -o slurm -g slurm /run/slurm && install -d -o munge -g munge /run/munge && "
             "install -d -o mysql -g mysql /run/mysqld && "
             "{ [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key; } && "
             "chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key")

        c.daemon("/run/munge/munged.pid", "/usr/sbin/munged", user="munge")
        # The root's own MariaDB (bookworm's 10.11) with its packaged configuration (127.0.0.1),
        # on a port of its own. (`qubemem audit --source db` reaches it over TCP: the client is
        # given slurmdbd.conf's StoragePort.)
        db_log = open(root.path / "root" / "mariadbd.log", "w")
        db = subprocess.Popen(c.argv("/usr/sbin/mariadbd", "--user=mysql", f"--port={DB_PORT}",
                                     "--innodb-buffer-pool-size=64M"),
                              env=c.env(), stdin=subprocess.DEVNULL, stdout=db_log,
                              stderr=subprocess.STDOUT, start_new_session=True)
        try:
            c.wait(lambda: db.poll() is None and
                   c.sh("mariadb-admin ping", check=False).returncode == 0,
                   "MariaDB in the root", log="/root/mariadbd.log")
            c.sh(f"mariadb -e \"CREATE USER 'slurm'@'localhost' IDENTIFIED BY '{DB_PASS}'; "
                 "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';\"")
            c.daemon("/run/slurm/slurmdbd.pid", "/usr/sbin/slurmdbd")
            c.wait(lambda: c.sh("sacctmgr -n list cluster", check=False).returncode == 0,
                   "slurmdbd to answer", log="/var/log/slurm/slurmdbd.log")
            c.daemon("/run/slurm/slurmctld.pid", "/usr/sbin/slurmctld")
            c.wait(lambda: c.sh("scontrol ping", check=False).returncode == 0,
                   "slurmctld to answer", log="/var/log/slurm/slurmctld.log")
            c.daemon("/run/slurm/slurmd.pid", "/usr/sbin/slurmd", "-N", c.node)
            c.wait(lambda: re.fullmatch(r"idle\s*", c.sh("sinfo -h -N -o %T", check=False).stdout or ""),
                   "the node to be idle", log="/var/log/slurm/slurmd.log")
            c.wait(lambda: "pkgacct" in c.sh("sacctmgr -n -P list cluster format=cluster,controlhost",
                                              check=False).stdout.split("|")[0],
                   "slurmctld to register the cluster in slurmdbd", log="/var/log/slurm/slurmctld.log")
            yield c
        finally:
            # slurmd, slurmctld, slurmdbd, munged (newest first), then MariaDB, which slurmdbd
            # writes to until it exits.
            stop_pids(root.pids)
            stop_mariadb(db)
            db_log.close()


@pytest.fixture(scope="module")
def job(cluster):
    """The finished qube: job: its id, what scontrol showed while it ran, its sacct row."""
    sub = cluster.sh(f"sbatch --comment '{COMMENT}' --wrap '{JOB}' -o /root/job-%j.out")
    m = re.search(r"Submitted batch job (\d+)", sub.stdout)
    assert m, sub.stdout + sub.stderr
    jobid = m.group(1)
    shown = cluster.sh(f"scontrol show job {jobid}").stdout
    fields = "JobID,State,ReqMem,MaxRSS,AdminComment"

    def final():
        rows = cluster.sh(f"sacct -n -P --noconvert -j {jobid} -o {fields}", check=False).stdout
        return any(r.startswith(f"{jobid}|COMPLETED|") and "qubemem:v1" in r for r in rows.splitlines()) and \
            any(r.startswith(f"{jobid}.batch|COMPLETED|") for r in rows.splitlines())

    cluster.wait(final, f"job {jobid} to complete in sacct", log="/var/log/slurm/slurmctld.log", seconds=90)
    rows = cluster.sh(f"sacct -n -P --noconvert -j {jobid} -o {fields}").stdout
    return {"id": jobid, "sbatch": sub, "scontrol": shown, "sacct": rows}


def request_mib(cluster) -> int:
    out = cluster.sh(f"qubemem predict --from-comment '{COMMENT}' --request").stdout
    m = re.search(r"Request: (\d+) MiB per node", out)
    assert m, out
    return int(m.group(1))


def test_slurmctld_loads_the_packaged_plugin_from_its_own_folder(cluster):
    conf = cluster.root.read("/etc/slurm/slurm.conf")
    assert "PluginDir" not in conf and re.search(r"^JobSubmitPlugins=qubemem$", conf, re.M), conf
    assert cluster.root.exists(PLUGIN)
    log = cluster.root.read("/var/log/slurm/slurmctld.log")
    assert re.search(r"job_submit/qubemem.*init|qubemem.*init", log), log[-3000:]
    print(f"apt install of both packages, SLURM and MariaDB: {cluster.install_seconds:.0f} s")


def test_the_job_gets_the_memory_of_the_packaged_config(cluster, job):
    assert "qubemem: memory set to" in job["sbatch"].stderr, job["sbatch"].stderr
    want = request_mib(cluster)
    # The same comment priced at the packaged default slack gives less: the test tells them apart.
    default = cluster.sh(f"qubemem predict --from-comment '{COMMENT}' --request --slack 1.15").stdout
    assert int(re.search(r"Request: (\d+) MiB", default).group(1)) < want
    got = re.search(r"MinMemoryNode=(\d+)M\b", job["scontrol"])
    assert got and int(got.group(1)) == want, job["scontrol"]
    record = re.search(r"qubemem:v1 action=set \S.*", job["scontrol"])
    assert record, job["scontrol"]
    assert f"slack={SLACK} " in record.group(0) and f"request_mib={want} " in record.group(0)
    # sacct keeps the record: what the audit reads.
    assert f"slack={SLACK} request_mib={want}" in job["sacct"], job["sacct"]


def audit_job(cluster, jobid: str, *extra: str) -> tuple[dict, dict]:
    res = cluster.sh(f"qubemem audit --start now-1hours --json {' '.join(extra)}", check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(res.stdout)
    assert report["schema"] == "qubemem.audit/1"
    mine = [j for j in report["jobs"] if str(j["id"]) == jobid]
    assert len(mine) == 1, report["jobs"]
    return report, mine[0]


def test_audit_reads_the_job_back_through_sacct(cluster, job):
    want = request_mib(cluster)
    report, j = audit_job(cluster, job["id"])
    assert report["counts"]["with_record"] >= 1, report["counts"]
    assert j["source"] == "record" and j["action"] == "set", j
    assert j["state"] == "COMPLETED", j
    assert j["slack"] == SLACK, j   # as the record writes it
    assert j["requested_bytes"] == want * 1024 * 1024, j
    record = re.search(r"peak_bytes=(\d+) baseline_bytes=(\d+)", job["sacct"])
    assert j["predicted_bytes"] == int(record.group(1)) + int(record.group(2)), (j, job["sacct"])
    # jobacct_gather measured the job's 40 MB string (MaxRSS of its batch step).
    assert j["peak_bytes"] is not None and j["peak_bytes"] >= 40_000_000, j
    text = cluster.sh("qubemem audit --start now-1hours").stdout
    assert re.search(rf"^\s*{job['id']}\b", text, re.M), text


def test_audit_reads_the_same_job_from_slurmdbds_database(cluster, job):
    """--source db: the packaged CLI reads /etc/slurm/slurmdbd.conf and asks MariaDB itself."""
    _, by_sacct = audit_job(cluster, job["id"])
    report, by_db = audit_job(cluster, job["id"], "--source", "db")
    assert report["input"]["origin"].startswith("database "), report["input"]
    assert by_db == by_sacct

"""Helpers for the multi-node suite: the sandbox's nodes, their namespaces and cgroups, qubemem.

A plain module (not conftest.py), imported by the suite's conftest and tests alike.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import slurmsandbox as sb

HERE = Path(__file__).resolve().parent
NET = sb.REPO / "scripts" / "sandbox-net.sh"
WHERE = HERE / "rank_where.sh"
"""Run by mpiexec before each rank: prints the rank and its node's address, then execs the rank."""
NODES = 3
"""The suite's cluster: three nodes, so a two-node job leaves a node free for another job."""

# A small harmonic QUBE run (the one tests/plugin/test_mpi_jobs.py runs on one node): about
# 0.5 GiB a rank, 0.7 GiB for rank 0.
COMMENT = "qube: path=harmonic fields=QU n_obs=600 lmax=32 lmax_signal=64"
WORKLOAD = sb.REPO / "examples" / "qube" / "qube_workload.py"
RUN = "--fields QU --nside 16 --n-obs 600 --lmax 32 --lmax-signal 64 --path harmonic --threads 1"


def qubemem_path() -> Path:
    for candidate in (os.environ.get("QUBEMEM"), sb.REPO / ".build" / "release" / "qubemem",
                      sb.REPO / ".build" / "debug" / "qubemem"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("no qubemem binary: run `make release` (or set QUBEMEM)")


def qubemem(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """qubemem with the selected sandbox's environment (its SLURM_CONF, so sacct and --source db
    read the multi-node sandbox)."""
    return subprocess.run([str(qubemem_path()), *args], text=True, capture_output=True,
                          timeout=timeout, env=sb.sandbox_env())


NO_CONFIG = Path(tempfile.mkdtemp(prefix="qubemem-multinode-")) / "empty.conf"
NO_CONFIG.write_text("# no settings: the documented defaults, as the sandbox's plugin has them\n")


def predict_node(*layout: str) -> dict:
    """`qubemem predict --json`'s node figures for COMMENT under the default qubemem.conf."""
    r = qubemem("predict", "--from-comment", COMMENT, "--json", "--config", str(NO_CONFIG), *layout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["node"]


def mpiexec() -> str:
    path = shutil.which("mpiexec")
    if not path:
        pytest.fail("mpiexec not found: scripts/install-deps.sh installs mpich and mpi4py from PyPI")
    return path


def mpi_wrap(extra: str = "") -> str:
    """The job's command: mpich's hydra under SLURM (it starts one proxy per node with srun), told
    to use each node's own interface (-iface qm0: the host name resolves to loopback, which in a
    node's namespace is that node's own), each rank started through rank_where.sh. `-n` is the
    job's tasks: without it hydra starts a rank on every CPU SLURM allocated, and with
    --ntasks-per-node (which the plugin sets for `-n 5 -N 2`) SLURM allocates 3 + 3 CPUs."""
    return f'exec {mpiexec()} -iface qm0 -n "$SLURM_NTASKS" {WHERE} python3 {WORKLOAD} {RUN} {extra}'.strip()


@dataclass
class Cluster:
    """The running multi-node sandbox, as slurm.conf describes it."""

    tag: int
    """slurmctld's port: names the network (scripts/sandbox-net.sh)."""
    addresses: dict[str, str]
    """node name -> its address (NodeAddr)."""

    @classmethod
    def from_conf(cls) -> "Cluster":
        text = sb.SLURM_CONF.read_text()
        tag = int(re.search(r"^SlurmctldPort=(\d+)$", text, re.M).group(1))
        nodes = dict(re.findall(r"^NodeName=(\S+) NodeAddr=(\S+)", text, re.M))
        return cls(tag=tag, addresses=nodes)

    @property
    def names(self) -> list[str]:
        return list(self.addresses)

    def number(self, node: str) -> int:
        """Node i of `sandbox-net.sh` (1-based), from the name's trailing n<i>."""
        return int(re.search(r"n(\d+)$", node).group(1))

    def pids(self, node: str) -> list[int]:
        """Every process in the node's network namespace (its slurmd, slurmstepd, job tasks)."""
        out = subprocess.run([str(NET), "pids", str(self.tag), str(len(self.addresses)),
                              str(self.number(node))], text=True, capture_output=True, check=True).stdout
        return [int(p) for p in out.split()]

    def kill(self, node: str) -> list[int]:
        """The node dies: SIGKILL to every process in its namespace, by pid. Returns the pids."""
        pids = self.pids(node)
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        return pids

    def node_of_address(self, addr: str) -> str:
        return next(name for name, a in self.addresses.items() if a == addr)


def wait_nodes_idle(timeout: float = 60) -> list[str]:
    """Wait until every node is idle (a node still cleaning up after a job shows `completing`);
    returns the last `sinfo` lines."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in sb.run(["sinfo", "-h", "-N", "-o", "%N %T"]).stdout.splitlines() if l.strip()]
        if all(l.split()[1] == "idle" for l in lines) or time.monotonic() >= deadline:
            return lines
        time.sleep(0.5)


def hostnames(nodelist: str) -> list[str]:
    return sb.run(["scontrol", "show", "hostnames", nodelist]).stdout.split()


def allocated_cpus(jobid: str) -> dict[str, int]:
    """CPUs SLURM gave the job on each node (``scontrol show job -d``: ``Nodes=... CPU_IDs=0-2``).
    With one CPU a task, the tasks each node runs."""
    text = sb.run(["scontrol", "show", "job", "-d", jobid]).stdout
    cpus: dict[str, int] = {}
    for nodes, ids in re.findall(r"^\s+Nodes=(\S+) CPU_IDs=(\S+)", text, re.M):
        count = 0
        for part in ids.split(","):
            lo, _, hi = part.partition("-")
            count += int(hi or lo) - int(lo) + 1
        for node in hostnames(nodes):
            cpus[node] = count
    return cpus


def ranks_by_node(output: str, cluster: Cluster) -> dict[str, list[int]]:
    """Which node each rank ran on, from rank_where.sh's lines in the job's output."""
    where: dict[str, list[int]] = {}
    # Searched anywhere: the ranks write to one file at once, so a line may hold two records.
    for m in re.finditer(r'\{"where_rank": (-?\d+), "addr": "([0-9.]+)"\}', output):
        where.setdefault(cluster.node_of_address(m.group(2)), []).append(int(m.group(1)))
    return {node: sorted(r) for node, r in where.items()}


def rank_peaks(output: str) -> dict[int, int]:
    """Each rank's own high-water mark, from the workload's `{"rank": r, ...}` records."""
    return {int(m.group(1)): int(m.group(2)) for m in
            re.finditer(r'\{"rank": (\d+), "size": \d+, "peak_rss_bytes": (\d+)\}', output)}


@dataclass
class CgroupWatch:
    """Reads a job's memory cgroup on every node while it runs (cgroup v1, the tree slurmd makes:
    ``memory/slurm_<node>/uid_<uid>/job_<id>``): the limit SLURM enforces there and the kernel's
    high-water mark of the charge (each page once). The folder goes when the job ends, so the last
    reading stands; the high-water mark is the kernel's, so a missed sample misses only the last
    fraction of a second."""

    jobid: str
    nodes: list[str]
    uid: int = 0
    interval: float = 0.2
    limit: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def folder(self, node: str) -> Path:
        return Path(f"/sys/fs/cgroup/memory/slurm_{node}/uid_{self.uid}/job_{self.jobid}")

    def _read(self) -> None:
        for node in self.nodes:
            d = self.folder(node)
            try:
                limit = int((d / "memory.limit_in_bytes").read_text())
                peak = int((d / "memory.max_usage_in_bytes").read_text())
            except (OSError, ValueError):
                continue
            self.limit[node] = limit
            self.peak[node] = max(peak, self.peak.get(node, 0))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._read()
            time.sleep(self.interval)

    def __enter__(self) -> "CgroupWatch":
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

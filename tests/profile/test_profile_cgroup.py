"""qubemem profile of a tree whose pages are shared after a fork: the RSS sum counts a shared page
once per process, the cgroup's charge once; per-process rows name MPI ranks; the cgroup is removed."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import MIB, QUBEMEM, profile, profile_json

# The parent touches N MiB and forks K children that read all of it (shared, no copy) and touch
# M MiB of their own. Every figure below is "above the processes' own few MiB of program".
N, K, M = 256, 3, 64
RSS_SUM = ((K + 1) * N + K * M) * MIB  # 1216 MiB: each shared page once per process
CHARGE = (N + K * M) * MIB  # 448 MiB: each page once
# Tolerances: each process's own program, libc and stack (about 1-2 MiB of RSS each), and for the
# charge the page tables and kernel stacks the cgroup is charged for (about 1 MiB per process).
RSS_TOL = 0.01 * RSS_SUM + (K + 1) * 3 * MIB
CHARGE_TOL = 0.01 * CHARGE + (K + 1) * 2 * MIB


def cgroup_mount():
    """The v1 memory hierarchy's mount point, or the v2 one; None when neither is mounted."""
    v2 = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        dash = fields.index("-")
        if fields[dash + 1] == "cgroup" and "memory" in fields[dash + 3].split(","):
            return fields[4]
        if fields[dash + 1] == "cgroup2":
            v2 = fields[4]
    return v2


def qubemem_cgroups():
    """Every qubemem-profile-* cgroup directory that exists now."""
    root = cgroup_mount()
    assert root, "no memory cgroup hierarchy mounted: the cgroup figure cannot be tested here"
    return sorted(str(p) for p in Path(root).rglob("qubemem-profile-*") if p.is_dir())


def test_shared_pages_count_once_per_process_in_the_rss_sum_and_once_in_the_cgroup(tmp_path, fork_workload):
    before = qubemem_cgroups()
    proc, report = profile_json(tmp_path, "--", fork_workload, f"n={N}", f"k={K}", f"m={M}", "hold_ms=400")
    assert proc.returncode == 0, proc.stderr
    # Fails loudly where no cgroup could be made (not root, no memory controller): CI runs as root.
    assert report["cgroup"] is not None, report["cgroup_unavailable"]
    assert report["cgroup_unavailable"] is None
    cg = report["cgroup"]
    assert cg["kind"] == "own" and cg["version"] in (1, 2)
    assert Path(cg["directory"]).name == f"qubemem-profile-{proc_pid(report, cg)}"

    assert abs(report["peak_bytes"] - RSS_SUM) <= RSS_TOL, report["peak_bytes"] / MIB
    assert abs(cg["peak_bytes"] - CHARGE) <= CHARGE_TOL, cg["peak_bytes"] / MIB
    # The sampled charge is a lower bound of the kernel's mark; the hold makes them meet.
    assert cg["peak_sampled_bytes"] <= cg["peak_bytes"]
    assert cg["peak_sampled_bytes"] >= cg["peak_bytes"] - CHARGE_TOL
    assert any(s["cgroup"] is not None for s in report["samples"])
    # The difference is the K extra copies of the shared N MiB counted by the RSS sum.
    assert abs((report["peak_bytes"] - cg["peak_bytes"]) - K * N * MIB) <= RSS_TOL + CHARGE_TOL

    # Per process: the parent holds N, each child N (shared) + M (its own).
    procs = sorted(report["processes"], key=lambda p: p["first_seen"])
    assert len(procs) == K + 1
    assert abs(procs[0]["peak_bytes"] - N * MIB) <= 4 * MIB
    for child in procs[1:]:
        assert abs(child["peak_bytes"] - (N + M) * MIB) <= 4 * MIB, child
        assert 0 < child["peak_time"] <= report["elapsed_seconds"]
    assert "cgroup peak" in proc.stderr and "sum of the tree's per-process RSS" in proc.stderr

    # Removed at the end, and nothing else left behind.
    assert not Path(cg["directory"]).exists()
    assert qubemem_cgroups() == before


def proc_pid(report, cg):
    """The qubemem pid the cgroup is named after (the directory's own suffix, checked numeric)."""
    suffix = Path(cg["directory"]).name.rsplit("-", 1)[1]
    assert suffix.isdigit(), cg["directory"]
    return suffix


def test_no_cgroup_reports_the_rss_sum_alone_and_says_why(tmp_path, fork_workload):
    proc, report = profile_json(tmp_path, "--no-cgroup", "--", fork_workload, "n=16", "k=1", "m=8", "hold_ms=100")
    assert proc.returncode == 0, proc.stderr
    assert report["cgroup"] is None
    assert report["cgroup_unavailable"] == "turned off with --no-cgroup"
    assert all(s["cgroup"] is None for s in report["samples"])
    assert "cgroup peak  none: turned off with --no-cgroup" in proc.stderr


def test_an_unprivileged_user_gets_the_rss_figures_and_the_reason(fork_workload):
    # A real user without write access to the cgroup tree (no mock): qubemem must not fail.
    if os.geteuid() != 0:
        pytest.fail("this test switches to user nobody and needs root (CI runs as root)")
    out = Path(tempfile.mkdtemp(prefix="qubemem-nobody-"))
    try:
        out.chmod(0o777)
        workload = out / "fork_workload"
        shutil.copy(fork_workload, workload)
        workload.chmod(0o755)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(Path(QUBEMEM).resolve()),
               "profile", "--json", str(out / "r.json"), "--", str(workload), "n=16", "k=1", "m=8", "hold_ms=100"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        report = json.loads((out / "r.json").read_text())
    finally:
        shutil.rmtree(out)
    assert report["cgroup"] is None
    assert "cannot create the cgroup" in report["cgroup_unavailable"], report["cgroup_unavailable"]
    assert "Permission denied" in report["cgroup_unavailable"]
    assert "cgroup peak  none: cannot create the cgroup '" in proc.stderr
    assert report["peak_bytes"] >= (16 * 2 + 8) * MIB


def test_ranks_are_named_from_their_environment(tmp_path, fork_workload):
    # rank_env=1: each child sets PMI_RANK=i and re-execs itself, as hydra's proxy forks and execs a rank.
    proc, report = profile_json(tmp_path, "--", fork_workload, "n=8", "k=3", "m=32", "rank_env=1", "hold_ms=300")
    assert proc.returncode == 0, proc.stderr
    ranks = {p["rank"]: p for p in report["processes"] if p["rank_variable"] == "PMI_RANK"}
    assert sorted(ranks) == [0, 1, 2], report["processes"]
    for rank, p in ranks.items():
        assert p["command_line"].startswith(f"fork_workload --rank {rank} "), p
        assert abs(p["peak_bytes"] - 32 * MIB) <= 4 * MIB
    assert "PMI_RANK=0" in proc.stderr and "PMI_RANK=2" in proc.stderr


def test_mpiexec_ranks_are_recognised(tmp_path, fork_workload):
    # MPICH's own mpiexec (hydra: a proxy forks and execs each rank, PMI_RANK in its environment).
    mpiexec = shutil.which("mpiexec")
    assert mpiexec, "mpiexec not found: scripts/install-deps.sh installs MPICH (pip mpich)"
    proc, report = profile_json(tmp_path, "--", mpiexec, "-n", "2", fork_workload, "n=48", "k=0", "hold_ms=400",
                                timeout=120)
    assert proc.returncode == 0, proc.stderr
    ranks = sorted(p["rank"] for p in report["processes"] if p["rank_variable"] == "PMI_RANK" and p["peak_bytes"] >= 40 * MIB)
    assert ranks == [0, 1], report["processes"]
    # mpiexec and hydra's proxy are small: the ranks' peaks, which the kernel folds into their
    # reapers' ru_maxrss, are not taken as theirs.
    launchers = [p for p in report["processes"] if p["rank_variable"] != "PMI_RANK"]
    assert launchers and all(p["peak_bytes"] < 40 * MIB for p in launchers), launchers
    # Two ranks of 48 MiB each, unshared: the charge holds both.
    assert report["cgroup"]["peak_bytes"] >= 96 * MIB


def test_the_cgroup_is_removed_when_profile_is_stopped_by_sigterm(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.Popen([QUBEMEM, "profile", "--json", str(out), "--", "sleep", "30"],
                         stderr=subprocess.PIPE, text=True)
    name = f"qubemem-profile-{p.pid}"
    deadline = time.time() + 10
    inside = []
    while time.time() < deadline and not inside:
        time.sleep(0.1)
        inside = [c for c in qubemem_cgroups() if c.endswith("/" + name)]
    assert inside, f"no cgroup {name} while the command ran"
    # The command runs inside it; qubemem itself has left it.
    procs = Path(inside[0], "cgroup.procs").read_text().split()
    assert procs and str(p.pid) not in procs
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    assert p.returncode == -signal.SIGTERM
    assert not Path(inside[0]).exists()
    report = json.loads(out.read_text())
    assert report["cgroup"]["removal_error"] is None


def test_processes_left_running_are_moved_out_and_the_cgroup_still_removed(tmp_path):
    # The shell starts a background sleep and exits: the sleep outlives the run.
    proc, report = profile_json(tmp_path, "--", "sh", "-c", "sleep 3 & echo started")
    try:
        assert proc.returncode == 0, proc.stderr
        assert report["cgroup"] is not None, report["cgroup_unavailable"]
        assert report["cgroup"]["removal_error"] is None
        assert not Path(report["cgroup"]["directory"]).exists()
    finally:
        for pid in report.get("left_running", []):
            try:
                os.kill(pid["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass


def own_memory_cgroup_dir():
    """This process's memory cgroup directory (v1 memory controller, else v2)."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    v1 = [l.split(":", 2)[2] for l in lines if "memory" in l.split(":", 2)[1].split(",")]
    path = v1[0] if v1 else [l.split(":", 2)[2] for l in lines if l.startswith("0::")][0]
    return Path(cgroup_mount() + path)


def test_inside_a_slurm_job_the_jobs_cgroup_is_read_and_nothing_is_moved(tmp_path, fork_workload):
    # A SLURM-shaped cgroup tree (.../job_999/step_0) made here, no SLURM: qubemem started inside
    # step_0 with SLURM_JOB_ID=999 must read job_999's figures, create nothing and move nothing.
    top = own_memory_cgroup_dir() / f"qubemem-test-slurm-{os.getpid()}"
    step = top / "job_999" / "step_0"
    step.mkdir(parents=True)
    out = tmp_path / "r.json"
    try:
        before = qubemem_cgroups()
        proc = subprocess.run(["sh", "-c", f'echo $$ > {step}/cgroup.procs && exec "$@"', "sh", QUBEMEM, "profile",
                               "--json", str(out), "--", fork_workload, "n=64", "k=1", "m=16", "hold_ms=300"],
                              capture_output=True, text=True, timeout=60, env={**os.environ, "SLURM_JOB_ID": "999"})
        assert proc.returncode == 0, proc.stderr
        report = json.loads(out.read_text())
        assert report["cgroup"] is not None, report["cgroup_unavailable"]
        cg = report["cgroup"]
        assert cg["kind"] == "slurm_job" and cg["directory"] == str(top / "job_999")
        # The job's charge holds the run (64 + 16 MiB, the 64 shared) and qubemem itself.
        assert cg["peak_bytes"] >= (64 + 16) * MIB
        assert abs(report["peak_bytes"] - (2 * 64 + 16) * MIB) <= 0.01 * (2 * 64 + 16) * MIB + 2 * 3 * MIB
        assert "SLURM job's cgroup" in proc.stderr
        assert qubemem_cgroups() == before  # nothing created
        assert step.exists()  # nothing removed
    finally:
        for d in (step, step.parent, top):
            for pid in (d / "cgroup.procs").read_text().split() if d.exists() else []:
                (top.parent / "cgroup.procs").write_text(pid)
            if d.exists():
                d.rmdir()

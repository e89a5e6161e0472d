"""MPI QUBE jobs through job_submit/qubemem in the sandbox's real slurmctld, with cgroup-enforced memory.

- Every layout the one-node sandbox can hold gets exactly what `qubemem predict --request` gives for
  the same comment and the same sbatch layout options (the plugin and the CLI share the library).
- A real QUBE 1.3 Fisher under `mpiexec -n 2` (mpich and mpi4py from PyPI; hydra starts its proxy
  through srun inside the job) completes inside the memory the plugin set for two ranks per node;
  the same job held to the memory of one rank (what qubemem set before it knew about ranks) is killed
  OUT_OF_MEMORY. The audit reads both from sacct: the first fits its per-node prediction, the second
  is flagged OOM.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest

import slurmsandbox as sb
from test_job_submit_qubemem import NO_CONFIG, PLUGIN_DIR, ctld_pid, qubemem_binary, write_config

# A small harmonic run: about 0.55 GiB for one process, twice that for two ranks (bench/mpi).
COMMENT = "qube: path=harmonic fields=QU n_obs=600 lmax=32 lmax_signal=64"
WORKLOAD = sb.REPO / "examples" / "qube" / "qube_workload.py"
RUN = (f"--fields QU --nside 16 --n-obs 600 --lmax 32 --lmax-signal 64 --path harmonic --threads 1")


def predict(*flags: str) -> dict:
    out = subprocess.run([str(qubemem_binary()), "predict", "--from-comment", COMMENT, "--json",
                          "--config", str(NO_CONFIG), *flags],
                         text=True, capture_output=True, timeout=60, check=True).stdout
    return json.loads(out)["node"]


def request_line(*flags: str) -> str:
    return subprocess.run([str(qubemem_binary()), "predict", "--from-comment", COMMENT, "--request",
                           "--config", str(NO_CONFIG), *flags],
                          text=True, capture_output=True, timeout=60, check=True).stdout.splitlines()[0]


@pytest.fixture(scope="module", autouse=True)
def plugin_sandbox():
    if not (PLUGIN_DIR / "job_submit_qubemem.so").exists():
        subprocess.run(["make", "-C", str(sb.REPO / "plugin")], check=True, timeout=1800)
    write_config(None)
    sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(PLUGIN_DIR))
    pid = ctld_pid()
    yield
    assert ctld_pid() == pid, "slurmctld restarted during the MPI tests"


# sbatch layout options → the same options for `qubemem predict` (sbatch's own names).
LAYOUTS = [
    ([], []),
    (["--ntasks-per-node=2"], ["--ntasks-per-node", "2"]),
    (["-n", "2", "-N", "1"], ["--ntasks", "2", "--nodes", "1"]),
    (["-n", "2"], ["--ntasks", "2"]),
    (["-n", "1", "-c", "2"], ["--ntasks", "1", "--cpus-per-task", "2"]),
    (["-N", "1-1", "--ntasks-per-node=1"], ["--nodes", "1-1", "--ntasks-per-node", "1"]),
]


@pytest.mark.parametrize("sbatch_flags,predict_flags", LAYOUTS, ids=lambda v: " ".join(v) or "none")
def test_each_layout_gets_what_predict_gives_for_it(sbatch_flags, predict_flags):
    node = predict(*predict_flags)
    sub = sb.submit(["--hold", *sbatch_flags], wrap="true", comment=COMMENT)
    try:
        job = sb.scontrol_job(sub.jobid)
        assert job is not None
        if node["per_cpu"]:
            assert job.get("MinMemoryCPU") == f"{node['request_mib']}M", job
            assert f"{node['request_mib']} MiB per CPU" in sub.stderr
        else:
            assert job.get("MinMemoryNode") == f"{node['request_mib']}M", job
            ranks = node["ranks_per_node"]
            if node["multi_rank"]:
                assert f"{node['request_mib']} MiB per node for {ranks} rank" in sub.stderr, sub.stderr
                assert f"ranks_per_node={ranks} node_bytes={node['total_bytes']}" in job["AdminComment"]
            else:
                assert f"{node['request_mib']} MiB per node (model" in sub.stderr, sub.stderr
                assert "ranks_per_node" not in job["AdminComment"]
        assert str(node["request_mib"]) in request_line(*predict_flags)
    finally:
        sb.cancel(sub.jobid)


def _mpiexec() -> str:
    path = shutil.which("mpiexec")
    if not path:
        pytest.fail("mpiexec not found: scripts/install-deps.sh installs mpich and mpi4py from PyPI")
    return path


def test_two_rank_qube_job_fits_the_plugins_memory_and_one_rank_memory_is_killed():
    two = predict("--ntasks-per-node", "2")
    one = predict()
    assert two["request_mib"] > one["request_mib"]
    start = (datetime.now() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S")
    wrap = f"exec {_mpiexec()} -n 2 python3 {WORKLOAD} {RUN}"
    fits = sb.submit(["--ntasks-per-node=2", "--time=15", "--job-name=qube-mpi-fits"], wrap=wrap, comment=COMMENT)
    assert f"{two['request_mib']} MiB per node for 2 ranks per node" in fits.stderr
    # The same job held to one rank's memory: what the plugin set before it priced ranks.
    starved = sb.submit(["--hold", "--ntasks-per-node=2", "--time=15", "--job-name=qube-mpi-one-rank"],
                        wrap=wrap, comment=COMMENT)
    sb.run(["scontrol", "update", f"jobid={starved.jobid}", f"MinMemoryNode={one['request_mib']}"])
    assert sb.scontrol_job(starved.jobid)["MinMemoryNode"] == f"{one['request_mib']}M"
    sb.run(["scontrol", "release", starved.jobid])

    assert sb.wait_final(fits.jobid, timeout=900) == "COMPLETED", sb.job_output(fits.jobid)[-3000:]
    # The cgroup kills the ranks in the step hydra started through srun (step N.0 OUT_OF_MEMORY);
    # mpiexec then fails, so the job itself ends FAILED (or OUT_OF_MEMORY if the batch step was hit).
    assert sb.wait_final(starved.jobid, timeout=900) in ("OUT_OF_MEMORY", "FAILED")
    steps = sb.step_rows(starved.jobid, ["JobID", "State"])
    assert any(row["State"] == "OUT_OF_MEMORY" for row in steps), (steps, sb.job_output(starved.jobid)[-3000:])
    # Both ranks ran in the first job and reported their peaks.
    out = sb.job_output(fits.jobid)
    # Found wherever they are in the output: ranks writing at once may still share a line.
    ranks = [json.loads(m) for m in re.findall(r'\{"rank": \d+, "size": \d+, "peak_rss_bytes": \d+\}', out)]
    assert sorted(r["rank"] for r in ranks) == [0, 1], out[-2000:]

    r = subprocess.run([str(qubemem_binary()), "audit", "--start", start, "--jobs",
                        f"{fits.jobid},{starved.jobid}", "--json"],
                       text=True, capture_output=True, timeout=300, env=sb.sandbox_env())
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    jobs = {j["id"]: j for j in report["jobs"]}
    ok, oom = jobs[fits.jobid], jobs[starved.jobid]
    assert ok["source"] == "record" and oom["source"] == "record"
    # The record's per-node prediction is the audit's, for both (the starved job kept its record).
    assert ok["predicted_bytes"] == two["total_bytes"] == oom["predicted_bytes"]
    assert ok["requested_bytes"] == two["request_mib"] << 20
    assert oom["requested_bytes"] == one["request_mib"] << 20
    assert ok["peak_bytes"] is not None and ok["peak_bytes"] <= ok["requested_bytes"]
    # Two ranks needed more than one rank's memory: more than the old request.
    assert ok["peak_bytes"] > one["total_bytes"], ok
    assert not ok["oom"] and oom["oom"]
    groups = {g["group"]: g for g in report["summary"]}
    assert "ranks 2" in groups, sorted(groups)
    assert groups["ranks 2"]["jobs"] == 2

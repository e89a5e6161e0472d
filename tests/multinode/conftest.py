"""The multi-node suite's cluster and its MPI jobs.

`cluster`: the 3-node sandbox (`scripts/sandbox.sh start --nodes 3`, beside the one-node one) with
job_submit/qubemem and the default qubemem.conf; every slurmsandbox helper points at it while a
module of this suite runs, and back at the one-node sandbox afterwards.

`mpi_runs`: two real QUBE Fisher runs under mpich across two nodes each, submitted together and
watched on every node's cgroup while they run: `-N 2 -n 4` (2 + 2 ranks) and the uneven
`-n 5 -N 2`. The MPI and audit tests read the same two jobs.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurmsandbox as sb  # noqa: E402
from cluster import (COMMENT, NODES, CgroupWatch, Cluster, allocated_cpus, mpi_wrap,  # noqa: E402
                     predict_node, wait_nodes_idle)


# Module scope: the selection is switched back after each module, so suites that run after this one
# in the same pytest session (`pytest tests/`) talk to the one-node sandbox again. Starting a
# running sandbox again costs a second.
@pytest.fixture(scope="module")
def cluster():
    before = sb.select_sandbox(NODES)
    try:
        built = sb.build_plugin()  # nothing to do when it is up to date
        assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
        (sb.SANDBOX_DIR / "etc" / "qubemem.conf").unlink(missing_ok=True)  # the defaults
        sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(sb.PLUGIN_BUILD))
        c = Cluster.from_conf()
        assert len(c.names) == NODES, c
        states = wait_nodes_idle()
        assert all(s.split()[1] == "idle" for s in states), states
        yield c
    finally:
        sb.select_sandbox(before)


LAYOUTS = {
    # name: (sbatch layout, the same layout for `qubemem predict`)
    "even": (["-N", "2", "-n", "4"], ["--nodes", "2", "--ntasks", "4"]),
    "uneven": (["-N", "2", "-n", "5"], ["--nodes", "2", "--ntasks", "5"]),
}


_RUNS: dict = {}
"""The two runs, made once for the session and read by every module that asks (see mpi_runs)."""


@pytest.fixture(scope="module")
def mpi_runs(cluster):
    """{layout name: dict(sub, node, watch, state, output, nodes, cpus)} for both jobs, once they
    are final; submitted and waited for once per session."""
    if not _RUNS:
        _RUNS.update(_submit_and_watch())
    return _RUNS


def _submit_and_watch() -> dict:
    start = (datetime.now() - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S")
    runs = {}
    for name, (sbatch_layout, predict_layout) in LAYOUTS.items():
        node = predict_node(*predict_layout)
        sub = sb.submit([*sbatch_layout, "--time=15", "--no-requeue", f"--job-name=qube-mpi-{name}"],
                        wrap=mpi_wrap(), comment=COMMENT)
        runs[name] = {"sub": sub, "node": node}
    for run in runs.values():
        jobid = run["sub"].jobid
        assert sb.wait_state(jobid, {"RUNNING"}, timeout=120) == "RUNNING", sb.job_output(jobid)
        job = sb.scontrol_job(jobid)
        run["nodes"] = sb.run(["scontrol", "show", "hostnames", job["NodeList"]]).stdout.split()
        run["watch"] = CgroupWatch(jobid, run["nodes"]).__enter__()
        run["cpus"] = allocated_cpus(jobid)
    for run in runs.values():
        jobid = run["sub"].jobid
        try:
            run["state"] = sb.wait_final(jobid, timeout=900)
        finally:
            run["watch"].__exit__(None, None, None)
        run["output"] = sb.job_output(jobid)
    return {"start": start, **runs}

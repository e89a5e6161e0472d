"""A node dies mid-job: the job ends NODE_FAIL, and the audit counts it without a peak.

The node's death is real: every process in its network namespace (its slurmd, the job's
slurmstepd and tasks there) gets SIGKILL. slurmctld stops hearing from it, marks it DOWN after
SlurmdTimeout (10 s in the multi-node sandbox) and ends the job NODE_FAIL (JobRequeue=0, so it
stays so). sacct still holds the surviving node's figures on the job's steps: a partial peak far
below the run's need, which the audit must not count as a run that fit its request.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurmsandbox as sb  # noqa: E402
from cluster import COMMENT, CgroupWatch, hostnames, qubemem, wait_nodes_idle  # noqa: E402

MIB = 1 << 20
# Each node's task holds 200 MiB until it is killed.
HOLD = "import time; b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(600)"


@pytest.fixture(scope="module")
def failed_job(cluster):
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 120))
    sub = sb.submit(["-N", "2", "--ntasks-per-node=1", "--time=15", "--no-requeue",
                     "--job-name=qube-node-dies"], wrap=f"srun python3 -c \"{HOLD}\"", comment=COMMENT)
    try:
        assert sb.wait_state(sub.jobid, {"RUNNING"}, timeout=120) == "RUNNING"
        job = sb.scontrol_job(sub.jobid)
        nodes = hostnames(job["NodeList"])
        # The node that is not the batch host dies: the batch step survives it, so sacct has
        # figures from the living node, the case that could pass for a success.
        victim = next(n for n in nodes if n != job["BatchHost"])
        with CgroupWatch(sub.jobid, [victim]) as watch:
            deadline = time.monotonic() + 60
            while watch.peak.get(victim, 0) < 200 * MIB and time.monotonic() < deadline:
                time.sleep(0.3)
        assert watch.peak.get(victim, 0) >= 200 * MIB, "the task never ran on the victim node"
        killed = cluster.kill(victim)
        assert killed, f"nothing ran in {victim}'s namespace"
        t0 = time.monotonic()
        state = sb.wait_final(sub.jobid, timeout=180)
        # The living node's steps report their figures as slurmctld ends them, a few seconds
        # after the job's own row: wait for them, they are what the audit must leave out.
        deadline = time.monotonic() + 60
        while not sb.max_rss_bytes(sub.jobid) and time.monotonic() < deadline:
            time.sleep(1)
        result = {"sub": sub, "state": state, "victim": victim, "start": start,
                  "down": sb.run(["sinfo", "-h", "-n", victim, "-o", "%T"]).stdout.strip(),
                  "seconds_to_final": time.monotonic() - t0}
    finally:
        sb.cancel(sub.jobid)
        # The node comes back: its slurmd starts again in the same namespace and registers
        # (ReturnToService=2), so the cluster is whole for whatever runs next.
        sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(sb.PLUGIN_BUILD))
    yield result


def test_a_node_that_dies_mid_job_fails_the_job_and_the_audit_counts_it_without_a_peak(failed_job):
    sub = failed_job["sub"]
    assert failed_job["state"] == "NODE_FAIL"
    assert failed_job["down"].startswith("down"), failed_job["down"]
    # sacct has a figure from the node that lived: the audit must leave it out.
    assert sb.max_rss_bytes(sub.jobid), sb.step_rows(sub.jobid, ["State", "MaxRSS", "NodeList"])
    # A NODE_FAIL job's step figures reach the database a few seconds after its own row (seen in
    # CI: one source read the step, the other not yet): read both again until they agree.
    deadline = time.monotonic() + 60
    while True:
        reports = {}
        for source in ("sacct", "db"):
            r = qubemem("audit", "--source", source, "--start", failed_job["start"], "--jobs", sub.jobid, "--json")
            assert r.returncode == 0, r.stderr
            reports[source] = json.loads(r.stdout)
            reports[source]["input"].pop("origin")
        if reports["db"] == reports["sacct"] or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert reports["db"] == reports["sacct"]
    report = reports["sacct"]
    [job] = report["jobs"]
    assert job["state"] == "NODE_FAIL" and job["source"] == "record"
    assert job["peak_bytes"] is None, job
    assert not job["oom"] and not job["near_miss"], job
    [overall] = [g for g in report["summary"] if g["group"] == "all"]
    assert overall["jobs"] == 1 and overall["states"] == {"NODE_FAIL": 1}
    assert overall["no_data"] == 1
    assert not overall.get("peak_over_predicted"), overall
    assert report["recommendation"]["eligible_jobs"] == 0


def test_the_dead_node_is_back_once_its_slurmd_starts_again(cluster, failed_job):
    """ReturnToService=2: the node's slurmd, started again in the same namespace, registers and the
    node is usable; the cluster is whole again for what runs next."""
    states = wait_nodes_idle()
    assert all(s.split()[1] == "idle" for s in states), states
    sub = sb.submit(["-w", failed_job["victim"], "--time=1"], wrap="true")
    assert sb.wait_final(sub.jobid, timeout=60) == "COMPLETED"

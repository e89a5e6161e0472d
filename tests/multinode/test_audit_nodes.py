"""`qubemem audit` on the multi-node MPI jobs: from sacct and from slurmdbd's database, per node.

sacct keeps one figure per step: MaxRSS, the largest task (with mpich's hydra under SLURM, a task
is a node's proxy with that node's ranks), and TRESUsageInTot's mem, the tasks' sum. For a step of
one task per node on two nodes, the busiest node is MaxRSS (on MaxRSSNode) and the other node is
the sum minus it. The audit must report the busiest node's figure against the per-node prediction
and request, and read the same from the database as from sacct.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurmsandbox as sb  # noqa: E402
from cluster import qubemem  # noqa: E402

MIB = 1 << 20


@pytest.fixture(scope="module")
def reports(mpi_runs):
    ids = ",".join(mpi_runs[n]["sub"].jobid for n in ("even", "uneven"))
    out = {}
    for source in ("sacct", "db"):
        r = qubemem("audit", "--source", source, "--start", mpi_runs["start"], "--jobs", ids, "--json")
        assert r.returncode == 0, r.stderr
        out[source] = json.loads(r.stdout)
    return out


def per_node_from_sacct(jobid: str) -> dict[str, int]:
    """Each node's figure from the job's steps: the largest per node over its steps."""
    rows = sb.step_rows(jobid, ["NNodes", "NTasks", "NodeList", "MaxRSS", "MaxRSSNode", "TRESUsageInTot"])
    nodes: dict[str, int] = {}
    for row in rows:
        rss = sb.parse_size(row["MaxRSS"])
        if rss is None:
            continue
        names = sb.run(["scontrol", "show", "hostnames", row["NodeList"]]).stdout.split()
        if len(names) == 1:
            nodes[names[0]] = max(nodes.get(names[0], 0), rss)
            continue
        assert len(names) == 2 and row["NTasks"] == "2", row  # hydra: one proxy a node
        tot = next(int(p[4:]) for p in row["TRESUsageInTot"].split(",") if p.startswith("mem="))
        other = next(n for n in names if n != row["MaxRSSNode"])
        nodes[row["MaxRSSNode"]] = max(nodes.get(row["MaxRSSNode"], 0), rss)
        nodes[other] = max(nodes.get(other, 0), tot - rss)
    return nodes


def test_database_and_sacct_give_the_same_multinode_report(reports):
    assert reports["db"]["input"].pop("origin").startswith("database 127.0.0.1:")
    assert reports["sacct"]["input"].pop("origin") == "sacct"
    assert reports["db"] == reports["sacct"]


@pytest.mark.parametrize("name", ["even", "uneven"])
def test_audit_compares_the_busiest_node_with_its_per_node_prediction(reports, mpi_runs, name):
    run = mpi_runs[name]
    job = {j["id"]: j for j in reports["sacct"]["jobs"]}[run["sub"].jobid]
    node = run["node"]
    assert job["state"] == "COMPLETED" and job["nodes"] == 2 and job["source"] == "record"
    # The record's per-node prediction and the per-node request (not the job's total).
    assert job["predicted_bytes"] == node["total_bytes"]
    assert job["requested_bytes"] == node["request_mib"] * MIB
    # The peak per node is the busiest node's, as sacct's own per-node figures give it.
    nodes = per_node_from_sacct(run["sub"].jobid)
    assert sorted(nodes) == sorted(run["nodes"]), nodes
    assert job["peak_bytes"] == max(nodes.values()), (job, nodes)
    assert all(0 < v <= job["requested_bytes"] for v in nodes.values()), nodes
    assert not job["oom"]
    # The busiest node's ranks needed more than one rank's share: the peak is a whole node's.
    assert job["peak_bytes"] > job["predicted_bytes"] / node["ranks_per_node"]


def test_summary_groups_the_jobs_by_their_ranks_per_node(reports):
    groups = {g["group"]: g for g in reports["sacct"]["summary"]}
    assert groups["all"]["jobs"] == 2 and groups["all"]["states"] == {"COMPLETED": 2}
    assert groups["all"]["no_data"] == 0
    assert groups["ranks 2"]["jobs"] == 1 and groups["ranks 3"]["jobs"] == 1, sorted(groups)

"""Real MPI QUBE runs across two nodes of the multi-node sandbox, through job_submit/qubemem.

Each node is a slurmd in its own network namespace with its own memory cgroup tree, so the ranks
of one job really talk over the network between nodes, and the memory the plugin set is enforced
on each node separately. Checked on every node of each job: the cgroup limit is the plugin's
per-node request, the ranks that ran there are those priced, and the run completed inside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurmsandbox as sb  # noqa: E402
from cluster import rank_peaks, ranks_by_node  # noqa: E402

MIB = 1 << 20


def check_run(run: dict, cluster, ranks: int, busiest: int) -> None:
    """The checks every run gets; sets run["counts"] (ranks per node, as they ran)."""
    sub, node, watch = run["sub"], run["node"], run["watch"]
    request = node["request_mib"]
    assert run["state"] == "COMPLETED", run["output"][-3000:]
    # What sbatch was told, and what the controller holds.
    assert f"{request} MiB per node for {busiest} ranks per node" in sub.stderr, sub.stderr
    assert f"at most {busiest} ranks per node" in sub.stderr, sub.stderr
    assert node["ranks_per_node"] == busiest and not node["per_cpu"]
    assert sb.scontrol_job(sub.jobid)["MinMemoryNode"] == f"{request}M"
    # SLURM placed no more ranks on a node than were priced: where each rank really ran (its
    # namespace's address), within the CPUs SLURM gave that node.
    assert len(run["nodes"]) == 2
    where = ranks_by_node(run["output"], cluster)
    assert sorted(r for rs in where.values() for r in rs) == list(range(ranks)), run["output"][-3000:]
    counts = {n: len(r) for n, r in where.items()}
    assert sorted(counts) == sorted(run["nodes"]) and max(counts.values()) == busiest, counts
    assert all(counts[n] <= run["cpus"][n] for n in counts), (counts, run["cpus"])
    run["counts"] = counts
    assert sorted(rank_peaks(run["output"])) == list(range(ranks)), run["output"][-3000:]
    # On each node: the limit is the plugin's request, and the node's ranks ran inside it (the
    # kernel's high-water mark of the job's charge there, each page once).
    peaks = rank_peaks(run["output"])
    for name in run["nodes"]:
        assert watch.limit.get(name) == request * MIB, (name, watch.limit)
        used = watch.peak[name]
        assert used <= request * MIB
        # The node's ranks were there, together: more than its largest rank alone (anonymous
        # memory dominates; shared library pages may be charged elsewhere, hence 0.8).
        assert used > 0.8 * max(peaks[r] for r in where[name]), (name, used, peaks)


def test_two_node_mpi_qube_fisher_completes_inside_the_plugins_memory_on_both_nodes(cluster, mpi_runs):
    """`sbatch -N 2 -n 4`: two ranks on each node, each node held to the memory for two ranks."""
    check_run(mpi_runs["even"], cluster, ranks=4, busiest=2)


def test_uneven_layout_gets_the_busiest_nodes_memory_and_slurm_keeps_to_it(cluster, mpi_runs):
    """`-n 5 -N 2`: priced for 3 ranks on the busiest node. SLURM alone would fill one node's 4
    CPUs first (4 + 1, over that memory); the plugin's --ntasks-per-node keeps it at 3 + 2."""
    run = mpi_runs["uneven"]
    check_run(run, cluster, ranks=5, busiest=3)
    assert sorted(run["counts"].values()) == [2, 3]
    # The busiest node's request is above the even job's, by about one further rank.
    assert run["node"]["request_mib"] > mpi_runs["even"]["node"]["request_mib"]

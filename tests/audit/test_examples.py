"""The examples in examples/jobs do what they say, and `make demo` (scripts/demo.sh) runs the loop.

- qube_workload.py, run directly: its high-water mark matches the prediction it lives through.
- scripts/demo.sh --keep against the sandbox: every example job ends as its header says (the
  near-miss one is flagged, the OOM one is killed and flagged, the plain one has no prediction),
  and the audit it prints covers them.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import EXAMPLES, QUBEMEM, REPO, qubemem  # noqa: E402

JOBS = EXAMPLES / "jobs"


def qube_flags(script):
    m = re.search(r"^#QUBE (.*)$", script.read_text(), re.M)
    return m.group(1).split() if m else None


def test_every_example_script_is_valid_bash_and_prices():
    scripts = sorted(JOBS.glob("*.sbatch"))
    assert len(scripts) == 7
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
        flags = qube_flags(script)
        if script.name == "plain-no-comment.sbatch":
            assert flags is None
            continue
        r = qubemem("predict", *flags, "--comment")
        assert r.returncode == 0 and r.stdout.startswith("qube: "), (script, r.stderr)


def test_workload_lives_through_the_predicted_stages():
    flags = qube_flags(JOBS / "harmonic-small.sbatch")
    comment = qubemem("predict", *flags, "--comment").stdout.strip()
    total = json.loads(qubemem("predict", "--from-comment", comment, "--json").stdout)["request"]["total_bytes"]
    out = subprocess.run([sys.executable, str(JOBS / "qube_workload.py"), "--comment", comment, "--hold", "0",
                          "--qubemem", QUBEMEM], capture_output=True, text=True, check=True).stdout
    hwm = int(re.search(r"^VmHWM (\d+)$", out, re.M).group(1))
    # Baseline ballast tops the interpreter up to the floor, so the whole run is the prediction,
    # give or take numpy's small temporaries and page rounding.
    assert abs(hwm - total) <= 0.03 * total, (hwm, total)
    assert [l.split(":")[0] for l in out.splitlines() if l.startswith("stage ")] == [
        "stage covariance_setup", "stage basis_setup", "stage fisher_run", "stage spectra_run"]


def test_demo_runs_the_loop_and_each_example_ends_as_described(slurm_sandbox):
    # The sandbox is shared: other suites' jobs may be queued ahead, so allow a long wait.
    env = {**os.environ, "QUBEMEM": QUBEMEM, "DEMO_TIMEOUT": "540"}
    r = subprocess.run([str(REPO / "scripts" / "demo.sh"), "--keep"], capture_output=True, text=True,
                       timeout=900, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "qubemem: memory set to" in r.stdout  # the plugin's message, via sbatch
    assert "AdminComment=qubemem:v1 action=set" in r.stdout  # what the plugin recorded
    assert "Recommendation" in r.stdout
    out = REPO / ".sandbox" / "demo"
    ids = dict(line.split() for line in (out / "jobs.txt").read_text().splitlines())
    start = (out / "start.txt").read_text().strip()
    report = qubemem("audit", "--start", start, "--jobs", ",".join(ids.values()), "--all", "--json",
                     env={**os.environ, **slurm_sandbox.sandbox_env()})
    assert report.returncode == 0, report.stderr
    jobs = json.loads(report.stdout)["jobs"]

    def of(script):
        jid = ids[script]
        return [j for j in jobs if j["id"] == jid or j["id"].startswith(jid + "_")]

    for script in ("harmonic-small.sbatch", "pixel-direct-small.sbatch"):
        (j,) = of(script)
        assert j["state"] == "COMPLETED" and j["source"] == "record"
        assert 0.9 <= j["peak_over_predicted"] <= 1.1, j
    array = of("harmonic-array.sbatch")
    assert len(array) == 4 and {j["state"] for j in array} == {"COMPLETED"}
    (tight,) = of("pixel-direct-near-miss.sbatch")
    assert tight["state"] == "COMPLETED" and tight["near_miss"] and not tight["oom"]
    (killed,) = of("pixel-direct-oom.sbatch")
    assert killed["state"] == "OUT_OF_MEMORY" and killed["oom"]
    (plain,) = of("plain-no-comment.sbatch")
    assert plain["source"] == "none" and plain["requested_bytes"] == 600 << 20
    # Two MPI ranks of a real QUBE Fisher: priced for the node's two ranks, and it fits.
    (mpi,) = of("qube-mpi.sbatch")
    assert mpi["state"] == "COMPLETED" and mpi["source"] == "record", mpi
    node = json.loads(qubemem("predict", *qube_flags(JOBS / "qube-mpi.sbatch"), "--ntasks-per-node", "2",
                              "--json").stdout)["node"]
    assert mpi["predicted_bytes"] == node["total_bytes"] and mpi["requested_bytes"] == node["request_mib"] << 20
    assert mpi["peak_bytes"] <= mpi["requested_bytes"], mpi
    assert "for 2 ranks per node" in r.stdout

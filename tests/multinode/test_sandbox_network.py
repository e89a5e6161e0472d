"""scripts/sandbox-net.sh, which `sandbox.sh start|stop --nodes N` call: `down` removes every
namespace, veth and the bridge of its sandbox, after stopping (by pid) what still runs inside,
whatever state a start left them in, and is quiet and successful a second time.

Run on a network of its own (another tag, so another subnet), beside the running cluster.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import NET  # noqa: E402


def net(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(NET), *args], text=True, capture_output=True, timeout=60)


def leftovers(tag: int) -> list[str]:
    links = subprocess.run(["ip", "-o", "link", "show"], text=True, capture_output=True, check=True).stdout
    names = [l.split(": ")[1].split("@")[0] for l in links.splitlines()]
    spaces = subprocess.run(["ip", "netns", "list"], text=True, capture_output=True, check=True).stdout
    return ([n for n in names if n == f"qmbr{tag}" or n.startswith(f"qm{tag}n")]
            + [s.split()[0] for s in spaces.splitlines() if s.startswith(f"qubemem-{tag}-")])


def test_down_stops_what_runs_in_the_namespaces_and_removes_everything_twice(cluster):
    tag = cluster.tag + 101  # another subnet than the cluster's (198.18.<tag mod 256>.0/24)
    assert not leftovers(tag)
    up = net("up", str(tag), "2")
    sleeper = None
    try:
        assert up.returncode == 0, up.stderr
        assert sorted(leftovers(tag)) == sorted([f"qmbr{tag}", f"qm{tag}n1", f"qm{tag}n2",
                                                 f"qubemem-{tag}-n1", f"qubemem-{tag}-n2"])
        # Node 2 talks to node 1 across the bridge (a refused port answers: the path is there).
        probe = subprocess.run(
            ["nsenter", f"--net=/run/netns/qubemem-{tag}-n2", "python3", "-c",
             f"import socket\ntry:\n    socket.create_connection(('{net('addr', str(tag), '2', '1').stdout.strip()}', 9), 3)\n"
             "except ConnectionRefusedError:\n    print('refused')"],
            text=True, capture_output=True, timeout=30)
        assert probe.stdout.strip() == "refused", probe.stderr
        # A process left in a node (as a slurmstepd would be after its slurmd stopped).
        sleeper = subprocess.Popen(["nsenter", f"--net=/run/netns/qubemem-{tag}-n1", "sleep", "300"])
        pids = net("pids", str(tag), "2", "1").stdout.split()
        assert str(sleeper.pid) in pids
    finally:
        down = net("down", str(tag), "2")
    assert down.returncode == 0, down.stderr
    assert sleeper.wait(timeout=15) != 0  # stopped by down, by its pid
    assert not leftovers(tag)
    again = net("down", str(tag), "2")
    assert again.returncode == 0 and not again.stdout and not again.stderr

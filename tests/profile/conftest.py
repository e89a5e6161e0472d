"""Set-up for the profile suites: the qubemem binary, the compiled helper workload, a runner."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
QUBEMEM = os.environ.get("QUBEMEM", str(REPO / ".build" / "debug" / "qubemem"))
MIB = 1 << 20


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not Path(QUBEMEM).exists():
        pytest.fail(f"qubemem binary not found at {QUBEMEM}: build it (swift build) or set QUBEMEM")


def _compile(tmp_path_factory, name):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.fail("no C compiler: install build-essential (scripts/install-deps.sh does)")
    out = tmp_path_factory.mktemp(name) / name
    subprocess.run([cc, "-O2", "-Wall", "-o", str(out), str(HERE / f"{name}.c")], check=True)
    return str(out)


@pytest.fixture(scope="session")
def helper(tmp_path_factory):
    """helper_workload.c compiled for this run (the test suite's own workload)."""
    return _compile(tmp_path_factory, "helper_workload")


@pytest.fixture(scope="session")
def fork_workload(tmp_path_factory):
    """fork_workload.c compiled for this run: pages shared by a parent and its forked children."""
    return _compile(tmp_path_factory, "fork_workload")


def profile(*args, timeout=120, **kw):
    """Run `qubemem profile ARGS`; returns the CompletedProcess (text)."""
    return subprocess.run([QUBEMEM, "profile", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kw)


def profile_json(tmp_path, *args, name="run.json", **kw):
    """Run profile with --json; returns (CompletedProcess, parsed JSON)."""
    path = tmp_path / name
    proc = profile("--json", path, *args, **kw)
    assert path.exists(), proc.stderr
    return proc, json.loads(path.read_text())

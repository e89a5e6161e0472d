"""Helpers of the QUBE YAML config suite: the qubemem binary, a runner, and examples/qube on the path.

Not a conftest.py: tests/profile imports names from its own `conftest`, and a second module of
that name in one pytest session would shadow it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
QUBEMEM = os.environ.get("QUBEMEM", str(REPO / ".build" / "debug" / "qubemem"))
for folder in (HERE, REPO / "examples" / "qube"):  # qube_inputs.py lives with the example
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture(scope="session", autouse=True)
def _binary():
    if not Path(QUBEMEM).exists():
        pytest.fail(f"qubemem binary not found at {QUBEMEM}: build it (swift build) or set QUBEMEM")


def qubemem(*args, cwd=None, timeout=60):
    """Run `qubemem ARGS` in `cwd`; returns the CompletedProcess (text)."""
    return subprocess.run([QUBEMEM, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def predict_json(config, cwd, *extra):
    """`qubemem predict --qube-config CONFIG --json` in `cwd`, parsed; fails the test on error."""
    r = qubemem("predict", "--qube-config", config, "--json", *extra, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)

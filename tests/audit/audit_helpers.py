"""Shared helpers for the audit suites: where the qubemem binary and the example dumps are.

A plain module (not conftest.py): several suites under tests/ have a conftest, and `import conftest`
would pick whichever was imported first.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "Tests" / "QubeMemAuditTests" / "Fixtures"
QUBEMEM = os.environ.get("QUBEMEM", str(REPO / ".build" / "debug" / "qubemem"))


def qubemem(*args, input=None, timeout=120, env=None):
    """Run qubemem; returns the CompletedProcess (text)."""
    require_binary()
    return subprocess.run([QUBEMEM, *map(str, args)], input=input, capture_output=True, text=True,
                          timeout=timeout, env=env)


def require_binary():
    """Fail (not skip) when the binary is missing: a skipped audit suite must not count as passed."""
    if not Path(QUBEMEM).exists():
        pytest.fail(f"qubemem binary not found at {QUBEMEM}: build it (swift build) or set QUBEMEM")


def record_fields(text):
    """The last qubemem:v1 record of an AdminComment (or of a comment holding the record's copy),
    parsed here independently of the audit."""
    records = re.findall(r"qubemem:v1 ([^;]*)", text)
    assert records, f"no qubemem record in {text!r}"
    return dict(pair.split("=", 1) for pair in records[-1].split())

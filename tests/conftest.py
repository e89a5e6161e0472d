"""Shared pytest set-up for every suite under tests/.

Puts tests/ on sys.path so any test can `import slurmsandbox` (the SLURM sandbox helpers), and
offers the `slurm_sandbox` fixture for tests that need SLURM.
"""

import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import slurmsandbox  # noqa: E402  (needs the path above)


@pytest.fixture(scope="session")
def slurm_sandbox():
    """The local SLURM sandbox, started if nothing is running (a running one is left as it is).

    Yields the `slurmsandbox` module, so a test can write `slurm_sandbox.submit(...)`.
    """
    slurmsandbox.require_sandbox()
    yield slurmsandbox

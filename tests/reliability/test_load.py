"""The short version of bench/reliability/load.py in `make check`: 400 submissions from 4 concurrent
submitters (valid comments of every key, path, model and layout; every malformed class; non-UTF-8;
no qube comment), qubemem.conf rewritten, broken, removed and restored every 25, job_modify on
pending jobs. The script checks each job against `qubemem predict --request`, slurmctld's pid, its
RSS, its log and sacct; this test fails on any of its failures."""

import os
import subprocess
import sys

import slurmsandbox as sb

sys.path.insert(0, str(sb.REPO / "tests" / "plugin"))
from test_job_submit_qubemem import PLUGIN_DIR, qubemem_binary  # noqa: E402


def test_load_with_config_churn_loses_nothing():
    if not (PLUGIN_DIR / "job_submit_qubemem.so").exists():
        subprocess.run(["make", "-C", str(sb.REPO / "plugin")], check=True, timeout=1800)
    sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(PLUGIN_DIR))
    env = {**os.environ, "QUBEMEM": str(qubemem_binary())}
    r = subprocess.run([sys.executable, str(sb.REPO / "bench" / "reliability" / "load.py"), "--jobs", "400",
                        "--phase", "25", "--submitters", "4"], capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert r.stdout.strip().endswith(" 0 failed"), r.stdout[-2000:]

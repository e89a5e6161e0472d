"""A real QUBE 1.3 Fisher run (pip qube-qml) under qubemem profile, with the stage hook."""

import json
import os
import subprocess
import sys

import pytest

from conftest import MIB, REPO, profile_json

WORKLOAD = REPO / "examples" / "qube" / "qube_workload.py"
HOOK_DIR = REPO / "examples" / "qube"
# n_pix = 2 × 500 = 1000 (QU), lmax 12 in 3 bins: about 10 s on 2 cores.
DIMS = ["--fields", "QU", "--nside", "16", "--n-obs", "500", "--lmax", "12", "--bins", "3"]
QUBE_STAGES = {"fisher.covariance_setup", "fisher.basis_setup", "fisher.compute.derivative_cache",
               "fisher.compute.trace_loop"}


def _require_qube():
    probe = subprocess.run([sys.executable, "-c", "import qube"], capture_output=True)
    if probe.returncode != 0:
        pytest.fail("qube-qml is not installed: pip install qube-qml==1.3.0 (scripts/install-deps.sh does)")


@pytest.mark.parametrize("path", ["harmonic", "pixel_direct"])
def test_real_qube_run_gives_per_stage_figures(tmp_path, path):
    _require_qube()
    comment = f"qube: fields=QU n_obs=500 lmax=12 lmax_signal=64 n_bins=3 path={path}"
    proc, report = profile_json(tmp_path, "--compare", comment, "--", sys.executable, WORKLOAD, *DIMS,
                                "--path", path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["n_pix"] == 1000
    names = {s["name"] for s in report["stages"]}
    assert QUBE_STAGES <= names, names
    for s in report["stages"]:
        assert s["exit"] is not None and s["enter"] <= s["exit"]
        assert s["peak_bytes"] >= max(s["entry_rss_bytes"], s["exit_rss_bytes"]) - MIB
    # The baseline is taken where QUBE's model starts: interpreter, imports and inputs are in it.
    cov = next(s for s in report["stages"] if s["name"] == "fisher.covariance_setup")
    assert report["baseline_bytes"] == cov["entry_rss_bytes"]
    assert report["baseline_bytes"] > 100 * MIB
    comparison = report["comparison"]
    assert comparison["path"] == path
    rows = {r["name"]: r for r in comparison["stages"]}
    for model_stage in ("covariance_setup", "basis_setup", "fisher_run"):
        assert rows[model_stage]["measured_bytes"] is not None
        assert rows[model_stage]["budget_bytes"] > 0
    assert comparison["measured_total_bytes"] == report["peak_bytes"]
    assert "budget vs measured" in proc.stderr


def test_real_qube_spectra_run_reaches_the_spectra_stage(tmp_path):
    _require_qube()
    comment = "qube: fields=T n_obs=400 nside=8 lmax=16 n_bins=4 path=pixel_direct"
    proc, report = profile_json(tmp_path, "--compare", comment, "--", sys.executable, WORKLOAD, "--fields", "T",
                                "--nside", "8", "--n-obs", "400", "--lmax", "16", "--bins", "4",
                                "--path", "pixel_direct", "--spectra", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["spectra"] is True
    names = {s["name"] for s in report["stages"]}
    assert "spectra.compute.qml_spectra" in names, names
    rows = {r["name"]: r for r in report["comparison"]["stages"]}
    assert rows["spectra_run"]["measured_bytes"] is not None


def test_hook_is_silent_outside_profile_and_writes_lines_inside():
    sys.path.insert(0, str(HOOK_DIR))
    try:
        import qubemem_stage_hook as hook_module
    finally:
        sys.path.remove(str(HOOK_DIR))
    silent = hook_module.QubememStageHook(environ={})
    assert not silent.active
    with silent.stage("x"):
        pass
    r, w = os.pipe()
    try:
        hook = hook_module.QubememStageHook(environ={"QUBEMEM_STAGE_FD": str(w)})
        assert hook.active

        class FakeFisher:
            pass

        fisher = FakeFisher()
        hook_module.attach(fisher)
        assert hasattr(fisher, "_profiler")
        with hook.stage("fisher.basis_setup"):
            with hook.stage("fisher.compute.trace_loop"):
                pass
        data = os.read(r, 4096).decode()
    finally:
        os.close(r)
        os.close(w)
    assert data.splitlines() == ["enter fisher.basis_setup", "enter fisher.compute.trace_loop",
                                 "exit fisher.compute.trace_loop", "exit fisher.basis_setup"]

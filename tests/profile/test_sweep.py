"""qubemem sweep: a grid run one row at a time, with timeouts and predictions."""

import json
import subprocess
import sys

from conftest import MIB, QUBEMEM, REPO


def sweep(*args, timeout=900):
    return subprocess.run([QUBEMEM, "sweep", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_three_rows_one_timing_out_gives_two_results_and_one_timeout(tmp_path, helper):
    grid = tmp_path / "grid.csv"
    grid.write_text("name,a,hold\nsmall,20,100\nstuck,30,60000\nlarger,40,100\n")
    out = tmp_path / "sweep.json"
    csv_out = tmp_path / "sweep.csv"
    proc = sweep("--grid", grid, "--timeout", "3", "--json", out, "--csv", csv_out, "--",
                 helper, "a={a}", "b=0", "child=0", "spike=0", "hold_ms={hold}")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["status"] for r in rows] == ["ok", "timeout", "ok"]
    assert "3 rows: 2 ok, 1 timed out, 0 failed" in proc.stdout
    # Each row is measured on its own: no row inherits another's memory.
    assert abs(rows[0]["peak_bytes"] - 20 * MIB) < 3 * MIB
    assert abs(rows[2]["peak_bytes"] - 40 * MIB) < 3 * MIB
    assert rows[1]["elapsed_seconds"] < 10
    # The timed-out tree is gone: no helper is left running.
    left = subprocess.run(["pgrep", "-f", "hold_ms=60000"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("row,parameters,status") and len(lines) == 4


def test_json_grid_and_template_substitution(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps([{"word": "alpha", "code": 0}, {"word": "beta", "code": 3}]))
    out = tmp_path / "s.json"
    proc = sweep("--grid", grid, "--json", out, "--", "sh", "-c", "echo {word}; exit {code}")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert rows[0]["command"] == ["sh", "-c", "echo alpha; exit 0"]
    assert [r["status"] for r in rows] == ["ok", "exit 3"]


def test_an_unknown_placeholder_is_a_usage_error(tmp_path):
    grid = tmp_path / "grid.csv"
    grid.write_text("x\n1\n")
    proc = sweep("--grid", grid, "--", "echo", "{y}")
    assert proc.returncode == 64
    assert "'{y}'" in proc.stderr


def test_example_grid_runs_both_qube_paths_with_predictions(tmp_path):
    out = tmp_path / "qube.json"
    proc = sweep("--grid", REPO / "examples" / "sweep" / "qube_grid.csv", "--timeout", "600", "--json", out, "--",
                 sys.executable, REPO / "examples" / "qube" / "qube_workload.py", "--fields", "{fields}",
                 "--nside", "{nside}", "--n-obs", "{n_obs}", "--lmax", "{lmax}", "--lmax-signal", "{lmax_signal}",
                 "--bins", "{n_bins}", "--path", "{path}")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert [r["path"] for r in rows] == ["harmonic", "pixel_direct"]
    for r in rows:
        assert r["predicted_total_bytes"] > 0 and r["peak_bytes"] > 100 * MIB
        assert r["baseline_bytes"] > 100 * MIB  # taken at fisher.covariance_setup's entry

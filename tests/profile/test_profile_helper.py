"""qubemem profile on the helper workload, whose true tree peak is known by construction."""

import signal

from conftest import MIB, profile, profile_json

# a + b + child + spike, MiB: the workload holds all four at once, in two processes.
A, B, CHILD, SPIKE = 100, 100, 150, 64
TOUCHED = (A + B + CHILD + SPIKE) * MIB


def stage(report, name):
    matches = [s for s in report["stages"] if s["name"] == name]
    assert len(matches) == 1, report["stages"]
    return matches[0]


def test_tree_peak_is_within_one_percent_of_the_touched_total(tmp_path, helper):
    proc, report = profile_json(tmp_path, "--", helper, f"a={A}", f"b={B}", f"child={CHILD}", f"spike={SPIKE}")
    assert proc.returncode == 0, proc.stderr
    # Above the two processes' own baselines (a C program: about 1 MiB each).
    assert abs(report["peak_bytes"] - TOUCHED) <= TOUCHED * 0.01, report["peak_bytes"] / MIB
    assert report["high_water_marks_reset"] is True


def test_the_child_is_counted(tmp_path, helper):
    _, report = profile_json(tmp_path, "--", helper, f"child={CHILD}")
    assert len(report["processes"]) == 2
    child = [p for p in report["processes"] if p["pid"] != report["processes"][0]["pid"]][0]
    assert abs(child["peak_bytes"] - CHILD * MIB) <= 3 * MIB
    # Without the child's memory the tree peak would be a whole CHILD lower.
    assert report["peak_bytes"] >= TOUCHED - 0.01 * TOUCHED


def test_a_30ms_spike_is_caught_at_a_100ms_interval_without_stage_marks(tmp_path, helper):
    # mark=0: no stage events, so no extra samples at the spike's edges: only VmHWM can see it.
    for i in range(3):
        _, report = profile_json(tmp_path, "--interval", "100ms", "--", helper, "mark=0", f"spike={SPIKE}",
                                 "spike_ms=30", name=f"run{i}.json")
        assert report["stages"] == []
        assert abs(report["peak_bytes"] - TOUCHED) <= TOUCHED * 0.01, report["peak_bytes"] / MIB
        # The samples themselves almost never land in it: the peak is above the highest sample.
        assert report["peak_bytes"] >= report["peak_sampled_bytes"]


def test_a_3ms_spike_is_caught_at_a_10ms_interval_between_marks_readings(tmp_path, helper):
    # At 10 ms the samples read only the RSS (statm) and the high-water marks are read every
    # 100 ms: the spike, held 3 ms, falls inside a window of RSS-only samples; the mark holds it.
    for i in range(3):
        _, report = profile_json(tmp_path, "--interval", "10ms", "--", helper, "mark=0", f"spike={SPIKE}",
                                 "spike_ms=3", name=f"run{i}.json")
        assert abs(report["peak_bytes"] - TOUCHED) <= TOUCHED * 0.01, report["peak_bytes"] / MIB
        assert report["peak_bytes"] >= report["peak_sampled_bytes"]
        # A window's bound covers each of its intervals: never below a sample's own RSS.
        assert all(s["interval_peak"] >= s["rss"] for s in report["samples"])


def test_each_step_is_attributed_to_its_stage(tmp_path, helper):
    _, report = profile_json(tmp_path, "--", helper)
    base = report["baseline_bytes"]
    assert base < 8 * MIB
    tol = 3 * MIB
    assert abs(stage(report, "alloc_a")["peak_bytes"] - base - A * MIB) <= tol
    assert abs(stage(report, "alloc_b")["peak_bytes"] - base - (A + B) * MIB) <= tol
    assert abs(stage(report, "alloc_b")["entry_rss_bytes"] - base - A * MIB) <= tol
    spike = stage(report, "spike")
    with_child = stage(report, "with_child")
    assert spike["depth"] == 1 and with_child["depth"] == 0
    assert abs(spike["entry_rss_bytes"] - (A + B + CHILD) * MIB) <= 2 * tol
    assert abs(spike["peak_bytes"] - TOUCHED) <= TOUCHED * 0.01
    assert with_child["peak_bytes"] == spike["peak_bytes"]
    assert spike["enter"] < spike["exit"] <= with_child["exit"]
    # Samples of the spike interval name the spike stage.
    index = report["stages"].index(spike)
    assert any(s["stage"] == index for s in report["samples"])


def test_exit_code_passes_through(helper):
    proc = profile("--", helper, "a=1", "b=1", "child=1", "spike=1", "exit=7")
    assert proc.returncode == 7
    assert "exited with code 7" in proc.stderr


def test_a_child_killed_by_a_signal_is_reported_and_passed_on(tmp_path, helper):
    proc, report = profile_json(tmp_path, "--", helper, "a=1", "b=1", "child=1", "spike=1", f"signal={int(signal.SIGKILL)}")
    assert proc.returncode == -signal.SIGKILL  # qubemem itself died of SIGKILL
    assert report["exit"] == {"kind": "signaled", "code": None, "signal": 9, "signal_name": "SIGKILL", "core_dumped": False}
    assert "killed by signal 9 (SIGKILL)" in proc.stderr


def test_sigterm_to_profile_reaches_the_child(tmp_path):
    import subprocess, time, json
    from conftest import QUBEMEM
    out = tmp_path / "r.json"
    p = subprocess.Popen([QUBEMEM, "profile", "--json", str(out), "--", "sleep", "30"],
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)
    assert p.returncode == -signal.SIGTERM
    report = json.loads(out.read_text())
    assert report["exit"]["signal_name"] == "SIGTERM"
    assert report["elapsed_seconds"] < 5


def test_a_missing_command_is_a_clear_error():
    proc = profile("--", "no-such-command-qubemem")
    assert proc.returncode == 127
    assert "command not found: 'no-such-command-qubemem'" in proc.stderr


def test_text_report_has_the_sparkline_and_the_stage_table(helper):
    proc = profile("--", helper, "a=10", "b=10", "child=10", "spike=10")
    assert proc.returncode == 0
    assert "peak RSS" in proc.stderr and "alloc_a" in proc.stderr and "spike" in proc.stderr
    assert any(ch in proc.stderr for ch in "▁▂▃▄▅▆▇█")


def test_svg_timeline_has_stage_bands(tmp_path, helper):
    svg = tmp_path / "t.svg"
    proc = profile("--svg", svg, "--", helper, "a=10", "b=10", "child=10", "spike=10")
    assert proc.returncode == 0
    text = svg.read_text()
    assert text.startswith("<svg") and "</svg>" in text
    assert "alloc_a" in text and "polyline" in text


def test_an_orphaned_grandchild_is_followed_and_reaped_by_profile(tmp_path):
    # The subshell starts python in the background and exits at once: python is orphaned and,
    # profile being a subreaper, reparented to it; profile reaps it and keeps its ru_maxrss.
    code = "import time; b = bytearray(80 << 20); time.sleep(0.6)"
    _, report = profile_json(tmp_path, "--", "sh", "-c", f"(python3 -c '{code}' &); sleep 1.2")
    pythons = [p for p in report["processes"] if p["name"].startswith("python")]
    assert len(pythons) == 1, report["processes"]
    assert pythons[0]["reaped_by_profiler"] is True
    assert pythons[0]["peak_bytes"] >= 80 * MIB
    assert report["peak_bytes"] >= 80 * MIB
    assert report["left_running"] == []


def test_usage_errors_exit_64():
    assert profile().returncode == 64  # no command
    proc = profile("--interval", "5ms", "--", "true")
    assert proc.returncode == 64 and "interval" in proc.stderr


def test_no_hwm_reset_still_counts_the_spike_as_a_looser_bound(tmp_path, helper):
    _, report = profile_json(tmp_path, "--no-hwm-reset", "--", helper, "mark=0")
    assert report["high_water_marks_reset"] is False
    # Lifetime marks summed: at least the true peak.
    assert report["peak_bytes"] >= TOUCHED

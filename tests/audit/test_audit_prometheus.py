"""`qubemem audit --prometheus FILE`: the report's figures as Prometheus text exposition.

The output is read with the reference parser (prometheus_client from PyPI) and every figure is
checked against the same report's `--json`. The file is written beside and renamed into place: a
write that fails leaves whatever was there before.
"""

import json
import os
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import EXAMPLES, qubemem  # noqa: E402

DUMP = EXAMPLES / "sacct" / "demo-run.sacct"
GIB = 1 << 30


def audit(tmp_path, *extra):
    prom = tmp_path / "qubemem.prom"
    r = qubemem("audit", "--input", DUMP, "--json", "--prometheus", prom, *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), prom.read_text()


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        assert family.documentation, family.name
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_every_figure_matches_the_json_report(tmp_path):
    report, text = audit(tmp_path)
    got = samples(text)

    def value(name, **labels):
        return got[(name, tuple(sorted(labels.items())))]

    counts = report["counts"]
    assert value("qubemem_audit_finished_jobs") == counts["finished_jobs"]
    assert value("qubemem_audit_jobs_with_record") == counts["with_record"]
    assert value("qubemem_audit_jobs_without_prediction") == counts["without_prediction"]
    assert value("qubemem_audit_malformed_rows") == report["input"]["malformed_rows"]
    for group in report["summary"]:
        name = group["group"]
        kind, _, what = name.partition(" ")
        labels = {"group": kind} if name == "all" else {"group": kind, kind: what}
        for state, n in group["states"].items():
            assert value("qubemem_audit_jobs", **labels, state=state) == n
        assert value("qubemem_audit_oom_jobs", **labels) == group["oom"]
        assert value("qubemem_audit_near_miss_jobs", **labels) == group["near_misses"]
        assert value("qubemem_audit_no_peak_jobs", **labels) == group["no_data"]
        for metric, key in (("qubemem_audit_peak_over_predicted_ratio", "peak_over_predicted"),
                            ("qubemem_audit_requested_over_peak_ratio", "requested_over_peak")):
            q = group[key]
            for quantile, field in (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"), ("1", "max")):
                assert value(metric, **labels, quantile=quantile) == pytest.approx(q[field], rel=1e-12)
        assert value("qubemem_audit_wasted_bytes", **labels) == pytest.approx(group["wasted_gib"] * GIB, rel=1e-12)
        assert value("qubemem_audit_wasted_byte_seconds", **labels) == pytest.approx(
            group["wasted_gib_hours"] * GIB * 3600, rel=1e-12)
    rec = report["recommendation"]
    assert value("qubemem_audit_recommended_slack") == float(rec["slack"])
    assert value("qubemem_audit_current_slack") == float(rec["current_slack"])
    assert value("qubemem_audit_recommendation_eligible_jobs") == rec["eligible_jobs"]
    assert value("qubemem_audit_recommendation_enough_jobs") == (1 if rec["enough_jobs"] else 0)
    assert value("qubemem_audit_recommendation_covered_jobs") == rec["covered"]
    assert value("qubemem_audit_current_covered_jobs") == rec["current_covered"]
    # The groups of one kind add up to the audited jobs.
    by_path = sum(v for (n, l), v in got.items() if n == "qubemem_audit_jobs" and ("group", "path") in l)
    assert by_path == report["summary"][0]["jobs"]


def test_metric_names_follow_prometheus_rules(tmp_path):
    _, text = audit(tmp_path)
    names = {f.name for f in text_string_to_metric_families(text)}
    for name in names:
        assert name.startswith("qubemem_audit_")
        assert name == name.lower() and not name.endswith("_total")  # gauges, not counters
    assert "qubemem_audit_wasted_bytes" in names and "qubemem_audit_timestamp_seconds" in names


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path):
    folder = tmp_path / "textfile"
    folder.mkdir()
    prom = folder / "qubemem.prom"
    prom.write_text("# previous figures\n")
    folder.chmod(0o555)
    try:
        if os.geteuid() == 0:
            # root ignores directory permissions: make the rename target a directory instead.
            folder.chmod(0o755)
            target = folder / "as-dir.prom"
            target.mkdir()
            r = qubemem("audit", "--input", DUMP, "--prometheus", target)
            assert r.returncode == 1 and "cannot write" in r.stderr, r.stderr
            assert target.is_dir()
        else:
            r = qubemem("audit", "--input", DUMP, "--prometheus", prom)
            assert r.returncode == 1 and "cannot write" in r.stderr
        assert prom.read_text() == "# previous figures\n"
        assert [p.name for p in folder.iterdir() if p.name.startswith(".") or "tmp" in p.name.lower()] == []
    finally:
        folder.chmod(0o755)

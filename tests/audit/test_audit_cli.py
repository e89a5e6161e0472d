"""`qubemem audit` end to end on saved dumps and fake sacct programs (no SLURM needed).

examples/sacct/demo-run.sacct is real sacct output from the sandbox (`make demo`'s jobs); the
expected figures below were read off it by hand: the AdminComment records, ReqMem and MaxRSS.
"""

import csv
import io
import json
import stat
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_helpers import EXAMPLES, FIXTURES, qubemem  # noqa: E402

DEMO = EXAMPLES / "sacct" / "demo-run.sacct"
MIXED = FIXTURES / "mixed.sacct"
MIB = 1 << 20


def audit_json(*args, input=None):
    r = qubemem("audit", *args, "--json", input=input)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_demo_dump_figures_come_from_records_reqmem_and_maxrss():
    d = audit_json("--input", DEMO, "--all")
    assert d["schema"] == "qubemem.audit/1"
    assert d["counts"] == {"finished_jobs": 9, "with_record": 8, "recomputed": 0, "without_prediction": 1,
                           "unreadable_records": 0, "unpriced_comments": 0}
    jobs = {j["id"]: j for j in d["jobs"]}
    assert sorted(jobs) == ["20_1", "20_2", "20_3", "20_4", "21", "22", "23", "24", "25"]
    j = jobs["21"]
    assert (j["source"], j["model"], j["path"]) == ("record", "1.3", "harmonic")
    assert j["predicted_bytes"] == 351442400 + 314515456
    assert j["requested_bytes"] == 731 * MIB
    assert j["peak_bytes"] == 665853952
    assert j["peak_basis"] == "single_task"
    assert abs(j["peak_over_predicted"] - 665853952 / (351442400 + 314515456)) < 1e-5
    assert jobs["25"]["source"] == "none" and jobs["25"]["requested_bytes"] == 600 * MIB
    assert [i for i, j in jobs.items() if j["oom"]] == ["23"]
    # 20_4: 755752960 / 799 MiB = 0.902; 22: 510111744 / 532 MiB = 0.914 (threshold 0.9).
    assert sorted(i for i, j in jobs.items() if j["near_miss"]) == ["20_4", "22"]


def test_demo_dump_recommendation_covers_the_oom_job_strictly():
    rec = audit_json("--input", DEMO)["recommendation"]
    # The OOM job (23) was killed at its 532 MiB request, predicted 484435456 B: it needs more
    # than 532 MiB / 484435456 B = 1.1515, so 1.16; every other job fits under 1.16.
    assert rec["slack"] == "1.16"
    assert (rec["eligible_jobs"], rec["covered"]) == (8, 8)
    assert (rec["current_slack"], rec["current_covered"]) == ("1.15", 7)
    assert rec["enough_jobs"] is False and rec["minimum_jobs"] == 100


def test_table_says_the_oom_coverage_is_a_lower_bound():
    r = qubemem("audit", "--input", DEMO)
    assert r.returncode == 0, r.stderr
    assert "1 job ran out of memory: sacct cannot say how much it needed" in r.stdout
    assert "That is a lower bound" in r.stdout


def test_without_all_jobs_without_prediction_are_counted_not_listed():
    d = audit_json("--input", DEMO)
    assert len(d["jobs"]) == 8
    assert d["counts"]["without_prediction"] == 1


def test_table_reports_skips_flags_and_recommendation_without_colour_off_a_terminal():
    r = qubemem("audit", "--input", DEMO)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\x1b[" not in out
    assert "9 finished jobs" in out
    assert "OOM" in out and "NEAR" in out
    assert "Too few jobs" in out
    assert "qubemem.conf:  slack = 1.16" in out


def test_suggest_config_prints_only_conf_lines():
    r = qubemem("audit", "--input", FIXTURES / "recommend-200.sacct", "--suggest-config")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[-1] == "slack = 1.2"
    assert all(l.startswith("#") for l in lines[:-1])
    assert not any("indicative" in l for l in lines)  # 200 jobs are enough for 99 %


def test_stdin_input_gives_the_same_report():
    via_file = audit_json("--input", DEMO)
    via_stdin = audit_json("--input", "-", input=DEMO.read_text())
    via_stdin["input"]["origin"] = via_file["input"]["origin"]
    assert via_stdin == via_file


def test_malformed_rows_are_listed_with_line_numbers_and_fail_unless_tolerated():
    r = qubemem("audit", "--input", MIXED)
    assert r.returncode == 1
    assert "4 malformed rows dropped" in r.stderr
    assert "line 40: expected 15 fields" in r.stderr
    assert "line 46: MaxRSS '12Q' is not a memory size" in r.stderr
    assert "19 finished jobs" in r.stdout  # the report still comes
    ok = qubemem("audit", "--input", MIXED, "--tolerate-bad-rows")
    assert ok.returncode == 0
    assert "4 malformed rows dropped" in ok.stderr


def test_many_malformed_rows_show_the_first_few_then_a_count(tmp_path):
    dump = tmp_path / "bad.sacct"
    dump.write_text("".join(f"garbage {i}\n" for i in range(12)) + DEMO.read_text())
    r = qubemem("audit", "--input", dump)
    assert r.returncode == 1
    assert "12 malformed rows dropped" in r.stderr
    assert "line 1:" in r.stderr and "line 5:" in r.stderr and "line 6:" not in r.stderr
    assert "and 7 more" in r.stderr


def test_csv_has_one_row_per_listed_job():
    r = qubemem("audit", "--input", DEMO, "--csv", "--all")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 9
    by_id = {row["id"]: row for row in rows}
    assert by_id["23"]["oom"] == "1" and by_id["23"]["state"] == "OUT_OF_MEMORY"
    assert by_id["21"]["peak_bytes"] == "665853952"
    assert by_id["25"]["predicted_bytes"] == ""


def test_csv_quotes_fields_with_commas(tmp_path):
    dump = tmp_path / "comma.sacct"
    dump.write_text(DEMO.read_text().replace("|qube-pixel|", "|qube, pixel \"x\"|", 1))
    r = qubemem("audit", "--input", dump, "--csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {row["name"] for row in rows} >= {'qube, pixel "x"'}


def test_svg_has_scatter_with_lines_and_histogram(tmp_path):
    out = tmp_path / "audit.svg"
    r = qubemem("audit", "--input", DEMO, "--svg", out)
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert {"scatter", "histogram", "identity", "current-slack", "recommended-slack"} <= ids
    scatter = root.find(".//s:g[@id='scatter']", ns)
    assert len(scatter.findall("s:circle", ns)) == 8
    bars = root.find(".//s:g[@id='histogram']", ns).findall("s:rect[@class='bar']", ns)
    counts = [int(b.find("s:title", ns).text.split(": ")[1].split()[0]) for b in bars]
    assert sum(counts) == 8


def test_option_errors_are_usage_errors_quoting_the_value():
    r = qubemem("audit", "--input", DEMO, "--target", "1.5")
    assert r.returncode == 64 and "'1.5'" in r.stderr
    r = qubemem("audit", "--input", DEMO, "--user", "alice")
    assert r.returncode == 64 and "--user" in r.stderr
    r = qubemem("audit", "--input", DEMO, "--json", "--csv")
    assert r.returncode == 64


def test_missing_dump_is_a_clear_error():
    r = qubemem("audit", "--input", "/nonexistent/dump.sacct")
    assert r.returncode == 1
    assert "cannot open the dump '/nonexistent/dump.sacct'" in r.stderr


# --- running sacct -------------------------------------------------------------------------------


def fake_sacct(tmp_path, body):
    path = tmp_path / "sacct"
    path.write_text("#!/bin/bash\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_sacct_gets_the_argv_as_a_value_and_its_output_is_audited(tmp_path):
    argv_file = tmp_path / "argv"
    prog = fake_sacct(tmp_path, f'printf "%s\\n" "$@" > {argv_file}; cat {DEMO}')
    r = qubemem("audit", "--sacct", prog, "--start", "2026-11-01", "--end", "2026-11-08",
                "-u", "alice,bob", "--user", "carol", "-A", "cmb", "-r", "debug", "-s", "COMPLETED",
                "-j", "20,21", "--json")
    assert r.returncode == 0, r.stderr
    assert argv_file.read_text().splitlines() == [
        "--parsable2", "--noheader", "--noconvert",
        "--format=JobID,JobName,User,Account,Partition,State,ElapsedRaw,NNodes,NTasks,AllocCPUS,ReqMem,"
        "MaxRSS,TRESUsageInTot,Comment,AdminComment",
        "--starttime=2026-11-01", "--endtime=2026-11-08", "--user=alice,bob,carol", "--accounts=cmb",
        "--partition=debug", "--state=COMPLETED", "--jobs=20,21",
    ]
    assert json.loads(r.stdout)["input"]["origin"] == "sacct"
    assert len(json.loads(r.stdout)["jobs"]) == 8


def test_print_sacct_command_shows_what_would_run():
    r = qubemem("audit", "--print-sacct-command", "--start", "now-30days")
    assert r.returncode == 0
    assert r.stdout.startswith("sacct --parsable2 --noheader --noconvert --format=JobID,")
    assert "--starttime=now-30days --allusers" in r.stdout


def test_sacct_failure_reports_its_status_and_stderr(tmp_path):
    prog = fake_sacct(tmp_path, 'echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1')
    r = qubemem("audit", "--sacct", prog)
    assert r.returncode == 1
    assert "exited with status 1" in r.stderr
    assert "Problem talking to the database: Connection refused" in r.stderr


def test_missing_sacct_says_so(tmp_path):
    r = qubemem("audit", "--sacct", tmp_path / "no-such-sacct")
    assert r.returncode == 1
    assert "cannot run" in r.stderr and "No such file or directory" in r.stderr


def test_sacct_timeout_stops_it_and_says_so(tmp_path):
    prog = fake_sacct(tmp_path, 'echo "slow database" >&2; exec sleep 30')
    t0 = time.monotonic()
    r = qubemem("audit", "--sacct", prog, "--timeout", "1")
    assert time.monotonic() - t0 < 10
    assert r.returncode == 1
    assert "did not finish within 1 s" in r.stderr and "slow database" in r.stderr


def test_sacct_output_limit(tmp_path):
    prog = fake_sacct(tmp_path, 'exec yes "1|x|u|a|p|COMPLETED|1|1||1|1M||||"')
    r = qubemem("audit", "--sacct", prog, "--max-output", "1")
    assert r.returncode == 1
    assert "printed more than 1048576 bytes" in r.stderr


def test_stdout_and_stderr_are_read_together(tmp_path):
    # 1 MiB on stderr before any stdout: reading one stream after the other would deadlock on the
    # 64 KiB pipe buffer (the timeout turns that into a failure instead of a hang).
    prog = fake_sacct(tmp_path, f'head -c 1048576 /dev/zero | tr "\\0" "e" >&2; cat {DEMO}')
    r = qubemem("audit", "--sacct", prog, "--timeout", "20", "--json")
    assert r.returncode == 0, r.stderr[-300:]
    assert len(json.loads(r.stdout)["jobs"]) == 8


def test_a_job_without_record_is_recomputed_with_the_current_model_and_marked(tmp_path):
    comment = "qube: path=harmonic fields=QU n_obs=1200 lmax_signal=64 lmax=32"
    expected = json.loads(qubemem("predict", "--from-comment", comment, "--json").stdout)["request"]
    dump = tmp_path / "norecord.sacct"
    dump.write_text(f"77|old-job|alice|cmb|normal|COMPLETED|600|1||1|1000M|||{comment}|\n"
                    f"77.batch|batch|||normal|COMPLETED|600|1|1|1||600M|||\n")
    (job,) = audit_json("--input", dump)["jobs"]
    assert job["source"] == "recomputed" and job["action"] is None
    assert job["predicted_bytes"] == expected["total_bytes"]
    assert (job["model"], job["path"]) == ("1.3", "harmonic")
    table = qubemem("audit", "--input", dump).stdout
    assert "1.3/harmonic*" in table and "1 recomputed" in table


def test_sacct_converted_units_read_the_same_as_raw_bytes():
    # The same sandbox jobs saved with --noconvert (bytes, MiB) and without it (sacct's K/M units).
    raw = {j["id"]: j for j in audit_json("--input", EXAMPLES / "sacct" / "units-raw.sacct", "--all")["jobs"]}
    conv = {j["id"]: j for j in audit_json("--input", EXAMPLES / "sacct" / "units-converted.sacct", "--all")["jobs"]}
    assert sorted(raw) == sorted(conv) and len(raw) == 9
    for jid, j in raw.items():
        c = conv[jid]
        assert c["requested_bytes"] == j["requested_bytes"]
        assert c["predicted_bytes"] == j["predicted_bytes"]
        # MaxRSS is kept in KiB by the accounting: the converted figure is exact to the KiB.
        assert j["peak_bytes"] is not None and abs(c["peak_bytes"] - j["peak_bytes"]) < 1024, jid
        assert (c["oom"], c["near_miss"], c["state"]) == (j["oom"], j["near_miss"], j["state"])


def test_a_broken_qubemem_conf_stops_the_audit_with_its_line(tmp_path):
    """Jobs without a record are priced with the site's policy; a broken qubemem.conf must be
    reported, never silently replaced by the defaults."""
    conf = tmp_path / "qubemem.conf"
    conf.write_text("slack = 1.2\nslak = 1.3\n")
    r = qubemem("audit", "--input", str(MIXED), "--config", str(conf), "--tolerate-bad-rows")
    assert r.returncode != 0
    assert str(conf) in r.stderr and "slak" in r.stderr and "line 2" in r.stderr, r.stderr
    conf.write_text("slack = 1.2\n")
    assert qubemem("audit", "--input", str(MIXED), "--config", str(conf), "--tolerate-bad-rows").returncode == 0

"""job_submit/qubemem inside the real slurmctld of the sandbox (scripts/sandbox.sh).

The release is the sandbox's (QUBEMEM_SANDBOX_RELEASE, default the host's): scripts/check.sh runs
this suite once per release, against the plugin built from that release's headers.

Every expected memory figure comes from `qubemem predict --request` for the same comment (the CLI
and the plugin share the QubeMem library), never from a number written here. slurmctld must keep
the same pid through everything below, hostile comments and broken configs included.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

import slurmsandbox as sb

PLUGIN_DIR = sb.PLUGIN_BUILD
CONFIG = sb.SANDBOX_DIR / "etc" / "qubemem.conf"
CTLD_PID = sb.SANDBOX_DIR / "run" / "slurm" / "slurmctld.pid"
CTLD_LOG = sb.SANDBOX_DIR / "log" / "slurmctld.log"

VALID = {
    "pixel_direct": "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU",
    "harmonic derived from nside/fsky": "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64",
    "auto": "qube: fields=QU nside=16 fsky=0.2 lmax=32",
    "model 1.0 with switch": "qube: model=1.0 path=pixel_direct fields=QU n_obs=1504 lmax=32 lmax_signal=64 switch=yes",
    "model 1.2 cached": "qube: model=1.2 path=pixel_direct fields=T nside=16 fsky=0.5 lmax=24 cache=yes",
    "model 1.3 working_dim": "qube: model=1.3 path=harmonic fields=QU n_obs=2496 lmax=64 lmax_signal=128 working_dim=3000",
    "release 1.1.0, QUBE dims": "qube: model=1.1.0 path=harmonic n_pix=4992 n_modes=8442 lmax_signal=128 lmax=64",
    "latest, text around": "nightly run 7 qube: model=latest path=pixel_direct fields=TQU nside=8 fsky=1 lmax=16; owner=cmb",
}
PIXEL = VALID["pixel_direct"]
SMALL = "qube: path=pixel_direct n_pix=200 lmax=8 fields=T"  # fits the one-node sandbox, runs


def qubemem_binary() -> Path:
    for candidate in (os.environ.get("QUBEMEM"), os.environ.get("QUBEMEM_BIN"),
                      sb.REPO / ".build" / "debug" / "qubemem", sb.REPO / ".build" / "release" / "qubemem"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("no qubemem binary: run `swift build` first (or set QUBEMEM)")


NO_CONFIG = Path(tempfile.mkdtemp(prefix="qubemem-test-")) / "empty.conf"
NO_CONFIG.write_text("# no settings: the documented defaults\n")


def predicted_mib(comment: str, *flags: str, config: Path | str = NO_CONFIG) -> int:
    """What `qubemem predict --request` says the plugin sets for this comment, under the given
    qubemem.conf (default: an empty one, i.e. the documented defaults) and policy flags."""
    out = subprocess.run([str(qubemem_binary()), "predict", "--from-comment", comment, "--request",
                          "--config", str(config), *flags],
                         text=True, capture_output=True, timeout=60, check=True).stdout
    match = re.search(r"Request: (\d+) MiB per (?:node|CPU)", out)
    assert match, out
    return int(match.group(1))


def mib(size: str) -> int:
    value = sb.parse_size(size)
    assert value is not None and value % (1 << 20) == 0, size
    return value // (1 << 20)


def ctld_pid() -> int:
    return int(CTLD_PID.read_text().split()[0])


def write_config(text: str | None) -> None:
    """Replace (or remove, for None) the sandbox's qubemem.conf the way an admin's editor would."""
    if text is None:
        CONFIG.unlink(missing_ok=True)
        return
    tmp = CONFIG.with_suffix(".conf.new")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(CONFIG)


def log_size() -> int:
    return CTLD_LOG.stat().st_size


def log_since(offset: int) -> str:
    with CTLD_LOG.open("rb") as f:
        f.seek(offset)
        return f.read().decode(errors="replace")


def held(comment: str | None, *args: str, check: bool = True) -> sb.Submission:
    sub = sb.submit(["--hold", *args], wrap="true", comment=comment, check=check)
    if sub.jobid:
        SUBMITTED.append(sub.jobid)
    return sub


SUBMITTED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def qubemem_sandbox():
    """The sandbox with JobSubmitPlugins=qubemem from plugin/build, on the default config."""
    built = sb.build_plugin()  # for this release; nothing to do when it is up to date
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    write_config(None)
    sb.start_sandbox(QUBEMEM_PLUGIN_DIR=str(PLUGIN_DIR))
    pid = ctld_pid()
    yield pid
    write_config(None)
    for jobid in SUBMITTED:
        sb.cancel(jobid)
    assert ctld_pid() == pid, "slurmctld restarted during the plugin tests"


@pytest.fixture(autouse=True)
def default_config():
    write_config(None)
    yield
    write_config(None)


def test_plugin_is_loaded_with_its_version():
    out = sb.run(["scontrol", "show", "config"]).stdout
    assert re.search(r"^JobSubmitPlugins\s*=\s*qubemem\s*$", out, re.M), out
    assert "qubemem: init: abi=1" in CTLD_LOG.read_text(errors="replace")
    # The release asked for is the one running (and it loaded a plugin built for it).
    version = sb.slurm_version()
    assert version.startswith(f"{sb.RELEASE}.") or not sb.RELEASE, version
    assert (PLUGIN_DIR / version / "job_submit_qubemem.so").is_file()


@pytest.mark.parametrize("comment", list(VALID.values()), ids=list(VALID.keys()))
def test_memory_equals_qubemem_predict_request(comment):
    expected = predicted_mib(comment)
    sub = held(comment)
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == expected
    assert f"qubemem: memory set to {expected} MiB per node" in sub.stderr
    assert len([l for l in sub.stderr.splitlines() if "qubemem:" in l]) == 1
    record = job["AdminComment"]
    assert record.startswith("qubemem:v1 action=set ")
    assert f"request_mib={expected} user_mib=none" in record
    # The user's text, then a copy of the record (comment_record, for epilogs that replace
    # AdminComment).
    assert job["Comment"] == f"{comment}; {record}"


@pytest.mark.parametrize("comment", [None, "", "nightly run 7", "seeqube: n_pix=-1"],
                         ids=["no comment", "empty", "without qube", "qube: glued to a word"])
def test_comments_that_are_not_ours_are_untouched(comment):
    sub = held(comment, "--mem=123")
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == 123
    assert job.get("AdminComment", "(null)") in ("", "(null)")
    assert "qubemem" not in sub.stderr


def user_cases():
    # (id, policy, sbatch args, expected: "P" = prediction, or a MiB figure kept, per node or CPU).
    # "-n 2" alone is two MPI ranks on nodes SLURM chooses: the prediction is then per CPU, and a
    # --mem-per-cpu is compared with it.
    for policy in ("override", "larger", "user"):
        yield policy, "none", [], ("node", "P")
        yield policy, "--mem small", ["--mem=100"], ("node", "P" if policy != "user" else 100)
        yield policy, "--mem large", ["--mem=20000"], ("node", "P" if policy == "override" else 20000)
        yield policy, "--mem-per-cpu small", ["--mem-per-cpu=100", "-N", "1", "--ntasks-per-node=1"], \
            ("node", "P") if policy != "user" else ("cpu", 100)
        yield policy, "--mem-per-cpu small, 2 ranks", ["--mem-per-cpu=100", "-n", "2"], \
            ("cpu", "P") if policy != "user" else ("cpu", 100)
        yield policy, "--mem-per-cpu large, 2 ranks", ["--mem-per-cpu=10000", "-n", "2"], \
            ("cpu", "P") if policy == "override" else ("cpu", 10000)


@pytest.mark.parametrize("policy,label,args,expected", list(user_cases()),
                         ids=[f"{c[0]}-{c[1]}" for c in user_cases()])
def test_user_memory_follows_the_policy(policy, label, args, expected):
    write_config(f"user_memory = {policy}\n")
    predicted = predicted_mib(PIXEL, *(["--ntasks", "2"] if "-n" in args else []))
    sub = held(PIXEL, *args)
    job = sb.scontrol_job(sub.jobid)
    kind, value = expected
    value = predicted if value == "P" else value
    if kind == "node":
        assert mib(job["MinMemoryNode"]) == value
    else:
        assert mib(job["MinMemoryCPU"]) == value
    action = re.search(r"action=(\w+)", job["AdminComment"]).group(1)
    if expected[1] == "P":
        assert action == "set"
        assert "memory set to" in sub.stderr
    else:
        assert action == ("kept_user" if policy == "user" else "kept_larger")
        assert "qubemem: kept your" in sub.stderr


HOSTILE = {
    "unknown key": ("qube: color=blue n_pix=3008", "color"),
    "duplicate key": ("qube: n_pix=3008 n_pix=3008 lmax=32", "n_pix"),
    "negative": ("qube: n_pix=-3 lmax=32", "-3"),
    "zero": ("qube: path=pixel_direct n_pix=0 lmax=32 fields=QU", "'0'"),
    "overflow n_pix 2^40": ("qube: path=pixel_direct n_pix=1099511627776 lmax=32 fields=QU", "1099511627776"),
    "64 KiB": ("qube: n_pix=" + "9" * 65536, "longer than"),
    "printf specifiers": ("qube: %s%n%x%n lmax=%n", "%s%n%x%n"),
    "shell metacharacters": ("qube: n_pix=$(reboot);`id`|&>/tmp/x", "$(reboot)"),
    "qube: alone": ("qube:", "no key=value pairs"),
}


@pytest.mark.parametrize("comment,quote", list(HOSTILE.values()), ids=list(HOSTILE.keys()))
def test_hostile_comments_are_rejected_with_the_parsers_message(comment, quote, qubemem_sandbox):
    sub = held(comment, check=False)
    assert sub.jobid is None and sub.returncode != 0
    assert "sbatch: error: qubemem: invalid qube comment: " in sub.stderr, sub.stderr
    assert quote in sub.stderr
    # The plugin's ESLURM code for a qube: section it cannot size the job from, not SLURM_ERROR.
    assert "Batch job submission failed: Job size specification needs to be provided" in sub.stderr, sub.stderr
    assert ctld_pid() == qubemem_sandbox
    assert sb.sandbox_running()


def test_non_utf8_comment_is_rejected(qubemem_sandbox):
    argv = [b"sbatch", b"--parsable", b"--hold", b"--output=/dev/null",
            b"--comment=qube: n_pix=30\xff\xfe\xc3 lmax=2", b"--wrap=true"]
    env = {k.encode(): v.encode() for k, v in sb.sandbox_env().items()}
    proc = subprocess.run(argv, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert b"qubemem: invalid qube comment: invalid value '30" in proc.stderr, proc.stderr
    assert ctld_pid() == qubemem_sandbox


def test_malformed_comments_only_warn_when_configured():
    write_config("on_malformed = warn\n")
    sub = held("qube: color=blue", "--mem=222")
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == 222
    assert "qubemem: warning: qube comment ignored" in sub.stderr and "color" in sub.stderr
    assert job["AdminComment"] == "qubemem:v1 action=warn user_mib=222"


def test_missing_config_means_the_documented_defaults():
    write_config(None)
    sub = held(PIXEL)
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == predicted_mib(PIXEL)
    assert " slack=1.15 " in job["AdminComment"]


def test_config_changed_on_disk_applies_to_the_next_submission():
    write_config("slack = 1.15\n")
    first = held(PIXEL)
    assert mib(sb.scontrol_job(first.jobid)["MinMemoryNode"]) == predicted_mib(PIXEL, config=CONFIG)
    write_config("slack = 1.5\ninterpreter_floor = 0.5G\ninput_covariances = 2\n")
    second = held(PIXEL)
    # The CLI reads the same file the plugin reads, and agrees with it.
    assert mib(sb.scontrol_job(second.jobid)["MinMemoryNode"]) == predicted_mib(PIXEL, config=CONFIG)
    assert predicted_mib(PIXEL, config=CONFIG) == predicted_mib(
        PIXEL, "--slack", "1.5", "--interpreter-floor", "512M", "--input-covariances", "2")
    assert predicted_mib(PIXEL, config=CONFIG) > predicted_mib(PIXEL)


@pytest.mark.parametrize("broken,key,line", [
    ("slack = 1.5\n# fine\nturbo = yes\n", "unknown key 'turbo'", 3),
    ("slack = 1.5\nmax_request = lots\n", "'lots' is invalid for 'max_request'", 2),
], ids=["unknown key", "bad value"])
def test_broken_config_keeps_the_last_good_one(broken, key, line, qubemem_sandbox):
    write_config("slack = 2\n")
    held(PIXEL)  # loads slack 2
    offset = log_size()
    write_config(broken)
    sub = held(PIXEL)
    assert mib(sb.scontrol_job(sub.jobid)["MinMemoryNode"]) == predicted_mib(PIXEL, "--slack", "2")
    log = log_since(offset)
    assert f"line {line}: " in log and key in log and "keeping the last good configuration" in log, log
    assert ctld_pid() == qubemem_sandbox


def test_request_above_max_request_is_rejected_with_both_figures():
    predicted = predicted_mib(PIXEL)
    write_config(f"max_request = {predicted - 1}\n")
    sub = held(PIXEL, check=False)
    assert sub.jobid is None
    assert f"needs {predicted} MiB per node" in sub.stderr
    assert f"limit of {predicted - 1} MiB (max_request)" in sub.stderr


def test_min_request_and_switch_off():
    write_config("min_request = 12G\n")
    sub = held(PIXEL)
    assert mib(sb.scontrol_job(sub.jobid)["MinMemoryNode"]) == 12 * 1024
    assert predicted_mib(PIXEL, config=CONFIG) == 12 * 1024  # the CLI applies min_request too
    write_config("enabled = no\n")
    sub = held(PIXEL, "--mem=321")
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == 321 and "qubemem" not in sub.stderr


def test_admin_comment_is_on_the_job_at_once_and_in_sacct_after_it_ends():
    expected = predicted_mib(SMALL)
    sub = sb.submit([], wrap="true", comment=SMALL)
    job = sb.scontrol_job(sub.jobid)
    record = job["AdminComment"]
    assert record.startswith("qubemem:v1 action=set ") and f"request_mib={expected} " in record
    state = sb.wait_final(sub.jobid, timeout=180)
    assert state == "COMPLETED"
    rows = sb.sacct_rows(sub.jobid, ["JobID", "AdminComment", "ReqMem"], extra_args=["-X"])
    assert rows and rows[0]["AdminComment"] == record
    assert mib(rows[0]["ReqMem"].rstrip("n")) == expected


def test_job_modify_recomputes_a_pending_job():
    sub = held(PIXEL)
    other = VALID["harmonic derived from nside/fsky"]
    sb.run(["scontrol", "update", f"jobid={sub.jobid}", f"comment={other}"])
    job = sb.scontrol_job(sub.jobid)
    # The new comment, with the copy of the new decision's record (the old copy is gone).
    assert job["Comment"].startswith(f"{other}; qubemem:v1 action=set ")
    assert job["Comment"].count("qubemem:v1") == 1
    assert job["Comment"].split("; ", 1)[1] in job["AdminComment"]
    assert mib(job["MinMemoryNode"]) == predicted_mib(other)
    assert f"request_mib={predicted_mib(other)} " in job["AdminComment"]
    bad = sb.run(["scontrol", "update", f"jobid={sub.jobid}", "comment=qube: n_pix=-1"], check=False)
    assert bad.returncode != 0
    assert mib(sb.scontrol_job(sub.jobid)["MinMemoryNode"]) == predicted_mib(other)


def test_job_modify_leaves_a_running_job_alone():
    sub = sb.submit([], wrap="sleep 60", comment=SMALL)
    SUBMITTED.append(sub.jobid)
    assert sb.wait_state(sub.jobid, {"RUNNING"}, timeout=90) == "RUNNING"
    before = sb.scontrol_job(sub.jobid)
    sb.run(["scontrol", "update", f"jobid={sub.jobid}", f"comment={PIXEL}"])
    after = sb.scontrol_job(sub.jobid)
    assert after["Comment"] == PIXEL
    assert after["MinMemoryNode"] == before["MinMemoryNode"]
    assert after["AdminComment"] == before["AdminComment"]
    sb.cancel(sub.jobid)


def test_mem_update_is_switched_off_when_qubemem_sets_the_memory():
    """SLURM 26.05's `--mem-update=MARGIN@DELAY` lowers a job's limit once, DELAY after the start,
    to the RSS seen then plus MARGIN %. A QUBE run's RSS climbs stage by stage to a late peak
    (basis_setup, then the derivative cache), so a limit cut early would kill the run the
    prediction was made for: when qubemem sets the memory it switches the reduction off and says
    so. When the user's own --mem is kept (user_memory), the user's --mem-update is kept with it."""
    version = tuple(int(x) for x in sb.slurm_version().split(".")[:2])
    if version < (26, 5):
        pytest.skip(f"--mem-update exists from SLURM 26.05 on (this sandbox runs {sb.slurm_version()})")
    plain = sb.scontrol_job(held(None, "--mem=500", "--mem-update=20@5").jobid)
    assert plain["MemUpdate"] == "20%@5min" and mib(plain["MinMemoryNode"]) == 500
    sub = held(PIXEL, "--mem-update=20@5")
    job = sb.scontrol_job(sub.jobid)
    assert mib(job["MinMemoryNode"]) == predicted_mib(PIXEL)
    assert "MemUpdate" not in job, job
    assert "qubemem: --mem-update switched off" in sub.stderr
    untouched = held(PIXEL)
    assert "MemUpdate" not in sb.scontrol_job(untouched.jobid)
    assert "--mem-update" not in untouched.stderr
    write_config("user_memory = user\n")
    kept = held(PIXEL, "--mem=400", "--mem-update=20@5")
    job = sb.scontrol_job(kept.jobid)
    assert mib(job["MinMemoryNode"]) == 400 and job["MemUpdate"] == "20%@5min"
    assert "--mem-update" not in kept.stderr

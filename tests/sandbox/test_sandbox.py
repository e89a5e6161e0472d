"""The local SLURM sandbox (scripts/sandbox.sh) behaves like the cluster the other suites assume:
a usable node, accounting with steps and MaxRSS, --mem enforced, and an idempotent start."""

import os
import re
import subprocess
import uuid

from slurmsandbox import (
    SANDBOX_SCRIPT,
    SLURM_CONF,
    job_output,
    parse_scontrol_record,
    parse_size,
    run,
    sacct_rows,
    scontrol_job,
    step_rows,
    submit,
    wait_final,
)

MiB = 1024 * 1024


def _sandbox(*args, **env):
    full = dict(os.environ)
    full.update(env)
    return subprocess.run([str(SANDBOX_SCRIPT), *args], text=True, capture_output=True,
                          env=full, timeout=300, stdin=subprocess.DEVNULL)


def _pids():
    proc = _sandbox("status")
    return dict(re.findall(r"^(\w+)\s+running \(pid (\d+)\)", proc.stdout, re.M)), proc


def test_env_prints_the_sandbox_slurm_conf():
    proc = _sandbox("env")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"export SLURM_CONF={SLURM_CONF}"
    assert SLURM_CONF.is_file()


def test_node_is_usable_and_cluster_is_registered(slurm_sandbox):
    states = run(["sinfo", "-h", "-N", "-o", "%T"]).stdout.split()
    assert len(states) == 1
    assert states[0] in {"idle", "mixed", "allocated", "completing"}
    clusters = run(["sacctmgr", "-n", "-P", "list", "cluster", "format=cluster,controlhost"]).stdout
    assert "qubesandbox|127.0.0.1" in clusters.splitlines()


def test_status_reports_every_daemon_running(slurm_sandbox):
    pids, proc = _pids()
    assert proc.returncode == 0, proc.stdout
    assert set(pids) == {"munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd"}


def test_finished_job_shows_in_sacct_with_steps_and_maxrss(slurm_sandbox):
    tag = f"sandbox-test-{uuid.uuid4().hex[:8]}"
    # 150 MiB held for 3 s: sampled by JobAcctGatherFrequency=1; then one srun step.
    job = submit(
        ["--mem=400M", "--time=2"],
        comment=tag,
        wrap="python3 -c 'import time; b = bytearray(150*1024*1024); time.sleep(3)'; srun true",
    )
    assert wait_final(job.jobid, timeout=90) == "COMPLETED"

    rows = sacct_rows(job.jobid, ["JobID", "JobName", "State", "ReqMem", "Comment", "MaxRSS"])
    by_id = {r["JobID"]: r for r in rows}
    assert set(by_id) == {job.jobid, f"{job.jobid}.batch", f"{job.jobid}.0"}
    top = by_id[job.jobid]
    assert top["JobName"] == "wrap", rows
    assert top["Comment"] == tag
    assert top["ReqMem"] == "400M"
    assert top["MaxRSS"] == ""  # the job line carries no MaxRSS; its steps do
    batch_rss = parse_size(by_id[f"{job.jobid}.batch"]["MaxRSS"])
    assert batch_rss is not None and 150 * MiB <= batch_rss < 400 * MiB
    step0_rss = parse_size(by_id[f"{job.jobid}.0"]["MaxRSS"])
    assert step0_rss is not None and step0_rss < 150 * MiB
    assert all(r["State"] == "COMPLETED" for r in step_rows(job.jobid, ["State"]))


def test_job_over_its_mem_ends_out_of_memory(slurm_sandbox):
    job = submit(
        ["--mem=100M", "--time=2"],
        wrap=(
            "python3 -c 'import time\n"
            "b = []\n"
            "for _ in range(60):\n"
            "    b.append(bytearray(10*1024*1024)); time.sleep(0.02)\n"
            "print(\"survived\")'"
        ),
    )
    assert wait_final(job.jobid, timeout=90) == "OUT_OF_MEMORY"
    batch = [r for r in step_rows(job.jobid, ["State"]) if r["JobID"].endswith(".batch")]
    assert [r["State"] for r in batch] == ["OUT_OF_MEMORY"]
    assert "survived" not in job_output(job.jobid)
    ctl = scontrol_job(job.jobid)
    assert ctl is not None and ctl["JobState"] == "OUT_OF_MEMORY"
    assert ctl["MinMemoryNode"] == "100M"


def test_job_within_its_mem_is_not_killed(slurm_sandbox):
    # The counterpart of the OOM test: the same shape of job, 100 MiB under a 300 MiB limit.
    job = submit(
        ["--mem=300M", "--time=2"],
        wrap=(
            "python3 -c 'b = [bytearray(10*1024*1024) for _ in range(10)]\n"
            "print(\"survived\")'"
        ),
    )
    assert wait_final(job.jobid, timeout=90) == "COMPLETED"
    assert "survived" in job_output(job.jobid)


def test_start_twice_is_harmless(slurm_sandbox):
    first = _sandbox("start", QUBEMEM_JOB_SUBMIT="keep")
    assert first.returncode == 0, first.stderr
    before, _ = _pids()
    second = _sandbox("start", QUBEMEM_JOB_SUBMIT="keep")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    after, _ = _pids()
    assert after == before
    assert len(after) == 5


def test_scontrol_record_keeps_spaces_and_equals_in_comments():
    record = (
        "JobId=7 JobName=wrap\n"
        "   JobState=PENDING Reason=None Dependency=(null)\n"
        "   MinCPUsNode=1 MinMemoryNode=200M MinTmpDiskNode=0\n"
        "   Comment=qube: n_pix=3008 lmax=32 \n"
        "   AdminComment=qubemem: v=1 request_mib=7000 \n"
    )
    fields = parse_scontrol_record(record)
    assert fields["JobId"] == "7"
    assert fields["Reason"] == "None"
    assert fields["MinMemoryNode"] == "200M"
    assert fields["Comment"] == "qube: n_pix=3008 lmax=32"
    assert fields["AdminComment"] == "qubemem: v=1 request_mib=7000"


def test_parse_size_reads_both_sacct_forms():
    assert parse_size("1261568") == 1261568
    assert parse_size("117476K") == 117476 * 1024
    assert parse_size("200M") == 200 * MiB
    assert parse_size("1.5G") == 1536 * MiB
    assert parse_size("") is None


LUA_SCRIPT = """\
function slurm_job_submit(job_desc, part_list, submit_uid)
    if job_desc.comment ~= nil and string.find(job_desc.comment, "{tag}", 1, true) then
        job_desc.admin_comment = "seen-by-lua {tag}"
        slurm.log_user("lua variant saw {tag}")
    end
    return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
    return slurm.SUCCESS
end

return slurm.SUCCESS
"""


def _recorded_variant_env():
    """The QUBEMEM_* variables of the running variant, from .sandbox/etc/variant.env."""
    import shlex

    path = SLURM_CONF.parent / "variant.env"
    env = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        if key:
            env[key] = shlex.split(value)[0] if value else ""
    return env


def test_start_switches_to_the_lua_variant_and_back(slurm_sandbox, tmp_path):
    from slurmsandbox import current_variant, start_sandbox

    original = _recorded_variant_env()
    tag = f"luatag{uuid.uuid4().hex[:8]}"
    script = tmp_path / "job_submit.lua"
    script.write_text(LUA_SCRIPT.replace("{tag}", tag))
    try:
        out = start_sandbox(QUBEMEM_JOB_SUBMIT="lua", QUBEMEM_LUA_SCRIPT=str(script))
        assert "configuration changed" in out
        assert current_variant().startswith("lua ")
        conf = SLURM_CONF.read_text()
        assert "JobSubmitPlugins=lua" in conf.splitlines()
        assert (SLURM_CONF.parent / "job_submit.lua").read_text() == script.read_text()

        job = submit(["--mem=50M"], wrap="true", comment=f"x {tag}")
        assert f"lua variant saw {tag}" in job.stderr
        ctl = scontrol_job(job.jobid)
        assert ctl is not None and ctl["AdminComment"] == f"seen-by-lua {tag}"
        assert wait_final(job.jobid, timeout=90) == "COMPLETED"
    finally:
        start_sandbox(**original)
    restored = _recorded_variant_env()
    assert restored == original
    assert "JobSubmitPlugins=lua" not in SLURM_CONF.read_text().splitlines()


def test_placeholder_rows_are_not_taken_for_the_job():
    from slurmsandbox import is_placeholder

    assert is_placeholder({"JobName": "allocation", "State": "PENDING", "ReqMem": "16?"})
    assert is_placeholder({"JobName": "allocation", "State": "COMPLETED", "ReqMem": "400M"})
    assert not is_placeholder({"JobName": "wrap", "State": "COMPLETED", "ReqMem": "400M"})

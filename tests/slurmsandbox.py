"""Helpers for pytest suites that talk to the local SLURM sandbox (``scripts/sandbox.sh``).

Import it from any test under ``tests/`` (``tests/conftest.py`` puts ``tests/`` on ``sys.path``)::

    from slurmsandbox import require_sandbox, submit, wait_final, sacct_rows, scontrol_job

    def test_something():
        require_sandbox()                       # starts it if nothing is running
        job = submit(["--mem=100M"], wrap="sleep 1", comment="qube: n_pix=3008")
        assert job.jobid                        # str, e.g. "42"
        state = wait_final(job.jobid)           # "COMPLETED", "OUT_OF_MEMORY", ...
        rows = sacct_rows(job.jobid, ["JobID", "State", "MaxRSS"])

Which sandbox: the SLURM release named by ``QUBEMEM_SANDBOX_RELEASE`` (default: the host's own)
and ``QUBEMEM_SANDBOX_PORT_OFFSET``, exactly as ``scripts/sandbox.sh`` reads them; this module asks
``scripts/sandbox.sh env`` where that sandbox keeps its ``slurm.conf`` and its client commands.
For 24.11 and 26.05 (run inside a Debian root) the clients are ``.sandbox-RELEASE/bin/sbatch``
and friends, which run that release's own ``sbatch`` inside the root; :func:`sandbox_env` puts
them first on ``PATH``, so ``qubemem audit`` run with that environment reads that release's sacct.

Conventions:

* Every SLURM command runs with ``SLURM_CONF`` pointing at the sandbox's ``etc/slurm.conf`` (see
  :func:`sandbox_env`); the caller's own environment is otherwise kept.
* Job ids are strings (``"42"``, ``"42_3"`` for array tasks, ``"42.batch"`` for steps).
* Sizes from sacct are taken with ``--noconvert``: plain bytes, ``""`` when there is no data.
  :func:`parse_size` turns either form (``"117476K"`` or ``"1261568"``) into bytes.
* Failing SLURM commands raise :class:`SlurmCommandError` with the argv and stderr in the message.
* The sandbox is shared by everyone on the machine. ``require_sandbox()`` never changes the running
  job_submit variant; :func:`start_sandbox` does (it passes its keyword arguments as environment to
  ``sandbox.sh start``, which restarts slurmctld when the variant changes).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent
"""The repository root."""

SANDBOX_SCRIPT = REPO / "scripts" / "sandbox.sh"


NODES = int(os.environ.get("QUBEMEM_SANDBOX_NODES") or 1)
"""Nodes of the selected sandbox: 1 (``.sandbox``), or more for the multi-node sandbox
(``scripts/sandbox.sh start --nodes N``, state in ``.sandbox-nodes``); see :func:`select_sandbox`."""


def _sandbox_paths(nodes: int = NODES) -> tuple[Path, str | None]:
    """(SLURM_CONF, client folder or None) of the selected sandbox, from ``sandbox.sh env``."""
    out = subprocess.run([str(SANDBOX_SCRIPT), "env", "--nodes", str(nodes)], text=True,
                         capture_output=True, timeout=30, check=True).stdout
    conf = re.search(r"^export SLURM_CONF=(.*)$", out, re.M)
    path = re.search(r"^export PATH=(.*):\$PATH$", out, re.M)
    assert conf, out
    return Path(conf.group(1)), (path.group(1) if path else None)


SLURM_CONF, CLIENT_BIN = _sandbox_paths()
SANDBOX_DIR = SLURM_CONF.parent.parent
"""The selected sandbox's state folder: ``.sandbox`` (host release) or ``.sandbox-RELEASE``."""
RELEASE = os.environ.get("QUBEMEM_SANDBOX_RELEASE", "")
"""The release asked for (``""``: the host's own)."""
PLUGIN_BUILD = REPO / "plugin" / "build"
"""Plugin builds by SLURM version (``plugin/build/22.05.8/...``); ``sandbox.sh`` picks the one of the
running release when given this folder as ``QUBEMEM_PLUGIN_DIR``."""
JOB_OUTPUT_DIR = SANDBOX_DIR / "jobs"
"""Default folder for job stdout/stderr (``slurm-<jobid>.out``) when a test gives no ``--output``."""


def select_sandbox(nodes: int) -> int:
    """Point every helper of this module at the sandbox with ``nodes`` nodes (1: the one-node
    sandbox; more: the multi-node one) and return the node count selected before, so that a suite
    can switch for its duration and switch back (``tests/multinode``). Sets
    ``QUBEMEM_SANDBOX_NODES`` too, for ``sandbox.sh`` and the commands a test runs."""
    global NODES, SLURM_CONF, CLIENT_BIN, SANDBOX_DIR, JOB_OUTPUT_DIR
    before = NODES
    NODES = nodes
    os.environ["QUBEMEM_SANDBOX_NODES"] = str(nodes)
    SLURM_CONF, CLIENT_BIN = _sandbox_paths(nodes)
    SANDBOX_DIR = SLURM_CONF.parent.parent
    JOB_OUTPUT_DIR = SANDBOX_DIR / "jobs"
    return before

FINAL_STATES = frozenset(
    {
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
        "PREEMPTED", "BOOT_FAIL", "DEADLINE", "REVOKED",
    }
)
"""Job states after which a job will not run again (sacct / scontrol spelling)."""

SACCT_DELIMITER = "\x1f"
"""Field separator for sacct: a control character cannot occur in a comment, unlike ``|``."""


class SlurmCommandError(RuntimeError):
    """A SLURM client command exited non-zero (or timed out)."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stdout: str, stderr: str):
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"{' '.join(self.argv)} exited {returncode}: {stderr.strip() or stdout.strip() or '(no output)'}"
        )


class Timeout(AssertionError):
    """A wait_* helper gave up. An AssertionError, so pytest reports it as a test failure."""


# --- environment and commands ---------------------------------------------------------------


def sandbox_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for SLURM client commands: ``os.environ`` plus ``SLURM_CONF`` for the sandbox.

    - Parameters: ``extra``: more variables to set (they win over both).
    - Returns: a new dict, safe to modify.
    """
    env = dict(os.environ)
    env["SLURM_CONF"] = str(SLURM_CONF)
    if CLIENT_BIN:
        env["PATH"] = f"{CLIENT_BIN}:{env.get('PATH', '')}"
    if extra:
        env.update(extra)
    return env


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 60,
        env: Mapping[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run one command with the sandbox environment and capture its text output.

    - Parameters: ``argv``: the command; ``check``: raise on non-zero exit; ``timeout``: seconds;
      ``env``: extra variables (added to :func:`sandbox_env`); ``input``: text for stdin
      (default: stdin is /dev/null).
    - Returns: the ``CompletedProcess`` (``stdout``/``stderr`` as ``str``).
    - Raises: :class:`SlurmCommandError` when ``check`` and the exit status is not 0, or on timeout.
    """
    try:
        proc = subprocess.run(
            list(argv), env=sandbox_env(env), text=True, capture_output=True, timeout=timeout,
            input=input, stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise SlurmCommandError(argv, None, _text(exc.stdout), f"timed out after {timeout}s") from exc
    if check and proc.returncode != 0:
        raise SlurmCommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


# --- the sandbox itself -----------------------------------------------------------------------


def sandbox_running() -> bool:
    """True when slurmctld answers ``scontrol ping`` with the sandbox configuration."""
    if not SLURM_CONF.exists():
        return False
    proc = run(["scontrol", "ping"], check=False, timeout=15)
    return proc.returncode == 0 and "UP" in proc.stdout


def start_sandbox(**env: str) -> str:
    """Run ``scripts/sandbox.sh start`` with extra environment, e.g. a job_submit variant.

    Examples: ``start_sandbox()`` (no plugin, unless... see below),
    ``start_sandbox(QUBEMEM_PLUGIN_DIR="/path/to/dir")`` (JobSubmitPlugins=qubemem),
    ``start_sandbox(QUBEMEM_JOB_SUBMIT="lua", QUBEMEM_LUA_SCRIPT="/path/job_submit.lua")``.
    Variables not given are removed from the environment, so the variant is exactly what the
    arguments say (``start_sandbox()`` means no job_submit plugin).

    - Returns: the script's output.
    - Raises: :class:`SlurmCommandError` when the sandbox does not come up (output has log tails).
    """
    base = {k: v for k, v in os.environ.items()
            if k not in ("QUBEMEM_PLUGIN_DIR", "QUBEMEM_JOB_SUBMIT", "QUBEMEM_LUA_SCRIPT", "QUBEMEM_BENCH_BRACKET")}
    base.update(env)
    argv = [str(SANDBOX_SCRIPT), "start"]
    proc = subprocess.run(argv, env=base, text=True, capture_output=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise SlurmCommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def require_sandbox() -> None:
    """Make sure the sandbox answers; start it (with the current environment) only if it does not.

    Never restarts a running sandbox, so it does not switch another test's job_submit variant.
    """
    if not sandbox_running():
        proc = subprocess.run([str(SANDBOX_SCRIPT), "start"], text=True, capture_output=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise SlurmCommandError([str(SANDBOX_SCRIPT), "start"], proc.returncode,
                                    proc.stdout, proc.stderr)


def build_plugin(target: str | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    """``make -C plugin [TARGET]`` for the selected release (``SLURM_RELEASE=...`` when it runs in a
    root), so that ``PLUGIN_BUILD`` holds its build. Returns the CompletedProcess (text, captured)."""
    argv = ["make", "-C", str(REPO / "plugin")]
    if CLIENT_BIN and RELEASE:
        argv.append(f"SLURM_RELEASE={RELEASE}")
    if target:
        argv.append(target)
    return subprocess.run(argv, text=True, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def slurm_version() -> str:
    """The selected sandbox's SLURM version, e.g. ``"24.11.5"`` (its client's ``sinfo -V``)."""
    return run(["sinfo", "-V"]).stdout.split()[-1]


def current_variant() -> str:
    """The job_submit variant the sandbox was last configured with: ``none``, ``qubemem ...``,
    ``lua ...`` (first field of ``.sandbox/etc/variant``), or ``""`` if never started."""
    path = SANDBOX_DIR / "etc" / "variant"
    return path.read_text().split("|", 1)[0].strip() if path.exists() else ""


# --- jobs ----------------------------------------------------------------------------------------


@dataclass
class Submission:
    """What sbatch said.

    - ``jobid``: the job id as a string, or ``None`` when sbatch refused the job.
    - ``returncode``: sbatch's exit status (0 when accepted).
    - ``stdout`` / ``stderr``: sbatch's output. A job_submit plugin's message to the user arrives on
      ``stderr`` (as ``sbatch: error: ...`` or ``sbatch: ...``), for accepted and rejected jobs alike.
    """

    jobid: str | None
    returncode: int
    stdout: str
    stderr: str


def submit(args: Sequence[str] = (), *, wrap: str | None = None, comment: str | None = None,
           script: str | None = None, check: bool = True, top: bool = True,
           env: Mapping[str, str] | None = None) -> Submission:
    """Submit a batch job with ``sbatch --parsable``.

    - Parameters:
      - ``args``: sbatch options, e.g. ``["--mem=200M", "--time=1"]``.
      - ``wrap``: a shell command line (``sbatch --wrap``).
      - ``comment``: the job comment (``--comment``), e.g. ``"qube: n_pix=3008 lmax=32"``.
      - ``script``: a whole batch script (text, starting with ``#!``) sent on stdin, instead of
        ``wrap``. Give neither to pass your own script path inside ``args``.
      - ``check``: when True (default), a refused submission raises; when False, it returns a
        :class:`Submission` with ``jobid=None`` so a test can inspect the message.
      - ``top``: when True (default), add ``--priority=TOP`` (root may) so a test job starts ahead
        of whatever else is queued on the shared node (benchmark arrays, other agents' jobs).
        Ignored when ``args`` already has ``--priority``.
      - ``env``: extra environment for sbatch (e.g. ``SBATCH_*`` variables).
    - Output goes to ``.sandbox/jobs/slurm-%j.out`` unless ``args`` has ``-o``/``--output``.
    - Returns: a :class:`Submission`.
    - Raises: :class:`SlurmCommandError` when ``check`` and sbatch fails.
    """
    argv = ["sbatch", "--parsable"]
    if not any(a == "-o" or a.startswith("--output") or (a.startswith("-o") and len(a) > 2)
               for a in args):
        JOB_OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        argv.append(f"--output={JOB_OUTPUT_DIR}/slurm-%j.out")
    if top and not any(a.startswith("--priority") for a in args):
        argv.append("--priority=TOP")
    if comment is not None:
        argv.append(f"--comment={comment}")
    argv += list(args)
    if wrap is not None:
        argv.append(f"--wrap={wrap}")
    proc = run(argv, check=False, env=env, input=script)
    jobid = None
    if proc.returncode == 0:
        # --parsable prints "jobid" or "jobid;cluster".
        jobid = proc.stdout.strip().splitlines()[-1].split(";", 1)[0] if proc.stdout.strip() else None
    if check and jobid is None:
        raise SlurmCommandError(argv, proc.returncode, proc.stdout, proc.stderr)
    return Submission(jobid=jobid, returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)


def cancel(jobid: str) -> None:
    """``scancel`` the job (no error if it already ended)."""
    run(["scancel", str(jobid)], check=False)


def job_output(jobid: str) -> str:
    """The text of ``.sandbox/jobs/slurm-<jobid>.out`` (the default output file), or ``""``."""
    path = JOB_OUTPUT_DIR / f"slurm-{jobid}.out"
    return path.read_text(errors="replace") if path.exists() else ""


# --- scontrol ------------------------------------------------------------------------------------

# Lines of `scontrol show job` that hold one field whose value may contain spaces and '='.
_WHOLE_LINE_KEYS = ("Comment", "AdminComment", "SystemComment", "Command", "WorkDir",
                    "StdErr", "StdIn", "StdOut", "Power", "MailUser")
_TOKEN = re.compile(r"(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=")


def scontrol_job(jobid: str) -> dict[str, str] | None:
    """The controller's view of a job: ``scontrol show job`` parsed into a dict.

    Works while the job is queued, running, and for MinJobAge (300 s in the sandbox) after it ends.
    Keys are scontrol's own (``JobState``, ``Reason``, ``MinMemoryNode``, ``MinMemoryCPU``,
    ``Comment``, ``AdminComment``, ``TRES``, ...). Values are strings as printed (``"200M"``,
    ``"(null)"``); ``Comment``/``AdminComment`` keep spaces and ``=`` (trailing padding removed).
    An array job shows its first record only.

    - Returns: the dict, or ``None`` when the controller no longer knows the job.
    """
    proc = run(["scontrol", "show", "job", str(jobid)], check=False)
    if proc.returncode != 0:
        if "Invalid job id" in proc.stderr:
            return None
        raise SlurmCommandError(["scontrol", "show", "job", str(jobid)], proc.returncode,
                                proc.stdout, proc.stderr)
    return parse_scontrol_record(proc.stdout.split("\n\n", 1)[0])


def parse_scontrol_record(text: str) -> dict[str, str]:
    """Parse one multi-line ``scontrol show job|node`` record into a dict (see :func:`scontrol_job`)."""
    fields: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, rest = line.partition("=")
        if sep and key in _WHOLE_LINE_KEYS:
            fields[key] = raw.lstrip()[len(key) + 1:].rstrip(" ")
            continue
        starts = [(m.start(1), m.end(1), m.group(1)) for m in _TOKEN.finditer(line)]
        for i, (_, value_start, name) in enumerate(starts):
            value_end = starts[i + 1][0] if i + 1 < len(starts) else len(line)
            fields[name] = line[value_start + 1:value_end].strip()
    return fields


# --- sacct ---------------------------------------------------------------------------------------


def sacct_rows(jobid: str, fields: Iterable[str], *, extra_args: Sequence[str] = ()) -> list[dict[str, str]]:
    """Accounting rows of a job: the job line first, then its steps (``batch``, ``extern``, ``0``...).

    Runs ``sacct -j JOBID --parsable2 --noheader --noconvert --delimiter=\\x1f --format=FIELDS``.
    Sizes are plain bytes (MaxRSS ``"1261568"``), ``""`` when sacct has no data. ``ReqMem`` keeps
    its unit (``"200M"``). A job shows in sacct as soon as it is submitted, but Comment and
    AdminComment only after it ends, and very short jobs first show a placeholder row: use
    :func:`wait_final` before reading.

    - Parameters: ``fields``: sacct format names (``"JobID"``, ``"State"``, ``"MaxRSS"``, ...), used
      as the dict keys exactly as given; ``extra_args``: more sacct options (e.g. ``["-X"]`` for the
      job line only).
    - Returns: one dict per row; ``[]`` when sacct does not know the job.
    """
    names = list(fields)
    argv = ["sacct", "-j", str(jobid), "--parsable2", "--noheader", "--noconvert",
            f"--delimiter={SACCT_DELIMITER}", f"--format={','.join(names)}", *extra_args]
    out = run(argv).stdout
    rows = []
    for line in out.splitlines():
        if not line.strip():
            continue
        values = line.split(SACCT_DELIMITER)
        if len(values) != len(names):
            raise SlurmCommandError(argv, 0, out, f"expected {len(names)} fields, got {len(values)}: {line!r}")
        rows.append(dict(zip(names, values)))
    return rows


def step_rows(jobid: str, fields: Iterable[str]) -> list[dict[str, str]]:
    """Like :func:`sacct_rows` but only the steps (rows whose JobID has a ``.``). ``JobID`` is
    always included in the result."""
    names = list(fields)
    if "JobID" not in names:
        names = ["JobID", *names]
    return [r for r in sacct_rows(jobid, names) if "." in r["JobID"]]


_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int | None:
    """Bytes from a sacct/scontrol size: ``"1261568"`` → 1261568, ``"117476K"`` → 120295424,
    ``"200M"`` → 209715200 (binary units). ``""`` (no data) → ``None``. Raises ``ValueError``
    on anything else."""
    if text.strip() == "":
        return None
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a SLURM size: {text!r}")
    power = "KMGTP".find(m.group(2).upper()) + 1 if m.group(2) else 0
    return int(float(m.group(1)) * (1024 ** power))


def max_rss_bytes(jobid: str) -> int | None:
    """The largest MaxRSS over the job's steps, in bytes (``None`` when no step has data).
    MaxRSS is per step (largest task); the job line itself has none."""
    values = [parse_size(r["MaxRSS"]) for r in step_rows(jobid, ["MaxRSS"])]
    known = [v for v in values if v is not None]
    return max(known) if known else None


# --- waiting -------------------------------------------------------------------------------------


def is_placeholder(row: Mapping[str, str]) -> bool:
    """True for slurmdbd's stand-in job row, made when a step or end record reaches it before the
    job's own start record: ``JobName=allocation``, ``ReqMem=16?``, no Comment. Under load (a busy
    slurmdbd) such a row can already carry a final state, so a final state alone is not enough.
    (A consequence: do not name test jobs "allocation".)"""
    return row.get("JobName") == "allocation" or row.get("ReqMem", "").endswith("?")


def _job_state(jobid: str) -> tuple[str, dict[str, str]] | None:
    rows = sacct_rows(jobid, ["JobID", "JobName", "State", "Start", "ReqMem"], extra_args=["-X"])
    row = next((r for r in rows if r["JobID"] == str(jobid)), rows[0] if rows else None)
    if row is None:
        return None
    if is_placeholder(row):
        return "", row
    # "CANCELLED by 0" → "CANCELLED"
    return row["State"].split()[0] if row["State"] else "", row


def wait_final(jobid: str, *, timeout: float = 120, need_steps: bool = True, poll: float = 0.5) -> str:
    """Wait until sacct shows the job in a final state, and return that state.

    Polls ``sacct -X`` every ``poll`` seconds. The first row of a job may be a placeholder
    (``JobName=allocation``, ``ReqMem=16?``, see :func:`is_placeholder`) for a few seconds, even in
    a final state; it is waited out, so Comment, JobName and ReqMem are real once this returns.
    With ``need_steps`` (default), also waits until every step row is final and, if the job ever
    started, its ``batch`` step is present, so MaxRSS can be read right after.

    - Returns: the job's state word, e.g. ``"COMPLETED"``, ``"FAILED"``, ``"OUT_OF_MEMORY"``,
      ``"CANCELLED"``, ``"TIMEOUT"``.
    - Raises: :class:`Timeout` (an AssertionError) after ``timeout`` seconds, quoting the last rows.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        got = _job_state(jobid)
        if got is not None:
            state, row = got
            last = row
            if state in FINAL_STATES:
                if not need_steps:
                    return state
                steps = step_rows(jobid, ["State"])
                started = row["Start"] not in ("", "None", "Unknown")
                has_batch = any(s["JobID"].endswith(".batch") for s in steps)
                steps_final = all((s["State"].split() or [""])[0] in FINAL_STATES for s in steps)
                if steps_final and (has_batch or not started or "_" in str(jobid)):
                    return state
                last = {"job": row, "steps": steps}
        if time.monotonic() >= deadline:
            raise Timeout(f"job {jobid} not final after {timeout}s; last sacct: {last}")
        time.sleep(poll)


def wait_state(jobid: str, states: Iterable[str], *, timeout: float = 60, poll: float = 0.3) -> str:
    """Wait until the controller (``scontrol``) shows the job in one of ``states`` (e.g.
    ``{"RUNNING"}``) or in any final state; return the state seen.

    - Raises: :class:`Timeout` when neither happens within ``timeout`` seconds.
    """
    wanted = set(states)
    deadline = time.monotonic() + timeout
    state = None
    while True:
        job = scontrol_job(jobid)
        state = job.get("JobState") if job else None
        if state in wanted or state in FINAL_STATES:
            return state
        if time.monotonic() >= deadline:
            raise Timeout(f"job {jobid} still {state} after {timeout}s (wanted {sorted(wanted)})")
        time.sleep(poll)

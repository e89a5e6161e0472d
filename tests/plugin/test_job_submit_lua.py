"""examples/job_submit.lua, the benchmark's yardstick, must price what qubemem prices: for the
comments the benchmark submits it gives `qubemem predict --request`'s figure, and it refuses the
malformed one. Runs the script's decide() in lua5.1 (no SLURM needed)."""

import shutil
import subprocess

import pytest

from test_job_submit_qubemem import predicted_mib, sb

LUA = sb.REPO / "examples" / "job_submit.lua"
COMMENTS = [
    "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU",
    "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64",
    "qube: path=pixel_direct fields=TQU nside=8 fsky=1 lmax=16",
    "qube: path=harmonic fields=QU n_obs=2496 lmax=64 lmax_signal=128",
    "qube: fields=QU nside=16 fsky=0.2 lmax=32",
]


def lua_decide(comment: str) -> str:
    lua = shutil.which("lua5.1") or shutil.which("lua")
    assert lua, "lua5.1 is installed by scripts/install-deps.sh"
    code = (f"slurm = {{SUCCESS = 0, ERROR = -1, log_user = function() end}}\n"
            f"local m = dofile({str(LUA)!r})\n"
            f"local d, err = m.decide(arg[1])\n"
            f"print(d and d.mib or ('error: ' .. tostring(err)))\n")
    return subprocess.run([lua, "-e", code.replace("arg[1]", repr(comment))], text=True,
                          capture_output=True, check=True, timeout=30).stdout.strip()


@pytest.mark.parametrize("comment", COMMENTS)
def test_lua_yardstick_prices_like_qubemem(comment):
    assert lua_decide(comment) == str(predicted_mib(comment))


def test_lua_yardstick_refuses_malformed_comments():
    assert lua_decide("qube: n_pix=3 n_pix=4").startswith("error: key 'n_pix' is given more than once")
